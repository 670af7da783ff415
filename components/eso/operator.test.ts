import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { Provider } from "@pulumi/kubernetes/provider";
import * as pulumi from "@pulumi/pulumi";
import { findResource, runProgram, unwrapSecrets, type ProgramRun, type RecordedResource } from "../../harness";
import { chartAppVersion, chartDefaults, chartVersion, validateHelmValues } from "../../test/schemas";
import {
  ESO_APP_VERSION,
  ESO_CHART_VERSION,
  ESO_IMAGE_DIGEST,
  ESO_DEFAULT_RESOURCES,
  ExternalSecretsOperator,
  esoArgsErrors,
  esoValues,
  tokenCreateRule,
  type EsoValuesArgs,
  type ExternalSecretsOperatorArgs,
} from "./operator";

const ROOT = path.resolve(__dirname, "..", "..");
const COMPONENT = "veza:cluster:ExternalSecretsOperator";
const RELEASE = "kubernetes:helm.sh/v3:Release";
const W = { watchNamespace: "veza-test" };
const CONFIG = { "veza-secrets:environment": "development", "veza-secrets:providers": ["vault"] };

function run(args: ExternalSecretsOperatorArgs, opts?: { provider?: boolean }): Promise<ProgramRun> {
  return runProgram({
    stack: "test",
    config: CONFIG,
    program: () => {
      const provider = opts?.provider ? new Provider("cluster", {}) : undefined;
      new ExternalSecretsOperator("eso", { ...args, provider });
    },
  });
}

