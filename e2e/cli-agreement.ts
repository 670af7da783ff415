/**
 * The model of `pulumi config set`/`rm` (test/pulumi-cli.ts) against the real CLI: the config
 * tests run with `VEZA_RECORD_FIXES`, which records every fix they apply with the model (the
 * stack file before and after, and what the shell and the prompt answered); each is then
 * replayed by bash with the real `pulumi`, on a stack holding the same config, and the result
 * compared key by key (`pulumi config --json --show-secrets`). The model stays the fallback
 * where the CLI is absent (`npm test`); here both must agree.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { isDeepStrictEqual } from "node:util";
import { join } from "node:path";
import { dump, load } from "js-yaml";
import { type FixRecord } from "../test/fix-check";
import { isSecure } from "../test/pulumi-cli";
import { PROJECT_DIR, type StackEnv } from "./stack";

/** The config tests that apply fixes, with the recording on: every fix they apply. */
export function recordFixes(s: StackEnv): FixRecord[] {
  const file = join(s.dir, "fixes.jsonl");
  rmSync(file, { force: true });
  const specs = execFileSync("grep", ["-l", "-E", "problemsAfterFix|itRejectsAndFixes", ...listTests()], { cwd: PROJECT_DIR, encoding: "utf8" })
    .split("\n")
    .filter((f) => f.endsWith(".test.ts"));
  execFileSync(
    process.execPath,
    [
      require.resolve("mocha/bin/mocha.js"),
      "--no-config",
      "-r",
      "tsx/cjs",
      "-n",
      "import=tsx",
      "--extension",
      "ts",
      "--timeout",
      "180000",
      "--reporter",
      "dot",
      ...specs,
    ],
    { cwd: PROJECT_DIR, env: { ...process.env, VEZA_RECORD_FIXES: file }, stdio: ["ignore", "ignore", "pipe"] },
  );
  return readFileSync(file, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as FixRecord);
}

function listTests(): string[] {
  return execFileSync("bash", ["-c", "ls stacks/*.test.ts test/*.test.ts"], { cwd: PROJECT_DIR, encoding: "utf8" }).split("\n").filter(Boolean);
}

/** What `pulumi config --json --show-secrets` prints for one key. */
interface CliValue {
  value?: string;
  objectValue?: unknown;
  secret: boolean;
}

/** Where the real CLI's config differs from the model's, one line each; empty when they agree. */
export function disagreements(model: Record<string, unknown>, cli: Record<string, CliValue>): string[] {
  const out: string[] = [];
  for (const key of [...new Set([...Object.keys(model), ...Object.keys(cli)])].sort()) {
    const m = model[key];
    const c = cli[key];
    if (m === undefined || c === undefined) {
      out.push(`${key}: ${m === undefined ? "only the CLI has it" : "only the model has it"}`);
    } else if (isSecure(m)) {
      if (!c.secret || c.value !== m.secure) out.push(`${key}: the model has a secret, the CLI ${c.secret ? "another value" : "a plain value"}`);
    } else if (typeof m === "object" && m !== null) {
      if (!isDeepStrictEqual(c.objectValue ?? tryJson(c.value), m))
        out.push(`${key}: model ${JSON.stringify(m)}, CLI ${JSON.stringify(c.objectValue ?? c.value)}`);
    } else if (c.value !== String(m) || c.secret) {
      out.push(`${key}: model ${JSON.stringify(m)}, CLI ${JSON.stringify(c.value)}${c.secret ? " (secret)" : ""}`);
    }
  }
  return out;
}

function tryJson(text: string | undefined): unknown {
  try {
    return JSON.parse(String(text));
  } catch {
    return text;
  }
}

/** Replay one fix with the real CLI; its disagreements with the model (or why it could not run). */
export function replay(s: StackEnv, project: string, r: FixRecord, n: number): string[] {
  const run = (script: string, input?: string) =>
    execFileSync("bash", ["-euo", "pipefail", "-c", script], {
      cwd: project,
      env: s.env,
      encoding: "utf8",
      input,
      stdio: ["pipe", "pipe", "pipe"],
      timeout: 60_000,
    });
  const file = join(project, `Pulumi.${r.stack}.yaml`);
  run(`pulumi stack rm --yes --force --stack ${r.stack} >/dev/null 2>&1 || true; rm -f ${JSON.stringify(file)}; pulumi stack init ${r.stack} >/dev/null`);
  // The stack's plain config written as the CLI stores it; its secrets set (encrypted) by the CLI.
  const stackYaml = (load(readFileSync(file, "utf8")) ?? {}) as Record<string, unknown>;
  const plain = Object.fromEntries(Object.entries(r.before).filter(([, v]) => !isSecure(v)));
  writeFileSync(file, dump({ ...stackYaml, config: plain }));
  const secrets = Object.entries(r.before).filter(([, v]) => isSecure(v)) as [string, { secure: string }][];
  if (secrets.length > 0) {
    const args = secrets.map(([k, v]) => `--secret ${shellWord(`${k}=${v.secure}`)}`).join(" ");
    run(`pulumi config set-all ${args} --stack ${r.stack}`);
  }
  // The fix as printed, with each $(...) answered as the model's shell answered it.
  let fix = r.fix;
  Object.entries(r.substitutions).forEach(([command, output], i) => {
    const answer = join(s.dir, `substitution-${n}-${i}`);
    writeFileSync(answer, output);
    fix = fix.split(`$(${command})`).join(`$(cat ${answer})`);
  });
  const prompts = Object.values(r.prompts);
  if (prompts.length > 1) return [`a fix that prompts ${prompts.length} times cannot be answered on one stdin: not replayed`];
  try {
    run(fix, prompts[0]);
  } catch (e) {
    return [
      `the CLI refused it: ${String((e as { stderr?: string }).stderr ?? (e as Error).message)
        .trim()
        .split("\n")
        .slice(-2)
        .join(" ")}`,
    ];
  }
  const cli = JSON.parse(run(`pulumi config --json --show-secrets --stack ${r.stack}`)) as Record<string, CliValue>;
  return disagreements(r.after, cli);
}

function shellWord(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Every recorded fix replayed; the disagreements by fix. */
export function cliAgreement(s: StackEnv): { fixes: number; problems: string[] } {
  const records = recordFixes(s);
  const project = join(s.dir, "cli-agreement");
  mkdirSync(project, { recursive: true });
  writeFileSync(join(project, "Pulumi.yaml"), readFileSync(join(PROJECT_DIR, "Pulumi.yaml")));
  const problems: string[] = [];
  records.forEach((r, n) => {
    for (const d of replay(s, project, r, n)) problems.push(`${r.fix}: ${d}`);
  });
  return { fixes: records.length, problems };
}
