/**
 * "Adding a secret or a service is one line", proved on files: in a copy of the working tree,
 * follow the README's recipes as a person would, under names the catalog does not use yet and
 * at several places: a supplied secret first in `CATALOG`, a generated one in the middle (for a
 * service added in the middle of `SERVICES`), a supplied one last (for a service added last,
 * which an existing entry now lists too). Then `npm run readme`, as the recipes say, the
 * type-check, every spec file that reads the live catalog or runs the whole program, and
 * `npm run plan -- production`. Nothing else is edited: no expectation, fake or doc is written
 * by hand. (test/one-line.test.ts does the same in memory, in more detail.)
 */
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CATALOG, SERVICES } from "../components/catalog";
import { ROOT } from "../harness";
import { camelCase, unusedName } from "./catalog-edits";

const BIN = path.join(ROOT, "node_modules", ".bin");
const SPEC_DIRS = ["components", "stacks", "test"];

/**
 * Spec files left out of the run in the copy, each slow for a reason of its own, its catalog
 * dependence checked by a file that does run there.
 */
const SLOW: Record<string, string> = {
  "test/one-line-copy.test.ts": "this file",
  "test/language-host.test.ts": "the program through the language host (a process per run), compared with the harness run the program tests make",
  "test/urns.test.ts": "the language host again, for URNs a new key only adds to",
  "components/vault/database-access-postgres.test.ts": "a real PostgreSQL and 22 s of timeline; the roles per service are stacks/vault.test.ts's",
};

/**
 * The spec files the catalog can change: those that import the live `CATALOG` or `SERVICES`,
 * and, in stacks/ and test/, those that run the whole program or its Vault part (component
 * tests build their components from test/catalog-fixture.ts, which no recipe touches).
 */
function catalogSpecs(root = ROOT): string[] {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const rel = `${dir}/${e.name}`;
      if (e.isDirectory()) walk(rel);
      else if (e.name.endsWith(".test.ts")) files.push(rel);
    }
  };
  for (const d of SPEC_DIRS) walk(d);
  return files.sort().filter((f) => {
    if (SLOW[f]) return false;
    const text = fs.readFileSync(path.join(root, f), "utf8");
    const imports = [...text.matchAll(/import \{([^}]*)\} from "([^"]+)"/g)];
    const live = imports.some(([, names, from]) => /(^|\/)catalog$/.test(from) && /\b(CATALOG|SERVICES)\b/.test(names));
    const program = !f.startsWith("components/") && imports.some(([, names]) => /\b(runProgram|tryRunProgram|stackRun|runVaultSlice)\b/.test(names));
    return live || program;
  });
}

/** A copy of the working tree (tracked and untracked, not ignored files), sharing node_modules, committed to a Git repository of its own as a clone would be. */
function copyTree(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "veza-one-line-"));
  let files: string[];
  try {
    files = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: ROOT, stdio: ["ignore", "pipe", "ignore"] })
      .toString("utf8")
      .split("\0")
      .filter(Boolean);
  } catch {
    // Not a Git checkout (a copy made with rsync or tar): every file but the ignored folders.
    files = [];
    const skip = new Set([".git", "node_modules", "bin", "dist", ".pulumi", ".bench", ".stryker-tmp", "reports", ".e2e"]);
    const walk = (rel: string): void => {
      for (const e of fs.readdirSync(path.join(ROOT, rel), { withFileTypes: true })) {
        const f = rel ? `${rel}/${e.name}` : e.name;
        if (e.isDirectory()) {
          if (!skip.has(e.name)) walk(f);
        } else files.push(f);
      }
    };
    walk("");
  }
  for (const f of files) {
    const from = path.join(ROOT, f);
    if (f === "node_modules" || !fs.existsSync(from) || fs.lstatSync(from).isDirectory()) continue; // a linked node_modules (linked below), deleted, or a submodule
    fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    // An untracked symbolic link (a tool's sandbox linking node_modules, say) stays a link: copying would follow it.
    if (fs.lstatSync(from).isSymbolicLink()) fs.symlinkSync(fs.readlinkSync(from), path.join(dir, f));
    else fs.copyFileSync(from, path.join(dir, f));
  }
  fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"), "dir");
  // Committed, so the checks that ask Git (what it tracks or ignores, HEAD) see a clone.
  const git = (...args: string[]): void =>
    void execFileSync("git", ["-c", "user.name=one-line", "-c", "user.email=one-line@example.invalid", "-c", "commit.gpgsign=false", ...args], {
      cwd: dir,
      stdio: "ignore",
    });
  git("init", "-q", "-b", "main");
  fs.appendFileSync(path.join(dir, ".git", "info", "exclude"), "node_modules\n");
  git("add", "-A");
  git("commit", "-q", "-m", "copy");
  return dir;
}

