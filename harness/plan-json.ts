/**
 * The plan as data (`npm run plan -- --json`) and the difference between two plans
 * (`--diff main`): resources by the URN the engine gives them, with their leaf inputs whole
 * (never cut; secrets masked as `[secret]`), and each change marked as an update or a
 * replacement by the providers' rules (harness/replace-rules.ts).
 */
import { SKIP, leafEntries, oneLine, short } from "./plan-render";
import { REPLACE_RULES, UNKNOWN_RULES, changeKind, type ChangeKind, type ReplaceRule, underPath } from "./replace-rules";
import { valueDiff } from "./value-diff";
import { type ProgramRun } from ".";

/** A resource as `--json` prints it: inputs flattened to leaves, secrets as `[secret]`. */
export interface PlannedResource {
  /** The URN the engine gives it (`urn:pulumi:<stack>::<project>::<parent types>$<type>::<name>`), for `pulumi up --target/--replace`. */
  urn: string;
  type: string;
  name: string;
  /** The parent's URN; empty for the stack itself. */
  parent: string;
  custom: boolean;
  protect: boolean;
  retainOnDelete: boolean;
  ignoreChanges: string[];
  dependsOn: string[];
  inputs: Record<string, string>;
}

/** The `format` of the plans this code writes: whole values and the engine's URNs. */
export const PLAN_FORMAT = 2;

export interface PlanJson {
  /**
   * 2: whole values, the engine's URNs. Absent in plans from before it (a Git ref's own
   * `npm run plan`): values were cut at 72 characters with their whitespace collapsed, and
   * URNs carried the root stack's type.
   */
  format?: number;
  stack: string;
  /** Secret config keys the stack file lacks (faked for this plan unless `--no-fakes`). */
  missingSecrets: string[];
  resources: PlannedResource[];
  outputs: Record<string, string>;
}

const ROOT_STACK = "pulumi:pulumi:Stack";

/**
 * The URN the engine gives each resource, by the URN it was recorded under. The engine's rule
 * (pulumi/pulumi sdk/go/common/resource/urn.go, `NewURN`): the type is qualified by the
 * parent's own qualified type, except when the parent is the root stack. The mock monitor
 * differs on both counts (it keeps the stack's type and only the parent's last type), so the
 * plan recomputes every URN from the chain of parents.
 */
export function engineUrns(resources: readonly { urn: string; type: string; name: string; parent: string }[]): Map<string, string> {
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const qualified = new Map<string, string>();
  const qualify = (urn: string, seen: Set<string>): string => {
    const known = qualified.get(urn);
    if (known !== undefined) return known;
    const r = byUrn.get(urn);
    // Not recorded (should not happen): take the type from the URN itself.
    if (!r) return urn.split("::")[2] ?? "";
    const parent = r.parent && !seen.has(r.parent) ? byUrn.get(r.parent) : undefined;
    const parentType = parent && parent.type !== ROOT_STACK ? qualify(parent.urn, new Set([...seen, urn])) : "";
    const q = parentType ? `${parentType}$${r.type}` : r.type;
    qualified.set(urn, q);
    return q;
  };
  return new Map(
    resources.map((r) => {
      const [, stack = "", project = ""] = /^urn:pulumi:([^:]*)::([^:]*)::/.exec(r.urn) ?? [];
      return [r.urn, `urn:pulumi:${stack}::${project}::${qualify(r.urn, new Set())}::${r.name}`];
    }),
  );
}

/** The plan as data, for `--json` and for diffs. */
export function planJson(run: ProgramRun, missingSecrets: string[] = []): PlanJson {
  const urn = engineUrns(run.resources);
  const map = (u: string): string => urn.get(u) ?? u;
  return {
    format: PLAN_FORMAT,
    stack: run.stack,
    missingSecrets,
    resources: run.resources.map((r) => ({
      urn: map(r.urn),
      type: r.type,
      name: r.name,
      parent: r.parent ? map(r.parent) : "",
      custom: r.custom,
      protect: r.protect,
      retainOnDelete: r.retainOnDelete,
      ignoreChanges: [...r.ignoreChanges].sort(),
      dependsOn: r.dependencies.map(map).sort(),
      inputs: Object.fromEntries(leafEntries(r.inputs, "", SKIP[r.type] ?? [])),
    })),
    outputs: Object.fromEntries(leafEntries(run.outputs)),
  };
}

