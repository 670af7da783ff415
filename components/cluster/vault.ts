/**
 * HashiCorp Vault in the cluster, installed with the official vault-helm chart: a one-pod dev
 * server for local clusters, or a Raft-backed HA cluster with TLS and optional cloud-KMS
 * auto-unseal. Only External Secrets Operator reads Vault, so the agent injector is off.
 *
 * Chart behaviours this file works around (vault-helm 0.34.1):
 * - The readiness probe defaults to `vault status`, which fails while Vault is sealed or not
 *   initialised, so the pods of a first install never turn Ready (vault-helm#375, #954), and
 *   whatever waits on them hangs: an await on the release, `kubectl rollout status`, the PDB's
 *   count of healthy pods. The probe here asks `/v1/sys/health` to answer 204 for those states.
 *   (Helm's own wait skips StatefulSets whose update strategy is the chart's default
 *   `OnDelete`, so it is not what gates the release today; the probe stays right if that changes.)
 * - The chart appends `disable_mlock = true` to a string config unless a line already sets
 *   it (vault-helm#1153, fixed by #1154). Vault 1.21+ refuses duplicate HCL attributes
 *   (vault#31634), so the config below sets it exactly once, in the form the chart detects.
 * - The chart substitutes HOST_IP, POD_IP, HOSTNAME, API_ADDR, TRANSIT_ADDR and RAFT_ADDR in
 *   the config with `sed` and passes it through `tpl`: the config uses none of those words
 *   and no `{{`.
 */
import { Release } from "@pulumi/kubernetes/helm/v3/release";
import { Provider } from "@pulumi/kubernetes/provider";
import * as pulumi from "@pulumi/pulumi";

/** Helm chart version of vault-helm; the test fixtures in test/upstream/vault-helm match it. */
export const VAULT_CHART_VERSION = "0.34.1";
/** The chart's `appVersion`: the Vault server image tag, pinned explicitly in the values. */
export const VAULT_APP_VERSION = "2.0.4";
export const VAULT_CHART_REPO = "https://helm.releases.hashicorp.com";
/**
 * Digest of `hashicorp/vault:2.0.4` (the multi-architecture index), so a re-pushed tag cannot
 * change what runs. Not fetched from a registry here (none is reachable from this machine): it
 * is the digest several independent public projects pin for this tag. Check it when bumping:
 * `docker buildx imagetools inspect hashicorp/vault:<tag>`.
 */
export const VAULT_IMAGE_DIGEST = "sha256:5be49781ecf78bfe775c5309c6a4d9f4e9e040b6c885c99eb2b12fb69855e1a2";
/**
 * Helm release name. The chart's object names derive from it: the `vault` Service, the
 * headless `vault-internal` Service, pods `vault-0`…, so one VaultCluster per namespace.
 */
export const VAULT_RELEASE_NAME = "vault";
/** Vault's ServiceAccount, set explicitly rather than left to the chart's template. */
export const VAULT_SERVICE_ACCOUNT = "vault";
/** Port of Vault's API on every Service and pod. */
export const VAULT_API_PORT = 8200;
/** NodePort of the dev server's API unless `devNodePort` says otherwise. */
export const VAULT_DEFAULT_DEV_NODE_PORT = 30820;
/** Where the TLS Secret (`tls.crt`, `tls.key`, `ca.crt`) is mounted in HA mode. */
export const VAULT_TLS_DIR = "/vault/userconfig/tls";
/**
 * Readiness path that also answers 204 when Vault is sealed or not initialised, so a fresh
 * install turns Ready before `vault operator init` (vault-helm#375, #954). Only for that
 * first install (`acceptSealedAsReady`): afterwards a sealed pod must not count as Ready.
 */
export const VAULT_READINESS_PATH_UNINITIALISED = "/v1/sys/health?standbyok=true&sealedcode=204&uninitcode=204";
/**
 * Readiness once Vault is initialised: 200 for the active node and standbys, 503 while
 * sealed, 501 while uninitialised, so a sealed pod leaves the `vault` Service and counts as
 * disrupted for the PodDisruptionBudget. Also the dev server's (always unsealed).
 */
