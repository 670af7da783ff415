/**
 * External Secrets Operator, installed with its Helm chart, CRDs included.
 *
 * CRDs and custom resources in one program (pulumi-kubernetes#3176): the chart installs
 * all of ESO's CRDs (`installCRDs: true`), so they stay in lockstep with the controller,
 * which watches more kinds (generators, GeneratorState, ClusterProviderClass) than the
 * platform uses. pulumi-kubernetes 4.32.0 and later read a Release's CRDs into the
 * provider's cache during Check (pulumi-kubernetes#4417), so a first `pulumi preview` on
 * an empty cluster resolves the ExternalSecret and SecretStore kinds; `package.json` pins
 * a later version and a test checks it. Every custom resource must `dependsOn` `release`.
 */
import { CustomResourceDefinition } from "@pulumi/kubernetes/apiextensions/v1/customResourceDefinition";
import { Release } from "@pulumi/kubernetes/helm/v3/release";
import { Provider } from "@pulumi/kubernetes/provider";
import * as k8sRbac from "@pulumi/kubernetes/rbac/v1";
import * as pulumi from "@pulumi/pulumi";
import { type ChartSource, releaseChart } from "../helm-chart";
import { DNS_SUBDOMAIN } from "../rules";

/** Helm chart version of External Secrets Operator; the test fixtures in test/upstream match it. */
export const ESO_CHART_VERSION = "2.9.0";
/** The chart's `appVersion`: the image tag of the controller, webhook and cert controller. */
export const ESO_APP_VERSION = "v2.9.0";
/**
 * Digest of `ghcr.io/external-secrets/external-secrets:v2.9.0` (the multi-architecture index),
 * so a re-pushed tag cannot change what runs. Not fetched from a registry here (none is
 * reachable from this machine): one public project records it from a cluster that pulled and
 * ran it, and the other digests it records (cert-manager v1.21.0's) match those that many
 * independent projects pin. A wrong digest fails closed (the pods cannot pull); `eso.imageDigest`
 * overrides it. Check it when bumping: `crane digest ghcr.io/external-secrets/external-secrets:<tag>`.
 */
export const ESO_IMAGE_DIGEST = "sha256:44eb290f1c7f5d8f4eec2168cea4a6cfbc72a955c6781eb835e1c40700475dbd";
export const ESO_CHART_REPO = "https://charts.external-secrets.io";
/** Helm release name; the chart's resource names (`external-secrets-webhook`, ...) derive from it. */
export const ESO_RELEASE_NAME = "external-secrets";
/** Name of the controller's ServiceAccount, set explicitly rather than left to the chart's template. */
export const ESO_SERVICE_ACCOUNT = "external-secrets";

/** The CRDs every stack's resources use: ExternalSecrets and SecretStores (`external-secrets.io/v1`). */
export const ESO_REQUIRED_CRDS = ["externalsecrets.external-secrets.io", "secretstores.external-secrets.io"];
/** The CRD of the Vault database-credentials generator (`generators.external-secrets.io/v1alpha1`). */
export const ESO_VAULT_GENERATOR_CRD = "vaultdynamicsecrets.generators.external-secrets.io";

/** The API version each CRD must serve for the program's resources. */
export function requiredCrdVersion(crd: string): string {
  return crd.endsWith(".generators.external-secrets.io") ? "v1alpha1" : "v1";
}

/** CPU and memory for one container, as in a Kubernetes `resources` block. */
export interface ContainerResources {
  requests?: { cpu?: string; memory?: string };
  limits?: { cpu?: string; memory?: string };
}

/** Requests 50m/64Mi, limits 500m/256Mi: enough for a few hundred ExternalSecrets. */
export const ESO_DEFAULT_RESOURCES: ContainerResources = {
  requests: { cpu: "50m", memory: "64Mi" },
  limits: { cpu: "500m", memory: "256Mi" },
};

