import * as assert from "node:assert/strict";
import { Provider } from "@pulumi/kubernetes/provider";
import { findResource, isSecret, plaintextOccurrences, runProgram, unwrapSecrets, type ProgramRun, type RecordedResource } from "../../harness";
import { chartAppVersion, chartVersion, validateHelmValues } from "../../test/schemas";
import { VaultCluster } from "./cluster";
import {
  VAULT_APP_VERSION,
  VAULT_IMAGE_DIGEST,
  VAULT_CHART_VERSION,
  VAULT_DEFAULT_RESOURCES,
  devRootTokenError,
  vaultArgsErrors,
  type VaultClusterArgs,
  type VaultSeal,
  type VaultValuesArgs,
} from "./cluster-args";
import { sealPodLabels, sealServiceAccountAnnotations, sealStanza, vaultHaConfig } from "./cluster-hcl";
import { vaultValues } from "./cluster-values";

const COMPONENT = "veza:cluster:VaultCluster";
const RELEASE = "kubernetes:helm.sh/v3:Release";
const CONFIG = { "veza-secrets:environment": "development", "veza-secrets:providers": ["vault"] };
const TOKEN = "FAKE-SECRET-vaultDevRootToken-5f3c9a";
const PROBE = "/v1/sys/health?standbyok=true";

type Values = {
  global: Record<string, unknown>;
  injector: Record<string, unknown>;
  server: Record<string, unknown> & {
    image: { tag: string };
    ha: Record<string, unknown> & { raft: { config: string } };
    serviceAccount: Record<string, unknown>;
  };
  ui?: Record<string, unknown>;
};

const SEALS: Record<VaultSeal["type"], { seal: VaultSeal; stanza: string; annotations: Record<string, string>; podLabels: Record<string, string> }> = {
  awskms: {
    seal: { type: "awskms", region: "eu-west-1", kmsKeyId: "alias/veza-vault-unseal", roleArn: "arn:aws:iam::123456789012:role/veza-vault-unseal" },
    stanza: ['seal "awskms" {', '  region     = "eu-west-1"', '  kms_key_id = "alias/veza-vault-unseal"', "}"].join("\n"),
    annotations: { "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/veza-vault-unseal" },
    podLabels: {},
  },
  gcpckms: {
    seal: {
      type: "gcpckms",
      project: "veza-prod",
      region: "europe-west1",
      keyRing: "vault",
      cryptoKey: "unseal",
      serviceAccountEmail: "vault-unseal@veza-prod.iam.gserviceaccount.com",
    },
    stanza: ['seal "gcpckms" {', '  project    = "veza-prod"', '  region     = "europe-west1"', '  key_ring   = "vault"', '  crypto_key = "unseal"', "}"].join(
      "\n",
    ),
    annotations: { "iam.gke.io/gcp-service-account": "vault-unseal@veza-prod.iam.gserviceaccount.com" },
    podLabels: {},
  },
  azurekeyvault: {
    seal: {
      type: "azurekeyvault",
      tenantId: "22222222-2222-2222-2222-222222222222",
      vaultName: "veza-unseal",
      keyName: "vault-unseal",
      clientId: "11111111-1111-1111-1111-111111111111",
    },
    stanza: [
      'seal "azurekeyvault" {',
      '  tenant_id  = "22222222-2222-2222-2222-222222222222"',
      '  vault_name = "veza-unseal"',
      '  key_name   = "vault-unseal"',
      "}",
    ].join("\n"),
    annotations: { "azure.workload.identity/client-id": "11111111-1111-1111-1111-111111111111" },
    podLabels: { "azure.workload.identity/use": "true" },
  },
};

/** The HA config for 3 replicas without a seal, in full. */
const HA_CONFIG_3 = `ui = true
disable_mlock = true

listener "tcp" {
  address            = "[::]:8200"
  cluster_address    = "[::]:8201"
  tls_disable        = false
  tls_cert_file      = "/vault/userconfig/tls/tls.crt"
  tls_key_file       = "/vault/userconfig/tls/tls.key"
  tls_client_ca_file = "/vault/userconfig/tls/ca.crt"
}

storage "raft" {
  path = "/vault/data"

  retry_join {
    leader_api_addr     = "https://vault-0.vault-internal:8200"
    leader_ca_cert_file = "/vault/userconfig/tls/ca.crt"
  }

  retry_join {
    leader_api_addr     = "https://vault-1.vault-internal:8200"
    leader_ca_cert_file = "/vault/userconfig/tls/ca.crt"
  }

  retry_join {
    leader_api_addr     = "https://vault-2.vault-internal:8200"
    leader_ca_cert_file = "/vault/userconfig/tls/ca.crt"
  }
}

service_registration "kubernetes" {}
`;