describe("components/eso/operator: Helm values", () => {
  it("pins the chart and the images to the vendored chart's version and appVersion", async () => {
    assert.equal(ESO_CHART_VERSION, chartVersion("external-secrets"));
    assert.equal(ESO_APP_VERSION, chartAppVersion("external-secrets"));
    const v = esoValues(W) as { image: { tag: string }; webhook: { image: { tag: string } }; certController: { image: { tag: string } } };
    assert.deepEqual(
      [v.image.tag, v.webhook.image.tag, v.certController.image.tag],
      Array(3).fill(`${chartAppVersion("external-secrets")}@${ESO_IMAGE_DIGEST}`),
    );
  });

  for (const replicas of [1, 2]) {
    for (const serviceMonitor of [false, true]) {
      it(`validates against the closed chart schema (replicas ${replicas}, serviceMonitor ${serviceMonitor})`, async () => {
        assert.deepEqual(validateHelmValues("external-secrets", esoValues({ ...W, replicas, serviceMonitor })), []);
      });
    }
  }

  it("validates with custom resources and labels", async () => {
    const values = esoValues({
      ...W,
      labels: { team: "platform" },
      resources: { controller: { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "512Mi" } } },
    });
    assert.deepEqual(validateHelmValues("external-secrets", values), []);
  });

  it("with a cert-manager issuer: cert-manager makes the webhook's certificate and no cert controller (no cluster-wide Secret read) is installed (issue 29 #4)", async () => {
    for (const kind of ["ClusterIssuer", "Issuer"] as const) {
      const v = esoValues({ ...W, webhookCertificateIssuer: { kind, name: "veza-webhook-ca" } }) as Record<string, Record<string, unknown>>;
      assert.deepEqual(v.webhook.certManager, {
        enabled: true,
        addInjectorAnnotations: true,
        cert: { create: true, issuerRef: { group: "cert-manager.io", kind, name: "veza-webhook-ca" } },
      });
      assert.deepEqual(v.certController, { create: false });
      assert.deepEqual(validateHelmValues("external-secrets", v), [], kind);
    }
    // Without one, the cert controller stays (the chart's default way to make the certificate).
    const plain = esoValues(W) as Record<string, Record<string, unknown>>;
    assert.equal(plain.certController.create, true);
    assert.equal("certManager" in plain.webhook, false);
  });

  it("is checked by a schema that catches a misspelled key", async () => {
    const values = esoValues({ ...W, replicas: 2 }) as Record<string, unknown> & { webhook: Record<string, unknown> };
    const typo = { ...values, procesPushSecret: false, webhook: { ...values.webhook, replicaCont: 2 } };
    assert.deepEqual(validateHelmValues("external-secrets", typo), ["procesPushSecret: unknown field", "webhook.replicaCont: unknown field"]);
  });

  it("has exactly these values with one replica", async () => {
    const pdb = { enabled: false, minAvailable: 1 };
    const image = { tag: "v2.9.0@sha256:44eb290f1c7f5d8f4eec2168cea4a6cfbc72a955c6781eb835e1c40700475dbd" };
    const metrics = { service: { enabled: false } };
    assert.deepEqual(esoValues(W), {
      installCRDs: true,
      replicaCount: 1,
      leaderElect: false,
      image,
      processClusterExternalSecret: false,
      processClusterPushSecret: false,
      processClusterGenerator: false,
      processClusterStore: false,
      processPushSecret: false,
      processSecretStore: true,
      scopedNamespace: "veza-test",
      scopedRBAC: true,
      rbac: { serviceAccountTokenCreate: false },
      serviceAccount: { create: true, name: "external-secrets" },
      resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "500m", memory: "256Mi" } },
      podDisruptionBudget: pdb,
      metrics,
      serviceMonitor: { enabled: false, renderMode: "skipIfMissing" },
      webhook: { create: true, replicaCount: 1, image, resources: ESO_DEFAULT_RESOURCES, podDisruptionBudget: pdb, metrics },
      certController: { create: true, replicaCount: 1, image, resources: ESO_DEFAULT_RESOURCES, podDisruptionBudget: pdb, metrics },
    });
  });

  it("turns on leader election and PDBs for every component with two replicas", async () => {
    const v = esoValues({ ...W, replicas: 2 }) as Record<string, never>;
    const pdb = { enabled: true, minAvailable: 1 };
    assert.equal(v.replicaCount, 2);
    assert.equal(v.leaderElect, true);
    assert.deepEqual(v.podDisruptionBudget, pdb);
    for (const part of ["webhook", "certController"] as const) {
      assert.equal(v[part]["replicaCount"], 2, part);
      assert.deepEqual(v[part]["podDisruptionBudget"], pdb, part);
    }
    // The chart has no value for it: the flag goes straight to the cert controller.
    assert.deepEqual(v.certController["extraArgs"], { "enable-leader-election": "true" });
    assert.equal((v.webhook as Record<string, unknown>).extraArgs, undefined);
  });

  it("passes boolean flags as strings, which the chart renders as --name=value", async () => {
    // A false boolean would render as a bare flag, i.e. true.
    const v = esoValues({ ...W, replicas: 3 }) as { certController: { extraArgs: Record<string, unknown> } };
    for (const args of [v.certController.extraArgs]) {
      for (const [k, value] of Object.entries(args)) assert.equal(typeof value, "string", k);
    }
  });

  it("turns on the metrics Services and fails loudly without the ServiceMonitor CRD when asked for a ServiceMonitor", async () => {
    const v = esoValues({ ...W, serviceMonitor: true }) as Record<string, never>;
    const metrics = { service: { enabled: true } };
    assert.deepEqual(v.serviceMonitor, { enabled: true, renderMode: "failIfMissing" });
    assert.deepEqual([v.metrics, v.webhook["metrics"], v.certController["metrics"]], [metrics, metrics, metrics]);
  });

  it("gives each component its own resources, defaulting the others", async () => {
    const controller = { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "1", memory: "512Mi" } };
    const v = esoValues({ ...W, resources: { controller } }) as Record<string, never>;
    assert.deepEqual([v.resources, v.webhook["resources"], v.certController["resources"]], [controller, ESO_DEFAULT_RESOURCES, ESO_DEFAULT_RESOURCES]);
  });

  it("sets commonLabels only when labels are given", async () => {
    assert.equal("commonLabels" in esoValues(W), false);
    assert.deepEqual(esoValues({ ...W, labels: { team: "platform" } }).commonLabels, { team: "platform" });
  });

  it("scopes the controller to one namespace with namespaced RBAC and no chart-wide token grant (the chart defaults are cluster-wide)", () => {
    const upstream = chartDefaults("external-secrets") as { scopedNamespace: string; scopedRBAC: boolean; rbac: { serviceAccountTokenCreate: boolean } };
    // What the chart would do on its own: every namespace, a ClusterRole, tokens for every ServiceAccount.
    assert.deepEqual([upstream.scopedNamespace, upstream.scopedRBAC, upstream.rbac.serviceAccountTokenCreate], ["", false, true]);
    const v = esoValues(W) as typeof upstream;
    assert.deepEqual([v.scopedNamespace, v.scopedRBAC, v.rbac.serviceAccountTokenCreate], ["veza-test", true, false]);
  });

  it("requires the watched namespace and ServiceAccount names without wildcards, with exact messages", () => {
    assert.deepEqual(esoArgsErrors({ watchNamespace: "" }), [
      "[watchNamespace] is required: the one namespace ESO reconciles (its Secrets access is scoped to it), e.g. the workload namespace.",
    ]);
    assert.deepEqual(esoArgsErrors({ ...W, tokenServiceAccounts: ["eso-vault-store", "*"] }), [
      '[tokenServiceAccounts] must list ServiceAccount names (no "*"); got "*".',
    ]);
  });

  it("appends a validated digest to the image tag of all three components", () => {
    const digest = `sha256:${"ab".repeat(32)}`;
    const v = esoValues({ ...W, imageDigest: digest }) as {
      image: { tag: string };
      webhook: { image: { tag: string } };
      certController: { image: { tag: string } };
    };
    assert.deepEqual([v.image.tag, v.webhook.image.tag, v.certController.image.tag], Array(3).fill(`v2.9.0@${digest}`));
    assert.deepEqual(validateHelmValues("external-secrets", v), []);
    assert.deepEqual(esoArgsErrors({ ...W, imageDigest: "sha256:abc" }), ['[imageDigest] must be "sha256:" and 64 lowercase hex digits; got "sha256:abc".']);
  });

  it("pins all three components by the shipped digest when none is configured", () => {
    const v = esoValues(W) as { image: { tag: string }; webhook: { image: { tag: string } }; certController: { image: { tag: string } } };
    const pinned = "v2.9.0@sha256:44eb290f1c7f5d8f4eec2168cea4a6cfbc72a955c6781eb835e1c40700475dbd";
    assert.deepEqual([v.image.tag, v.webhook.image.tag, v.certController.image.tag], Array(3).fill(pinned));
    assert.equal(ESO_IMAGE_DIGEST, pinned.split("@")[1]);
  });

  it("requires the watched namespace when it is missing altogether, takes up to 10 replicas, anchors the digest at both ends", () => {
    const missing = { watchNamespace: undefined } as unknown as EsoValuesArgs;
    assert.deepEqual(esoArgsErrors(missing), [
      "[watchNamespace] is required: the one namespace ESO reconciles (its Secrets access is scoped to it), e.g. the workload namespace.",
    ]);
    assert.deepEqual(esoArgsErrors({ ...W, replicas: 10 }), []);
    const digest = `sha256:${"ab".repeat(32)}`;
    for (const bad of [`x${digest}`, `${digest}0`]) {
      assert.deepEqual(esoArgsErrors({ ...W, imageDigest: bad }), [`[imageDigest] must be "sha256:" and 64 lowercase hex digits; got ${JSON.stringify(bad)}.`]);
    }
  });

  it("reports every problem at once, one sentence after another", () => {
    const message = '[imageDigest] must be "sha256:" and 64 lowercase hex digits; got "sha256:abc". [replicas] must be a whole number from 1 to 10; got 0.';
    assert.throws(() => esoValues({ ...W, imageDigest: "sha256:abc", replicas: 0 }), { message });
  });

  it("leaves commonLabels out for an empty label set", () => {
    assert.equal("commonLabels" in esoValues({ ...W, labels: {} }), false);
  });

  const badReplicas: [number, string][] = [
    [0, "[replicas] must be a whole number from 1 to 10; got 0."],
    [1.5, "[replicas] must be a whole number from 1 to 10; got 1.5."],
    [11, "[replicas] must be a whole number from 1 to 10; got 11."],
    [Number.NaN, "[replicas] must be a whole number from 1 to 10; got NaN."],
  ];
  for (const [replicas, message] of badReplicas) {
    it(`rejects replicas ${replicas} with an exact message`, async () => {
      assert.deepEqual(esoArgsErrors({ ...W, replicas }), [message]);
      assert.throws(() => esoValues({ ...W, replicas }), { message });
    });
  }
});

