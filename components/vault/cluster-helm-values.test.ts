/**
 * VaultCluster's Helm values (components/vault/cluster-values.ts): the pinned chart and image,
 * every variant valid against the closed upstream chart schema, and the exact values in dev and
 * ha mode, with NodePort, sizes, TLS Secret and labels.
 */
import * as assert from "node:assert/strict";
import { chartAppVersion, chartVersion, validateHelmValues } from "../../test/schemas";
import { VAULT_APP_VERSION, VAULT_IMAGE_DIGEST, VAULT_CHART_VERSION } from "./cluster-args";
import { vaultValues } from "./cluster-values";
import { HA_CONFIG_3, SEALS, TOKEN, VARIANTS, type Values } from "./cluster-fixtures";

const PROBE = "/v1/sys/health?standbyok=true";

/**
 * vault-helm 0.34.1 reads `server.readinessProbe.path` (templates/server-statefulset.yaml; its
 * values.yaml documents it in a comment) but its values.schema.json does not list it;
 * test/schemas.ts tolerates exactly that path, so no variant may produce any error.
 */
const UPSTREAM_SCHEMA_GAPS: string[] = [];

function withoutProbePath(values: Record<string, unknown>): Record<string, unknown> {
  const copy = structuredClone(values) as Values & { server: { readinessProbe: Record<string, unknown> } };
  delete copy.server.readinessProbe.path;
  return copy;
}

