/**
 * Issue 30 #7: `npm run plan` answers a bad flag or an unknown stack before it loads the
 * program (it used to load the SDK, every provider and the harness first: 1.5–1.6 s). The
 * check is on what the process loads, which does not depend on the machine's load; the time
 * itself is benchmarked, not asserted (docs/testing.md).
 */
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ROOT } from "../harness";

/** Run `scripts/plan.ts` with tsx's loader, as `npm run plan` does, and list the files it loaded. */
function planProcess(args: string[]): { status: number | null; stderr: string; stdout: string; files: string[]; ms: number } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "veza-plan-startup-"));
  const report = path.join(dir, "report.json");
  const started = Date.now();
  const res = spawnSync(process.execPath, ["--require", "tsx/cjs", path.join("scripts", "plan.ts"), ...args], {
    cwd: ROOT,
    encoding: "utf8",
    env: {
      ...process.env,
      // The mocha process's own loader options must not leak in; the report preload records require.cache at exit.
      NODE_OPTIONS: `--require ${path.join(ROOT, "harness", "report-on-exit.js")}`,
      VEZA_REPORT_FILE: report,
    },
  });
  const ms = Date.now() - started;
  const files = fs.existsSync(report) ? (JSON.parse(fs.readFileSync(report, "utf8")) as { files: string[] }).files : [];
  fs.rmSync(dir, { recursive: true, force: true });
  return { status: res.status, stderr: res.stderr, stdout: res.stdout, files, ms };
}

describe("npm run plan answers a bad flag or an unknown stack before loading the program (issue 30 #7)", function () {
  this.timeout(60_000);

  for (const [label, args, message] of [
    ["an unknown stack", ["prod"], /^no stack "prod"/],
    ["a bad flag", ["development", "--dif", "main"], /^unknown option --dif\n\nusage: npm run plan/],
    ["no stack at all", [], /^name a stack\n/],
  ] as const) {
    it(`${label}: exit 2 with the answer, having loaded only scripts/plan.ts of the project and nothing of the SDK`, () => {
      const run = planProcess([...args]);
      assert.equal(run.status, 2, run.stderr);
      assert.match(run.stderr, message);
      assert.equal(run.stdout, "");
      assert.ok(run.files.length > 0, "the report lists the loaded files");
      const ours = run.files
        .filter((f) => f.startsWith(ROOT) && !f.includes(`${path.sep}node_modules${path.sep}`))
        .map((f) => path.relative(ROOT, f))
        .filter((f) => f !== path.join("harness", "report-on-exit.js"));
      assert.deepEqual(ours, [path.join("scripts", "plan.ts")]);
      assert.deepEqual(
        run.files.filter((f) => /[\\/]node_modules[\\/](@pulumi|@grpc|js-yaml|zod)[\\/]/.test(f)),
        [],
      );
      console.log(`      (${label}: ${run.ms} ms, ${run.files.length} files loaded)`);
    });
  }
});
