/**
 * How a config problem is worded and fixed (stacks/problems.ts), from zod's own issues: each
 * kind of issue as a sentence naming what was given, the keys a section allows (the chosen
 * variant of a discriminated union), obvious repairs, the providers list fix and the
 * environment a stack's name says.
 */
import * as assert from "node:assert/strict";
import { z } from "zod";
import { loadStackConfig } from "./config";
import { problemsOf, source, withoutSecrets } from "./config-fixtures";
import { Placeholder } from "./fixes";
import {
  environmentOfStack,
  exampleFor,
  fixCommand,
  knownKeys,
  placeholderMessage,
  placeholdersIn,
  providerMeant,
  providersFix,
  repairedValue,
  valueAt,
  zodMessage,
} from "./problems";

const P = "veza-secrets";

/** The first issue zod reports for `value` against `schema`, with the value as the raw config. */
function issueOf(schema: z.ZodType, value: unknown): [z.core.$ZodIssue, unknown] {
  const result = schema.safeParse(value);
  assert.ok(!result.success, `expected ${JSON.stringify(value)} to be refused`);
  return [result.error.issues[0], value];
}
const message = (schema: z.ZodType, value: unknown) => zodMessage(...issueOf(schema, value));
const at = (key: string, schema: z.ZodType) => z.strictObject({ [key]: schema });

