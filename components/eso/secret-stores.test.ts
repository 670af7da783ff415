import * as assert from "node:assert/strict";
import { Provider } from "@pulumi/kubernetes/provider";
import { BareResource, findResource, resourcesOfType, runProgram, unwrapSecrets, type ProgramRun } from "../../harness";
import { validateCustomResource } from "../../test/schemas";
import { SecretStores, type StoreSpec } from "./secret-stores";

const CONFIG = { "veza-secrets:environment": "development", "veza-secrets:providers": ["vault"] };
const CR = "kubernetes:external-secrets.io/v1:SecretStore";
const SA = "kubernetes:core/v1:ServiceAccount";

const STORES: StoreSpec[] = [
  {
    kind: "vault",
    name: "vault-store",
    server: "https://vault.vault-system.svc:8200",
    kvMount: "secret",
    authMountPath: "kubernetes",
    role: "eso-veza-production",
    audience: "vault",
    caConfigMap: "vault-ca",
  },
  {
    kind: "vault",
    name: "vault-database-store",
    server: "https://vault.vault-system.svc:8200",
    authMountPath: "kubernetes",
    role: "eso-veza-production",
    audience: "vault",
    caConfigMap: "vault-ca",
    serviceAccount: "eso-vault-store",
  },
  { kind: "aws", name: "aws-store", region: "eu-west-1", roleArn: "arn:aws:iam::123456789012:role/eso-veza-production" },
  {
    kind: "gcp",
    name: "gcp-store",
    projectId: "veza-prod",
    serviceAccountEmail: "eso-veza-production@veza-prod.iam.gserviceaccount.com",
    clusterLocation: "europe-west1",
    clusterName: "veza",
  },
  {
    kind: "azure",
    name: "azure-store",
    vaultUrl: "https://veza-production-kv.vault.azure.net/",
    tenantId: "00000000-0000-0000-0000-000000000000",
    clientId: "11111111-1111-1111-1111-111111111111",
  },
];

