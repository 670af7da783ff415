/**
 * Program-level wiring, per committed stack: what depends on what, who parents what, and the
 * per-environment values that reach the cluster. Expected values come from the catalog, the
 * stack files, the environment defaults or the upstream chart, never from the program's output.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { CATALOG, SERVICES, SHARED_SECRET_NAME, serviceSecretName, serviceSecrets, serviceWorkloadName } from "../components/catalog";
import { ROOT, findResource, resourcesOfType, runProgram, stackConfig, STACKS, type ProgramRun } from "../harness";
import { validatedConfig } from "../stacks/config-fixtures";
import { MIGRATIONS } from "../stacks/database";
import { bootstrapOptions } from "../stacks/vault";
import { defaultsFor } from "../stacks/defaults";
import { durationSeconds, secondsAsDuration } from "../stacks/schema";
import { readableSecrets } from "./rbac";

const RELEASE = "kubernetes:helm.sh/v3:Release";
const ES = "kubernetes:external-secrets.io/v1:ExternalSecret";
const release = (run: ProgramRun, chart: string) => {
  const r = resourcesOfType(run, RELEASE).find((x) => x.inputs.chart === chart);
  assert.ok(r, `no ${chart} release`);
  return r;
};
const workloads = (stack: string) => `veza-${stack}`;
type DbConfig = { refreshInterval?: string; defaultTtl?: string } | undefined;
const dbConfig = (stack: string) => stackConfig(stack)["veza-secrets:database"] as DbConfig;
/** An ExternalSecret that reads a service's database generator (its refresh follows the lease). */
const readsGenerator = (es: { inputs: Record<string, unknown> }) =>
  ((es.inputs.spec as { dataFrom?: { sourceRef?: { generatorRef?: unknown } }[] }).dataFrom ?? []).some((d) => d.sourceRef?.generatorRef !== undefined);
const esName = (es: { inputs: Record<string, unknown> }) => (es.inputs.metadata as { name: string }).name;

const runs = new Map<string, Promise<ProgramRun>>();
const stackRun = (stack: string) => {
  if (!runs.has(stack)) runs.set(stack, runProgram({ stack }));
  return runs.get(stack) as Promise<ProgramRun>;
};

