/**
 * NetworkPolicies around Vault and External Secrets Operator's controller. Without them every
 * pod of the cluster can reach Vault's API (8200) and cluster port (8201), and a compromised
 * controller can reach anything.
 *
 * - `vault-ingress` (Vault's namespace, the server pods): 8200 from ESO's controller pods, 8200
 *   and 8201 from the other Vault servers (Raft, request forwarding), 8200 from the pods of
 *   `vaultNamespaceClients` (the snapshot Job), and 8200 from the
 *   deployer: `deployerCidrs` (as Vault's pods see the source address) and pods of
 *   `deployerNamespaces` (an ingress controller in front of Vault, an in-cluster Pulumi agent).
 *   `kubectl port-forward` is not network traffic and is unaffected. Kubelet probes come from
 *   the node, which the common CNIs (Calico, Cilium) always admit.
 * - `eso-controller-egress` (ESO's namespace, the controller pods only): DNS to kube-dns,
 *   Vault's API, the Kubernetes API server (`apiServerCidrs`, 443 and 6443), and HTTPS to
 *   anywhere only when a cloud secret manager is used (their endpoints have no fixed addresses).
 * - `eso-default-deny` (ESO's namespace, every pod): nothing in or out unless another policy
 *   says so; `eso-webhook` lets the API server call the webhook (10250, from anywhere: where
 *   the control plane calls from is the provider's business) and lets it reach DNS and the API
 *   server; `eso-cert-controller-egress` lets the cert controller reach DNS and the API server
 *   only. With `esoMetrics`, 8080 (metrics) is open to every pod of the namespace's scrapers.
 * - `rotation-job` (the workload namespace, the rotation CronJob's pods): no ingress; egress to
 *   DNS and the API server only (it patches ExternalSecrets, nothing else). `reloader` likewise
 *   for Reloader's pods (it watches Secrets and patches Deployments through the API server).
 *
 * The services' own pods are not this program's: their policies belong to their deployments.
 *
 * NetworkPolicies need a CNI that enforces them (Calico, Cilium, the cloud providers' own);
 * with one that does not, they change nothing.
 */
import * as k8sNetworking from "@pulumi/kubernetes/networking/v1";
import { Provider } from "@pulumi/kubernetes/provider";
import type * as k8sInputs from "@pulumi/kubernetes/types/input";
import * as pulumi from "@pulumi/pulumi";
import { DNS_LABEL } from "../rules";

/** Labels of the vault-helm chart's server pods (release `vault`). */
export const VAULT_SERVER_POD_LABELS = { "app.kubernetes.io/name": "vault", "app.kubernetes.io/instance": "vault", component: "server" } as const;
/** Labels of the ESO chart's controller pods (release `external-secrets`); the webhook and cert controller differ. */
export const ESO_CONTROLLER_POD_LABELS = { "app.kubernetes.io/name": "external-secrets", "app.kubernetes.io/instance": "external-secrets" } as const;
/** Labels of the ESO chart's webhook pods. */
export const ESO_WEBHOOK_POD_LABELS = { "app.kubernetes.io/name": "external-secrets-webhook", "app.kubernetes.io/instance": "external-secrets" } as const;
/** Labels of the ESO chart's cert controller pods. */
export const ESO_CERT_CONTROLLER_POD_LABELS = {
  "app.kubernetes.io/name": "external-secrets-cert-controller",
  "app.kubernetes.io/instance": "external-secrets",
} as const;
/**
 * Labels of the Reloader chart's pods (release `reloader`): its selector labels, `app:
 * <release>-reloader` and `release: <release>`, as its rendered manifests show. Were they ever
 * to differ, the policy would select no pod and change nothing (it cannot cut anything off).
 */
export const RELOADER_POD_LABELS = { app: "reloader-reloader", release: "reloader" } as const;
/** The port ESO's webhook listens on (chart value `webhook.port`). */
export const ESO_WEBHOOK_PORT = 10250;
/** The port ESO's pods serve metrics on (chart default). */
export const ESO_METRICS_PORT = 8080;