export const VAULT_READINESS_PATH = "/v1/sys/health?standbyok=true";

/** CPU and memory for the Vault server container. */
export interface VaultResources {
  requests: { cpu: string; memory: string };
  limits: { cpu: string; memory: string };
}

/** Requests 250m/256Mi, limits 1 CPU/512Mi: a small cluster serving ESO's reads. */
export const VAULT_DEFAULT_RESOURCES: VaultResources = {
  requests: { cpu: "250m", memory: "256Mi" },
  limits: { cpu: "1", memory: "512Mi" },
};

/**
 * Cloud-KMS auto-unseal. No field is a credential: the pods authenticate with the cloud's
 * workload identity, bound to Vault's ServiceAccount (`vault` in the release namespace).
 */
export type VaultSeal =
  | {
      type: "awskms";
      /** AWS region of the KMS key, e.g. `eu-west-1`. */
      region: string;
      /** KMS key id, key ARN or `alias/<name>`. */
      kmsKeyId: string;
      /**
       * IAM role assumed through IRSA (ServiceAccount annotation `eks.amazonaws.com/role-arn`).
       * Its trust policy must allow `system:serviceaccount:<namespace>:vault` from the
       * cluster's OIDC provider, and it needs kms:Encrypt, kms:Decrypt, kms:DescribeKey.
       */
      roleArn: string;
    }
  | {
      type: "gcpckms";
      project: string;
      /** Location of the key ring, e.g. `global` or `europe-west1`. */
      region: string;
      keyRing: string;
      cryptoKey: string;
      /**
       * Google service account used through GKE Workload Identity (ServiceAccount annotation
       * `iam.gke.io/gcp-service-account`). It needs roles/cloudkms.cryptoKeyEncrypterDecrypter
       * on the key, and must grant roles/iam.workloadIdentityUser to
       * `serviceAccount:<project>.svc.id.goog[<namespace>/vault]`.
       */
      serviceAccountEmail: string;
    }
  | {
      type: "azurekeyvault";
      tenantId: string;
      vaultName: string;
      keyName: string;
      /**
       * Client id of the user-assigned identity used through Azure workload identity
       * (ServiceAccount annotation `azure.workload.identity/client-id`, pod label
       * `azure.workload.identity/use: "true"`). It needs a federated credential for subject
       * `system:serviceaccount:<namespace>:vault` and get/wrapKey/unwrapKey on the key.
       */
      clientId: string;
    };

