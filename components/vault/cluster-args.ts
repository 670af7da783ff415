/**
 * The Vault server's pinned versions, its args and their validation: one message per
 * problem, naming the argument and the fix. The Helm values (cluster-values.ts), the server
 * config (cluster-hcl.ts) and the component (cluster.ts) build on these.
 */
import type { Provider } from "@pulumi/kubernetes/provider";
import type * as pulumi from "@pulumi/pulumi";
import type { ChartSource } from "../helm-chart";
import { DNS_SUBDOMAIN, QUANTITY } from "../rules";

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
   * HA only: serve Vault's web UI on the API listener (`ui = true`). Default: `false`: the UI is
   * one more surface on the server that holds every secret, and nothing here needs it (the CLI
   * and API do everything; `vault` through `kubectl port-forward` for people).
   */
  ui?: boolean;
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
  /** Where the pinned chart comes from: a mirror or a local directory. Default: the chart's own repository (`VAULT_CHART_REPO`). */
  chart?: ChartSource;
  provider?: Provider;
}

/** The parts of `VaultClusterArgs` that decide the Helm values. */
export type VaultValuesArgs = Omit<VaultClusterArgs, "namespace" | "protect" | "provider">;

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
      errors.push('[devRootToken] is required in dev mode: pass a Pulumi secret rather than rely on the chart\'s well-known default "root".');
    } else if (typeof args.devRootToken === "string") {
      const tokenError = devRootTokenError(args.devRootToken);
      if (tokenError) errors.push(tokenError);
    }
    const port = args.devNodePort;
    if (port !== undefined && !(Number.isInteger(port) && port >= 30000 && port <= 32767)) {
      errors.push(`[devNodePort] must be a whole number from 30000 to 32767 (the default NodePort range); got ${String(port)}.`);
    }
    if (args.replicas !== undefined && args.replicas !== 1) {
      errors.push(
        `[replicas] must be 1 or unset in dev mode: a dev server keeps its data in memory and cannot be replicated; got ${String(args.replicas)}. Set mode to "ha" for more pods.`,
      );
    }
    if (args.seal !== undefined) {
      errors.push('[seal] applies to ha mode only: a dev server starts unsealed, in memory. Remove seal, or set mode to "ha".');
    }
  } else {
    if (args.devRootToken !== undefined) {
      errors.push(
        '[devRootToken] applies to dev mode only: an ha cluster\'s root token comes from "vault operator init". Remove devRootToken, or set mode to "dev".',
      );
    }
    if (args.devNodePort !== undefined) {
      errors.push(
        '[devNodePort] applies to dev mode only: an ha cluster serves TLS inside the cluster (use kubectl port-forward svc/vault 8200). Remove devNodePort, or set mode to "dev".',
      );
    }
    const r = args.replicas;
    if (r !== undefined && !(Number.isInteger(r) && r >= 3 && r <= 7 && r % 2 === 1)) {
      errors.push(`[replicas] must be an odd whole number from 3 to 7 in ha mode (Raft needs a majority: 3 survive one lost pod, 5 two); got ${String(r)}.`);
    }
    if (args.tlsSecretName !== undefined && !DNS_SUBDOMAIN.test(args.tlsSecretName)) {
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
  for (const extra of Object.keys(record)
    .filter((k) => k !== "type" && !fields.includes(k))
    .sort()) {
    errors.push(`[seal.${extra}] is not a ${seal.type} seal field (credentials never go into the seal: use workload identity); remove it.`);
  }
  return errors;
}
