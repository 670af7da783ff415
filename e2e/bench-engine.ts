/**
 * `BENCH_ONLY=engine npm run bench`: the development stack's real `pulumi up` and `preview`
 * (engine, CLI, pulumi-resource-kubernetes against the e2e's API server; stand-in vault and
 * random providers against a Vault dev server), against a floor: as many plain ConfigMaps
 * through the same engine and provider. Prints the times and their ratios; target: up and
 * preview within 4× the floor (see ENGINE_TARGET in scripts/bench.ts) (the program talks to two more providers and to Vault).
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import * as k8s from "@pulumi/kubernetes/core/v1";
import { LocalWorkspace, PulumiCommand } from "@pulumi/pulumi/automation";
import { applyEsoCrds } from "./crds";
import { configureDevelopment } from "./development";
import { makeCa } from "./pki";
import { secondsSince, stopAll } from "./processes";
import { standInBin } from "./providers/bin";
import type { Context } from "./run";
import { startApiServer, startControllerManager, startEtcd } from "./servers";
import { runProgram } from "./stack";
import { emptySummary } from "./summary";
import { TOOLS, findTool } from "./tools";

export interface EngineFigures {
  resources: number;
  program: { up: number; preview: number };
  floor: { up: number; preview: number };
}

/** Run the benchmark; undefined (with the reason printed) when a tool is missing. */
export async function engineBench(): Promise<EngineFigures | undefined> {
  const tools: Context["tools"] = {};
  for (const t of TOOLS) {
    const f = findTool(t);
    if (!f) {
      console.log(`engine: skipped: ${t.name} not found (${t.install})`);
      return undefined;
    }
    tools[t.name] = f.path;
  }
  const root = mkdtempSync(join(tmpdir(), "veza-bench-engine-"));
  const logDir = join(root, "logs");
  mkdirSync(logDir, { recursive: true });
  const summary = emptySummary(root);
  const ctx: Context = {
    root,
    logDir,
    tools,
    path: [standInBin(root), ...Object.values(tools).map((p) => dirname(p)), process.env.PATH ?? ""].join(delimiter),
    summary,
    check: (name, ok, detail) => ({ name, ok, detail }),
  };
  try {
    const ca = makeCa(root, "bench");
    const etcd = await startEtcd(tools.etcd as string, root, logDir);
    const api = await startApiServer(tools["kube-apiserver"] as string, etcd, ca, root, logDir);
    await startControllerManager(tools["kube-controller-manager"] as string, api, ca, root, logDir);
    await applyEsoCrds(api.admin);
    const { s, project, configSeconds } = await configureDevelopment(ctx, api, ca, "development-bench");
    const program = await runProgram(s, project, "development-bench", async () => {}, configSeconds);
    if (!program.up || program.secondPreviewChanges !== 0) throw new Error(`the program's run failed: ${program.errors.join("; ")}`);

    // The floor: a namespace and as many ConfigMaps as the program has resources, same engine and provider.
    const n = program.resources;
    const floorDir = join(root, "floor");
    mkdirSync(floorDir, { recursive: true });
    const env = Object.fromEntries(
      Object.entries({ ...s.env, PULUMI_BACKEND_URL: `file://${join(root, "floor-state")}` }).filter((e): e is [string, string] => typeof e[1] === "string"),
    );
    mkdirSync(join(root, "floor-state"), { recursive: true });
    const floorProgram = async () => {
      const ns = new k8s.Namespace("bench-floor", { metadata: { name: "bench-floor" } });
      for (let i = 1; i < n; i++) new k8s.ConfigMap(`cm-${i}`, { metadata: { namespace: ns.metadata.name, name: `cm-${i}` }, data: { i: String(i) } });
    };
    const pulumiCommand = await PulumiCommand.get({ root: dirname(dirname(s.pulumi)), skipVersionCheck: true });
    const st = await LocalWorkspace.createOrSelectStack(
      { stackName: "floor", projectName: "bench-floor", program: floorProgram },
      { workDir: floorDir, envVars: env, pulumiCommand, projectSettings: { name: "bench-floor", runtime: "nodejs" } },
    );
    let t = Date.now();
    await st.up({ color: "never" });
    const floorUp = secondsSince(t);
    t = Date.now();
    await st.preview({ color: "never" });
    const floorPreview = secondsSince(t);
    await st.destroy({ color: "never" });
    return { resources: n, program: { up: program.times.up, preview: program.times.preview }, floor: { up: floorUp, preview: floorPreview } };
  } finally {
    await stopAll();
    rmSync(root, { recursive: true, force: true });
  }
}
