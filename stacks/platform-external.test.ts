/**
 * The staging stack composed for what the platform runs already: an external Vault
 * (`vault.install: false`), ESO installed by the platform team (`eso.install: false`) and
 * Reloader in the cluster. Expected values come from the config, never from the output.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { SERVICES } from "../components/catalog";
import { ESO_REQUIRED_CRDS, ESO_VAULT_GENERATOR_CRD } from "../components/eso/operator";
import { findResource, resourcesOfType, unwrapSecrets } from "../harness";
import { P, buildStack } from "./config-fixtures";

const CA = fs.readFileSync(path.join(__dirname, "..", "certs", "vault-ca.pem"), "utf8");
const API_AUDIENCE = "https://kubernetes.default.svc.cluster.local";
const OVERRIDES = {
  [`${P}:vault`]: {
    install: false,
    replicas: undefined,
    tlsSecretName: undefined,
    kubernetesHost: "https://203.0.113.10:6443",
    kubernetesCaCert: CA,
    kubernetesApiAudience: API_AUDIENCE,
  },
  [`${P}:eso`]: { install: false, serviceAccount: "eso-controller" },
  [`${P}:rotation`]: { reloaderInstalled: true },
};

describe("stack layer: an external Vault and the platform's ESO (stacks/platform.ts)", () => {
  it("installs no Vault, ESO or Reloader, creates neither of their namespaces, and reads ESO's CRDs instead", async () => {
    const { config, run } = await buildStack("staging", OVERRIDES);
    assert.deepEqual(resourcesOfType(run, "kubernetes:helm.sh/v3:Release"), []);
    assert.deepEqual(
      resourcesOfType(run, "kubernetes:core/v1:Namespace").map((n) => (n.inputs.metadata as { name: string }).name),
      [config.namespaces.workloads],
    );
    const reads = run.resources.filter((r) => r.read);
    assert.deepEqual(reads.map((r) => r.id).sort(), [...ESO_REQUIRED_CRDS, ESO_VAULT_GENERATOR_CRD].sort());
    // Every ESO custom resource waits for the CRDs it needs.
    for (const r of run.resources.filter((x) => x.type.includes("external-secrets.io/")))
      assert.ok(
        reads.some((c) => r.dependencies.includes(c.urn)),
        `${r.type} ${r.name}`,
      );
  });

  it("grants the platform's ESO controller the stores' tokens, in its own namespace", async () => {
    const { config, run } = await buildStack("staging", OVERRIDES);
    const binding = findResource(run, "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", "external-secrets-token-create");
    assert.deepEqual(binding.inputs.subjects, [{ kind: "ServiceAccount", name: "eso-controller", namespace: config.namespaces.externalSecrets }]);
  });

  it("configures Vault's Kubernetes auth with the cluster's address and CA, each login reviewing itself, and binds system:auth-delegator to exactly the accounts that log in", async () => {
    const { config, run } = await buildStack("staging", OVERRIDES);
    const k8s = unwrapSecrets(findResource(run, "vault:kubernetes/authBackendConfig:AuthBackendConfig", "vault-config-k8s-auth-config").inputs);
    assert.deepEqual(k8s, { backend: "kubernetes", kubernetesHost: "https://203.0.113.10:6443", kubernetesCaCert: CA, disableLocalCaJwt: true });
    const review = findResource(run, "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding", "vault-token-review");
    const ns = config.namespaces.workloads;
    assert.deepEqual(
      (review.inputs.subjects as { name: string; namespace: string }[]).map((s) => `${s.namespace}/${s.name}`).sort(),
      ["eso-vault-store", "eso-vault-migrations-store", ...SERVICES.map((s) => `eso-db-${s}`)].map((n) => `${ns}/${n}`).sort(),
    );
    assert.deepEqual(review.inputs.roleRef, { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "system:auth-delegator" });
    // The tokens ESO mints carry the API server's audience too, for that review.
    for (const store of resourcesOfType(run, "kubernetes:external-secrets.io/v1:SecretStore")) {
      const auth = (store.inputs.spec as { provider: { vault: { auth: { kubernetes: { serviceAccountRef: { audiences: string[] } } } } } }).provider.vault.auth;
      assert.deepEqual(auth.kubernetes.serviceAccountRef.audiences, ["vault", API_AUDIENCE], store.name);
    }
    for (const g of resourcesOfType(run, "kubernetes:generators.external-secrets.io/v1alpha1:VaultDynamicSecret")) {
      const auth = (g.inputs.spec as { provider: { auth: { kubernetes: { serviceAccountRef: { audiences: string[] } } } } }).provider.auth;
      assert.deepEqual(auth.kubernetes.serviceAccountRef.audiences, ["vault", API_AUDIENCE], g.name);
    }
  });

  it("reaches Vault at its address with the CA of caCertFile, from the program and from ESO (a ConfigMap of that file)", async () => {
    const { config, run } = await buildStack("staging", OVERRIDES);
    const caMap = findResource(run, "kubernetes:core/v1:ConfigMap", "vault-ca");
    assert.deepEqual(caMap.inputs.data, { "ca.crt": fs.readFileSync(config.vault?.caCertFile as string, "utf8") });
    for (const store of resourcesOfType(run, "kubernetes:external-secrets.io/v1:SecretStore")) {
      const vault = (store.inputs.spec as { provider: { vault: { server: string; caProvider: unknown } } }).provider.vault;
      assert.equal(vault.server, config.vault?.address);
      assert.deepEqual(vault.caProvider, { type: "ConfigMap", name: "vault-ca", key: "ca.crt" });
    }
    const provider = findResource(run, "pulumi:providers:vault", "vault").inputs;
    // An external Vault's version is read from it, not assumed.
    assert.equal(provider.vaultVersionOverride, undefined);
  });

  it("polices no namespace it does not own: no Vault ingress policy, no ESO policy; only its own rotation job's pods", async () => {
    const { run } = await buildStack("staging", OVERRIDES);
    const policies = resourcesOfType(run, "kubernetes:networking.k8s.io/v1:NetworkPolicy").map((r) => {
      const m = r.inputs.metadata as { name: string; namespace: string };
      return `${m.namespace}/${m.name}`;
    });
    assert.deepEqual(policies, ["veza-staging/rotation-job"]);
  });
  // A missing CRD stopping the run is the engine's doing (a failed read fails its dependents),
  // which mocks do not model: npm run e2e previews against an API server without ESO's CRDs.
});
