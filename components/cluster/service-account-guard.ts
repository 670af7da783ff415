/**
 * Keeps pods off the ServiceAccounts that are identities, not workloads: the SecretStores'
 * accounts (Vault, AWS, GCP and Azure trust a token of `eso-vault-store`, whoever holds it)
 * and the rotation job's. Anyone who may create pods in the namespace could otherwise run a
 * pod as `eso-vault-store`, read its projected token (audience `vault`) and read every secret
 * the store can, which makes the per-service `resourceNames` Roles pointless.
 *
 * One ValidatingAdmissionPolicy (admissionregistration.k8s.io/v1, GA in Kubernetes 1.30) and
 * its binding, scoped to one namespace:
 * - a pod may never run as one of `identityServiceAccounts` (ESO mints their tokens with the
 *   TokenRequest API; no pod needs them);
 * - a pod may run as one of `jobServiceAccounts` only when the Job controller creates it
 *   (`system:serviceaccount:kube-system:job-controller`, or `system:kube-controller-manager`
 *   where the controller manager runs without per-controller credentials): a person who can
 *   create pods, or Jobs in another namespace, cannot borrow the rotation job's RBAC. Someone
 *   who can create Jobs or CronJobs in this namespace still can: RBAC must keep those verbs
 *   to the deployer.
 * - a token of one of `jobServiceAccounts` may be requested (TokenRequest, `serviceaccounts/token`)
 *   only by a kubelet (`system:node:<node>`), for the projected token of a pod it runs: without
 *   this, anyone allowed `kubectl create token` in the namespace could mint the CronJob's
 *   identity without running a pod at all. A second policy (`veza-job-token-guard-<namespace>`),
 *   because its requests carry a TokenRequest, not a pod.
 *
 * - a pod may reference a Secret of `secretOwners` (a `secret` or `projected` volume, `env`
 *   `secretKeyRef`, `envFrom` `secretRef`, in any container, init container or ephemeral
 *   container) only when it runs as one of that Secret's owners: RBAC keeps a service from
 *   *reading* another's Secret through the API, but anyone who may create pods in the namespace
 *   could otherwise *mount* it (the kubelet reads it for the pod). Secrets not listed are left
 *   to RBAC.
 *
 * Checked on pod creation and on `kubectl debug` (the `pods/ephemeralcontainers` update): an
 * ephemeral container shares its pod's ServiceAccount and may name Secrets of its own.
 *
 * `failurePolicy: Fail`: if the policy cannot be evaluated, the pod is refused rather than
 * let through.
 */
import * as k8sAdmission from "@pulumi/kubernetes/admissionregistration/v1";
import { Provider } from "@pulumi/kubernetes/provider";
import * as pulumi from "@pulumi/pulumi";
import { DNS_SUBDOMAIN } from "../rules";
import { namespaceBinding } from "./admission-binding";

/** Users the kube-controller-manager's Job controller creates pods as. */
export const JOB_CONTROLLER_USERS = ["system:serviceaccount:kube-system:job-controller", "system:kube-controller-manager"] as const;

export interface ServiceAccountGuardArgs {
  /** The namespace whose pods are checked. Created by the caller. */
  namespace: pulumi.Input<string>;
  /** ServiceAccounts no pod may use (the SecretStores' accounts). Names, at least one with `jobServiceAccounts`. */
  identityServiceAccounts: string[];
  /** ServiceAccounts only pods created by the Job controller may use, and whose tokens only kubelets may request (a CronJob's). Default: none. */
  jobServiceAccounts?: string[];
  /** Secret name → the ServiceAccounts whose pods may reference it (a service's own Secret: that service's account). Default: none. */
  secretOwners?: Record<string, string[]>;
  /** Labels on both objects. */
  labels?: Record<string, string>;
  provider?: Provider;
}

function celList(names: readonly string[]): string {
  return `[${names.map((n) => `'${n}'`).join(", ")}]`;
}

/** The pod's ServiceAccount, as the API server defaults it. */
const POD_SA = "(has(object.spec.serviceAccountName) ? object.spec.serviceAccountName : 'default')";

/** CEL: the Secret named by `ref` (an optional string field) is not an owned one, or the pod runs as one of its owners. */
function mayUse(ref: string): string {
  return `(!has(${ref}) || !(${ref} in variables.secretOwners) || variables.serviceAccount in variables.secretOwners[${ref}])`;
}

