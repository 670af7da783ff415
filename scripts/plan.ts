/**
 * `npm run plan -- <stack | Pulumi.<stack>.yaml> [--mermaid | --json] [--no-fakes] [--diff <ref>]`:
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
import { type ProgramRun, type RecordedResource, ROOT, fakeSecrets, isSecret, readStackFile, tryRunProgram } from "../harness";

const MAX_LEAVES = 14;
const MAX_STRING = 72;

/** Inputs too big to print usefully: a CRD's schema, a chart's whole values. */
const SKIP: Record<string, string[]> = {
  "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition": ["spec.versions"],
};

function short(type: string): string {
  // kubernetes:core/v1:Namespace → k8s:Namespace; aws:secretsmanager/secret:Secret → aws:secretsmanager:Secret
  const [pkg, mod, kind] = type.split(":");
  if (!kind) return type;
  if (pkg === "kubernetes") return `k8s:${kind}`;
  if (pkg === "veza" || pkg === "pulumi") return type;
  return `${pkg}:${mod.split("/")[0]}:${kind}`;
}

/** Flatten inputs into `path=value` leaves, secrets as `[secret]`. */
export function leaves(value: unknown, prefix = "", skip: string[] = []): string[] {
  if (skip.includes(prefix)) return [`${prefix}=…`];
  if (isSecret(value)) return [`${prefix}=[secret]`];
  if (value === null || value === undefined) return [];
  if (Array.isArray(value)) {
    if (value.every((v) => typeof v === "string" || typeof v === "number") && value.length <= 6) {
      return [`${prefix}=[${value.join(",")}]`];
    }
    return value.flatMap((v, i) => leaves(v, `${prefix}[${i}]`, skip));
  }
  if (typeof value === "object") {
    return Object.entries(value as Record<string, unknown>)
      .filter(([k]) => k !== "__defaults")
      .flatMap(([k, v]) => leaves(v, prefix ? `${prefix}.${k}` : k, skip));
  }
  let s = String(value).replace(/\s+/g, " ");
  if (s.length > MAX_STRING) s = `${s.slice(0, MAX_STRING - 1)}…`;
  return [`${prefix}=${s}`];
}

function label(r: RecordedResource): string {
  return `${short(r.type)} ${r.name}`;
}

/** The plan as text: a tree by parent, one resource a line, then its key inputs. */
export function renderPlan(run: ProgramRun): string {
  const byUrn = new Map(run.resources.map((r) => [r.urn, r]));
  const children = new Map<string, RecordedResource[]>();
  for (const r of run.resources) {
    const list = children.get(r.parent) ?? [];
    list.push(r);
    children.set(r.parent, list);
  }
  const custom = run.resources.filter((r) => r.custom).length;
  const lines = [`# stack ${run.stack}: ${run.resources.length} resources (${custom} custom, ${run.resources.length - custom - 1} components), offline plan under Pulumi mocks`];
  const walk = (r: RecordedResource, depth: number): void => {
    const flags = [r.protect ? "protect" : "", r.retainOnDelete ? "retainOnDelete" : "", r.ignoreChanges.length ? `ignoreChanges=${r.ignoreChanges.join(",")}` : ""].filter(Boolean);
    const deps = r.dependencies.map((d) => byUrn.get(d)).filter((d): d is RecordedResource => !!d && d.urn !== r.parent);
    lines.push(`${"  ".repeat(depth)}+ ${label(r)}${flags.length ? `  [${flags.join(" ")}]` : ""}`);
    if (deps.length) lines.push(`${"  ".repeat(depth + 2)}dependsOn: ${deps.map((d) => d.name).join(", ")}`);
    const all = leaves(r.inputs, "", SKIP[r.type] ?? []);
    for (const leaf of all.slice(0, MAX_LEAVES)) lines.push(`${"  ".repeat(depth + 2)}${leaf}`);
    if (all.length > MAX_LEAVES) lines.push(`${"  ".repeat(depth + 2)}… ${all.length - MAX_LEAVES} more inputs`);
    for (const c of children.get(r.urn) ?? []) walk(c, depth + 1);
  };
  for (const root of children.get("") ?? []) walk(root, 0);
  lines.push("", "# outputs");
  for (const leaf of leaves(run.outputs)) lines.push(`  ${leaf}`);
  return lines.join("\n");
}