describe("components/eso/secret-stores", () => {
  let run: ProgramRun;
  beforeEach(async () => {
    run = await runProgram({ stack: "test", config: CONFIG, program: () => new SecretStores("stores", { namespace: "veza-production", stores: STORES }) });
  });

  it("registers one namespaced SecretStore and one ServiceAccount per backend, nothing cluster-wide", () => {
    const names = (type: string) =>
      resourcesOfType(run, type)
        .map((r) => (r.inputs.metadata as { name: string }).name)
        .sort();
    assert.deepEqual(names(CR), STORES.map((s) => s.name).sort());
    // The database store shares the KV store's account (one Vault role per environment).
    assert.deepEqual(names(SA), ["eso-aws-store", "eso-azure-store", "eso-gcp-store", "eso-vault-store"]);
    assert.equal(run.resources.filter((r) => r.type.includes("ClusterSecretStore")).length, 0);
    for (const r of resourcesOfType(run, CR)) assert.equal((r.inputs.metadata as { namespace: string }).namespace, "veza-production");
  });

  it("validates every store against the ESO 2.9 CRD, unknown fields rejected", () => {
    for (const r of resourcesOfType(run, CR)) assert.deepEqual(validateCustomResource(unwrapSecrets(r.inputs)), [], r.name);
  });

  it("authenticates each store with its own identity only", () => {
    const spec = (name: string) => (findResource(run, CR, `stores-${name}`).inputs.spec as { provider: Record<string, unknown> }).provider;
    assert.deepEqual(spec("vault-store"), {
      vault: {
        server: "https://vault.vault-system.svc:8200",
        path: "secret",
        version: "v2",
        caProvider: { type: "ConfigMap", name: "vault-ca", key: "ca.crt" },
        auth: { kubernetes: { mountPath: "kubernetes", role: "eso-veza-production", serviceAccountRef: { name: "eso-vault-store", audiences: ["vault"] } } },
      },
    });
    assert.deepEqual((spec("vault-database-store").vault as { version: string; path?: string }).version, "v1");
    assert.deepEqual((spec("vault-database-store").vault as { auth: unknown }).auth, (spec("vault-store").vault as { auth: unknown }).auth);
    assert.equal((spec("vault-database-store").vault as { path?: string }).path, undefined);
    assert.deepEqual(spec("aws-store"), {
      aws: { service: "SecretsManager", region: "eu-west-1", auth: { jwt: { serviceAccountRef: { name: "eso-aws-store" } } } },
    });
    assert.deepEqual(spec("gcp-store"), {
      gcpsm: {
        projectID: "veza-prod",
        auth: {
          workloadIdentity: {
            serviceAccountRef: { name: "eso-gcp-store" },
            clusterLocation: "europe-west1",
            clusterName: "veza",
            clusterProjectID: "veza-prod",
          },
        },
      },
    });
    assert.deepEqual(spec("azure-store"), {
      azurekv: {
        authType: "WorkloadIdentity",
        vaultUrl: "https://veza-production-kv.vault.azure.net/",
        tenantId: "00000000-0000-0000-0000-000000000000",
        serviceAccountRef: { name: "eso-azure-store" },
      },
    });
    const ann = (name: string) => (findResource(run, SA, `stores-eso-${name}`).inputs.metadata as { annotations?: Record<string, string> }).annotations ?? {};
    assert.deepEqual(ann("aws-store"), { "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/eso-veza-production" });
    assert.deepEqual(ann("gcp-store"), { "iam.gke.io/gcp-service-account": "eso-veza-production@veza-prod.iam.gserviceaccount.com" });
    assert.deepEqual(ann("azure-store"), {
      "azure.workload.identity/client-id": "11111111-1111-1111-1111-111111111111",
      "azure.workload.identity/tenant-id": "00000000-0000-0000-0000-000000000000",
    });
    assert.deepEqual(ann("vault-store"), {});
  });

  it("creates each store after its ServiceAccount and whatever it is told to depend on", async () => {
    const r = await runProgram({
      stack: "test",
      config: CONFIG,
      program: () => {
        const eso = new BareResource("eso");
        new SecretStores("stores", { namespace: "ns", stores: STORES.slice(0, 1), dependsOn: [eso] });
      },
    });
    const store = findResource(r, CR, "stores-vault-store");
    assert.ok(store.dependencies.includes(findResource(r, "test:index:Bare", "eso").urn));
    assert.ok(store.dependencies.includes(findResource(r, SA, "stores-eso-vault-store").urn));
  });

  it("parents every child on the component with the caller's provider and labels; no store account mounts a token", async () => {
    const r = await runProgram({
      stack: "test",
      config: CONFIG,
      program: () => {
        const provider = new Provider("cluster", {});
        new SecretStores("stores", { namespace: "ns", stores: STORES, provider, labels: { team: "platform" } });
      },
    });
    const owner = findResource(r, "veza:eso:SecretStores", "stores");
    const provider = findResource(r, "pulumi:providers:kubernetes", "cluster");
    const base = { "app.kubernetes.io/part-of": "veza", "app.kubernetes.io/managed-by": "pulumi", team: "platform" };
    const children = r.resources.filter((x) => x.parent === owner.urn);
    assert.equal(children.length, resourcesOfType(r, CR).length + resourcesOfType(r, SA).length);
    for (const x of [...resourcesOfType(r, CR), ...resourcesOfType(r, SA)]) {
      assert.equal(x.parent, owner.urn, x.name);
      assert.ok(x.provider.startsWith(`${provider.urn}::`), x.name);
      const labels = (x.inputs.metadata as { labels: unknown }).labels;
      assert.deepEqual(labels, x.type === SA ? { ...base, "app.kubernetes.io/component": "secret-store" } : base, x.name);
    }
    for (const sa of resourcesOfType(r, SA)) assert.equal(sa.inputs.automountServiceAccountToken, false, sa.name);
    const outputs = r.componentOutputs.get(owner.urn) ?? {};
    assert.deepEqual(Object.keys(outputs).sort(), ["serviceAccounts", "storeNames", "stores"]);
    assert.deepEqual(outputs.storeNames, Object.fromEntries(STORES.map((x) => [x.name, x.name])));
    assert.equal(Object.keys(outputs.serviceAccounts as object).length, STORES.length);
  });

  it("refuses two stores with one name", async () => {
    await assert.rejects(
      runProgram({ stack: "test", config: CONFIG, program: () => new SecretStores("s", { namespace: "ns", stores: [STORES[0], STORES[0]] }) }),
      /\[stores\] names store "vault-store" twice; give each store its own name\./,
    );
  });
});