function run(dir: string, cmd: string, args: string[]): string {
  try {
    return execFileSync(path.isAbsolute(cmd) ? cmd : path.join(BIN, cmd), args, {
      cwd: dir,
      maxBuffer: 1 << 28,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, FORCE_COLOR: "0" },
    }).toString("utf8");
  } catch (e) {
    const out = e as { stdout?: Buffer; stderr?: Buffer };
    const text = [out.stdout, out.stderr].map((b) => b?.toString("utf8") ?? "").join("\n");
    // mocha's summary from its count of failures on (each failure's title and message), else the end.
    const summary = text.search(/^ {2}\d+ failing/m);
    const shown = (summary >= 0 ? text.slice(summary) : text).split("\n");
    assert.fail(`${cmd} ${args.join(" ")} failed in the copy:\n${(summary >= 0 ? shown.slice(0, 200) : shown.slice(-80)).join("\n")}`);
  }
}

const keyTaken = (name: string): boolean =>
  CATALOG.some((s) => s.key === name || s.key === `${name}-previous` || (s.source.kind !== "generated" && s.source.configKey === camelCase(name)));
const serviceTaken = (name: string): boolean => (SERVICES as readonly string[]).includes(name);

/** The recipes' edits to components/catalog.ts, as text: new lines and the two lines a service touches. */
function recipeEdits(text: string, names: { first: string; middle: string; last: string; middleService: string; lastService: string }): string {
  const lines = text.split("\n");
  const servicesAt = lines.findIndex((l) => /^export const SERVICES = \[.*\] as const;$/.test(l));
  assert.ok(servicesAt >= 0, "SERVICES is one line");
  const services = [...lines[servicesAt].matchAll(/"([^"]+)"/g)].map((m) => m[1]);
  services.splice(Math.floor(services.length / 2), 0, names.middleService);
  services.push(names.lastService);
  lines[servicesAt] = `export const SERVICES = [${services.map((s) => JSON.stringify(s)).join(", ")}] as const;`;

  const start = lines.findIndex((l) => l.startsWith("export const CATALOG"));
  const end = lines.indexOf("];", start);
  const entries = lines.map((_l, i) => i).filter((i) => i > start && i < end && lines[i].startsWith("  { key: "));
  assert.ok(entries.length >= 2, "CATALOG has one line per entry");
  // An entry for some services (not "all"): the recipe lists the new service in it.
  const extended = entries.find((i) => /services: \[[^\]]*\]/.test(lines[i]));
  assert.ok(extended !== undefined, "an entry lists its services");
  lines[extended] = lines[extended].replace(/services: \[([^\]]*)\]/, (_m, list: string) => `services: [${list}, ${JSON.stringify(names.middleService)}]`);
  const line = (key: string, rest: string): string => `  { key: ${JSON.stringify(key)}, ${rest} },`;
  const supplied = (key: string, services: string): string =>
    line(key, `description: "Added by the recipe test", services: ${services}, source: { kind: "supplied", configKey: ${JSON.stringify(camelCase(key))} }`);
  const generated = line(
    names.middle,
    `description: "Added by the recipe test", services: [${JSON.stringify(names.lastService)}], source: { kind: "generated", length: 48, minLength: 32, rotationDays: 30, keepPrevious: false }`,
  );
  // From the end, so the earlier indexes hold: last, middle, first.
  lines.splice(end, 0, supplied(names.last, `[${JSON.stringify(names.middleService)}]`));
  lines.splice(entries[Math.floor(entries.length / 2)], 0, generated);
  lines.splice(entries[0], 0, supplied(names.first, '"all"'));
  return lines.join("\n");
}