/** A plan of any format with the engine's URNs (older plans recorded the mock's). */
export function withEngineUrns(plan: PlanJson): PlanJson {
  if ((plan.format ?? 1) >= PLAN_FORMAT) return plan;
  const urn = engineUrns(plan.resources);
  const map = (u: string): string => urn.get(u) ?? u;
  return {
    ...plan,
    resources: plan.resources.map((r) => ({ ...r, urn: map(r.urn), parent: r.parent ? map(r.parent) : "", dependsOn: r.dependsOn.map(map).sort() })),
  };
}

/** What a change to one resource does, by the providers' rules. */
export type ChangeAction = "update" | "replace" | "update-or-replace";

export interface ResourceChange {
  urn: string;
  type: string;
  name: string;
  /** `replace` when a changed input forces a new resource, `update-or-replace` when the rules are unknown for one. */
  action: ChangeAction;
  /** Each differing field, whole, as `[before, after]` (`inputs.<path>`, or an option: protect, parent, ...). */
  fields: Record<string, [string | undefined, string | undefined]>;
  /** The fields that replace the resource. */
  replaceOn: string[];
  /** The input fields whose effect the offline plan cannot know (unknown provider rules). */
  unknownOn: string[];
  /** Input fields the resource's `ignoreChanges` covers: the engine does not act on them. */
  ignored: string[];
  /** Fields whose `before` value an older plan cut at 72 characters (shown as it has it). */
  cutBefore: string[];
  /** For a replacement: the resources that read its outputs (they may change with it). */
  dependents: string[];
  /** The resource is protected: `pulumi up` refuses to replace (delete) it. */
  protect: boolean;
}

export interface PlanDiff {
  added: PlannedResource[];
  removed: PlannedResource[];
  /** Same URN, different inputs or options. */
  changed: ResourceChange[];
}

/** How an older plan printed a value: whitespace collapsed, cut at 72 characters. */
function legacyForm(value: string): string {
  return oneLine(value, 72);
}

