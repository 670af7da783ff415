import * as assert from "node:assert/strict";
import { aclRuleProblems, parseVaultPolicy, readOnlyPolicyProblems } from "../../policy/vault-acl";
import { engineConfig, fakeSecrets, stackConfig } from "../../harness";
import { loadStackConfig } from "../../stacks/config";
import { deployerNames, deployerPolicyHcl } from "../../stacks/vault";
import { type DeployerPolicyOptions, deployerPolicyDocument, previewPolicyDocument } from "./deployer-policy";
import { policyPaths } from "./policy-hcl";

const OPTIONS: DeployerPolicyOptions = {
  kvMount: "secret",
  secretPath: "veza/production",
  kubernetesAuth: { path: "kubernetes", roles: ["eso-veza-production"] },
  jwtAuth: [{ path: "jwt-github", roles: ["pulumi-production", "pulumi-production-preview"] }],
  managedPolicies: ["veza-production-read", "veza-production-pulumi-preview"],
  auditDevices: ["file"],
  database: { mountPath: "database", connection: "veza", staticRoles: ["veza-app"], dynamicRoles: ["veza-role"] },
};
const CRUD = ["create", "read", "update", "delete"];

describe("components/vault/deployer-policy", () => {
  it("names exactly what the program manages, with no glob and no path of its own policy", () => {
    assert.deepEqual(policyPaths(deployerPolicyDocument(OPTIONS)), [
      { path: "sys/mounts/secret", capabilities: CRUD },
      { path: "secret/data/veza/production", capabilities: CRUD },
      { path: "secret/metadata/veza/production", capabilities: ["read", "delete"] },
      { path: "sys/auth", capabilities: ["read"] },
      { path: "sys/auth/kubernetes", capabilities: [...CRUD, "sudo"] },
      { path: "auth/kubernetes/config", capabilities: CRUD },
      { path: "auth/kubernetes/role/eso-veza-production", capabilities: CRUD },
      { path: "sys/auth/jwt-github", capabilities: [...CRUD, "sudo"] },
      { path: "auth/jwt-github/config", capabilities: CRUD },
      { path: "auth/jwt-github/role/pulumi-production", capabilities: CRUD },
      { path: "auth/jwt-github/role/pulumi-production-preview", capabilities: CRUD },
      { path: "sys/policies/acl/veza-production-read", capabilities: CRUD },
      { path: "sys/policies/acl/veza-production-pulumi-preview", capabilities: CRUD },
      { path: "sys/audit/file", capabilities: [...CRUD, "sudo"] },
      { path: "sys/audit", capabilities: ["read", "sudo"] },
      { path: "sys/mounts/database", capabilities: CRUD },
      { path: "database/config/veza", capabilities: CRUD },
      { path: "database/static-roles/veza-app", capabilities: CRUD },
      { path: "database/roles/veza-role", capabilities: CRUD },
    ]);
    for (const rule of parseVaultPolicy(deployerPolicyDocument(OPTIONS))) assert.ok(!rule.path.includes("*") && !rule.path.includes("+"), rule.path);
  });

  it("gives previews read on the same paths, minus secret values and what needs sudo", () => {
    const rules = policyPaths(previewPolicyDocument(OPTIONS));
    assert.ok(rules.every((r) => r.capabilities.length === 1 && r.capabilities[0] === "read"));
    assert.deepEqual(
      rules.map((r) => r.path),
      [
        "sys/mounts/secret",
        "secret/metadata/veza/production",
        "sys/auth",
        "auth/kubernetes/config",
        "auth/kubernetes/role/eso-veza-production",
        "auth/jwt-github/config",
        "auth/jwt-github/role/pulumi-production",
        "auth/jwt-github/role/pulumi-production-preview",
        "sys/policies/acl/veza-production-read",
        "sys/policies/acl/veza-production-pulumi-preview",
        "sys/mounts/database",
        "database/config/veza",
        "database/static-roles/veza-app",
        "database/roles/veza-role",
      ],
    );
    // The pack's environment rule accepts it (it is a resource the program manages).
    for (const rule of parseVaultPolicy(previewPolicyDocument(OPTIONS))) assert.deepEqual(aclRuleProblems(rule, "production"), [], rule.path);
  });

  for (const stack of ["staging", "production"]) {
    it(`${stack}: the committed stack's deployer policy never covers its own name, nor any other environment's path`, () => {
      const secrets = fakeSecrets();
      const config = loadStackConfig({ values: { ...engineConfig(stackConfig(stack)), ...secrets }, secretKeys: new Set(Object.keys(secrets)) }, stack);
      const own = deployerNames(stack).policy;
      const rules = parseVaultPolicy(deployerPolicyHcl(config));
      assert.ok(
        rules.some((r) => r.path === `sys/policies/acl/veza-${stack}-read`),
        "it manages ESO's policy",
      );
      for (const rule of rules) {
        assert.ok(!readOnlyPolicyProblems(own, rule).some((p) => p.includes("covers its own policy")), rule.path);
        assert.deepEqual(aclRuleProblems({ ...rule, capabilities: rule.capabilities.filter((c) => c !== "sudo") }, stack), [], rule.path);
      }
    });
  }

  // The bootstrap prints these documents for a person to read and write into Vault: each
  // stanza says what it is for, and stanzas are separated by one blank line.
  for (const [kind, document] of [
    ["deployer", deployerPolicyDocument],
    ["preview", previewPolicyDocument],
  ] as const) {
    it(`writes the ${kind} policy as commented stanzas, one blank line apart`, () => {
      const text = document(OPTIONS);
      const blocks = text.split("\n\n");
      assert.equal(blocks.length, policyPaths(text).length);
      for (const block of blocks) {
        assert.match(block, /^# \S.*\npath "[^"]+" \{\n {2}capabilities = \[("[a-z]+"(, )?)+\]\n\}\n?$/, block);
        assert.match(block.split("\n")[0], kind === "preview" ? /^# Read only: [A-Z].*\.$/ : /^# (?!Read only)[A-Z].*\.$/);
      }
    });
  }

  it("explains each stanza by what it is, in the reader's words", () => {
    const comments = deployerPolicyDocument(OPTIONS)
      .split("\n")
      .filter((l) => l.startsWith("# "));
    // One comment per kind of path: the two jwt roles share theirs, and so do the two policies.
    assert.equal(new Set(comments).size, policyPaths(deployerPolicyDocument(OPTIONS)).length - 2);
    assert.ok(
      previewPolicyDocument(OPTIONS)
        .split("\n")
        .filter((l) => l.startsWith("# "))
        .every((l) => l.startsWith("# Read only: ") && comments.includes(`# ${l.slice("# Read only: ".length)}`)),
    );
  });

  it("reads the audit device list only when there are audit devices, and names no database path without a database", () => {
    const paths = policyPaths(deployerPolicyDocument({ ...OPTIONS, auditDevices: [], database: undefined })).map((p) => p.path);
    assert.ok(!paths.some((p) => p.startsWith("sys/audit")), paths.join(" "));
    assert.ok(!paths.some((p) => p.startsWith("database/") || p === "sys/mounts/database"), paths.join(" "));
    // All but the audit device, the audit list and the database's mount, connection and two roles.
    assert.equal(paths.length, policyPaths(deployerPolicyDocument(OPTIONS)).length - 2 - 4);
  });
});
