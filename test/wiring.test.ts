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
import { ROOT, findResource, resourcesOfType, runProgram, stackConfig, STACKS, type ProgramRun } from "../scripts/harness";
import { defaultsFor } from "../stacks/defaults";
import { readableSecrets } from "./rbac";

const RELEASE = "kubernetes:helm.sh/v3:Release";
const ES = "kubernetes:external-secrets.io/v1:ExternalSecret";
const release = (run: ProgramRun, chart: string) => {
  const r = resourcesOfType(run, RELEASE).find((x) => x.inputs.chart === chart);
  assert.ok(r, `no ${chart} release`);
  return r;
};
const workloads = (stack: string) => `veza-${stack}`;

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
        const readable = readableSecrets(run, workloads(stack));
        for (const sa of resourcesOfType(run, "kubernetes:core/v1:ServiceAccount").filter((s) => s.name.startsWith("service-access-"))) {
          assert.equal(sa.inputs.automountServiceAccountToken, false, sa.name);
        }
        assert.deepEqual(
          Object.fromEntries(Object.entries(readable).filter(([name]) => !name.startsWith("eso-"))),
          expected,
        );
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
        for (const r of run.resources.filter((x) => x.type.startsWith("vault:"))) {
          assert.ok(r.provider.startsWith(`${provider.urn}::`), `${r.name} uses the stack's Vault provider`);
          assert.equal(r.parent, config.urn);
        }
      });

      it("refreshes every ExternalSecret at the stack's interval (stack file, else the environment default)", async () => {
        const run = await stackRun(stack);
        const fromFile = (stackConfig(stack)["veza-secrets:eso"] as { refreshInterval?: string } | undefined)?.refreshInterval;
        const expected = fromFile ?? defaultsFor(stack).refreshInterval;
        const ess = resourcesOfType(run, ES);
        assert.equal(ess.length, serviceSecrets(CATALOG).length);
        for (const es of ess) assert.equal((es.inputs.spec as { refreshInterval: string }).refreshInterval, expected, es.name);
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
        for (const es of resourcesOfType(run, ES)) {
          const target = (es.inputs.spec as { target: { template: { metadata?: { annotations?: Record<string, string> } } } }).target;
          assert.deepEqual(target.template.metadata?.annotations, { "reloader.stakater.com/match": "true" }, es.name);
        }
      });

      it("writes the audit log where the chart mounts the audit volume (HA), or to the pod's log (dev)", async () => {
        const run = await stackRun(stack);
        const audit = findResource(run, "vault:index/audit:Audit", "vault-config-audit");
        const server = (release(run, "vault").inputs.values as { server: { dev: { enabled: boolean }; auditStorage: { enabled: boolean; mountPath?: string } } }).server;
        const filePath = (audit.inputs.options as { file_path: string }).file_path;
        if (stack === "development") {
          assert.equal(server.dev.enabled, true);
          assert.equal(server.auditStorage.enabled, false);
          assert.equal(filePath, "stdout");
          return;
        }
        const chartDefaults = yaml.load(fs.readFileSync(path.join(ROOT, "test/upstream/vault-helm/values.yaml"), "utf8")) as { server: { auditStorage: { mountPath: string } } };
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
    const intervals = resourcesOfType(run, ES).map((es) => (es.inputs.spec as { refreshInterval: string }).refreshInterval);
    assert.deepEqual(intervals, intervals.map(() => "37m"));
    assert.equal(intervals.length, serviceSecrets(CATALOG).length);
  });
});
