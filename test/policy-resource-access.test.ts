/**
 * The policy pack's resource policies on access (policy/): Kubernetes RBAC on Secrets and
 * escalation, Vault policies, Azure role scopes; each against one violating and one compliant
 * resource, with the exact message, and how a policy defers on values unknown at preview.
 */
import * as assert from "node:assert/strict";
import * as P from "../policy/policies";
import { type FakeResource, UNKNOWN_STRING, validateResource } from "./policy-args";
import { messages } from "./policy-fixtures";

describe("policy pack: resource policies (one violating, one compliant each)", () => {
  it("secrets-rbac-least-privilege", async () => {
    const role = (type: string, rules: object[]): FakeResource => ({
      type: `kubernetes:rbac.authorization.k8s.io/v1:${type}`,
      name: "r",
      props: { metadata: { name: "reader" }, rules },
    });
    const rw = [{ apiGroups: [""], resources: ["secrets"], verbs: ["get", "list", "watch", "update"] }];
    assert.deepEqual(await messages(P.secretsRbacLeastPrivilege, role("Role", rw)), [
      'Role "reader" rules[0] grants watch, update on secrets: only get and list are allowed (ESO writes the Secrets, workloads only read them).',
    ]);
    assert.deepEqual(await messages(P.secretsRbacLeastPrivilege, role("ClusterRole", [{ apiGroups: ["*"], resources: ["*"], verbs: ["get"] }])), [
      'ClusterRole "reader" rules[0] grants get on secrets cluster-wide: grant get/list on the named Secrets with a namespaced Role instead.',
    ]);
    assert.deepEqual(
      await messages(P.secretsRbacLeastPrivilege, {
        type: "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
        name: "b",
        props: { metadata: { name: "ops" }, roleRef: { kind: "ClusterRole", name: "edit" } },
      }),
      ['RoleBinding "ops" binds ClusterRole "edit", which reads and writes every Secret: bind a Role granting get/list on the named Secrets instead.'],
    );
    assert.deepEqual(
      await messages(
        P.secretsRbacLeastPrivilege,
        role("Role", [{ apiGroups: [""], resources: ["secrets"], resourceNames: ["veza-secrets"], verbs: ["get", "list"] }]),
      ),
      [],
    );
    assert.deepEqual(await messages(P.secretsRbacLeastPrivilege, role("ClusterRole", [{ apiGroups: ["apps"], resources: ["deployments"], verbs: ["*"] }])), []);
  });

  it("rbac-no-escalation", async () => {
    const role = (kind: string, rules: object[]): FakeResource => ({
      type: `kubernetes:rbac.authorization.k8s.io/v1:${kind}`,
      name: "r",
      props: { metadata: { name: "ops" }, rules },
    });
    assert.deepEqual(
      await messages(
        P.rbacNoEscalation,
        role("Role", [
          { apiGroups: ["rbac.authorization.k8s.io"], resources: ["roles"], verbs: ["escalate", "bind"] },
          { apiGroups: [""], resources: ["users"], verbs: ["impersonate"] },
          { apiGroups: ["apps"], resources: ["deployments"], resourceNames: ["veza-backend-api"], verbs: ["get", "patch"] },
          { apiGroups: [""], resources: ["pods/exec"], verbs: ["create"] },
          { apiGroups: [""], resources: ["serviceaccounts/token"], verbs: ["create"] },
        ]),
      ),
      [
        'Role "ops" rules[0] grants "escalate" (its holder can grant or assume rights it does not have).',
        'Role "ops" rules[0] grants "bind" (its holder can grant or assume rights it does not have).',
        'Role "ops" rules[1] grants "impersonate" (its holder can grant or assume rights it does not have).',
        'Role "ops" rules[2] grants patch on deployments (its holder can change what runs, and as which ServiceAccount).',
        'Role "ops" rules[3] grants create on pods/exec (a shell in, or traffic to, running pods and their tokens).',
        'Role "ops" rules[4] grants create on serviceaccounts/token for every ServiceAccount (it can mint a token for any identity): name them in resourceNames.',
      ],
    );
    // A wildcard grants all of it.
    // escalate, bind, impersonate; writes on core, apps and batch workloads; pods/exec etc.; every token.
    assert.equal((await messages(P.rbacNoEscalation, role("ClusterRole", [{ apiGroups: ["*"], resources: ["*"], verbs: ["*"] }]))).length, 8);
    // Compliant: reading named Secrets, ESO's token grant on named store accounts.
    assert.deepEqual(
      await messages(
        P.rbacNoEscalation,
        role("Role", [
          { apiGroups: [""], resources: ["secrets"], resourceNames: ["veza-secrets"], verbs: ["get", "list"] },
          { apiGroups: [""], resources: ["serviceaccounts/token"], resourceNames: ["eso-vault-store"], verbs: ["create"] },
          { apiGroups: ["apps"], resources: ["deployments"], verbs: ["get", "list", "watch"] },
        ]),
      ),
      [],
    );
  });

  it("vault-policy-read-only", async () => {
    const policy = (name: string, document: string): FakeResource => ({ type: "vault:index/policy:Policy", name: "p", props: { name, policy: document } });
    const hcl = (rules: [string, string[]][]) =>
      rules.map(([p, c]) => `path "${p}" {\n  capabilities = [${c.map((x) => `"${x}"`).join(", ")}]\n}\n`).join("\n");
    const suffix = "The program's own policy is written by the bootstrap, never by the program.";
    assert.deepEqual(
      await messages(
        P.vaultPolicyReadOnly,
        policy(
          "veza-production-read",
          hcl([
            ["sys/policies/acl/veza-production-read", ["update"]],
            ["sys/audit/*", ["delete", "sudo"]],
            ["secret/data/veza/production", ["read", "update"]],
            ["database/roles/veza-role", ["create"]],
            ["secret/metadata/veza/production", ["read", "subscribe"]],
          ]),
        ),
      ),
      [
        `Vault policy "veza-production-read" grants "update" on "sys/policies/acl/veza-production-read", which covers its own policy: a holder can rewrite it to grant itself everything (a self-promotion to root). ${suffix}`,
        `Vault policy "veza-production-read" grants "delete", "sudo" on "sys/audit/*": a holder can disable or redirect the audit devices and act unlogged. ${suffix}`,
        `Vault policy "veza-production-read" grants "update" on "secret/data/veza/production": it writes secret data (KV), where applications and ESO only read. ${suffix}`,
        `Vault policy "veza-production-read" grants "create" on "database/roles/veza-role": applications and ESO may only read their own paths. ${suffix}`,
        `Vault policy "veza-production-read" grants "subscribe" on "secret/metadata/veza/production". ${suffix}`,
      ],
    );
    // A glob over the policies covers its own name too.
    assert.match(
      (await messages(P.vaultPolicyReadOnly, policy("veza-production-read", hcl([["sys/policies/acl/*", ["create", "update"]]]))))[0],
      /covers its own policy/,
    );
    assert.deepEqual(
      await messages(
        P.vaultPolicyReadOnly,
        policy(
          "veza-production-read",
          hcl([
            ["secret/data/veza/production", ["read"]],
            ["secret/metadata/veza/production", ["read", "list"]],
          ]),
        ),
      ),
      [],
    );
  });

  it("secrets-rbac-resource-names (advisory)", async () => {
    const role = (rule: object): FakeResource => ({
      type: "kubernetes:rbac.authorization.k8s.io/v1:Role",
      name: "r",
      props: { metadata: { name: "reader" }, rules: [rule] },
    });
    assert.equal(P.secretsRbacResourceNames.enforcementLevel, "advisory");
    assert.deepEqual(await messages(P.secretsRbacResourceNames, role({ apiGroups: [""], resources: ["secrets"], verbs: ["get", "list"] })), [
      'Role "reader" rules[0] grants get, list on every Secret of its namespace: list the Secrets it needs in resourceNames.',
    ]);
    assert.deepEqual(
      await messages(P.secretsRbacResourceNames, role({ apiGroups: [""], resources: ["secrets"], resourceNames: ["veza-secrets"], verbs: ["get"] })),
      [],
    );
  });

  it("azure-role-assignment-scope", async () => {
    const ra = (scope: string): FakeResource => ({
      type: "azure-native:authorization:RoleAssignment",
      name: "kv-eso-secrets-user",
      props: { scope, principalId: "p" },
    });
    const rg = "/subscriptions/0000/resourceGroups/veza";
    assert.deepEqual(await messages(P.azureRoleAssignmentScope, ra(rg)), [
      `Role assignment "kv-eso-secrets-user" is scoped to "${rg}": scope it to the Key Vault (or one secret), never a subscription or resource group.`,
    ]);
    assert.deepEqual(await messages(P.azureRoleAssignmentScope, ra(`${rg}/providers/Microsoft.KeyVault/vaults/veza-production-kv`)), []);
  });

  it("reports definite violations, then defers to the framework for values unknown at preview", async () => {
    // The framework wraps props so that reading an unknown throws UnknownValueError; a policy
    // reports what it can prove and then lets the first unknown it needed escape.
    const out = await validateResource(P.secretsRbacLeastPrivilege, {
      type: "kubernetes:rbac.authorization.k8s.io/v1:Role",
      name: "r",
      props: {
        metadata: { name: "reader" },
        rules: [
          { apiGroups: [""], resources: ["secrets"], verbs: ["delete"] },
          { apiGroups: [""], resources: [UNKNOWN_STRING], verbs: ["*"] },
        ],
      },
    });
    assert.deepEqual(out.messages, [
      'Role "reader" rules[0] grants delete on secrets: only get and list are allowed (ESO writes the Secrets, workloads only read them).',
    ]);
    assert.equal(out.cannotRunInPreview, "string value at .rules.1.resources.0 can't be known during preview");
  });
});
