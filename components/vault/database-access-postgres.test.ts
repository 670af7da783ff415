/**
 * DatabaseAccess's roles on a real PostgreSQL: the production stack's bootstrap as `npm run
 * bootstrap-sql` prints it, then each service role's statements exactly as the program registers
 * them: overlapping leases, revocation, no DDL for the services, and the refresh timeline over
 * three TTLs with its no-overlap control.
 */
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { CATALOG, SERVICES } from "../catalog";
import { loadStackConfig } from "../../stacks/config";
import { runtimeConfigSource } from "../../stacks/config-model";
import { databaseAccessArgs } from "../../stacks/database";
import { ROOT, resourcesOfType, runProgram } from "../../harness";
import { startPostgres, type PgConnection, type RunningPostgres } from "../../test/postgres";
import { randomAlphanumeric, rejectsWithSqlState, runAsVault, vaultExpiration, vaultPassword, vaultUsername } from "../../test/vault-sql";
import { DatabaseAccess } from "./database-access";
import { rotationStatements, type DatabaseSqlOptions } from "./database-sql";
import { T, provider } from "./database-access-fixtures";

// ---------------------------------------------------------------------------------------------
// The production stack's own SQL on a real PostgreSQL: the bootstrap as `npm run bootstrap-sql`
// prints it, then each service role's statements exactly as the program registers them.

interface Lease {
  name: string;
  password: string;
  createdAt: number;
  expiresAt: number;
}

