/**
 * The PostgreSQL SQL that Vault's database secrets engine (postgresql-database-plugin) runs
 * for Veza, and the one-time bootstrap a DBA runs before Vault can. Pure functions: no
 * Pulumi, no I/O. Proven against a real PostgreSQL in `database-sql-*.test.ts`.
 *
 * Privilege model (PostgreSQL 16+):
 * - `appGroupRole` (NOLOGIN) holds every privilege the application has: CONNECT on the
 *   database, USAGE on the app schema, DML on its tables and sequences. Nobody logs in as it.
 * - `staticUsername` (Vault static role, password rotated by Vault) owns the app schema and
 *   therefore runs the migrations: every table is created by, and owned by, this role.
 * - One NOLOGIN role per service (`serviceGroupRole`: `<appGroupRole>_<service>`), a member of
 *   `appGroupRole`. Dynamic users are created by Vault as members of their service's role
 *   only: every session says which service it is (`pg_has_role`, audit logs), and a DBA can
 *   grant one service more (or revoke `appGroupRole` from a service's role and grant it its
 *   own tables) without touching the others. By default each inherits exactly the group's
 *   privileges: DML, no DDL. Dynamic users own nothing, so revocation never has to reassign or
 *   drop objects (and never destroys data).
 * - `vaultAdminUser` is Vault's connection user: LOGIN + CREATEROLE, not superuser. It holds
 *   ADMIN OPTION (without INHERIT or SET) on the group role, each service's role and the
 *   static user, so it can grant membership and change passwords but cannot read the
 *   application's data itself.
 *
 * What Vault's admin can do, plainly: it can create a login, give it any password and no
 *   expiry, and grant it a service's role (or the group): that login then reads and writes
 *   every table the application can. This is what Vault needs to issue credentials at all, so
 *   whoever controls Vault's database mount (or the admin's password, which Vault rotates and
 *   keeps) is as strong as the application. `auditSql` lists every login that reaches the
 *   application's privileges without an expiry; run it on a schedule and alert on any row.
 *
 * How Vault runs these (plugin source, Vault 2.x): every operation runs its statements in
 * one transaction, substituting `{{name}}`, `{{username}}`, `{{password}}` and
 * `{{expiration}}` by plain text replacement. Renewal and rotation statements are always
 * split on `;`; creation and revocation statements are kept whole only when they contain the
 * word `END` (a DO block). So every element returned here is exactly one SQL statement, and
 * only revocation uses a DO block.
 */
import { PG_IDENTIFIER } from "../rules";

/** Names shared by the Vault role statements and the bootstrap SQL. */
export interface DatabaseSqlOptions {
  /** Schema holding the application's tables, owned by `staticUsername`. */
  appSchema: string;
  /** NOLOGIN role carrying the application's privileges; every app login is a member. */
  appGroupRole: string;
  /** Login of Vault's static role (password rotated by Vault); owns the schema, runs migrations. */
  staticUsername: string;
  /** The application database. */
  database: string;
}

/** Options of {@link bootstrapSql}: the shared names plus Vault's own connection user. */
export interface BootstrapSqlOptions extends DatabaseSqlOptions {
  /** The role Vault connects as (`username` in Vault's connection config). */
  vaultAdminUser: string;
  /** Services with dynamic credentials: each gets its NOLOGIN role (`serviceGroupRole`). Default: none. */
  services?: readonly string[];
}

/** The NOLOGIN role of one service's dynamic users: `<appGroupRole>_<service>`, `-` as `_`. Throws when that is no identifier. */
export function serviceGroupRole(appGroupRole: string, service: string): string {
  const role = `${appGroupRole}_${service.replace(/-/g, "_")}`;
  checkIdentifier(`the role of service ${JSON.stringify(service)}`, role);
  return role;
}

/** The values Vault substitutes into a statement. */
export interface VaultTemplateValues {
  name?: string;
  username?: string;
  password?: string;
  expiration?: string;
}

/** Identifiers we template into SQL: lowercase, so quoting never changes their meaning. */

