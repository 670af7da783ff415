/**
 * The services' dynamic credentials (components/vault/database-sql.ts's statements for
 * veza-role) on a real PostgreSQL, run as Vault runs them: a login that expires at the lease end
 * with only the group membership, what it may and may not do, expiry, renewal, and revocation
 * with open sessions.
 */
import * as assert from "node:assert/strict";
import { inSeconds, rejectsWithSqlState, runAsVault, vaultExpiration, vaultUsername } from "../../test/vault-sql";
import { renewStatements } from "./database-sql";
import { connectAs, createDynamicUser, OPTS, revoke, su, validUntil, vault, useRealPostgres } from "./database-sql-fixtures";

// The hooks and the server: useRealPostgres (database-sql-fixtures.ts).
describe("database-sql against a real PostgreSQL (as Vault's admin, not a superuser)", function () {
  this.timeout(60_000);

  useRealPostgres();

  describe("dynamic credentials (veza-role)", () => {
    it("creates a login that expires at the lease end and holds nothing but its service's role", async () => {
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
          member_of: ["veza_app_group_backend_api granted by vault_admin"],
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
});