/** True when an ignoreChanges entry (`spec.replicas`, `data["k"]`) covers the input at `path`. */
function ignoredBy(path: string, ignoreChanges: readonly string[]): boolean {
  return ignoreChanges.some((i) => underPath(path, i.replace(/\["([^"]+)"\]/g, ".$1")));
}

/**
 * What changes between two plans, by URN (a renamed resource is a removal and an addition
 * unless aliased). Plans of the older format are read too: their URNs are recomputed, and a
 * value they cut is compared by its cut form.
 */
export function diffPlans(beforePlan: PlanJson, afterPlan: PlanJson, rules: Record<string, ReplaceRule> = REPLACE_RULES): PlanDiff {
  const legacy = (beforePlan.format ?? 1) < PLAN_FORMAT;
  const before = withEngineUrns(beforePlan);
  const after = withEngineUrns(afterPlan);
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
  const changed: ResourceChange[] = [];
  for (const [urn, a] of cur) {
    const b = old.get(urn);
    if (!b) continue;
    const fa = flat(a);
    const fb = flat(b);
    const fields: ResourceChange["fields"] = {};
    const cutBefore: string[] = [];
    for (const k of [...new Set([...Object.keys(fb), ...Object.keys(fa)])].sort()) {
      const [x, y] = [fb[k], fa[k]];
      if (x === y) continue;
      if (legacy && k.startsWith("inputs.") && x !== undefined && y !== undefined && legacyForm(y) === x) continue;
      fields[k] = [x, y];
      if (legacy && x !== undefined && x.endsWith("…") && x.length === 72) cutBefore.push(k);
    }
    if (Object.keys(fields).length === 0) continue;
    const inputs = Object.keys(fields)
      .filter((k) => k.startsWith("inputs."))
      .map((k) => k.slice("inputs.".length));
    const ignored = inputs.filter((p) => ignoredBy(p, a.ignoreChanges));
    const acted = inputs.filter((p) => !ignored.includes(p));
    // Components have no provider: a change to one is the engine's own bookkeeping.
    const kinds = new Map<string, ChangeKind>(acted.map((p) => [p, a.custom ? changeKind(a.type, p, rules) : "update"]));
    const replaceOn = acted.filter((p) => kinds.get(p) === "replace");
    const unknownOn = acted.filter((p) => kinds.get(p) === "unknown");
    const action: ChangeAction = replaceOn.length ? "replace" : unknownOn.length ? "update-or-replace" : "update";
    const dependents = action === "replace" ? after.resources.filter((r) => r.dependsOn.includes(urn) && r.parent !== urn).map((r) => r.urn) : [];
    changed.push({ urn, type: a.type, name: a.name, action, fields, replaceOn, unknownOn, ignored, cutBefore, dependents, protect: a.protect });
  }
  return {
    added: after.resources.filter((r) => !old.has(r.urn)),
    removed: before.resources.filter((r) => !cur.has(r.urn)),
    changed,
  };
}

const SYMBOL: Record<ChangeAction, string> = { update: "~", replace: "+-", "update-or-replace": "~?" };

/** The diff for reading: every changed value whole (long and multi-line ones as a line diff), each replacement marked. */
export function renderDiff(diff: PlanDiff, stack: string, from: string, to: string, rules: Record<string, ReplaceRule> = REPLACE_RULES): string {
  const count = (a: ChangeAction): number => diff.changed.filter((c) => c.action === a).length;
  const unknown = count("update-or-replace");
  const lines = [
    `# diff ${stack}: ${from} → ${to}: ${diff.added.length} to create, ${diff.removed.length} to delete, ${count("update")} to update, ${count("replace")} to replace${unknown ? `, ${unknown} to update or replace (rules unknown)` : ""} (offline, under Pulumi mocks)`,
  ];
  for (const r of diff.added) lines.push(`+ ${short(r.type)} ${r.name}`);
  for (const r of diff.removed) lines.push(`- ${short(r.type)} ${r.name}${r.protect ? "  [protect: pulumi up would refuse]" : ""}`);
  // A URN's last two parts are its qualified type and name.
  const label = (urn: string): string => {
    const parts = urn.split("::");
    return `${short(parts[2]?.split("$").pop() ?? "")} ${parts[3] ?? urn}`;
  };
  for (const c of diff.changed) {
    const head = `${SYMBOL[c.action]} ${short(c.type)} ${c.name}`;
    if (c.action === "replace")
      lines.push(`${head}  [replace: ${c.replaceOn.join(", ")} forces a new resource${c.protect ? "; protect: pulumi up would refuse" : ""}]`);
    else if (c.action === "update-or-replace") lines.push(`${head}  [${UNKNOWN_RULES} (${rules[c.type] ? `${c.type}: ${c.unknownOn.join(", ")}` : c.type})]`);
    else lines.push(head);
    for (const [k, [a, b]] of Object.entries(c.fields)) {
      const path = k.startsWith("inputs.") ? k.slice("inputs.".length) : "";
      const mark = !path
        ? ""
        : c.ignored.includes(path)
          ? "  [ignored: ignoreChanges]"
          : c.replaceOn.includes(path)
            ? "  [replaces]"
            : c.unknownOn.includes(path)
              ? "  [update or replace?]"
              : "";
      const cut = c.cutBefore.includes(k) ? "  [before: cut by the older plan at the base]" : "";
      const [first, ...rest] = valueDiff(a, b);
      if (rest.length === 0) lines.push(`    ${k}: ${first}${mark}${cut}`);
      else lines.push(`    ${k}:${mark}${cut}`, ...[first, ...rest].map((l) => `      ${l}`));
    }
    // The new resource's outputs (a new password, a new ARN) reach these at apply time; the
    // offline plan cannot show their new values.
    if (c.dependents.length) lines.push(`    read by, so updated with it: ${c.dependents.map(label).join(", ")}`);
  }
  if (lines.length === 1) lines.push("(no changes)");
  return lines.join("\n");
}
