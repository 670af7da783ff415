/**
 * "Adding a secret is one line", proved on files: in a copy of the working tree, add one line
 * to `CATALOG` (a supplied secret), or one service to `SERVICES` with the one catalog line it
 * needs, run `npm run readme` as the README's recipe says, then the checks that depend on the
 * catalog (type-check, the docs and Pulumi.yaml, the config rules, every stack's program and
 * wiring) and `npm run plan` for each stack. Nothing else is edited: no expectation, fake or
 * doc is written by hand. (test/one-line.test.ts does the same in memory, in more detail.)
 */
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ROOT, STACKS } from "../harness";

const BIN = path.join(ROOT, "node_modules", ".bin");
/** The catalog-driven parts of the suite (the rest does not read the catalog). */
const SPECS = [
  "test/readme.test.ts",
  "stacks/config-providers.test.ts",
  "stacks/config-vault.test.ts",
  "stacks/config-database.test.ts",
  "stacks/config-cluster.test.ts",
  "stacks/config-secrets.test.ts",
  "stacks/config-fix-commands.test.ts",
  "stacks/config-load.test.ts",
  "test/program-exports.test.ts",
  "test/program-per-stack.test.ts",
  "test/program-environment-access.test.ts",
  "test/program-environment-backends.test.ts",
  "test/program-rotation-job.test.ts",
  "test/program-migration.test.ts",
  "test/wiring.test.ts",
];

/** A copy of the working tree (tracked and untracked, not ignored files), sharing node_modules, in a new Git repository. */
function copyTree(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "veza-one-line-"));
  const files = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: ROOT })
    .toString("utf8")
    .split("\0")
    .filter(Boolean);
  for (const f of files) {
    const from = path.join(ROOT, f);
    if (f === "node_modules" || !fs.existsSync(from) || fs.lstatSync(from).isDirectory()) continue; // a linked node_modules (linked below), deleted, or a submodule
    fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    // An untracked symbolic link (a tool's sandbox linking node_modules, say) stays a link: copying would follow it.
    if (fs.lstatSync(from).isSymbolicLink()) fs.symlinkSync(fs.readlinkSync(from), path.join(dir, f));
    else fs.copyFileSync(from, path.join(dir, f));
  }
  fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"), "dir");
  // A repository of its own, so checks that ask Git (what .gitignore ignores) work there too.
  execFileSync("git", ["init", "-q"], { cwd: dir });
  return dir;
}

/** Edit components/catalog.ts as a person would; fails unless each edit lands exactly once. */
function edit(dir: string, edits: [string, string][]): number {
  const file = path.join(dir, "components", "catalog.ts");
  let text = fs.readFileSync(file, "utf8");
  const before = text.split("\n").length;
  for (const [anchor, replacement] of edits) {
    assert.equal(text.split(anchor).length, 2, `one ${anchor} in catalog.ts`);
    text = text.replace(anchor, replacement);
  }
  fs.writeFileSync(file, text);
  return text.split("\n").length - before;
}

function run(dir: string, cmd: string, args: string[]): string {
  try {
    return execFileSync(path.join(BIN, cmd), args, {
      cwd: dir,
      maxBuffer: 1 << 28,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, FORCE_COLOR: "0" },
    }).toString("utf8");
  } catch (e) {
    const out = e as { stdout?: Buffer; stderr?: Buffer };
    assert.fail(
      `${cmd} ${args.join(" ")} failed in the copy:\n${[out.stdout, out.stderr]
        .map((b) => b?.toString("utf8") ?? "")
        .join("\n")
        .split("\n")
        .slice(-60)
        .join("\n")}`,
    );
  }
}

/** The end of CATALOG: the last entry's line, then the closing bracket. */
const CATALOG_END = "keepPrevious: false } },\n];\n";
const append = (line: string): [string, string] => [CATALOG_END, `keepPrevious: false } },\n${line}\n];\n`];

const CASES: { name: string; edits: [string, string][]; lines: number; key: string; secretName: string }[] = [
  {
    name: "a supplied secret every service reads",
    edits: [append('  { key: "sentry-dsn", description: "Sentry DSN", services: "all", source: { kind: "supplied", configKey: "sentryDsn" } },')],
    lines: 1,
    key: "sentry-dsn",
    secretName: "veza-secrets",
  },
  {
    name: "a service, with the generated key it alone reads",
    edits: [
      ['"stream-server"] as const;', '"stream-server", "payments-worker"] as const;'],
      append(
        '  { key: "payments-signing-key", description: "Payments signing key", services: ["payments-worker"], source: { kind: "generated", length: 48, minLength: 32, rotationDays: 30, keepPrevious: false } },',
      ),
    ],
    lines: 1,
    key: "payments-signing-key",
    secretName: "veza-payments-worker-secrets",
  },
];

describe("adding a secret or a service is one line, in a copy of the repository", function () {
  this.timeout(900_000);
  for (const c of CASES) {
    it(`${c.name}: npm run readme, then the catalog-driven checks and the plan pass`, () => {
      const dir = copyTree();
      try {
        assert.equal(edit(dir, c.edits), c.lines, "lines added to catalog.ts");
        run(dir, "tsx", ["scripts/readme.ts"]);
        assert.ok(fs.readFileSync(path.join(dir, "README.md"), "utf8").includes(`| \`${c.key}\` |`), "the README's table has the key");
        run(dir, "tsc", ["--noEmit", "-p", dir]);
        const mocha = run(dir, "mocha", [
          "--no-config",
          "-r",
          "tsx/cjs",
          "-n",
          "import=tsx",
          "--extension",
          "ts",
          "--timeout",
          "180000",
          "--reporter",
          "dot",
          ...SPECS,
        ]);
        assert.match(mocha, /\d+ passing/);
        assert.doesNotMatch(mocha, /failing/);
        for (const stack of STACKS) {
          const plan = JSON.parse(run(dir, "tsx", ["scripts/plan.ts", stack, "--json"])) as { resources: { type: string; inputs: Record<string, unknown> }[] };
          const secretNames = JSON.stringify(plan).includes(`"${c.secretName}"`);
          assert.ok(secretNames, `${stack}: the plan has ${c.secretName}`);
          assert.ok(JSON.stringify(plan).includes(c.key), `${stack}: the plan has ${c.key}`);
        }
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
