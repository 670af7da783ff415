import * as k8sCore from "@pulumi/kubernetes/core/v1";
import { Provider } from "@pulumi/kubernetes/provider";
import * as pulumi from "@pulumi/pulumi";

export interface NamespacesArgs {
  /** Namespace names to create, by role (e.g. `{ workloads: "veza-staging" }`). */
  names: Record<string, string>;
  /** Roles whose namespace holds secrets: protected from deletion when `protect` is true. */
  holdSecrets: readonly string[];
  /** Labels on every namespace, on top of the Kubernetes recommended ones. */
  labels?: Record<string, string>;
  /** Protect the namespaces that hold secrets from `pulumi destroy`. Default `false`. */
  protect?: boolean;
  /** Kubernetes provider. Default: the ambient kubeconfig context. */
  provider?: Provider;
}

/** The platform's namespaces, with the Kubernetes recommended labels. */
export class Namespaces extends pulumi.ComponentResource {
  /** Namespace names by role, known once each namespace exists (use them as dependencies). */
  public readonly names: Record<string, pulumi.Output<string>>;

  constructor(name: string, args: NamespacesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("veza:cluster:Namespaces", name, {}, opts);
    this.names = {};
    for (const [role, nsName] of Object.entries(args.names)) {
      const secretBearing = args.holdSecrets.includes(role);
      const ns = new k8sCore.Namespace(
        `${name}-${role}`,
        {
          metadata: {
            name: nsName,
            labels: {
              "app.kubernetes.io/name": nsName,
              "app.kubernetes.io/part-of": "veza",
              "app.kubernetes.io/managed-by": "pulumi",
              ...args.labels,
            },
          },
        },
        // Namespaces that hold secrets: deleting one deletes every Secret in it.
        { parent: this, provider: args.provider, protect: secretBearing && (args.protect ?? false) },
      );
      this.names[role] = ns.metadata.name;
    }
    this.registerOutputs({ names: this.names });
  }
}
