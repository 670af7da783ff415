/**
 * The policy pack's resource policies on pinned versions (policy/): chart versions, image tags
 * and digests in Helm values and pod specs; each against one violating and one compliant
 * resource, with the exact message.
 */
import * as assert from "node:assert/strict";
import * as P from "../policy/policies";
import type { FakeResource } from "./policy-args";
import { messages } from "./policy-fixtures";

describe("policy pack: resource policies (one violating, one compliant each)", () => {
  it("images-pinned-by-digest (mandatory)", async () => {
    assert.equal(P.imagesPinnedByDigest.enforcementLevel, "mandatory");
    const digest = "sha256:5be49781ecf78bfe775c5309c6a4d9f4e9e040b6c885c99eb2b12fb69855e1a2";
    const release = (values: object): FakeResource => ({
      type: "kubernetes:helm.sh/v3:Release",
      name: "vault",
      props: { chart: "vault", version: "0.34.1", values },
    });
    assert.deepEqual(
      await messages(
        P.imagesPinnedByDigest,
        release({ server: { image: { repository: "hashicorp/vault", tag: "2.0.4" } }, sidecar: { image: "busybox:1.37" } }),
      ),
      [
        'Helm release "vault" value server.image.tag "2.0.4" is pinned by tag only: append @sha256:<digest> (keep the tag for readers).',
        'Helm release "vault" value sidecar.image "busybox:1.37" is pinned by tag only: append @sha256:<digest> (keep the tag for readers).',
      ],
    );
    assert.deepEqual(
      await messages(
        P.imagesPinnedByDigest,
        release({ server: { image: { repository: "hashicorp/vault", tag: `2.0.4@${digest}` } }, sidecar: { image: `busybox:1.37@${digest}` } }),
      ),
      [],
    );
    // A known chart whose image is left to its default runs a tag: each unset image is named.
    const chart = (name: string, values: object): FakeResource => ({
      type: "kubernetes:helm.sh/v3:Release",
      name,
      props: { chart: name, version: "1.0.0", values },
    });
    assert.deepEqual(await messages(P.imagesPinnedByDigest, chart("reloader", { reloader: { watchGlobally: false } })), [
      'Helm release "reloader" sets no image: the chart\'s default image runs, pinned by tag only. Set it with a digest.',
    ]);
    assert.deepEqual(
      await messages(P.imagesPinnedByDigest, chart("reloader", { image: { repository: "ghcr.io/stakater/reloader", tag: "v1.4.21", digest } })),
      [],
    );
    assert.deepEqual(await messages(P.imagesPinnedByDigest, chart("external-secrets", { image: { tag: `v2.9.0@${digest}` } })), [
      'Helm release "external-secrets" sets no webhook.image: the chart\'s default image runs, pinned by tag only. Set it with a digest.',
      'Helm release "external-secrets" sets no certController.image: the chart\'s default image runs, pinned by tag only. Set it with a digest.',
    ]);
    assert.deepEqual(await messages(P.imagesPinnedByDigest, chart("vault", {})), [
      'Helm release "vault" sets no server.image: the chart\'s default image runs, pinned by tag only. Set it with a digest.',
    ]);
    // A chart the table does not know is judged on what its values set, nothing more.
    assert.deepEqual(await messages(P.imagesPinnedByDigest, chart("other", {})), []);
    const job = (image: string): FakeResource => ({
      type: "kubernetes:batch/v1:Job",
      name: "j",
      props: { metadata: { name: "j" }, spec: { template: { spec: { containers: [{ name: "c", image }] } } } },
    });
    assert.deepEqual(await messages(P.imagesPinnedByDigest, job("registry.k8s.io/kubectl:v1.34.0")), [
      'j: container "c" image "registry.k8s.io/kubectl:v1.34.0" is pinned by tag only: append @sha256:<digest> (keep the tag for readers).',
    ]);
    assert.deepEqual(await messages(P.imagesPinnedByDigest, job(`registry.k8s.io/kubectl:v1.34.0@${digest}`)), []);
  });

  it("pinned-chart-and-image-versions", async () => {
    const release = (props: object): FakeResource => ({ type: "kubernetes:helm.sh/v3:Release", name: "eso", props: { chart: "external-secrets", ...props } });
    assert.deepEqual(
      await messages(
        P.pinnedVersions,
        release({ values: { image: { tag: "latest" }, webhook: { image: { repository: "my/webhook" } }, sidecar: { image: "busybox" } } }),
      ),
      [
        'Helm release "eso" has no chart version: pin an exact version so every up installs the same chart.',
        'Helm release "eso" value image.tag is "latest": pin a version (or a digest).',
        'Helm release "eso" value webhook.image sets repository "my/webhook" without a tag: pin a version (or a digest) (the chart\'s default tag belongs to its own image).',
        'Helm release "eso" value sidecar.image "busybox" has no tag: pin a version (or a digest).',
      ],
    );
    assert.deepEqual(await messages(P.pinnedVersions, release({ version: "^2.9.0" })), [
      'Helm release "eso" chart version "^2.9.0" is not exact: pin a version such as "1.2.3".',
    ]);
    assert.deepEqual(
      await messages(
        P.pinnedVersions,
        release({ version: "2.9.0", values: { image: { tag: "v2.9.0" }, certController: { image: { pullPolicy: "IfNotPresent" } } } }),
      ),
      [],
    );
    const cron = (image: string): FakeResource => ({
      type: "kubernetes:batch/v1:CronJob",
      name: "rotation",
      props: { metadata: { name: "secrets-rotation" }, spec: { jobTemplate: { spec: { template: { spec: { containers: [{ name: "restart", image }] } } } } } },
    });
    assert.deepEqual(await messages(P.pinnedVersions, cron("bitnami/kubectl:latest")), [
      'secrets-rotation: container "restart" image "bitnami/kubectl:latest" uses the "latest" tag: pin a version (or a digest).',
    ]);
    assert.deepEqual(await messages(P.pinnedVersions, cron("registry.k8s.io/kubectl:v1.34.0")), []);
  });
});
