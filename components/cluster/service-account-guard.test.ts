/**
 * The ServiceAccountGuard: its exact objects, and its CEL rules evaluated by cel-go (the CEL
 * implementation the API server uses) through test/cel, a Go helper built on first use, against
 * pods as the API server sees them after its ServiceAccount admission plugin.
 */
import * as assert from "node:assert/strict";
import { findResource, runProgram, unwrapSecrets, type ProgramRun } from "../../harness";
import { evalCel as evalCelWith } from "../../test/cel/eval";
import {
  JOB_CONTROLLER_USERS,
  ServiceAccountGuard,
  type ServiceAccountGuardArgs,
  guardValidations,
  guardVariables,
  tokenValidations,
} from "./service-account-guard";

const VAP = "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy";
const BINDING = "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding";

function run(args: ServiceAccountGuardArgs): Promise<ProgramRun> {
  return runProgram({
    stack: "test",
    config: { "veza-secrets:environment": "development", "veza-secrets:providers": ["vault"] },
    program: () => {
      new ServiceAccountGuard("guard", args);
    },
  });
}

/** cel-go with the guard's variables (none given: the guard's defaults). */
function evalCel(expressions: string[], cases: { object: unknown; request: unknown }[], variables = guardVariables()): unknown[][] {
  return evalCelWith(expressions, cases, variables);
}

const pod = (serviceAccountName?: string) => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "p" },
  spec: serviceAccountName ? { serviceAccountName, containers: [] } : { containers: [] },
});
/** A request as the API server gives it to CEL: no `subResource` key at all when there is none. */
const user = (username: string, subResource = "") =>
  subResource ? { operation: "UPDATE", userInfo: { username }, subResource } : { operation: "CREATE", userInfo: { username } };

const SA_NAME = "variables.serviceAccount";
const IDENTITY_RULE = (list: string, names: string) => ({
  expression: `!(${SA_NAME} in ${list})`,
  message: `pods may not run as a SecretStore's ServiceAccount (${names}): it is the identity the secret backends trust; External Secrets Operator mints its tokens itself.`,
});
const JOB_RULE = (list: string, names: string) => ({
  expression: `!(${SA_NAME} in ${list}) || (request.operation == 'CREATE' && request.userInfo.username in ['system:serviceaccount:kube-system:job-controller', 'system:kube-controller-manager'])`,
  message: `only the Job controller may create pods as ${names} (a CronJob's account); create a Job from the CronJob instead (kubectl create job --from=cronjob/<CRONJOB> <NEW-JOB-NAME>).`,
});

