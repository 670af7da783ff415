/**
 * `npm run plan -- production` (a stack name or its file; `--mermaid`, `--json`, `--no-fakes`, `--diff main`):
 * run the real program for any stack file under Pulumi mocks and print what it would
 * register (type, name, parent, key inputs; secrets as `[secret]`), a Mermaid diagram, JSON,
 * or the difference from the same stack at a Git ref. Secrets the stack file lacks are
 * listed as missing (and faked, unless `--no-fakes`). Needs no credentials, cluster or CLI.
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

/** The stack file a plan argument names: a path to a `Pulumi.<stack>.yaml`, or a stack name. */
export function resolveStackFile(arg: string, root = ROOT): { stack: string; file: string } {
  const byPath = /(^|[/\\])Pulumi\.([^/\\]+)\.yaml$/.exec(arg);
  if (byPath) return { stack: byPath[2], file: path.resolve(arg) };
  if (!/^[A-Za-z0-9_.-]+$/.test(arg)) throw new PlanUsageError(`"${arg}" is neither a stack name nor a Pulumi.<stack>.yaml file`);
  return { stack: arg, file: path.join(root, `Pulumi.${arg}.yaml`) };
}

/** The secret config keys a stack file holds encrypted (`secure:`), which the plan cannot read offline. */
export function encryptedKeys(file: string): string[] {
  const doc = yaml.load(fs.readFileSync(file, "utf8")) as { config?: Record<string, unknown> } | undefined;
  return Object.entries(doc?.config ?? {})
    .filter(([, v]) => typeof v === "object" && v !== null && !Array.isArray(v) && "secure" in v)
    .map(([k]) => k);
}

export class PlanUsageError extends Error {}

export const USAGE = [
  "usage: npm run plan -- <stack | path/to/Pulumi.<stack>.yaml> [--mermaid | --json] [--no-fakes] [--diff <git-ref>]",
  "  <stack>          any stack with a Pulumi.<stack>.yaml here (development, development-$USER, ...)",
  "  --mermaid        a Mermaid diagram instead of the resource tree",
  "  --json           the plan (or with --diff, the diff) as JSON",
  "  --no-fakes       fake no secret the stack file lacks: list each missing one and fail, as pulumi up would",
  "  --diff <ref>     what changes against the program and stack file at a Git ref (e.g. main)",
].join("\n");

export interface PlanArgs {
  target: string;
  mermaid: boolean;
  json: boolean;
  noFakes: boolean;
  diff?: string;
}

/** Parse the command line; unknown flags and stray arguments are errors, not ignored. */
export function parsePlanArgs(argv: readonly string[]): PlanArgs {
  const out: Partial<PlanArgs> & { mermaid: boolean; json: boolean; noFakes: boolean } = { mermaid: false, json: false, noFakes: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--mermaid") out.mermaid = true;
    else if (a === "--json") out.json = true;
    else if (a === "--no-fakes") out.noFakes = true;
    else if (a === "--diff" || a.startsWith("--diff=")) {
      const ref = a === "--diff" ? argv[++i] : a.slice("--diff=".length);
      if (!ref || ref.startsWith("-")) throw new PlanUsageError("--diff needs a Git ref, e.g. --diff main");
      out.diff = ref;
    } else if (a.startsWith("-")) throw new PlanUsageError(`unknown option ${a}`);
    else if (out.target) throw new PlanUsageError(`one stack at a time; got "${out.target}" and "${a}"`);
    else out.target = a;
  }
  if (!out.target) throw new PlanUsageError("name a stack");
  if (out.mermaid && out.json) throw new PlanUsageError("--mermaid and --json are exclusive");
  if (out.mermaid && out.diff) throw new PlanUsageError("--mermaid and --diff are exclusive");
  return out as PlanArgs;
}

/**
 * Run the program for a stack file. Secrets the file holds encrypted cannot be read offline,
 * so a fake stands in for each; secrets it lacks are first left out, so the program names
 * the ones this stack needs (`missing`), then faked for the plan unless `noFakes`.
 */
export async function planStack(stack: string, file: string, noFakes: boolean): Promise<{ run?: ProgramRun; missing: string[]; error?: Error }> {
  if (!fs.existsSync(file))
    throw new PlanUsageError(
      `no stack file ${path.relative(process.cwd(), file) || file}: create it with pulumi stack init ${stack} (README, "Your own stack")`,
    );
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

async function main(): Promise<void> {
  let args: PlanArgs;
  let target: { stack: string; file: string };
  try {
    args = parsePlanArgs(process.argv.slice(2));
    target = resolveStackFile(args.target);
  } catch (e) {
    if (!(e instanceof PlanUsageError)) throw e;
    console.error(`${e.message}\n${USAGE}`);
    process.exit(2);
  }
  const { run, missing, error } = await planStack(target.stack, target.file, args.noFakes);

  if (error || !run) {
    if (args.noFakes && missing.length) console.error(`# missing secrets (not faked, --no-fakes): ${missing.join(", ")}`);
    console.error(error?.message ?? "the program failed");
    process.exit(1);
  }
  const plan = planJson(run, missing);
  if (args.diff) {
    const diff = diffPlans(planAtRef(args.diff, target.stack, target.file), plan);
    console.log(args.json ? JSON.stringify(diff, null, 2) : renderDiff(diff, target.stack, args.diff, "working tree"));
    return;
  }
  if (args.json) {
    console.log(JSON.stringify(plan, null, 2));
    return;
  }
  if (missing.length)
    console.log(`# missing secrets, faked for this offline plan (pulumi up would stop; --no-fakes prints the command for each): ${missing.join(", ")}`);
  console.log(args.mermaid ? renderMermaid(run) : renderPlan(run));
}

if (require.main === module) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
