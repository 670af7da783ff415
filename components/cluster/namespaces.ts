/**
 * The platform's namespaces, each labelled for Pod Security Admission at the level its
 * workloads support, the ones that hold secrets protected in production.
 */
import * as k8sCore from "@pulumi/kubernetes/core/v1";
import { Provider } from "@pulumi/kubernetes/provider";
import * as pulumi from "@pulumi/pulumi";

/** Pod Security Standards levels (https://kubernetes.io/docs/concepts/security/pod-security-standards/). */
export type PodSecurityLevel = "privileged" | "baseline" | "restricted";

/**
 * Pod Security Admission labels for a level: `enforce` refuses violating pods, `audit` and
 * `warn` report them too (to the audit log and to the client), all against the latest
 * version of the standard.
 */
export function podSecurityLabels(level: PodSecurityLevel): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const mode of ["enforce", "audit", "warn"]) {
    labels[`pod-security.kubernetes.io/${mode}`] = level;
    labels[`pod-security.kubernetes.io/${mode}-version`] = "latest";
  }
  return labels;
}

/** `externalSecrets` → `external-secrets`. */
function kebabCase(role: string): string {
  return role.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

export interface NamespacesArgs {
  /** Namespace names to create, by role (e.g. `{ workloads: "veza-staging" }`). */
  names: Record<string, string>;
  /** Roles whose namespace holds secrets: protected from deletion when `protect` is true. */
  holdSecrets: readonly string[];
  /** Labels on every namespace, on top of the Kubernetes recommended ones. */
  labels?: Record<string, string>;
  /**
   * Pod Security Admission level per role, enforced (and audited, warned) with the latest
   * standard. Required for every role in `names`: a namespace without one admits privileged
   * pods (CIS Kubernetes 5.2).
   */
  podSecurity: Record<string, PodSecurityLevel>;
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
    const missing = Object.keys(args.names).filter((role) => !args.podSecurity[role]);
    if (missing.length > 0)
      throw new pulumi.ResourceError(
        `[podSecurity] has no level for ${missing.join(", ")}: give each namespace "restricted", "baseline" or "privileged".`,
        this,
      );
    for (const [role, nsName] of Object.entries(args.names)) {
      const secretBearing = args.holdSecrets.includes(role);
      // Child names are kebab-case (`namespaces-external-secrets`); a role written in camelCase
      // was once used verbatim (`namespaces-externalSecrets`), so that name stays an alias.
      const childName = `${name}-${kebabCase(role)}`;
      const aliases = childName === `${name}-${role}` ? [] : [{ name: `${name}-${role}` }];
      const ns = new k8sCore.Namespace(
        childName,
        {
          metadata: {
            name: nsName,
            labels: {
              "app.kubernetes.io/name": nsName,
              "app.kubernetes.io/part-of": "veza",
              "app.kubernetes.io/managed-by": "pulumi",
              ...args.labels,
              ...podSecurityLabels(args.podSecurity[role]),
            },
          },
        },
        // Namespaces that hold secrets: deleting one deletes every Secret in it.
        { parent: this, aliases, provider: args.provider, protect: secretBearing && (args.protect ?? false) },
      );
      this.names[role] = ns.metadata.name;
    }
    this.registerOutputs({ names: this.names });
  }
}
