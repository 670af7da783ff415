import * as assert from "node:assert/strict";
import { aclRuleProblems, parseVaultPolicy } from "../../policy/vault-acl";
import { engineConfig, fakeSecrets, stackConfig } from "../../harness";
import { loadStackConfig } from "../../stacks/config";
import { deployerNames, deployerPolicyOptions } from "../../stacks/vault";
import { type DeployerPolicyOptions, type Stanza, deployerPolicyDocument, deployerStanzas, previewPolicyDocument, renderPolicy } from "./deployer-policy";

const OPTIONS: DeployerPolicyOptions = {
  kvMount: "secret",
  secretPath: "veza/production",
  manageKvMount: true,
  kubernetesAuth: {
    path: "kubernetes",
    config: { host: "https://kubernetes.default.svc" },
    roles: [
      {
        name: "eso-veza-production",
        serviceAccount: { namespace: "veza-production", name: "eso-vault-store" },
        policy: "veza-production-read",
        audience: "vault",
      },
    ],
  },
  managedPolicies: [{ name: "veza-production-read", document: 'path "secret/data/veza/production" {\n  capabilities = ["read"]\n}\n' }],
  database: {
    mountPath: "database",
    connection: {
      name: "veza",
      url: "postgresql://{{username}}:{{password}}@db:5432/veza?sslmode=verify-full",
      username: "vault_admin",
      allowedRoles: ["veza-app", "veza-role"],
      passwordAuthentication: "scram-sha-256",
      rootRotationStatements: ["ALTER ROLE \"{{username}}\" WITH PASSWORD '{{password}}'"],
    },
    staticRoles: [{ name: "veza-app", dbName: "veza", username: "veza_app", rotationStatements: ["ALTER ROLE x"] }],
    dynamicRoles: [
      { name: "veza-role", dbName: "veza", creationStatements: ["CREATE ROLE a", "GRANT b"], revocationStatements: ["DROP ROLE a"], renewStatements: [] },
    ],
  },
};
const CRUD = ["create", "read", "update", "delete"];
const byPath = (path: string): Stanza => {
  const s = deployerStanzas(OPTIONS).find((x) => x.path === path);
  if (!s) throw new Error(`no stanza ${path}`);
  return s;
};