describe("components/vault/cluster: Helm values", () => {
  it("pins the chart to the vendored Chart.yaml and the server image to its appVersion", async () => {
    assert.equal(VAULT_CHART_VERSION, chartVersion("vault"));
    assert.equal(VAULT_APP_VERSION, chartAppVersion("vault"));
    for (const [label, args] of VARIANTS) {
      const v = vaultValues(args) as Values;
      // The tag keeps the version for readers; the digest decides what runs.
      assert.deepEqual(v.server.image, { repository: "hashicorp/vault", tag: `${chartAppVersion("vault")}@${VAULT_IMAGE_DIGEST}` }, label);
      assert.match(VAULT_IMAGE_DIGEST, /^sha256:[0-9a-f]{64}$/);
      assert.doesNotMatch(JSON.stringify(v), /latest/, label);
    }
  });

  for (const [label, args] of VARIANTS) {
    it(`validates against the closed chart schema: ${label}`, async () => {
      const values = vaultValues(args);
      assert.deepEqual(validateHelmValues("vault", values), UPSTREAM_SCHEMA_GAPS);
      assert.deepEqual(validateHelmValues("vault", withoutProbePath(values)), []);
    });
  }

  it("is checked by a schema that catches misspelled keys", async () => {
    const values = withoutProbePath(vaultValues({ mode: "ha", seal: SEALS.awskms.seal })) as Values;
    const typo = structuredClone(values);
    typo.server.ha.raft = { ...typo.server.ha.raft, setNodeID: true } as typeof typo.server.ha.raft;
    typo.server.serviceAccount = { ...typo.server.serviceAccount, anotations: {} };
    (typo.injector as Record<string, unknown>).enable = false;
    assert.deepEqual(validateHelmValues("vault", typo), [
      "injector.enable: unknown field",
      "server.ha.raft.setNodeID: unknown field",
      "server.serviceAccount.anotations: unknown field",
    ]);
    assert.deepEqual(validateHelmValues("vault", values), []);
  });

  it("has exactly these values in dev mode", async () => {
    assert.deepEqual(vaultValues({ mode: "dev", devRootToken: TOKEN }), {
      global: { tlsDisable: true },
      injector: { enabled: false },
      server: {
        image: { repository: "hashicorp/vault", tag: "2.0.4@sha256:5be49781ecf78bfe775c5309c6a4d9f4e9e040b6c885c99eb2b12fb69855e1a2" },
        resources: { requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "1", memory: "512Mi" } },
        updateStrategyType: "RollingUpdate",
        readinessProbe: { enabled: true, path: PROBE },
        authDelegator: { enabled: true },
        serviceAccount: { create: true, name: "vault" },
        // Pod Security "restricted": non-root, no capabilities, no escalation, RuntimeDefault seccomp.
        statefulSet: {
          securityContext: {
            pod: { runAsNonRoot: true, runAsUser: 100, runAsGroup: 1000, fsGroup: 1000, seccompProfile: { type: "RuntimeDefault" } },
            container: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, runAsNonRoot: true },
          },
        },
        dev: { enabled: true, devRootToken: TOKEN },
        ha: { enabled: false },
        dataStorage: { enabled: false },
        auditStorage: { enabled: false },
      },
      ui: { enabled: true, serviceType: "NodePort", serviceNodePort: 30820, externalPort: 8200, targetPort: 8200 },
    });
  });

  it("exposes the dev API on the requested NodePort and labels pods and ServiceAccount", async () => {
    const v = vaultValues({ mode: "dev", devRootToken: TOKEN, devNodePort: 31200, labels: { team: "platform" } }) as Values;
    assert.deepEqual(v.ui, { enabled: true, serviceType: "NodePort", serviceNodePort: 31200, externalPort: 8200, targetPort: 8200 });
    assert.deepEqual(v.server.extraLabels, { team: "platform" });
    assert.deepEqual(v.server.serviceAccount, { create: true, name: "vault", extraLabels: { team: "platform" } });
  });

  it("has exactly these values in ha mode without a seal", async () => {
    assert.deepEqual(vaultValues({ mode: "ha" }), {
      global: { tlsDisable: false },
      injector: { enabled: false },
      server: {
        image: { repository: "hashicorp/vault", tag: "2.0.4@sha256:5be49781ecf78bfe775c5309c6a4d9f4e9e040b6c885c99eb2b12fb69855e1a2" },
        resources: { requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "1", memory: "512Mi" } },
        updateStrategyType: "OnDelete",
        readinessProbe: { enabled: true, path: PROBE },
        authDelegator: { enabled: true },
        serviceAccount: { create: true, name: "vault" },
        // Pod Security "restricted": non-root, no capabilities, no escalation, RuntimeDefault seccomp.
        statefulSet: {
          securityContext: {
            pod: { runAsNonRoot: true, runAsUser: 100, runAsGroup: 1000, fsGroup: 1000, seccompProfile: { type: "RuntimeDefault" } },
            container: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, runAsNonRoot: true },
          },
        },
        dev: { enabled: false },
        service: { publishNotReadyAddresses: false },
        ha: {
          enabled: true,
          replicas: 3,
          apiAddr: "https://$(VAULT_K8S_POD_NAME).vault-internal:8200",
          raft: { enabled: true, setNodeId: true, config: HA_CONFIG_3 },
          disruptionBudget: { enabled: true, maxUnavailable: 1 },
        },
        dataStorage: { enabled: true, size: "10Gi" },
        auditStorage: { enabled: true, size: "10Gi" },
        volumes: [{ name: "tls", secret: { secretName: "vault-tls", defaultMode: 0o440 } }],
        volumeMounts: [{ name: "tls", mountPath: "/vault/userconfig/tls", readOnly: true }],
        extraEnvironmentVars: { VAULT_CACERT: "/vault/userconfig/tls/ca.crt" },
        affinity: {
          podAntiAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: [
              {
                labelSelector: { matchLabels: { "app.kubernetes.io/name": "vault", "app.kubernetes.io/instance": "vault", component: "server" } },
                topologyKey: "kubernetes.io/hostname",
              },
            ],
          },
        },
      },
    });
  });

  it("sizes volumes, names the TLS Secret and labels pods, ServiceAccount and PVCs as asked", async () => {
    const v = vaultValues({
      mode: "ha",
      replicas: 5,
      storageSize: "20Gi",
      auditStorageSize: "5Gi",
      tlsSecretName: "vault-certs",
      labels: { team: "platform" },
    }) as Values;
    const labels = { team: "platform" };
    assert.equal(v.server.ha.replicas, 5);
    assert.deepEqual(v.server.dataStorage, { enabled: true, size: "20Gi", labels });
    assert.deepEqual(v.server.auditStorage, { enabled: true, size: "5Gi", labels });
    assert.deepEqual(v.server.volumes, [{ name: "tls", secret: { secretName: "vault-certs", defaultMode: 0o440 } }]);
    assert.deepEqual(v.server.extraLabels, labels);
    assert.deepEqual(v.server.serviceAccount, { create: true, name: "vault", extraLabels: labels });
  });
});