export interface ExternalSecretsOperatorArgs {
  /** Namespace to install the operator into. Created by the caller; the release does not create it. */
  namespace: pulumi.Input<string>;
  /**
   * The one namespace the controller reconciles (`scopedNamespace`), with namespaced RBAC
   * (`scopedRBAC`): its Secrets access is a Role there, not a ClusterRole on every Secret of
   * the cluster. Created by the caller. Required: the chart's default (empty) is cluster-wide,
   * which makes a compromised controller cluster-admin in all but name.
   */
  watchNamespace: pulumi.Input<string>;
  /**
   * ServiceAccounts in `watchNamespace` the controller may mint tokens for (the SecretStores'
   * accounts): a Role with `create` on `serviceaccounts/token` limited to these `resourceNames`.
   * The chart's own cluster-wide grant (`rbac.serviceAccountTokenCreate`) is turned off. Empty:
   * no token grant (stores that authenticate otherwise). Names, no `*`.
   */
  tokenServiceAccounts: string[];
  /**
   * Replicas of the controller, and of the webhook and cert controller. Default: `1`.
   * A whole number from 1 to 10. Above 1, leader election is turned on (only one controller
   * reconciles; the others wait) and each Deployment gets a PodDisruptionBudget with
   * `minAvailable: 1`. With 1, the validating webhook (failure policy `Fail`) is down during
   * a rollout or node drain, and ExternalSecret/SecretStore writes are rejected until it is back.
   */
  replicas?: number;
  /**
   * Create the metrics Services and Prometheus Operator ServiceMonitors for the controller,
   * webhook and cert controller. Default: `false`. When `true`, the install fails if the
   * `monitoring.coreos.com/v1` ServiceMonitor CRD is missing (rather than silently skipping it).
   */
  serviceMonitor?: boolean;
  /**
   * CPU and memory per component. Default for each: `ESO_DEFAULT_RESOURCES` (requests
   * 50m/64Mi, limits 500m/256Mi). A component given here replaces the default as a whole.
   * The controller's memory grows with the number of ExternalSecrets and managed Secrets it
   * caches: raise its limit before it is OOM-killed, not after.
   */
  resources?: {
    controller?: ContainerResources;
    webhook?: ContainerResources;
    certController?: ContainerResources;
  };
  /** Labels added to every resource the chart renders (`commonLabels`). Default: none. */
  labels?: Record<string, string>;
  /**
   * `sha256:<64 hex>` digest of `ghcr.io/external-secrets/external-secrets:<ESO_APP_VERSION>`
   * (controller, webhook and cert controller share the image), appended to the tag. Default:
   * `ESO_IMAGE_DIGEST`. Set it when the registry reports another digest for the tag
   * (`crane digest <image>:<tag>`) or to run a mirror's copy.
   */
  imageDigest?: string;
  /**
   * cert-manager issues the webhook's serving certificate from this issuer (a `ClusterIssuer`,
   * or an `Issuer` in `namespace`), and ESO's cert controller is not installed: the chart gives
   * it a ClusterRole that reads every Secret in the cluster. Default: none (the cert
   * controller makes and rotates the certificate). Needs cert-manager and its CA injector.
   */
  webhookCertificateIssuer?: { kind: "ClusterIssuer" | "Issuer"; name: string };
  /**
   * Protect the release (and so its CRDs) from `pulumi destroy`. Default: `false`.
   * Uninstalling it deletes the CRDs, every ExternalSecret and SecretStore in the cluster,
   * and every Secret they own. Turn on wherever the synced Secrets matter.
   */
  protect?: boolean;
  /** Kubernetes provider. Default: the ambient kubeconfig context. Must keep server-side apply on (the default). */
  /**
   * Install ESO with its chart. Default: `true`. `false`: the platform team runs ESO already
   * (CRDs and controller); the component then installs nothing, reads the CRDs in `crds`
   * (the preview fails, naming the CRD, when one is missing or does not serve
   * `external-secrets.io/v1`) and grants the existing controller (`serviceAccount` in
   * `namespace`) the token Role below.
   */
  install?: boolean;
  /** The controller's ServiceAccount when `install` is `false`. Default: `ESO_SERVICE_ACCOUNT`. */
  serviceAccount?: string;
  /** CRDs the caller's resources use, checked when `install` is `false`. Default: `ESO_REQUIRED_CRDS`. */
  crds?: string[];
  /** Where the pinned chart comes from: a mirror or a local directory. Default: the chart's own repository (`ESO_CHART_REPO`). */
  chart?: ChartSource;
  provider?: Provider;
}

/** The parts of an `ExternalSecretsOperatorArgs` that decide the Helm values. */
export type EsoValuesArgs = Pick<
  ExternalSecretsOperatorArgs,
  "watchNamespace" | "replicas" | "serviceMonitor" | "resources" | "labels" | "imageDigest" | "webhookCertificateIssuer"
>;