export interface VaultClusterArgs {
  /** Namespace to install into. Created by the caller; the release does not create it. */
  namespace: pulumi.Input<string>;
  /**
   * `dev`: one pod, `vault server -dev`: in memory, unsealed, plain HTTP, root token
   * `devRootToken`. Every restart loses all data. Local clusters only, never shared ones.
   * `ha`: Raft integrated storage on persistent volumes, TLS, `replicas` pods on distinct
   * nodes. Starts uninitialised: run `vault operator init` once after the first install.
   * Changing the mode of an installed release replaces Vault's data; do not.
   */
  mode: "dev" | "ha";
  /**
   * Dev only, and required there: the root token of the dev server. Pass a Pulumi secret; it
   * is wrapped with `pulumi.secret` either way, so it stays encrypted in the state. Hazard:
   * the chart writes it into the pod spec in clear (env `VAULT_DEV_ROOT_TOKEN_ID`, unquoted),
   * readable by anyone who can read the StatefulSet. It must start with a letter and use only
   * letters, digits, `.`, `_` or `-`, 8 to 128 characters (else the YAML would break).
   */
  devRootToken?: pulumi.Input<string>;
  /**
   * Dev only: NodePort (30000-32767) of the `vault-ui` Service, which serves the whole API
   * (not only the UI) on plain HTTP, so `pulumi up` on a local cluster reaches
   * `http://127.0.0.1:<port>` (kind needs a matching `extraPortMappings` entry).
   * Default: `30820`. Hazard: any client that reaches a node reaches the dev server.
   */
  devNodePort?: number;
  /**
   * HA only: Vault pods (Raft voters). Default: `3`. An odd number from 3 to 7: Raft needs a
   * majority, so 3 survive one lost pod and 5 two. Required anti-affinity puts each pod on its
   * own node: the cluster needs at least this many schedulable nodes. Dev runs one pod; only
   * `1` (or nothing) is accepted there. Scaling down needs `vault operator raft remove-peer`.
   */
  replicas?: number;
  /**
   * HA only (ignored in dev): name of a `kubernetes.io/tls` or generic Secret in `namespace`
   * with `tls.crt`, `tls.key` and `ca.crt`, mounted at `/vault/userconfig/tls`. Default:
   * `"vault-tls"`. Created by the caller before the install; pods stay in ContainerCreating
   * without it. The certificate must cover `vault-<i>.vault-internal` for every pod (the Raft
   * join and API addresses; Go accepts `*.vault-internal`, OpenSSL-based tools such as curl do
   * not), `vault.<namespace>.svc` (this component's `address`) and IP `127.0.0.1` (the CLI in
   * the pod). Vault reads the files at start: rotate by updating the Secret, then `kill -HUP`
   * or restart each pod.
   */
  tlsSecretName?: string;
  /**
   * HA only (ignored in dev): size of each pod's Raft data volume, a Kubernetes quantity.
   * Default: `"10Gi"`. Uses the default StorageClass. The chart cannot grow it later: changing
   * it does not resize existing PVCs (expand them by hand if the StorageClass allows).
   */
  storageSize?: string;
  /**
   * HA only (ignored in dev): size of each pod's audit-log volume at `/vault/audit`.
   * Default: `"10Gi"`. Vault writes nothing there until an audit device is enabled
   * (`vault audit enable file file_path=/vault/audit/vault_audit.log`); a full audit volume
   * blocks every request, so watch it.
   */
  auditStorageSize?: string;
  /**
   * CPU and memory of the Vault container, in both modes. Default: `VAULT_DEFAULT_RESOURCES`
   * (requests 250m/256Mi, limits 1/512Mi). Vault caches leases in memory: an OOM-killed
   * active node fails over, but raise the memory limit before that becomes routine.
   */
  resources?: VaultResources;
  /**
   * HA only: cloud-KMS auto-unseal, added as a `seal` stanza to the config. Default: none
   * (Shamir keys: every restarted pod stays sealed until someone runs `vault operator unseal`).
   * No credentials go into the config: each cloud's workload identity is wired through
   * Vault's ServiceAccount. Changing the seal of an initialised cluster needs a seal
   * migration (`vault operator unseal -migrate`), not just a new config.
   */
  seal?: VaultSeal;
  /**
   * HA only: count sealed and uninitialised pods as Ready (`VAULT_READINESS_PATH_UNINITIALISED`)
   * and keep not-ready pods in the `vault` Service. Default: `false`. Turn on for the first
   * install only, so the pods turn Ready before `vault operator init`; once Vault is
   * initialised turn it off: a sealed pod then fails readiness, leaves the Service and counts
   * against the PodDisruptionBudget. The StatefulSet uses `OnDelete`, so running pods keep
   * their old probe until restarted one at a time (`kubectl delete pod vault-<i>`).
   */
  acceptSealedAsReady?: boolean;
  /**
   * Protect the Helm release from `pulumi destroy` and replacement. Default: `false`. Turn on
   * in production: uninstalling it deletes the StatefulSet, and replacing it (e.g. a new
   * namespace) strands the PVCs that hold Vault's data.
   */
  protect?: boolean;
  /** Labels on the Vault pods, StatefulSet, ServiceAccount and PVCs. Default: none. */
  labels?: Record<string, string>;
  /** Kubernetes provider. Default: the ambient kubeconfig context. */
  provider?: Provider;
}

