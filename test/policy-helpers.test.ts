/**
 * The policy pack's pure helpers (policy/secret-patterns.ts, policy/vault-acl.ts and those of
 * policy/policies.ts) as tables: secret names and values, Vault ACLs, IAM documents, images.
 */
import * as assert from "node:assert/strict";
import * as P from "../policy/policies";
import { isSecretEnvName, isSecretKeyName, secretAssignments, secretValueShape } from "../policy/secret-patterns";
import { aclRuleProblems, parseVaultPolicy } from "../policy/vault-acl";

describe("policy pack: helpers", () => {
  it("tells secret key names from references to secrets", () => {
    const table: [string, boolean][] = [
      ["password", true],
      ["devRootToken", true],
      ["STRIPE_API_KEY", true],
      ["smtp-password", true],
      ["client_secret", true],
      ["privateKey", true],
      ["secret_key", true],
      ["jwt-secret", true],
      ["secretName", false],
      ["tlsSecretName", false],
      ["existingSecret", false],
      ["tokenPath", false],
      ["kms_key_id", false],
      ["processClusterExternalSecret", true],
      ["monkey", false],
      ["passthrough", false],
      ["tls_key_file", false],
    ];
    assert.deepEqual(
      table.map(([k]) => [k, isSecretKeyName(k)]),
      table,
    );
  });

  it("flags env names with PASSWORD, SECRET, TOKEN or KEY unless they name a reference", () => {
    const table: [string, boolean][] = [
      ["DB_PASSWORD", true],
      ["JWT_SECRET", true],
      ["GITHUB_TOKEN", true],
      ["STRIPE_API_KEY", true],
      ["ENCRYPTION_KEY", true],
      ["SECRET_NAME", false],
      ["KEY_FILE", false],
      ["AWS_ACCESS_KEY_ID", false],
      ["HOME", false],
      ["POD_NAME", false],
    ];
    assert.deepEqual(
      table.map(([k]) => [k, isSecretEnvName(k)]),
      table,
    );
  });

  it("recognises secret-shaped values and secret assignments in config text", () => {
    assert.equal(secretValueShape("-----BEGIN RSA PRIVATE KEY-----\nabc"), "a PEM private key");
    assert.equal(secretValueShape("postgresql://veza:hunter2@db:5432/veza"), "a URL with a password in it");
    assert.equal(secretValueShape("AKIAIOSFODNN7EXAMPLE"), "an AWS access key id");
    assert.equal(secretValueShape("sk_live_4eC39HqLyjWDarjtT1zdp7dc"), "a Stripe secret key");
    assert.equal(secretValueShape("-----BEGIN CERTIFICATE-----\nabc"), undefined);
    assert.equal(secretValueShape("https://vault.veza.internal:8200"), undefined);
    assert.equal(secretValueShape("rediss://:hunter2@redis.example:6380/0"), "a URL with a password in it");
    assert.equal(secretValueShape("https://user@example.com/path"), undefined);
    assert.deepEqual(secretAssignments('seal "transit" {\n  address = "https://v:8200"\n  token = "s.abc"\n}\n# password = "x"\n'), ["token"]);
    assert.deepEqual(secretAssignments('seal "awskms" {\n  region = "eu-west-1"\n  kms_key_id = "alias/x"\n}'), []);
    assert.deepEqual(secretAssignments("password: ${DB_PASSWORD}\napi_key: ''\n"), []);
  });

  it("parses Vault policies (HCL path blocks with comments and parameters; the JSON form refused)", () => {
    const hcl = `# ESO reads the environment's KV secret
path "secret/data/veza/production" {
  capabilities = ["read"] # only read
}
/* metadata */
path "secret/metadata/veza/production/*" { capabilities = ["read", "list"] }
path "database/static-creds/veza-app" {
  capabilities = ["read"]
  allowed_parameters = { "ttl" = [] }
}`;
    assert.deepEqual(parseVaultPolicy(hcl), [
      { path: "secret/data/veza/production", capabilities: ["read"] },
      { path: "secret/metadata/veza/production/*", capabilities: ["read", "list"] },
      { path: "database/static-creds/veza-app", capabilities: ["read"] },
    ]);
    assert.throws(
      () => parseVaultPolicy('{"path": {"secret/data/veza/staging": {"capabilities": ["read"]}}}'),
      /^Error: is JSON, which Vault reads with HCL1's JSON rules \(a second "path" key adds rules\)$/,
    );
    assert.throws(
      () => parseVaultPolicy("allow everything"),
      /^Error: has "allow" where a path block should start \(only path blocks are read\) \(line 1, column 1\)$/,
    );
    assert.throws(() => parseVaultPolicy("# nothing\n"), /^Error: has no path rules$/);
  });

  it("judges Vault ACL rules against the environment", () => {
    const judge = (p: string, caps: string[] = ["read"]) => aclRuleProblems({ path: p, capabilities: caps }, "production");
    assert.deepEqual(judge("secret/data/veza/production"), []);
    assert.deepEqual(judge("secret/data/veza/production/*"), []);
    assert.deepEqual(judge("database/static-creds/veza-app"), []);
    assert.deepEqual(judge("secret/data/veza/staging"), ['grants "secret/data/veza/staging", a path of the staging environment']);
    assert.deepEqual(judge("secret/data/veza/*"), ['grants "secret/data/veza/*", a wildcard over every environment\'s veza/ secrets']);
    assert.deepEqual(judge("*"), ['grants "*", a wildcard outside veza/production/']);
    assert.deepEqual(judge("secret/+/veza/production"), ['grants "secret/+/veza/production", a wildcard outside veza/production/']);
    assert.deepEqual(judge("sys/mounts", ["read", "sudo"]), ['grants "sudo" on "sys/mounts"']);
    assert.deepEqual(judge("secret/data/veza/staging", ["deny"]), []);
  });

  it("judges IAM documents and image references", () => {
    const doc = (statement: object) => JSON.stringify({ Version: "2012-10-17", Statement: [statement] });
    const scoped = {
      Sid: "Read",
      Effect: "Allow",
      Action: ["secretsmanager:GetSecretValue"],
      Resource: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:veza/production/*",
    };
    assert.deepEqual(P.iamDocumentProblems(doc(scoped), "production"), []);
    assert.deepEqual(P.iamDocumentProblems(doc(scoped), "staging"), [
      'statement "Read" grants secretsmanager:GetSecretValue on "arn:aws:secretsmanager:eu-west-1:123456789012:secret:veza/production/*": scope it to arn:aws:secretsmanager:<region>:<account>:secret:veza/staging/*',
    ]);
    assert.deepEqual(P.iamDocumentProblems(doc({ Effect: "Allow", Action: "*", Resource: "*" }), "production"), [
      'statement 0 allows "*": list the read actions ESO needs',
      'statement 0 grants * on "*": scope it to arn:aws:secretsmanager:<region>:<account>:secret:veza/production/*',
    ]);
    assert.deepEqual(P.iamDocumentProblems(doc({ Effect: "Allow", Action: "kms:Decrypt", Resource: "*" }), undefined), [
      'statement 0 grants kms:Decrypt on every KMS key ("*"): name the key',
    ]);
    assert.deepEqual(P.iamDocumentProblems("{", "production"), ["is not valid JSON"]);

    assert.equal(P.imagePinProblem("registry.k8s.io/kubectl:v1.34.0"), undefined);
    assert.equal(P.imagePinProblem("localhost:5000/kubectl"), "has no tag");
    assert.equal(P.imagePinProblem("bitnami/kubectl:latest"), 'uses the "latest" tag');
    assert.equal(P.imagePinProblem("bitnami/kubectl@sha256:abc"), undefined);
    assert.deepEqual(P.sealTypes('storage "raft" {}\nseal "awskms" {\n  region = "x"\n}\n'), ["awskms"]);
    assert.deepEqual(P.sealTypes('#seal "gcpckms" {\nseal "shamir" {}'), []);
  });
});
