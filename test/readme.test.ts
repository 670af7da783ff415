import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { CATALOG, suppliedSecrets } from "../components/catalog";
import { ROOT } from "../scripts/harness";
import { applyBlocks, applyYamlBlock, generatedBlocks, generatedFiles, secretsTable } from "../scripts/readme";

describe("README", () => {
  it("has the generated secrets table and diagrams up to date (run `npm run readme`)", async () => {
    const current = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
    assert.equal(applyBlocks(current, await generatedBlocks()), current);
  });

  it("has Pulumi.yaml declaring exactly the catalog's supplied secrets, as secrets (run `npm run readme`)", async () => {
    for (const f of await generatedFiles()) assert.equal(f.next, f.current, `${path.relative(ROOT, f.file)} is stale`);
    const project = yaml.load(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")) as { config: Record<string, { type?: string; secret?: boolean }> };
    const declaredSecrets = Object.entries(project.config).filter(([, v]) => v.secret).map(([k]) => k.replace(/^veza-secrets:/, ""));
    assert.deepEqual(declaredSecrets, suppliedSecrets(CATALOG).map((s) => s.source.configKey));
    assert.throws(() => applyYamlBlock("config:\n", "catalog-secrets", ""), /Pulumi.yaml has no # generated:catalog-secrets block/);
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