/** Every variant the component can produce, by label. */
const VARIANTS: [string, VaultValuesArgs][] = [
  ["dev", { mode: "dev", devRootToken: TOKEN }],
  [
    "dev with port, resources and labels",
    { mode: "dev", devRootToken: TOKEN, devNodePort: 31200, labels: { team: "platform" }, resources: VAULT_DEFAULT_RESOURCES },
  ],
  ["ha without seal", { mode: "ha" }],
  ["ha, first install (sealed pods Ready)", { mode: "ha", acceptSealedAsReady: true }],
  [
    "ha, 5 replicas, sizes and labels",
    { mode: "ha", replicas: 5, storageSize: "20Gi", auditStorageSize: "5Gi", tlsSecretName: "vault-certs", labels: { team: "platform" } },
  ],
  ...Object.values(SEALS).map(({ seal }): [string, VaultValuesArgs] => [`ha with ${seal.type} seal`, { mode: "ha", seal, labels: { team: "platform" } }]),
];

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

function run(args: VaultClusterArgs, opts?: { provider?: boolean }): Promise<ProgramRun> {
  return runProgram({
    stack: "test",
    config: CONFIG,
    program: () => {
      const provider = opts?.provider ? new Provider("cluster", {}) : undefined;
      new VaultCluster("vault", { ...args, provider });
    },
  });
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

  for (const replicas of [3, 5, 7]) {
    it(`joins Raft through every one of ${replicas} pods, over TLS with the mounted CA`, async () => {
      const hcl = vaultHaConfig({ replicas });
      const joins = [...hcl.matchAll(/retry_join \{\n {4}leader_api_addr {5}= "([^"]+)"\n {4}leader_ca_cert_file = "([^"]+)"\n {2}\}/g)];
      assert.deepEqual(
        joins.map((m) => [m[1], m[2]]),
        Array.from({ length: replicas }, (_, i) => [`https://vault-${i}.vault-internal:8200`, "/vault/userconfig/tls/ca.crt"]),
      );
      assert.equal(hcl.match(/retry_join/g)?.length, replicas);
    });
  }

  it("sets disable_mlock once, in the form the chart detects, so it appends no duplicate (vault-helm#1153)", async () => {
    for (const [label, args] of VARIANTS.filter(([, a]) => a.mode === "ha")) {
      const hcl = (vaultValues(args) as Values).server.ha.raft.config;
      // The chart's own test (templates/_helpers.tpl, vault.config) and Vault 1.21+'s duplicate check.
      assert.match(hcl, /^\s*disable_mlock\s*=\s*(true|false)/m, label);
      assert.equal(hcl.match(/disable_mlock/g)?.length, 1, label);
      // Words the chart's startup script replaces with sed, and Helm template markers.
      assert.doesNotMatch(hcl, /HOST_IP|POD_IP|HOSTNAME|API_ADDR|TRANSIT_ADDR|RAFT_ADDR|\{\{/, label);
    }
  });

  for (const { seal, stanza, annotations, podLabels } of Object.values(SEALS)) {
    it(`auto-unseals with ${seal.type} through workload identity, no credentials in the config`, async () => {
      assert.equal(sealStanza(seal), stanza);
      assert.deepEqual(sealServiceAccountAnnotations(seal), annotations);
      assert.deepEqual(sealPodLabels(seal), podLabels);
      const v = vaultValues({ mode: "ha", seal, labels: { team: "platform" } }) as Values;
      assert.equal(v.server.ha.raft.config, `${HA_CONFIG_3}\n${stanza}\n`);
      assert.deepEqual(v.server.serviceAccount, { create: true, name: "vault", annotations, extraLabels: { team: "platform" } });
      assert.deepEqual(v.server.extraLabels, { team: "platform", ...podLabels });
      assert.doesNotMatch(v.server.ha.raft.config, /access_key|secret_key|client_secret|credentials|client_id/);
      assert.equal("extraSecretEnvironmentVars" in v.server, false);
      assert.deepEqual(v.server.extraEnvironmentVars, { VAULT_CACERT: "/vault/userconfig/tls/ca.crt" });
    });
  }

  it("has no seal, annotations or cloud labels without a seal", async () => {
    assert.deepEqual([sealServiceAccountAnnotations(undefined), sealPodLabels(undefined)], [{}, {}]);
    assert.doesNotMatch(vaultHaConfig({ replicas: 3 }), /seal/);
  });

  const badArgs: [string, VaultValuesArgs, string[]][] = [
    ["an unknown mode", { mode: "prod" as "ha" }, ['[mode] must be "dev" or "ha"; got "prod".']],
    [
      "dev without a root token",
      { mode: "dev" },
      ['[devRootToken] is required in dev mode: pass a Pulumi secret rather than rely on the chart\'s well-known default "root".'],
    ],
    [
      "a seal in dev mode",
      { mode: "dev", devRootToken: TOKEN, seal: SEALS.awskms.seal },
      ['[seal] applies to ha mode only: a dev server starts unsealed, in memory. Remove seal, or set mode to "ha".'],
    ],
    [
      "3 replicas in dev mode",
      { mode: "dev", devRootToken: TOKEN, replicas: 3 },
      ['[replicas] must be 1 or unset in dev mode: a dev server keeps its data in memory and cannot be replicated; got 3. Set mode to "ha" for more pods.'],
    ],
    [
      "a NodePort outside the range",
      { mode: "dev", devRootToken: TOKEN, devNodePort: 8200 },
      ["[devNodePort] must be a whole number from 30000 to 32767 (the default NodePort range); got 8200."],
    ],
    [
      "a root token the chart cannot render",
      { mode: "dev", devRootToken: "12345678" },
      [
        "[devRootToken] must start with a letter and use only letters, digits, '.', '_' or '-', 8 to 128 characters (the chart writes it into the pod spec unquoted); the value given does not.",
      ],
    ],
    [
      "even replicas in ha mode",
      { mode: "ha", replicas: 4 },
      ["[replicas] must be an odd whole number from 3 to 7 in ha mode (Raft needs a majority: 3 survive one lost pod, 5 two); got 4."],
    ],
    [
      "one replica in ha mode",
      { mode: "ha", replicas: 1 },
      ["[replicas] must be an odd whole number from 3 to 7 in ha mode (Raft needs a majority: 3 survive one lost pod, 5 two); got 1."],
    ],
    [
      "a dev root token and NodePort in ha mode",
      { mode: "ha", devRootToken: TOKEN, devNodePort: 30820 },
      [
        '[devRootToken] applies to dev mode only: an ha cluster\'s root token comes from "vault operator init". Remove devRootToken, or set mode to "dev".',
        '[devNodePort] applies to dev mode only: an ha cluster serves TLS inside the cluster (use kubectl port-forward svc/vault 8200). Remove devNodePort, or set mode to "dev".',
      ],
    ],
    [
      "bad names and sizes in ha mode",
      { mode: "ha", tlsSecretName: "Vault_TLS", storageSize: "10GB", auditStorageSize: "" },
      [
        "[tlsSecretName] must be a Secret name (lowercase letters, digits, '-' and '.'); got \"Vault_TLS\".",
        '[storageSize] must be a Kubernetes quantity such as "10Gi"; got "10GB".',
        '[auditStorageSize] must be a Kubernetes quantity such as "10Gi"; got "".',
      ],
    ],
    [
      "bad resources",
      { mode: "ha", resources: { requests: { cpu: "lots", memory: "256Mi" }, limits: { cpu: "1", memory: "1 GB" } } },
      [
        '[resources.requests.cpu] must be a Kubernetes quantity such as "250m"; got "lots".',
        '[resources.limits.memory] must be a Kubernetes quantity such as "256Mi"; got "1 GB".',
      ],
    ],
    [
      "a seal field that would break the config, and a credential",
      {
        mode: "ha",
        seal: { type: "awskms", region: "eu-west-1", kmsKeyId: 'alias/x" }', roleArn: "arn:aws:iam::123456789012:role/r", secretKey: "AKIA..." } as VaultSeal,
      },
      [
        '[seal.kmsKeyId] must be a non-empty string of letters, digits and . _ : / @ + = - (it goes into Vault\'s config); got "alias/x\\" }".',
        "[seal.secretKey] is not a awskms seal field (credentials never go into the seal: use workload identity); remove it.",
      ],
    ],
    [
      "an unknown seal type",
      { mode: "ha", seal: { type: "transit" } as unknown as VaultSeal },
      ['[seal.type] must be "awskms", "gcpckms" or "azurekeyvault"; got "transit".'],
    ],
  ];
  for (const [label, args, messages] of badArgs) {
    it(`rejects ${label} with exact messages`, async () => {
      assert.deepEqual(vaultArgsErrors(args), messages);
      assert.throws(() => vaultValues(args), { message: messages.join(" ") });
    });
  }

  // A token given as a secret Output is checked inside an apply: under the engine a bad one fails
  // the Release's registration ("error serializing property values: [devRootToken] ..."). The
  // mocks surface that as an unhandled rejection rather than a program error, so the check is
  // tested here through the pure function, and a plain-string token through vaultArgsErrors above.
  it("accepts the root tokens the chart can render and describes the others without echoing them", async () => {
    for (const ok of [TOKEN, "hvs.abcdefgh", "root-token_1.2"]) assert.equal(devRootTokenError(ok), undefined, ok);
    for (const bad of ["root", "true", "1e100000", "-leading", "has space in it", 'quote"d-token', "x".repeat(129)]) {
      const message = devRootTokenError(bad);
      assert.ok(message?.startsWith("[devRootToken] must start with a letter"), bad);
      assert.equal(message?.includes(bad), false, bad);
    }
  });
});

describe("components/vault/cluster: resources", () => {
  let dev: ProgramRun;
  let component: RecordedResource;
  let release: RecordedResource;

  beforeEach(async () => {
    dev = await run({ namespace: "vault-system", mode: "dev", devRootToken: TOKEN });
    component = findResource(dev, COMPONENT, "vault");
    release = findResource(dev, RELEASE, "vault");
  });

  it("registers exactly the component and one Release, its child", async () => {
    const mine = dev.resources
      .filter((r) => r.type !== "pulumi:pulumi:Stack")
      .map((r) => `${r.type}::${r.name}`)
      .sort();
    assert.deepEqual(mine, [`${RELEASE}::vault`, `${COMPONENT}::vault`]);
    assert.equal(release.parent, component.urn);
  });

  it("installs the pinned chart from HashiCorp's repository, atomically, into the caller's namespace", async () => {
    const i = unwrapSecrets(release.inputs) as Record<string, unknown>;
    assert.deepEqual(
      {
        name: i.name,
        chart: i.chart,
        version: i.version,
        repositoryOpts: i.repositoryOpts,
        namespace: i.namespace,
        createNamespace: i.createNamespace,
        atomic: i.atomic,
        cleanupOnFail: i.cleanupOnFail,
        timeout: i.timeout,
        maxHistory: i.maxHistory,
      },
      {
        name: "vault",
        chart: "vault",
        version: chartVersion("vault"),
        repositoryOpts: { repo: "https://helm.releases.hashicorp.com" },
        namespace: "vault-system",
        createNamespace: false,
        atomic: true,
        cleanupOnFail: true,
        timeout: 600,
        maxHistory: 10,
      },
    );
    assert.deepEqual(i.values, vaultValues({ mode: "dev", devRootToken: TOKEN }));
  });

  it("passes the dev root token only as a secret", async () => {
    const values = release.inputs.values as { server: { dev: { devRootToken: unknown } } };
    assert.equal(isSecret(values.server.dev.devRootToken), true);
    assert.deepEqual(plaintextOccurrences(dev.resources, TOKEN), []);
    assert.deepEqual(plaintextOccurrences([...dev.componentOutputs.values()], TOKEN), []);
  });

  it("registers exactly address, releaseName and serviceAccountName as outputs", async () => {
    assert.deepEqual(dev.componentOutputs.get(component.urn), {
      address: "http://vault.vault-system.svc:8200",
      releaseName: "vault",
      serviceAccountName: "vault",
    });
  });

  it("does not protect anything by default", async () => {
    assert.deepEqual(
      dev.resources.filter((r) => r.protect).map((r) => r.type),
      [],
    );
  });

  for (const { seal } of [{ seal: undefined }, ...Object.values(SEALS)]) {
    it(`installs ha mode${seal ? ` with the ${seal.type} seal` : ""}, protected when asked, through the given provider`, async () => {
      const args = { namespace: "vault", mode: "ha" as const, replicas: 5, seal, protect: true, labels: { team: "platform" } };
      const r = await run(args, { provider: true });
      const rel = findResource(r, RELEASE, "vault");
      const comp = findResource(r, COMPONENT, "vault");
      assert.deepEqual(
        r.resources.filter((x) => x.protect).map((x) => x.type),
        [RELEASE],
      );
      assert.equal(rel.parent, comp.urn);
      assert.deepEqual(unwrapSecrets(rel.inputs.values), vaultValues({ mode: "ha", replicas: 5, seal, labels: { team: "platform" } }));
      const provider = findResource(r, "pulumi:providers:kubernetes", "cluster");
      assert.ok(rel.provider.startsWith(`${provider.urn}::`), rel.provider);
      assert.deepEqual(r.componentOutputs.get(comp.urn), {
        address: "https://vault.vault.svc:8200",
        releaseName: "vault",
        serviceAccountName: "vault",
      });
    });
  }

  const refused: [string, VaultClusterArgs, string][] = [
    [
      "a seal in dev mode",
      { namespace: "v", mode: "dev", devRootToken: TOKEN, seal: SEALS.gcpckms.seal },
      '[seal] applies to ha mode only: a dev server starts unsealed, in memory. Remove seal, or set mode to "ha".',
    ],
    [
      "even replicas in ha mode",
      { namespace: "v", mode: "ha", replicas: 2 },
      "[replicas] must be an odd whole number from 3 to 7 in ha mode (Raft needs a majority: 3 survive one lost pod, 5 two); got 2.",
    ],
  ];
  for (const [label, args, message] of refused) {
    it(`refuses ${label} with a ResourceError naming the argument`, async () => {
      await assert.rejects(run(args), { message });
    });
  }
});