function checkIdentifier(field: string, value: string): void {
  if (typeof value !== "string" || !PG_IDENTIFIER.test(value)) {
    throw new Error(`${field} must be a lowercase PostgreSQL identifier matching ${PG_IDENTIFIER.source}; got ${JSON.stringify(value)}`);
  }
  if (value.startsWith("pg_")) {
    throw new Error(`${field} must not start with "pg_" (reserved by PostgreSQL); got ${JSON.stringify(value)}`);
  }
}

/**
 * Validates {@link DatabaseSqlOptions}: each name must match `[a-z_][a-z0-9_]{0,62}` and not
 * start with `pg_`; the schema must not be `public`; the group role and static user must
 * differ. Throws an Error naming the field and the bad value.
 */
export function validateDatabaseSqlOptions(o: DatabaseSqlOptions): void {
  checkIdentifier("appSchema", o.appSchema);
  checkIdentifier("appGroupRole", o.appGroupRole);
  checkIdentifier("staticUsername", o.staticUsername);
  checkIdentifier("database", o.database);
  if (o.appSchema === "public" || o.appSchema === "information_schema") {
    throw new Error(`appSchema must be a dedicated schema, not ${JSON.stringify(o.appSchema)}`);
  }
  if (o.appGroupRole === o.staticUsername) {
    throw new Error(`appGroupRole and staticUsername must be different roles; both are ${JSON.stringify(o.appGroupRole)}`);
  }
}

/** `"name"`: safe because every name is validated first. */
const q = (identifier: string): string => `"${identifier}"`;
/** `'name'`: the same name as a string literal. */
const lit = (identifier: string): string => `'${identifier}'`;

/** The role a dynamic user joins: its service's role, or the group itself when no service is named. */
const memberOf = (o: DatabaseSqlOptions, service?: string): string => (service === undefined ? o.appGroupRole : serviceGroupRole(o.appGroupRole, service));

/**
 * Vault dynamic role (`veza-role`) `creation_statements`: a login that expires at the lease's
 * end and gets its privileges only through membership of its service's role (`service`), or
 * of `appGroupRole` when none is named. The explicit NO* attributes restate PostgreSQL's
 * defaults so a reader sees there is nothing more.
 */
export function creationStatements(o: DatabaseSqlOptions, service?: string): string[] {
  validateDatabaseSqlOptions(o);
  return [
    `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}' INHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;`,
    `GRANT ${q(memberOf(o, service))} TO "{{name}}";`,
  ];
}

/**
 * Vault dynamic role `revocation_statements`. Idempotent (Vault retries a failed revocation,
 * and a second run against a dropped role succeeds) and works while the user is connected:
 * 1. terminate the user's sessions in every database, waiting up to 5 s for each to exit
 *    (pg_terminate_backend needs `pg_signal_backend`, granted by the bootstrap);
 * 2. revoke the membership `creationStatements` granted, only if the role still exists (a DO block: REVOKE has no
 *    IF EXISTS; Vault keeps it whole because it contains `END`);
 * 3. drop the role. Dynamic users own no objects, so nothing blocks the DROP.
 */
export function revocationStatements(o: DatabaseSqlOptions, service?: string): string[] {
  validateDatabaseSqlOptions(o);
  return [
    `SELECT pg_catalog.pg_terminate_backend(pid, 5000) FROM pg_catalog.pg_stat_activity WHERE usename = '{{name}}' AND pid <> pg_catalog.pg_backend_pid();`,
    [
      `DO $$`,
      `BEGIN`,
      `  IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = '{{name}}') THEN`,
      `    REVOKE ${q(memberOf(o, service))} FROM "{{name}}";`,
      `  END IF;`,
      `END`,
      `$$;`,
    ].join("\n"),
    `DROP ROLE IF EXISTS "{{name}}";`,
  ];
}

/** Vault dynamic role `renew_statements`: move the login's expiry to the renewed lease's end. */
export function renewStatements(o: DatabaseSqlOptions): string[] {
  validateDatabaseSqlOptions(o);
  return [`ALTER ROLE "{{name}}" VALID UNTIL '{{expiration}}';`];
}