/** CEL: every Secret a container (`c`) names in env or envFrom is one the pod may use. */
function containerRefs(c: string): string {
  return (
    `(!has(${c}.env) || ${c}.env.all(e, !has(e.valueFrom) || !has(e.valueFrom.secretKeyRef) || ${mayUse("e.valueFrom.secretKeyRef.name")})) && ` +
    `(!has(${c}.envFrom) || ${c}.envFrom.all(e, !has(e.secretRef) || ${mayUse("e.secretRef.name")}))`
  );
}

/** The policy's variables (CEL), referenced by the validations. Pure, for tests. */
export function guardVariables(secretOwners: Readonly<Record<string, readonly string[]>> = {}): { name: string; expression: string }[] {
  const owners = Object.entries(secretOwners)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([secret, accounts]) => `'${secret}': ${celList([...accounts].sort())}`);
  return [
    { name: "serviceAccount", expression: POD_SA },
    { name: "secretOwners", expression: `{${owners.join(", ")}}` },
  ];
}

/** The policy's validations: CEL expressions (true = allowed) with their messages. Pure, for tests. */
export function guardValidations(
  identity: readonly string[],
  jobOnly: readonly string[],
  secretOwners: Readonly<Record<string, readonly string[]>> = {},
): { expression: string; message: string }[] {
  for (const n of [...identity, ...jobOnly, ...Object.keys(secretOwners), ...Object.values(secretOwners).flat()]) {
    if (!DNS_SUBDOMAIN.test(n)) throw new Error(`ServiceAccount and Secret names must be DNS names (no quotes, no "*"); got ${JSON.stringify(n)}.`);
  }
  const sa = "variables.serviceAccount";
  const out: { expression: string; message: string }[] = [];
  if (identity.length > 0) {
    out.push({
      expression: `!(${sa} in ${celList(identity)})`,
      message: `pods may not run as a SecretStore's ServiceAccount (${identity.join(", ")}): it is the identity the secret backends trust; External Secrets Operator mints its tokens itself.`,
    });
  }
  if (jobOnly.length > 0) {
    out.push({
      // An ephemeral container added later (kubectl debug, an UPDATE of pods/ephemeralcontainers)
      // is never the Job controller's doing. Not `request.subResource == ''`: the API server
      // leaves the key out of a request without one, and reading it is an error, so the Job
      // controller's own pods were refused (seen by npm run e2e:raft).
      expression: `!(${sa} in ${celList(jobOnly)}) || (request.operation == 'CREATE' && request.userInfo.username in ${celList(JOB_CONTROLLER_USERS)})`,
      message: `only the Job controller may create pods as ${jobOnly.join(", ")} (a CronJob's account); create a Job from the CronJob instead (kubectl create job --from=cronjob/<CRONJOB> <NEW-JOB-NAME>).`,
    });
  }
  if (Object.keys(secretOwners).length > 0) {
    const owned = Object.entries(secretOwners)
      .map(([secret, accounts]) => `${secret} (${accounts.join(", ")})`)
      .join(", ");
    const message = `a pod may reference a service's Secret only when it runs as that service's ServiceAccount: ${owned}.`;
    out.push(
      {
        expression:
          "!has(object.spec.volumes) || object.spec.volumes.all(v, " +
          `(!has(v.secret) || ${mayUse("v.secret.secretName")}) && ` +
          `(!has(v.projected) || !has(v.projected.sources) || v.projected.sources.all(s, !has(s.secret) || ${mayUse("s.secret.name")})))`,
        message: `volumes: ${message}`,
      },
      {
        expression:
          `object.spec.containers.all(c, ${containerRefs("c")}) && ` +
          `(!has(object.spec.initContainers) || object.spec.initContainers.all(c, ${containerRefs("c")})) && ` +
          `(!has(object.spec.ephemeralContainers) || object.spec.ephemeralContainers.all(c, ${containerRefs("c")}))`,
        message: `environment: ${message}`,
      },
    );
  }
  return out;
}

/** Users a kubelet authenticates as (the Node authorizer's and NodeRestriction's convention). */
export const KUBELET_USER_PREFIX = "system:node:";

