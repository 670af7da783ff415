import * as assert from "node:assert/strict";
import { startPostgres, type PgConnection, type RunningPostgres } from "../../test/postgres";
import {
  inSeconds,
  randomAlphanumeric,
  rejectsWithSqlState,
  runAsVault,
  scramVerifier,
  vaultExpiration,
  vaultKeepsWhole,
  vaultPassword,
  vaultQueries,
  vaultUsername,
  type VaultOperation,
} from "../../test/vault-sql";
import {
  bootstrapSql,
  creationStatements,
  renderVaultTemplate,
  renewStatements,
  revocationStatements,
  rootRotationStatements,
  rotationStatements,
  validateDatabaseSqlOptions,
  type DatabaseSqlOptions,
  type VaultTemplateValues,
} from "./database-sql";

// The stack defaults (stacks/config.ts).
const OPTS: DatabaseSqlOptions = { appSchema: "veza", appGroupRole: "veza_app_group", staticUsername: "veza_app", database: "veza" };
const ADMIN = "vault_admin";
/** The bootstrap script, built where it is used (per test: a mutant of bootstrapSql must reach the test that runs it). */
const bootstrap = (): string => bootstrapSql({ ...OPTS, vaultAdminUser: ADMIN });

// ---------------------------------------------------------------------------------------------