describe("adding secrets and services is one line each, in a copy of the repository", function () {
  this.timeout(900_000);

  it("picks the spec files the catalog can change, from their imports", () => {
    const specs = catalogSpecs();
    for (const f of [
      "test/readme.test.ts",
      "test/program-per-stack.test.ts",
      "test/one-line.test.ts",
      "stacks/config-both-sides.test.ts",
      "test/freshness.test.ts",
    ])
      assert.ok(specs.includes(f), f);
    for (const f of Object.keys(SLOW)) assert.ok(!specs.includes(f) && fs.existsSync(path.join(ROOT, f)), f);
    assert.ok(!specs.includes("components/keys/generated-keys.test.ts"), "component tests use the frozen catalog");
  });

  it("a supplied secret first, a generated one in the middle, a supplied one last, two services: npm run readme, then the type-check, the catalog's specs and the plan pass", () => {
    const names = {
      first: unusedName("sentry-dsn", keyTaken),
      middle: unusedName("payments-signing-key", keyTaken),
      last: unusedName("billing-api-key", keyTaken),
      middleService: unusedName("billing", serviceTaken),
      lastService: unusedName("payments-worker", serviceTaken),
    };
    const dir = copyTree();
    try {
      const file = path.join(dir, "components", "catalog.ts");
      const before = fs.readFileSync(file, "utf8");
      const after = recipeEdits(before, names);
      assert.equal(after.split("\n").length - before.split("\n").length, 3, "one line per secret");
      fs.writeFileSync(file, after);
      run(dir, "tsx", ["scripts/readme.ts"]);

      const readme = fs.readFileSync(path.join(dir, "README.md"), "utf8");
      const rows = readme
        .split("\n")
        .filter((l) => l.startsWith("| `"))
        .map((l) => l.split("|")[1].trim().replace(/`/g, ""));
      const at = (key: string): number => rows.indexOf(key);
      assert.ok(at(names.first) >= 0 && at(names.middle) > at(names.first) && at(names.last) > at(names.middle), `the table's rows: ${rows.join(", ")}`);
      assert.match(readme, new RegExp(`Services: .*\`${names.middleService}\`.*\`${names.lastService}\`\\.`));

      // `npm run typecheck`'s compiler (TypeScript 7; node_modules/.bin/tsc may be either version).
      run(dir, process.execPath, [path.join(ROOT, "node_modules", "typescript-7", "bin", "tsc"), "--noEmit", "-p", dir]);
      const mocha = run(dir, "mocha", [
        "--no-config",
        "-r",
        "tsx/cjs",
        "-n",
        "import=tsx",
        // One process holds every catalog spec: a capped heap collects sooner (0.9 GB → 0.55 GB
        // peak for the same 40 s), keeping `npm test` under its 1 GB target (docs/testing.md).
        "-n",
        "max-old-space-size=512",
        "--extension",
        "ts",
        "--timeout",
        "180000",
        "--reporter",
        "dot",
        ...catalogSpecs(dir),
      ]);
      assert.match(mocha, /\d+ passing/);
      assert.doesNotMatch(mocha, /failing/);
      // The recipe's last step: the production plan shows each new key in each backend (Vault's
      // document is masked, AWS names one secret per key) and the new services' Secrets. The
      // other stacks' programs ran in the spec files above.
      const plan = run(dir, "tsx", ["scripts/plan.ts", "production", "--json"]);
      JSON.parse(plan);
      for (const key of [names.first, names.middle, names.last]) {
        assert.ok(plan.includes(`"${key}`), `the plan has ${key}`);
        assert.ok(plan.includes(`"veza/production/${key}"`), `the plan has AWS's veza/production/${key}`);
      }
      for (const service of [names.middleService, names.lastService])
        assert.ok(plan.includes(`"veza-${service}-secrets"`), `the plan has veza-${service}-secrets`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
