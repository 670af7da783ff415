/**
 * The CronJobTemplateGuard: its exact objects, and its CEL rule evaluated by cel-go (test/cel)
 * with the CronJob as `params`. `npm run e2e:raft` applies it to a real API server, where the
 * Job controller's and `kubectl create job --from`'s Jobs must pass and a Job of one's own must not.
 */
import * as assert from "node:assert/strict";
import { findResource, runProgram, unwrapSecrets } from "../../harness";
import { evalCel } from "../../test/cel/eval";
import { CronJobTemplateGuard, type CronJobTemplateGuardArgs, templateValidation } from "./cron-job-template-guard";

const VAP = "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy";
const BINDING = "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding";

function run(args: CronJobTemplateGuardArgs) {
  return runProgram({
    stack: "test",
    config: { "veza-secrets:environment": "development", "veza-secrets:providers": ["vault"] },
    program: () => {
      new CronJobTemplateGuard("guard", args);
    },
  });
}

const RULE = {
  expression:
    "!has(object.spec.template.spec.serviceAccountName) || object.spec.template.spec.serviceAccountName != 'vault-raft-snapshots' || object.spec.template.spec == params.spec.jobTemplate.spec.template.spec",
  message:
    "a Job running as vault-raft-snapshots must carry the pod template of CronJob vault-raft-snapshots: create it from the CronJob (kubectl create job --from=cronjob/vault-raft-snapshots vault-raft-snapshots-manual-$(date +%s)).",
};

describe("components/cluster/cron-job-template-guard", () => {
  it("registers a policy with the CronJob as parameter, on Job creation, and a binding that denies when the CronJob is missing", async () => {
    const r = await run({
      namespace: "vault-system",
      cronJobName: "vault-raft-snapshots",
      serviceAccountName: "vault-raft-snapshots",
      labels: { "veza.io/environment": "staging" },
    });
    const labels = { "app.kubernetes.io/part-of": "veza", "app.kubernetes.io/managed-by": "pulumi", "veza.io/environment": "staging" };
    const name = "veza-cronjob-template-guard-vault-system-vault-raft-snapshots";
    assert.deepEqual(unwrapSecrets(findResource(r, VAP, "guard").inputs), {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingAdmissionPolicy",
      metadata: { name, labels },
      spec: {
        failurePolicy: "Fail",
        paramKind: { apiVersion: "batch/v1", kind: "CronJob" },
        matchConstraints: { resourceRules: [{ apiGroups: ["batch"], apiVersions: ["v1"], operations: ["CREATE"], resources: ["jobs"] }] },
        validations: [RULE],
      },
    });
    assert.deepEqual(unwrapSecrets(findResource(r, BINDING, "guard").inputs), {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingAdmissionPolicyBinding",
      metadata: { name, labels },
      spec: {
        policyName: name,
        paramRef: { name: "vault-raft-snapshots", namespace: "vault-system", parameterNotFoundAction: "Deny" },
        validationActions: ["Deny"],
        matchResources: { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "vault-system" } } },
      },
    });
    const component = findResource(r, "veza:cluster:CronJobTemplateGuard", "guard");
    assert.deepEqual(r.componentOutputs.get(component.urn), { policyName: name });
    for (const x of r.resources.filter((y) => y.custom)) assert.equal(x.parent, component.urn);
  });

  it("admits a Job as the account only with the CronJob's pod template; other accounts' Jobs are not its business (cel-go)", () => {
    const podSpec = (serviceAccountName: string | undefined, command: string[]) => ({
      ...(serviceAccountName ? { serviceAccountName } : {}),
      restartPolicy: "Never",
      containers: [{ name: "snapshot", image: "hashicorp/vault@sha256:1", command }],
    });
    const cron = { spec: { jobTemplate: { spec: { template: { spec: podSpec("vault-raft-snapshots", ["/bin/sh", "-c", "save"]) } } } } };
    const job = (spec: unknown) => ({ spec: { template: { spec } } });
    const cases: [string, unknown, boolean][] = [
      ["the CronJob's own template (the Job controller, kubectl create job --from)", job(podSpec("vault-raft-snapshots", ["/bin/sh", "-c", "save"])), true],
      ["the account with another command", job(podSpec("vault-raft-snapshots", ["/bin/sh", "-c", "cat /var/run/secrets/vault/token"])), false],
      [
        "the account with an extra container",
        job({ ...podSpec("vault-raft-snapshots", ["/bin/sh", "-c", "save"]), initContainers: [{ name: "x", image: "busybox" }] }),
        false,
      ],
      ["another account, any template", job(podSpec("vault", ["/bin/sh", "-c", "anything"])), true],
      ["no account (default), any template", job(podSpec(undefined, ["/bin/sh"])), true],
    ];
    const results = evalCel(
      [RULE.expression],
      cases.map(([, object]) => ({ object, params: cron, request: {} })),
    );
    assert.deepEqual(
      results.map((x, i) => [cases[i][0], x[0]]),
      cases.map(([label, , expected]) => [label, expected]),
    );
  });

  it("refuses names that could break out of the CEL string", async () => {
    assert.deepEqual(templateValidation("vault-raft-snapshots", "vault-raft-snapshots"), RULE);
    assert.throws(() => templateValidation("x' || true || '", "sa"), /must be DNS names/);
    await assert.rejects(run({ namespace: "vault-system", cronJobName: "ok", serviceAccountName: "Bad*" }), {
      message: '[cronJobName] CronJob and ServiceAccount names must be DNS names (no quotes, no "*"); got "Bad*".',
    });
  });
});