/** The parts of `VaultClusterArgs` that decide the Helm values. */
export type VaultValuesArgs = Omit<VaultClusterArgs, "namespace" | "protect" | "provider">;

const QUANTITY = /^[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** Seal fields go into the HCL config verbatim (quoted): ids, ARNs, regions, e-mails, UUIDs. */
const SEAL_VALUE = /^[A-Za-z0-9._:/@+=-]+$/;
const DEV_ROOT_TOKEN = /^[A-Za-z][A-Za-z0-9._-]{7,127}$/;
const SEAL_FIELDS: Record<VaultSeal["type"], readonly string[]> = {
  awskms: ["region", "kmsKeyId", "roleArn"],
  gcpckms: ["project", "region", "keyRing", "cryptoKey", "serviceAccountEmail"],
  azurekeyvault: ["tenantId", "vaultName", "keyName", "clientId"],
};

/**
 * Why a dev root token is unusable, or `undefined` if it is fine. The message never contains
 * the token.
 */
/** The dev root token's rule, in words: the config layer and this component say the same. */
export const DEV_ROOT_TOKEN_RULE =
  "must start with a letter and use only letters, digits, '.', '_' or '-', 8 to 128 characters (the chart writes it into the pod spec unquoted)";

export function devRootTokenError(token: string): string | undefined {
  if (DEV_ROOT_TOKEN.test(token)) return undefined;
  return `[devRootToken] ${DEV_ROOT_TOKEN_RULE}; the value given does not.`;
}

/** Problems with the args, one message per problem, naming the argument and the fix. Empty: valid. */
export function vaultArgsErrors(args: VaultValuesArgs): string[] {
  const errors: string[] = [];
  const { mode } = args;
  if (mode !== "dev" && mode !== "ha") {
    errors.push(`[mode] must be "dev" or "ha"; got ${JSON.stringify(mode)}.`);
    return errors;
  }
  const isDev = mode === "dev";
  if (isDev) {
    if (args.devRootToken === undefined) {
      errors.push(
        '[devRootToken] is required in dev mode: pass a Pulumi secret rather than rely on the chart\'s well-known default "root".',
      );
    } else if (typeof args.devRootToken === "string") {
      const tokenError = devRootTokenError(args.devRootToken);
      if (tokenError) errors.push(tokenError);
    }
    const port = args.devNodePort;
    if (port !== undefined && !(Number.isInteger(port) && port >= 30000 && port <= 32767)) {
      errors.push(`[devNodePort] must be a whole number from 30000 to 32767 (the default NodePort range); got ${String(port)}.`);
    }
    if (args.replicas !== undefined && args.replicas !== 1) {
      errors.push(`[replicas] must be 1 or unset in dev mode: a dev server keeps its data in memory and cannot be replicated; got ${String(args.replicas)}. Set mode to "ha" for more pods.`);
    }
    if (args.seal !== undefined) {
      errors.push('[seal] applies to ha mode only: a dev server starts unsealed, in memory. Remove seal, or set mode to "ha".');
    }
  } else {
    if (args.devRootToken !== undefined) {
      errors.push('[devRootToken] applies to dev mode only: an ha cluster\'s root token comes from "vault operator init". Remove devRootToken, or set mode to "dev".');
    }
    if (args.devNodePort !== undefined) {
      errors.push('[devNodePort] applies to dev mode only: an ha cluster serves TLS inside the cluster (use kubectl port-forward svc/vault 8200). Remove devNodePort, or set mode to "dev".');
    }
    const r = args.replicas;
    if (r !== undefined && !(Number.isInteger(r) && r >= 3 && r <= 7 && r % 2 === 1)) {
      errors.push(`[replicas] must be an odd whole number from 3 to 7 in ha mode (Raft needs a majority: 3 survive one lost pod, 5 two); got ${String(r)}.`);
    }
    if (args.tlsSecretName !== undefined && !(DNS1123_SUBDOMAIN.test(args.tlsSecretName) && args.tlsSecretName.length <= 253)) {
      errors.push(`[tlsSecretName] must be a Secret name (lowercase letters, digits, '-' and '.'); got ${JSON.stringify(args.tlsSecretName)}.`);
    }
    for (const key of ["storageSize", "auditStorageSize"] as const) {
      const size = args[key];
      if (size !== undefined && !QUANTITY.test(size)) {
        errors.push(`[${key}] must be a Kubernetes quantity such as "10Gi"; got ${JSON.stringify(size)}.`);
      }
    }
    if (args.seal !== undefined) errors.push(...sealErrors(args.seal));
  }
  if (args.resources !== undefined) {
    for (const part of ["requests", "limits"] as const) {
      for (const kind of ["cpu", "memory"] as const) {
        const q = args.resources[part]?.[kind];
        if (typeof q !== "string" || !QUANTITY.test(q)) {
          errors.push(`[resources.${part}.${kind}] must be a Kubernetes quantity such as "${kind === "cpu" ? "250m" : "256Mi"}"; got ${JSON.stringify(q)}.`);
        }
      }
    }
  }
  return errors;
}

function sealErrors(seal: VaultSeal): string[] {
  const fields = SEAL_FIELDS[seal.type] as readonly string[] | undefined;
  if (!fields) {
    return [`[seal.type] must be "awskms", "gcpckms" or "azurekeyvault"; got ${JSON.stringify(seal.type)}.`];
  }
  const errors: string[] = [];
  const record = seal as unknown as Record<string, unknown>;
  for (const field of fields) {
    const v = record[field];
    if (typeof v !== "string" || !SEAL_VALUE.test(v)) {
      errors.push(`[seal.${field}] must be a non-empty string of letters, digits and . _ : / @ + = - (it goes into Vault's config); got ${JSON.stringify(v)}.`);
    }
  }
  for (const extra of Object.keys(record).filter((k) => k !== "type" && !fields.includes(k)).sort()) {
    errors.push(`[seal.${extra}] is not a ${seal.type} seal field (credentials never go into the seal: use workload identity); remove it.`);
  }
  return errors;
}

/** An HCL block with aligned `key = "value"` lines, indented by `indent`. */
function hclBlock(header: string, entries: [string, string][], indent = ""): string {
  const width = Math.max(...entries.map(([k]) => k.length));
  const lines = entries.map(([k, v]) => `${indent}  ${k.padEnd(width)} = ${JSON.stringify(v)}`);
  return [`${indent}${header} {`, ...lines, `${indent}}`].join("\n");
}

/** The `seal` stanza of Vault's config: key location only, never credentials. */
export function sealStanza(seal: VaultSeal): string {
  switch (seal.type) {
    case "awskms":
      return hclBlock('seal "awskms"', [
        ["region", seal.region],
        ["kms_key_id", seal.kmsKeyId],
      ]);
    case "gcpckms":
      return hclBlock('seal "gcpckms"', [
        ["project", seal.project],
        ["region", seal.region],
        ["key_ring", seal.keyRing],
        ["crypto_key", seal.cryptoKey],
      ]);
    case "azurekeyvault":
      // No client_id here: the workload-identity webhook injects AZURE_CLIENT_ID and the
      // federated token file, which the seal's default Azure credential picks up.
      return hclBlock('seal "azurekeyvault"', [
        ["tenant_id", seal.tenantId],
        ["vault_name", seal.vaultName],
        ["key_name", seal.keyName],
      ]);
  }
}

/** Annotations on Vault's ServiceAccount that bind it to the seal's cloud identity. */
export function sealServiceAccountAnnotations(seal: VaultSeal | undefined): Record<string, string> {
  switch (seal?.type) {
    case "awskms":
      return { "eks.amazonaws.com/role-arn": seal.roleArn };
    case "gcpckms":
      return { "iam.gke.io/gcp-service-account": seal.serviceAccountEmail };
    case "azurekeyvault":
      return { "azure.workload.identity/client-id": seal.clientId };
    default:
      return {};
  }
}

/** Pod labels the seal's identity needs (Azure's webhook only mutates labelled pods). */
export function sealPodLabels(seal: VaultSeal | undefined): Record<string, string> {
  return seal?.type === "azurekeyvault" ? { "azure.workload.identity/use": "true" } : {};
}

/** Vault's HA config (HCL): TLS listener, Raft with a retry_join per pod, Kubernetes service registration, seal. */
export function vaultHaConfig(args: { replicas: number; seal?: VaultSeal }): string {
  const tls = (file: string) => `${VAULT_TLS_DIR}/${file}`;
  const retryJoins = Array.from({ length: args.replicas }, (_, i) =>
    hclBlock(
      "retry_join",
      [
        ["leader_api_addr", `https://${VAULT_RELEASE_NAME}-${i}.${VAULT_RELEASE_NAME}-internal:${VAULT_API_PORT}`],
        ["leader_ca_cert_file", tls("ca.crt")],
      ],
      "  ",
    ),
  );
  const sections = [
    // `disable_mlock = true` at the start of a line, so the chart does not append a second one
    // (vault-helm#1153); Raft's memory-mapped BoltDB is why HashiCorp recommends it.
    "ui = true\ndisable_mlock = true",
    [
      'listener "tcp" {',
      '  address            = "[::]:8200"',
      '  cluster_address    = "[::]:8201"',
      "  tls_disable        = false",
      `  tls_cert_file      = "${tls("tls.crt")}"`,
      `  tls_key_file       = "${tls("tls.key")}"`,
      `  tls_client_ca_file = "${tls("ca.crt")}"`,
      "}",
    ].join("\n"),
    ['storage "raft" {', '  path = "/vault/data"', "", retryJoins.join("\n\n"), "}"].join("\n"),
    'service_registration "kubernetes" {}',
  ];
  if (args.seal) sections.push(sealStanza(args.seal));
  return `${sections.join("\n\n")}\n`;
}

/**
 * Helm values for the vault chart: only the overrides, the chart's `values.yaml` supplies the
 * rest. `devRootToken` is placed as given (the component passes a secret Output; tests pass a
 * string). Pure; throws on invalid args (see `vaultArgsErrors`).
 */
/** Pod and container security context of the Vault server: Pod Security "restricted". */
export const VAULT_SECURITY_CONTEXT = {
  pod: { runAsNonRoot: true, runAsUser: 100, runAsGroup: 1000, fsGroup: 1000, seccompProfile: { type: "RuntimeDefault" } },
  container: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, runAsNonRoot: true },
} as const;