function metaName(r: RecordedResource): string | undefined {
  const meta = r.inputs.metadata as { name?: unknown } | undefined;
  return typeof meta?.name === "string" ? meta.name : undefined;
}

const STORE_BACKEND: Record<string, string> = { vault: "Vault KV", aws: "AWS Secrets Manager", gcpsm: "Google Secret Manager", azurekv: "Azure Key Vault" };

/**
 * The stack as a Mermaid flowchart: each component a box with its resources (same-type
 * siblings folded into one node), then the secret flow backend → SecretStore →
 * ExternalSecret → Kubernetes Secret → service, read off the registered inputs.
 */
export function renderMermaid(run: ProgramRun): string {
  const lines = ["flowchart LR"];
  // Ids and order from sorted URNs, so the diagram does not depend on registration timing.
  const sorted = [...run.resources].sort((a, b) => a.urn.localeCompare(b.urn));
  const index = new Map(sorted.map((r, i) => [r.urn, i]));
  const nodeId = (r: RecordedResource): string => `n${index.get(r.urn) ?? 0}`;
  const components = sorted.filter((r) => !r.custom && r.type !== "pulumi:pulumi:Stack");
  const ids = new Map<string, string>();
  for (const comp of components) {
    lines.push(`  subgraph ${nodeId(comp)}["${comp.type.split(":").pop()} ${comp.name}"]`);
    const kids = sorted.filter((r) => r.parent === comp.urn && r.custom);
    const byType = new Map<string, RecordedResource[]>();
    for (const k of kids) byType.set(k.type, [...(byType.get(k.type) ?? []), k]);
    for (const [type, list] of byType) {
      const flowing = ["ExternalSecret", "SecretStore", "Secret", "VaultDynamicSecret"].includes(type.split(":").pop() ?? "");
      if (flowing || list.length === 1) {
        for (const k of list) {
          const id = nodeId(k);
          ids.set(k.urn, id);
          lines.push(`    ${id}["${short(k.type)}<br/>${metaName(k) ?? k.name}"]`);
        }
      } else {
        const id = nodeId(list[0]);
        for (const k of list) ids.set(k.urn, id);
        lines.push(`    ${id}["${list.length} × ${short(type)}"]`);
      }
    }
    lines.push("  end");
  }

  // Flow edges from the custom resources' own inputs.
  const stores = run.resources.filter((r) => r.type.endsWith(":SecretStore") || (r.type.includes("CustomResource") && (r.inputs.kind as string) === "SecretStore"));
  const externals = run.resources.filter((r) => (r.inputs.kind as string) === "ExternalSecret");
  const secrets = run.resources.filter((r) => r.type === "kubernetes:core/v1:Secret");
  const edges = new Set<string>();
  const backends = new Map<string, string>();
  for (const s of stores) {
    const providerSpec = ((s.inputs.spec as Record<string, unknown> | undefined)?.provider as Record<string, { path?: string }>) ?? {};
    const provider = Object.keys(providerSpec)[0];
    if (!provider) continue;
    // A Vault store without a KV mount reads other engines' paths: the database engine here.
    const kind = provider === "vault" && !providerSpec.vault?.path ? "vaultdb" : provider;
    const b = `backend_${kind}`;
    if (!backends.has(b)) backends.set(b, kind === "vaultdb" ? "Vault database engine" : (STORE_BACKEND[provider] ?? provider));
    edges.add(`  ${b} --> ${ids.get(s.urn)}`);
  }
  // VaultDynamicSecret generators read the database engine with their own Vault login.
  const generators = run.resources.filter((r) => (r.inputs.kind as string) === "VaultDynamicSecret");
  for (const g of generators) {
    if (!backends.has("backend_vaultdb")) backends.set("backend_vaultdb", "Vault database engine");
    edges.add(`  backend_vaultdb --> ${ids.get(g.urn)}`);
  }
  const services = new Map<string, string>();
  const targetNode = new Map<string, string>();
  for (const e of externals) {
    const spec = e.inputs.spec as { secretStoreRef?: { name?: string }; dataFrom?: { sourceRef?: { storeRef?: { name?: string }; generatorRef?: { name?: string } } }[]; target?: { name?: string } } | undefined;
    const storeNames = [spec?.secretStoreRef?.name, ...(spec?.dataFrom ?? []).map((d) => d.sourceRef?.storeRef?.name)];
    for (const name of storeNames) {
      const store = name ? stores.find((s) => metaName(s) === name) : undefined;
      if (store) edges.add(`  ${ids.get(store.urn)} --> ${ids.get(e.urn)}`);
    }
    for (const d of spec?.dataFrom ?? []) {
      const generator = d.sourceRef?.generatorRef?.name ? generators.find((g) => metaName(g) === d.sourceRef?.generatorRef?.name) : undefined;
      if (generator) edges.add(`  ${ids.get(generator.urn)} --> ${ids.get(e.urn)}`);
    }
    const target = spec?.target?.name ?? metaName(e);
    if (target) {
      const t = `k8s_${target.replace(/[^A-Za-z0-9]/g, "_")}`;
      targetNode.set(target, t);
      edges.add(`  ${ids.get(e.urn)} --> ${t}[("Secret ${target}")]`);
    }
  }
  for (const s of secrets) {
    const n = metaName(s);
    if (n) targetNode.set(n, ids.get(s.urn) ?? "");
  }
  // Which service reads which Secret: the RBAC Roles' resourceNames and their bindings.
  const roles = run.resources.filter((r) => r.type === "kubernetes:rbac.authorization.k8s.io/v1:Role");
  const bindings = run.resources.filter((r) => r.type === "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding");
  for (const role of roles) {
    const rules = (role.inputs.rules as { resources?: string[]; resourceNames?: string[] }[] | undefined) ?? [];
    const names = rules.filter((x) => x.resources?.includes("secrets")).flatMap((x) => x.resourceNames ?? []);
    const binding = bindings.find((b) => (b.inputs.roleRef as { name?: string } | undefined)?.name === metaName(role));
    const subjects = ((binding?.inputs.subjects as { name?: string }[] | undefined) ?? []).map((s) => s.name ?? "");
    for (const n of names) {
      for (const svc of subjects) {
        const node = targetNode.get(n);
        if (!node || !svc) continue;
        const sid = `svc_${svc.replace(/[^A-Za-z0-9]/g, "_")}`;
        services.set(sid, svc);
        edges.add(`  ${node} --> ${sid}`);
      }
    }
  }
  for (const [id, name] of backends) lines.push(`  ${id}[/"${name}"/]`);
  for (const [id, name] of services) lines.push(`  ${id}(["${name}"])`);
  lines.push(...edges);
  return lines.join("\n");
}

