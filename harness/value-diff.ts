/**
 * How the offline diff shows one changed value: short values as `before → after`, long
 * ones, multi-line ones (Vault HCL policies, Helm's raft config) and JSON documents (IAM and
 * KMS policies, pretty-printed first) as a unified line diff of the whole value, never cut.
 * Values arrive already masked: a secret is the string `[secret]`.
 */
import { structuredPatch } from "diff";

/** Values longer than this, or spanning lines, get a line diff instead of `a → b`. */
export const INLINE_MAX = 72;

/** A JSON object or array as indented lines; anything else unchanged. */
export function documentText(value: string): string {
  const t = value.trim();
  if (!(t.startsWith("{") && t.endsWith("}")) && !(t.startsWith("[") && t.endsWith("]"))) return value;
  try {
    return JSON.stringify(JSON.parse(t), null, 2);
  } catch {
    return value;
  }
}

/** True when a value is shown as a line diff rather than inline. */
export function needsLineDiff(before: string | undefined, after: string | undefined): boolean {
  return [before, after].some((v) => v !== undefined && (v.length > INLINE_MAX || v.includes("\n") || documentText(v) !== v));
}

/**
 * The change of one value as lines, without indentation: `["a → b"]` inline, else a unified
 * diff (`@@ -l,n +l,n @@` hunks, ` `/`-`/`+` lines, 3 lines of context) of the whole value.
 */
export function valueDiff(before: string | undefined, after: string | undefined, context = 3): string[] {
  if (!needsLineDiff(before, after)) return [`${before ?? "(none)"} → ${after ?? "(none)"}`];
  const a = before === undefined ? "" : `${documentText(before)}\n`;
  const b = after === undefined ? "" : `${documentText(after)}\n`;
  const patch = structuredPatch("before", "after", a, b, "", "", { context });
  const out: string[] = [];
  if (before === undefined) out.push("(none before)");
  if (after === undefined) out.push("(none after)");
  for (const h of patch.hunks) {
    out.push(`@@ -${h.oldStart},${h.oldLines} +${h.newStart},${h.newLines} @@`);
    for (const line of h.lines) if (!line.startsWith("\\")) out.push(line);
  }
  return out;
}
