/**
 * The defaults table (docs/configuration.md, generated from stacks/defaults.ts) is what the
 * config layer applies: a stack that sets only its environment and providers gets exactly
 * the table's values.
 */
import * as assert from "node:assert/strict";
import { CATALOG } from "../components/catalog";
import { engineConfig, exampleFragments, fakeSecrets } from "../harness";
import { loadStackConfig } from "./config";
import {
  STACK_DEFAULTS,
  defaultsFor,
  defaultsTable,
  keyVaultNameDefault,
  loginRoleDefault,
  networkPoliciesDefault,
  vaultReplicasDefault,
  workloadNamespace,
} from "./defaults";
import { ENVIRONMENTS, type Environment, durationSeconds } from "./schema";

const P = "veza-secrets";

function minimal(env: Environment, extra: Record<string, unknown> = {}) {
  const values: Record<string, unknown> = {
    [`${P}:environment`]: env,
    [`${P}:providers`]: ["vault"],
    [`${P}:database`]: { host: "postgres.example" },
    ...extra,
  };
  // Required outside development (no default can know the cluster's API server).
  if (env !== "development" && !(`${P}:network` in extra)) values[`${P}:network`] = { apiServerCidrs: ["172.20.0.1/32"] };
  if (env === "production")
    values[`${P}:vault`] = {
      seal: { type: "awskms", region: "eu-west-1", kmsKeyId: "alias/vault-unseal", roleArn: "arn:aws:iam::123456789012:role/veza-vault-unseal" },
    };
  const secrets = fakeSecrets();
  return loadStackConfig({ values: { ...engineConfig(values), ...secrets }, secretKeys: new Set(Object.keys(secrets)) }, env, CATALOG);
}

describe("stack config: defaults", () => {
  for (const env of ENVIRONMENTS) {
    it(`${env}: a stack with only environment, providers, a database host (and outside development the API server's address) gets the table's values`, () => {
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

  it("the defaults that are functions of the environment, written out", () => {
    assert.deepEqual(
      ENVIRONMENTS.map((env) => [loginRoleDefault(env), networkPoliciesDefault(env), keyVaultNameDefault(env)]),
      [
        ["pulumi-development", false, "veza-development-kv"],
        ["pulumi-staging", true, "veza-staging-kv"],
        ["pulumi-production", true, "veza-production-kv"],
      ],
    );
  });

  it("the generated table has a row per default and a column per environment", () => {
    const table = defaultsTable(ENVIRONMENTS).split("\n");
    assert.equal(table[0], `| key | ${ENVIRONMENTS.join(" | ")} |`);
    assert.ok(table.includes("| `eso.replicas` | `1` | `1` | `2` |"));
    assert.ok(table.includes("| `database.sslMode` | `disable` | `verify-full` | `verify-full` |"));
  });

  it("every row of the generated table is what a stack that sets none of those keys gets", () => {
    // GCP and Azure listed, their settings without the defaulted keys, so those rows are exercised too.
    const fragments = exampleFragments();
    const without = (o: unknown, key: string) => Object.fromEntries(Object.entries(o as Record<string, unknown>).filter(([k]) => k !== key));
    const gcp = without(fragments.gcp[`${P}:gcp`], "dataAccessAuditLogs");
    const azure = without(fragments.azure[`${P}:azure`], "keyVaultName");
    const configs = ENVIRONMENTS.map((env) => minimal(env, { [`${P}:providers`]: ["vault", "gcp", "azure"], [`${P}:gcp`]: gcp, [`${P}:azure`]: azure }));
    const applied: Record<string, (c: (typeof configs)[number]) => unknown> = {
      "namespaces.workloads": (c) => c.namespaces.workloads,
      "namespaces.vault": (c) => c.namespaces.vault,
      "namespaces.externalSecrets": (c) => c.namespaces.externalSecrets,
      "vault.mode": (c) => c.vault?.mode,
      "vault.replicas": (c) => c.vault?.replicas,
      "vault.login.method": (c) => c.vault?.login.method,
      vaultLoginRole: (c) => c.vault?.login.role,
      "vault.resources": (c) => {
        const r = c.vault?.resources;
        return `requests ${r?.requests?.cpu}/${r?.requests?.memory}, limits ${r?.limits?.cpu}/${r?.limits?.memory}`;
      },
      "vault.devNodePort": (c) => c.vault?.devNodePort,
      "vault.tlsSecretName": (c) => c.vault?.tlsSecretName,
      "vault.storageSize": (c) => c.vault?.storageSize,
      "vault.auditStorageSize": (c) => c.vault?.auditStorageSize,
      "vault.snapshots.enabled": (c) => c.vault?.snapshots !== undefined,
      "vault.snapshots.schedule": (c) => c.vault?.snapshots?.schedule ?? "—",
      "vault.snapshots.retentionDays": (c) => c.vault?.snapshots?.retentionDays ?? "—",
      "vault.snapshots.destination": (c) => {
        const d = c.vault?.snapshots?.destination;
        return d === undefined ? "—" : d.kind === "pvc" ? `pvc (${d.size ?? STACK_DEFAULTS.vault.snapshots.pvcSize})` : d.kind;
      },
      "vault.login.issuer": (c) => c.vault?.login.issuer,
      "eso.replicas": (c) => c.eso?.replicas,
      "eso.refreshInterval": (c) => c.eso?.refreshInterval,
      "eso.serviceMonitor": (c) => c.eso?.serviceMonitor,
      "database.port": (c) => c.database?.port,
      "database.name": (c) => c.database?.name,
      "database.adminUsername": (c) => c.database?.adminUsername,
      "database.appUsername": (c) => c.database?.appUsername,
      "database.appGroupRole": (c) => c.database?.appGroupRole,
      "database.appSchema": (c) => c.database?.appSchema,
      "database.rotationSchedule": (c) => c.database?.rotationSchedule,
      "database.defaultTtl": (c) => c.database?.defaultTtl,
      "database.sslMode": (c) => c.database?.sslMode,
      "database.verifyConnection": (c) => c.database?.verifyConnection,
      "database.refreshInterval": () => "half of database.defaultTtl",
      "network.policies": (c) => c.network !== undefined,
      "rotation.schedule": (c) => c.rotation.schedule,
      "rotation.installReloader": (c) => c.rotation.installReloader,
      "gcp.dataAccessAuditLogs": (c) => c.gcp?.dataAccessAuditLogs,
      "azure.keyVaultName": (c) => c.azure?.keyVaultName,
      "protection of stateful resources": (c) => c.protect,
      "cloud secret recovery window (days)": (c) => c.recoveryWindowDays,
    };
    const expected = [
      `| key | ${ENVIRONMENTS.join(" | ")} |`,
      `|---|${ENVIRONMENTS.map(() => "---").join("|")}|`,
      ...Object.entries(applied).map(([key, f]) => {
        const name = key.includes(" ") ? key : `\`${key}\``;
        return `| ${name} | ${configs.map((c) => `\`${String(f(c))}\``).join(" | ")} |`;
      }),
    ];
    assert.deepEqual(defaultsTable(ENVIRONMENTS).split("\n"), expected);
    // The half-TTL row is a rule, not a value: check the rule.
    for (const c of configs) assert.equal(durationSeconds(c.database?.refreshInterval ?? ""), (c.database?.defaultTtlSeconds ?? 0) / 2);
  });
});