/** A resource as `--json` prints it: inputs flattened to leaves, secrets as `[secret]`. */
export interface PlannedResource {
  urn: string;
  type: string;
  name: string;
  parent: string;
  custom: boolean;
  protect: boolean;
  retainOnDelete: boolean;
  ignoreChanges: string[];
  dependsOn: string[];
  inputs: Record<string, string>;
}

export interface PlanJson {
  stack: string;
  /** Secret config keys the stack file lacks (faked for this plan unless `--no-fakes`). */
  missingSecrets: string[];
  resources: PlannedResource[];
  outputs: Record<string, string>;
}

function leafMap(value: unknown, skip: string[] = []): Record<string, string> {
  return Object.fromEntries(
    leaves(value, "", skip).map((l) => {
      const eq = l.indexOf("=");
      return [l.slice(0, eq), l.slice(eq + 1)];
    }),
  );
}

/** The plan as data, for `--json` and for diffs. */
export function planJson(run: ProgramRun, missingSecrets: string[] = []): PlanJson {
  return {
    stack: run.stack,
    missingSecrets,
    resources: run.resources.map((r) => ({
      urn: r.urn,
      type: r.type,
      name: r.name,
      parent: r.parent,
      custom: r.custom,
      protect: r.protect,
      retainOnDelete: r.retainOnDelete,
      ignoreChanges: [...r.ignoreChanges].sort(),
      dependsOn: [...r.dependencies].sort(),
      inputs: leafMap(r.inputs, SKIP[r.type] ?? []),
    })),
    outputs: leafMap(run.outputs),
  };
}

