import * as assert from "node:assert/strict";
import { validateExternalSecretWebhook } from "./eso-webhook";
import { chartAppVersion, chartVersion, validateCustomResource, validateHelmValues } from "./schemas";

/** A minimal valid ExternalSecret; `patch` is applied to a fresh copy. */
function externalSecret(patch: (o: { [key: string]: unknown }) => void = () => undefined): unknown {
  const obj = {
    apiVersion: "external-secrets.io/v1",
    kind: "ExternalSecret",
    metadata: { name: "db-credentials", namespace: "veza", labels: { "app.kubernetes.io/part-of": "veza" } },
    spec: {
      refreshInterval: "1h",
      secretStoreRef: { name: "vault", kind: "SecretStore" },
      target: { name: "db-credentials", creationPolicy: "Owner" },
      data: [{ secretKey: "password", remoteRef: { key: "veza/db", property: "password" } }],
    },
  };
  patch(obj);
  return obj;
}

/** A valid SecretStore with a Vault provider (Kubernetes auth). */
function vaultSecretStore(kind = "SecretStore"): {
  apiVersion: string;
  kind: string;
  metadata: { [key: string]: unknown };
  spec: { provider: { vault: { [key: string]: unknown } } };
} {
  return {
    apiVersion: "external-secrets.io/v1",
    kind,
    metadata: { name: "vault", namespace: "veza" },
    spec: {
      provider: {
        vault: {
          server: "http://vault.vault.svc:8200",
          path: "secret",
          version: "v2",
          auth: {
            kubernetes: {
              mountPath: "kubernetes",
              role: "veza-eso",
              serviceAccountRef: { name: "external-secrets", audiences: ["vault"] },
            },
          },
        },
      },
    },
  };
}

describe("test/schemas: ESO's admission webhook rules (ESO 2.9 validators)", () => {
  const target = (t: Record<string, unknown>) =>
    externalSecret((o) => {
      (o.spec as { target: Record<string, unknown> }).target = { name: "db-credentials", ...t };
    });
  it("refuses creationPolicy Merge or None with deletionPolicy Delete, accepts Merge with Retain and Owner with Delete", () => {
    const refusal =
      "ExternalSecret webhook: deletionPolicy=Delete must not be used when the controller doesn't own the secret. Please set creationPolicy=Owner";
    assert.deepEqual(validateCustomResource(target({ creationPolicy: "Merge", deletionPolicy: "Delete" })), [refusal]);
    assert.deepEqual(validateCustomResource(target({ creationPolicy: "None", deletionPolicy: "Delete" })), [refusal]);
    assert.deepEqual(validateCustomResource(target({ creationPolicy: "Merge", deletionPolicy: "Retain" })), []);
    assert.deepEqual(validateCustomResource(target({ creationPolicy: "Owner", deletionPolicy: "Delete" })), []);
    // The CRD defaults (Owner, Retain) apply before the webhook runs.
    assert.deepEqual(validateCustomResource(target({ deletionPolicy: "Delete" })), []);
    assert.deepEqual(validateCustomResource(target({ creationPolicy: "None", deletionPolicy: "Merge" })), [
      "ExternalSecret webhook: deletionPolicy=Merge must not be used with creationPolicy=None. There is no Secret to merge with",
    ]);
  });

  it("refuses an ExternalSecret with no data, a dataFrom mixing extract/find/generatorRef, and duplicate keys under Retain", () => {
    const none = externalSecret((o) => delete (o.spec as { data?: unknown }).data);
    assert.deepEqual(validateCustomResource(none), ["ExternalSecret webhook: either data or dataFrom should be specified"]);
    const mixed = externalSecret((o) => {
      (o.spec as { dataFrom: unknown[] }).dataFrom = [{ extract: { key: "veza/db" }, find: { name: { regexp: ".*" } } }];
    });
    assert.deepEqual(validateCustomResource(mixed), ["ExternalSecret webhook: extract, find, or generatorRef cannot be set at the same time"]);
    const dup = externalSecret((o) => {
      const data = (o.spec as { data: unknown[] }).data;
      data.push(structuredClone(data[0]));
    });
    assert.deepEqual(validateCustomResource(dup), ["ExternalSecret webhook: duplicate secretKey found: password"]);
  });

  it("refuses a namespaced Vault store whose ServiceAccount is in another namespace, and half a client TLS pair", () => {
    const other = vaultSecretStore();
    (other.spec.provider.vault.auth as { kubernetes: { serviceAccountRef: Record<string, unknown> } }).kubernetes.serviceAccountRef.namespace = "elsewhere";
    assert.deepEqual(validateCustomResource(other), [
      "SecretStore webhook: invalid Auth.Kubernetes.ServiceAccountRef: namespace should either be empty or match the namespace of the SecretStore for a namespaced SecretStore",
    ]);
    const same = vaultSecretStore();
    (same.spec.provider.vault.auth as { kubernetes: { serviceAccountRef: Record<string, unknown> } }).kubernetes.serviceAccountRef.namespace = "veza";
    assert.deepEqual(validateCustomResource(same), []);
    const halfTls = vaultSecretStore();
    halfTls.spec.provider.vault.tls = { certSecretRef: { name: "client", key: "tls.crt" } };
    assert.deepEqual(validateCustomResource(halfTls), [
      "SecretStore webhook: when provided, both ClientTLS.ClientCert and ClientTLS.SecretRef should be provided",
    ]);
  });
});

