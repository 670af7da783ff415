import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import {
  fakeSecrets,
  findResource,
  isSecret,
  plaintextOccurrences,
  resourcesOfType,
  runProgram,
  tryRunProgram,
  unwrapSecrets,
  type ProgramRun,
} from "../../harness";
import { SPEC_CATALOG } from "../../test/catalog-fixture";
import { AwsSecrets, type AwsSecretsArgs, kmsAliasName, readPolicy, trustPolicy } from "./aws-secrets";

const CONFIG = { "veza-secrets:environment": "development", "veza-secrets:providers": ["vault"] };
const T = {
  component: "veza:secrets:AwsSecrets",
  key: "aws:kms/key:Key",
  alias: "aws:kms/alias:Alias",
  secret: "aws:secretsmanager/secret:Secret",
  version: "aws:secretsmanager/secretVersion:SecretVersion",
  role: "aws:iam/role:Role",
  policy: "aws:iam/rolePolicy:RolePolicy",
};
const ISSUER = "oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE";
const ACCOUNT = "123456789012";
/** Recognisable values, searched for below to prove they never leave a secret wrapper. */
const VALUES = Object.values(fakeSecrets()).slice(0, 3);
const SLICE = SPEC_CATALOG.slice(0, 3); // database-url, redis-url, jwt-secret

function args(namePrefix: string, extra: Partial<AwsSecretsArgs> = {}): AwsSecretsArgs {
  return {
    namePrefix,
    secrets: SLICE.map((s, i) => ({ key: s.key, description: s.description, value: pulumi.secret(VALUES[i]) })),
    recoveryWindowDays: 14,
    tags: { "veza.io/environment": "production", team: "platform" },
    region: "eu-west-1",
    accountId: ACCOUNT,
    oidcIssuer: ISSUER,
    serviceAccount: { namespace: "veza-production", name: "eso-aws-store" },
    ...extra,
  };
}

const json = (r: { inputs: Record<string, unknown> }, field: string) => JSON.parse(String(unwrapSecrets(r.inputs[field])));