export function vaultValues(args: VaultValuesArgs): Record<string, unknown> {
  const errors = vaultArgsErrors(args);
  if (errors.length > 0) throw new Error(errors.join(" "));
  const labels = args.labels ?? {};
  const withLabels = (o: Record<string, unknown>, key: string, l: Record<string, string>) =>
    Object.keys(l).length > 0 ? { ...o, [key]: l } : o;
  const ha = args.mode === "ha";
  const replicas = args.replicas ?? 3;
  const podLabels = ha ? { ...labels, ...sealPodLabels(args.seal) } : labels;
  const saAnnotations = ha ? sealServiceAccountAnnotations(args.seal) : {};

  const acceptSealed = ha && (args.acceptSealedAsReady ?? false);
  const server: Record<string, unknown> = {
    // The chart renders `<repository>:<tag>`: the digest rides on the tag, which stays for readers.
    image: { repository: "hashicorp/vault", tag: `${VAULT_APP_VERSION}@${VAULT_IMAGE_DIGEST}` },
    resources: args.resources ?? VAULT_DEFAULT_RESOURCES,
    // Helm's --wait (helm pkg/kube/ready.go, statefulSetReady) returns at once for a
    // StatefulSet whose update strategy is not RollingUpdate, and vault-helm defaults to
    // OnDelete: the release would "finish" while the image is still pulling and the next
    // resource (the dev server's configuration) would hit connection refused. In dev,
    // RollingUpdate makes Helm wait until the pod is Ready, i.e. serving. In HA, OnDelete
    // stays (vault-helm's upgrade procedure: a restarted pod comes back sealed unless
    // auto-unsealed, so pods are restarted one at a time by the operator).
    updateStrategyType: ha ? "OnDelete" : "RollingUpdate",
    // An HTTP probe on sys/health rather than the chart's `vault status` exec probe; see
    // VAULT_READINESS_PATH and `acceptSealedAsReady`.
    readinessProbe: { enabled: true, path: acceptSealed ? VAULT_READINESS_PATH_UNINITIALISED : VAULT_READINESS_PATH },
    // Vault's ServiceAccount may review other pods' tokens (system:auth-delegator): the
    // Kubernetes auth method that ESO logs in with depends on it.
    authDelegator: { enabled: true },
    serviceAccount: withLabels(
      { create: true, name: VAULT_SERVICE_ACCOUNT, ...(Object.keys(saAnnotations).length > 0 ? { annotations: saAnnotations } : {}) },
      "extraLabels",
      labels,
    ),
    ...(Object.keys(podLabels).length > 0 ? { extraLabels: podLabels } : {}),
    // The Pod Security Standards' "restricted" level, so Vault's namespace can enforce it. The
    // chart's own defaults (used when these are empty) are the first four pod fields and
    // allowPrivilegeEscalation only; Vault needs no capability (the chart sets SKIP_SETCAP and
    // the config disables mlock) and runs under the runtime's default seccomp profile.
    statefulSet: { securityContext: VAULT_SECURITY_CONTEXT },
  };
  const values: Record<string, unknown> = {
    global: { tlsDisable: !ha },
    // Only ESO reads Vault; nothing needs the agent-injector webhook.
    injector: { enabled: false },
    server,
  };

  if (!ha) {
    server.dev = { enabled: true, devRootToken: args.devRootToken };
    server.ha = { enabled: false };
    // In memory: a dev server has no data or audit volume.
    server.dataStorage = { enabled: false };
    server.auditStorage = { enabled: false };
    // The NodePort goes on the chart's `vault-ui` Service, which fronts the same listener
    // (API and UI) on 8200: the chart's values schema lists ui.serviceType/serviceNodePort
    // but not server.service.type, so the main `vault` Service stays ClusterIP.
    values.ui = {
      enabled: true,
      serviceType: "NodePort",
      serviceNodePort: args.devNodePort ?? VAULT_DEFAULT_DEV_NODE_PORT,
      externalPort: VAULT_API_PORT,
      targetPort: VAULT_API_PORT,
    };
    return values;
  }

  server.dev = { enabled: false };
  // Sealed pods out of the `vault` Service once initialised (the chart publishes not-ready
  // pods by default); the headless vault-internal Service that Raft joins through always
  // publishes them.
  server.service = { publishNotReadyAddresses: acceptSealed };
  server.ha = {
    enabled: true,
    replicas,
    // The default api_addr is the pod IP, which the certificate does not cover; the pod's
    // DNS name under the headless Service does. VAULT_K8S_POD_NAME is defined before
    // VAULT_API_ADDR in the pod spec, so Kubernetes expands it (HOSTNAME comes after).
    apiAddr: `https://$(VAULT_K8S_POD_NAME).${VAULT_RELEASE_NAME}-internal:${VAULT_API_PORT}`,
    raft: { enabled: true, setNodeId: true, config: vaultHaConfig({ replicas, seal: args.seal }) },
    // One pod at a time in a drain, whatever the size: the chart's default ⌊(n-1)/2⌋ would let
    // a drain take two of five voters, leaving no margin for a failure.
    disruptionBudget: { enabled: true, maxUnavailable: 1 },
  };
  server.dataStorage = withLabels({ enabled: true, size: args.storageSize ?? "10Gi" }, "labels", labels);
  server.auditStorage = withLabels({ enabled: true, size: args.auditStorageSize ?? "10Gi" }, "labels", labels);
  // 0440 with the chart's fsGroup 1000: readable by the vault user's group only.
  server.volumes = [{ name: "tls", secret: { secretName: args.tlsSecretName ?? "vault-tls", defaultMode: 0o440 } }];
  server.volumeMounts = [{ name: "tls", mountPath: VAULT_TLS_DIR, readOnly: true }];
  // The CLI in the pod (VAULT_ADDR=https://127.0.0.1:8200) verifies the server with this CA.
  server.extraEnvironmentVars = { VAULT_CACERT: `${VAULT_TLS_DIR}/ca.crt` };
  // Explicit object instead of the chart's string template: one Vault pod per node, so one
  // lost node costs one Raft voter.
  server.affinity = {
    podAntiAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: [
        {
          labelSelector: {
            matchLabels: { "app.kubernetes.io/name": "vault", "app.kubernetes.io/instance": VAULT_RELEASE_NAME, component: "server" },
          },
          topologyKey: "kubernetes.io/hostname",
        },
      ],
    },
  };
  return values;
}