describe("test/schemas: custom resources (ESO 2.9.0 CRDs, closed)", () => {
  it("accepts a minimal valid ExternalSecret", async () => {
    assert.deepEqual(validateCustomResource(externalSecret()), []);
  });

  it("rejects a bad enum value, naming the allowed values", async () => {
    const obj = externalSecret((o) => {
      (o.spec as { target: { creationPolicy: string } }).target.creationPolicy = "Bogus";
    });
    assert.deepEqual(validateCustomResource(obj), [
      "spec.target.creationPolicy: must be equal to one of the allowed values (Owner, Orphan, Merge, None, CreateOrMerge)",
    ]);
  });

  it("rejects a misspelled field as unknown", async () => {
    const obj = externalSecret((o) => {
      (o.spec as { target: unknown }).target = { name: "db-credentials", creationPolcy: "Owner" };
    });
    assert.deepEqual(validateCustomResource(obj), ["spec.target.creationPolcy: unknown field"]);
  });

  it("reports missing required fields and array indexes in paths", async () => {
    const obj = externalSecret((o) => {
      (o.spec as { data: unknown }).data = [
        { secretKey: "ok", remoteRef: { key: "a" } },
        { secretKey: "bad key!", remoteRef: {} },
      ];
    });
    assert.deepEqual(validateCustomResource(obj), [
      "spec.data[1].remoteRef.key: required field missing",
      'spec.data[1].secretKey: must match pattern "^[-._a-zA-Z0-9]+$"',
    ]);
  });

  it("rejects external-secrets.io/v1beta1 as not served", async () => {
    const obj = externalSecret((o) => {
      o.apiVersion = "external-secrets.io/v1beta1";
    });
    assert.deepEqual(validateCustomResource(obj), [
      "apiVersion: external-secrets.io/v1beta1 ExternalSecret is not served by the pinned ESO 2.9.0 CRDs (served versions: v1)",
    ]);
  });

  it("rejects a version the CRD does not have", async () => {
    const obj = externalSecret((o) => {
      o.apiVersion = "external-secrets.io/v2";
    });
    assert.deepEqual(validateCustomResource(obj), [
      "apiVersion: external-secrets.io/v2 ExternalSecret does not exist in the pinned ESO 2.9.0 CRDs (served versions: v1)",
    ]);
  });

  it("throws for a kind with no vendored CRD", async () => {
    assert.throws(
      () => validateCustomResource({ apiVersion: "external-secrets.io/v1alpha1", kind: "PushSecret", spec: {} }),
      /unknown kind PushSecret in group external-secrets\.io/,
    );
    assert.throws(() => validateCustomResource({ apiVersion: "v1", kind: "Secret" }), /unknown kind Secret in group /);
    assert.throws(() => validateCustomResource("nope"), TypeError);
  });

  it("accepts a SecretStore and a ClusterSecretStore with a Vault provider", async () => {
    assert.deepEqual(validateCustomResource(vaultSecretStore()), []);
    const cluster = vaultSecretStore("ClusterSecretStore");
    delete cluster.metadata.namespace;
    assert.deepEqual(validateCustomResource(cluster), []);
  });

  it("rejects misspelled Vault provider fields", async () => {
    const store = vaultSecretStore();
    const vault = store.spec.provider.vault;
    vault.sever = vault.server;
    delete vault.server;
    vault.auth = { kubernetes: { mountPath: "kubernetes", role: "r", serviceAccountRef: { name: "eso", audience: ["vault"] } } };
    assert.deepEqual(validateCustomResource(store), [
      "spec.provider.vault.auth.kubernetes.serviceAccountRef.audience: unknown field",
      "spec.provider.vault.server: required field missing",
      "spec.provider.vault.sever: unknown field",
    ]);
  });

  it("checks metadata with a closed schema", async () => {
    const store = vaultSecretStore();
    store.metadata.lables = { team: "veza" };
    assert.deepEqual(validateCustomResource(store), ["metadata.lables: unknown field"]);

    const bad = vaultSecretStore();
    bad.metadata = { name: "Vault_Store", namespace: "a.b", labels: { "bad key": "x", ok: "not ok!" }, annotations: { n: 1 } };
    assert.deepEqual(validateCustomResource(bad), [
      "metadata.annotations.n: must be string",
      "metadata.labels.ok: must be a valid label value (alphanumerics, '-', '_' or '.', starting and ending alphanumeric)",
      'metadata.labels: invalid key "bad key" (must be a qualified name ([dns-subdomain/]name, name ≤ 63))',
      "metadata.name: must be a DNS-1123 subdomain (lowercase alphanumerics, '-' or '.', starting and ending alphanumeric)",
      "metadata.namespace: must be a DNS-1123 label (lowercase alphanumerics or '-', starting and ending alphanumeric)",
    ]);
  });

  it("rejects a namespace on a cluster-scoped store and unknown top-level fields", async () => {
    const cluster = vaultSecretStore("ClusterSecretStore");
    (cluster as { [key: string]: unknown }).sepc = {};
    assert.deepEqual(validateCustomResource(cluster), ["metadata.namespace: must not be set: ClusterSecretStore is cluster-scoped", "sepc: unknown field"]);
  });
});

