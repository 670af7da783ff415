/**
 * The README's value-generating commands, run as a person pastes them: every
 * `pulumi config set … "$(openssl rand …)"` line is expanded by bash, many times, and the
 * value goes through the program's own config validation. A recipe that works 3 times in 8
 * (a token that must start with a letter, from a generator that starts with a digit 10 times
 * in 16) fails here, not on a newcomer's first `pulumi up`.
 */
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { ROOT, fakesForMissing, engineConfig, stackConfig, tryRunProgram } from "../harness";
import { loadStackConfig } from "../stacks/config";
import { ConfigError } from "../stacks/config-model";
import { DEV_ROOT_TOKEN_FIX } from "../stacks/problems";

const P = "veza-secrets";
const RUNS = 64;

/** `pulumi config set --secret <key> "<value with $(generator)>"` lines of the user docs. */
function generatingCommands(): { file: string; key: string; arg: string }[] {
  const out: { file: string; key: string; arg: string }[] = [];
  const files = ["README.md", ...fs.readdirSync(path.join(ROOT, "docs")).map((f) => path.join("docs", f))].filter((f) => f.endsWith(".md"));
  for (const file of files) {
    for (const line of fs.readFileSync(path.join(ROOT, file), "utf8").split("\n")) {
      const m = line.match(/pulumi config set (?:--secret )?(?:--path )?([\w.[\]-]+) ("[^"]*\$\([^"]*")/);
      if (m && /\$\(openssl rand /.test(m[2])) out.push({ file, key: m[1], arg: m[2] });
    }
  }
  return out;
}

/** What bash stores for the quoted argument (the only substitutions allowed are `openssl rand`). */
function expand(arg: string): string {
  const substitutions = arg.match(/\$\([^)]*\)/g) ?? [];
  for (const s of substitutions) assert.match(s, /^\$\(openssl rand [^;&|`$]*\)$/, `only openssl rand is run from the docs: ${s}`);
  return execFileSync("bash", ["-c", `printf '%s' ${arg}`], { encoding: "utf8" });
}

/** The development stack's config with `key` set (as a secret) to `value`. */
function validate(key: string, value: string) {
  const values = stackConfig("development");
  const secrets = { ...fakesForMissing(values), [`${P}:${key}`]: value };
  return loadStackConfig({ values: { ...engineConfig(values), ...secrets }, secretKeys: new Set(Object.keys(secrets)) }, "development");
}

describe("the README's value-generating commands", () => {
  it("are found (the README documents the dev root token with one)", () => {
    const keys = generatingCommands().map((c) => c.key);
    assert.ok(keys.includes("vaultDevRootToken"), `found: ${keys.join(", ") || "none"}`);
  });

  for (const { file, key, arg } of generatingCommands()) {
    it(`${file}: ${key} ${arg} makes a value the program accepts, ${RUNS} times in ${RUNS}`, () => {
      for (let i = 0; i < RUNS; i++) {
        const value = expand(arg);
        assert.doesNotThrow(() => validate(key, value), `run ${i}: ${key} refused`);
      }
    });
  }

  it(`the fix the program prints for a bad dev root token makes a valid one, ${RUNS} times in ${RUNS}`, () => {
    const m = DEV_ROOT_TOKEN_FIX("development").match(/vaultDevRootToken ("[^"]*")/);
    assert.ok(m);
    for (let i = 0; i < RUNS; i++) assert.doesNotThrow(() => validate("vaultDevRootToken", expand(m[1])));
  });

  it("a dev root token that starts with a digit stops the program before anything is registered, naming the key, not the value", async () => {
    const bad = "4f1e0c9a7b2d4e6f8a1c3e5b7d9f0a2c4e6b8d0f1a3c5e7b";
    const { run, error } = await tryRunProgram({
      stack: "development",
      secrets: { ...fakesForMissing(stackConfig("development")), [`${P}:vaultDevRootToken`]: bad },
    });
    assert.ok(error instanceof ConfigError, String(error));
    assert.deepEqual(error.problems, [
      {
        key: "vaultDevRootToken",
        message:
          "must start with a letter and use only letters, digits, '.', '_' or '-', 8 to 128 characters (the chart writes it into the pod spec unquoted); the value set does not",
        fix: `pulumi config set --secret vaultDevRootToken "dev-$(openssl rand -hex 24)" --stack development`,
      },
    ]);
    assert.ok(!error.message.includes(bad));
    assert.deepEqual(
      run.resources.map((r) => r.type),
      ["pulumi:pulumi:Stack"],
    );
  });
});
