/**
 * Helm values for vault-helm: only the overrides, the chart's values.yaml supplies the rest.
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
 *   (vault#31634), so the HA config (cluster-hcl.ts) sets it exactly once, in the form the chart detects.
 * - The chart substitutes HOST_IP, POD_IP, HOSTNAME, API_ADDR, TRANSIT_ADDR and RAFT_ADDR in
 *   the config with `sed` and passes it through `tpl`: the config uses none of those words
 *   and no `{{`.
 */
import {
  VAULT_API_PORT,
  VAULT_APP_VERSION,
  VAULT_DEFAULT_DEV_NODE_PORT,
  VAULT_DEFAULT_RESOURCES,
  VAULT_IMAGE_DIGEST,
  VAULT_READINESS_PATH,
  VAULT_READINESS_PATH_UNINITIALISED,
  VAULT_RELEASE_NAME,
  VAULT_SERVICE_ACCOUNT,
  VAULT_TLS_DIR,
  VaultValuesArgs,
  vaultArgsErrors,
} from "./cluster-args";
import { sealPodLabels, sealServiceAccountAnnotations, vaultHaConfig } from "./cluster-hcl";

/** Pod and container security context of the Vault server: Pod Security "restricted". */
export const VAULT_SECURITY_CONTEXT = {
  pod: { runAsNonRoot: true, runAsUser: 100, runAsGroup: 1000, fsGroup: 1000, seccompProfile: { type: "RuntimeDefault" } },
  container: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, runAsNonRoot: true },
} as const;

/**
 * Helm values for the vault chart: only the overrides, the chart's `values.yaml` supplies the
 * rest. `devRootToken` is placed as given (the component passes a secret Output; tests pass a
 * string). Pure; throws on invalid args (see `vaultArgsErrors`).
 */
export function vaultValues(args: VaultValuesArgs): Record<string, unknown> {
  const errors = vaultArgsErrors(args);
  if (errors.length > 0) throw new Error(errors.join(" "));
  const labels = args.labels ?? {};
  const withLabels = (o: Record<string, unknown>, key: string, l: Record<string, string>) => (Object.keys(l).length > 0 ? { ...o, [key]: l } : o);
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
    raft: { enabled: true, setNodeId: true, config: vaultHaConfig({ replicas, seal: args.seal, ui: args.ui }) },
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
