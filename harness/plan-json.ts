/**
 * The plan as data (`npm run plan -- --json`) and the difference between two plans
 * (`--diff main`): resources by URN-like key with their leaf inputs, secrets masked.
 */
import { SKIP, leaves, short } from "./plan-render";
import { type ProgramRun } from ".";

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
  const lines = [
    `# diff ${stack}: ${from} → ${to}: ${diff.added.length} to create, ${diff.removed.length} to delete, ${diff.changed.length} to update (offline, under Pulumi mocks)`,
  ];
  for (const r of diff.added) lines.push(`+ ${short(r.type)} ${r.name}`);
  for (const r of diff.removed) lines.push(`- ${short(r.type)} ${r.name}${r.protect ? "  [protect: pulumi up would refuse]" : ""}`);
  for (const c of diff.changed) {
    lines.push(`~ ${short(c.type)} ${c.name}`);
    for (const [k, [a, b]] of Object.entries(c.fields)) lines.push(`    ${k}: ${a ?? "(none)"} → ${b ?? "(none)"}`);
  }
  if (lines.length === 1) lines.push("(no changes)");
  return lines.join("\n");
}