describe("database-access against a real PostgreSQL (the production stack's roles)", function () {
  this.timeout(120_000);

  let server: RunningPostgres | undefined;
  let su: PgConnection;
  const adminPassword = `initial-${randomAlphanumeric(12)}`;
  /** Statements per Vault role, read off the production stack's registered resources. */
  const roles = new Map<string, { creation: string[]; revocation: string[]; ttl: number }>();
  let rotation: string[] = [];

  const pg = (): RunningPostgres => {
    if (!server) throw new Error("server not started");
    return server;
  };
  const connectAs = (user: string, password: string): Promise<PgConnection> => pg().connect({ user, password, database: "veza" });
  const role = (service: string): { creation: string[]; revocation: string[]; ttl: number } => {
    const r = roles.get(`veza-${service}`);
    if (!r) throw new Error(`no role veza-${service}`);
    return r;
  };
  /** What Vault does on `GET database/creds/veza-<service>`: a new login valid for `ttlSeconds`. */
  async function createLease(vault: PgConnection, service: string, ttlSeconds = role(service).ttl, createdAt = Date.now()): Promise<Lease> {
    const user = { name: vaultUsername(`veza-${service}`, "kubernetes"), password: vaultPassword() };
    await runAsVault(vault, "creation", role(service).creation, {
      ...user,
      username: user.name,
      expiration: vaultExpiration(new Date(createdAt + ttlSeconds * 1000)),
    });
    return { ...user, createdAt, expiresAt: createdAt + ttlSeconds * 1000 };
  }
  /** What Vault does when a lease ends (expiry or revocation). */
  const revokeLease = (vault: PgConnection, service: string, lease: Lease): Promise<void> =>
    runAsVault(vault, "revocation", role(service).revocation, { name: lease.name, username: lease.name });

  before(async function () {
    this.timeout(120_000);
    // The documented commands: the SQL a DBA runs, and the roles `pulumi up` writes to Vault.
    // The DBA's script runs in its own process, once: it sets up the database (a fixture here;
    // bootstrapSql itself is tested in-process by the database-sql-*.test.ts files).
    const bootstrap = execFileSync(process.execPath, ["--import", "tsx", "scripts/bootstrap-sql.ts", "production"], { cwd: ROOT, encoding: "utf8" });
    server = await startPostgres();
    const dba = await pg().connect({ ...pg().superuser, database: "postgres" });
    await dba.query("CREATE DATABASE veza");
    await dba.end();
    su = await connectAs(pg().superuser.user, pg().superuser.password);
    await su.query(bootstrap);
    await su.query(`ALTER ROLE vault_admin WITH PASSWORD '${adminPassword}'`);
    await su.query("SET ROLE veza_app; CREATE TABLE veza.tracks (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, title text NOT NULL); RESET ROLE;");
  });

  // The production stack's Vault half is built per test (its config through the stack layer,
  // then the component), so that a mutant of either reaches the tests that use its roles. Not
  // the whole program: every component's mutants would then run these tests too.
  beforeEach(async function () {
    this.timeout(120_000);
    roles.clear();
    let sql: DatabaseSqlOptions | undefined;
    const prod = await runProgram({
      stack: "production",
      program: () => {
        const config = loadStackConfig(runtimeConfigSource(), "production", CATALOG);
        const db = config.database as NonNullable<typeof config.database>;
        sql = { appSchema: db.appSchema, appGroupRole: db.appGroupRole, staticUsername: db.appUsername, database: db.name };
        return {
          urn: new DatabaseAccess("database-access", databaseAccessArgs(config, provider(), { mountPath: "database", authPath: "kubernetes" }, "vault")).urn,
        };
      },
    });
    for (const r of resourcesOfType(prod, T.role)) {
      roles.set(String(r.inputs.name), {
        creation: r.inputs.creationStatements as string[],
        revocation: r.inputs.revocationStatements as string[],
        ttl: Number(r.inputs.defaultTtl),
      });
    }
    assert.deepEqual([...roles.keys()].sort(), SERVICES.map((s) => `veza-${s}`).sort());
    // What the static role (components/vault/config.ts, checked there) rotates with.
    rotation = rotationStatements(sql as DatabaseSqlOptions);
  });

  after(async () => {
    await server?.stop();
  });

  for (const service of SERVICES) {
    it(`${service}: two overlapping leases both log in; revoking the first ends its sessions and refuses it, the second keeps working`, async () => {
      const vault = await connectAs("vault_admin", adminPassword);
      const first = await createLease(vault, service);
      const second = await createLease(vault, service);
      const onFirst = await connectAs(first.name, first.password);
      const onSecond = await connectAs(second.name, second.password);
      const title = `overlap-${service}-${randomAlphanumeric(8)}`;
      for (const c of [onFirst, onSecond]) await c.query({ text: "INSERT INTO tracks (title) VALUES ($1)", values: [title] });

      await revokeLease(vault, service, first);

      await assert.rejects(onFirst.query("SELECT 1"), "the first lease's open session was ended");
      assert.ok(
        onFirst.errors.some((e) => (e as Error & { code?: string }).code === "57P01"),
        onFirst.errors.map((e) => e.message).join("; "),
      );
      await rejectsWithSqlState(connectAs(first.name, first.password), "28P01", /password authentication failed/);
      assert.deepEqual((await onSecond.query({ text: "SELECT count(*)::int AS n FROM tracks WHERE title = $1", values: [title] })).rows, [{ n: 2 }]);
      const again = await connectAs(second.name, second.password);
      await again.end();
      await onSecond.end();
      await onFirst.end();
      await revokeLease(vault, service, second);
      await vault.end();
    });

    it(`${service}: its logins have DML and cannot create or drop anything; the schema owner can`, async () => {
      const vault = await connectAs("vault_admin", adminPassword);
      const lease = await createLease(vault, service);
      const app = await connectAs(lease.name, lease.password);
      await app.query("INSERT INTO tracks (title) VALUES ('dml')");
      await app.query("UPDATE tracks SET title = 'dml2' WHERE title = 'dml'");
      await app.query("DELETE FROM tracks WHERE title = 'dml2'");
      await rejectsWithSqlState(app.query("CREATE TABLE veza.mine (x int)"), "42501", /permission denied for schema veza/);
      await rejectsWithSqlState(app.query("DROP TABLE veza.tracks"), "42501", /must be owner of table tracks/);
      await rejectsWithSqlState(app.query("ALTER TABLE veza.tracks ADD COLUMN x int"), "42501", /must be owner of table tracks/);
      await rejectsWithSqlState(app.query("TRUNCATE veza.tracks"), "42501", /permission denied for table tracks/);
      await rejectsWithSqlState(app.query("CREATE SCHEMA mine"), "42501", /permission denied for database veza/);
      await rejectsWithSqlState(app.query("DROP SCHEMA veza CASCADE"), "42501", /must be owner of schema veza/);
      await rejectsWithSqlState(app.query("CREATE ROLE mine LOGIN"), "42501", /permission denied to create role/);
      await app.end();
      await revokeLease(vault, service, lease);

      // The owner (migrations), with the password Vault's static role sets:
      const owner = vaultPassword();
      await runAsVault(vault, "rotation", rotation, { name: "veza_app", username: "veza_app", password: owner });
      await vault.end();
      const migrator = await connectAs("veza_app", owner);
      const table = `mig_${service.replace(/-/g, "_")}`;
      await migrator.query(`CREATE TABLE veza.${table} (x int)`);
      await migrator.query(`ALTER TABLE veza.${table} ADD COLUMN y int`);
      await migrator.query(`DROP TABLE veza.${table}`);
      await migrator.end();
    });
  }

  interface TimelineResult {
    failures: string[];
    logins: number;
    maxAlive: number;
    created: number;
    revoked: number;
  }

  /**
   * Runs the refresh schedule in real time (PostgreSQL enforces VALID UNTIL against its own
   * clock): every `refresh` s ESO makes each service a lease of `ttl` s and the Secret holds it;
   * `rolloutDelay` s later Reloader's new pod logs in with it and the old pod stops; Vault revokes
   * each lease at its expiry; a client reconnects with the Secret's value every 0.25 s.
   */
  async function timeline(ttl: number, refresh: number, rolloutDelay: number, duration: number): Promise<TimelineResult> {
    const probeEvery = 0.25;
    const vault = await connectAs("vault_admin", adminPassword);
    const start = Date.now() + 200;
    const at = (seconds: number): number => start + seconds * 1000;

    type Event = { at: number; order: number; run: () => Promise<void> };
    const events: Event[] = [];
    const failures: string[] = [];
    let logins = 0;
    let maxAlive = 0;
    const secret = new Map<string, Lease>(); // the Secret's current value, per service
    const pods = new Map<string, { lease: Lease; conn: PgConnection }>();
    const stragglers: { service: string; lease: Lease; conn: PgConnection }[] = [];
    const revoked: { lease: Lease; conn: PgConnection }[] = [];
    const made = new Map<string, string[]>(SERVICES.map((s) => [s, []]));
    /** This service's logins (made by this test) that still exist in PostgreSQL. */
    const aliveCount = async (service: string): Promise<number> => {
      const { rows } = await su.query<{ n: number }>({
        text: "SELECT count(*)::int AS n FROM pg_roles WHERE rolname = ANY($1::text[])",
        values: [made.get(service)],
      });
      return rows[0].n;
    };
    const login = async (service: string, why: string): Promise<PgConnection | undefined> => {
      const lease = secret.get(service);
      if (!lease) return undefined;
      logins++;
      try {
        const conn = await connectAs(lease.name, lease.password);
        await conn.query("SELECT count(*) FROM tracks");
        return conn;
      } catch (e) {
        failures.push(`${((Date.now() - start) / 1000).toFixed(2)}s ${service} ${why}: ${(e as Error).message}`);
        return undefined;
      }
    };

    SERVICES.forEach((service, i) => {
      const offset = i * 0.3;
      // Like ESO and Vault, everything counts from what actually happened: the next refresh
      // from the last one, the expiry from the lease's creation. A loaded machine then delays
      // the schedule as it would delay the operator, instead of breaking the test's own clock.
      const refreshAt = (when: number): void => {
        if (when > at(duration)) return;
        // ESO's refresh: the generator asks Vault for a new login; the Secret now holds it.
        events.push({
          at: when,
          order: 0,
          run: async () => {
            const lease = await createLease(vault, service, ttl);
            secret.set(service, lease);
            made.get(service)?.push(lease.name);
            maxAlive = Math.max(maxAlive, await aliveCount(service));
            // A session that is never closed: revocation at expiry must end it.
            const conn = await connectAs(lease.name, lease.password);
            stragglers.push({ service, lease, conn });
            // Vault's expiration manager revokes the lease at the end of its TTL.
            events.push({
              at: lease.expiresAt,
              order: 1,
              run: async () => {
                await revokeLease(vault, service, lease);
                revoked.push({ lease, conn });
              },
            });
            // Reloader: the new pod starts with the Secret's value, then the old pod stops.
            events.push({
              at: lease.createdAt + rolloutDelay * 1000,
              order: 2,
              run: async () => {
                const old = pods.get(service);
                const fresh = await login(service, "new pod");
                if (fresh) pods.set(service, { lease: secret.get(service) as Lease, conn: fresh });
                if (old) {
                  // Until it is replaced, the old pod's login and session must still work.
                  try {
                    await old.conn.query("SELECT 1");
                  } catch (e) {
                    failures.push(`${service} old pod cut before its rollout: ${(e as Error).message}`);
                  }
                  await old.conn.end();
                }
              },
            });
            refreshAt(lease.createdAt + refresh * 1000);
          },
        });
      };
      refreshAt(at(offset));
      // A client that reconnects with the Secret's current value all the time: each probe
      // schedules the next from when it ran, so a slow machine probes less often instead of
      // queueing probes that would delay ESO's and Vault's events.
      const probeAt = (when: number): void => {
        if (when > at(duration)) return;
        events.push({
          at: when,
          order: 3,
          run: async () => {
            const conn = await login(service, "probe");
            await conn?.end();
            probeAt(Date.now() + probeEvery * 1000);
          },
        });
      };
      probeAt(at(offset + 0.1));
    });

    while (events.length) {
      events.sort((a, b) => a.at - b.at || a.order - b.order);
      const next = events.shift() as Event;
      const wait = next.at - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      try {
        await next.run();
      } catch (e) {
        failures.push(`${((Date.now() - start) / 1000).toFixed(2)}s: ${(e as Error).message}`);
      }
    }

    // Every revoked lease: its never-closed session was ended and its login is refused.
    for (const { lease, conn } of revoked) {
      await assert.rejects(conn.query("SELECT 1"), `${lease.name}'s session outlived its lease`);
      await rejectsWithSqlState(connectAs(lease.name, lease.password), "28P01", /password authentication failed/);
    }
    for (const p of pods.values()) await p.conn.end();
    for (const s of stragglers) await s.conn.end();
    for (const service of SERVICES) {
      const lease = secret.get(service) as Lease;
      if (!revoked.some((r) => r.lease === lease)) await revokeLease(vault, service, lease);
    }
    await vault.end();
    return { failures, logins, maxAlive, created: [...made.values()].flat().length, revoked: revoked.length };
  }

  it("a timeline over three TTLs: leases on the refresh schedule, revoked at expiry, zero failed logins for a client using the Secret's current value", async () => {
    // The stacks' shape (TTL = 2 × refresh), scaled from hours to seconds.
    const [ttl, refresh, duration] = [6, 3, 18];
    const r = await timeline(ttl, refresh, 0.5, duration);
    assert.deepEqual(r.failures, [], "no failed login for a client using the Secret's current value");
    // At least one probe per service every 0.25 s of free time; under any load, several per refresh.
    const minimum = SERVICES.length * 4 * (duration / refresh);
    assert.ok(r.logins >= minimum, `${r.logins} logins (at least ${minimum})`);
    // Leases are made every `refresh` and live `ttl`: floor(ttl / refresh), plus one at the
    // instant a new one is made as the oldest ends (the README's figure is this bound).
    assert.ok(r.maxAlive >= Math.floor(ttl / refresh) && r.maxAlive <= Math.floor(ttl / refresh) + 1, `${r.maxAlive} alive at most`);
    assert.equal(r.revoked, r.created, "every lease revoked at its expiry");
    assert.ok(r.created >= SERVICES.length * (duration / refresh - 1), `${r.created} leases made on the schedule`);
    console.log(
      `      timeline: ${duration}s (${duration / ttl} TTLs of ${ttl}s, refresh ${refresh}s): ${r.logins} logins, 0 failed, ${r.revoked} leases revoked at expiry, at most ${r.maxAlive} alive per service`,
    );
  });

  it("control: with the refresh equal to the TTL (no overlap), the old pods lose their login before Reloader replaces them", async () => {
    const r = await timeline(2, 2, 0.5, 4);
    assert.ok(r.failures.length > 0, "the timeline must detect a missing overlap");
    // Without overlap the old pods are cut (and, VALID UNTIL being whole seconds, even the
    // current login can run out before the next refresh).
    assert.ok(
      r.failures.some((f) => /old pod cut before its rollout/.test(f)),
      r.failures.join("\n"),
    );
  });
});
