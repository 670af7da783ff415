/**
 * `npm run plan -- production` (a stack name or its file; `--mermaid`, `--json`, `--no-fakes`, `--diff main`):
 * run the real program for any stack file under Pulumi mocks and print what it would
 * register (type, name, parent, key inputs; secrets as `[secret]`), a Mermaid diagram, JSON,
 * or the difference from the same stack at a Git ref. Secrets the stack file lacks are
 * listed as missing (and faked, unless `--no-fakes`). Needs no credentials, cluster or CLI.
 *
 * This file checks the command line and the stack file with Node's own modules only, and
 * loads the program (scripts/plan-run.ts: the SDK, the providers, the harness) after that, so
 * a mistyped flag or stack is answered at once rather than after the whole program loads.
 */
import * as fs from "node:fs";
import * as path from "node:path";

/** The repository (this file's parent folder). */
const ROOT = path.resolve(__dirname, "..");

/** The environments a stack's name must start with (stacks/schema.ts ENVIRONMENTS; a test keeps them equal). */
export const STACK_ENVIRONMENTS = ["development", "staging", "production"] as const;

export class PlanUsageError extends Error {}
/** The stack named has no stack file: the message lists those that do (no usage text needed). */
export class UnknownStackError extends PlanUsageError {}

/** The stacks that have a stack file in `dir`, by name, sorted. */
export function stacksIn(dir: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
    .filter((s): s is string => !!s)
    .sort();
}

/** True when the program accepts a stack of this name: an environment, or `<environment>-…`. */
export function validStackName(stack: string): boolean {
  return STACK_ENVIRONMENTS.some((e) => stack === e || stack.startsWith(`${e}-`));
}

/**
 * Why `stack` cannot be planned from `file`, which does not exist: the stacks that do, the
 * likely one meant, and how to create a new stack only when the program would accept its name.
 */
export function missingStackMessage(stack: string, file: string): string {
  const existing = stacksIn(path.dirname(file));
  const shown = path.relative(process.cwd(), file) || file;
  const lines = [`no stack "${stack}": there is no ${shown}.`];
  lines.push(existing.length ? `Stacks with a file there: ${existing.join(", ")}.` : "No Pulumi.<stack>.yaml there at all.");
  const lower = stack.toLowerCase();
  const meant = existing.filter((s) => lower.length >= 3 && (s.startsWith(lower) || lower.startsWith(s)));
  if (meant.length) lines.push(`Did you mean ${meant.join(" or ")}? (npm run plan -- ${meant[0]})`);
  if (validStackName(stack)) lines.push(`To create it: pulumi stack init ${stack}, then set its config (README, "Your own stack on a local cluster").`);
  else
    lines.push(
      `A new stack's name must be its environment or start with "<environment>-" (${STACK_ENVIRONMENTS.join(", ")}), e.g. development-$USER (README, "Your own stack on a local cluster").`,
    );
  return lines.join("\n");
}

/** The stack file a plan argument names: a path to a `Pulumi.<stack>.yaml`, or a stack name. */
export function resolveStackFile(arg: string, root = ROOT): { stack: string; file: string } {
  const byPath = /(^|[/\\])Pulumi\.([^/\\]+)\.yaml$/.exec(arg);
  if (byPath) return { stack: byPath[2], file: path.resolve(arg) };
  if (!/^[A-Za-z0-9_.-]+$/.test(arg)) throw new PlanUsageError(`"${arg}" is neither a stack name nor a Pulumi.<stack>.yaml file`);
  return { stack: arg, file: path.join(root, `Pulumi.${arg}.yaml`) };
}

/** `resolveStackFile`, then the file must exist (else the stacks that do, not a dead-end command). */
export function existingStackFile(arg: string, root = ROOT): { stack: string; file: string } {
  const target = resolveStackFile(arg, root);
  if (!fs.existsSync(target.file)) throw new UnknownStackError(missingStackMessage(target.stack, target.file));
  return target;
}

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

async function main(): Promise<void> {
  let args: PlanArgs;
  let target: { stack: string; file: string };
  try {
    args = parsePlanArgs(process.argv.slice(2));
    target = existingStackFile(args.target);
  } catch (e) {
    if (!(e instanceof PlanUsageError)) throw e;
    console.error(e instanceof UnknownStackError ? e.message : `${e.message}\n\n${USAGE}`);
    process.exit(2);
  }
  // Only now the program and everything it loads (a require, as scripts/bench-child.ts does).
  const { runPlanCommand } = require("./plan-run") as typeof import("./plan-run");
  const { stdout, stderr, code } = await runPlanCommand(args, target);
  if (stderr) console.error(stderr);
  if (stdout) console.log(stdout);
  if (code !== 0) process.exit(code);
}

if (require.main === module) {
  // `npm run plan -- production --json | head`: a reader that stops early is not an error.
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") process.exit(0);
    throw e;
  });
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
