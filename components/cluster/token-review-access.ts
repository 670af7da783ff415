/**
 * `system:auth-delegator` for the ServiceAccounts that log in to a Vault running outside the
 * cluster. Such a Vault has no pod token to review logins with, so each login's own token is
 * sent with its TokenReview (Vault's `disable_local_ca_jwt`, no stored reviewer JWT): the
 * account that logs in must be allowed to create TokenReviews (and SubjectAccessReviews,
 * which the same role grants). Nothing else: the role reads no object.
 *
 * These accounts are identities only (no pod may run as them: ServiceAccountGuard), so the
 * grant never reaches a workload.
 */
import { Provider } from "@pulumi/kubernetes/provider";
import { ClusterRoleBinding } from "@pulumi/kubernetes/rbac/v1/clusterRoleBinding";
import * as pulumi from "@pulumi/pulumi";
import { DNS_LABEL, DNS_SUBDOMAIN } from "../rules";

export interface TokenReviewAccessArgs {
  /** Name of the ClusterRoleBinding, e.g. `veza-production-vault-token-review` (cluster-wide: carry the environment). */
  bindingName: string;
  /** The ServiceAccounts that log in to Vault. At least one; names, no `*`. */
  serviceAccounts: { namespace: pulumi.Input<string>; name: string }[];
  /** Labels on the binding. */
  labels?: Record<string, string>;
  provider?: Provider;
}

/** Problems with the args, each naming the argument. Empty: valid. */
export function tokenReviewAccessErrors(args: Pick<TokenReviewAccessArgs, "bindingName" | "serviceAccounts">): string[] {
  const errors: string[] = [];
  if (!DNS_SUBDOMAIN.test(args.bindingName)) errors.push(`[bindingName] must be a DNS subdomain; got ${JSON.stringify(args.bindingName)}.`);
  if (args.serviceAccounts.length === 0) errors.push("[serviceAccounts] must name at least one ServiceAccount.");
  for (const sa of args.serviceAccounts)
    if (!DNS_LABEL.test(sa.name)) errors.push(`[serviceAccounts] must list ServiceAccount names (no "*"); got ${JSON.stringify(sa.name)}.`);
  return errors;
}

/** One ClusterRoleBinding of `system:auth-delegator` to the given ServiceAccounts. */
export class TokenReviewAccess extends pulumi.ComponentResource {
  public readonly bindingName: pulumi.Output<string>;

  constructor(name: string, args: TokenReviewAccessArgs, opts?: pulumi.ComponentResourceOptions) {
    super("veza:cluster:TokenReviewAccess", name, {}, opts);
    const errors = tokenReviewAccessErrors(args);
    if (errors.length > 0) throw new pulumi.ResourceError(errors.join(" "), this);
    const binding = new ClusterRoleBinding(
      name,
      {
        metadata: { name: args.bindingName, labels: { "app.kubernetes.io/managed-by": "pulumi", ...args.labels } },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "system:auth-delegator" },
        subjects: args.serviceAccounts.map((sa) => ({ kind: "ServiceAccount", name: sa.name, namespace: sa.namespace })),
      },
      { parent: this, provider: args.provider },
    );
    this.bindingName = binding.metadata.name;
    this.registerOutputs({ bindingName: this.bindingName });
  }
}