/** In-cluster URL of Vault's API: the `vault` Service of the release, HTTP in dev, HTTPS in ha. */
export function vaultAddress(mode: "dev" | "ha", namespace: string): string {
  return `${mode === "dev" ? "http" : "https"}://${VAULT_RELEASE_NAME}.${namespace}.svc:${VAULT_API_PORT}`;
}

/** HashiCorp Vault from the official chart, in dev or Raft HA mode (see the file header). */
export class VaultCluster extends pulumi.ComponentResource {
  /**
   * In-cluster URL of Vault's API, for ESO's SecretStore: `http://vault.<ns>.svc:8200` (dev)
   * or `https://vault.<ns>.svc:8200` (ha; verify with the TLS Secret's `ca.crt`). Not the
   * address `pulumi up` uses from outside the cluster.
   */
  public readonly address: pulumi.Output<string>;
  /** Helm release name (`vault`), known once the release is installed. */
  public readonly releaseName: pulumi.Output<string>;
  /**
   * Vault's ServiceAccount (`vault`), bound to system:auth-delegator: configure Vault's
   * Kubernetes auth method (token reviewer) and the cloud identities with it.
   */
  public readonly serviceAccountName: pulumi.Output<string>;

  constructor(name: string, args: VaultClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("veza:cluster:VaultCluster", name, {}, opts);
    const errors = vaultArgsErrors(args);
    if (errors.length > 0) throw new pulumi.ResourceError(errors.join(" "), this);

    // The token reaches the values only as a secret, checked once known (never printed).
    const devRootToken =
      args.mode === "dev"
        ? pulumi.secret(
            pulumi.output(args.devRootToken as pulumi.Input<string>).apply((token) => {
              const problem = devRootTokenError(token);
              if (problem) throw new pulumi.ResourceError(problem, this);
              return token;
            }),
          )
        : undefined;

    const release = new Release(
      name,
      {
        name: VAULT_RELEASE_NAME,
        chart: "vault",
        version: VAULT_CHART_VERSION,
        repositoryOpts: { repo: VAULT_CHART_REPO },
        namespace: args.namespace,
        createNamespace: false,
        // Roll back a failed upgrade (and remove what it created) rather than leave Vault
        // half-configured; 10 minutes covers image pulls and PVC provisioning.
        atomic: true,
        cleanupOnFail: true,
        timeout: 600,
        maxHistory: 10,
        values: vaultValues({ ...args, devRootToken }),
      },
      // Protected in production: the release owns the StatefulSet whose PVCs hold Vault's data.
      { parent: this, provider: args.provider, protect: args.protect ?? false },
    );

    this.address = release.namespace.apply((ns) => vaultAddress(args.mode, ns));
    this.releaseName = release.name;
    this.serviceAccountName = release.name.apply(() => VAULT_SERVICE_ACCOUNT);
    this.registerOutputs({
      address: this.address,
      releaseName: this.releaseName,
      serviceAccountName: this.serviceAccountName,
    });
  }
}
