import * as assert from "node:assert/strict";
import { SERVICES } from "../components/catalog";
import { runProgram } from "../harness";
import { databaseLeases, databaseLeasesTable } from "../harness/freshness";
import { creationStatements, revocationStatements } from "../components/vault/database-sql";

describe("harness/freshness: the cost of each service's database logins", () => {
  const SQL = { appSchema: "veza", appGroupRole: "veza_app_group", staticUsername: "veza_app", database: "veza" };
  const statements = creationStatements(SQL).length + revocationStatements(SQL).length;

  it("reads TTL from the Vault role and refresh from the ExternalSecret, per generator (production: 4h leases every 2h)", async () => {
    const rows = databaseLeases(await runProgram({ stack: "production" }));
    assert.deepEqual(
      rows,
      SERVICES.map((s) => ({
        generator: `veza-${s}-database`,
        role: `veza-${s}`,
        ttlSeconds: 4 * 3600,
        refreshInterval: "2h",
        maxAlive: 4 / 2 + 1,
        leasesPerDay: 24 / 2,
        vaultCallsPerDay: 2 * (24 / 2),
        sqlStatementsPerDay: statements * (24 / 2),
      })),
    );
    assert.equal(statements, 5, "CREATE ROLE, GRANT; terminate, REVOKE, DROP ROLE");
  });

  it("follows the stack's config (staging with a 3h TTL: refresh defaults to half)", async () => {
    const run = await runProgram({ stack: "staging", overrides: { "veza-secrets:database": { defaultTtl: "3h", refreshInterval: undefined } } });
    const [row] = databaseLeases(run);
    assert.deepEqual([row.ttlSeconds, row.refreshInterval, row.maxAlive, row.leasesPerDay, row.vaultCallsPerDay], [10800, "1h30m", 3, 16, 32]);
  });

  it("says so where database-url is supplied", async () => {
    const run = await runProgram({ stack: "development" });
    assert.deepEqual(databaseLeases(run), []);
    assert.equal(databaseLeasesTable(run), "development: no generated database logins (database-url is supplied).");
  });
});
