/**
 * The Kubernetes ServiceAccount a cloud backend trusts, checked once for all of them: each puts
 * it in the identity its trust binds (IRSA's `sub`, Workload Identity's member, a federated
 * credential's subject), so a malformed one would bind nothing, or another subject.
 */
import { DNS_LABEL, DNS_SUBDOMAIN } from "../rules";

/** A ServiceAccount by namespace and name. */
export interface ServiceAccountRef {
  namespace: string;
  name: string;
}

/**
 * Why `account` is not a ServiceAccount reference (namespace a DNS label, name a DNS
 * subdomain), with `field` as the argument's name; undefined when it is one.
 */
export function serviceAccountRefError(field: string, account: ServiceAccountRef): string | undefined {
  if (!DNS_LABEL.test(account.namespace)) return `[${field}.namespace] must be a Kubernetes namespace name (DNS label); got "${account.namespace}".`;
  if (!DNS_SUBDOMAIN.test(account.name)) return `[${field}.name] must be a Kubernetes ServiceAccount name (DNS subdomain); got "${account.name}".`;
  return undefined;
}
