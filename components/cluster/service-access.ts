/**
 * One ServiceAccount per Veza service (no automounted token) and Roles that let each read
 * exactly its own Secrets and the shared one, by name.
 */
import * as k8sCore from "@pulumi/kubernetes/core/v1";
import * as k8sRbac from "@pulumi/kubernetes/rbac/v1";
import { Provider } from "@pulumi/kubernetes/provider";
import * as pulumi from "@pulumi/pulumi";

export interface ServiceAccessArgs {
  /** Namespace of the services. Created by the caller. */
  namespace: pulumi.Input<string>;
  /** Per service: its ServiceAccount name and the Secret names it may read, shared first. */
  services: { name: string; serviceAccount: string; secrets: string[] }[];
  /** Secret every service reads (the spec's `veza-secrets`): one `secrets-reader` Role for it. */
  sharedSecret: string;
  /** Labels on every object. */
  labels?: Record<string, string>;
  provider?: Provider;
}

/**
 * The spec's "Limit access with RBAC": a ServiceAccount per service and read-only access
 * (`get`, `list`) to exactly the Secrets each service needs, by `resourceNames`.
 * `secrets-reader` covers the shared Secret and is bound to every service;
 * `secrets-reader-<service>` covers a service's own Secret and is bound to it alone.
 */
export class ServiceAccess extends pulumi.ComponentResource {
  /** ServiceAccount names by service. */
  public readonly serviceAccounts: Record<string, pulumi.Output<string>>;

  constructor(name: string, args: ServiceAccessArgs, opts?: pulumi.ComponentResourceOptions) {
    super("veza:cluster:ServiceAccess", name, {}, opts);
    const child = { parent: this, provider: args.provider };
    const labels = { "app.kubernetes.io/part-of": "veza", "app.kubernetes.io/managed-by": "pulumi", ...args.labels };

    this.serviceAccounts = {};
    const accounts: Record<string, k8sCore.ServiceAccount> = {};
    for (const svc of args.services) {
      accounts[svc.name] = new k8sCore.ServiceAccount(
        `${name}-${svc.name}`,
        // Pods read their Secrets through the kubelet; an API token is only mounted where asked for.
        {
          metadata: { name: svc.serviceAccount, namespace: args.namespace, labels: { ...labels, "app.kubernetes.io/name": svc.serviceAccount } },
          automountServiceAccountToken: false,
        },
        child,
      );
      this.serviceAccounts[svc.name] = accounts[svc.name].metadata.name;
    }

    const reader = (roleName: string, secretNames: string[], subjects: string[], suffix: string): void => {
      const role = new k8sRbac.Role(
        `${name}-${suffix}`,
        {
          metadata: { name: roleName, namespace: args.namespace, labels },
          rules: [{ apiGroups: [""], resources: ["secrets"], resourceNames: secretNames, verbs: ["get", "list"] }],
        },
        child,
      );
      new k8sRbac.RoleBinding(
        `${name}-${suffix}`,
        {
          metadata: { name: roleName, namespace: args.namespace, labels },
          roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.metadata.name },
          subjects: subjects.map((s) => ({ kind: "ServiceAccount", name: accounts[s].metadata.name, namespace: args.namespace })),
        },
        child,
      );
    };

    reader(
      "secrets-reader",
      [args.sharedSecret],
      args.services.map((s) => s.name),
      "secrets-reader",
    );
    for (const svc of args.services) {
      const own = svc.secrets.filter((s) => s !== args.sharedSecret);
      if (own.length) reader(`secrets-reader-${svc.name}`, own, [svc.name], `secrets-reader-${svc.name}`);
    }
    this.registerOutputs({ serviceAccounts: this.serviceAccounts });
  }
}
