import * as assert from "node:assert/strict";
import { findResource, runProgram, tryRunProgram } from "../../harness";
import { TokenReviewAccess, tokenReviewAccessErrors } from "./token-review-access";

const config = { "veza-secrets:environment": "staging", "veza-secrets:providers": ["vault"] };

describe("components/cluster/token-review-access", () => {
  it("binds system:auth-delegator, and nothing else, to exactly the given ServiceAccounts", async () => {
    const run = await runProgram({
      stack: "test",
      config,
      program: () =>
        new TokenReviewAccess("review", {
          bindingName: "veza-staging-vault-token-review",
          serviceAccounts: [
            { namespace: "veza-staging", name: "eso-vault-store" },
            { namespace: "veza-staging", name: "eso-db-backend-api" },
          ],
          labels: { "veza.io/environment": "staging" },
        }),
    });
    const binding = findResource(run, "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding", "review");
    assert.deepEqual(binding.inputs, {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: "veza-staging-vault-token-review", labels: { "app.kubernetes.io/managed-by": "pulumi", "veza.io/environment": "staging" } },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "system:auth-delegator" },
      subjects: [
        { kind: "ServiceAccount", name: "eso-vault-store", namespace: "veza-staging" },
        { kind: "ServiceAccount", name: "eso-db-backend-api", namespace: "veza-staging" },
      ],
    });
    assert.equal(binding.parent, findResource(run, "veza:cluster:TokenReviewAccess", "review").urn);
    assert.equal(run.resources.filter((r) => r.custom).length, 1);
  });

  it("refuses no account, a glob or a bad binding name, naming each", async () => {
    assert.deepEqual(tokenReviewAccessErrors({ bindingName: "Bad_Name", serviceAccounts: [] }), [
      '[bindingName] must be a DNS subdomain; got "Bad_Name".',
      "[serviceAccounts] must name at least one ServiceAccount.",
    ]);
    assert.deepEqual(tokenReviewAccessErrors({ bindingName: "ok", serviceAccounts: [{ namespace: "n", name: "*" }] }), [
      '[serviceAccounts] must list ServiceAccount names (no "*"); got "*".',
    ]);
    const { error } = await tryRunProgram({ stack: "test", config, program: () => new TokenReviewAccess("r", { bindingName: "ok", serviceAccounts: [] }) });
    assert.match(String(error?.message), /\[serviceAccounts\] must name at least one ServiceAccount\./);
  });
});
