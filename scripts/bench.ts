/**
 * `npm run bench`: per stack, the resources registered, wall time and peak RSS of
 * evaluating the program under mocks in a fresh process, against a floor program that
 * registers as many bare resources through the same harness with only @pulumi/pulumi loaded. Then the program
 * with synthetic catalogs of growing size, to show time grows linearly with keys.
 * Targets (README): ratio ≤ 1.5 and peak RSS ≤ 400 MB per stack.
 */
import { spawnSync } from "node:child_process";
import * as path from "node:path";

interface Sample {
  resources: number;
  ms: number;
  rssMb: number;
}

const ROOT = path.resolve(__dirname, "..");
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

const OUT = path.join(ROOT, ".bench", "js");

/**
 * Compile once with tsc, so each measurement runs plain JavaScript: the figures are the
 * program's and the SDKs', not the TypeScript loader's (which adds about a second to every
 * process and most of the noise).
 */
function compile(): void {
  const res = spawnSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", "tsconfig.json", "--noEmit", "false", "--outDir", OUT], { cwd: ROOT, encoding: "utf8" });
  if (res.status !== 0) throw new Error(`tsc failed: ${res.stdout}${res.stderr}`);
}

function once(args: string[]): Sample {
  const res = spawnSync(process.execPath, [path.join(OUT, "scripts", "bench-child.js"), ...args], { cwd: ROOT, encoding: "utf8" });
  if (res.status !== 0) throw new Error(`bench-child ${args.join(" ")} failed: ${res.stderr}`);
  return JSON.parse(res.stdout.trim().split("\n").pop() ?? "{}") as Sample;
}

/** Median of `RUNS` fresh processes (time), max RSS. */
function measure(args: string[]): Sample {
  const samples = Array.from({ length: RUNS }, () => once(args));
  const ms = samples.map((s) => s.ms).sort((a, b) => a - b)[Math.floor(samples.length / 2)];
  return { resources: samples[0].resources, ms, rssMb: Math.max(...samples.map((s) => s.rssMb)) };
}

function main(): void {
  compile();
  console.log(`# npm run bench (median of ${RUNS} fresh processes running the tsc output in .bench/js; node ${process.version})`);
  console.log("stack        resources  program ms  floor ms  ratio  peak RSS MB  targets");
  let ok = true;
  for (const stack of ["development", "staging", "production"]) {
    const p = measure(["stack", stack]);
    const f = measure(["floor", String(p.resources)]);
    const ratio = p.ms / f.ms;
    const pass = ratio <= 1.5 && p.rssMb <= 400;
    ok &&= pass;
    console.log(
      `${stack.padEnd(12)} ${String(p.resources).padStart(9)} ${String(p.ms).padStart(11)} ${String(f.ms).padStart(9)} ${ratio.toFixed(2).padStart(6)} ${String(p.rssMb).padStart(12)}  ${pass ? "ok" : "MISSED (ratio ≤ 1.5, RSS ≤ 400 MB)"}`,
    );
  }
  console.log("\n# synthetic catalog (production stack): time should grow linearly with keys");
  console.log("keys  resources     ms  peak RSS MB  ms per key added since the previous row");
  const sizes = [250, 500, 1000];
  const samples = sizes.map((n) => measure(["catalog", "production", String(n)]));
  const marginal: number[] = [];
  samples.forEach((s, i) => {
    const m = i === 0 ? undefined : (s.ms - samples[i - 1].ms) / (sizes[i] - sizes[i - 1]);
    if (m !== undefined) marginal.push(m);
    console.log(`${String(sizes[i]).padStart(4)} ${String(s.resources).padStart(10)} ${String(s.ms).padStart(6)} ${String(s.rssMb).padStart(12)}  ${m === undefined ? "" : m.toFixed(1)}`);
  });
  // Linear: a key costs about the same whether it is the 300th or the 900th (within 50%, noise).
  const spread = Math.max(...marginal) / Math.min(...marginal);
  const linear = spread <= 1.5;
  console.log(`linear in keys: ${linear ? "yes" : "NO"} (marginal cost per key ${marginal.map((m) => m.toFixed(1)).join(" then ")} ms)`);
  if (!ok || !linear) process.exitCode = 1;
}

main();
