/**
 * The bootstrap (components/vault/database-sql.ts's bootstrapSql) on a real PostgreSQL, as
 * Vault's admin and not a superuser: password authentication, the roles' exact attributes and
 * memberships, a static user that cannot log in before rotation, an admin that cannot read the
 * data or escalate, and a refusal to run in another database.
 */
import * as assert from "node:assert/strict";
import { rejectsWithSqlState } from "../../test/vault-sql";
import { applicationLoginsSql, auditSql, creationStatements } from "./database-sql";
import { ADMIN, OPTS, TEST_SERVICES, bootstrap, connectAs, createDynamicUser, pg, revoke, su, useRealPostgres, vault } from "./database-sql-fixtures";

// The hooks and the server: useRealPostgres (database-sql-fixtures.ts).
describe("database-sql against a real PostgreSQL (as Vault's admin, not a superuser)", function () {
  this.timeout(60_000);

  useRealPostgres();

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
         WHERE u.rolname IN ('veza_app', 'vault_admin', 'veza_app_group_backend_api', 'veza_app_group_chat_server') ORDER BY 1, 2`,
      );
      assert.deepEqual(members, [
        { role: "pg_signal_backend", member: "vault_admin", admin_option: false, inherit_option: true, set_option: false },
        { role: "veza_app", member: "vault_admin", admin_option: true, inherit_option: false, set_option: false },
        { role: "veza_app_group", member: "vault_admin", admin_option: true, inherit_option: false, set_option: false },
        { role: "veza_app_group", member: "veza_app", admin_option: false, inherit_option: true, set_option: true },
        { role: "veza_app_group", member: "veza_app_group_backend_api", admin_option: false, inherit_option: true, set_option: true },
        { role: "veza_app_group", member: "veza_app_group_chat_server", admin_option: false, inherit_option: true, set_option: true },
        { role: "veza_app_group_backend_api", member: "vault_admin", admin_option: true, inherit_option: false, set_option: false },
        { role: "veza_app_group_chat_server", member: "vault_admin", admin_option: true, inherit_option: false, set_option: false },
      ]);
      const { rows: serviceRoles } = await su.query(
        `SELECT rolname, rolcanlogin, rolsuper, rolcreaterole FROM pg_roles WHERE starts_with(rolname, 'veza_app_group_') ORDER BY 1`,
      );
      assert.deepEqual(serviceRoles, [
        { rolname: "veza_app_group_backend_api", rolcanlogin: false, rolsuper: false, rolcreaterole: false },
        { rolname: "veza_app_group_chat_server", rolcanlogin: false, rolsuper: false, rolcreaterole: false },
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

    it("what Vault's admin can do, plainly: plant a login with no expiry in a service's role, which reads the data; the audit reports it (issue 29 #10)", async () => {
      const audit = auditSql({ ...OPTS, vaultAdminUser: ADMIN, services: TEST_SERVICES });
      const findings = async () => (await su.query<{ login: string; member_of: string }>(audit)).rows.map((r) => `${r.login} via ${r.member_of}`);
      // A Vault lease (expires) and the expected roles (static user, admin, superuser) are not findings.
      const lease = await createDynamicUser(new Date(Date.now() + 3_600_000));
      assert.deepEqual(await findings(), []);
      // The admin's CREATEROLE and ADMIN OPTION are what Vault needs to issue credentials; they also allow this.
      await vault.query("CREATE ROLE planted LOGIN PASSWORD 'planted-password'");
      await vault.query('GRANT "veza_app_group_chat_server" TO planted');
      await su.query("SET ROLE veza_app; CREATE TABLE IF NOT EXISTS veza.audit_probe (id int); RESET ROLE;");
      const planted = await connectAs("planted", "planted-password");
      try {
        await planted.query("SELECT * FROM veza.audit_probe");
      } finally {
        await planted.end();
      }
      // Planted through the shared group, or with an expiry of infinity: reported too.
      await vault.query("CREATE ROLE planted_forever LOGIN VALID UNTIL 'infinity'");
      await vault.query("GRANT veza_app_group TO planted_forever");
      assert.deepEqual(await findings(), ["planted via veza_app_group_chat_server", "planted_forever via veza_app_group"]);
      // A login outside the application's roles is no finding of this audit.
      await su.query("CREATE ROLE unrelated LOGIN");
      assert.equal((await findings()).length, 2);
      for (const r of ["planted", "planted_forever", "unrelated"]) await su.query(`DROP ROLE ${r}`);
      await su.query("DROP TABLE veza.audit_probe");
      await revoke(lease.name);
    });

    it("the restore runbook's query lists the dynamic logins of every service's role, with their expiry, and nothing else (found by npm run e2e:raft)", async () => {
      const query = applicationLoginsSql({ ...OPTS, vaultAdminUser: ADMIN });
      const listed = async () => (await su.query<{ rolname: string; rolvaliduntil: Date | null }>(query)).rows;
      assert.deepEqual(await listed(), [], "the static user, Vault's admin and the group roles are not listed");
      const expiry = new Date(Date.now() + 3_600_000);
      const a = await createDynamicUser(expiry, TEST_SERVICES[0]);
      const b = await createDynamicUser(expiry, TEST_SERVICES[1]);
      // A login in the shared group directly (creationStatements without a service) is listed too.
      await vault.query(
        creationStatements(OPTS)[0].replace("{{name}}", "v-shared-1").replace("{{password}}", "x").replace("{{expiration}}", expiry.toISOString()),
      );
      await vault.query(creationStatements(OPTS)[1].replace("{{name}}", "v-shared-1"));
      await su.query("CREATE ROLE unrelated LOGIN");
      const rows = await listed();
      assert.deepEqual(
        rows.map((r) => r.rolname),
        [a.name, b.name, "v-shared-1"].sort(),
      );
      assert.ok(rows.every((r) => r.rolvaliduntil instanceof Date && Math.abs(r.rolvaliduntil.getTime() - expiry.getTime()) < 2000));
      await su.query('DROP ROLE unrelated; DROP ROLE "v-shared-1"');
      await revoke(a.name, TEST_SERVICES[0]);
      await revoke(b.name, TEST_SERVICES[1]);
      assert.throws(() => applicationLoginsSql({ ...OPTS, vaultAdminUser: "x'; DROP" }), /vaultAdminUser must be a lowercase PostgreSQL identifier/);
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
});
