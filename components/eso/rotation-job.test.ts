import * as assert from "node:assert/strict";
import { BareResource, findResource, resourcesOfType, runProgram, type ProgramRun } from "../../harness";
import { evalCel } from "../../test/cel/eval";
import { KUBECTL_IMAGE, RotationJob, forceSyncOnlyValidations, rotationRules } from "./rotation-job";

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
  beforeEach(async () => {
    run = await runProgram({ stack: "test", config: CONFIG, program: () => new RotationJob("rotation", ARGS) });
  });

  it("narrows its patch to the force-sync annotation with an admission policy on its own identity, in its namespace (issue 29 #9)", () => {
    const vap = findResource(run, "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy", "rotation-force-sync-only");
    const spec = vap.inputs.spec as { failurePolicy: string; matchConstraints: unknown; matchConditions: unknown; validations: unknown };
    assert.equal(spec.failurePolicy, "Fail");
    assert.deepEqual(spec.matchConstraints, {
      resourceRules: [{ apiGroups: ["external-secrets.io"], apiVersions: ["*"], operations: ["UPDATE"], resources: ["externalsecrets"] }],
    });
    assert.deepEqual(spec.matchConditions, [
      { name: "rotation-job-identity", expression: "request.userInfo.username == 'system:serviceaccount:veza-staging:secrets-rotation'" },
    ]);
    assert.deepEqual(spec.validations, forceSyncOnlyValidations());
    const binding = findResource(run, "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding", "rotation-force-sync-only");
    assert.deepEqual(binding.inputs.spec, {
      policyName: "veza-secrets-rotation-force-sync-only-veza-staging",
      validationActions: ["Deny"],
      matchResources: { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "veza-staging" } } },
    });
  });

  it("admits a change of force-sync alone and refuses any other change (cel-go)", () => {
    const es = (over: { spec?: unknown; labels?: Record<string, string>; annotations?: Record<string, string>; finalizers?: string[] } = {}) => ({
      apiVersion: "external-secrets.io/v1",
      kind: "ExternalSecret",
      metadata: {
        name: "veza-secrets",
        ...(over.labels ? { labels: over.labels } : {}),
        ...(over.annotations ? { annotations: over.annotations } : {}),
        ...(over.finalizers ? { finalizers: over.finalizers } : {}),
      },
      spec: over.spec ?? { refreshInterval: "1h", data: [{ secretKey: "a", remoteRef: { key: "veza/staging", property: "a" } }] },
    });
    const base = { labels: { team: "x" }, annotations: { note: "n", "force-sync": "old" } };
    const cases: [string, unknown, unknown, boolean][] = [
      ["force-sync set again", es(base), es({ ...base, annotations: { note: "n", "force-sync": "new" } }), true],
      ["force-sync set the first time", es({ labels: base.labels }), es({ labels: base.labels, annotations: { "force-sync": "new" } }), true],
      [
        "the spec pointed at another path",
        es(base),
        es({ ...base, spec: { refreshInterval: "1h", data: [{ secretKey: "a", remoteRef: { key: "veza/production", property: "a" } }] } }),
        false,
      ],
      ["a label changed", es(base), es({ ...base, labels: { team: "y" } }), false],
      ["a label added where there were none", es({ annotations: base.annotations }), es({ ...base }), false],
      ["another annotation changed", es(base), es({ ...base, annotations: { note: "m", "force-sync": "old" } }), false],
      ["another annotation added", es(base), es({ ...base, annotations: { ...base.annotations, extra: "1" } }), false],
      ["another annotation removed", es(base), es({ ...base, annotations: { "force-sync": "new" } }), false],
      ["a finalizer added", es(base), es({ ...base, finalizers: ["x"] }), false],
    ];
    const v = forceSyncOnlyValidations().map((x) => x.expression);
    const results = evalCel(
      v,
      cases.map(([, oldObject, object]) => ({ object, oldObject, request: { userInfo: { username: "system:serviceaccount:veza-staging:secrets-rotation" } } })),
    );
    assert.deepEqual(
      results.map((r, i) => [cases[i][0], r.every((x) => x === true)]),
      cases.map(([label, , , ok]) => [label, ok]),
    );
    for (const r of results) for (const x of r) assert.equal(typeof x, "boolean", String(x));
  });

  it("lets its ServiceAccount get and patch only the named ExternalSecrets: no Deployments, nothing cluster-wide", () => {
    const role = findResource(run, "kubernetes:rbac.authorization.k8s.io/v1:Role", "rotation");
    assert.deepEqual(role.inputs.rules, [
      {
        apiGroups: ["external-secrets.io"],
        resources: ["externalsecrets"],
        resourceNames: ["veza-secrets", "veza-backend-api-secrets"],
        verbs: ["get", "patch"],
      },
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
    const spec = cron.inputs.spec as {
      schedule: string;
      concurrencyPolicy: string;
      jobTemplate: { spec: { template: { spec: { serviceAccountName: string; initContainers?: Container[]; containers: Container[] } } } };
    };
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
      assert.match(c.image, /:v\d+\.\d+\.\d+@sha256:[0-9a-f]{64}$/);
      assert.deepEqual(c.securityContext, {
        runAsNonRoot: true,
        runAsUser: 65532,
        runAsGroup: 65532,
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ["ALL"] },
        seccompProfile: { type: "RuntimeDefault" },
      });
    }
    assert.ok(cron.dependencies.includes(findResource(run, "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", "rotation").urn));
  });

  it("runs a bounded, non-overlapping Job with a tmp emptyDir, in the pod security restricted profile", () => {
    const cron = findResource(run, "kubernetes:batch/v1:CronJob", "rotation");
    const labels = { "app.kubernetes.io/name": "secrets-rotation", "app.kubernetes.io/part-of": "veza", "app.kubernetes.io/managed-by": "pulumi" };
    const securityContext = {
      runAsNonRoot: true,
      runAsUser: 65532,
      runAsGroup: 65532,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
      seccompProfile: { type: "RuntimeDefault" },
    };
    const container = (name: string, args: string[]) => ({
      name,
      image: KUBECTL_IMAGE,
      args,
      env: [
        { name: "HOME", value: "/tmp" },
        { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
      ],
      volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
      securityContext,
      resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { cpu: "200m", memory: "128Mi" } },
    });
    assert.deepEqual(cron.inputs, {
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: { name: "secrets-rotation", namespace: "veza-staging", labels },
      spec: {
        schedule: "0 3 * * *",
        concurrencyPolicy: "Forbid",
        successfulJobsHistoryLimit: 3,
        failedJobsHistoryLimit: 3,
        jobTemplate: {
          spec: {
            backoffLimit: 2,
            activeDeadlineSeconds: 600,
            ttlSecondsAfterFinished: 86400,
            template: {
              metadata: { labels },
              spec: {
                serviceAccountName: "secrets-rotation",
                restartPolicy: "Never",
                securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
                volumes: [{ name: "tmp", emptyDir: { sizeLimit: "16Mi" } }],
                containers: [
                  container("force-sync", [
                    "annotate",
                    "--overwrite",
                    "-n",
                    "veza-staging",
                    "externalsecret/veza-secrets",
                    "externalsecret/veza-backend-api-secrets",
                    "force-sync=$(POD_NAME)",
                  ]),
                ],
              },
            },
          },
        },
      },
    });
    for (const type of [
      "kubernetes:core/v1:ServiceAccount",
      "kubernetes:rbac.authorization.k8s.io/v1:Role",
      "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
    ]) {
      assert.deepEqual(findResource(run, type, "rotation").inputs.metadata, { name: "secrets-rotation", namespace: "veza-staging", labels }, type);
    }
    const component = findResource(run, "veza:eso:RotationJob", "rotation");
    for (const r of run.resources.filter((x) => x.custom)) assert.equal(r.parent, component.urn, r.name);
    assert.deepEqual(run.componentOutputs.get(component.urn), { cronJobName: "secrets-rotation" });
  });

  it("waits for what the caller names (the ESO release), takes a job name, labels and a pinned image", async () => {
    const r = await runProgram({
      stack: "test",
      config: CONFIG,
      program: () => {
        const eso = new BareResource("eso");
        new RotationJob("rot", { ...ARGS, jobName: "nightly", image: "mirror.example:5000/kubectl:v1.34.0", labels: { team: "platform" }, dependsOn: [eso] });
      },
    });
    const cron = findResource(r, "kubernetes:batch/v1:CronJob", "rot");
    assert.ok(cron.dependencies.includes(findResource(r, "test:index:Bare", "eso").urn), "the CronJob waits for the ESO release");
    assert.equal((cron.inputs.metadata as { name: string }).name, "nightly");
    assert.equal((cron.inputs.metadata as { labels: Record<string, string> }).labels.team, "platform");
    const pod = (cron.inputs.spec as { jobTemplate: { spec: { template: { spec: { serviceAccountName: string; containers: Container[] } } } } }).jobTemplate
      .spec.template.spec;
    assert.deepEqual([pod.serviceAccountName, pod.containers[0].image], ["nightly", "mirror.example:5000/kubectl:v1.34.0"]);
    assert.deepEqual(findResource(r, "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", "rot").inputs.roleRef, {
      apiGroup: "rbac.authorization.k8s.io",
      kind: "Role",
      name: "nightly",
    });
    assert.equal(resourcesOfType(r, "kubernetes:core/v1:ServiceAccount").length, 1);
  });

  for (const [field, value, message] of [
    [
      "schedule",
      "0 3 * *",
      '[schedule] must be a cron schedule a Kubernetes CronJob accepts, such as "0 3 * * *"; has 4 fields; a schedule has five: minute hour day-of-month month day-of-week; got "0 3 * *".',
    ],
    [
      "schedule",
      "0 0 3 * * *",
      '[schedule] must be a cron schedule a Kubernetes CronJob accepts, such as "0 3 * * *"; has 6 fields; a schedule has five: minute hour day-of-month month day-of-week (no seconds); got "0 0 3 * * *".',
    ],
    // Five fields, but not a time: the parser's reason, naming the field.
    [
      "schedule",
      "0 25 * * 0",
      '[schedule] must be a cron schedule a Kubernetes CronJob accepts, such as "0 3 * * *"; hour "25": Constraint error, got value 25 expected range 0-23; got "0 25 * * 0".',
    ],
    [
      "schedule",
      "every sunday at 4 am",
      '[schedule] must be a cron schedule a Kubernetes CronJob accepts, such as "0 3 * * *"; minute "every": Invalid characters, got value: every; got "every sunday at 4 am".',
    ],
    // kube-apiserver refuses a time zone prefix in a CronJob's schedule (the timeZone field sets it).
    [
      "schedule",
      "CRON_TZ=Europe/Paris 0 3 * * *",
      '[schedule] must be a cron schedule a Kubernetes CronJob accepts, such as "0 3 * * *"; a time zone prefix (TZ=, CRON_TZ=) is refused in a CronJob\'s schedule; got "CRON_TZ=Europe/Paris 0 3 * * *".',
    ],
    ["image", "mirror.example:5000/kubectl", '[image] must be pinned to a version tag; got "mirror.example:5000/kubectl".'],
    ["image", "mirror.example/kubectl:v1.34.0 ", '[image] must be pinned to a version tag; got "mirror.example/kubectl:v1.34.0 ".'],
    ["externalSecrets", [], "[externalSecrets] must name at least one ExternalSecret to sync."],
  ] as const) {
    it(`refuses ${field} ${JSON.stringify(value)}`, async () => {
      await assert.rejects(
        runProgram({ stack: "test", config: CONFIG, program: () => new RotationJob("r", { ...ARGS, [field]: value }) }),
        (e: Error) => e.message === message,
      );
    });
  }

  for (const [field, value, message] of [
    ["schedule", "daily", '[schedule] must be a cron schedule a Kubernetes CronJob accepts, such as "0 3 * * *"; has 1 field;'],
    ["image", "registry.k8s.io/kubectl:latest", '[image] must be pinned to a version tag; got "registry.k8s.io/kubectl:latest".'],
    ["image", "registry.k8s.io/kubectl", '[image] must be pinned to a version tag; got "registry.k8s.io/kubectl".'],
  ] as const) {
    it(`refuses ${field} ${value}`, async () => {
      await assert.rejects(runProgram({ stack: "test", config: CONFIG, program: () => new RotationJob("r", { ...ARGS, [field]: value }) }), (e: Error) =>
        e.message.includes(message),
      );
    });
  }

  for (const [field, value] of [
    ["schedule", "30 2 * * 1-5"],
    ["schedule", "0  3 * *  *"],
    // robfig/cron's descriptors, which kube-apiserver accepts (cron.ParseStandard).
    ["schedule", "@daily"],
    ["schedule", "@weekly"],
    ["schedule", "*/15 9-17 * JAN-MAR MON-FRI"],
    ["image", "mirror.example/kubectl:latest-1.34.0"],
  ] as const) {
    it(`accepts ${field} ${JSON.stringify(value)}`, async () => {
      const r = await runProgram({ stack: "test", config: CONFIG, program: () => new RotationJob("r", { ...ARGS, [field]: value }) });
      assert.equal(resourcesOfType(r, "kubernetes:batch/v1:CronJob").length, 1);
    });
  }
});
