/**
 * Stack config of the secrets themselves: generated keys and supplied secrets rejected with the
 * key, the reason and the exact fix (then applied with the CLI's rules), and a secret stored or
 * pasted in plain text refused without its value being echoed.
 */
import * as assert from "node:assert/strict";
import { CATALOG, generatedSecrets } from "../components/catalog";
import { STACKS, fakeSecrets, tryRunProgram } from "../harness";
import { loadStackConfig } from "./config";
import { ConfigError } from "./config-model";
import { P, itRejectsAndFixes, source, type ConfigMistake } from "./config-fixtures";

describe("stack config", () => {
  // One row per kind of mistake: the exact message and the exact command that fixes it.
  // Each fix is then applied with the CLI's own rules (test/pulumi-cli.ts) and the config
  // validated again, by the CLI's pre-run check and by the program.
  const table: ConfigMistake[] = [
    {
      name: "too-short generated key",
      stack: "development",
      overrides: { [`${P}:generatedKeys`]: { "jwt-secret": { length: 16 } } },
      key: 'generatedKeys["jwt-secret"].length',
      message: "must be at least 32 characters; got 16",
      fix: `pulumi config set --path 'generatedKeys["jwt-secret"].length' 64 --stack development`,
    },
    {
      name: "a misspelled generated key",
      stack: "development",
      overrides: { [`${P}:generatedKeys`]: { "jwt-secrte": { length: 64 } } },
      key: 'generatedKeys["jwt-secrte"]',
      message: `is not a generated key; generated keys are ${generatedSecrets(CATALOG)
        .map((g) => g.key)
        .join(", ")}; did you mean "jwt-secret"?`,
      fix: `pulumi config set --path 'generatedKeys["jwt-secret"].length' 64 --stack development && pulumi config rm --path 'generatedKeys["jwt-secrte"]' --stack development`,
    },
    {
      name: "a rotation period longer than the catalog's",
      stack: "production",
      overrides: { [`${P}:generatedKeys`]: { "jwt-secret": { rotationDays: 365 } } },
      key: 'generatedKeys["jwt-secret"].rotationDays',
      message: "must be at most 90 (the catalog's period: a stack may rotate sooner, never later); got 365",
      fix: `pulumi config set --path 'generatedKeys["jwt-secret"].rotationDays' 90 --stack production`,
    },
    {
      name: "missing supplied secret (the CLI prompts for it: no value in shell history)",
      stack: "production",
      overrides: {},
      secrets: Object.fromEntries(Object.entries(fakeSecrets()).filter(([k]) => k !== `${P}:stripeApiKey`)),
      key: "stripeApiKey",
      message: "is required: Stripe API key for payments (stripe-api-key)",
      fix: "pulumi config set --secret stripeApiKey --stack production",
    },
    {
      name: "supplied secret in the wrong shape",
      stack: "development",
      overrides: {},
      secrets: { ...fakeSecrets(), [`${P}:redisUrl`]: "http://redis:6379" },
      key: "redisUrl",
      message: "must be a redis:// or rediss:// URL (value not shown)",
      fix: "pulumi config set --secret redisUrl --stack development",
    },
  ];

  itRejectsAndFixes(table);

  it("rejects a secret stored in plain text, without echoing it", () => {
    const src = source("development");
    const secretKeys = new Set([...src.secretKeys].filter((k) => k !== `${P}:smtpPassword`));
    const err = (() => {
      try {
        loadStackConfig({ values: src.values, secretKeys }, "development");
      } catch (e) {
        return e as ConfigError;
      }
      assert.fail("accepted a plain-text secret");
    })();
    assert.deepEqual(err.problems, [
      {
        key: "smtpPassword",
        message:
          "holds a secret but is stored in plain text in the stack file (value not shown). If that file was ever committed, the value is in Git history: rotate it at its source, then remove the plain entry and set the new value as a secret",
        // set --secret replaces the plain entry (config.Map.Set overwrites the key).
        fix: "pulumi config set --secret smtpPassword --stack development",
      },
    ]);
    assert.ok(!err.message.includes("FAKE-SECRET"), "the error message must not contain the value");
  });

  // The harness feeds the program the stack file as it is: a fake stands in only for a
  // secret the file lacks, so a value pasted in clear text is refused, not hidden.
  for (const stack of STACKS) {
    it(`${stack}: a secret pasted in clear text into the stack file stops the program, named and not echoed`, async () => {
      const pasted = "sk_live_PASTED-IN-CLEAR-9d1e";
      const { run, error } = await tryRunProgram({ stack, overrides: { [`${P}:stripeApiKey`]: pasted } });
      assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
      assert.deepEqual(
        error.problems.map((p) => p.key),
        ["stripeApiKey"],
      );
      assert.match(error.message, /in Git history: rotate it/);
      assert.ok(!error.message.includes(pasted), "the error must not print the value");
      assert.deepEqual(
        run.resources.map((r) => r.type),
        ["pulumi:pulumi:Stack"],
        "nothing may be registered",
      );
    });
  }
});
