/**
 * One measurement in a fresh process, for `scripts/bench.ts`. Prints one JSON line:
 * resources registered, wall time since process start, peak RSS.
 *   stack <name>          the real program for a stack
 *   floor <count>         the same number of bare resources through the same harness, only @pulumi/pulumi loaded
 *   catalog <stack> <n>   the real program with a synthetic n-key catalog
 */
import { performance } from "node:perf_hooks";

function report(resources: number): void {
  console.log(JSON.stringify({ resources, ms: Math.round(performance.now()), rssMb: Math.round(process.resourceUsage().maxRSS / 1024) }));
}

/**
 * The floor: as many bare resources, registered through the same harness and mocks as the
 * program (so the recording costs the same), with only @pulumi/pulumi and the harness loaded.
 */
async function floor(count: number): Promise<void> {
  const { BareResource, runProgram } = require("../harness") as typeof import("../harness");
  const run = await runProgram({
    stack: "development",
    program: () => {
      for (let i = 0; i < count - 1; i++) new BareResource(`bare-${i}`, { value: `v${i}` });
    },
  });
  report(run.resources.length);
}

async function main(): Promise<void> {
  const [mode, a, b] = process.argv.slice(2);
  if (mode === "floor") return floor(Number(a));
  const { runProgram } = require("../harness") as typeof import("../harness");
  if (mode === "stack") {
    report((await runProgram({ stack: a })).resources.length);
    return;
  }
  if (mode === "catalog") {
    const { run } = require("../stacks/program") as typeof import("../stacks/program");
    const { syntheticCatalog } = require("../harness/synthetic-catalog") as typeof import("../harness/synthetic-catalog");
    report((await runProgram({ stack: a, program: () => run(syntheticCatalog(Number(b))) })).resources.length);
    return;
  }
  throw new Error(`unknown mode ${mode}`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
