/**
 * The ServiceAccountGuard: its exact objects, and its CEL rules evaluated by cel-go (the CEL
 * implementation the API server uses) through test/cel, a Go helper built on first use, against
 * pods as the API server sees them after its ServiceAccount admission plugin.
 */
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as os from "node:os";
import * as path from "node:path";
import { findResource, runProgram, unwrapSecrets, type ProgramRun } from "../../scripts/harness";
import { JOB_CONTROLLER_USERS, ServiceAccountGuard, type ServiceAccountGuardArgs, guardValidations } from "./service-account-guard";

const VAP = "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy";
const BINDING = "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding";
const CEL_DIR = path.resolve(__dirname, "..", "..", "test", "cel");

function run(args: ServiceAccountGuardArgs): Promise<ProgramRun> {
  return runProgram({
    stack: "test",
    config: { "veza-secrets:environment": "development", "veza-secrets:providers": ["vault"] },
    program: () => {
      new ServiceAccountGuard("guard", args);
    },
  });
}

let celBinary: string | undefined;
/** Evaluate `expressions` for each case with cel-go; builds test/cel once per run. */
function evalCel(expressions: string[], cases: { object: unknown; request: unknown }[]): unknown[][] {
  if (!celBinary) {
    celBinary = path.join(os.tmpdir(), `veza-cel-${process.pid}`);
    execFileSync("go", ["build", "-o", celBinary, "."], { cwd: CEL_DIR, stdio: ["ignore", "inherit", "inherit"] });
  }
  return JSON.parse(execFileSync(celBinary, { input: JSON.stringify({ expressions, cases }), encoding: "utf8" })) as unknown[][];
}

const pod = (serviceAccountName?: string) => ({ apiVersion: "v1", kind: "Pod", metadata: { name: "p" }, spec: serviceAccountName ? { serviceAccountName, containers: [] } : { containers: [] } });
const user = (username: string) => ({ userInfo: { username } });

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
        matchConstraints: { resourceRules: [{ apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["pods"] }] },
        validations: guardValidations(["eso-vault-store"], ["secrets-rotation"]),
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
    ];
    const results = evalCel(
      v.map((x) => x.expression),
      cases.map(([, object, username]) => ({ object, request: user(username) })),
    );
    assert.deepEqual(
      results.map((r, i) => [cases[i][0], r]),
      cases.map(([label, , , expected]) => [label, expected]),
    );
  });

  it("would catch a broken expression (the evaluator really compiles)", () => {
    assert.throws(() => evalCel(["object.spec.serviceAccountName in ["], [{ object: pod(), request: user("a") }]), /Command failed/);
  });

  it("rejects names that could break out of the CEL string, and an empty guard, with exact messages", async () => {
    assert.throws(() => guardValidations(["eso-vault-store', 'x"], []), { message: `ServiceAccount names must be DNS names (no quotes, no "*"); got "eso-vault-store', 'x".` });
    await assert.rejects(run({ namespace: "veza-staging", identityServiceAccounts: [] }), /\[identityServiceAccounts\] is empty and so is \[jobServiceAccounts\]/);
  });
});
