/**
 * Support for the database-sql tests (components/vault/database-sql-*.test.ts): the stack's SQL
 * options, and a real PostgreSQL (test/postgres.ts) bootstrapped as a DBA would, with the hooks
 * each real-PostgreSQL file registers (`useRealPostgres`) and the helpers its tests use.
 */
import * as assert from "node:assert/strict";
import { startPostgres, type PgConnection, type RunningPostgres } from "../../test/postgres";
import { randomAlphanumeric, runAsVault, vaultExpiration, vaultPassword, vaultUsername } from "../../test/vault-sql";
import { bootstrapSql, creationStatements, revocationStatements, type DatabaseSqlOptions } from "./database-sql";

// The stack defaults (stacks/config.ts).
export const OPTS: DatabaseSqlOptions = { appSchema: "veza", appGroupRole: "veza_app_group", staticUsername: "veza_app", database: "veza" };
export const ADMIN = "vault_admin";
/** The bootstrap script, built where it is used (per test: a mutant of bootstrapSql must reach the test that runs it). */
/** The services whose dynamic users the tests create (the first is the default). */
export const TEST_SERVICES = ["backend-api", "chat-server"] as const;
export const bootstrap = (): string => bootstrapSql({ ...OPTS, vaultAdminUser: ADMIN, services: TEST_SERVICES });

// The server of the describe block running now (each real-PostgreSQL file has its own: a
// server left running across files would be counted by test/postgres.test.ts's leak checks).
let server: RunningPostgres | undefined;
export let su: PgConnection; // superuser on "veza": the DBA, and the test's eyes
export let vault: PgConnection; // this test's own Vault connection: vault_admin on "veza"
// Never changed: root rotation rotates another admin (database-sql-rotation.test.ts).
export const vaultAdminPassword = `initial-${randomAlphanumeric(12)}`;

export const pg = (): RunningPostgres => {
  if (!server) throw new Error("server not started");
  return server;
};
export const connectAs = (user: string, password: string, database = "veza"): Promise<PgConnection> => pg().connect({ user, password, database });

/** Creates a dynamic user the way Vault's veza-role does; returns its credentials. */
export async function createDynamicUser(expiration: Date, service: string = TEST_SERVICES[0]): Promise<{ name: string; password: string }> {
  const user = { name: vaultUsername(), password: vaultPassword() };
  await runAsVault(vault, "creation", creationStatements(OPTS, service), { ...user, username: user.name, expiration: vaultExpiration(expiration) });
  return user;
}
export const revoke = (name: string, service: string = TEST_SERVICES[0]): Promise<void> =>
  runAsVault(vault, "revocation", revocationStatements(OPTS, service), { name, username: name });

export const validUntil = async (role: string): Promise<string | null> => {
  const { rows } = await su.query<{ rolvaliduntil: Date | null }>({ text: "SELECT rolvaliduntil FROM pg_roles WHERE rolname = $1", values: [role] });
  assert.equal(rows.length, 1, `role ${role} exists`);
  return rows[0].rolvaliduntil?.toISOString() ?? null;
};

/** Everything the bootstrap manages, to compare runs. */
export const bootstrapState = async (): Promise<unknown> => {
  const { rows } = await su.query(`
    SELECT
      (SELECT json_agg(r ORDER BY r.rolname) FROM (
         SELECT rolname, rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin, rolreplication, rolbypassrls, rolconfig
         FROM pg_roles WHERE rolname IN ('veza_app_group', 'veza_app', 'vault_admin')) r) AS roles,
      (SELECT json_agg(m ORDER BY m.role, m.member) FROM (
         SELECT r.rolname AS role, u.rolname AS member, g.rolname AS grantor, admin_option, inherit_option, set_option
         FROM pg_auth_members a JOIN pg_roles r ON r.oid = a.roleid JOIN pg_roles u ON u.oid = a.member JOIN pg_roles g ON g.oid = a.grantor
         WHERE u.rolname IN ('veza_app', 'vault_admin')) m) AS memberships,
      (SELECT datacl::text FROM pg_database WHERE datname = 'veza') AS database_acl,
      (SELECT json_agg(n ORDER BY n.nspname) FROM (
         SELECT nspname, pg_get_userbyid(nspowner) AS owner, nspacl::text AS acl FROM pg_namespace WHERE nspname IN ('public', 'veza')) n) AS schemas,
      (SELECT json_agg(d::text ORDER BY d::text) FROM pg_default_acl d) AS default_acls,
      (SELECT json_agg(s.setconfig) FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase WHERE d.datname = 'veza') AS db_settings
  `);
  return rows[0];
};

/**
 * The hooks of a real-PostgreSQL describe block: a server for the block, the bootstrap re-run
 * and a Vault connection of its own per test. Every test stands alone (any
 * one can run by itself, in any order): each opens its own Vault connection, makes and
 * revokes its own logins, sets the static password it then uses, and root rotation changes
 * the password of an admin of its own, in a database of its own.
 */
export function useRealPostgres(): void {
  before(startServer);
  beforeEach(bootstrapAndConnect);
  afterEach(disconnect);
  after(stopServer);
}

/** Starts the server, creates the databases, runs the bootstrap and the app's first migration. */
async function startServer(this: Mocha.Context): Promise<void> {
  this.timeout(60_000);
  server = await startPostgres();
  const admin = await pg().connect({ ...pg().superuser, database: "postgres" });
  await admin.query("CREATE DATABASE veza");
  await admin.query("CREATE DATABASE other");
  // Another tenant's database, hardened the same way (its own bootstrap revokes PUBLIC).
  await admin.query("REVOKE ALL ON DATABASE other FROM PUBLIC");
  await admin.end();

  su = await connectAs(pg().superuser.user, pg().superuser.password);
  await su.query(bootstrap());
  // The DBA's one manual step: a first password for Vault's admin (Vault rotates it at once).
  await su.query(`ALTER ROLE vault_admin WITH PASSWORD '${vaultAdminPassword}'`);
  // Data the app must never see, in public.
  await su.query("CREATE TABLE public.sensitive (secret text); INSERT INTO public.sensitive VALUES ('s3cr3t')");
  // The app's first migration, as the static user would run it (SET ROLE: it has no password
  // yet; qualified names: this session predates the bootstrap's search_path).
  await su.query(`
    SET ROLE veza_app;
    CREATE TABLE veza.accounts (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text NOT NULL);
    CREATE TABLE veza.events (id serial PRIMARY KEY, account_id bigint REFERENCES veza.accounts (id), kind text NOT NULL);
    RESET ROLE;
  `);
}

/** beforeEach(): re-runs the bootstrap and opens this test's own Vault connection. */
async function bootstrapAndConnect(): Promise<void> {
  // The bootstrap is idempotent (tested in database-sql-rotation.test.ts): running it again per
  // test puts the code under test in every test, without a new server.
  await su.query(bootstrap());
  vault = await connectAs(ADMIN, vaultAdminPassword);
}

/** afterEach(): closes this test's Vault connection. */
async function disconnect(): Promise<void> {
  await vault.end();
}

/** Stops the server: closes every connection, deletes its data directory. */
async function stopServer(): Promise<void> {
  await server?.stop();
  server = undefined;
}
