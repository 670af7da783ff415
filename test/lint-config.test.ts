/**
 * `npm run typecheck` and `npm run lint` run other tools than their names suggest (TypeScript 7's
 * compiler; ESLint without type information plus oxlint's tsgolint for the type-aware rules, see
 * eslint.config.mjs): these run the same commands on a small project in a temporary folder and
 * check that each still fails on what it is there to catch, and passes the corrected code.
 */
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ROOT } from "../harness";

const TSC = path.join(ROOT, "node_modules", "typescript-7", "bin", "tsc");
const OXLINT = path.join(ROOT, "node_modules", "oxlint", "bin", "oxlint");

function project(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "veza-lint-"));
  const tsconfig = JSON.parse(fs.readFileSync(path.join(ROOT, "tsconfig.json"), "utf8")) as { compilerOptions: Record<string, unknown> };
  // The project's own compiler options (strict, the module system), without its file list and types.
  fs.writeFileSync(path.join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions: { ...tsconfig.compilerOptions, types: [] }, include: ["*.ts"] }));
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  return dir;
}

function run(dir: string, args: string[]): { status: number | null; out: string } {
  const res = spawnSync(process.execPath, args, { cwd: dir, encoding: "utf8", env: { ...process.env, FORCE_COLOR: "0", NO_COLOR: "1" } });
  return { status: res.status, out: `${res.stdout}\n${res.stderr}` };
}

const oxlint = (dir: string): { status: number | null; out: string } =>
  run(dir, [OXLINT, "--type-aware", "--deny-warnings", "-c", path.join(ROOT, ".oxlintrc.json"), "."]);

describe("the type-check and lint commands still catch what they are for", () => {
  const dirs: string[] = [];
  after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  it("package.json runs these tools (a change there must come with a change here)", () => {
    const { scripts } = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> };
    assert.equal(scripts.typecheck, "node node_modules/typescript-7/bin/tsc --noEmit");
    assert.equal(scripts.lint, "eslint . && oxlint --type-aware --deny-warnings");
  });

  it("oxlint refuses a promise nobody awaits and an async callback where void is expected", () => {
    const dir = project({
      "bad.ts": [
        "export async function save(): Promise<void> {}",
        "export function forget(): void {",
        "  save();",
        "}",
        "export function misuse(items: string[]): void {",
        "  items.forEach(async () => {",
        "    await save();",
        "  });",
        "  if (save()) return;",
        "}",
        "",
      ].join("\n"),
    });
    dirs.push(dir);
    const res = oxlint(dir);
    assert.notEqual(res.status, 0, res.out);
    assert.match(res.out, /no-floating-promises/);
    assert.match(res.out, /no-misused-promises/);
  });

  it("oxlint passes the same code with the promises handled", () => {
    const dir = project({
      "good.ts": [
        "export async function save(): Promise<void> {}",
        "export async function remember(): Promise<void> {",
        "  await save();",
        "}",
        "export function handled(items: string[]): Promise<void[]> {",
        "  return Promise.all(items.map(async () => save()));",
        "}",
        "",
      ].join("\n"),
    });
    dirs.push(dir);
    const res = oxlint(dir);
    assert.equal(res.status, 0, res.out);
  });

  it("the type-check reports an unused local and a type error, and passes correct code", () => {
    const bad = project({ "bad.ts": "export function f(): number {\n  const unused = 1;\n  const n: number = 'x';\n  return n;\n}\n" });
    const good = project({ "good.ts": "export function f(): number {\n  const n: number = 1;\n  return n;\n}\n" });
    dirs.push(bad, good);
    const b = run(bad, [TSC, "--noEmit", "-p", bad]);
    assert.notEqual(b.status, 0, b.out);
    assert.match(b.out, /TS6133/);
    assert.match(b.out, /TS2322/);
    const g = run(good, [TSC, "--noEmit", "-p", good]);
    assert.equal(g.status, 0, g.out);
  });
});