describe("stack config problems: wording and fixes", () => {
  it("words each kind of zod issue with what was given", () => {
    assert.equal(message(at("k", z.string()), {}), "is required");
    assert.equal(message(at("k", z.string()), { k: 5 }), "must be a string; got number 5");
    assert.equal(message(at("k", z.array(z.string())), { k: "x" }), 'must be an array; got "x"');
    assert.equal(message(at("k", z.string()), { k: ["a"] }), "must be a string; got a list");
    assert.equal(message(at("k", z.string()), { k: null }), "must be a string; got null");
    assert.equal(message(at("k", z.string()), { k: { a: 1 } }), "must be a string; got an object");
    assert.equal(message(at("k", z.string()), { k: true }), "must be a string; got boolean true");
    assert.equal(message(at("k", z.enum(["dev", "ha"])), { k: "raft" }), 'must be one of "dev", "ha"; got "raft"');
    assert.equal(message(at("k", z.array(z.string()).min(1)), { k: [] }), "must list at least 1");
    assert.equal(message(at("k", z.string().min(3)), { k: "ab" }), 'must be at least 3 characters; got "ab"');
    assert.equal(message(at("k", z.number().min(1)), { k: 0 }), "must be at least 1; got number 0");
    assert.equal(message(at("k", z.string().max(2)), { k: "abc" }), 'must be at most 2 characters; got "abc"');
    assert.equal(message(at("k", z.number().max(9)), { k: 10 }), "must be at most 9; got number 10");
    assert.equal(message(z.strictObject({}), { a: 1 }), 'unknown key "a" (check the spelling against Pulumi.yaml)');
    assert.equal(message(z.strictObject({}), { a: 1, b: 2 }), 'unknown keys "a", "b" (check the spelling against Pulumi.yaml)');
    assert.equal(message(at("k", z.union([z.number(), z.boolean()])), { k: "x" }), 'is not a valid value; got "x"');
    assert.equal(message(at("k", z.string().regex(/^a$/, { message: "must be a" })), { k: "b" }), 'must be a; got "b"');
  });

  it("lists the keys a section allows, for a discriminated union the chosen variant's", () => {
    assert.deepEqual(knownKeys(["vault", "seal"], { type: "awskms" }), ["type", "region", "kmsKeyId", "roleArn"]);
    const all = knownKeys(["vault", "seal"], { type: "nope" });
    for (const k of ["type", "kmsKeyId", "keyRing", "tenantId"]) assert.ok(all.includes(k), k);
    assert.equal(all.filter((k) => k === "type").length, 1);
    assert.deepEqual(knownKeys(["vault", "seal"], undefined), all);
    assert.ok(knownKeys(["vault"], {}).includes("seal"));
    assert.deepEqual(knownKeys(["environment"], "x"), []);
    assert.deepEqual(knownKeys(["nope", "deeper"], {}), []);
    // Through a record (generatedKeys: key name → settings).
    assert.deepEqual(knownKeys(["generatedKeys", "jwt-secret"], {}), ["length", "rotationDays"]);
  });

  it("reads a value at a path, and nothing inside a value that is not an object", () => {
    assert.equal(valueAt({ a: { b: 5 } }, ["a", "b"]), 5);
    assert.equal(valueAt({ a: ["x", "y"] }, ["a", 1]), "y");
    assert.equal(valueAt({ a: "text" }, ["a", 0]), undefined);
    assert.equal(valueAt({ a: 5 }, ["a", "b"]), undefined);
    assert.equal(valueAt({ a: null }, ["a", "b"]), undefined);
    assert.equal(valueAt(undefined, ["a"]), undefined);
  });

  it("repairs a value only when the repair is one the schema accepts", () => {
    assert.equal(repairedValue(["aws", "accountId"], 123456789012), "123456789012");
    assert.equal(repairedValue(["aws", "region"], " eu-west-1 "), "eu-west-1");
    assert.equal(repairedValue(["aws", "oidcIssuer"], "oidc.eks.eu-west-1.amazonaws.com/id/X//"), "oidc.eks.eu-west-1.amazonaws.com/id/X");
    assert.equal(repairedValue(["aws", "oidcIssuer"], "https://oidc.eks.eu-west-1.amazonaws.com/id/X/"), "oidc.eks.eu-west-1.amazonaws.com/id/X");
    assert.equal(repairedValue(["aws", "oidcIssuer"], "http://oidc.eks.eu-west-1.amazonaws.com/id/X"), "oidc.eks.eu-west-1.amazonaws.com/id/X");
    assert.equal(repairedValue(["eso", "serviceMonitor"], "true"), undefined);
    assert.equal(repairedValue(["aws", "accountId"], "12345"), undefined);
    assert.equal(repairedValue(["aws", "accountId"], { a: 1 }), undefined);
    assert.equal(repairedValue(["nope"], "x"), undefined);
    assert.equal(repairedValue(["aws", "accountId"], false), undefined);
    // A boolean or number where text belongs; an object is never turned into text.
    assert.equal(repairedValue(["vault", "tlsSecretName"], true), "true");
    assert.equal(repairedValue(["database", "host"], { a: 1 }), undefined);
    // Through a list; trailing slashes, one or more, with or without a scheme to drop.
    assert.equal(repairedValue(["gcp", "replicationLocations", 0], " europe-west1 "), "europe-west1");
    assert.equal(repairedValue(["vault", "address"], "https://vault.example:8200/"), "https://vault.example:8200");
    assert.equal(repairedValue(["vault", "address"], "https://vault.example:8200//"), "https://vault.example:8200");
    assert.equal(repairedValue(["aws", "oidcIssuer"], "https://oidc.eks.eu-west-1.amazonaws.com/id/X//"), "oidc.eks.eu-west-1.amazonaws.com/id/X");
    // A scheme inside the value is not a scheme to drop.
    assert.equal(repairedValue(["aws", "oidcIssuer"], "oidc.eks.eu-west-1.amazonaws.com/id/https://X"), undefined);
    // A value the schema already accepts has nothing to repair.
    assert.equal(repairedValue(["aws", "region"], "eu-west-1"), undefined);
    // The scheme a URL lacks, keeping the host typed (issue 30 #5); not where oci:// would do as well.
    assert.equal(repairedValue(["vault", "address"], "vault.acme.io:8200"), "https://vault.acme.io:8200");
    assert.equal(repairedValue(["azure", "oidcIssuerUrl"], "westeurope.oic.prod-aks.azure.com/x/"), "https://westeurope.oic.prod-aks.azure.com/x/");
    assert.equal(repairedValue(["charts", "repository"], "registry.acme.io/helm"), undefined);
    assert.equal(repairedValue(["vault", "address"], "ftp://vault.acme.io"), undefined);
    // A schedule's near miss, where its consumer accepts the repair (components/cron.ts).
    assert.equal(repairedValue(["database", "rotationSchedule"], "@weekly"), "0 0 * * 0");
    assert.equal(repairedValue(["rotation", "schedule"], "0 0 3 * * *"), "0 3 * * *");
    assert.equal(repairedValue(["rotation", "schedule"], "0 25 * * *"), undefined);
  });

  it("reads the backend a name stands for: itself, the first word that names one, or a typo of one", () => {
    assert.equal(providerMeant("aws"), "aws");
    assert.equal(providerMeant("valut"), "vault");
    assert.equal(providerMeant("aws-secrets-manager"), "aws");
    assert.equal(providerMeant("AWS_SecretsManager"), "aws");
    assert.equal(providerMeant("google-secret-manager"), "gcp");
    assert.equal(providerMeant("azure-key-vault"), "azure");
    assert.equal(providerMeant("hashicorp"), "vault");
    assert.equal(providerMeant("k8s"), "kubernetes");
    assert.equal(providerMeant("plain-secrets"), undefined);
  });

  it("fixes a providers list: typos corrected, names kept in order (an unknown one marked), duplicates and misplaced kubernetes dropped", () => {
    const set = (i: number, p: string) => `pulumi config set --path 'providers[${i}]' ${p} --stack s`;
    // Issue 30 #5: AWS is kept, not dropped with the name it was written as.
    assert.equal(
      providersFix("s", ["vault", "aws-secrets-manager", "gcp"], "production"),
      ["pulumi config rm providers --stack s", set(0, "vault"), set(1, "aws"), set(2, "gcp")].join(" && "),
    );
    assert.equal(
      providersFix("s", ["vault", "secret-store", "aws"], "production"),
      ["pulumi config rm providers --stack s", set(0, "vault"), set(1, "'<provider>'"), set(2, "aws")].join(" && "),
    );
    assert.equal(providersFix("s", ["valut", "aws", "aws"], "staging"), ["pulumi config rm providers --stack s", set(0, "vault"), set(1, "aws")].join(" && "));
    assert.equal(providersFix("s", ["kubernetes", "vault"], "development"), ["pulumi config rm providers --stack s", set(0, "vault")].join(" && "));
    assert.equal(providersFix("s", ["kubernetes"], "development"), ["pulumi config rm providers --stack s", set(0, "kubernetes")].join(" && "));
    assert.equal(providersFix("s", ["kubernetes"], "production"), ["pulumi config rm providers --stack s", set(0, "vault")].join(" && "));
    assert.equal(providersFix("s", ["kubernetes"], undefined), ["pulumi config rm providers --stack s", set(0, "vault")].join(" && "));
    assert.equal(providersFix("s", [7, "hashicorp-vault-enterprise"], "staging"), ["pulumi config rm providers --stack s", set(0, "vault")].join(" && "));
    assert.equal(providersFix("s", undefined, "staging"), set(0, "vault"));
    assert.equal(providersFix("s", "vault", "staging"), ["pulumi config rm providers --stack s", set(0, "vault")].join(" && "));
    // A single name set without --path is kept, as a list of one.
    assert.equal(providersFix("s", "aws", "staging"), ["pulumi config rm providers --stack s", set(0, "aws")].join(" && "));
  });

  it("reads the environment from a stack's name and finds examples through their ancestors", () => {
    assert.equal(environmentOfStack("development"), "development");
    assert.equal(environmentOfStack("development-pr-42"), "development");
    assert.equal(environmentOfStack("production-eu"), "production");
    assert.equal(environmentOfStack("developmentx"), undefined);
    assert.equal(environmentOfStack("pr-42-development-"), undefined);
    assert.deepEqual(exampleFor(["vault", "seal", "region"]), new Placeholder("<aws-region>"));
    assert.equal(exampleFor(["vault", "seal", "type"]), "awskms");
    assert.equal(exampleFor(["vault", "seal", "nope"]), undefined);
    assert.equal(exampleFor(["nope"]), undefined);
    // An example that names the environment: development's where none is given.
    assert.equal(exampleFor(["vaultLoginRole"]), "pulumi-development-preview");
    assert.equal(exampleFor(["vaultLoginRole"], "production"), "pulumi-production");
    assert.equal(exampleFor(["vaultLoginRole"], "staging"), "pulumi-staging-preview");
  });

  it("finds every value still holding a printed fix's placeholder, by path, and names them", () => {
    const raw = {
      a: "x",
      vault: { seal: { kmsKeyId: "<kms-key-id>", roleArn: "arn:aws:iam::<aws-account-id>:role/<vault-unseal-role>" } },
      p: ["vault", "<provider>"],
      n: 3,
    };
    assert.deepEqual(placeholdersIn(raw), [
      { path: ["vault", "seal", "kmsKeyId"], names: ["kms-key-id"] },
      { path: ["vault", "seal", "roleArn"], names: ["aws-account-id", "vault-unseal-role"] },
      { path: ["p", 1], names: ["provider"] },
    ]);
    // Not a placeholder: angle brackets around anything but lowercase words joined by "-".
    assert.deepEqual(placeholdersIn({ a: "<A>", b: "a < b > c", c: "<->" }), []);
    assert.equal(
      placeholderMessage(["aws-account-id", "vault-unseal-role"]),
      "still holds <aws-account-id>, <vault-unseal-role> from a printed fix: replace each with your own value (the fix shows where)",
    );
  });

  it("a fix for a path without an example is a bug in EXAMPLES, named as such", () => {
    assert.throws(() => fixCommand("staging", ["nope"]), /^Error: no example for config path nope: add one to EXAMPLES in stacks\/schema\.ts$/);
  });
});

