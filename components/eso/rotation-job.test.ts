import * as assert from "node:assert/strict";
import { findResource, runProgram, type ProgramRun } from "../../scripts/harness";
import { KUBECTL_IMAGE, RotationJob, rotationRules } from "./rotation-job";

const CONFIG = { "veza-secrets:environment": "development", "veza-secrets:providers": ["vault"] };
const ARGS = {
  namespace: "veza-staging",
  schedule: "0 3 * * *",
  externalSecrets: ["veza-secrets", "veza-backend-api-secrets"],
};

interface Container {
  name: string;
  image: string;
  args: string[];
  securityContext: Record<string, unknown>;
}

describe("components/eso/rotation-job", () => {
  let run: ProgramRun;
  before(async () => {
    run = await runProgram({ stack: "test", config: CONFIG, program: () => new RotationJob("rotation", ARGS) });
  });

  it("lets its ServiceAccount get and patch only the named ExternalSecrets: no Deployments, nothing cluster-wide", () => {
    const role = findResource(run, "kubernetes:rbac.authorization.k8s.io/v1:Role", "rotation");
    assert.deepEqual(role.inputs.rules, [
      { apiGroups: ["external-secrets.io"], resources: ["externalsecrets"], resourceNames: ["veza-secrets", "veza-backend-api-secrets"], verbs: ["get", "patch"] },
    ]);
    assert.deepEqual(role.inputs.rules, rotationRules(ARGS));
    const binding = findResource(run, "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", "rotation");
    assert.deepEqual(binding.inputs.subjects, [{ kind: "ServiceAccount", name: "secrets-rotation", namespace: "veza-staging" }]);
    assert.deepEqual(binding.inputs.roleRef, { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "secrets-rotation" });
    // Nothing cluster-wide.
    assert.equal(run.resources.filter((r) => /ClusterRole/.test(r.type)).length, 0);
  });

  it("only force-syncs (Reloader restarts pods once ESO has written), with a pinned non-root read-only image", () => {
    const cron = findResource(run, "kubernetes:batch/v1:CronJob", "rotation");
    const spec = cron.inputs.spec as { schedule: string; concurrencyPolicy: string; jobTemplate: { spec: { template: { spec: { serviceAccountName: string; initContainers?: Container[]; containers: Container[] } } } } };
    assert.equal((cron.inputs.metadata as { name: string }).name, "secrets-rotation");
    assert.equal(spec.schedule, "0 3 * * *");
    assert.equal(spec.concurrencyPolicy, "Forbid");
    const pod = spec.jobTemplate.spec.template.spec;
    assert.equal(pod.serviceAccountName, "secrets-rotation");
    assert.equal(pod.initContainers, undefined);
    assert.deepEqual(
      pod.containers.map((c) => c.args),
      [["annotate", "--overwrite", "-n", "veza-staging", "externalsecret/veza-secrets", "externalsecret/veza-backend-api-secrets", "force-sync=$(POD_NAME)"]],
    );
    for (const c of pod.containers) {
      assert.equal(c.image, KUBECTL_IMAGE);
      assert.match(c.image, /:v\d+\.\d+\.\d+$/);
      assert.deepEqual(c.securityContext, {
        runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, seccompProfile: { type: "RuntimeDefault" },
      });
    }
    assert.ok(cron.dependencies.includes(findResource(run, "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", "rotation").urn));
  });

  for (const [field, value, message] of [
    ["schedule", "daily", '[schedule] must be a five-field cron schedule such as "0 3 * * *"; got "daily".'],
    ["image", "registry.k8s.io/kubectl:latest", '[image] must be pinned to a version tag; got "registry.k8s.io/kubectl:latest".'],
    ["image", "registry.k8s.io/kubectl", '[image] must be pinned to a version tag; got "registry.k8s.io/kubectl".'],
  ] as const) {
    it(`refuses ${field} ${value}`, async () => {
      await assert.rejects(runProgram({ stack: "test", config: CONFIG, program: () => new RotationJob("r", { ...ARGS, [field]: value }) }), (e: Error) => e.message.includes(message));
    });
  }
});
