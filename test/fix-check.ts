/**
 * Apply a printed config fix the way a person would (pasted into a shell, run by the Pulumi
 * CLI: test/pulumi-cli.ts), then validate again: the CLI's own check before the program runs,
 * and the program's. Shared by the config tables (stacks/config-*.test.ts), so every rule's fix
 * is tested the same way.
 */
import * as assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { ROOT, fakeSecrets, stackConfig } from "../harness";
import { loadStackConfig } from "../stacks/config";
import { ConfigError, type ConfigProblem } from "../stacks/config-model";
import { applyLine, type StackFileConfig } from "./pulumi-cli";
import { PROJECT_FILE, engineView, preRunErrors } from "./pulumi-project";

const P = "veza-secrets";

/**
 * What the shell prints for the command substitutions a fix may use: random bytes as
 * `openssl rand -hex` prints them, a digest of `crane digest`'s shape (the model has no
 * registry), the committed example CA for `cat <file>.crt` and a kubeconfig's CA, and an API
 * server address for a kubeconfig's.
 */
export function substitute(command: string): string {
  let m = /^openssl rand -hex (\d+)$/.exec(command);
  if (m) return randomBytes(Number(m[1])).toString("hex");
  m = /^crane digest (\S+)$/.exec(command);
  if (m) return `sha256:${createHash("sha256").update(m[1]).digest("hex")}`;
  m = /^cat (\S+\.crt)$/.exec(command);
  if (m) return fs.readFileSync(path.join(ROOT, "certs", "vault-ca.pem"), "utf8").trimEnd();
  // A kubeconfig's API server address and CA, as kubectl prints them.
  if (command.startsWith("kubectl config view --minify -o jsonpath=")) return "https://203.0.113.10:6443";
  if (command.startsWith("kubectl config view --raw --minify -o jsonpath=") && command.endsWith("| base64 -d"))
    return fs.readFileSync(path.join(ROOT, "certs", "vault-ca.pem"), "utf8").trimEnd();
  throw new Error(`no stand-in for $(${command}): add one to test/fix-check.ts`);
}

/** The CLI's prompt, answered with a value of the right shape (the catalog's fake; for `vaultToken`, which has none, a token's). */
export const prompt = (key: string, secret: boolean): string | undefined =>
  secret ? (fakeSecrets()[key] ?? `FAKE-SECRET-${key.replace(/^.*:/, "")}-5f3c9a`) : undefined;

/** One fix as the model applied it: the stack file before and after, what the shell and the prompt answered. */
export interface FixRecord {
  stack: string;
  before: StackFileConfig;
  fix: string;
  after: StackFileConfig;
  substitutions: Record<string, string>;
  prompts: Record<string, string>;
}

export interface FixRow {
  stack: string;
  /** Config keys over the committed stack file; undefined removes one. */
  overrides: Record<string, unknown>;
  /** Secrets, by full key; default the fakes. */
  secrets?: Record<string, string>;
}

/** The stack file a row describes, as the CLI holds it (secrets as `{ secure }`). */
export function stackFile(row: FixRow): StackFileConfig {
  const config: StackFileConfig = structuredClone(stackConfig(row.stack));
  for (const [k, v] of Object.entries(row.overrides)) {
    if (v === undefined) delete config[k];
    else config[k] = structuredClone(v);
  }
  for (const [k, v] of Object.entries(row.secrets ?? fakeSecrets())) config[k] = { secure: v };
  return config;
}

/** The problems left once `fix` is applied to the row's stack file; asserts the CLI accepts it. */
export function problemsAfterFix(row: FixRow, fix: string): ConfigProblem[] {
  const file = stackFile(row);
  const before = structuredClone(file);
  const substitutions: Record<string, string> = {};
  const prompts: Record<string, string> = {};
  const stacks = applyLine(file, fix, {
    project: P,
    prompt: (key, secret) => {
      const answer = prompt(key, secret);
      if (answer !== undefined) prompts[key] = answer;
      return answer;
    },
    substitute: (command) => (substitutions[command] = substitute(command)),
  });
  // `npm run e2e` replays every fix the tests apply with the real CLI (e2e/cli-agreement.ts).
  if (process.env.VEZA_RECORD_FIXES)
    fs.appendFileSync(
      process.env.VEZA_RECORD_FIXES,
      `${JSON.stringify({ stack: row.stack, before, fix, after: file, substitutions, prompts } satisfies FixRecord)}\n`,
    );
  assert.deepEqual([...new Set(stacks)], [row.stack], "every command names the stack");
  assert.deepEqual(preRunErrors(row.stack, file, PROJECT_FILE), [], "the CLI's own check before the program runs");
  try {
    loadStackConfig(engineView(file), row.stack);
    return [];
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
}