describe("stack config problems: the fixes for schema issues, through the loader", () => {
  const problems = (stack: string, overrides: Record<string, unknown>, as = stack) => problemsOf(() => loadStackConfig(source(stack, overrides), as));
  const vault = { mode: "ha", replicas: 3, address: "https://vault.example:8200", bootstrapped: false };

  it("an unknown key is not pointed at a key the section already sets, and one near nothing is just removed", () => {
    assert.deepEqual(problems("staging", { [`${P}:vault`]: { ...vault, replcias: 5 } }), [
      {
        key: "vault.replcias",
        message: 'unknown key "replcias" (check the spelling against Pulumi.yaml)',
        fix: "pulumi config rm --path 'vault.replcias' --stack staging",
      },
    ]);
    assert.deepEqual(problems("staging", { [`${P}:vault`]: { ...vault, zzzzzz: 1 } }), [
      {
        key: "vault.zzzzzz",
        message: 'unknown key "zzzzzz" (check the spelling against Pulumi.yaml)',
        fix: "pulumi config rm --path 'vault.zzzzzz' --stack staging",
      },
    ]);
  });

  it("a bad environment on a stack whose name names none: the nearest environment, else development", () => {
    assert.deepEqual(
      problems("staging", { [`${P}:environment`]: "stagign" }, "alice").map((p) => [p.key, p.fix]),
      [["environment", "pulumi config set environment staging --stack alice"]],
    );
    assert.deepEqual(
      problems("staging", { [`${P}:environment`]: "qa" }, "alice").map((p) => [p.key, p.fix]),
      [["environment", "pulumi config set environment development --stack alice"]],
    );
    assert.deepEqual(
      problems("staging", { [`${P}:environment`]: undefined }, "alice").map((p) => [p.key, p.fix]),
      [["environment", "pulumi config set environment development --stack alice"]],
    );
  });

  it("a typo in a union's discriminator gets the nearest variant; an enum value near none, the example", () => {
    const seal = { type: "awskm", region: "eu-west-1", kmsKeyId: "alias/veza-vault-unseal" };
    assert.deepEqual(problems("staging", { [`${P}:vault`]: { ...vault, seal } }), [
      {
        key: "vault.seal.type",
        message: 'is not a valid value; got "awskm"; did you mean "awskms"?',
        fix: "pulumi config set --path 'vault.seal.type' awskms --stack staging",
      },
    ]);
    assert.deepEqual(problems("staging", { [`${P}:database`]: { host: "db", sslMode: "zzzzzzzz" } }), [
      {
        key: "database.sslMode",
        message: 'must be one of "disable", "require", "verify-ca", "verify-full"; got "zzzzzzzz"',
        fix: "pulumi config set --path 'database.sslMode' verify-full --stack staging",
      },
    ]);
    // A number where an enum's text belongs (--path stores 5 as one): no nearest value, the example.
    assert.deepEqual(problems("staging", { [`${P}:database`]: { host: "db", sslMode: 5 } }), [
      {
        key: "database.sslMode",
        message: 'must be one of "disable", "require", "verify-ca", "verify-full"; got number 5',
        fix: "pulumi config set --path 'database.sslMode' verify-full --stack staging",
      },
    ]);
  });

  it("a missing secret is reported next to problems found before it, not hidden by them", () => {
    // Generated keys are checked before Vault and the database.
    const short = { [`${P}:generatedKeys`]: { "jwt-secret": { length: 16 } } };
    for (const [stack, key] of [
      ["development", "vaultDevRootToken"],
      ["staging", "databaseAdminPassword"],
    ]) {
      assert.deepEqual(
        problemsOf(() => loadStackConfig(source(stack, short, withoutSecrets(key)), stack)).map((p) => p.key),
        ['generatedKeys["jwt-secret"].length', key],
      );
    }
  });
});
