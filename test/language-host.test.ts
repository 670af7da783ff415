/**
 * The program as `pulumi up` loads it: node started the way the Node.js language host
 * starts it (this project's Pulumi.yaml runtime options, @pulumi/pulumi/cmd/run, config in
 * PULUMI_CONFIG), talking gRPC to a fake engine (harness/language-host.ts). No mocks inside
 * the program's process, no tsx from the test runner: a fresh process per run, a fresh
 * loader cache (TMPDIR) unless the test says otherwise.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ROOT, STACKS, engineConfig, fakesForMissing, plaintextOccurrences, runProgram, stackConfig, type ProgramRun } from "../harness";
import { runLikeLanguageHost, runtimeOptions, type HostRun, type HostRunOptions } from "../harness/language-host";
import { copyProject } from "./urns";

const PROJECT = "veza-secrets";

function hostOptions(stack: string, projectDir = ROOT): HostRunOptions {
  const values = stackConfig(stack);
  const fakes = fakesForMissing(values);
  return { projectDir, project: PROJECT, stack, config: { ...engineConfig(values), ...fakes }, secretKeys: Object.keys(fakes), timeoutMs: 240_000 };
}

function freshTmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "veza-cold-"));
}

function errorsOf(run: HostRun): string[] {
  // LogSeverity: 0 debug, 1 info, 2 warning, 3 error.
  return run.logs.filter((l) => l.severity >= 3).map((l) => l.message);
}

function typesAndNames(resources: { type: string; name: string }[]): string[] {
  return resources.map((r) => `${r.type}::${r.name}`).sort();
}

function assertRan(run: HostRun, label: string): void {
  assert.equal(run.exitCode, 0, `${label}: exit ${String(run.exitCode)}\n${errorsOf(run).join("\n")}\n${run.stderr.slice(0, 2000)}`);
  assert.deepEqual(errorsOf(run), [], `${label}: the program reported errors`);
}

/**
 * One cold run per stack (a fresh process and loader cache), shared by the tests that read
 * different things off the same run: what it registers, its URNs and source positions, the
 * files it loads. A run is a few seconds of a core; the same run thrice proves nothing more.
 */
const coldRuns = new Map<string, Promise<HostRun>>();
function coldRun(stack: string): Promise<HostRun> {
  if (!coldRuns.has(stack)) coldRuns.set(stack, runLikeLanguageHost({ ...hostOptions(stack), env: { TMPDIR: freshTmp() } }));
  return coldRuns.get(stack) as Promise<HostRun>;
}

const harnessRuns = new Map<string, ProgramRun>();
async function harnessRun(stack: string): Promise<ProgramRun> {
  if (!harnessRuns.has(stack)) harnessRuns.set(stack, await runProgram({ stack }));
  return harnessRuns.get(stack) as ProgramRun;
}