describe("test/schemas: Helm values (closed values.schema.json)", () => {
  it("reads the pinned chart versions from the vendored Chart.yaml", async () => {
    assert.equal(chartVersion("external-secrets"), "2.9.0");
    assert.equal(chartAppVersion("external-secrets"), "v2.9.0");
    assert.equal(chartVersion("vault"), "0.34.1");
    assert.equal(chartAppVersion("vault"), "2.0.4");
  });

  it("accepts {} for both charts (the upstream values.yaml is clean under the closed schema)", async () => {
    assert.deepEqual(validateHelmValues("external-secrets", {}), []);
    assert.deepEqual(validateHelmValues("vault", {}), []);
  });

  it("reports wrong types", async () => {
    assert.deepEqual(validateHelmValues("external-secrets", { installCRDs: "yes" }), ["installCRDs: must be boolean"]);
    assert.deepEqual(validateHelmValues("vault", { server: { ha: { enabled: true, replicas: "3" } } }), ["server.ha.replicas: must be integer"]);
  });

  it("reports misspelled keys as unknown fields", async () => {
    assert.deepEqual(validateHelmValues("vault", { server: { ha: { replica: 3 } } }), ["server.ha.replica: unknown field"]);
    assert.deepEqual(validateHelmValues("external-secrets", { webhook: { replicaCont: 2 } }), ["webhook.replicaCont: unknown field"]);
    assert.deepEqual(validateHelmValues("external-secrets", { instalCRDs: true }), ["instalCRDs: unknown field"]);
  });

  it("keeps free-form maps open and tolerates upstream keys the schema does not list", async () => {
    assert.deepEqual(
      validateHelmValues("external-secrets", {
        installCRDs: true,
        podAnnotations: { "example.com/anything": "x" },
        resources: { requests: { cpu: "10m", memory: "64Mi" } },
        extraEnv: [{ name: "A", value: "b" }],
      }),
      [],
    );
    assert.deepEqual(
      validateHelmValues("vault", {
        server: {
          preStop: ["/bin/sh", "-c", "sleep 5"],
          resources: { limits: { memory: "256Mi" } },
          ha: { enabled: true, replicas: 3, raft: { enabled: true, config: "ui = true\n" } },
        },
        serverTelemetry: { serviceMonitor: { matchLabels: { release: "prom" } } },
      }),
      [],
    );
  });

  it("merges like Helm: user null deletes a default, user scalar replaces a map", async () => {
    // Without Helm's null-deletes-key rule, replicaCount: null would fail "must be integer".
    assert.deepEqual(validateHelmValues("external-secrets", { webhook: { replicaCount: null } }), []);
    assert.deepEqual(validateHelmValues("external-secrets", { webhook: "off" }), ["webhook: must be object"]);
    assert.deepEqual(validateHelmValues("external-secrets", { installCRDs: undefined }), []);
  });
});

