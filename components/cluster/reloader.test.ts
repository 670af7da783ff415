import * as assert from "node:assert/strict";
import { findResource, runProgram } from "../../scripts/harness";
import { RELOADER_CHART_VERSION, Reloader, reloaderValues } from "./reloader";

describe("components/cluster/reloader", () => {
  it("installs the pinned Reloader chart watching only its own namespace", async () => {
    const run = await runProgram({
      stack: "test",
      config: { "veza-secrets:environment": "development", "veza-secrets:providers": ["vault"] },
      program: () => new Reloader("reloader", { namespace: "veza-staging", labels: { team: "platform" } }),
    });
    const rel = findResource(run, "kubernetes:helm.sh/v3:Release", "reloader");
    assert.equal(rel.inputs.chart, "reloader");
    assert.equal(rel.inputs.version, RELOADER_CHART_VERSION);
    assert.match(RELOADER_CHART_VERSION, /^\d+\.\d+\.\d+$/);
    assert.equal(rel.inputs.namespace, "veza-staging");
    assert.deepEqual(rel.inputs.values, reloaderValues({ team: "platform" }));
    assert.equal((reloaderValues() as { reloader: { watchGlobally: boolean } }).reloader.watchGlobally, false);
    assert.equal(rel.parent, findResource(run, "veza:cluster:Reloader", "reloader").urn);
  });
});
