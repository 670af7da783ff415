/**
 * The work behind `npm run plan` once its command line and stack file are known good
 * (scripts/plan.ts checks those first, without loading this): run the program under mocks,
 * plan the Git ref for `--diff`, and render the text, Mermaid, JSON or diff.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { ConfigError } from "../stacks/config-model";
import { PROJECT } from "../stacks/schema";
import { type ProgramRun, ROOT, fakeSecrets, readStackFile, tryRunProgram } from "../harness";
import { renderMermaid, renderPlan } from "../harness/plan-render";
import { diffPlans, planJson, renderDiff, type PlanJson } from "../harness/plan-json";
import { type PlanArgs, UnknownStackError, missingStackMessage } from "./plan";

/** The secret config keys a stack file holds encrypted (`secure:`), which the plan cannot read offline. */
export function encryptedKeys(file: string): string[] {
  const doc = yaml.load(fs.readFileSync(file, "utf8")) as { config?: Record<string, unknown> } | undefined;
  return Object.entries(doc?.config ?? {})
    .filter(([, v]) => typeof v === "object" && v !== null && !Array.isArray(v) && "secure" in v)
    .map(([k]) => k);
}

/**
 * Run the program for a stack file. Secrets the file holds encrypted cannot be read offline,
 * so a fake stands in for each; secrets it lacks are first left out, so the program names
 * the ones this stack needs (`missing`), then faked for the plan unless `noFakes`.
 */
export async function planStack(stack: string, file: string, noFakes: boolean): Promise<{ run?: ProgramRun; missing: string[]; error?: Error }> {
  if (!fs.existsSync(file)) throw new UnknownStackError(missingStackMessage(stack, file));
  const values = readStackFile(file);
  const encrypted = new Set(encryptedKeys(file));
  const fakes = fakeSecrets();
  const pick = (keys: (k: string) => boolean): Record<string, string> => Object.fromEntries(Object.entries(fakes).filter(([k]) => !(k in values) && keys(k)));
  const first = await tryRunProgram({ stack, config: values, secrets: pick((k) => encrypted.has(k)) });
  const missing =
    first.error instanceof ConfigError
      ? first.error.problems
          .filter((p) => `${PROJECT}:${p.key}` in fakes && !encrypted.has(`${PROJECT}:${p.key}`) && p.message.startsWith("is required"))
          .map((p) => p.key)
      : [];
  if (noFakes || missing.length === 0) return { ...first, missing };
  const second = await tryRunProgram({ stack, config: values, secrets: pick((k) => encrypted.has(k) || missing.includes(k.slice(PROJECT.length + 1))) });
  return { ...second, missing };
}

/** The plan JSON of `stack` at a Git ref: that commit's program and stack file, run from a temporary copy. */
export function planAtRef(ref: string, stack: string, currentFile?: string): PlanJson {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "veza-plan-"));
  try {
    const archive = execFileSync("git", ["archive", "--format=tar", ref], { cwd: ROOT, maxBuffer: 1 << 28 });
    execFileSync("tar", ["-x", "-C", dir], { input: archive });
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"), "dir");
    // A personal stack file is git-ignored: compare the ref's program with today's file.
    const stackFile = path.join(dir, `Pulumi.${stack}.yaml`);
    if (!fs.existsSync(stackFile) && currentFile) fs.copyFileSync(currentFile, stackFile);
    const tsx = path.join(ROOT, "node_modules", ".bin", "tsx");
    // The ref's own plan, whatever its format: diffPlans reads the older one too.
    const out = execFileSync(tsx, [path.join(dir, "scripts", "plan.ts"), stack, "--json"], { cwd: dir, maxBuffer: 1 << 28, stdio: ["ignore", "pipe", "pipe"] });
    const text = out.toString("utf8");
    if (!text.trimStart().startsWith("{")) throw new Error(`${ref} predates npm run plan --json, which the diff needs at both ends`);
    return JSON.parse(text) as PlanJson;
  } catch (e) {
    const stderr = (e as { stderr?: Buffer }).stderr?.toString("utf8").trim().split("\n").slice(-8).join("\n");
    throw new Error(`could not plan ${stack} at ${ref}${stderr ? `: ${stderr}` : `: ${e instanceof Error ? e.message : String(e)}`}`, { cause: e });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The line that lists faked secrets, as a comment in the output's own syntax (Mermaid's is `%%`). */
export function missingSecretsNote(missing: readonly string[], mermaid: boolean): string {
  const text = `missing secrets, faked for this offline plan (pulumi up would stop; --no-fakes prints the command for each): ${missing.join(", ")}`;
  return mermaid ? `%% ${text}` : `# ${text}`;
}

/** What `npm run plan` prints for checked arguments: stdout, stderr and the exit code. */
export async function runPlanCommand(args: PlanArgs, target: { stack: string; file: string }): Promise<{ stdout: string; stderr: string; code: number }> {
  const { run, missing, error } = await planStack(target.stack, target.file, args.noFakes);
  if (error || !run) {
    const note = args.noFakes && missing.length ? `# missing secrets (not faked, --no-fakes): ${missing.join(", ")}\n` : "";
    return { stdout: "", stderr: `${note}${error?.message ?? "the program failed"}`, code: 1 };
  }
  const plan = planJson(run, missing);
  if (args.diff) {
    const diff = diffPlans(planAtRef(args.diff, target.stack, target.file), plan);
    return { stdout: args.json ? JSON.stringify(diff, null, 2) : renderDiff(diff, target.stack, args.diff, "working tree"), stderr: "", code: 0 };
  }
  if (args.json) return { stdout: JSON.stringify(plan, null, 2), stderr: "", code: 0 };
  const body = args.mermaid ? renderMermaid(run) : renderPlan(run);
  return { stdout: missing.length ? `${missingSecretsNote(missing, args.mermaid)}\n${body}` : body, stderr: "", code: 0 };
}
