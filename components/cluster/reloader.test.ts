import * as assert from "node:assert/strict";
import { findResource, runProgram } from "../../harness";
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
    assert.equal(RELOADER_CHART_VERSION, "2.2.16", "the chart whose appVersion is the pinned image's tag (v1.4.21)");
    assert.equal(rel.inputs.namespace, "veza-staging");
    // Literal, not reloaderValues() again: a change to the values must show here.
    assert.deepEqual(rel.inputs.values, {
      image: { repository: "ghcr.io/stakater/reloader", tag: "v1.4.21", digest: "sha256:b253579350a835082cdad8d8736671cedaa0f8309437c894bd1bf1c2f0e0d45e" },
      reloader: {
        watchGlobally: false,
        ignoreConfigMaps: true,
        reloadOnCreate: false,
        deployment: {
          labels: { team: "platform" },
          resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { cpu: "100m", memory: "128Mi" } },
          // Pod Security "restricted" (the namespace enforces it).
          securityContext: { runAsNonRoot: true, runAsUser: 65534, seccompProfile: { type: "RuntimeDefault" } },
          containerSecurityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, readOnlyRootFilesystem: true, runAsNonRoot: true },
        },
      },
    });
    assert.deepEqual(reloaderValues(), {
      image: (rel.inputs.values as { image: object }).image,
      reloader: {
        ...(rel.inputs.values as { reloader: object }).reloader,
        deployment: {
          labels: {},
          resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { cpu: "100m", memory: "128Mi" } },
          securityContext: { runAsNonRoot: true, runAsUser: 65534, seccompProfile: { type: "RuntimeDefault" } },
          containerSecurityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, readOnlyRootFilesystem: true, runAsNonRoot: true },
        },
      },
    });
    assert.deepEqual(
      [rel.inputs.name, rel.inputs.repositoryOpts, rel.inputs.createNamespace, rel.inputs.maxHistory],
      ["reloader", { repo: "https://stakater.github.io/stakater-charts" }, false, 10],
    );
    assert.ok(run.componentOutputs.get(findResource(run, "veza:cluster:Reloader", "reloader").urn)?.release, "registers the release as its output");
    assert.equal(rel.parent, findResource(run, "veza:cluster:Reloader", "reloader").urn);
  });
});
