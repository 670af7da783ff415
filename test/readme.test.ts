import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { CATALOG } from "../components/catalog";
import { ROOT } from "../harness";
import { applyBlocks, generatedBlocks, secretsTable } from "../scripts/readme";

describe("README", () => {
  it("has the generated secrets table and diagrams up to date (run `npm run readme`)", async () => {
    const current = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
    assert.equal(applyBlocks(current, await generatedBlocks()), current);
  });

  it("lists every catalog key once in the secrets table", () => {
    const rows = secretsTable().split("\n").filter((l) => l.startsWith("| `"));
    assert.deepEqual(
      rows.map((r) => r.split("|")[1].trim()),
      CATALOG.map((s) => `\`${s.key}\``),
    );
  });

  it("notices a stale block", () => {
    const stale = "x\n<!-- generated:secrets-table -->\nold\n<!-- /generated:secrets-table -->\n";
    assert.notEqual(applyBlocks(stale, { "secrets-table": secretsTable() }), stale);
    assert.throws(() => applyBlocks("no markers", { "secrets-table": "" }), /README.md has no <!-- generated:secrets-table --> block/);
  });

  it("shows the two set-up commands on its first screen", () => {
    const firstScreen = fs.readFileSync(path.join(ROOT, "README.md"), "utf8").split("\n").slice(0, 25).join("\n");
    assert.ok(firstScreen.includes("npm ci && pulumi up --stack development"));
    assert.ok(firstScreen.includes("npm ci && npm test"));
  });
});
