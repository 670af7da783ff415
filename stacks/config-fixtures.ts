/**
 * Support for the stack config tests (stacks/config-*.test.ts): engine-form config for a stack
 * file, the problems a rejected config reports, and the table runner every config-mistake table
 * shares (each row rejected with its key, reason and fix, then the fix applied and checked).
 */
import * as assert from "node:assert/strict";
import { loadStackConfig } from "./config";
import { ConfigError } from "./config-model";
import { engineConfig, fakeSecrets, mergeConfig, stackConfig, tryRunProgram, type StackConfigValues } from "../harness";
import { problemsAfterFix } from "../test/fix-check";

export const P = "veza-secrets";

/** Engine-form config for a stack file plus overrides (undefined removes a key). */
export function source(stack: string, overrides: Record<string, unknown> = {}, secrets = fakeSecrets()) {
  const values = engineConfig({ ...stackConfig(stack), ...overrides });
  return { values: { ...values, ...secrets }, secretKeys: new Set(Object.keys(secrets)) };
}

export function problemsOf(fn: () => unknown): { key: string; message: string; fix: string }[] {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    return e.problems;
  }
  assert.fail("expected the config to be rejected");
}

/** One kind of mistake in a stack's config, with the exact problem it must raise and the command that fixes it. */
export interface ConfigMistake {
  name: string;
  stack: string;
  overrides: Record<string, unknown>;
  secrets?: Record<string, string>;
  key: string;
  message: string;
  fix: string;
}

/**
 * Two tests per row: the config is rejected with exactly the row's problem, by the config
 * loader and by the whole program (which registers nothing), and the printed fix, applied with
 * the CLI's own rules (test/pulumi-cli.ts), leaves no problem.
 */
export function itRejectsAndFixes(table: ConfigMistake[]): void {
  for (const row of table) {
    it(`rejects ${row.name} with the key, the reason and the fix, registering nothing`, async () => {
      const problems = problemsOf(() => loadStackConfig(source(row.stack, row.overrides, row.secrets), row.stack));
      assert.deepEqual(problems, [{ key: row.key, message: row.message, fix: row.fix }]);

      // The whole program, too: nothing but the stack itself is registered.
      const overrides: StackConfigValues = {};
      const config = mergeConfig(stackConfig(row.stack), overrides);
      for (const [k, v] of Object.entries(row.overrides)) {
        if (v === undefined) delete config[k];
        else config[k] = v;
      }
      const { run, error } = await tryRunProgram({ stack: row.stack, config, secrets: row.secrets });
      assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
      assert.deepEqual(
        run.resources.map((r) => r.type),
        ["pulumi:pulumi:Stack"],
      );
    });

    it(`fixes ${row.name} when the printed command is applied with the CLI's rules`, () => {
      assert.deepEqual(problemsAfterFix(row, row.fix), [], `still wrong after applying: ${row.fix}`);
    });
  }
}