describe("components/cluster/service-account-guard", () => {
  it("registers a policy and its binding, scoped to the namespace, denying on failure", async () => {
    const r = await run({ namespace: "veza-staging", identityServiceAccounts: ["eso-vault-store"], jobServiceAccounts: ["secrets-rotation"] });
    const vap = unwrapSecrets(findResource(r, VAP, "guard").inputs) as Record<string, unknown>;
    const labels = { "app.kubernetes.io/part-of": "veza", "app.kubernetes.io/managed-by": "pulumi" };
    assert.deepEqual(vap, {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingAdmissionPolicy",
      metadata: { name: "veza-service-account-guard-veza-staging", labels },
      spec: {
        failurePolicy: "Fail",
        matchConstraints: {
          resourceRules: [
            { apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["pods"] },
            { apiGroups: [""], apiVersions: ["v1"], operations: ["UPDATE"], resources: ["pods/ephemeralcontainers"] },
          ],
        },
        variables: [
          { name: "serviceAccount", expression: "(has(object.spec.serviceAccountName) ? object.spec.serviceAccountName : 'default')" },
          { name: "secretOwners", expression: "{}" },
        ],
        validations: [IDENTITY_RULE("['eso-vault-store']", "eso-vault-store"), JOB_RULE("['secrets-rotation']", "secrets-rotation")],
      },
    });
    assert.deepEqual(unwrapSecrets(findResource(r, BINDING, "guard").inputs), {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingAdmissionPolicyBinding",
      metadata: { name: "veza-service-account-guard-veza-staging", labels },
      spec: {
        policyName: "veza-service-account-guard-veza-staging",
        validationActions: ["Deny"],
        matchResources: { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "veza-staging" } } },
      },
    });
  });

  it("refuses pods as a store's account, and as the rotation account unless the Job controller creates them (cel-go)", () => {
    const v = guardValidations(["eso-vault-store", "eso-aws-store"], ["secrets-rotation"]);
    assert.equal(v.length, 2);
    const cases: [string, ReturnType<typeof pod>, string, [boolean, boolean]][] = [
      ["a service's own account", pod("veza-backend-api"), "alice", [true, true]],
      ["the default account", pod(), "alice", [true, true]],
      ["the Vault store's account", pod("eso-vault-store"), "alice", [false, true]],
      ["the AWS store's account, even from the Job controller", pod("eso-aws-store"), JOB_CONTROLLER_USERS[0], [false, true]],
      ["the rotation account, by a person", pod("secrets-rotation"), "alice", [true, false]],
      ["the rotation account, by the Job controller", pod("secrets-rotation"), JOB_CONTROLLER_USERS[0], [true, true]],
      ["the rotation account, by the controller manager's own identity", pod("secrets-rotation"), JOB_CONTROLLER_USERS[1], [true, true]],
      ["the rotation account, by another controller", pod("secrets-rotation"), "system:serviceaccount:kube-system:replicaset-controller", [true, false]],
      [
        "the rotation account's pod, debugged (an ephemeral container), even by the Job controller's name",
        pod("secrets-rotation"),
        `${JOB_CONTROLLER_USERS[0]}/ephemeralcontainers`,
        [true, false],
      ],
    ];
    const results = evalCel(
      v.map((x) => x.expression),
      cases.map(([, object, username]) => {
        const [name, sub] = username.split("/");
        return { object, request: user(name, sub ?? "") };
      }),
    );
    assert.deepEqual(
      results.map((r, i) => [cases[i][0], r]),
      cases.map(([label, , , expected]) => [label, expected]),
    );
  });

  it("reads no request key the API server may leave out: the earlier `request.subResource == ''` was an error on the Job controller's own pods (npm run e2e:raft)", () => {
    const earlier =
      "!(variables.serviceAccount in ['secrets-rotation']) || (request.subResource == '' && request.userInfo.username in ['system:kube-controller-manager'])";
    const [[before]] = evalCel([earlier], [{ object: pod("secrets-rotation"), request: user(JOB_CONTROLLER_USERS[1]) }]);
    assert.match(String(before), /^error: no such key: subResource/);
    const [[now]] = evalCel(
      [guardValidations([], ["secrets-rotation"])[0].expression],
      [{ object: pod("secrets-rotation"), request: user(JOB_CONTROLLER_USERS[1]) }],
    );
    assert.equal(now, true);
  });

  it("emits only the rules it has names for: no empty identity rule, no empty job rule", () => {
    assert.deepEqual(guardValidations(["eso-vault-store", "eso-aws-store"], []), [
      IDENTITY_RULE("['eso-vault-store', 'eso-aws-store']", "eso-vault-store, eso-aws-store"),
    ]);
    assert.deepEqual(guardValidations([], ["secrets-rotation", "other-job"]), [JOB_RULE("['secrets-rotation', 'other-job']", "secrets-rotation, other-job")]);
  });

  it("guards a job-only or identity-only list, with the caller's labels, and exports the policy name", async () => {
    const jobOnly = await run({
      namespace: "veza-production",
      identityServiceAccounts: [],
      jobServiceAccounts: ["secrets-rotation"],
      labels: { "veza.io/environment": "production" },
    });
    const labels = { "app.kubernetes.io/part-of": "veza", "app.kubernetes.io/managed-by": "pulumi", "veza.io/environment": "production" };
    const vap = unwrapSecrets(findResource(jobOnly, VAP, "guard").inputs) as { metadata: unknown; spec: { validations: unknown } };
    assert.deepEqual(vap.metadata, { name: "veza-service-account-guard-veza-production", labels });
    assert.deepEqual(vap.spec.validations, [JOB_RULE("['secrets-rotation']", "secrets-rotation")]);
    assert.deepEqual((unwrapSecrets(findResource(jobOnly, BINDING, "guard").inputs) as { metadata: unknown }).metadata, {
      name: "veza-service-account-guard-veza-production",
      labels,
    });
    const component = findResource(jobOnly, "veza:cluster:ServiceAccountGuard", "guard");
    assert.deepEqual(jobOnly.componentOutputs.get(component.urn), {
      policyName: "veza-service-account-guard-veza-production",
      tokenPolicyName: "veza-job-token-guard-veza-production",
    });
    for (const r of jobOnly.resources.filter((x) => x.custom)) assert.equal(r.parent, component.urn);

    const identityOnly = await run({ namespace: "veza-production", identityServiceAccounts: ["eso-vault-store"] });
    assert.deepEqual((unwrapSecrets(findResource(identityOnly, VAP, "guard").inputs) as { spec: { validations: unknown } }).spec.validations, [
      IDENTITY_RULE("['eso-vault-store']", "eso-vault-store"),
    ]);
    // No Job-only account: no token policy.
    assert.deepEqual(
      identityOnly.resources.filter((x) => x.custom).map((x) => `${x.type} ${x.name}`),
      [`${VAP} guard`, `${BINDING} guard`],
    );
  });

  it("lets only a kubelet request a token of a Job-only account: a second policy on serviceaccounts/token, scoped to the namespace", async () => {
    const r = await run({ namespace: "vault-system", identityServiceAccounts: [], jobServiceAccounts: ["vault-raft-snapshots"] });
    const labels = { "app.kubernetes.io/part-of": "veza", "app.kubernetes.io/managed-by": "pulumi" };
    const rule = {
      expression: "!(request.name in ['vault-raft-snapshots']) || request.userInfo.username.startsWith('system:node:')",
      message:
        "only a kubelet may request a token of vault-raft-snapshots (a CronJob's account; its pods get theirs projected); run the CronJob instead of kubectl create token.",
    };
    assert.deepEqual(unwrapSecrets(findResource(r, VAP, "guard-tokens").inputs), {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingAdmissionPolicy",
      metadata: { name: "veza-job-token-guard-vault-system", labels },
      spec: {
        failurePolicy: "Fail",
        matchConstraints: { resourceRules: [{ apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["serviceaccounts/token"] }] },
        validations: [rule],
      },
    });
    assert.deepEqual(unwrapSecrets(findResource(r, BINDING, "guard-tokens").inputs), {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingAdmissionPolicyBinding",
      metadata: { name: "veza-job-token-guard-vault-system", labels },
      spec: {
        policyName: "veza-job-token-guard-vault-system",
        validationActions: ["Deny"],
        matchResources: { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "vault-system" } } },
      },
    });
    assert.deepEqual(tokenValidations(["vault-raft-snapshots"]), [rule]);

    const tokenRequest = { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: { audiences: ["vault"] } };
    const cases: [string, string, string, boolean][] = [
      ["the snapshot account's token, by a kubelet", "vault-raft-snapshots", "system:node:ip-10-0-1-17.eu-west-1.compute.internal", true],
      ["the snapshot account's token, by a person (kubectl create token)", "vault-raft-snapshots", "alice", false],
      ["the snapshot account's token, by the Job controller", "vault-raft-snapshots", JOB_CONTROLLER_USERS[0], false],
      ["the snapshot account's token, by a user named like a node without the colon", "vault-raft-snapshots", "system:nodes", false],
      ["another account's token, by a person (ESO minting a store token)", "vault", "alice", true],
    ];
    const results = evalCel(
      [rule.expression],
      cases.map(([, name, username]) => ({ object: tokenRequest, request: { operation: "CREATE", name, userInfo: { username }, subResource: "token" } })),
      [],
    );
    assert.deepEqual(
      results.map((x, i) => [cases[i][0], x[0]]),
      cases.map(([label, , , expected]) => [label, expected]),
    );
    assert.throws(() => tokenValidations(["x', 'y"]), /must be DNS names/);
  });

  it("lets a pod reference a service's Secret only as that service's account, through every kind of reference (issue 29 #8, cel-go)", () => {
    const owners = { "veza-backend-api-secrets": ["veza-backend-api"], "veza-migrations-secrets": ["veza-migrations"] };
    const v = guardValidations([], [], owners);
    assert.equal(v.length, 2);
    const withSpec = (sa: string | undefined, spec: Record<string, unknown>) => ({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "p" },
      spec: { ...(sa ? { serviceAccountName: sa } : {}), containers: [{ name: "app" }], ...spec },
    });
    const secretVolume = (secretName: string) => ({ volumes: [{ name: "s", secret: { secretName } }] });
    const projected = (name: string) => ({ volumes: [{ name: "s", projected: { sources: [{ serviceAccountToken: { path: "t" } }, { secret: { name } }] } }] });
    const envRef = (name: string) => ({
      containers: [
        {
          name: "app",
          env: [
            { name: "A", value: "x" },
            { name: "B", valueFrom: { secretKeyRef: { name, key: "k" } } },
          ],
        },
      ],
    });
    const envFrom = (name: string) => ({ containers: [{ name: "app", envFrom: [{ configMapRef: { name: "cm" } }, { secretRef: { name } }] }] });
    const init = (name: string) => ({ initContainers: [{ name: "init", envFrom: [{ secretRef: { name } }] }] });
    const ephemeral = (name: string) => ({ ephemeralContainers: [{ name: "debug", env: [{ name: "B", valueFrom: { secretKeyRef: { name, key: "k" } } }] }] });
    const own = "veza-backend-api-secrets";
    const cases: [string, ReturnType<typeof withSpec>, [boolean, boolean]][] = [
      ["its own Secret as a volume", withSpec("veza-backend-api", secretVolume(own)), [true, true]],
      ["another service's Secret as a volume", withSpec("veza-chat-server", secretVolume(own)), [false, true]],
      ["the migrations Secret, projected, as a service", withSpec("veza-backend-api", projected("veza-migrations-secrets")), [false, true]],
      ["the migrations Secret, projected, as the migration Job", withSpec("veza-migrations", projected("veza-migrations-secrets")), [true, true]],
      ["a service's Secret by env secretKeyRef, as the default account", withSpec(undefined, envRef(own)), [true, false]],
      ["its own Secret by env secretKeyRef", withSpec("veza-backend-api", envRef(own)), [true, true]],
      ["another's Secret by envFrom", withSpec("veza-stream-server", envFrom(own)), [true, false]],
      ["another's Secret from an init container", withSpec("veza-stream-server", init(own)), [true, false]],
      ["another's Secret from an ephemeral container (kubectl debug)", withSpec("veza-stream-server", ephemeral(own)), [true, false]],
      ["a Secret nobody owns (left to RBAC), every way", withSpec("anyone", { ...secretVolume("tls"), ...envFrom("tls") }), [true, true]],
      ["no volumes, no env", withSpec("anyone", {}), [true, true]],
    ];
    const results = evalCel(
      v.map((x) => x.expression),
      cases.map(([, object]) => ({ object, request: user("alice") })),
      guardVariables(owners),
    );
    assert.deepEqual(
      results.map((r, i) => [cases[i][0], r]),
      cases.map(([label, , expected]) => [label, expected]),
    );
    assert.deepEqual(guardVariables(owners)[1], {
      name: "secretOwners",
      expression: "{'veza-backend-api-secrets': ['veza-backend-api'], 'veza-migrations-secrets': ['veza-migrations']}",
    });
    assert.throws(() => guardValidations([], [], { "a'b": ["x"] }), /must be DNS names/);
    assert.throws(() => guardValidations([], [], { ok: ["x', 'y"] }), /must be DNS names/);
  });

  it("would catch a broken expression (the evaluator really compiles)", () => {
    assert.throws(() => evalCel(["object.spec.serviceAccountName in ["], [{ object: pod(), request: user("a") }]), /Command failed/);
  });

  it("rejects names that could break out of the CEL string, and an empty guard, with exact messages", async () => {
    assert.throws(() => guardValidations(["eso-vault-store', 'x"], []), {
      message: `ServiceAccount and Secret names must be DNS names (no quotes, no "*"); got "eso-vault-store', 'x".`,
    });
    await assert.rejects(run({ namespace: "veza-staging", identityServiceAccounts: [] }), {
      message: "[identityServiceAccounts] is empty and so are [jobServiceAccounts] and [secretOwners]: name what to guard, or do not create the guard.",
    });
    await assert.rejects(run({ namespace: "veza-staging", identityServiceAccounts: [], jobServiceAccounts: [] }), {
      message: "[identityServiceAccounts] is empty and so are [jobServiceAccounts] and [secretOwners]: name what to guard, or do not create the guard.",
    });
    await assert.rejects(run({ namespace: "veza-staging", identityServiceAccounts: ["eso-vault-store"], jobServiceAccounts: ["Bad*"] }), {
      message: '[identityServiceAccounts] ServiceAccount and Secret names must be DNS names (no quotes, no "*"); got "Bad*".',
    });
    assert.deepEqual(guardValidations(["eso-vault-store"], ["secrets-rotation"]).length, 2);
  });
});
