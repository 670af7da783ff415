/**
 * The README's "Bootstrapping Vault" sequence, step by step: each step's config as the
 * operator leaves it, what the program then registers, and (on a real PostgreSQL) what Vault's
 * first writes need from the database step that comes before them.
 */
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { CATALOG, SERVICES, serviceSecrets } from "../components/catalog";
import { ROOT, fakeSecrets, findResource, plaintextOccurrences, resourcesOfType, runProgram, type ProgramRun } from "../harness";
import { startPostgres, type PgConnection, type RunningPostgres } from "./postgres";
import { rejectsWithSqlState, runAsVault, vaultPassword } from "./vault-sql";

const P = "veza-secrets";
const CONNECTION = "vault:database/secretBackendConnection:SecretBackendConnection";
const STATIC_ROLE = "vault:database/secretBackendStaticRole:SecretBackendStaticRole";
const DYNAMIC_ROLE = "vault:database/secretBackendRole:SecretBackendRole";
const ES = "kubernetes:external-secrets.io/v1:ExternalSecret";
const GENERATOR = "kubernetes:generators.external-secrets.io/v1alpha1:VaultDynamicSecret";
const TEMP_PASSWORD = "FAKE-SECRET-temporary-admin-5f3c9a";

/**
 * The bold titles of the numbered steps of "Bootstrapping Vault": the README's summary, or
 * docs/vault-bootstrap.md, which has every command.
 */