describe("components/eso/operator: CRDs at preview", () => {
  it("uses a pulumi-kubernetes that reads a Release's CRDs during preview (4.32.0+, pulumi-kubernetes#4417)", () => {
    const pkg = JSON.parse(fs.readFileSync(require.resolve("@pulumi/kubernetes/package.json"), "utf8")) as { version: string };
    const [major, minor] = pkg.version.split(".").map(Number);
    assert.ok(major > 4 || (major === 4 && minor >= 32), `@pulumi/kubernetes ${pkg.version} is older than 4.32.0`);
    const declared = (JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { dependencies: Record<string, string> }).dependencies[
      "@pulumi/kubernetes"
    ];
    assert.match(declared, /^\^4\.(3[2-9]|[4-9]\d)\./, "package.json must not allow a @pulumi/kubernetes older than 4.32");
  });
});

describe("components/eso/operator: resources", () => {
  let plain: ProgramRun;
  let component: RecordedResource;
  let release: RecordedResource;

  beforeEach(async () => {
    plain = await run({ ...W, tokenServiceAccounts: [], namespace: "external-secrets" });
    component = findResource(plain, COMPONENT, "eso");
    release = findResource(plain, RELEASE, "eso");
  });

  it("registers exactly the component and one Release", async () => {
    const mine = plain.resources
      .filter((r) => r.type !== "pulumi:pulumi:Stack")
      .map((r) => `${r.type}::${r.name}`)
      .sort();
    assert.deepEqual(mine, [`${RELEASE}::eso`, `${COMPONENT}::eso`]);
  });

  it("installs the pinned chart from the ESO repository, CRDs included", async () => {
    const i = unwrapSecrets(release.inputs) as Record<string, unknown>;
    assert.equal(i.chart, "external-secrets");
    assert.equal(i.version, chartVersion("external-secrets"));
    assert.deepEqual(i.repositoryOpts, { repo: "https://charts.external-secrets.io" });
    assert.equal(i.name, "external-secrets");
    assert.equal(i.namespace, "external-secrets");
    assert.equal(i.createNamespace, false);
    assert.equal(i.skipCrds, undefined);
    assert.deepEqual(i.values, esoValues(W));
    assert.equal((i.values as { installCRDs: boolean }).installCRDs, true);
  });

  it("parents every child on the component", async () => {
    assert.equal(release.parent, component.urn);
  });

  it("does not protect anything by default", async () => {
    assert.deepEqual(
      plain.resources.filter((r) => r.protect).map((r) => r.name),
      [],
    );
  });

  it("registers exactly release, serviceAccountName and namespace as outputs", async () => {
    const outputs = plain.componentOutputs.get(component.urn) ?? {};
    assert.deepEqual(Object.keys(outputs).sort(), ["namespace", "release", "serviceAccountName"]);
    assert.equal(outputs.serviceAccountName, "external-secrets");
    assert.equal(outputs.namespace, "external-secrets");
  });

  it("protects the release when asked, labels the chart, and passes the provider on", async () => {
    const labels = { team: "platform" };
    const r = await run({ ...W, tokenServiceAccounts: [], namespace: "eso", replicas: 2, protect: true, labels }, { provider: true });
    assert.deepEqual(
      r.resources.filter((x) => x.protect).map((x) => x.name),
      ["eso"],
    );
    const rel = findResource(r, RELEASE, "eso");
    assert.deepEqual(unwrapSecrets(rel.inputs.values), esoValues({ ...W, replicas: 2, labels }));
    assert.deepEqual((unwrapSecrets(rel.inputs.values) as { commonLabels: unknown }).commonLabels, labels);
    const provider = findResource(r, "pulumi:providers:kubernetes", "cluster");
    assert.ok(rel.provider.startsWith(`${provider.urn}::`));
  });

  it("grants serviceaccounts/token create on the stores' accounts by name, in the watched namespace, to the controller only", async () => {
    const r = await run({ ...W, namespace: "external-secrets", tokenServiceAccounts: ["eso-vault-store", "eso-aws-store", "eso-vault-store"] });
    const mine = r.resources
      .filter((x) => x.type !== "pulumi:pulumi:Stack")
      .map((x) => `${x.type}::${x.name}`)
      .sort();
    assert.deepEqual(mine, [
      `${RELEASE}::eso`,
      "kubernetes:rbac.authorization.k8s.io/v1:Role::eso-token-create",
      "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding::eso-token-create",
      `${COMPONENT}::eso`,
    ]);
    const role = findResource(r, "kubernetes:rbac.authorization.k8s.io/v1:Role", "eso-token-create");
    assert.deepEqual(unwrapSecrets(role.inputs), {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: { name: "external-secrets-token-create", namespace: "veza-test", labels: { "app.kubernetes.io/managed-by": "pulumi" } },
      rules: [{ apiGroups: [""], resources: ["serviceaccounts/token"], resourceNames: ["eso-aws-store", "eso-vault-store"], verbs: ["create"] }],
    });
    assert.deepEqual(tokenCreateRule(["a"]), { apiGroups: [""], resources: ["serviceaccounts/token"], resourceNames: ["a"], verbs: ["create"] });
    const binding = findResource(r, "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", "eso-token-create");
    assert.deepEqual(unwrapSecrets(binding.inputs), {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: "external-secrets-token-create", namespace: "veza-test", labels: { "app.kubernetes.io/managed-by": "pulumi" } },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "external-secrets-token-create" },
      subjects: [{ kind: "ServiceAccount", name: "external-secrets", namespace: "external-secrets" }],
    });
  });

  it("parents the token Role and RoleBinding on the component, with the caller's provider and labels", async () => {
    const r = await run({ ...W, namespace: "external-secrets", tokenServiceAccounts: ["eso-vault-store"], labels: { team: "platform" } }, { provider: true });
    const provider = findResource(r, "pulumi:providers:kubernetes", "cluster");
    const owner = findResource(r, COMPONENT, "eso");
    for (const type of ["kubernetes:rbac.authorization.k8s.io/v1:Role", "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding"]) {
      const x = findResource(r, type, "eso-token-create");
      assert.equal(x.parent, owner.urn, type);
      assert.ok(x.provider.startsWith(`${provider.urn}::`), type);
      assert.deepEqual((x.inputs.metadata as { labels: unknown }).labels, { "app.kubernetes.io/managed-by": "pulumi", team: "platform" }, type);
    }
  });

  it("throws a ResourceError (naming the component) for invalid args, before the Helm values", async () => {
    await assert.rejects(run({ ...W, tokenServiceAccounts: [], namespace: "eso", replicas: 0 }), (e: unknown) => e instanceof pulumi.ResourceError);
    await assert.rejects(
      run({ ...W, tokenServiceAccounts: [], namespace: "eso", replicas: 0, imageDigest: "sha256:abc" }),
      (e: unknown) => e instanceof pulumi.ResourceError && e.message.includes('got "sha256:abc". [replicas] must be a whole number from 1 to 10; got 0.'),
    );
  });

  it("refuses invalid replicas with a ResourceError naming the argument", async () => {
    await assert.rejects(run({ ...W, tokenServiceAccounts: [], namespace: "eso", replicas: 0 }), /\[replicas\] must be a whole number from 1 to 10; got 0\./);
  });
});
