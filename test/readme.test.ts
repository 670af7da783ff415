import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { CATALOG, suppliedSecrets } from "../components/catalog";
import { ROOT, engineConfig, fakesForMissing, stackConfig } from "../scripts/harness";
import { loadStackConfig } from "../stacks/config";
import { applyBlocks, applyYamlBlock, generatedBlocks, generatedFiles, secretsTable } from "../scripts/readme";

describe("README", () => {
  it("has the generated secrets table, diagrams and figures up to date, wherever they live (run `npm run readme`)", async () => {
    const files = await generatedFiles();
    for (const f of files) assert.equal(f.next, f.current, `${path.relative(ROOT, f.file)} is stale: run npm run readme`);
    const all = files.map((f) => f.current).join("\n");
    for (const name of Object.keys(await generatedBlocks())) assert.equal(all.split(`<!-- generated:${name} -->`).length, 2, `${name} appears once`);
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

describe("kind-cluster.yaml (README quickstart: kind create cluster --config kind-cluster.yaml)", () => {
  // Closed field lists from kubernetes-sigs/kind pkg/apis/config/v1alpha4/types.go (kind refuses unknown fields).
  const CLUSTER = ["kind", "apiVersion", "name", "nodes", "networking", "featureGates", "runtimeConfig", "kubeadmConfigPatches", "kubeadmConfigPatchesJSON6902", "containerdConfigPatches", "containerdConfigPatchesJSON6902"];
  const NODE = ["role", "image", "labels", "extraMounts", "extraPortMappings", "gpus", "kubeadmConfigPatches", "kubeadmConfigPatchesJSON6902"];
  const PORT = ["containerPort", "hostPort", "listenAddress", "protocol"];
  const doc = yaml.load(fs.readFileSync(path.join(ROOT, "kind-cluster.yaml"), "utf8")) as Record<string, unknown> & { nodes: (Record<string, unknown> & { extraPortMappings?: Record<string, unknown>[] })[] };

  it("is a kind v1alpha4 Cluster with only fields kind knows", () => {
    assert.equal(doc.kind, "Cluster");
    assert.equal(doc.apiVersion, "kind.x-k8s.io/v1alpha4");
    assert.deepEqual(Object.keys(doc).filter((k) => !CLUSTER.includes(k)), []);
    for (const n of doc.nodes) {
      assert.deepEqual(Object.keys(n).filter((k) => !NODE.includes(k)), []);
      for (const m of n.extraPortMappings ?? []) assert.deepEqual(Object.keys(m).filter((k) => !PORT.includes(k)), []);
    }
  });

  it("publishes the dev Vault's NodePort on 127.0.0.1, where the development stack's Vault provider looks", () => {
    const values = stackConfig("development");
    const secrets = fakesForMissing(values);
    const dev = loadStackConfig({ values: { ...engineConfig(values), ...secrets }, secretKeys: new Set(Object.keys(secrets)) }, "development");
    assert.ok(dev.vault);
    const mappings = doc.nodes.flatMap((n) => n.extraPortMappings ?? []);
    assert.deepEqual(mappings, [{ containerPort: dev.vault.devNodePort, hostPort: dev.vault.devNodePort, listenAddress: "127.0.0.1", protocol: "TCP" }]);
    assert.equal(dev.vault.address, `http://127.0.0.1:${dev.vault.devNodePort}`);
    assert.equal(doc.name, "veza", "the README's kubectl context is kind-veza");
  });
});
