/**
 * One stack of the program under the real engine: config written by the real `pulumi` CLI
 * (commands run by bash, as a user pastes them), then `up`, `preview --expect-no-changes` and
 * `destroy` of the program itself (`stacks/program.ts`'s `run`, as `index.ts` exports it) as an
 * Automation API inline program. The engine talks to the real `pulumi-resource-kubernetes`
 * (against the e2e's API server) and to the stand-in vault and random providers
 * (e2e/providers), found on PATH.
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { LocalWorkspace, type OutputMap, PulumiCommand, type Stack } from "@pulumi/pulumi/automation";
import { run } from "../stacks/program";
import { secondsSince } from "./processes";

export const PROJECT_DIR = join(__dirname, "..");

export interface StackEnv {
  /** Where this stack's project copy, state and logs live. */
  dir: string;
  /** Environment for the CLI, the engine and the providers (PATH with the tools, KUBECONFIG, passphrase...). */
  env: NodeJS.ProcessEnv;
  /** The `pulumi` binary the Automation API runs (`<root>/bin/pulumi`). */
  pulumi: string;
}

/** A project directory for `stack` with the repository's Pulumi.yaml (its config declarations are checked by the CLI) and, if given, a committed stack file. */
export function prepareProject(s: StackEnv, stack: string, stackFile?: string): string {
  const project = join(s.dir, "project");
  mkdirSync(project, { recursive: true });
  copyFileSync(join(PROJECT_DIR, "Pulumi.yaml"), join(project, "Pulumi.yaml"));
  if (stackFile) copyFileSync(join(PROJECT_DIR, stackFile), join(project, `Pulumi.${stack}.yaml`));
  return project;
}

/** Run bash `script` in the project with the stack's environment; its output goes to `log`. Throws with the output's tail on failure. */
export function bash(s: StackEnv, cwd: string, script: string, log: string): string {
  try {
    const out = execFileSync("bash", ["-euo", "pipefail", "-c", script], {
      cwd,
      env: s.env,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 300_000,
    });
    writeFileSync(log, `$ ${script}\n${out}`, { flag: "a" });
    return out;
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    writeFileSync(log, `$ ${script}\n${err.stdout ?? ""}${err.stderr ?? ""}`, { flag: "a" });
    throw new Error(`bash failed: ${script.split("\n")[0]}…\n${(err.stderr ?? err.message).split("\n").slice(-15).join("\n")}`, { cause: e });
  }
}

/** The `pulumi config set` lines of a README code block under `heading` (the user's own commands). */
export function readmeConfigCommands(heading: string): string[] {
  const readme = readFileSync(join(PROJECT_DIR, "README.md"), "utf8");
  const start = readme.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`README has no section "## ${heading}"`);
  const section = readme.slice(start + 1, readme.indexOf("\n## ", start + 1));
  const block = /```bash\n([\s\S]*?)```/.exec(section)?.[1] ?? "";
  return block
    .split("\n")
    .map((l) => l.replace(/\s+#.*$/, "").trim())
    .filter((l) => l.startsWith("pulumi config set"));
}

export interface StackResult {
  stack: string;
  up: boolean;
  resources: number;
  /** Changes the second preview found (0 = none, as it must). */
  secondPreviewChanges: number | null;
  destroy: boolean;
  seconds: number;
  times: { config: number; up: number; preview: number; destroy: number };
  /** What the engine, a provider or a server refused, with its message. */
  errors: string[];
  outputs?: OutputMap;
}

/** The number of resources in the stack's state, the stack itself and providers excluded. */
async function resourceCount(stack: Stack): Promise<number> {
  const state = (await stack.exportStack()).deployment as { resources?: { type: string }[] };
  return (state.resources ?? []).filter((r) => r.type !== "pulumi:pulumi:Stack" && !r.type.startsWith("pulumi:providers:")).length;
}

/**
 * `up`, `preview --expect-no-changes`, then (unless `keep`) `destroy`, of the program in
 * `project` as stack `stack`. `between` runs after `up` with the stack's outputs (the checks).
 */
export async function runProgram(
  s: StackEnv,
  project: string,
  stack: string,
  between: (outputs: OutputMap) => Promise<void>,
  configSeconds: number,
  before?: (stack: Stack, log: (line: string) => void) => Promise<void>,
): Promise<StackResult> {
  const t0 = Date.now();
  const result: StackResult = {
    stack,
    up: false,
    resources: 0,
    secondPreviewChanges: null,
    destroy: false,
    seconds: 0,
    times: { config: configSeconds, up: 0, preview: 0, destroy: 0 },
    errors: [],
  };
  const log = join(s.dir, "engine.log");
  const onOutput = (line: string) => writeFileSync(log, line, { flag: "a" });
  // The program exactly as index.ts runs it.
  const program = () => run();
  const pulumiCommand = await PulumiCommand.get({ root: dirname(dirname(s.pulumi)), skipVersionCheck: true });
  const st = await LocalWorkspace.selectStack(
    { stackName: stack, projectName: "veza-secrets", program },
    { workDir: project, envVars: stringEnv(s.env), pulumiCommand },
  );
  if (before) await before(st, onOutput);
  let t = Date.now();
  try {
    const up = await st.up({ onOutput, color: "never" });
    result.up = up.summary.result === "succeeded";
    result.outputs = up.outputs;
    result.resources = await resourceCount(st);
  } catch (e) {
    result.errors.push(`up: ${tail((e as Error).message)}`);
  }
  result.times.up = secondsSince(t);
  if (result.up) {
    try {
      await between(result.outputs ?? {});
    } catch (e) {
      result.errors.push(`checks: ${(e as Error).message}`);
    }
    t = Date.now();
    try {
      const preview = await st.preview({ onOutput, color: "never", diff: true });
      // `read` is a `.get` of an existing object (ESO's CRDs), not a change.
      const changes = Object.entries(preview.changeSummary)
        .filter(([op]) => op !== "same" && op !== "read")
        .reduce((n, [, c]) => n + (c ?? 0), 0);
      result.secondPreviewChanges = changes;
      if (changes > 0) result.errors.push(`second preview: ${JSON.stringify(preview.changeSummary)} (see ${log})`);
    } catch (e) {
      result.errors.push(`preview: ${tail((e as Error).message)}`);
    }
    result.times.preview = secondsSince(t);
  }
  t = Date.now();
  try {
    const d = await st.destroy({ onOutput, color: "never" });
    result.destroy = d.summary.result === "succeeded" && (await resourceCount(st)) === 0;
  } catch (e) {
    result.errors.push(`destroy: ${tail((e as Error).message)}`);
  }
  result.times.destroy = secondsSince(t);
  result.seconds = secondsSince(t0) + configSeconds;
  return result;
}

function stringEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => typeof e[1] === "string"));
}

function tail(message: string): string {
  return message
    .split("\n")
    .filter((l) => l.trim())
    .slice(-25)
    .join("\n");
}

/** True when `pulumi` in `env`'s PATH answers (the CLI the Automation API will run). */
export function cliWorks(env: NodeJS.ProcessEnv): boolean {
  try {
    return existsSync(String(env.PULUMI_HOME)) && execFileSync("pulumi", ["version"], { env, encoding: "utf8" }).startsWith("v");
  } catch {
    return false;
  }
}