/**
 * Vault static role `rotation_statements` for `staticUsername`. Needs ADMIN OPTION on that
 * role (PostgreSQL 16+), which the bootstrap grants to the Vault admin.
 */
export function rotationStatements(o: DatabaseSqlOptions): string[] {
  validateDatabaseSqlOptions(o);
  return [`ALTER ROLE "{{name}}" WITH PASSWORD '{{password}}';`];
}

/**
 * Connection `root_rotation_statements`: Vault changes its own admin password
 * (`{{username}}` is the connection's username). Any role may change its own password.
 */
export function rootRotationStatements(): string[] {
  return [`ALTER ROLE "{{username}}" WITH PASSWORD '{{password}}';`];
}

/**
 * The one-time bootstrap a DBA runs as a superuser, connected to `database`
 * (`psql -v ON_ERROR_STOP=1 -d <database> -f bootstrap.sql`). Idempotent: safe to re-run, it
 * converges roles and grants and never sets or resets a password. One transaction. Refuses to
 * run on another database or on PostgreSQL older than 16.
 */
export function bootstrapSql(o: BootstrapSqlOptions): string {
  validateDatabaseSqlOptions(o);
  checkIdentifier("vaultAdminUser", o.vaultAdminUser);
  if (o.vaultAdminUser === o.appGroupRole || o.vaultAdminUser === o.staticUsername) {
    throw new Error(`vaultAdminUser must differ from appGroupRole and staticUsername; got ${JSON.stringify(o.vaultAdminUser)}`);
  }
  const db = q(o.database);
  const schema = q(o.appSchema);
  const group = q(o.appGroupRole);
  const app = q(o.staticUsername);
  const admin = q(o.vaultAdminUser);
  const services = [...new Set(o.services ?? [])].map((service) => ({ service, role: serviceGroupRole(o.appGroupRole, service) }));
  for (const { service, role } of services) {
    if ([o.staticUsername, o.vaultAdminUser].includes(role))
      throw new Error(`the role of service ${JSON.stringify(service)} (${role}) is already another role`);
  }

  // Created bare: the ALTER ROLE after each sets every attribute, on a new or an existing role alike.
  const createRoleIfMissing = (role: string): string =>
    [
      `DO $$`,
      `BEGIN`,
      `  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = ${lit(role)}) THEN`,
      `    CREATE ROLE ${q(role)};`,
      `  END IF;`,
      `END`,
      `$$;`,
    ].join("\n");

  const serviceRoles = services
    .map(({ service, role }) =>
      [
        `-- ${service}: its dynamic users join this role only; it carries the group's privileges.`,
        createRoleIfMissing(role),
        `ALTER ROLE ${q(role)} WITH NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;`,
        `GRANT ${group} TO ${q(role)};`,
        `GRANT ${q(role)} TO ${admin} WITH ADMIN TRUE, INHERIT FALSE, SET FALSE;`,
      ].join("\n"),
    )
    .join("\n\n");

  return `-- Veza: one-time PostgreSQL bootstrap for Vault's database secrets engine.
-- Run as a superuser, connected to database ${db}:
--   psql -v ON_ERROR_STOP=1 -d ${o.database} -f bootstrap.sql
-- Idempotent: re-running converges roles and grants; it never sets or resets a password.
-- Afterwards give ${admin} a temporary password (psql: \\password ${o.vaultAdminUser}), configure
-- Vault's connection with it, and let Vault rotate it at once (vault write -f <mount>/rotate-root/<connection>).
BEGIN;

DO $$
BEGIN
  IF pg_catalog.current_database() <> ${lit(o.database)} THEN
    RAISE EXCEPTION 'connect to database % to run this bootstrap (connected to %)', ${lit(o.database)}, pg_catalog.current_database();
  END IF;
  -- PostgreSQL 16 made CREATEROLE safe (a CREATEROLE role manages only roles it holds ADMIN OPTION on)
  -- and added the INHERIT/SET grant options used below.
  IF pg_catalog.current_setting('server_version_num')::int < 160000 THEN
    RAISE EXCEPTION 'PostgreSQL 16 or newer is required; this server is %', pg_catalog.current_setting('server_version');
  END IF;
END
$$;

-- The application's privileges live on one NOLOGIN group role; logins only inherit them.
${createRoleIfMissing(o.appGroupRole)}
ALTER ROLE ${group} WITH NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;

-- The static user (Vault static role): LOGIN but no password, so nobody can log in as it
-- until Vault's first rotation sets one. It owns the app schema and runs the migrations.
${createRoleIfMissing(o.staticUsername)}
ALTER ROLE ${app} WITH LOGIN INHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
-- Member of the group: CONNECT on the database comes from there, like for every app login.
GRANT ${group} TO ${app};

-- Vault's admin: creates, renews and drops the dynamic users and rotates the static user's and
-- its own password. CREATEROLE, not superuser; cannot create databases or bypass RLS, and
-- (PostgreSQL 16+) can neither give out attributes it lacks nor touch roles it does not administer.
${createRoleIfMissing(o.vaultAdminUser)}
ALTER ROLE ${admin} WITH LOGIN CREATEROLE NOSUPERUSER NOCREATEDB NOREPLICATION NOBYPASSRLS;
-- Vault connects to this database.
GRANT CONNECT ON DATABASE ${db} TO ${admin};
-- ADMIN OPTION on the group: needed (16+) to GRANT/REVOKE membership of it to the dynamic users.
-- INHERIT FALSE, SET FALSE: Vault's admin does not get the application's data privileges.
GRANT ${group} TO ${admin} WITH ADMIN TRUE, INHERIT FALSE, SET FALSE;
-- ADMIN OPTION on the static user: needed (16+) to ALTER ROLE ... PASSWORD on a role it did not
-- create. (Dynamic users need no grant: their creator gets ADMIN OPTION on them automatically.)
GRANT ${app} TO ${admin} WITH ADMIN TRUE, INHERIT FALSE, SET FALSE;
-- Revocation terminates a dynamic user's open sessions; pg_terminate_backend on another role's
-- backend needs pg_signal_backend (it still cannot signal superuser backends).
GRANT pg_signal_backend TO ${admin} WITH INHERIT TRUE, SET FALSE;
${serviceRoles ? `\n${serviceRoles}\n` : ""}
-- The database: nobody but the group (and Vault's admin, above) may connect, create schemas or
-- temporary tables. No TEMPORARY for the app: temporary objects would belong to the dynamic user.
REVOKE ALL ON DATABASE ${db} FROM PUBLIC;
GRANT CONNECT ON DATABASE ${db} TO ${group};
-- Default since PostgreSQL 15; explicit for databases created on an older version and upgraded.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;

-- The app schema, owned by the static user: CREATE stays with the owner, so migrations (run as
-- the static user) work and the short-lived dynamic users cannot create objects they would own,
-- which would block DROP ROLE at revocation. Not owned by the group role: every member would
-- inherit the owner's rights, DROP SCHEMA ... CASCADE included.
CREATE SCHEMA IF NOT EXISTS ${schema} AUTHORIZATION ${app};
ALTER SCHEMA ${schema} OWNER TO ${app};
REVOKE ALL ON SCHEMA ${schema} FROM PUBLIC;
-- USAGE: look up objects in the schema. No CREATE (see above).
GRANT USAGE ON SCHEMA ${schema} TO ${group};
-- DML on every table and sequence the migrations create from now on ...
ALTER DEFAULT PRIVILEGES FOR ROLE ${app} IN SCHEMA ${schema} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${group};
ALTER DEFAULT PRIVILEGES FOR ROLE ${app} IN SCHEMA ${schema} GRANT USAGE, SELECT ON SEQUENCES TO ${group};
-- ... and on those that already exist (re-running after a manual change restores the grants).
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${schema} TO ${group};
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA ${schema} TO ${group};
-- Unqualified names resolve to the app schema for every session in this database.
ALTER DATABASE ${db} SET search_path = ${schema}, public;

COMMIT;
`;
}