describe("the whole program: wiring, per stack", () => {
  for (const stack of STACKS) {
    describe(stack, () => {
      it("parents every custom resource to a component of ours; only providers sit at the top", async () => {
        const run = await stackRun(stack);
        const byUrn = new Map(run.resources.map((r) => [r.urn, r]));
        for (const r of run.resources.filter((x) => x.custom)) {
          const parent = byUrn.get(r.parent);
          if (r.type.startsWith("pulumi:providers:")) assert.equal(parent?.type, "pulumi:pulumi:Stack", r.name);
          else assert.match(String(parent?.type), /^veza:/, `${r.type} ${r.name} is parented to ${parent?.type}`);
        }
      });

      it("lets each service's ServiceAccount read its own Secret and the shared one, no other, with no API token", async () => {
        const run = await stackRun(stack);
        const expected = Object.fromEntries(SERVICES.map((s) => [serviceWorkloadName(s), [SHARED_SECRET_NAME, serviceSecretName(s)].sort()]));
        expected["secrets-rotation"] = []; // the rotation job reads no Secret
        // With the database engine, the migration Job's identity reads its own Secret only.
        if (dbConfig(stack)) expected[MIGRATIONS.jobServiceAccount] = [MIGRATIONS.secretName];
        const readable = readableSecrets(run, workloads(stack));
        for (const sa of resourcesOfType(run, "kubernetes:core/v1:ServiceAccount").filter((s) => s.name.startsWith("service-access-"))) {
          assert.equal(sa.inputs.automountServiceAccountToken, false, sa.name);
        }
        assert.deepEqual(Object.fromEntries(Object.entries(readable).filter(([name]) => !name.startsWith("eso-"))), expected);
      });

      it("starts the rotation CronJob only after the ESO release, and every ExternalSecret after it too", async () => {
        const run = await stackRun(stack);
        const eso = release(run, "external-secrets");
        const cron = findResource(run, "kubernetes:batch/v1:CronJob", "secrets-rotation");
        assert.ok(cron.dependencies.includes(eso.urn), "the CronJob annotates ExternalSecrets: it needs the CRDs");
        for (const es of resourcesOfType(run, ES)) assert.ok(es.dependencies.includes(eso.urn), es.name);
      });

      it("configures Vault only after its release, through a provider that waits for it", async () => {
        const run = await stackRun(stack);
        // dependsOn a component reaches the engine as its custom children: here the Helm release.
        const vault = release(run, "vault");
        const provider = findResource(run, "pulumi:providers:vault", "vault");
        assert.ok(provider.dependencies.includes(vault.urn), "the provider waits for the Vault release");
        const config = findResource(run, "veza:vault:VaultConfig", "vault-config");
        assert.ok(config.dependencies.includes(vault.urn), "the configuration waits for the Vault release");
        const byUrn = new Map(run.resources.map((r) => [r.urn, r]));
        for (const r of run.resources.filter((x) => x.type.startsWith("vault:"))) {
          assert.ok(r.provider.startsWith(`${provider.urn}::`), `${r.name} uses the stack's Vault provider`);
          // VaultConfig, or a Vault component that waits for it (database access, the deployer's jwt login).
          const parent = byUrn.get(r.parent);
          assert.ok(parent?.type.startsWith("veza:vault:"), `${r.name} is parented to a Vault component`);
          if (parent && parent.urn !== config.urn)
            assert.ok(
              parent.dependencies.some((d) => byUrn.get(d)?.parent === config.urn || d === config.urn),
              `${parent.name} waits for VaultConfig`,
            );
        }
      });

      it("refreshes every ExternalSecret at the stack's interval (stack file, else the environment default)", async () => {
        const run = await stackRun(stack);
        const fromFile = (stackConfig(stack)["veza-secrets:eso"] as { refreshInterval?: string } | undefined)?.refreshInterval;
        const expected = fromFile ?? defaultsFor(stack).refreshInterval;
        const db = dbConfig(stack);
        // A service's database login: half the lease TTL unless the stack says otherwise.
        const dbRefresh = db
          ? (db.refreshInterval ?? secondsAsDuration(Math.floor(durationSeconds(db.defaultTtl ?? defaultsFor(stack).databaseLeaseTtl) / 2)))
          : undefined;
        const ess = resourcesOfType(run, ES);
        assert.equal(ess.length, serviceSecrets(CATALOG).length + (db ? 1 : 0));
        for (const es of ess) {
          const want = esName(es) === MIGRATIONS.secretName ? MIGRATIONS.refreshInterval : readsGenerator(es) ? dbRefresh : expected;
          assert.equal((es.inputs.spec as { refreshInterval: string }).refreshInterval, want, es.name);
        }
      });

      it("installs Reloader watching Secrets only, in the workload namespace only, and annotates the Secrets it must watch", async () => {
        const run = await stackRun(stack);
        const rel = release(run, "reloader");
        assert.equal(rel.inputs.namespace, workloads(stack));
        const values = rel.inputs.values as { reloader: Record<string, unknown> };
        assert.equal(values.reloader.watchGlobally, false);
        assert.equal(values.reloader.ignoreConfigMaps, true);
        assert.equal(values.reloader.ignoreSecrets, undefined, "Secrets are watched (the chart's default)");
        assert.equal(values.reloader.reloadOnCreate, false);
        // The migration Secret feeds a Job, not a Deployment: nothing for Reloader to restart.
        for (const es of resourcesOfType(run, ES).filter((e) => esName(e) !== MIGRATIONS.secretName)) {
          const target = (es.inputs.spec as { target: { template: { metadata?: { annotations?: Record<string, string> } } } }).target;
          assert.deepEqual(target.template.metadata?.annotations, { "reloader.stakater.com/match": "true" }, es.name);
        }
      });

      it("writes the audit log where the chart mounts the audit volume (HA: the operator's bootstrap enables it), or to the pod's log (dev)", async () => {
        const run = await stackRun(stack);
        const server = (
          release(run, "vault").inputs.values as { server: { dev: { enabled: boolean }; auditStorage: { enabled: boolean; mountPath?: string } } }
        ).server;
        if (stack === "development") {
          const audit = findResource(run, "vault:index/audit:Audit", "vault-config-audit");
          assert.equal(server.dev.enabled, true);
          assert.equal(server.auditStorage.enabled, false);
          assert.equal((audit.inputs.options as { file_path: string }).file_path, "stdout");
          return;
        }
        assert.deepEqual(resourcesOfType(run, "vault:index/audit:Audit"), [], "the deployer manages no audit device");
        const file = bootstrapOptions(validatedConfig(stack).config).auditDevices.find((a) => a.path === "file");
        const filePath = String(file?.filePath);
        const chartDefaults = yaml.load(fs.readFileSync(path.join(ROOT, "test/upstream/vault-helm/values.yaml"), "utf8")) as {
          server: { auditStorage: { mountPath: string } };
        };
        const mountPath = server.auditStorage.mountPath ?? chartDefaults.server.auditStorage.mountPath;
        assert.equal(server.auditStorage.enabled, true);
        assert.ok(filePath.startsWith(`${mountPath}/`), `${filePath} is not on the audit volume (${mountPath})`);
      });

      it("uses dev Vault's built-in secret/ KV in development, and mounts KV v2 itself elsewhere", async () => {
        const run = await stackRun(stack);
        const kvMount = run.resources.find((r) => r.type === "vault:index/mount:Mount" && r.name === "vault-config-kv-mount");
        const kv = findResource(run, "vault:kv/secretV2:SecretV2", "vault-config-secrets");
        assert.equal(kv.inputs.mount, "secret");
        if (stack === "development") {
          assert.equal(kvMount, undefined, "mounting secret/ again on a dev server fails");
        } else {
          assert.ok(kvMount);
          assert.deepEqual([kvMount.inputs.path, kvMount.inputs.type, kvMount.inputs.options], ["secret", "kv", { version: "2" }]);
          assert.ok(kv.dependencies.includes(kvMount.urn));
        }
      });
    });
  }

  it("takes the refresh interval from the stack's config, not a constant", async () => {
    const run = await runProgram({ stack: "staging", overrides: { "veza-secrets:eso": { refreshInterval: "37m" } } });
    // Every ExternalSecret but the database logins (lease-driven) and the migration Secret.
    const kvOnly = resourcesOfType(run, ES).filter((es) => !readsGenerator(es) && esName(es) !== MIGRATIONS.secretName);
    const intervals = kvOnly.map((es) => (es.inputs.spec as { refreshInterval: string }).refreshInterval);
    assert.ok(intervals.length > 0);
    assert.deepEqual(
      intervals,
      intervals.map(() => "37m"),
    );
  });
});