/** A VaultDynamicSecret generator reading a database role, as the program builds one. */
function vaultDynamicSecret(): { apiVersion: string; kind: string; metadata: Record<string, unknown>; spec: Record<string, unknown> } {
  return {
    apiVersion: "generators.external-secrets.io/v1alpha1",
    kind: "VaultDynamicSecret",
    metadata: { name: "veza-backend-api-database", namespace: "veza" },
    spec: {
      path: "database/creds/veza-backend-api",
      method: "GET",
      resultType: "Data",
      provider: {
        server: "https://vault.vault-system.svc:8200",
        caProvider: { type: "ConfigMap", name: "vault-ca", key: "ca.crt" },
        auth: {
          kubernetes: {
            mountPath: "kubernetes",
            role: "eso-veza-production-db-backend-api",
            serviceAccountRef: { name: "eso-db-backend-api", audiences: ["vault"] },
          },
        },
      },
    },
  };
}

describe("test/schemas: the VaultDynamicSecret generator CRD (closed)", () => {
  it("accepts a generator reading a database role with Kubernetes auth", () => {
    assert.deepEqual(validateCustomResource(vaultDynamicSecret()), []);
  });

  it("rejects a misspelled field, a bad resultType, a missing path, and an apiVersion ESO does not serve", () => {
    const g = vaultDynamicSecret();
    g.spec.resultTyp = "Data";
    g.spec.method = 5;
    delete g.spec.path;
    (g.spec.provider as Record<string, unknown>).auth = { kubernetes: { mountPath: "kubernetes" } };
    assert.deepEqual(validateCustomResource(g), [
      "spec.method: must be string",
      "spec.path: required field missing",
      "spec.provider.auth.kubernetes.role: required field missing",
      "spec.resultTyp: unknown field",
    ]);
    const bad = vaultDynamicSecret();
    bad.spec.resultType = "Lease";
    assert.deepEqual(validateCustomResource(bad), ["spec.resultType: must be equal to one of the allowed values (Data, Auth, Raw)"]);
    assert.deepEqual(validateCustomResource({ ...vaultDynamicSecret(), apiVersion: "generators.external-secrets.io/v1" }), [
      "apiVersion: generators.external-secrets.io/v1 VaultDynamicSecret does not exist in the pinned ESO 2.9.0 CRDs (served versions: v1alpha1)",
    ]);
  });

  it("accepts an ExternalSecret whose dataFrom names the generator, and rejects an unknown generator kind", () => {
    const ref = {
      sourceRef: { generatorRef: { apiVersion: "generators.external-secrets.io/v1alpha1", kind: "VaultDynamicSecret", name: "veza-backend-api-database" } },
    };
    const ok = externalSecret((o) => {
      (o.spec as Record<string, unknown>).dataFrom = [ref];
    });
    assert.deepEqual(validateCustomResource(ok), []);
    const bad = externalSecret((o) => {
      (o.spec as Record<string, unknown>).dataFrom = [{ sourceRef: { generatorRef: { kind: "VaultLease", name: "x" } } }];
    });
    assert.deepEqual(validateCustomResource(bad), [
      "spec.dataFrom[0].sourceRef.generatorRef.kind: must be equal to one of the allowed values (ACRAccessToken, BeyondtrustWorkloadCredentialsDynamicSecret, ClusterGenerator, CloudsmithAccessToken, ECRAuthorizationToken, Fake, GCRAccessToken, GithubAccessToken, GitlabDeployToken, QuayAccessToken, Password, SSHKey, STSSessionToken, UUID, VaultDynamicSecret, Webhook, Grafana, MFA)",
    ]);
  });
});