/**
 * A query that lists every login reaching the application's privileges (a member of
 * `appGroupRole`, directly or through a service's role) with no expiry: no `VALID UNTIL`, or
 * infinity. Vault's dynamic users always expire; the static user and Vault's own admin are
 * expected and left out, and so are superusers (the DBA). Any row is a finding: a login planted
 * by whoever holds Vault's admin, or made by hand. Read-only; run it as any role that can
 * read `pg_roles` (every role can), e.g. from monitoring.
 */
export function auditSql(o: BootstrapSqlOptions): string {
  validateDatabaseSqlOptions(o);
  checkIdentifier("vaultAdminUser", o.vaultAdminUser);
  return `-- Logins with the application's privileges and no expiry (expected: no rows).
SELECT r.rolname AS login, r.rolvaliduntil AS valid_until,
       pg_catalog.array_to_string(ARRAY(
         SELECT g.rolname FROM pg_catalog.pg_auth_members m JOIN pg_catalog.pg_roles g ON g.oid = m.roleid
         WHERE m.member = r.oid ORDER BY g.rolname), ', ') AS member_of
FROM pg_catalog.pg_roles r
WHERE r.rolcanlogin
  AND NOT r.rolsuper
  AND (r.rolvaliduntil IS NULL OR r.rolvaliduntil = 'infinity')
  AND r.rolname NOT IN (${lit(o.staticUsername)}, ${lit(o.vaultAdminUser)})
  AND pg_catalog.pg_has_role(r.oid, ${lit(o.appGroupRole)}, 'MEMBER')
ORDER BY r.rolname;
`;
}