describe("components/vault/deployer-policy", () => {
  it("names exactly what the program manages: no glob, no jwt login, no audit device, no policy of its own", () => {
    assert.deepEqual(
      deployerStanzas(OPTIONS).map((s) => [s.path, s.capabilities.join(",")]),
      [
        ["sys/mounts/secret", CRUD.join(",")],
        ["secret/data/veza/production", CRUD.join(",")],
        ["secret/metadata/veza/production", "read,delete"],
        ["sys/auth/kubernetes", [...CRUD, "sudo"].join(",")],
        ["sys/mounts/auth/kubernetes", "read"],
        ["sys/mounts/auth/kubernetes/tune", "read,update"],
        ["auth/kubernetes/config", CRUD.join(",")],
        ["auth/kubernetes/role/eso-veza-production", CRUD.join(",")],
        ["sys/policies/acl/veza-production-read", CRUD.join(",")],
        ["sys/mounts/database", CRUD.join(",")],
        ["database/config/veza", CRUD.join(",")],
        ["database/static-roles/veza-app", CRUD.join(",")],
        ["database/roles/veza-role", CRUD.join(",")],
      ],
    );
    for (const rule of parseVaultPolicy(deployerPolicyDocument(OPTIONS))) assert.ok(!/[*+]/.test(rule.path), rule.path);
  });

  it("pins who a role binds and the one policy it gives; the legacy policies field is denied", () => {
    const s = byPath("auth/kubernetes/role/eso-veza-production");
    assert.deepEqual(s.allowed, {
      "*": [],
      token_policies: ["veza-production-read"],
      bound_service_account_names: ["eso-vault-store"],
      bound_service_account_namespaces: ["veza-production"],
      bound_service_account_namespace_selector: [""],
      audience: ["vault"],
    });
    assert.deepEqual(s.denied, { policies: [] });
  });

  it("accepts only the exact document of each policy it writes (no other field)", () => {
    assert.deepEqual(byPath("sys/policies/acl/veza-production-read").allowed, { policy: [OPTIONS.managedPolicies[0].document] });
    assert.equal(byPath("sys/policies/acl/veza-production-read").denied, undefined);
  });

  it("pins the Kubernetes auth config's API server; denies keys, a reviewer token and, when the program sets none, a CA", () => {
    assert.deepEqual(byPath("auth/kubernetes/config").allowed, { "*": [], kubernetes_host: ["https://kubernetes.default.svc"] });
    assert.deepEqual(byPath("auth/kubernetes/config").denied, { pem_keys: [], token_reviewer_jwt: [], kubernetes_ca_cert: [] });
    const external = deployerStanzas({
      ...OPTIONS,
      kubernetesAuth: { ...OPTIONS.kubernetesAuth, config: { host: "https://203.0.113.10:6443", caCert: "PEM" } },
    }).find((x) => x.path === "auth/kubernetes/config");
    assert.deepEqual(external?.allowed, { "*": [], kubernetes_host: ["https://203.0.113.10:6443"], kubernetes_ca_cert: ["PEM"] });
    assert.deepEqual(external?.denied, { pem_keys: [], token_reviewer_jwt: [] });
  });

  it("pins the database connection and each role's SQL; a field the program leaves empty is denied, not open", () => {
    assert.deepEqual(byPath("database/config/veza").allowed, {
      "*": [],
      plugin_name: ["postgresql-database-plugin"],
      connection_url: ["postgresql://{{username}}:{{password}}@db:5432/veza?sslmode=verify-full"],
      username: ["vault_admin"],
      allowed_roles: ["veza-app,veza-role"],
      password_authentication: ["scram-sha-256"],
      root_rotation_statements: ["ALTER ROLE \"{{username}}\" WITH PASSWORD '{{password}}'"],
    });
    assert.deepEqual(byPath("database/config/veza").denied, { plugin_version: [], tls_ca: [] });
    assert.deepEqual(byPath("database/static-roles/veza-app").allowed, {
      "*": [],
      db_name: ["veza"],
      username: ["veza_app"],
      rotation_statements: ["ALTER ROLE x"],
    });
    assert.deepEqual(byPath("database/roles/veza-role").allowed, {
      "*": [],
      db_name: ["veza"],
      creation_statements: ["CREATE ROLE a", "GRANT b"],
      revocation_statements: ["DROP ROLE a"],
    });
    // renew_statements is empty: `[]` in allowed_parameters would admit any value.
    assert.deepEqual(byPath("database/roles/veza-role").denied, { rollback_statements: [], renew_statements: [] });
  });

  it("pins the mounts' types", () => {
    for (const [path, type] of [
      ["sys/mounts/secret", "kv"],
      ["sys/auth/kubernetes", "kubernetes"],
      ["sys/mounts/database", "database"],
    ])
      assert.deepEqual(byPath(path).allowed, { "*": [], type: [type] }, path);
  });

  it("leaves the KV mount and the database out when the program does not manage them", () => {
    const paths = deployerStanzas({ ...OPTIONS, manageKvMount: false, database: undefined }).map((s) => s.path);
    assert.ok(!paths.includes("sys/mounts/secret"));
    assert.ok(!paths.some((p) => p.startsWith("database/") || p === "sys/mounts/database"), paths.join(" "));
  });

  it("renders stanzas as commented HCL, parameters as JSON strings (valid HCL), one blank line apart", () => {
    const text = renderPolicy([
      { comment: "A.", path: "a/b", capabilities: ["read"] },
      { comment: "B.", path: "c", capabilities: ["create", "update"], allowed: { "*": [], policy: ['x "y"\n'] }, denied: { p: [] } },
    ]);
    assert.equal(
      text,
      '# A.\npath "a/b" {\n  capabilities = ["read"]\n}\n\n# B.\npath "c" {\n  capabilities = ["create", "update"]\n  allowed_parameters = {\n    "*" = []\n    "policy" = ["x \\"y\\"\\n"]\n  }\n  denied_parameters = {\n    "p" = []\n  }\n}\n',
    );
  });

  it("gives previews read on the same paths, without parameters, minus secret values and what needs sudo", () => {
    const rules = parseVaultPolicy(previewPolicyDocument(OPTIONS));
    assert.ok(rules.every((r) => r.capabilities.length === 1 && r.capabilities[0] === "read"));
    assert.deepEqual(
      rules.map((r) => r.path),
      deployerStanzas(OPTIONS)
        .filter((s) => s.path !== "secret/data/veza/production" && s.path !== "sys/auth/kubernetes")
        .map((s) => s.path),
    );
    assert.ok(!previewPolicyDocument(OPTIONS).includes("allowed_parameters"));
    for (const rule of rules) assert.deepEqual(aclRuleProblems(rule, "production"), [], rule.path);
  });

  for (const stack of ["staging", "production"]) {
    it(`${stack}: the committed stack's deployer policy names no path of its own identity, nor any other environment's`, () => {
      const secrets = fakeSecrets();
      const config = loadStackConfig({ values: { ...engineConfig(stackConfig(stack)), ...secrets }, secretKeys: new Set(Object.keys(secrets)) }, stack);
      const names = deployerNames(stack);
      const paths = deployerStanzas(deployerPolicyOptions(config)).map((s) => s.path);
      assert.ok(paths.includes(`sys/policies/acl/veza-${stack}-read`), "it manages ESO's policy");
      for (const p of paths) {
        assert.ok(!p.startsWith("auth/jwt") && !p.startsWith("sys/auth/jwt") && !p.startsWith("sys/audit"), p);
        assert.ok(p !== `sys/policies/acl/${names.policy}` && p !== `sys/policies/acl/${names.previewPolicy}`, p);
      }
      for (const rule of parseVaultPolicy(deployerPolicyDocument(deployerPolicyOptions(config))))
        assert.deepEqual(aclRuleProblems({ ...rule, capabilities: rule.capabilities.filter((c) => c !== "sudo") }, stack), [], rule.path);
    });
  }
});
