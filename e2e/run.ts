/**
 * `npm run e2e`: the program against real servers (see e2e/README.md). Starts etcd,
 * kube-apiserver, Vault and PostgreSQL on 127.0.0.1, runs the development and staging stacks
 * through the real Pulumi engine and CLI, lets the servers check what the program made, stops
 * everything, and writes `.e2e/summary.json`. A tool that is missing skips the checks that need
 * it (`skipped`, never counted as passed); `E2E_ONLY=development|staging` runs one stack.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { type Check, type Summary, emptySummary, printSummary } from "./summary";
import { TOOLS, type FoundTool, findTool } from "./tools";
import { makeCa } from "./pki";
import { secondsSince, stopAll } from "./processes";
import { startApiServer, startControllerManager, startEtcd, versionOf } from "./servers";
import { standInBin } from "./providers/bin";
import { execFileSync } from "node:child_process";
import { cliAgreement } from "./cli-agreement";
import { runDevelopment, stackEnv } from "./development";
import { runStaging } from "./staging";
import { PROJECT_DIR } from "./stack";

export interface Context {
  root: string;
  logDir: string;
  tools: Partial<Record<FoundTool["name"], string>>;
  /** PATH for the CLI and engine: the tools, the stand-in providers, then the user's. */
  path: string;
  summary: Summary;
  check(name: string, ok: boolean, detail: string): Check;
}

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), "veza-e2e-"));
  const logDir = join(root, "logs");
  mkdirSync(logDir, { recursive: true });
  const summary = emptySummary(root);
  const found: Context["tools"] = {};
  for (const t of TOOLS) {
    const f = findTool(t);
    if (!f) {
      summary.skipped.push({ what: t.name, reason: `e2e: skipped: ${t.name} not found (${t.install})` });
      console.error(`e2e: skipped: ${t.name} not found; get it with ${t.install}`);
      continue;
    }
    found[t.name] = f.path;
    summary.tools.push({
      name: t.name,
      version: versionOf(f.path, t.versionArgs) || `${t.version} (recipe; it answers only the engine)`,
      path: f.path,
      from: f.from,
    });
  }
  const ctx: Context = {
    root,
    logDir,
    tools: found,
    path: [standInBin(root), ...Object.values(found).map((p) => dirname(p)), process.env.PATH ?? ""].join(delimiter),
    summary,
    check(name, ok, detail) {
      const c = { name, ok, detail };
      summary.checks.push(c);
      console.error(`e2e: ${ok ? "ok  " : "FAIL"} ${name}${detail ? `: ${detail}` : ""}`);
      return c;
    },
  };
  const only = process.env.E2E_ONLY;
  try {
    const need = (names: FoundTool["name"][], what: string): boolean => {
      const missing = names.filter((n) => !found[n]);
      if (missing.length) summary.skipped.push({ what, reason: `needs ${missing.join(", ")} (npm run e2e:tools)` });
      return missing.length === 0;
    };
    if (
      need(
        ["etcd", "kube-apiserver", "kube-controller-manager", "pulumi", "pulumi-resource-kubernetes", "vault"],
        "development and staging stacks, and every check",
      )
    ) {
      const ca = makeCa(root, "e2e");
      const etcd = await startEtcd(found.etcd as string, root, logDir);
      const api = await startApiServer(found["kube-apiserver"] as string, etcd, ca, root, logDir);
      const kcm = await startControllerManager(found["kube-controller-manager"] as string, api, ca, root, logDir);
      summary.servers.push({ name: etcd.name, version: etcd.version }, { name: api.name, version: api.version }, { name: kcm.name, version: kcm.version });
      if (!only || only === "development") await runDevelopment(ctx, api, ca);
      if (!only || only === "staging") await runStaging(ctx, api, ca);
      if (!only || only === "cli") {
        // Every config fix the tests apply with the model of the CLI, replayed with the real one.
        const s = stackEnv(ctx, api, "cli-agreement");
        execFileSync("pulumi", ["login", String(s.env.PULUMI_BACKEND_URL)], { env: s.env, stdio: "ignore" });
        const t0 = Date.now();
        const { fixes, problems } = cliAgreement(s);
        summary.timings["cli agreement"] = secondsSince(t0);
        ctx.check(
          `the real pulumi CLI and the model (test/pulumi-cli.ts) agree on every fix the config tests apply (${fixes - problems.length} of ${fixes})`,
          fixes > 0 && problems.length === 0,
          problems.slice(0, 5).join(" | ") || `${fixes} fixes`,
        );
      }
    }
  } catch (e) {
    ctx.check("e2e run", false, (e as Error).stack ?? String(e));
  } finally {
    await stopAll();
  }
  const out = join(PROJECT_DIR, ".e2e");
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, "summary.json"), JSON.stringify(summary, null, 2));
  const failedCount = summary.checks.filter((c) => !c.ok).length + summary.stacks.filter((s) => !s.up || !s.destroy || s.secondPreviewChanges !== 0).length;
  // The servers' data and logs are kept only when something failed (or E2E_KEEP is set).
  if (failedCount === 0 && !process.env.E2E_KEEP) {
    rmSync(root, { recursive: true, force: true });
    summary.workDir = "(removed after a green run; E2E_KEEP=1 keeps it)";
  }
  printSummary(summary);
  writeFileSync(join(out, "summary.json"), JSON.stringify(summary, null, 2));
  const failed = summary.checks.filter((c) => !c.ok).length + summary.stacks.filter((s) => !s.up || !s.destroy || s.secondPreviewChanges !== 0).length;
  process.exit(failed > 0 ? 1 : summary.skipped.length > 0 ? 3 : 0);
}

void main();
