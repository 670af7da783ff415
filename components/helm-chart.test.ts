import * as assert from "node:assert/strict";
import { releaseChart } from "./helm-chart";

const PINNED = { name: "vault", version: "0.34.1", repository: "https://helm.releases.hashicorp.com" };

describe("components/helm-chart", () => {
  it("takes a pinned chart from its own repository, an HTTP mirror, an OCI registry or a local directory", () => {
    assert.deepEqual(releaseChart(PINNED), { chart: "vault", version: "0.34.1", repositoryOpts: { repo: "https://helm.releases.hashicorp.com" } });
    assert.deepEqual(releaseChart(PINNED, { kind: "repository", url: "https://mirror.example.com/charts" }), {
      chart: "vault",
      version: "0.34.1",
      repositoryOpts: { repo: "https://mirror.example.com/charts" },
    });
    // The chart's name is appended to the registry path; a trailing slash is not doubled.
    assert.deepEqual(releaseChart(PINNED, { kind: "oci", url: "oci://registry.example.com/helm/" }), {
      chart: "oci://registry.example.com/helm/vault",
      version: "0.34.1",
    });
    // A local chart: Helm ignores the version, which the stack layer checks in its Chart.yaml instead.
    assert.deepEqual(releaseChart(PINNED, { kind: "path", path: "charts/vault" }), { chart: "charts/vault" });
  });
});