export interface PlanDiff {
  added: PlannedResource[];
  removed: PlannedResource[];
  /** Same URN, different inputs or options: each differing field as `[before, after]`. */
  changed: { urn: string; type: string; name: string; fields: Record<string, [string | undefined, string | undefined]> }[];
}

/** What changes between two plans, by URN (a renamed resource is a removal and an addition unless aliased). */
export function diffPlans(before: PlanJson, after: PlanJson): PlanDiff {
  const old = new Map(before.resources.map((r) => [r.urn, r]));
  const cur = new Map(after.resources.map((r) => [r.urn, r]));
  const flat = (r: PlannedResource): Record<string, string> => ({
    ...Object.fromEntries(Object.entries(r.inputs).map(([k, v]) => [`inputs.${k}`, v])),
    protect: String(r.protect),
    retainOnDelete: String(r.retainOnDelete),
    ignoreChanges: r.ignoreChanges.join(","),
    dependsOn: r.dependsOn.join(","),
    parent: r.parent,
  });
  const changed: PlanDiff["changed"] = [];
  for (const [urn, a] of cur) {
    const b = old.get(urn);
    if (!b) continue;
    const fa = flat(a);
    const fb = flat(b);
    const fields: Record<string, [string | undefined, string | undefined]> = {};
    for (const k of [...new Set([...Object.keys(fb), ...Object.keys(fa)])].sort()) if (fa[k] !== fb[k]) fields[k] = [fb[k], fa[k]];
    if (Object.keys(fields).length) changed.push({ urn, type: a.type, name: a.name, fields });
  }
  return {
    added: after.resources.filter((r) => !old.has(r.urn)),
    removed: before.resources.filter((r) => !cur.has(r.urn)),
    changed,
  };
}

export function renderDiff(diff: PlanDiff, stack: string, from: string, to: string): string {
  const lines = [`# diff ${stack}: ${from} → ${to}: ${diff.added.length} to create, ${diff.removed.length} to delete, ${diff.changed.length} to update (offline, under Pulumi mocks)`];
  for (const r of diff.added) lines.push(`+ ${short(r.type)} ${r.name}`);
  for (const r of diff.removed) lines.push(`- ${short(r.type)} ${r.name}${r.protect ? "  [protect: pulumi up would refuse]" : ""}`);
  for (const c of diff.changed) {
    lines.push(`~ ${short(c.type)} ${c.name}`);
    for (const [k, [a, b]] of Object.entries(c.fields)) lines.push(`    ${k}: ${a ?? "(none)"} → ${b ?? "(none)"}`);
  }
  if (lines.length === 1) lines.push("(no changes)");
  return lines.join("\n");
}

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
  if (!fs.existsSync(file)) throw new PlanUsageError(`no stack file ${path.relative(process.cwd(), file) || file}: create it with pulumi stack init ${stack} (README, "Your own stack")`);
  const values = readStackFile(file);
  const encrypted = new Set(encryptedKeys(file));
  const fakes = fakeSecrets();
  const pick = (keys: (k: string) => boolean): Record<string, string> => Object.fromEntries(Object.entries(fakes).filter(([k]) => !(k in values) && keys(k)));
  const first = await tryRunProgram({ stack, config: values, secrets: pick((k) => encrypted.has(k)) });
  const missing =
    first.error instanceof ConfigError
      ? first.error.problems.filter((p) => `${PROJECT}:${p.key}` in fakes && !encrypted.has(`${PROJECT}:${p.key}`) && p.message.startsWith("is required")).map((p) => p.key)
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
  if (missing.length) console.log(`# missing secrets, faked for this offline plan (pulumi up would stop; --no-fakes prints the command for each): ${missing.join(", ")}`);
  console.log(args.mermaid ? renderMermaid(run) : renderPlan(run));
}

if (require.main === module) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
