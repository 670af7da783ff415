/**
 * The database engine as the program configured it, judged by PostgreSQL through Vault's real
 * `postgresql-database-plugin`: each service's generator identity logs in (its own TokenRequest
 * token, as ESO's VaultDynamicSecret does), gets its own login and no other service's, the login
 * works, revoking its lease ends the session; the schema owner's static role rotates.
 */
import { auditSql, serviceGroupRole } from "../components/vault/database-sql";
import { STACK_DEFAULTS } from "../stacks/defaults";
import type { RunningPostgres } from "../test/postgres";
import { serviceAccountToken } from "./checks";
import type { Kube } from "./kube";
import type { Context } from "./run";
import type { VaultClient } from "./vault-client";

/** The stack defaults' roles (stacks/defaults.ts), which the staging e2e keeps. */
const DB = STACK_DEFAULTS.database;
const DB_GROUP = DB.appGroupRole;

async function kubernetesLogin(kube: Kube, vault: VaultClient, ns: string, account: string, role: string, apiAudience: string): Promise<VaultClient | string> {
  const jwt = await serviceAccountToken(kube, ns, account, ["vault", apiAudience]);
  const a = await vault.withToken("").raw("POST", "auth/kubernetes/login", { role, jwt });
  const token = (a.json.auth as { client_token?: string } | undefined)?.client_token;
  return token ? vault.withToken(token) : `${a.status} ${JSON.stringify(a.json.errors)}`;
}

/** Try a login and a query on `database`; the error's message, or "" when it worked. */
export async function loginError(pg: RunningPostgres, user: string, password: string, database = "veza"): Promise<string> {
  try {
    const c = await pg.connect({ user, password, database });
    await c.query("SELECT 1");
    await c.end();
    return "";
  } catch (e) {
    return (e as Error).message;
  }
}

export async function databaseChecks(
  ctx: Context,
  kube: Kube,
  root: VaultClient,
  pg: RunningPostgres,
  env: string,
  ns: string,
  apiAudience: string,
  services: string[],
): Promise<void> {
  const stack = `${env}:`;
  for (const service of services) {
    const v = await kubernetesLogin(kube, root, ns, `eso-db-${service}`, `eso-veza-${env}-db-${service}`, apiAudience);
    if (typeof v === "string") {
      ctx.check(`${stack} ${service}'s generator identity logs in to Vault`, false, v);
      continue;
    }
    const creds = await v.raw("GET", `database/creds/veza-${service}`);
    const data = creds.json.data as { username?: string; password?: string } | undefined;
    ctx.check(
      `${stack} ${service} gets a database login from Vault`,
      creds.status === 200 && !!data?.username,
      `${creds.status} ${data?.username ?? JSON.stringify(creds.json.errors)}`,
    );
    if (!data?.username || !data.password) continue;
    const other = services.find((s) => s !== service) as string;
    const foreign = (await v.raw("GET", `database/creds/veza-${other}`)).status;
    ctx.check(`${stack} ${service}'s identity cannot get ${other}'s login`, foreign === 403, String(foreign));
    const session = await pg.connect({ user: data.username, password: data.password, database: "veza" });
    const who = await session.query<{ u: string }>("SELECT current_user AS u");
    ctx.check(`${stack} ${service}'s login connects to PostgreSQL`, who.rows[0]?.u === data.username, String(who.rows[0]?.u));
    // Its own service's group role only (the per-service roles of the DBA's bootstrap).
    const roles = await session.query<{ r: string }>(
      "SELECT g.rolname AS r FROM pg_catalog.pg_auth_members m JOIN pg_catalog.pg_roles g ON g.oid = m.roleid WHERE m.member = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = current_user)",
    );
    const memberOf = roles.rows.map((x) => x.r).join(", ");
    ctx.check(`${stack} ${service}'s login is a member of its service's role only`, memberOf === serviceGroupRole(DB_GROUP, service), memberOf);
    // Revoking the lease (the README's response to a leak) ends the session and the login.
    await root.call("PUT", "sys/leases/revoke", { lease_id: creds.json.lease_id });
    const after = await session.query("SELECT 1").then(
      () => "still open",
      (e: Error) => e.message,
    );
    await session.end();
    const relogin = await loginError(pg, data.username, data.password);
    ctx.check(
      `${stack} revoking ${service}'s lease ends its session and its login`,
      after !== "still open" && relogin !== "",
      `session: ${after}; login: ${relogin}`,
    );
  }
  // The schema owner: read as the migrations identity, rotated by Vault, the old password dead.
  const m = await kubernetesLogin(kube, root, ns, "eso-vault-migrations-store", `eso-veza-${env}-db-migrations`, apiAudience);
  if (typeof m === "string") {
    ctx.check(`${stack} the migrations identity logs in to Vault`, false, m);
    return;
  }
  const read = async () => (await m.call("GET", "database/static-creds/veza-app")).data as { username: string; password: string };
  const before = await read();
  await root.call("POST", "database/rotate-role/veza-app");
  const after = await read();
  const oldLogin = await loginError(pg, before.username, before.password);
  const newLogin = await loginError(pg, after.username, after.password);
  ctx.check(
    `${stack} Vault rotates the schema owner's password: the new one logs in, the old one no longer does`,
    before.password !== after.password && oldLogin !== "" && newLogin === "",
    `old: ${oldLogin || "still logs in"}; new: ${newLogin || "logs in"}`,
  );
  const foreign = (await m.raw("GET", "database/creds/veza-backend-api")).status;
  ctx.check(`${stack} the migrations identity gets no service login`, foreign === 403, String(foreign));
  // The audit a DBA schedules (npm run bootstrap-sql -- <stack> --audit): no login without expiry.
  const su = await pg.connect({ ...pg.superuser, database: "veza" });
  try {
    const audit = auditSql({ appSchema: "veza", appGroupRole: DB_GROUP, staticUsername: DB.appUsername, database: "veza", vaultAdminUser: DB.adminUsername });
    const findings = (await su.query<{ login: string }>(audit)).rows.map((r) => r.login);
    ctx.check(`${stack} the database audit finds no login without expiry after Vault's work`, findings.length === 0, findings.join(", ") || "none");
  } finally {
    await su.end();
  }
}