export interface NetworkPoliciesArgs {
  /** Vault's namespace; omit where this stack runs no Vault. */
  vaultNamespace?: pulumi.Input<string>;
  /** ESO's namespace (Vault admits its controller, selected by the chart's pod labels). */
  esoNamespace: pulumi.Input<string>;
  /**
   * Restrict ESO's controller egress (a policy in `esoNamespace`). Default `true`; `false` where
   * the platform runs ESO, whose namespace is not this program's to police.
   */
  esoEgress?: boolean;
  /** Port of a Vault outside the cluster that ESO reads (its address is a name, so any destination on that port). */
  externalVaultPort?: number;
  /** Source CIDRs that may call Vault's API: where `pulumi up` runs. Default: none. */
  deployerCidrs?: string[];
  /** Namespaces whose pods may call Vault's API (an ingress controller, an in-cluster agent). Default: none. */
  deployerNamespaces?: string[];
  /** Labels of pods in Vault's own namespace that call its API (the Raft snapshot Job). Default: none. */
  vaultNamespaceClients?: Record<string, string>[];
  /** Where the Kubernetes API server is, for ESO's egress. Default `["0.0.0.0/0"]` (unknown here: narrow it). */
  apiServerCidrs?: string[];
  /** ESO reads a cloud secret manager (AWS, GCP, Azure): allow HTTPS egress to anywhere. */
  cloudApis: boolean;
  /** With `esoEgress`: open ESO's metrics port (8080) to scrapers. Default `false`. */
  esoMetrics?: boolean;
  /** The rotation CronJob's pods: their namespace and labels (egress to DNS and the API server only). Default: none. */
  rotationJob?: { namespace: pulumi.Input<string>; podLabels: Record<string, string> };
  /** Reloader's pods (the workload namespace): egress to DNS and the API server only, no ingress. Default: none. */
  reloader?: { namespace: pulumi.Input<string> };
  labels?: Record<string, string>;
  provider?: Provider;
}

const CIDR = /^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$|^[0-9a-fA-F:]+\/\d{1,3}$/;

/** Problems with the args, each naming the argument. Empty: valid. */
export function networkPoliciesErrors(args: Pick<NetworkPoliciesArgs, "deployerCidrs" | "apiServerCidrs" | "deployerNamespaces">): string[] {
  const errors: string[] = [];
  for (const [field, list] of [
    ["deployerCidrs", args.deployerCidrs],
    ["apiServerCidrs", args.apiServerCidrs],
  ] as const) {
    for (const c of list ?? []) if (!CIDR.test(c)) errors.push(`[${field}] must list CIDRs such as "10.0.0.0/16"; got ${JSON.stringify(c)}.`);
  }
  for (const n of args.deployerNamespaces ?? [])
    if (!DNS_LABEL.test(n)) errors.push(`[deployerNamespaces] must list namespace names; got ${JSON.stringify(n)}.`);
  return errors;
}

const byName = (ns: pulumi.Input<string>) => ({ matchLabels: { "kubernetes.io/metadata.name": ns } });

/** Ingress to Vault and egress from ESO's controller, nothing else. */
export class NetworkPolicies extends pulumi.ComponentResource {
  /** Names of the policies, by role. */
  public readonly policyNames: Record<string, pulumi.Output<string>>;