describe("the program as the language host loads it (cmd/run over gRPC)", function () {
  this.timeout(300_000);

  it("Pulumi.yaml loads TypeScript with a runtime dependency, not the host's type-checking ts-node", () => {
    const rt = runtimeOptions(ROOT);
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { dependencies: Record<string, string> };
    assert.equal(rt.typescript, false, "typescript: true makes the host register ts-node, which type-checks every run");
    assert.deepEqual(rt.nodeargs, ["--require", "tsx/cjs"]);
    assert.ok(pkg.dependencies.tsx, "tsx must be a dependency (npm ci --omit=dev keeps it)");
  });

  for (const stack of STACKS) {
    it(`${stack}: loads cold and registers exactly what the offline harness registers, no secret in clear text on the wire`, async () => {
      const opts = hostOptions(stack);
      const run = await coldRun(stack);
      assertRan(run, stack);
      const expected = await harnessRun(stack);
      assert.deepEqual(typesAndNames(run.resources), typesAndNames(expected.resources));
      for (const [key, value] of Object.entries(opts.config)) {
        if (!opts.secretKeys.includes(key)) continue;
        assert.deepEqual(
          plaintextOccurrences(
            run.resources.map((r) => r.inputs),
            value,
          ),
          [],
          `${key} in clear text in a RegisterResource`,
        );
        assert.deepEqual(plaintextOccurrences([...run.outputs.values()], value), [], `${key} in clear text in outputs`);
      }
    });
  }

  it("production: the engine's URNs carry the parent's type chain (the README's --target URNs are real), and source positions name TypeScript lines", async () => {
    const run = await coldRun("production");
    assertRan(run, "production");
    const urns = run.resources.map((r) => r.urn);
    for (const ns of ["namespaces", "namespaces-vault", "namespaces-workloads"]) {
      const type = ns === "namespaces" ? "veza:cluster:Namespaces" : "veza:cluster:Namespaces$kubernetes:core/v1:Namespace";
      assert.ok(urns.includes(`urn:pulumi:production::${PROJECT}::${type}::${ns}`), `missing ${type}::${ns}`);
    }
    // Source positions come from the formatted stack (source-map-support, cmd/run): each must
    // name the TypeScript line that creates the resource, not esbuild's output position.
    const ours = run.resources.filter((r) => r.sourcePosition && !r.sourcePosition.uri.includes("/node_modules/"));
    assert.ok(ours.length > run.resources.length / 2, `only ${ours.length} of ${run.resources.length} resources have a position in the program`);
    for (const r of ours) {
      const { uri, line } = r.sourcePosition as { uri: string; line: number };
      const file = new URL(uri).pathname;
      assert.ok(file.startsWith(ROOT) && file.endsWith(".ts"), `${r.name}: ${uri}`);
      const text = fs.readFileSync(file, "utf8").split("\n")[line - 1] ?? "";
      assert.match(text, /\bnew\b/, `${r.name}: ${path.relative(ROOT, file)}:${line} is not where it is created: ${text.trim()}`);
    }
  });

  it("production: loads with PULUMI_NODEJS_TRANSPILE_ONLY=true (the documented speed-up)", async () => {
    const run = await runLikeLanguageHost({ ...hostOptions("production"), env: { TMPDIR: freshTmp(), PULUMI_NODEJS_TRANSPILE_ONLY: "true" } });
    assertRan(run, "production, transpile only");
    assert.equal(run.resources.length, (await harnessRun("production")).resources.length);
  });

  it("development: loads again with a warm loader cache after a file inside one folder was edited", async () => {
    // A copy of the project (node_modules linked), so the edit never touches the checkout.
    const copy = copyProject();
    const tmp = freshTmp();
    const opts = { ...hostOptions("development", copy), env: { TMPDIR: tmp } };
    const first = await runLikeLanguageHost(opts);
    assertRan(first, "first run");
    const file = path.join(copy, "components", "eso", "operator.ts");
    fs.appendFileSync(file, "\n// edited by the warm-cache test\nexport const EDITED_FOR_TEST = 1;\n");
    const second = await runLikeLanguageHost(opts);
    assertRan(second, "after the edit");
    assert.deepEqual(typesAndNames(second.resources), typesAndNames(first.resources));
    fs.rmSync(copy, { recursive: true, force: true });
  });

  it("loads nothing at deploy time from a devDependency (npm ci --omit=dev deploys the same)", async () => {
    const lock = JSON.parse(fs.readFileSync(path.join(ROOT, "package-lock.json"), "utf8")) as { packages: Record<string, { dev?: boolean }> };
    const run = await coldRun("production");
    assertRan(run, "production");
    const nm = fs.realpathSync(path.join(ROOT, "node_modules")) + path.sep; // a worktree may link node_modules from elsewhere
    const packages = new Set<string>();
    for (const file of run.loadedFiles) {
      if (!file.startsWith(nm)) continue;
      // The innermost node_modules/<pkg> (or @scope/pkg) holding the file, as the lockfile names it.
      const rel = ["node_modules", ...path.relative(nm, file).split(path.sep)];
      let last = -1;
      rel.forEach((part, i) => {
        if (part === "node_modules") last = i;
      });
      const name = rel[last + 1].startsWith("@") ? rel.slice(0, last + 3) : rel.slice(0, last + 2);
      packages.add(name.join("/"));
    }
    assert.ok(packages.has("node_modules/tsx") && packages.has("node_modules/@pulumi/pulumi"), `expected tsx and the SDK among ${[...packages].join(", ")}`);
    // Probes, not dependencies: each is a `try { require(x) } catch { fallback }` that finds the
    // dev copy when it is installed and carries on without it when it is not. debug probes
    // supports-color (and it has-flag); the SDK's typescript-shim (closure serialisation) probes
    // typescript and falls back to the copy vendored in @pulumi/pulumi.
    const probes = new Set(["node_modules/supports-color", "node_modules/has-flag", "node_modules/typescript"]);
    const dev = [...packages].filter((p) => lock.packages[p]?.dev === true && !probes.has(p));
    assert.deepEqual(dev, [], "devDependencies loaded by the deployed program");
    assert.deepEqual(
      run.loadedFiles.filter((f) => /[\\/]ts-node[\\/]/.test(f)),
      [],
      "ts-node (the host's type-checking loader) must not be loaded at deploy time",
    );
  });
});