describe("components/backends/aws-secrets", () => {
  let run: ProgramRun;
  beforeEach(async () => {
    run = await runProgram({ stack: "test", config: CONFIG, program: () => new AwsSecrets("aws", args("veza/production/", { protect: true })) });
  });

  it("registers exactly one key, alias, role and policy, and a secret and version per key", () => {
    // Registration order follows output resolution: compare sorted.
    const names = (type: string) =>
      resourcesOfType(run, type)
        .map((r) => r.name)
        .sort();
    assert.deepEqual(names(T.key), ["aws-key"]);
    assert.deepEqual(names(T.alias), ["aws-key"]);
    assert.deepEqual(names(T.secret), ["aws-database-url", "aws-jwt-secret", "aws-redis-url"]);
    assert.deepEqual(names(T.version), ["aws-database-url", "aws-jwt-secret", "aws-redis-url"]);
    assert.deepEqual(names(T.role), ["aws-eso"]);
    assert.deepEqual(names(T.policy), ["aws-eso-read"]);
    assert.equal(run.resources.filter((r) => r.custom).length, 10);
  });

  it("names each secret prefix + key, encrypted with the key, with the recovery window, description and tags", () => {
    const secrets = SLICE.map((s) => findResource(run, T.secret, `aws-${s.key}`));
    assert.deepEqual(
      secrets.map((r) => r.inputs.name),
      ["veza/production/database-url", "veza/production/redis-url", "veza/production/jwt-secret"],
    );
    assert.equal(resourcesOfType(run, T.secret).length, 3);
    const keyArn = String(findResource(run, T.key, "aws-key").outputs?.arn);
    // The mocks build the key's ARN from the region and account the program passes.
    assert.match(keyArn, new RegExp(`^arn:aws:kms:eu-west-1:${ACCOUNT}:key/[0-9a-f-]{36}$`));
    for (const [i, r] of secrets.entries()) {
      assert.deepEqual(unwrapSecrets(r.inputs), {
        name: `veza/production/${SLICE[i].key}`,
        description: SLICE[i].description,
        kmsKeyId: keyArn,
        recoveryWindowInDays: 14,
        region: "eu-west-1",
        tags: { "veza.io/environment": "production", team: "platform" },
      });
    }
    const outputs = run.componentOutputs.get(findResource(run, T.component, "aws").urn) ?? {};
    assert.deepEqual(outputs, {
      roleArn: `arn:aws:iam::${ACCOUNT}:role/aws-eso`,
      kmsKeyArn: keyArn,
      secretNames: { "database-url": "veza/production/database-url", "redis-url": "veza/production/redis-url", "jwt-secret": "veza/production/jwt-secret" },
      region: "eu-west-1",
    });
  });

  it("stores every value as a secret, and nowhere else in clear text", () => {
    for (const [i, r] of SLICE.map((s) => findResource(run, T.version, `aws-${s.key}`)).entries()) {
      assert.ok(isSecret(r.inputs.secretString), r.name);
      assert.equal(unwrapSecrets(r.inputs.secretString), VALUES[i]);
      assert.equal(r.inputs.secretId, findResource(run, T.secret, `aws-${SLICE[i].key}`).id);
    }
    for (const value of VALUES) {
      for (const r of run.resources) assert.deepEqual(plaintextOccurrences(r.inputs, value), [], `${r.type} ${r.name}`);
      for (const [urn, outputs] of run.componentOutputs) assert.deepEqual(plaintextOccurrences(outputs, value), [], urn);
    }
    // Descriptions and tags hold no value even wrapped.
    for (const r of [...resourcesOfType(run, T.secret), ...resourcesOfType(run, T.key), ...resourcesOfType(run, T.role)]) {
      const text = JSON.stringify(unwrapSecrets({ d: r.inputs.description, t: r.inputs.tags }));
      for (const value of VALUES) assert.ok(!text.includes(value), r.name);
    }
  });

  it("makes a rotating customer-managed key administered by the account root, with an alias from the prefix", () => {
    const key = findResource(run, T.key, "aws-key");
    assert.equal(key.inputs.enableKeyRotation, true);
    assert.equal(key.inputs.deletionWindowInDays, 14);
    assert.equal(key.inputs.region, "eu-west-1");
    assert.deepEqual(key.inputs.tags, { "veza.io/environment": "production", team: "platform" });
    assert.deepEqual(json(key, "policy"), {
      Version: "2012-10-17",
      Statement: [{ Sid: "AccountAdministersKey", Effect: "Allow", Principal: { AWS: "arn:aws:iam::123456789012:root" }, Action: "kms:*", Resource: "*" }],
    });
    const alias = findResource(run, T.alias, "aws-key");
    assert.deepEqual(alias.inputs, { name: "alias/veza-production-secrets", targetKeyId: findResource(run, T.key, "aws-key").id, region: "eu-west-1" });
    assert.equal(kmsAliasName("veza/development/"), "alias/veza-development-secrets");
  });

  it("lets only ESO's ServiceAccount, with the STS audience, assume the role", () => {
    const expected = {
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "ExternalSecretsServiceAccount",
          Effect: "Allow",
          Principal: { Federated: `arn:aws:iam::123456789012:oidc-provider/${ISSUER}` },
          Action: "sts:AssumeRoleWithWebIdentity",
          Condition: {
            StringEquals: {
              [`${ISSUER}:sub`]: "system:serviceaccount:veza-production:eso-aws-store",
              [`${ISSUER}:aud`]: "sts.amazonaws.com",
            },
          },
        },
      ],
    };
    assert.deepEqual(trustPolicy(args("veza/production/")), expected);
    const role = findResource(run, T.role, "aws-eso");
    assert.deepEqual(json(role, "assumeRolePolicy"), expected);
    assert.deepEqual(role.inputs.tags, { "veza.io/environment": "production", team: "platform" });
  });

  it("lets the role read only its prefix and decrypt only through Secrets Manager", () => {
    const keyArn = String(findResource(run, T.key, "aws-key").outputs?.arn);
    // The mocks build the key's ARN from the region and account the program passes.
    assert.match(keyArn, new RegExp(`^arn:aws:kms:eu-west-1:${ACCOUNT}:key/[0-9a-f-]{36}$`));
    const expected = {
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "ReadSecretsUnderPrefix",
          Effect: "Allow",
          Action: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret", "secretsmanager:ListSecretVersionIds"],
          Resource: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:veza/production/*",
        },
        {
          Sid: "DecryptThroughSecretsManager",
          Effect: "Allow",
          Action: "kms:Decrypt",
          Resource: keyArn,
          Condition: { StringEquals: { "kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com" } },
        },
      ],
    };
    assert.deepEqual(readPolicy({ region: "eu-west-1", accountId: ACCOUNT, namePrefix: "veza/production/", kmsKeyArn: keyArn }), expected);
    const policy = findResource(run, T.policy, "aws-eso-read");
    assert.deepEqual(json(policy, "policy"), expected);
    assert.equal(policy.inputs.role, findResource(run, T.role, "aws-eso").id);
  });

  it("protects the key and the secrets, not the replaceable version, alias, role or policy", () => {
    const protectedNames = run.resources
      .filter((r) => r.protect)
      .map((r) => `${r.type} ${r.name}`)
      .sort();
    assert.deepEqual(protectedNames, [`${T.key} aws-key`, `${T.secret} aws-database-url`, `${T.secret} aws-jwt-secret`, `${T.secret} aws-redis-url`]);
  });

  it("protects nothing when protect is false", async () => {
    const r = await runProgram({ stack: "test", config: CONFIG, program: () => new AwsSecrets("aws", args("veza/production/", { protect: false })) });
    assert.deepEqual(
      r.resources.filter((x) => x.protect).map((x) => x.name),
      [],
    );
    const d = await runProgram({ stack: "test", config: CONFIG, program: () => new AwsSecrets("aws", args("veza/production/")) });
    assert.deepEqual(
      d.resources.filter((x) => x.protect).map((x) => x.name),
      [],
    );
  });

  it("parents every child on the component", () => {
    const urn = findResource(run, T.component, "aws").urn;
    for (const r of run.resources.filter((x) => x.custom)) assert.equal(r.parent, urn, `${r.type} ${r.name}`);
  });

  it("passes the recovery window through to the secrets and the key", async () => {
    const r = await runProgram({ stack: "test", config: CONFIG, program: () => new AwsSecrets("aws", args("veza/staging/", { recoveryWindowDays: 7 })) });
    assert.deepEqual(
      resourcesOfType(r, T.secret).map((x) => x.inputs.recoveryWindowInDays),
      [7, 7, 7],
    );
    assert.equal(findResource(r, T.secret, "aws-jwt-secret").inputs.name, "veza/staging/jwt-secret");
    assert.equal(findResource(r, T.key, "aws-key").inputs.deletionWindowInDays, 7);
  });

  describe("one environment's role never reaches another's secrets", () => {
    const PREFIXES = ["veza/development/", "veza/staging/", "veza/production/"];
    let matrix: ProgramRun;
    beforeEach(async () => {
      matrix = await runProgram({
        stack: "test",
        config: CONFIG,
        program: () =>
          PREFIXES.map((p) => new AwsSecrets(p.split("/")[1], args(p, { serviceAccount: { namespace: `veza-${p.split("/")[1]}`, name: "eso-aws-store" } }))),
      });
    });
    for (const own of PREFIXES) {
      for (const other of PREFIXES) {
        const env = own.split("/")[1];
        it(`${env}'s read policy ${own === other ? "names" : "does not name"} ${other}`, () => {
          const doc = json(findResource(matrix, T.policy, `${env}-eso-read`), "policy") as { Statement: { Resource: string }[] };
          const resources = doc.Statement.map((s) => s.Resource);
          if (own === other) {
            assert.deepEqual(resources, [
              `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${own}*`,
              findResource(matrix, T.key, `${env}-key`).outputs?.arn,
            ]);
          } else {
            assert.ok(!JSON.stringify(doc).includes(other), JSON.stringify(doc));
            assert.ok(!JSON.stringify(doc).includes(String(findResource(matrix, T.key, `${other.split("/")[1]}-key`).outputs?.arn)));
          }
        });
      }
    }
  });

  for (const [label, extra, message] of [
    [
      "a prefix without a trailing slash",
      { namePrefix: "veza/prod" },
      '[namePrefix] must be path segments of letters, digits, "_" or "-", each ending in "/", such as "veza/production/"; got "veza/prod".',
    ],
    [
      "a prefix with a wildcard",
      { namePrefix: "veza/*/" },
      '[namePrefix] must be path segments of letters, digits, "_" or "-", each ending in "/", such as "veza/production/"; got "veza/*/".',
    ],
    ["a recovery window of 0", { recoveryWindowDays: 0 }, "[recoveryWindowDays] must be a whole number of days from 7 to 30; got 0."],
    ["a recovery window of 31", { recoveryWindowDays: 31 }, "[recoveryWindowDays] must be a whole number of days from 7 to 30; got 31."],
    ["a short account id", { accountId: "1234" }, '[accountId] must be a 12-digit AWS account id; got "1234".'],
    ["a 13-digit account id", { accountId: "1234567890123" }, '[accountId] must be a 12-digit AWS account id; got "1234567890123".'],
    ["an account id with letters", { accountId: "12345678901a" }, '[accountId] must be a 12-digit AWS account id; got "12345678901a".'],
    ["a region typo", { region: "eu-west" }, '[region] must be an AWS region such as "eu-west-1"; got "eu-west".'],
    [
      "an issuer URL",
      { oidcIssuer: `https://${ISSUER}` },
      `[oidcIssuer] must be the issuer host and path without "https://" or a trailing "/", such as "oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE"; got "https://${ISSUER}".`,
    ],
    [
      "a prefix whose first segment is not letters, digits, _ or -",
      { namePrefix: "../veza/" },
      '[namePrefix] must be path segments of letters, digits, "_" or "-", each ending in "/", such as "veza/production/"; got "../veza/".',
    ],
    ["a key with a slash", { secrets: [{ key: "a/b", description: "A", value: "x" }] }, '[secrets] key "a/b" may hold only letters, digits and _+=.@-.'],
    [
      "a name over Secrets Manager's 512 characters",
      { secrets: [{ key: "k".repeat(512 - "veza/production/".length + 1), description: "A", value: "x" }] },
      `[secrets] name "veza/production/${"k".repeat(512 - "veza/production/".length + 1)}" is longer than Secrets Manager's 512 characters; shorten the prefix or key.`,
    ],
    [
      "a duplicate key",
      {
        secrets: [
          { key: "a", description: "A", value: "x" },
          { key: "a", description: "A", value: "y" },
        ],
      },
      '[secrets] key "a" appears twice; each secret needs a unique key.',
    ],
    // The trust policy's `sub` is built from it: a colon would bind another subject.
    [
      "a ServiceAccount namespace that is not a DNS label",
      { serviceAccount: { namespace: "veza:production", name: "eso-aws-store" } },
      '[serviceAccount.namespace] must be a Kubernetes namespace name (DNS label); got "veza:production".',
    ],
    [
      "a ServiceAccount name that is not a DNS subdomain",
      { serviceAccount: { namespace: "veza-production", name: "eso:aws" } },
      '[serviceAccount.name] must be a Kubernetes ServiceAccount name (DNS subdomain); got "eso:aws".',
    ],
  ] as const) {
    it(`refuses ${label}, creating nothing`, async () => {
      const { run: r, error } = await tryRunProgram({
        stack: "test",
        config: CONFIG,
        program: () => new AwsSecrets("aws", args("veza/production/", extra as Partial<AwsSecretsArgs>)),
      });
      assert.ok(error instanceof pulumi.ResourceError);
      assert.equal(error.message, message);
      assert.equal(r.resources.filter((x) => x.custom).length, 0);
    });
  }

  it("accepts the limits: a 7- and a 30-day recovery window, a name of exactly 512 characters", async () => {
    for (const extra of [
      { recoveryWindowDays: 7 },
      { recoveryWindowDays: 30 },
      { secrets: [{ key: "k".repeat(512 - "veza/production/".length), description: "A", value: "x" }] },
    ]) {
      const { error } = await tryRunProgram({ stack: "test", config: CONFIG, program: () => new AwsSecrets("aws", args("veza/production/", extra)) });
      assert.equal(error, undefined, JSON.stringify(extra));
    }
  });

  it("describes the key and the role by what they guard and who uses it", () => {
    assert.equal(findResource(run, T.key, "aws-key").inputs.description, "Encrypts the Secrets Manager secrets under veza/production/");
    assert.equal(findResource(run, T.role, "aws-eso").inputs.description, "External Secrets Operator (veza-production/eso-aws-store) reads veza/production/*");
  });
});