describe("database-sql: statements, templates, validation", () => {
  it("returns the exact statements for each Vault operation", () => {
    assert.deepEqual(creationStatements(OPTS), [
      `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}' INHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;`,
      `GRANT "veza_app_group" TO "{{name}}";`,
    ]);
    assert.deepEqual(revocationStatements(OPTS), [
      `SELECT pg_catalog.pg_terminate_backend(pid, 5000) FROM pg_catalog.pg_stat_activity WHERE usename = '{{name}}' AND pid <> pg_catalog.pg_backend_pid();`,
      `DO $$\nBEGIN\n  IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = '{{name}}') THEN\n    REVOKE "veza_app_group" FROM "{{name}}";\n  END IF;\nEND\n$$;`,
      `DROP ROLE IF EXISTS "{{name}}";`,
    ]);
    assert.deepEqual(renewStatements(OPTS), [`ALTER ROLE "{{name}}" VALID UNTIL '{{expiration}}';`]);
    assert.deepEqual(rotationStatements(OPTS), [`ALTER ROLE "{{name}}" WITH PASSWORD '{{password}}';`]);
    assert.deepEqual(rootRotationStatements(), [`ALTER ROLE "{{username}}" WITH PASSWORD '{{password}}';`]);
  });

  it("gives Vault exactly one SQL statement per element, after its splitting on ';'", () => {
    const cases: [VaultOperation, string[]][] = [
      ["creation", creationStatements(OPTS)],
      ["revocation", revocationStatements(OPTS)],
      ["renew", renewStatements(OPTS)],
      ["rotation", rotationStatements(OPTS)],
      ["rotation", rootRotationStatements()],
    ];
    for (const [operation, statements] of cases) {
      for (const statement of statements) {
        const expected = vaultKeepsWhole(statement) ? statement : statement.replace(/;$/, "");
        assert.deepEqual(vaultQueries(statement, operation), [expected], statement);
      }
    }
    // The DO block is the only statement that relies on Vault keeping END-statements whole.
    assert.equal(revocationStatements(OPTS).filter(vaultKeepsWhole).length, 1);
  });

  const renderCases: { title: string; statement: string; values: VaultTemplateValues; expected: string }[] = [
    {
      title: "dynamic user creation",
      statement: `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}' INHERIT;`,
      values: { name: "v-token-veza-rol-AbC-1700000000", password: "A1a-secret", expiration: "2026-01-02 03:04:05+0000" },
      expected: `CREATE ROLE "v-token-veza-rol-AbC-1700000000" WITH LOGIN PASSWORD 'A1a-secret' VALID UNTIL '2026-01-02 03:04:05+0000' INHERIT;`,
    },
    {
      title: "root rotation uses {{username}}",
      statement: `ALTER ROLE "{{username}}" WITH PASSWORD '{{password}}';`,
      values: { username: "vault_admin", password: "p" },
      expected: `ALTER ROLE "vault_admin" WITH PASSWORD 'p';`,
    },
    {
      title: "every occurrence is replaced",
      statement: `{{name}}/{{name}}/{{name}}`,
      values: { name: "u" },
      expected: `u/u/u`,
    },
    {
      title: "plain text: no quoting, '$' patterns kept, values not scanned again",
      statement: `'{{password}}' "{{name}}"`,
      values: { name: `a"b`, password: `$& $1 {{name}}` },
      expected: `'$& $1 {{name}}' "a"b"`,
    },
    {
      title: "no template variables: unchanged, unused values ignored",
      statement: `SELECT 1;`,
      values: { name: "unused", expiration: "unused" },
      expected: `SELECT 1;`,
    },
    {
      title: "an empty value is a value",
      statement: `'{{password}}'`,
      values: { password: "" },
      expected: `''`,
    },
  ];
  for (const c of renderCases) {
    it(`renderVaultTemplate: ${c.title}`, () => assert.equal(renderVaultTemplate(c.statement, c.values), c.expected));
  }

  it("renderVaultTemplate throws on a template variable without a value", () => {
    assert.throws(() => renderVaultTemplate(`ALTER ROLE "{{name}}" WITH PASSWORD '{{password}}';`, { name: "u" }), {
      message: "renderVaultTemplate: no value for template variable {{password}}",
    });
    // Vault would leave these untouched (and PostgreSQL would then get them literally).
    assert.throws(() => renderVaultTemplate(`"{{ name }}"`, { name: "u" }), { message: "renderVaultTemplate: no value for template variable {{ name }}" });
    assert.throws(() => renderVaultTemplate(`{{foo}}`, { name: "u" }), { message: "renderVaultTemplate: no value for template variable {{foo}}" });
  });

  it("rejects identifiers that are not plain lowercase names, naming the field and the value", () => {
    const pattern = "^[a-z_][a-z0-9_]{0,62}$";
    assert.throws(() => creationStatements({ ...OPTS, appSchema: "Veza" }), {
      message: `appSchema must be a lowercase PostgreSQL identifier matching ${pattern}; got "Veza"`,
    });
    assert.throws(() => revocationStatements({ ...OPTS, appGroupRole: `x"; DROP ROLE postgres; --` }), {
      message: `appGroupRole must be a lowercase PostgreSQL identifier matching ${pattern}; got "x\\"; DROP ROLE postgres; --"`,
    });
    assert.throws(() => renewStatements({ ...OPTS, staticUsername: "a".repeat(64) }), {
      message: `staticUsername must be a lowercase PostgreSQL identifier matching ${pattern}; got "${"a".repeat(64)}"`,
    });
    assert.throws(() => rotationStatements({ ...OPTS, database: "" }), {
      message: `database must be a lowercase PostgreSQL identifier matching ${pattern}; got ""`,
    });
    assert.throws(() => bootstrapSql({ ...OPTS, vaultAdminUser: "vault-admin" }), {
      message: `vaultAdminUser must be a lowercase PostgreSQL identifier matching ${pattern}; got "vault-admin"`,
    });
    assert.throws(() => validateDatabaseSqlOptions({ ...OPTS, appGroupRole: "pg_app" }), {
      message: `appGroupRole must not start with "pg_" (reserved by PostgreSQL); got "pg_app"`,
    });
    assert.throws(() => validateDatabaseSqlOptions({ ...OPTS, appSchema: "public" }), { message: `appSchema must be a dedicated schema, not "public"` });
    assert.throws(() => validateDatabaseSqlOptions({ ...OPTS, staticUsername: "veza_app_group" }), {
      message: `appGroupRole and staticUsername must be different roles; both are "veza_app_group"`,
    });
    assert.throws(() => bootstrapSql({ ...OPTS, vaultAdminUser: "veza_app" }), {
      message: `vaultAdminUser must differ from appGroupRole and staticUsername; got "veza_app"`,
    });
    assert.doesNotThrow(() => validateDatabaseSqlOptions({ ...OPTS, appSchema: `_${"a".repeat(62)}` }));
  });
});

