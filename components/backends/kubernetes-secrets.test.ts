import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { findResource, isSecret, plaintextOccurrences, resourcesOfType, runProgram, tryRunProgram, unwrapSecrets, type ProgramRun } from "../../harness";
import { serviceSecrets } from "../catalog";
import { SPEC_CATALOG, SPEC_SERVICES } from "../../test/catalog-fixture";
import { RELOADER_SECRET_ANNOTATIONS } from "../cluster/reloader";
import { KubernetesSecrets, type KubernetesSecretSpec } from "./kubernetes-secrets";

const CONFIG = { "veza-secrets:environment": "development", "veza-secrets:providers": ["vault"] };
const SECRET = "kubernetes:core/v1:Secret";

/** A recognisable secret value per catalog key (one plain, to show plain inputs get wrapped too). */
const value = (key: string) => `FAKE-SECRET-${key}-5f3c9a`;
const SPECS: KubernetesSecretSpec[] = serviceSecrets(SPEC_CATALOG, { services: SPEC_SERVICES }).map((s) => ({
  name: s.name,
  data: Object.fromEntries(s.keys.map((k) => [k, k === "redis-url" ? value(k) : pulumi.secret(value(k))])),
}));

describe("components/backends/kubernetes-secrets", () => {
  let run: ProgramRun;
  beforeEach(async () => {
    run = await runProgram({
      stack: "test",
      config: CONFIG,
      program: () =>
        new KubernetesSecrets("k8s", {
          namespace: "veza-production",
          secrets: SPECS,
          labels: { "veza.io/environment": "production" },
          annotations: { ...RELOADER_SECRET_ANNOTATIONS },
          protect: true,
        }),
    });
  });

  it("writes exactly the Secrets ESO would: these names, these keys, Opaque, in the namespace", () => {
    // Registration order follows output resolution, and serialisation sorts keys: compare sorted.
    const secrets = resourcesOfType(run, SECRET).sort((a, b) => a.name.localeCompare(b.name));
    const sorted = (keys: string[]) => [...keys].sort();
    assert.deepEqual(
      secrets.map((r) => [r.name, (r.inputs.metadata as { name: string }).name, Object.keys(unwrapSecrets(r.inputs.stringData) as object)]),
      [
        [
          "k8s-veza-backend-api-secrets",
          "veza-backend-api-secrets",
          sorted([
            "database-url",
            "redis-url",
            "jwt-secret",
            "jwt-secret-previous",
            "stripe-api-key",
            "stripe-webhook-secret",
            "smtp-password",
            "s3-access-key",
            "s3-secret-key",
          ]),
        ],
        [
          "k8s-veza-chat-server-secrets",
          "veza-chat-server-secrets",
          sorted(["database-url", "redis-url", "jwt-secret", "jwt-secret-previous", "chat-server-secret"]),
        ],
        ["k8s-veza-secrets", "veza-secrets", sorted(["database-url", "redis-url", "jwt-secret", "jwt-secret-previous"])],
        [
          "k8s-veza-stream-server-secrets",
          "veza-stream-server-secrets",
          sorted(["database-url", "redis-url", "jwt-secret", "jwt-secret-previous", "stream-server-secret"]),
        ],
      ],
    );
    const component = findResource(run, "veza:secrets:KubernetesSecrets", "k8s");
    for (const r of secrets) {
      assert.equal(r.inputs.type, "Opaque");
      assert.deepEqual(r.inputs.metadata, {
        name: (r.inputs.metadata as { name: string }).name,
        namespace: "veza-production",
        labels: { "veza.io/environment": "production" },
        annotations: { "reloader.stakater.com/match": "true" },
      });
      assert.equal(r.parent, component.urn);
      assert.equal(r.protect, true);
      assert.equal(r.inputs.data, undefined);
    }
    assert.deepEqual(run.componentOutputs.get(component.urn), {
      secretNames: ["veza-secrets", "veza-backend-api-secrets", "veza-chat-server-secrets", "veza-stream-server-secrets"],
    });
  });

  it("wraps stringData as a whole secret, plain inputs included, and leaks no value", () => {
    for (const r of resourcesOfType(run, SECRET)) {
      assert.ok(isSecret(r.inputs.stringData), r.name);
      const data = unwrapSecrets(r.inputs.stringData) as Record<string, string>;
      for (const [k, v] of Object.entries(data)) assert.equal(v, value(k));
    }
    for (const spec of SPEC_CATALOG) {
      for (const r of run.resources) assert.deepEqual(plaintextOccurrences(r.inputs, value(spec.key)), [], `${r.name} ${spec.key}`);
      for (const [urn, outputs] of run.componentOutputs) assert.deepEqual(plaintextOccurrences(outputs, value(spec.key)), [], urn);
    }
  });

  it("protects nothing by default", async () => {
    const r = await runProgram({ stack: "test", config: CONFIG, program: () => new KubernetesSecrets("k8s", { namespace: "ns", secrets: SPECS.slice(0, 1) }) });
    assert.deepEqual(
      resourcesOfType(r, SECRET).map((x) => [x.name, x.protect]),
      [["k8s-veza-secrets", false]],
    );
    assert.equal((resourcesOfType(r, SECRET)[0].inputs.metadata as { annotations?: unknown }).annotations, undefined);
  });

  for (const [label, secrets, message] of [
    [
      "an upper-case name",
      [{ name: "Veza-Secrets", data: {} }],
      '[secrets] name "Veza-Secrets" must be a DNS-1123 subdomain (lower-case letters, digits, "-" and "."), such as "veza-secrets".',
    ],
    [
      "a duplicate name",
      [
        { name: "veza-secrets", data: {} },
        { name: "veza-secrets", data: {} },
      ],
      '[secrets] name "veza-secrets" appears twice; merge the two entries\' data.',
    ],
    [
      "a key with a slash",
      [{ name: "veza-secrets", data: { "a/b": "x" } }],
      '[secrets] "veza-secrets" key "a/b" may hold only letters, digits, "-", "_" and ".", at most 253 characters.',
    ],
    [
      "a key over 253 characters",
      [{ name: "veza-secrets", data: { ["k".repeat(254)]: "x" } }],
      `[secrets] "veza-secrets" key "${"k".repeat(254)}" may hold only letters, digits, "-", "_" and ".", at most 253 characters.`,
    ],
  ] as const) {
    it(`refuses ${label}, creating nothing`, async () => {
      const { run: r, error } = await tryRunProgram({
        stack: "test",
        config: CONFIG,
        program: () => new KubernetesSecrets("k8s", { namespace: "ns", secrets: [...secrets] }),
      });
      assert.ok(error instanceof pulumi.ResourceError);
      assert.equal(error.message, message);
      assert.equal(resourcesOfType(r, SECRET).length, 0);
    });
  }

  it("accepts a key of exactly 253 characters", async () => {
    const { error } = await tryRunProgram({
      stack: "test",
      config: CONFIG,
      program: () => new KubernetesSecrets("k8s", { namespace: "ns", secrets: [{ name: "veza-secrets", data: { ["k".repeat(253)]: "x" } }] }),
    });
    assert.equal(error, undefined);
  });
});