/** Problems with the args, one message per problem, naming the argument and the fix. Empty: valid. */
export function esoArgsErrors(args: EsoValuesArgs & Partial<Pick<ExternalSecretsOperatorArgs, "tokenServiceAccounts">>): string[] {
  const errors: string[] = [];
  if (args.watchNamespace === undefined || args.watchNamespace === "") {
    errors.push("[watchNamespace] is required: the one namespace ESO reconciles (its Secrets access is scoped to it), e.g. the workload namespace.");
  }
  if (args.imageDigest !== undefined && !/^sha256:[0-9a-f]{64}$/.test(args.imageDigest)) {
    errors.push(`[imageDigest] must be "sha256:" and 64 lowercase hex digits; got ${JSON.stringify(args.imageDigest)}.`);
  }
  for (const sa of args.tokenServiceAccounts ?? []) {
    if (!DNS_SUBDOMAIN.test(sa)) errors.push(`[tokenServiceAccounts] must list ServiceAccount names (no "*"); got ${JSON.stringify(sa)}.`);
  }
  const r = args.replicas;
  if (r !== undefined && !(Number.isInteger(r) && r >= 1 && r <= 10)) {
    errors.push(`[replicas] must be a whole number from 1 to 10; got ${String(r)}.`);
  }
  return errors;
}

/**
 * Helm values for the external-secrets chart: only the overrides, the chart's `values.yaml`
 * supplies the rest. Pure; throws on invalid args (see `esoArgsErrors`).
 */
export function esoValues(args: EsoValuesArgs): Record<string, unknown> {
  const errors = esoArgsErrors(args);
  if (errors.length > 0) throw new Error(errors.join(" "));
  const replicas = args.replicas ?? 1;
  const ha = replicas > 1;
  const monitor = args.serviceMonitor ?? false;
  const res = args.resources ?? {};
  // A PDB with minAvailable 1 on a single replica would block every node drain.
  const pdb = { enabled: ha, minAvailable: 1 };
  // The chart renders `<repository>:<tag>`: a digest rides on the tag.
  const image = { tag: `${ESO_APP_VERSION}@${args.imageDigest ?? ESO_IMAGE_DIGEST}` };
  const metrics = { service: { enabled: monitor } };

  const values: Record<string, unknown> = {
    // All CRDs, from the chart (see the file header for the preview of a first install).
    installCRDs: true,
    replicaCount: replicas,
    leaderElect: ha,
    image,
    // Least privilege: the platform uses namespaced SecretStores and ExternalSecrets only,
    // so the cluster-wide and push controllers stay off (ESO's security best practices).
    processClusterExternalSecret: false,
    processClusterPushSecret: false,
    processClusterGenerator: false,
    processClusterStore: false,
    processPushSecret: false,
    processSecretStore: true,
    // Reconcile one namespace with a Role there (CIS 5.1.2/5.1.3: no cluster-wide Secrets
    // access), and no chart grant of serviceaccounts/token on every ServiceAccount: the
    // component grants it on the stores' accounts by name.
    scopedNamespace: args.watchNamespace,
    scopedRBAC: true,
    rbac: { serviceAccountTokenCreate: false },
    serviceAccount: { create: true, name: ESO_SERVICE_ACCOUNT },
    resources: res.controller ?? ESO_DEFAULT_RESOURCES,
    podDisruptionBudget: pdb,
    metrics,
    serviceMonitor: { enabled: monitor, renderMode: monitor ? "failIfMissing" : "skipIfMissing" },
    webhook: {
      create: true,
      replicaCount: replicas,
      image,
      resources: res.webhook ?? ESO_DEFAULT_RESOURCES,
      podDisruptionBudget: pdb,
      metrics,
    },
    certController: {
      create: true,
      replicaCount: replicas,
      image,
      resources: res.certController ?? ESO_DEFAULT_RESOURCES,
      podDisruptionBudget: pdb,
      metrics,
      // The chart has no leader-election value for the cert controller; without it, several
      // replicas would each rotate the webhook certificate.
      ...(ha ? { extraArgs: { "enable-leader-election": "true" } } : {}),
    },
  };
  if (args.webhookCertificateIssuer) {
    const { kind, name } = args.webhookCertificateIssuer;
    // cert-manager's Certificate, and its CA injector fills the webhook's caBundle.
    (values.webhook as Record<string, unknown>).certManager = {
      enabled: true,
      addInjectorAnnotations: true,
      cert: { create: true, issuerRef: { group: "cert-manager.io", kind, name } },
    };
    values.certController = { create: false };
  }
  if (args.labels && Object.keys(args.labels).length > 0) values.commonLabels = { ...args.labels };
  return values;
}

/** The Role rule that lets the controller mint tokens for exactly these ServiceAccounts. Pure, for tests. */
export function tokenCreateRule(serviceAccounts: readonly string[]): { apiGroups: string[]; resources: string[]; resourceNames: string[]; verbs: string[] } {
  return { apiGroups: [""], resources: ["serviceaccounts/token"], resourceNames: [...serviceAccounts], verbs: ["create"] };
}

/**
 * External Secrets Operator: the Helm chart (CRDs, controller, validating webhook, cert
 * controller) with only the namespaced controllers on, reconciling one namespace, and a Role
 * there that lets it mint tokens for the stores' ServiceAccounts only.
 */