  constructor(name: string, args: NetworkPoliciesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("veza:cluster:NetworkPolicies", name, {}, opts);
    const errors = networkPoliciesErrors(args);
    if (errors.length > 0) throw new pulumi.ResourceError(errors.join(" "), this);
    const labels = { "app.kubernetes.io/part-of": "veza", "app.kubernetes.io/managed-by": "pulumi", ...args.labels };
    const child = { parent: this, provider: args.provider };
    this.policyNames = {};
    const tcp = (port: number) => ({ protocol: "TCP", port });

    if (args.vaultNamespace !== undefined) {
      const vaultIngress = new k8sNetworking.NetworkPolicy(
        `${name}-vault-ingress`,
        {
          metadata: { name: "vault-ingress", namespace: args.vaultNamespace, labels },
          spec: {
            podSelector: { matchLabels: { ...VAULT_SERVER_POD_LABELS } },
            policyTypes: ["Ingress"],
            ingress: [
              { from: [{ namespaceSelector: byName(args.esoNamespace), podSelector: { matchLabels: { ...ESO_CONTROLLER_POD_LABELS } } }], ports: [tcp(8200)] },
              { from: [{ podSelector: { matchLabels: { ...VAULT_SERVER_POD_LABELS } } }], ports: [tcp(8200), tcp(8201)] },
              ...(args.vaultNamespaceClients ?? []).map((labels) => ({ from: [{ podSelector: { matchLabels: { ...labels } } }], ports: [tcp(8200)] })),
              ...((args.deployerCidrs ?? []).length + (args.deployerNamespaces ?? []).length > 0
                ? [
                    {
                      from: [
                        ...(args.deployerCidrs ?? []).map((cidr) => ({ ipBlock: { cidr } })),
                        ...(args.deployerNamespaces ?? []).map((ns) => ({ namespaceSelector: byName(ns) })),
                      ],
                      ports: [tcp(8200)],
                    },
                  ]
                : []),
            ],
          },
        },
        child,
      );
      this.policyNames.vaultIngress = vaultIngress.metadata.name;
    }

    const dns: k8sInputs.networking.v1.NetworkPolicyEgressRule = {
      to: [{ namespaceSelector: byName("kube-system"), podSelector: { matchLabels: { "k8s-app": "kube-dns" } } }],
      ports: [
        { protocol: "UDP", port: 53 },
        { protocol: "TCP", port: 53 },
      ],
    };
    const apiServer: k8sInputs.networking.v1.NetworkPolicyEgressRule = {
      to: (args.apiServerCidrs ?? ["0.0.0.0/0"]).map((cidr) => ({ ipBlock: { cidr } })),
      ports: [tcp(443), tcp(6443)],
    };
    // Resource names `${name}-<suffix>` (URNs: `eso-egress` as it always was), object names as given.
    const policy = (key: string, suffix: string, objectName: string, namespace: pulumi.Input<string>, spec: k8sInputs.networking.v1.NetworkPolicySpec) => {
      const p = new k8sNetworking.NetworkPolicy(`${name}-${suffix}`, { metadata: { name: objectName, namespace, labels }, spec }, child);
      this.policyNames[key] = p.metadata.name;
    };

    if (args.rotationJob) {
      policy("rotationJob", "rotation-job", "rotation-job", args.rotationJob.namespace, {
        podSelector: { matchLabels: { ...args.rotationJob.podLabels } },
        policyTypes: ["Ingress", "Egress"],
        egress: [dns, apiServer],
      });
    }
    if (args.reloader) {
      policy("reloader", "reloader", "reloader", args.reloader.namespace, {
        podSelector: { matchLabels: { ...RELOADER_POD_LABELS } },
        policyTypes: ["Ingress", "Egress"],
        egress: [dns, apiServer],
      });
    }
    if (args.esoEgress === false) {
      this.registerOutputs({ policyNames: this.policyNames });
      return;
    }
    const egress: k8sInputs.networking.v1.NetworkPolicyEgressRule[] = [
      dns,
      apiServer,
      ...(args.vaultNamespace !== undefined
        ? [{ to: [{ namespaceSelector: byName(args.vaultNamespace), podSelector: { matchLabels: { ...VAULT_SERVER_POD_LABELS } } }], ports: [tcp(8200)] }]
        : []),
      ...(args.externalVaultPort !== undefined ? [{ to: [{ ipBlock: { cidr: "0.0.0.0/0" } }], ports: [tcp(args.externalVaultPort)] }] : []),
      ...(args.cloudApis ? [{ to: [{ ipBlock: { cidr: "0.0.0.0/0" } }], ports: [tcp(443)] }] : []),
    ];
    policy("esoEgress", "eso-egress", "eso-controller-egress", args.esoNamespace, {
      podSelector: { matchLabels: { ...ESO_CONTROLLER_POD_LABELS } },
      policyTypes: ["Egress"],
      egress,
    });
    policy("esoDefaultDeny", "eso-default-deny", "eso-default-deny", args.esoNamespace, {
      podSelector: {},
      policyTypes: ["Ingress", "Egress"],
      ...(args.esoMetrics ? { ingress: [{ ports: [tcp(ESO_METRICS_PORT)] }] } : {}),
    });
    policy("esoWebhook", "eso-webhook", "eso-webhook", args.esoNamespace, {
      podSelector: { matchLabels: { ...ESO_WEBHOOK_POD_LABELS } },
      policyTypes: ["Ingress", "Egress"],
      ingress: [{ ports: [tcp(ESO_WEBHOOK_PORT)] }],
      egress: [dns, apiServer],
    });
    policy("esoCertController", "eso-cert-controller", "eso-cert-controller-egress", args.esoNamespace, {
      podSelector: { matchLabels: { ...ESO_CERT_CONTROLLER_POD_LABELS } },
      policyTypes: ["Egress"],
      egress: [dns, apiServer],
    });
    this.registerOutputs({ policyNames: this.policyNames });
  }
}