describe("test/schemas: ESO's ExternalSecret webhook rules (externalsecret_validator.go)", () => {
  const es = (spec: Record<string, unknown>): unknown => ({ apiVersion: "external-secrets.io/v1", kind: "ExternalSecret", metadata: { name: "x" }, spec });
  const generator = { generatorRef: { kind: "VaultDynamicSecret", name: "g" } };
  const cases: [string, Record<string, unknown>, string[]][] = [
    ["a generator entry with nothing else", { target: { creationPolicy: "Owner", deletionPolicy: "Retain" }, dataFrom: [{ sourceRef: generator }] }, []],
    [
      "KV extract plus a generator entry (the program's shape)",
      {
        target: { creationPolicy: "Owner", deletionPolicy: "Delete" },
        dataFrom: [{ extract: { key: "veza/production" } }, { sourceRef: generator, rewrite: [] }],
      },
      [],
    ],
    [
      "extract and a generator in one entry",
      { dataFrom: [{ extract: { key: "k" }, sourceRef: generator }] },
      ["extract, find, or generatorRef cannot be set at the same time"],
    ],
    [
      "find and extract in one entry",
      { dataFrom: [{ extract: { key: "k" }, find: { name: { regexp: "." } } }] },
      ["extract, find, or generatorRef cannot be set at the same time"],
    ],
    ["an empty entry", { dataFrom: [{}] }, ["either extract, find, or sourceRef must be set to dataFrom"]],
    ["a sourceRef naming nothing", { dataFrom: [{ sourceRef: {} }] }, ["generatorRef or storeRef must be set when using sourceRef in dataFrom"]],
    ["neither data nor dataFrom", { target: {} }, ["either data or dataFrom should be specified"]],
    [
      "Merge with Delete",
      { target: { creationPolicy: "Merge", deletionPolicy: "Delete" }, dataFrom: [{ extract: { key: "k" } }] },
      ["deletionPolicy=Delete must not be used when the controller doesn't own the secret. Please set creationPolicy=Owner"],
    ],
    [
      "None with Merge",
      { target: { creationPolicy: "None", deletionPolicy: "Merge" }, dataFrom: [{ extract: { key: "k" } }] },
      ["deletionPolicy=Merge must not be used with creationPolicy=None. There is no Secret to merge with"],
    ],
    [
      "a duplicate secretKey under Retain",
      {
        target: { deletionPolicy: "Retain" },
        data: [
          { secretKey: "a", remoteRef: { key: "k" } },
          { secretKey: "a", remoteRef: { key: "j" } },
        ],
      },
      ["duplicate secretKey found: a"],
    ],
  ];
  for (const [title, spec, expected] of cases) {
    it(`${expected.length ? "refuses" : "admits"} ${title}`, () => assert.deepEqual(validateExternalSecretWebhook(es(spec)), expected));
  }
});
