/**
 * Whole-program tests of where each environment's secrets live: the real index.ts under Pulumi
 * mocks (harness/index.ts) protects production's stateful resources, writes every stored key to
 * each backend, builds per-service database logins, waits for Vault's bootstrap, and handles
 * plain Kubernetes Secrets (providers [kubernetes]) in development only.
 */
import * as assert from "node:assert/strict";
import { serviceSecrets, CATALOG, SERVICES } from "../components/catalog";
import { exampleFragments, resourcesOfType, runProgram, stackConfig, STACKS, tryRunProgram, unwrapSecrets } from "../harness";
import { ConfigError } from "../stacks/config-model";
import { ES, GENERATOR, RELEASE, STORE, meta, stackRun } from "./program-fixtures";

describe("the whole program, per environment", () => {
  const storedKeys = (database: boolean) =>
    serviceSecrets(CATALOG)
      .flatMap((s) => s.keys)
      .filter((k, i, all) => all.indexOf(k) === i)
      .filter((k) => !(database && k === "database-url"))
      .sort();

  it("protects exactly production's stateful resources, and nothing elsewhere", async () => {
    const prot = async (stack: string) =>
      (await stackRun(stack)).resources
        .filter((r) => r.protect)
        .map((r) => `${r.type} ${r.name}`)
        .sort();
    assert.deepEqual(await prot("development"), []);
    assert.deepEqual(await prot("staging"), []);
    const prod = await prot("production");
    assert.deepEqual(
      prod.filter((p) => !p.startsWith("aws:secretsmanager/secret:Secret ")),
      [
        "aws:kms/key:Key aws-secrets-key",
        "kubernetes:core/v1:Namespace namespaces-vault",
        "kubernetes:core/v1:Namespace namespaces-workloads",
        // Where Vault's Raft snapshots are kept (issue 31): the way back after a lost cluster.
        "kubernetes:core/v1:PersistentVolumeClaim vault-raft-snapshots-pvc",
        "kubernetes:helm.sh/v3:Release external-secrets",
        "kubernetes:helm.sh/v3:Release vault",
        "vault:database/secretBackendConnection:SecretBackendConnection vault-config-database-connection",
        "vault:index/mount:Mount vault-config-database-mount",
        "vault:index/mount:Mount vault-config-kv-mount",
        "vault:kv/secretV2:SecretV2 vault-config-secrets",
      ],
    );
    assert.deepEqual(
      prod.filter((p) => p.startsWith("aws:secretsmanager/secret:Secret ")).map((p) => p.split(" ")[1]),
      storedKeys(true)
        .map((k) => `aws-secrets-${k}`)
        .sort(),
    );
  });

  it("writes every stored catalog key to each backend, under the environment's names", async () => {
    for (const stack of STACKS) {
      const database = stack !== "development";
      const kv = (await stackRun(stack)).resources.find((r) => r.type === "vault:kv/secretV2:SecretV2");
      assert.ok(kv);
      assert.equal(kv.inputs.name, `veza/${stack}`);
      assert.equal(kv.inputs.mount, "secret");
      assert.deepEqual(Object.keys(JSON.parse(String(unwrapSecrets(kv.inputs.dataJson)))).sort(), storedKeys(database), stack);
      const aws = resourcesOfType(await stackRun(stack, "aws"), "aws:secretsmanager/secret:Secret");
      assert.deepEqual(
        aws.map((s) => s.inputs.name).sort(),
        storedKeys(database).map((k) => `veza/${stack}/${k}`),
        stack,
      );
      const gcp = resourcesOfType(await stackRun(stack, "gcp"), "gcp:secretmanager/secret:Secret");
      assert.deepEqual(
        gcp.map((s) => s.inputs.secretId).sort(),
        storedKeys(database).map((k) => `veza-${stack}-${k}`),
        stack,
      );
      const azure = resourcesOfType(await stackRun(stack, "azure"), "azure-native:keyvault:Secret");
      assert.deepEqual(
        azure.map((s) => s.inputs.secretName).sort(),
        storedKeys(database).map((k) => `veza-${stack}-${k}`),
        stack,
      );
    }
  });

  it("builds each service's database-url from its own generated login outside development, with TLS required; the owner's only for migrations", async () => {
    const shape = { staging: { ttl: 3600, refresh: "30m" }, production: { ttl: 14400, refresh: "2h" } };
    for (const stack of ["staging", "production"] as const) {
      const run = await stackRun(stack);
      type Spec = {
        refreshInterval: string;
        target: { template: { data: Record<string, string> } };
        dataFrom: { extract?: { key: string }; sourceRef?: { generatorRef: { name: string } } }[];
      };
      const specOf = (name: string) => resourcesOfType(run, ES).find((e) => meta(e).name === name)?.inputs.spec as Spec;
      assert.equal(specOf("veza-secrets").target.template.data["database-url"], undefined, "the shared Secret carries no login");
      for (const service of SERVICES) {
        const spec = specOf(`veza-${service}-secrets`);
        assert.match(
          spec.target.template.data["database-url"],
          /^postgresql:\/\/\{\{ index \. "db_username" \}\}:\{\{ index \. "db_password" \}\}@postgres\.[a-z.]+\.internal:5432\/veza\?sslmode=verify-full$/,
        );
        assert.deepEqual(
          spec.dataFrom.map((d) => d.extract?.key ?? d.sourceRef?.generatorRef.name),
          [`veza/${stack}`, `veza-${service}-database`],
        );
        assert.equal(spec.refreshInterval, shape[stack].refresh);
        const generator = resourcesOfType(run, GENERATOR).find((g) => meta(g).name === `veza-${service}-database`);
        const g = generator?.inputs.spec as { path: string; provider: { auth: { kubernetes: { role: string; serviceAccountRef: { name: string } } } } };
        assert.deepEqual(
          [g.path, g.provider.auth.kubernetes.role, g.provider.auth.kubernetes.serviceAccountRef.name],
          [`database/creds/veza-${service}`, `eso-veza-${stack}-db-${service}`, `eso-db-${service}`],
        );
        const role = run.resources.find((r) => r.type === "vault:database/secretBackendRole:SecretBackendRole" && r.inputs.name === `veza-${service}`);
        assert.deepEqual([role?.inputs.defaultTtl, role?.inputs.maxTtl], [shape[stack].ttl, shape[stack].ttl]);
      }
      const migrations = specOf("veza-migrations-secrets");
      assert.deepEqual(migrations.dataFrom, [{ extract: { key: "database/static-creds/veza-app" } }]);
      const staticRole = run.resources.find((r) => r.type === "vault:database/secretBackendStaticRole:SecretBackendStaticRole");
      assert.deepEqual(
        [staticRole?.inputs.name, staticRole?.inputs.username, staticRole?.inputs.rotationSchedule, staticRole?.inputs.rotationPeriod],
        ["veza-app", "veza_app", "0 4 * * 0", undefined],
      );
      // No policy but the migrations' names the static role; every other database policy names exactly one creds path.
      for (const p of run.resources.filter((r) => r.type === "vault:index/policy:Policy")) {
        const hcl = String(p.inputs.policy);
        assert.equal(hcl.includes("static-creds"), p.inputs.name === `veza-${stack}-db-migrations`, String(p.inputs.name));
      }
      const outputs = run.outputs.rotation as { database: Record<string, unknown> };
      assert.deepEqual(outputs.database, {
        connection: "veza",
        migrationRole: "veza-app",
        migrationRoleUser: "veza_app",
        rotationSchedule: "0 4 * * 0",
        serviceRoles: Object.fromEntries(SERVICES.map((s) => [s, `veza-${s}`])),
        leaseTtl: stack === "production" ? "4h" : "1h",
        refreshInterval: shape[stack].refresh,
      });
    }
  });

  it("installs Vault but skips its configuration, with a clear warning, until production is bootstrapped", async () => {
    const run = await runProgram({ stack: "production", overrides: { "veza-secrets:vault": { bootstrapped: false } } });
    assert.deepEqual(
      run.resources.filter((r) => r.type.startsWith("vault:") || r.type === "pulumi:providers:vault"),
      [],
    );
    assert.ok(run.resources.some((r) => r.type === RELEASE && r.inputs.chart === "vault"));
    // No Vault store yet, and no ExternalSecrets: database-url can only come from Vault.
    assert.deepEqual(
      resourcesOfType(run, STORE).map((s) => meta(s).name),
      ["aws-store"],
    );
    assert.deepEqual(resourcesOfType(run, ES), []);
  });

  it("serves the ExternalSecrets from the next backend while Vault awaits bootstrap, where database-url is supplied", async () => {
    const config = stackConfig("production");
    delete config["veza-secrets:database"];
    const run = await runProgram({ stack: "production", config, overrides: { "veza-secrets:vault": { bootstrapped: false } } });
    // One ExternalSecret per Kubernetes Secret the catalog defines (shared + one per service).
    assert.equal(resourcesOfType(run, ES).length, serviceSecrets(CATALOG).length);
    assert.ok(resourcesOfType(run, ES).every((e) => (e.inputs.spec as { secretStoreRef: { name: string } }).secretStoreRef.name === "aws-store"));
  });

  it("refuses plain Kubernetes Secrets (stacks/examples/kubernetes.yaml) in staging and production", async () => {
    for (const stack of ["staging", "production"]) {
      const { run, error } = await tryRunProgram({ stack, overrides: exampleFragments().kubernetes });
      assert.ok(error instanceof ConfigError, stack);
      assert.deepEqual(
        error.problems.map((p) => p.key),
        ["providers"],
      );
      assert.deepEqual(
        run.resources.map((r) => r.type),
        ["pulumi:pulumi:Stack"],
      );
    }
  });

  it("installs no operator and writes the Secrets itself for providers [kubernetes]", async () => {
    const run = await stackRun("development", "kubernetes");
    // Only Reloader, which restarts pods when the program rewrites a Secret.
    assert.deepEqual(
      run.resources.filter((r) => r.type === RELEASE).map((r) => r.inputs.chart),
      ["reloader"],
    );
    assert.deepEqual(
      resourcesOfType(run, "kubernetes:core/v1:Secret")
        .map((r) => meta(r).name)
        .sort(),
      serviceSecrets(CATALOG)
        .map((s) => s.name)
        .sort(),
    );
  });
});