/** The token policy's validations: only a kubelet may request a token of `jobOnly`. Pure, for tests. */
export function tokenValidations(jobOnly: readonly string[]): { expression: string; message: string }[] {
  for (const n of jobOnly) {
    if (!DNS_SUBDOMAIN.test(n)) throw new Error(`ServiceAccount names must be DNS names (no quotes, no "*"); got ${JSON.stringify(n)}.`);
  }
  return [
    {
      expression: `!(request.name in ${celList(jobOnly)}) || request.userInfo.username.startsWith('${KUBELET_USER_PREFIX}')`,
      message: `only a kubelet may request a token of ${jobOnly.join(", ")} (a CronJob's account; its pods get theirs projected); run the CronJob instead of kubectl create token.`,
    },
  ];
}

/** A ValidatingAdmissionPolicy and binding that keep pods off the namespace's identity ServiceAccounts. */
export class ServiceAccountGuard extends pulumi.ComponentResource {
  /** The policy's name (cluster-scoped). */
  public readonly policyName: pulumi.Output<string>;
  /** The token policy's name, when there are `jobServiceAccounts`. */
  public readonly tokenPolicyName?: pulumi.Output<string>;

  constructor(name: string, args: ServiceAccountGuardArgs, opts?: pulumi.ComponentResourceOptions) {
    super("veza:cluster:ServiceAccountGuard", name, {}, opts);
    const jobOnly = args.jobServiceAccounts ?? [];
    const owners = args.secretOwners ?? {};
    if (args.identityServiceAccounts.length + jobOnly.length + Object.keys(owners).length === 0) {
      throw new pulumi.ResourceError(
        "[identityServiceAccounts] is empty and so are [jobServiceAccounts] and [secretOwners]: name what to guard, or do not create the guard.",
        this,
      );
    }
    let validations: { expression: string; message: string }[];
    try {
      validations = guardValidations(args.identityServiceAccounts, jobOnly, owners);
    } catch (e) {
      throw new pulumi.ResourceError(`[identityServiceAccounts] ${(e as Error).message}`, this);
    }
    const labels = { "app.kubernetes.io/part-of": "veza", "app.kubernetes.io/managed-by": "pulumi", ...args.labels };
    const child = { parent: this, provider: args.provider };
    // Cluster-scoped objects: the namespace in the name keeps environments sharing a cluster apart.
    const objectName = pulumi.output(args.namespace).apply((ns) => `veza-service-account-guard-${ns}`);

    const policy = new k8sAdmission.ValidatingAdmissionPolicy(
      name,
      {
        metadata: { name: objectName, labels },
        spec: {
          failurePolicy: "Fail",
          matchConstraints: {
            resourceRules: [
              { apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["pods"] },
              { apiGroups: [""], apiVersions: ["v1"], operations: ["UPDATE"], resources: ["pods/ephemeralcontainers"] },
            ],
          },
          variables: guardVariables(owners),
          validations,
        },
      },
      child,
    );
    namespaceBinding(name, { objectName, policyName: policy.metadata.name, namespace: args.namespace, labels }, child);
    this.policyName = policy.metadata.name;
    this.tokenPolicyName = jobOnly.length > 0 ? this.tokenGuard(name, jobOnly, args.namespace, labels, child) : undefined;
    this.registerOutputs({ policyName: this.policyName, tokenPolicyName: this.tokenPolicyName });
  }

  /** The second policy: tokens of the Job-only accounts for kubelets alone. */
  private tokenGuard(
    name: string,
    jobOnly: string[],
    namespace: pulumi.Input<string>,
    labels: Record<string, string>,
    child: pulumi.CustomResourceOptions,
  ): pulumi.Output<string> {
    const objectName = pulumi.output(namespace).apply((ns) => `veza-job-token-guard-${ns}`);
    const policy = new k8sAdmission.ValidatingAdmissionPolicy(
      `${name}-tokens`,
      {
        metadata: { name: objectName, labels },
        spec: {
          failurePolicy: "Fail",
          matchConstraints: {
            resourceRules: [{ apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["serviceaccounts/token"] }],
          },
          validations: tokenValidations(jobOnly),
        },
      },
      child,
    );
    namespaceBinding(`${name}-tokens`, { objectName, policyName: policy.metadata.name, namespace, labels }, child);
    return policy.metadata.name;
  }
}