// ---------------------------------------------------------------------------------------------

// Every test below stands alone (any one can run by itself, in any order): each opens its own
// Vault connection, makes and revokes its own logins, sets the static password it then uses,
// and root rotation changes the password of an admin of its own, in a database of its own.
describe("database-sql against a real PostgreSQL (as Vault's admin, not a superuser)", function () {
  this.timeout(60_000);

  let server: RunningPostgres | undefined;
  let su: PgConnection; // superuser on "veza": the DBA, and the test's eyes
  let vault: PgConnection; // this test's own Vault connection: vault_admin on "veza"
  // Never changed: root rotation rotates another admin (below).
  const vaultAdminPassword = `initial-${randomAlphanumeric(12)}`;

  const pg = (): RunningPostgres => {
    if (!server) throw new Error("server not started");
    return server;
  };
  const connectAs = (user: string, password: string, database = "veza"): Promise<PgConnection> => pg().connect({ user, password, database });

  /** Creates a dynamic user the way Vault's veza-role does; returns its credentials. */
  async function createDynamicUser(expiration: Date): Promise<{ name: string; password: string }> {
    const user = { name: vaultUsername(), password: vaultPassword() };
    await runAsVault(vault, "creation", creationStatements(OPTS), { ...user, username: user.name, expiration: vaultExpiration(expiration) });
    return user;
  }
  const revoke = (name: string): Promise<void> => runAsVault(vault, "revocation", revocationStatements(OPTS), { name, username: name });

  const validUntil = async (role: string): Promise<string | null> => {
    const { rows } = await su.query<{ rolvaliduntil: Date | null }>({ text: "SELECT rolvaliduntil FROM pg_roles WHERE rolname = $1", values: [role] });
    assert.equal(rows.length, 1, `role ${role} exists`);
    return rows[0].rolvaliduntil?.toISOString() ?? null;
  };

  /** Everything the bootstrap manages, to compare runs. */
  const bootstrapState = async (): Promise<unknown> => {
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

  before(async function () {
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
  });

  beforeEach(async () => {
    // The bootstrap is idempotent (tested below): running it again per test puts the code under
    // test in every test, without a new server.
    await su.query(bootstrap());
    vault = await connectAs(ADMIN, vaultAdminPassword);
  });
  afterEach(async () => {
    await vault.end();
  });

  after(async () => {
    // Closes every connection, stops the server, deletes its data directory.
    await server?.stop();
  });

  describe("the server and the bootstrap", () => {
    it("enforces password authentication: a wrong password is refused (28P01)", async () => {
      await rejectsWithSqlState(connectAs(pg().superuser.user, "not-the-password"), "28P01", /password authentication failed for user "postgres"/);
      await rejectsWithSqlState(connectAs(ADMIN, "not-the-password"), "28P01", /password authentication failed for user "vault_admin"/);
    });

    it("creates the roles with exactly the intended attributes and memberships", async () => {
      const { rows: roles } = await su.query(
        `SELECT rolname, rolsuper, rolcreaterole, rolcreatedb, rolcanlogin, rolreplication, rolbypassrls, rolpassword IS NULL AS no_password
         FROM pg_authid WHERE rolname IN ('veza_app_group', 'veza_app', 'vault_admin') ORDER BY rolname`,
      );
      assert.deepEqual(roles, [
        {
          rolname: "vault_admin",
          rolsuper: false,
          rolcreaterole: true,
          rolcreatedb: false,
          rolcanlogin: true,
          rolreplication: false,
          rolbypassrls: false,
          no_password: false,
        },
        {
          rolname: "veza_app",
          rolsuper: false,
          rolcreaterole: false,
          rolcreatedb: false,
          rolcanlogin: true,
          rolreplication: false,
          rolbypassrls: false,
          no_password: true,
        },
        {
          rolname: "veza_app_group",
          rolsuper: false,
          rolcreaterole: false,
          rolcreatedb: false,
          rolcanlogin: false,
          rolreplication: false,
          rolbypassrls: false,
          no_password: true,
        },
      ]);
      const { rows: members } = await su.query(
        `SELECT r.rolname AS role, u.rolname AS member, admin_option, inherit_option, set_option
         FROM pg_auth_members a JOIN pg_roles r ON r.oid = a.roleid JOIN pg_roles u ON u.oid = a.member
         WHERE u.rolname IN ('veza_app', 'vault_admin') ORDER BY 1, 2`,
      );
      assert.deepEqual(members, [
        { role: "pg_signal_backend", member: "vault_admin", admin_option: false, inherit_option: true, set_option: false },
        { role: "veza_app", member: "vault_admin", admin_option: true, inherit_option: false, set_option: false },
        { role: "veza_app_group", member: "vault_admin", admin_option: true, inherit_option: false, set_option: false },
        { role: "veza_app_group", member: "veza_app", admin_option: false, inherit_option: true, set_option: true },
      ]);
    });

    it("leaves the static user unable to log in until Vault first rotates its password", async () => {
      await rejectsWithSqlState(connectAs("veza_app", "anything"), "28P01", /password authentication failed for user "veza_app"/);
    });

    it("gives Vault's admin no access to the application's data and no way to escalate", async () => {
      await rejectsWithSqlState(vault.query("SELECT * FROM veza.accounts"), "42501", /permission denied for (schema veza|table accounts)/);
      await rejectsWithSqlState(vault.query("SET ROLE veza_app_group"), "42501", /permission denied to set role "veza_app_group"/);
      await rejectsWithSqlState(vault.query("CREATE ROLE escalate LOGIN CREATEDB"), "42501", /permission denied to create role/);
      await rejectsWithSqlState(vault.query("CREATE ROLE escalate SUPERUSER"), "42501", /permission denied to create role/);
      await rejectsWithSqlState(vault.query("CREATE DATABASE escalate"), "42501", /permission denied to create database/);
      // PostgreSQL 16+: CREATEROLE manages only roles it holds ADMIN OPTION on.
      await su.query("CREATE ROLE someone_else LOGIN");
      await rejectsWithSqlState(vault.query("ALTER ROLE someone_else WITH PASSWORD 'x'"), "42501", /permission denied to alter role/);
      await rejectsWithSqlState(vault.query("GRANT pg_signal_backend TO someone_else"), "42501", /permission denied to grant role "pg_signal_backend"/);
      await su.query("DROP ROLE someone_else");
    });

    it("refuses to run connected to another database, changing nothing there", async () => {
      const other = await pg().connect({ ...pg().superuser, database: "other" });
      await rejectsWithSqlState(other.query(bootstrap()), "P0001", /connect to database veza to run this bootstrap \(connected to other\)/);
      await other.query("ROLLBACK");
      const { rows } = await other.query("SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = 'veza'");
      assert.deepEqual(rows, [{ n: 0 }]);
      await other.end();
    });
  });

  describe("dynamic credentials (veza-role)", () => {
    it("creates a login that expires at the lease end and holds nothing but the group membership", async () => {
      const expiration = inSeconds(3600);
      const user = await createDynamicUser(expiration);
      assert.equal(await validUntil(user.name), expiration.toISOString());
      const { rows } = await su.query({
        text: `SELECT rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls, rolinherit, rolcanlogin,
                 ARRAY(SELECT r.rolname || ' granted by ' || g.rolname FROM pg_auth_members a JOIN pg_roles r ON r.oid = a.roleid
                       JOIN pg_roles g ON g.oid = a.grantor WHERE a.member = u.oid ORDER BY 1) AS member_of
               FROM pg_roles u WHERE rolname = $1`,
        values: [user.name],
      });
      assert.deepEqual(rows, [
        {
          rolsuper: false,
          rolcreaterole: false,
          rolcreatedb: false,
          rolreplication: false,
          rolbypassrls: false,
          rolinherit: true,
          rolcanlogin: true,
          member_of: ["veza_app_group granted by vault_admin"],
        },
      ]);
      await revoke(user.name);
    });

    it("can log in to veza and read and write the migrated tables", async () => {
      const user = await createDynamicUser(inSeconds(3600));
      const app = await connectAs(user.name, user.password);
      assert.deepEqual((await app.query("SELECT current_user AS me, current_schemas(false)::text[] AS path")).rows, [
        { me: user.name, path: ["veza", "public"] },
      ]);
      // Unqualified names resolve to the app schema (search_path set by the bootstrap).
      const { rows: inserted } = await app.query<{ id: string }>("INSERT INTO accounts (email) VALUES ('a@veza.test') RETURNING id");
      await app.query({ text: "INSERT INTO events (account_id, kind) VALUES ($1, 'signup')", values: [inserted[0].id] }); // serial: needs USAGE on the sequence
      await app.query("UPDATE accounts SET email = 'b@veza.test' WHERE email = 'a@veza.test'");
      assert.deepEqual((await app.query("SELECT a.email, e.kind FROM veza.accounts a JOIN veza.events e ON e.account_id = a.id")).rows, [
        { email: "b@veza.test", kind: "signup" },
      ]);
      await app.query("DELETE FROM events");
      assert.equal((await app.query("DELETE FROM accounts")).rowCount, 1);
      await app.end();
      await revoke(user.name);
    });

    it("cannot change the schema, touch public, use temporary tables, create roles or databases", async () => {
      const user = await createDynamicUser(inSeconds(3600));
      const app = await connectAs(user.name, user.password);
      await rejectsWithSqlState(app.query("CREATE TABLE veza.mine (x int)"), "42501", /permission denied for schema veza/);
      await rejectsWithSqlState(app.query("DROP TABLE veza.accounts"), "42501", /must be owner of table accounts/);
      await rejectsWithSqlState(app.query("ALTER TABLE veza.accounts ADD COLUMN x int"), "42501", /must be owner of table accounts/);
      await rejectsWithSqlState(app.query("TRUNCATE veza.events"), "42501", /permission denied for table events/);
      await rejectsWithSqlState(app.query("SELECT * FROM public.sensitive"), "42501", /permission denied for table sensitive/);
      await rejectsWithSqlState(app.query("CREATE TABLE public.mine (x int)"), "42501", /permission denied for schema public/);
      await rejectsWithSqlState(app.query("CREATE TEMP TABLE mine (x int)"), "42501", /permission denied to create temporary tables in database "veza"/);
      await rejectsWithSqlState(app.query("CREATE SCHEMA mine"), "42501", /permission denied for database veza/);
      await rejectsWithSqlState(app.query("CREATE ROLE mine LOGIN"), "42501", /permission denied to create role/);
      await rejectsWithSqlState(app.query("CREATE DATABASE mine"), "42501", /permission denied to create database/);
      await rejectsWithSqlState(app.query("DROP SCHEMA veza CASCADE"), "42501", /must be owner of schema veza/);
      await app.end();
      await revoke(user.name);
    });

    it("cannot connect to another database", async () => {
      const user = await createDynamicUser(inSeconds(3600));
      await rejectsWithSqlState(connectAs(user.name, user.password, "other"), "42501", /permission denied for database "other"/);
      await revoke(user.name);
    });

    it("limitation (enforce in pg_hba.conf): a database that keeps PUBLIC's default CONNECT, like postgres, accepts the login", async () => {
      const user = await createDynamicUser(inSeconds(3600));
      const elsewhere = await connectAs(user.name, user.password, "postgres");
      assert.deepEqual((await elsewhere.query("SELECT current_database() AS db")).rows, [{ db: "postgres" }]);
      await rejectsWithSqlState(elsewhere.query("CREATE TABLE public.mine (x int)"), "42501", /permission denied for schema public/);
      await elsewhere.end();
      await revoke(user.name);
    });

    it("refuses a wrong password and a login whose expiration has passed (28P01)", async () => {
      const live = await createDynamicUser(inSeconds(3600));
      await rejectsWithSqlState(connectAs(live.name, `${live.password}x`), "28P01", /password authentication failed/);
      const expiredAt = inSeconds(-60);
      const expired = await createDynamicUser(expiredAt);
      assert.equal(await validUntil(expired.name), expiredAt.toISOString());
      await rejectsWithSqlState(connectAs(expired.name, expired.password), "28P01", /password authentication failed/);
      await revoke(live.name);
      await revoke(expired.name);
    });

    it("renew moves VALID UNTIL to the new expiration, reopening an expired login", async () => {
      const expiredAt = inSeconds(-60);
      const user = await createDynamicUser(expiredAt);
      assert.equal(await validUntil(user.name), expiredAt.toISOString());
      await rejectsWithSqlState(connectAs(user.name, user.password), "28P01", /password authentication failed/);

      const renewedTo = inSeconds(7200);
      await runAsVault(vault, "renew", renewStatements(OPTS), { name: user.name, username: user.name, expiration: vaultExpiration(renewedTo) });
      assert.equal(await validUntil(user.name), renewedTo.toISOString());
      const app = await connectAs(user.name, user.password);
      assert.deepEqual((await app.query("SELECT 1 AS ok")).rows, [{ ok: 1 }]);
      await app.end();
      await revoke(user.name);
    });

    it("revoke drops the role while it is connected, ends its sessions, and is idempotent", async () => {
      const user = await createDynamicUser(inSeconds(3600));
      const { rows: oidRows } = await su.query<{ oid: number }>({ text: "SELECT oid::int AS oid FROM pg_roles WHERE rolname = $1", values: [user.name] });
      const roleOid = oidRows[0].oid;
      // Two open sessions, one of them idle in a transaction holding a row lock.
      const sessionA = await connectAs(user.name, user.password);
      const sessionB = await connectAs(user.name, user.password);
      const pids = [
        (await sessionA.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0].pid,
        (await sessionB.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0].pid,
      ];
      await sessionB.query("BEGIN; INSERT INTO accounts (email) VALUES ('pending@veza.test')");

      await revoke(user.name);

      const { rows: left } = await su.query({ text: "SELECT pid FROM pg_stat_activity WHERE pid = ANY($1::int[])", values: [pids] });
      assert.deepEqual(left, [], "the user's backends are gone");
      await assert.rejects(sessionA.query("SELECT 1"), "the open session is no longer usable");
      await assert.rejects(sessionB.query("COMMIT"));
      assert.ok(
        [...sessionA.errors, ...sessionB.errors].some((e) => (e as Error & { code?: string }).code === "57P01"),
        `a session was told "terminating connection due to administrator command": ${[...sessionA.errors, ...sessionB.errors].map((e) => e.message).join("; ")}`,
      );
      assert.deepEqual((await su.query({ text: "SELECT 1 FROM pg_roles WHERE rolname = $1", values: [user.name] })).rows, []);
      assert.deepEqual((await su.query({ text: "SELECT 1 FROM pg_auth_members WHERE member = $1 OR roleid = $1", values: [roleOid] })).rows, []);
      assert.deepEqual(
        (await su.query("SELECT count(*)::int AS n FROM veza.accounts WHERE email = 'pending@veza.test'")).rows,
        [{ n: 0 }],
        "the uncommitted write was rolled back",
      );
      await rejectsWithSqlState(connectAs(user.name, user.password), "28P01", /password authentication failed/);

      // Vault retries revocations: a second run, and one for a role that never existed, succeed.
      await revoke(user.name);
      await revoke(vaultUsername());
      await sessionA.end();
      await sessionB.end();
    });
  });

  describe("static credentials (veza_app)", () => {
    const rotate = (password: string): Promise<void> =>
      runAsVault(vault, "rotation", rotationStatements(OPTS), { name: "veza_app", username: "veza_app", password });

    it("rotation sets a password that works and refuses the previous one", async () => {
      const first = vaultPassword();
      await rotate(first);
      const session = await connectAs("veza_app", first);
      assert.deepEqual((await session.query("SELECT current_user AS me")).rows, [{ me: "veza_app" }]);
      await session.end();

      const second = vaultPassword();
      await rotate(second);
      await rejectsWithSqlState(connectAs("veza_app", first), "28P01", /password authentication failed for user "veza_app"/);
      const again = await connectAs("veza_app", second);
      await again.end();
    });

    it("works with Vault's password_authentication=scram-sha-256 (a verifier instead of the password)", async () => {
      const password = vaultPassword();
      await rotate(scramVerifier(password));
      const { rows } = await su.query("SELECT rolpassword LIKE 'SCRAM-SHA-256$4096:%' AS scram FROM pg_authid WHERE rolname = 'veza_app'");
      assert.deepEqual(rows, [{ scram: true }]);
      const session = await connectAs("veza_app", password);
      await session.end();
    });

    it("runs migrations: its tables land in the app schema and every dynamic user can use them", async () => {
      const password = vaultPassword();
      await rotate(password);
      const migrator = await connectAs("veza_app", password);
      await migrator.query("CREATE TABLE tracks (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, title text NOT NULL)");
      await migrator.query("CREATE SEQUENCE ticket_seq");
      await migrator.end();
      const { rows } = await su.query("SELECT schemaname, tableowner FROM pg_tables WHERE tablename = 'tracks'");
      assert.deepEqual(rows, [{ schemaname: "veza", tableowner: "veza_app" }]);

      const user = await createDynamicUser(inSeconds(3600));
      const app = await connectAs(user.name, user.password);
      await app.query("INSERT INTO tracks (title) VALUES ('intro')");
      assert.deepEqual((await app.query("SELECT title FROM tracks")).rows, [{ title: "intro" }]);
      assert.deepEqual((await app.query("SELECT nextval('ticket_seq')::int AS n")).rows, [{ n: 1 }]);
      await rejectsWithSqlState(app.query("DROP TABLE tracks"), "42501", /must be owner of table tracks/);
      await app.end();
      await revoke(user.name);
    });

    it("re-running the bootstrap changes nothing and keeps the rotated password", async () => {
      const password = vaultPassword();
      await rotate(password);
      const before = await bootstrapState();
      await su.query(bootstrap());
      await su.query(bootstrap());
      assert.deepEqual(await bootstrapState(), before);
      const session = await connectAs("veza_app", password);
      await session.end();
      // Vault's admin still has its (unchanged) password.
      const admin = await connectAs(ADMIN, vaultAdminPassword);
      await admin.end();
    });
  });

  describe("root rotation (its own admin, in its own database)", () => {
    it("changes Vault's own password: the old one is refused, the new one works", async () => {
      // A second tenant bootstrapped the same way, so rotating its admin touches nobody else's.
      const own: DatabaseSqlOptions = { appSchema: "rot", appGroupRole: "rot_app_group", staticUsername: "rot_app", database: "rot" };
      const admin = "rot_vault_admin";
      const dba = await pg().connect({ ...pg().superuser, database: "postgres" });
      await dba.query("CREATE DATABASE rot");
      await dba.end();
      const rotSu = await pg().connect({ ...pg().superuser, database: "rot" });
      await rotSu.query(bootstrapSql({ ...own, vaultAdminUser: admin }));
      const oldPassword = `initial-${randomAlphanumeric(12)}`;
      await rotSu.query(`ALTER ROLE ${admin} WITH PASSWORD '${oldPassword}'`);
      await rotSu.end();

      const rotVault = await connectAs(admin, oldPassword, "rot");
      const newPassword = vaultPassword();
      await runAsVault(rotVault, "rotation", rootRotationStatements(), { username: admin, name: admin, password: newPassword });
      // Vault closes its connections after a root rotation and reconnects with the new password.
      await rotVault.end();
      await rejectsWithSqlState(connectAs(admin, oldPassword, "rot"), "28P01", /password authentication failed for user "rot_vault_admin"/);
      const again = await connectAs(admin, newPassword, "rot");

      // The new connection can still do Vault's job.
      const user = { name: vaultUsername(), password: vaultPassword() };
      await runAsVault(again, "creation", creationStatements(own), { ...user, username: user.name, expiration: vaultExpiration(inSeconds(600)) });
      const app = await connectAs(user.name, user.password, "rot");
      assert.deepEqual((await app.query("SELECT current_user AS me")).rows, [{ me: user.name }]);
      await app.end();
      await runAsVault(again, "revocation", revocationStatements(own), { name: user.name, username: user.name });
      await again.end();
      // The main admin was not touched.
      const main = await connectAs(ADMIN, vaultAdminPassword);
      await main.end();
    });
  });
});