export class ExternalSecretsOperator extends pulumi.ComponentResource {
  /** The Helm release, which installs the CRDs; none when `install` is `false`. */
  public readonly release?: Release;
  /**
   * What every ExternalSecret, SecretStore and generator must depend on: the release, or the
   * checked CRDs of an ESO the program does not install.
   */
  public readonly ready: pulumi.Resource[];
  /** The controller's ServiceAccount, known once the release is installed. */
  public readonly serviceAccountName: pulumi.Output<string>;
  /** The namespace the operator runs in. */
  public readonly namespace: pulumi.Output<string>;

  constructor(name: string, args: ExternalSecretsOperatorArgs, opts?: pulumi.ComponentResourceOptions) {
    super("veza:cluster:ExternalSecretsOperator", name, {}, opts);
    const errors = esoArgsErrors(args);
    if (errors.length > 0) throw new pulumi.ResourceError(errors.join(" "), this);

    const install = args.install ?? true;
    this.release = install
      ? new Release(
          name,
          {
            name: ESO_RELEASE_NAME,
            ...releaseChart({ name: "external-secrets", version: ESO_CHART_VERSION, repository: ESO_CHART_REPO }, args.chart),
            namespace: args.namespace,
            createNamespace: false,
            maxHistory: 10,
            values: esoValues(args),
          },
          // Uninstalling the release deletes its CRDs, every ExternalSecret and the Secrets they own.
          { parent: this, provider: args.provider, protect: args.protect ?? false },
        )
      : undefined;
    // ESO installed by someone else: read its CRDs, so a missing one stops the preview with its
    // name, before any custom resource is sent (a missing kind would otherwise fail each
    // resource with "no matches for kind").
    const crds = install
      ? []
      : (args.crds ?? ESO_REQUIRED_CRDS).map((crdName) => {
          const crd = CustomResourceDefinition.get(`${name}-crd-${crdName.split(".")[0]}`, crdName, { parent: this, provider: args.provider });
          const version = requiredCrdVersion(crdName);
          // Fails the run (the preview too) with the CRD's name when the installed ESO is too old.
          const served = crd.spec.versions.apply((versions) => {
            const names = (versions ?? []).filter((v) => v.served).map((v) => v.name);
            if (!names.includes(version))
              throw new pulumi.ResourceError(
                `ESO is installed by the platform (eso.install false), but its CRD ${crdName} does not serve ${version} (served: ${names.join(", ") || "none"}); this program needs ESO ${ESO_APP_VERSION} or later`,
                crd,
              );
            return names;
          });
          return { crd, served };
        });
    this.ready = this.release ? [this.release] : crds.map((c) => c.crd);
    const controllerAccount = install ? ESO_SERVICE_ACCOUNT : (args.serviceAccount ?? ESO_SERVICE_ACCOUNT);

    // TokenRequest for the stores' accounts only: with the chart's grant off, ESO could mint
    // none; with it on, it could mint a token for any ServiceAccount in the cluster.
    const tokenAccounts = [...new Set(args.tokenServiceAccounts)].sort();
    if (tokenAccounts.length > 0) {
      const role = new k8sRbac.Role(
        `${name}-token-create`,
        {
          metadata: {
            name: "external-secrets-token-create",
            namespace: args.watchNamespace,
            labels: { "app.kubernetes.io/managed-by": "pulumi", ...args.labels },
          },
          rules: [tokenCreateRule(tokenAccounts)],
        },
        { parent: this, provider: args.provider },
      );
      new k8sRbac.RoleBinding(
        `${name}-token-create`,
        {
          metadata: {
            name: "external-secrets-token-create",
            namespace: args.watchNamespace,
            labels: { "app.kubernetes.io/managed-by": "pulumi", ...args.labels },
          },
          roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.metadata.name },
          subjects: [{ kind: "ServiceAccount", name: controllerAccount, namespace: args.namespace }],
        },
        { parent: this, provider: args.provider },
      );
    }

    this.serviceAccountName = this.release ? this.release.status.apply(() => ESO_SERVICE_ACCOUNT) : pulumi.output(controllerAccount);
    this.namespace = this.release ? this.release.namespace : pulumi.output(args.namespace);
    this.registerOutputs({
      ...(this.release ? { release: this.release } : {}),
      // Registered, so the engine waits on each CRD's check and reports its failure.
      ...(crds.length > 0 ? { servedCrdVersions: Object.fromEntries(crds.map((c, i) => [(args.crds ?? ESO_REQUIRED_CRDS)[i], c.served])) } : {}),
      serviceAccountName: this.serviceAccountName,
      namespace: this.namespace,
    });
  }
}