function bootstrapSteps(file = "README.md"): string[] {
  const text = fs.readFileSync(path.join(ROOT, file), "utf8");
  const section = text.split(/^#+ Bootstrapping Vault.*$/m)[1]?.split("\n## ")[0] ?? "";
  return [...section.matchAll(/^(\d+)\. \*\*([^*]+)\*\*/gm)].map((m) => `${m[1]}. ${m[2].replace(/[.:]$/, "")}`);
}

/** Secrets as they stand after a step: the fakes, minus those not set yet. */
function secretsWithout(...keys: string[]): Record<string, string> {
  const s = fakeSecrets();
  for (const k of keys) delete s[`${P}:${k}`];
  return s;
}

const vaultResources = (run: ProgramRun) => run.resources.filter((r) => r.type.startsWith("vault:") || r.type === "pulumi:providers:vault");

describe("README: Bootstrapping Vault, step by step (production)", () => {
  it("documents the database step before the step that configures Vault, in the README and in docs/vault-bootstrap.md alike", () => {
    assert.deepEqual(bootstrapSteps("docs/vault-bootstrap.md"), bootstrapSteps("README.md"));
    assert.deepEqual(bootstrapSteps(), [
      "1. Namespaces first",
      "2. TLS",
      "3. Auto-unseal",
      "4. First install",
      "5. Initialise",
      "6. The program's own identity",
      "7. Database first",
      "8. Configure",
      "9. Rotate Vault's own database password",
    ]);
  });

  it("step 4 (vault.bootstrapped false, no token, no database password yet): installs Vault, configures nothing, creates no ExternalSecret", async () => {
    const run = await runProgram({
      stack: "production",
      overrides: { [`${P}:vault`]: { bootstrapped: false } },
      secrets: secretsWithout("vaultToken", "databaseAdminPassword"),
    });
    assert.ok(run.resources.some((r) => r.type === "kubernetes:helm.sh/v3:Release" && r.inputs.chart === "vault"));
    assert.deepEqual(vaultResources(run), []);
    assert.deepEqual([...resourcesOfType(run, ES), ...resourcesOfType(run, GENERATOR)], []);
  });

  it("step 7 (databaseAdminPassword set, still not bootstrapped): registers exactly what step 4 did; the password goes nowhere yet", async () => {
    const step4 = await runProgram({
      stack: "production",
      overrides: { [`${P}:vault`]: { bootstrapped: false } },
      secrets: secretsWithout("vaultToken", "databaseAdminPassword"),
    });
    const step7 = await runProgram({
      stack: "production",
      overrides: { [`${P}:vault`]: { bootstrapped: false } },
      secrets: { ...secretsWithout("vaultToken"), [`${P}:databaseAdminPassword`]: TEMP_PASSWORD },
    });
    const names = (r: ProgramRun) => r.resources.map((x) => `${x.type} ${x.name}`).sort();
    assert.deepEqual(names(step7), names(step4));
    for (const r of step7.resources) assert.deepEqual(plaintextOccurrences(r.inputs, TEMP_PASSWORD), [], r.name);
    assert.ok(!JSON.stringify(step7.resources.map((r) => r.inputs)).includes(TEMP_PASSWORD));
  });

  it("step 8 (vaultToken, bootstrapped true): writes the verified connection with that password, the owner's static role, each service's role, then the generators and ExternalSecrets", async () => {
    const run = await runProgram({ stack: "production", secrets: { ...fakeSecrets(), [`${P}:databaseAdminPassword`]: TEMP_PASSWORD } });
    const connection = findResource(run, CONNECTION, "vault-config-database-connection");
    assert.equal(connection.inputs.verifyConnection, true);
    assert.ok(JSON.stringify(connection.inputs).includes(TEMP_PASSWORD), "the connection carries the temporary password (as a secret)");
    assert.deepEqual(plaintextOccurrences(connection.inputs, TEMP_PASSWORD), []);
    const staticRole = findResource(run, STATIC_ROLE, "vault-config-static-role");
    assert.ok(staticRole.dependencies.includes(connection.urn));
    const roles = resourcesOfType(run, DYNAMIC_ROLE);
    assert.deepEqual(
      roles.map((r) => r.inputs.name),
      SERVICES.map((s) => `veza-${s}`),
    );
    for (const r of roles) assert.ok(r.dependencies.includes(connection.urn), `${String(r.inputs.name)} waits for the connection`);
    assert.equal(resourcesOfType(run, GENERATOR).length, SERVICES.length);
    // Each Secret the services read (the shared one, one per service), and the migrations' one.
    assert.equal(resourcesOfType(run, ES).length, serviceSecrets(CATALOG, { databasePerService: true }).length + 1);
  });
});

describe("README: Bootstrapping Vault against a real PostgreSQL (what step 8 needs from step 7)", function () {
  this.timeout(120_000);
  let server: RunningPostgres | undefined;
  let su: PgConnection;
  let run: ProgramRun;

  before(async function () {
    this.timeout(120_000);
    run = await runProgram({ stack: "production" });
    server = await startPostgres();
    const dba = await server.connect({ ...server.superuser, database: "postgres" });
    await dba.query("CREATE DATABASE veza");
    await dba.end();
    su = await server.connect({ ...server.superuser, database: "veza" });
  });
  after(async () => {
    await server?.stop();
  });

  it("without step 7, step 8's writes fail: Vault cannot log in to verify its connection", async () => {
    // A server of its own, never bootstrapped: the old order (configure, then the SQL).
    const fresh = await startPostgres();
    try {
      const dba = await fresh.connect({ ...fresh.superuser, database: "postgres" });
      await dba.query("CREATE DATABASE veza");
      await dba.end();
      await rejectsWithSqlState(
        fresh.connect({ user: "vault_admin", password: TEMP_PASSWORD, database: "veza" }),
        "28P01",
        /password authentication failed for user "vault_admin"/,
      );
    } finally {
      await fresh.stop();
    }
  });

  it("after step 7's SQL and temporary password, step 8's writes succeed: connection verified, owner rotated, service logins made", async () => {
    const pg = server as RunningPostgres;
    // Step 7, as documented.
    const bootstrap = execFileSync(process.execPath, ["--import", "tsx", "scripts/bootstrap-sql.ts", "production"], { cwd: ROOT, encoding: "utf8" });
    await su.query(bootstrap);
    await su.query(`ALTER ROLE vault_admin WITH PASSWORD '${TEMP_PASSWORD}'`);
    // Step 8: verify_connection logs in with the configured password ...
    const vault = await pg.connect({ user: "vault_admin", password: TEMP_PASSWORD, database: "veza" });
    // ... the static role is rotated as it is written ...
    const owner = vaultPassword();
    const rotation = findResource(run, STATIC_ROLE, "vault-config-static-role").inputs.rotationStatements as string[];
    await runAsVault(vault, "rotation", rotation, { name: "veza_app", username: "veza_app", password: owner });
    const migrator = await pg.connect({ user: "veza_app", password: owner, database: "veza" });
    assert.deepEqual((await migrator.query("SELECT current_user AS me")).rows, [{ me: "veza_app" }]);
    await migrator.end();
    // ... and each service's first login works (the generators' first refresh).
    for (const role of resourcesOfType(run, DYNAMIC_ROLE)) {
      const user = { name: `v-kubernet-${String(role.inputs.name).slice(0, 8)}-first-${Date.now()}`, password: vaultPassword() };
      await runAsVault(vault, "creation", role.inputs.creationStatements as string[], { ...user, username: user.name, expiration: "2099-01-01 00:00:00+0000" });
      const app = await pg.connect({ user: user.name, password: user.password, database: "veza" });
      await app.end();
      await runAsVault(vault, "revocation", role.inputs.revocationStatements as string[], { name: user.name, username: user.name });
    }
    await vault.end();
  });
});
