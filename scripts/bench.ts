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

function once(args: string[]): Sample {
  const res = spawnSync(process.execPath, ["--require", "tsx/cjs", path.join(__dirname, "bench-child.ts"), ...args], { cwd: ROOT, encoding: "utf8" });
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
  console.log(`# npm run bench (median of ${RUNS} fresh processes; node ${process.version})`);
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
  console.log("keys  resources  ms    ms/key above the 10-key program");
  const base = measure(["catalog", "production", "10"]);
  console.log(`${"10".padStart(4)} ${String(base.resources).padStart(10)} ${String(base.ms).padStart(5)}`);
  const perKey: number[] = [];
  for (const n of [250, 500, 1000]) {
    const s = measure(["catalog", "production", String(n)]);
    perKey.push((s.ms - base.ms) / (n - 10));
    console.log(`${String(n).padStart(4)} ${String(s.resources).padStart(10)} ${String(s.ms).padStart(5)}  ${perKey[perKey.length - 1].toFixed(2)}`);
  }
  // Linear: the cost of one more key is the same at 250, 500 and 1,000 keys (within 25%).
  const spread = Math.max(...perKey) / Math.min(...perKey);
  const linear = spread <= 1.25;
  console.log(`linear in keys: ${linear ? "yes" : "NO"} (largest/smallest per-key cost ${spread.toFixed(2)})`);
  if (!ok || !linear) process.exitCode = 1;
}

main();
