/** `.e2e/summary.json`: what ran, against which servers, and what each check found. */
import type { StackResult } from "./stack";

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

export interface Summary {
  startedAt: string;
  /** Working directory with every server's log (kept after the run). */
  workDir: string;
  tools: { name: string; version: string; path: string; from: string }[];
  servers: { name: string; version: string }[];
  stacks: Omit<StackResult, "outputs">[];
  checks: Check[];
  /** What did not run, and why: never counted as passed. */
  skipped: { what: string; reason: string }[];
  /** Step timings of rehearsals (seconds), by name. */
  timings: Record<string, number>;
}

export function emptySummary(workDir: string): Summary {
  return { startedAt: new Date().toISOString(), workDir, tools: [], servers: [], stacks: [], checks: [], skipped: [], timings: {} };
}

export function printSummary(s: Summary): void {
  const lines = [
    "",
    "e2e summary",
    ...s.servers.map((v) => `  server  ${v.name}: ${v.version}`),
    ...s.stacks.map(
      (r) =>
        `  stack   ${r.stack}: up ${r.up ? "ok" : "FAILED"} (${r.resources} resources, ${r.times.up} s), second preview ${r.secondPreviewChanges === 0 ? "no changes" : `${r.secondPreviewChanges ?? "not run"} changes`} (${r.times.preview} s), destroy ${r.destroy ? "ok" : "FAILED"} (${r.times.destroy} s); ${r.seconds} s in all${r.errors.length ? `\n          ${r.errors.join("\n          ")}` : ""}`,
    ),
    `  checks  ${s.checks.filter((c) => c.ok).length} passed, ${s.checks.filter((c) => !c.ok).length} failed`,
    ...s.checks.filter((c) => !c.ok).map((c) => `    FAIL ${c.name}: ${c.detail}`),
    ...s.skipped.map((k) => `  skipped ${k.what}: ${k.reason}`),
    `  logs    ${s.workDir.startsWith("/") ? `${s.workDir}/logs` : s.workDir}`,
  ];
  console.log(lines.join("\n"));
}
