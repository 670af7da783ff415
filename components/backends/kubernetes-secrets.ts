/**
 * The spec's option 1, no operator: the program writes the Kubernetes Secrets the services
 * read directly, with exactly the names and keys External Secrets Operator would produce
 * (`veza-secrets` and one per service), so workloads cannot tell the two apart and a stack
 * can move between them without touching a Deployment.
 *
 * Values travel only as Pulumi secrets: `stringData` is wrapped as a whole, so the state
 * file holds it encrypted and previews show `[secret]`.
 */
import * as pulumi from "@pulumi/pulumi";
import * as corev1 from "@pulumi/kubernetes/core/v1";
import type { Provider } from "@pulumi/kubernetes/provider";
import { DNS_SUBDOMAIN } from "../rules";

/** One Kubernetes Secret. */
export interface KubernetesSecretSpec {
  /** Secret name (DNS-1123 subdomain), e.g. `veza-secrets`. Unique within the component. */
  name: string;
  /** Key → value. Keys use letters, digits, `-`, `_` and `.`; values may be Pulumi secrets or plain. */
  data: Record<string, pulumi.Input<string>>;
}

export interface KubernetesSecretsArgs {
  /** Namespace of the Secrets (the workloads' namespace). Created by the caller. */
  namespace: pulumi.Input<string>;
  /** Secrets to write, `type: Opaque`, one Kubernetes Secret each. */
  secrets: KubernetesSecretSpec[];
  /** Labels on every Secret. */
  labels?: Record<string, string>;
  /**
   * Annotations on every Secret, e.g. `RELOADER_SECRET_ANNOTATIONS` so Stakater Reloader
   * restarts the workloads that read them when a value changes.
   */
  annotations?: Record<string, string>;
  /**
   * Protect the Secrets, so deleting the stack or the component fails instead of removing
   * what running pods need on their next start. Default `false`.
   */
  protect?: boolean;
  /** Kubernetes provider for the target cluster. Default: the stack's default provider. */
  provider?: Provider;
}

/** Opaque Kubernetes Secrets written by the program. */
export class KubernetesSecrets extends pulumi.ComponentResource {
  /** Names of the Secrets, in argument order. */
  public readonly secretNames: string[];

  constructor(name: string, args: KubernetesSecretsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("veza:secrets:KubernetesSecrets", name, {}, opts);
    this.validate(args.secrets);
    // Pods read these on start: deleting one with the stack would break the next rollout.
    const childOpts = pulumi.mergeOptions({ parent: this, provider: args.provider }, { protect: args.protect ?? false });
    for (const spec of args.secrets) {
      new corev1.Secret(
        `${name}-${spec.name}`,
        {
          metadata: { name: spec.name, namespace: args.namespace, labels: args.labels, annotations: args.annotations },
          type: "Opaque",
          stringData: pulumi.secret(spec.data),
        },
        childOpts,
      );
    }
    this.secretNames = args.secrets.map((s) => s.name);
    this.registerOutputs({ secretNames: this.secretNames });
  }

  private validate(secrets: KubernetesSecretSpec[]): void {
    const seen = new Set<string>();
    for (const spec of secrets) {
      if (!DNS_SUBDOMAIN.test(spec.name)) {
        throw new pulumi.ResourceError(
          `[secrets] name "${spec.name}" must be a DNS-1123 subdomain (lower-case letters, digits, "-" and "."), such as "veza-secrets".`,
          this,
        );
      }
      if (seen.has(spec.name)) throw new pulumi.ResourceError(`[secrets] name "${spec.name}" appears twice; merge the two entries' data.`, this);
      seen.add(spec.name);
      for (const key of Object.keys(spec.data)) {
        if (!/^[-._a-zA-Z0-9]+$/.test(key) || key.length > 253) {
          throw new pulumi.ResourceError(
            `[secrets] "${spec.name}" key "${key}" may hold only letters, digits, "-", "_" and ".", at most 253 characters.`,
            this,
          );
        }
      }
    }
  }
}
