/**
 * The defaults table (docs/configuration.md, generated from stacks/defaults.ts) is what the
 * config layer applies: a stack that sets only its environment and providers gets exactly
 * the table's values.
 */
import * as assert from "node:assert/strict";
import { CATALOG } from "../components/catalog";
import { engineConfig, fakeSecrets } from "../harness";
import { loadStackConfig } from "./config";
import { STACK_DEFAULTS, defaultsFor, defaultsTable, loginRoleDefault, networkPoliciesDefault, vaultReplicasDefault, workloadNamespace } from "./defaults";
import { ENVIRONMENTS, type Environment } from "./schema";

const P = "veza-secrets";

function minimal(env: Environment) {
  const values: Record<string, unknown> = { [`${P}:environment`]: env, [`${P}:providers`]: ["vault"], [`${P}:database`]: { host: "postgres.example" } };
  if (env === "production")
    values[`${P}:vault`] = {
      seal: { type: "awskms", region: "eu-west-1", kmsKeyId: "alias/vault-unseal", roleArn: "arn:aws:iam::123456789012:role/veza-vault-unseal" },
    };
  const secrets = fakeSecrets();
  return loadStackConfig({ values: { ...engineConfig(values), ...secrets }, secretKeys: new Set(Object.keys(secrets)) }, env, CATALOG);
}

describe("stack config: defaults", () => {
  for (const env of ENVIRONMENTS) {
    it(`${env}: a stack with only environment, providers and a database host gets the table's values`, () => {
      const c = minimal(env);
      const d = defaultsFor(env);
      assert.deepEqual(c.namespaces, {
        workloads: workloadNamespace(env),
        vault: STACK_DEFAULTS.namespaces.vault,
        externalSecrets: STACK_DEFAULTS.namespaces.externalSecrets,
      });
      assert.equal(c.vault?.mode, d.vaultMode);
      assert.equal(c.vault?.replicas, vaultReplicasDefault(d.vaultMode));
      assert.equal(c.vault?.login.role, loginRoleDefault(env));
      assert.equal(c.vault?.tlsSecretName, STACK_DEFAULTS.vault.tlsSecretName);
      assert.equal(c.vault?.storageSize, STACK_DEFAULTS.vault.storageSize);
      assert.deepEqual(c.vault?.resources, d.vaultResources);
      assert.equal(c.eso?.replicas, d.esoReplicas);
      assert.equal(c.eso?.refreshInterval, d.refreshInterval);
      assert.equal(c.database?.rotationSchedule, STACK_DEFAULTS.database.rotationSchedule);
      assert.equal(c.database?.defaultTtl, d.databaseLeaseTtl);
      assert.equal(c.database?.sslMode, d.sslMode);
      assert.equal(c.database?.appSchema, STACK_DEFAULTS.database.appSchema);
      assert.equal(c.network !== undefined, networkPoliciesDefault(env));
      assert.equal(c.rotation.schedule, STACK_DEFAULTS.rotation.schedule);
      assert.equal(c.protect, d.protect);
      assert.equal(c.recoveryWindowDays, d.recoveryWindowDays);
    });
  }

  it("the generated table has a row per default and a column per environment", () => {
    const table = defaultsTable(ENVIRONMENTS).split("\n");
    assert.equal(table[0], `| key | ${ENVIRONMENTS.join(" | ")} |`);
    assert.ok(table.includes("| `eso.replicas` | `1` | `1` | `2` |"));
    assert.ok(table.includes("| `database.sslMode` | `disable` | `verify-full` | `verify-full` |"));
  });
});
