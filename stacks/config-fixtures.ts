/**
 * Support for the stack config tests (stacks/config-*.test.ts): engine-form config for a stack
 * file, the problems a rejected config reports, and the table runner every config-mistake table
 * shares (each row rejected with its key, reason and fix, then the fix applied and checked).
 */
import * as assert from "node:assert/strict";
import { CATALOG } from "../components/catalog";
import { loadStackConfig } from "./config";
import { ConfigError } from "./config-model";
import {
  engineConfig,
  fakeSecrets,
  fakesForMissing,
  mergeConfig,
  runProgram,
  stackConfig,
  tryRunProgram,
  type ProgramRun,
  type StackConfigValues,
} from "../harness";
import type { StackConfig } from "./config-model";
import { problemsAfterFix } from "../test/fix-check";

export const P = "veza-secrets";

/** Engine-form config for a stack file plus overrides (undefined removes a key). */
export function source(stack: string, overrides: Record<string, unknown> = {}, secrets = fakeSecrets()) {
  const values = engineConfig({ ...stackConfig(stack), ...overrides });
  return { values: { ...values, ...secrets }, secretKeys: new Set(Object.keys(secrets)) };
}

/** The fake secrets without `keys` (config keys, without the project prefix). */
export const withoutSecrets = (...keys: string[]): Record<string, string> =>
  Object.fromEntries(Object.entries(fakeSecrets()).filter(([k]) => !keys.some((key) => k === `${P}:${key}`)));

/**
 * A stack's validated config as the program sees it: the stack file with `overrides` merged as
 * `runProgram` merges them (deep; undefined removes a key), fakes for the secrets it lacks plus
 * `extraSecrets`. Returns the secrets too, to run the program with the same ones.
 */
export function validatedConfig(
  stack: string,
  overrides: StackConfigValues = {},
  extraSecrets: Record<string, string> = {},
): { values: StackConfigValues; secrets: Record<string, string>; config: StackConfig } {
  const values = mergeConfig(stackConfig(stack), overrides);
  const secrets = { ...fakesForMissing(values), ...extraSecrets };
  const config = loadStackConfig({ values: { ...engineConfig(values), ...secrets }, secretKeys: new Set(Object.keys(secrets)) }, stack);
  return { values, secrets, config };
}

/** The stack's validated config and the whole program's run on it, with the same secrets. */
export async function buildStack(stack: string, overrides: StackConfigValues = {}): Promise<{ config: StackConfig; run: ProgramRun }> {
  const { values, secrets, config } = validatedConfig(stack, overrides);
  return { config, run: await runProgram({ stack, config: values, secrets }) };
}

/** The catalog keys a stack stores in its backends (database-url comes from Vault's database engine where the stack has one). */
export const storedKeys = (config: StackConfig): string[] =>
  CATALOG.flatMap((s) =>
    s.source.kind === "database" && config.database ? [] : s.source.kind === "generated" && s.source.keepPrevious ? [s.key, `${s.key}-previous`] : [s.key],
  );

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