/**
 * One line for `psql -c`: every login holding the application's privileges through its roles
 * (directly in `appGroupRole` or in a service's role: `pg_has_role` follows memberships) with its
 * VALID UNTIL, the static user and Vault's admin left out. After a restore, the restore runbook
 * has the operator find here the dynamic logins the restored Vault does not know.
 */
export function applicationLoginsSql(o: Pick<BootstrapSqlOptions, "appGroupRole" | "staticUsername" | "vaultAdminUser">): string {
  for (const [field, value] of [
    ["appGroupRole", o.appGroupRole],
    ["staticUsername", o.staticUsername],
    ["vaultAdminUser", o.vaultAdminUser],
  ] as const)
    checkIdentifier(field, value);
  return (
    "SELECT r.rolname, r.rolvaliduntil FROM pg_catalog.pg_roles r WHERE r.rolcanlogin AND NOT r.rolsuper " +
    `AND r.rolname NOT IN (${lit(o.staticUsername)}, ${lit(o.vaultAdminUser)}) ` +
    `AND pg_catalog.pg_has_role(r.oid, ${lit(o.appGroupRole)}, 'MEMBER') ORDER BY r.rolname`
  );
}

const TEMPLATE_VARIABLE = /\{\{([^{}]*)\}\}/g;
const TEMPLATE_KEYS: ReadonlySet<string> = new Set(["name", "username", "password", "expiration"]);

/**
 * Substitutes `{{name}}`, `{{username}}`, `{{password}}` and `{{expiration}}` in `statement`
 * by plain text replacement, as Vault does (no quoting or escaping). Throws if the statement
 * holds a `{{...}}` that has no value, including ones Vault would leave untouched, e.g.
 * `{{ name }}` or `{{foo}}`. Substituted values are not scanned again.
 */
export function renderVaultTemplate(statement: string, values: VaultTemplateValues): string {
  return statement.replace(TEMPLATE_VARIABLE, (match: string, key: string) => {
    const value = TEMPLATE_KEYS.has(key) ? values[key as keyof VaultTemplateValues] : undefined;
    if (value === undefined) {
      throw new Error(`renderVaultTemplate: no value for template variable ${match}`);
    }
    return value;
  });
}
