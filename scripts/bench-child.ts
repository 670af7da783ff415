/**
 * One measurement in a fresh process, for `scripts/bench.ts`. Prints one JSON line:
 * resources registered, wall time since process start, peak RSS.
 *   stack <name>          the real program for a stack
 *   floor <count>         the same number of bare resources, only @pulumi/pulumi loaded
 *   catalog <stack> <n>   the real program with a synthetic n-key catalog
 */
import { performance } from "node:perf_hooks";

function report(resources: number): void {
  console.log(JSON.stringify({ resources, ms: Math.round(performance.now()), rssMb: Math.round(process.resourceUsage().maxRSS / 1024) }));
}

async function floor(count: number): Promise<void> {
  // require, not import(): the child runs with tsx's CommonJS hook only.
  const pulumi = require("@pulumi/pulumi") as typeof import("@pulumi/pulumi");
  class Bare extends pulumi.CustomResource {
    constructor(name: string, props: Record<string, unknown>) {
      super("bench:index:Bare", name, props);
    }
  }
  let registered = 0;
  await pulumi.runtime.setMocks({ newResource: (a) => ((registered += 1), { id: `${a.name}-id`, state: a.inputs }), call: () => ({}) }, "veza-secrets", "bench", false);
  await pulumi.runtime.runInPulumiStack(async () => {
    for (let i = 0; i < count - 1; i++) new Bare(`bare-${i}`, { value: `v${i}` });
    return {};
  });
  await (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
  report(registered);
}

async function main(): Promise<void> {
  const [mode, a, b] = process.argv.slice(2);
  if (mode === "floor") return floor(Number(a));
  const { runProgram } = require("./harness") as typeof import("./harness");
  if (mode === "stack") {
    report((await runProgram({ stack: a })).resources.length);
    return;
  }
  if (mode === "catalog") {
    const { run } = require("../stacks/program") as typeof import("../stacks/program");
    const { syntheticCatalog } = require("./synthetic-catalog") as typeof import("./synthetic-catalog");
    report((await runProgram({ stack: a, program: () => run(syntheticCatalog(Number(b))) })).resources.length);
    return;
  }
  throw new Error(`unknown mode ${mode}`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
