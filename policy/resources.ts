/**
 * Resource types the policies look at, and stack-level facts derived from a stack's resources
 * (its environment, its namespaces that hold secrets). Pure functions over plain data.
 */
import { type Plain, type PlainObject, Unknown, at, isObject, list, str } from "./props";

export const ENVIRONMENTS = ["development", "staging", "production"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];
/** Label every Namespace of the program carries (stacks/platform.ts): the stack's environment. */
export const ENVIRONMENT_LABEL = "veza.io/environment";

export const T = {
  namespace: "kubernetes:core/v1:Namespace",
  secret: "kubernetes:core/v1:Secret",
  configMap: "kubernetes:core/v1:ConfigMap",
  role: "kubernetes:rbac.authorization.k8s.io/v1:Role",
  roleBinding: "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
  clusterRole: "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole",
  clusterRoleBinding: "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding",
  release: "kubernetes:helm.sh/v3:Release",
  chartV4: "kubernetes:helm.sh/v4:Chart",
  vaultPolicy: "vault:index/policy:Policy",
  vaultAudit: "vault:index/audit:Audit",
  awsSecret: "aws:secretsmanager/secret:Secret",
  awsKmsKey: "aws:kms/key:Key",
  awsRolePolicy: "aws:iam/rolePolicy:RolePolicy",
  awsPolicy: "aws:iam/policy:Policy",
  gcpSecret: "gcp:secretmanager/secret:Secret",
  gcpSecretIamMember: "gcp:secretmanager/secretIamMember:SecretIamMember",
  gcpSecretIamBinding: "gcp:secretmanager/secretIamBinding:SecretIamBinding",
  azureVault: "azure-native:keyvault:Vault",
  azureSecret: "azure-native:keyvault:Secret",
  azureRoleAssignment: "azure-native:authorization:RoleAssignment",
  randomPassword: "random:index/randomPassword:RandomPassword",
  generatedKeys: "veza:secrets:GeneratedKeys",
} as const;

/** ESO kinds, any served API version (`external-secrets.io/v1`, `v1beta1`). */
export function isEsoKind(type: string, kind: "ExternalSecret" | "SecretStore" | "ClusterSecretStore" | "ClusterExternalSecret"): boolean {
  return new RegExp(`^kubernetes:external-secrets\\.io/v1(beta1|alpha1)?:${kind}$`).test(type);
}

/** Project-, folder- and organisation-level IAM grants in Google Cloud. */
export const GCP_BROAD_IAM = /^gcp:(projects|folder|organizations)\/iAM(Member|Binding|Policy):IAM(Member|Binding|Policy)$/;

/** Where each workload kind keeps its pod spec. */
const POD_SPEC_PATHS: Record<string, string[]> = {
  "kubernetes:core/v1:Pod": ["spec"],
  "kubernetes:apps/v1:Deployment": ["spec", "template", "spec"],
  "kubernetes:apps/v1:StatefulSet": ["spec", "template", "spec"],
  "kubernetes:apps/v1:DaemonSet": ["spec", "template", "spec"],
  "kubernetes:apps/v1:ReplicaSet": ["spec", "template", "spec"],
  "kubernetes:batch/v1:Job": ["spec", "template", "spec"],
  "kubernetes:batch/v1:CronJob": ["spec", "jobTemplate", "spec", "template", "spec"],
};

export const WORKLOAD_TYPES = Object.keys(POD_SPEC_PATHS);

/** Where a workload kind keeps its pod spec, or `undefined` for other types. */
export function podSpecPath(type: string): string[] | undefined {
  return POD_SPEC_PATHS[type];
}

/** A workload's containers (init, ephemeral and regular), each with its path for messages. */
export function podContainers(type: string, props: Plain): { path: string; container: PlainObject }[] {
  const specPath = POD_SPEC_PATHS[type];
  if (!specPath) return [];
  const spec = at(props, ...specPath);
  const out: { path: string; container: PlainObject }[] = [];
  for (const field of ["initContainers", "containers", "ephemeralContainers"]) {
    list(at(spec, field)).forEach((c, i) => {
      if (isObject(c)) out.push({ path: `${specPath.join(".")}.${field}[${i}]`, container: c });
    });
  }
  return out;
}

/** Is this Helm release the HashiCorp Vault chart? */
export function isVaultRelease(type: string, props: Plain): boolean {
  if (type !== T.release && type !== T.chartV4) return false;
  const chart = str(at(props, "chart"));
  return chart !== undefined && /(^|\/)vault$/.test(chart);
}

/** The minimum a stack policy needs of a resource. */
export interface StackResource {
  type: string;
  urn: string;
  name: string;
  props: Plain;
  protect: boolean;
}

/**
 * The stack's environment from its Namespaces' `veza.io/environment` labels. `undefined` when
 * no Namespace carries the label; `conflict` lists the values when they disagree.
 */
export function stackEnvironment(resources: readonly StackResource[]): { env?: Environment; conflict?: string[]; unknown?: Unknown } {
  const seen = new Set<string>();
  let unknown: Unknown | undefined;
  for (const r of resources) {
    if (r.type !== T.namespace) continue;
    const v = at(r.props, "metadata", "labels", ENVIRONMENT_LABEL);
    if (v instanceof Unknown) unknown ??= v;
    else if (typeof v === "string") seen.add(v);
  }
  if (seen.size > 1) return { conflict: [...seen].sort() };
  const [only] = [...seen];
  if (only === undefined) return { unknown };
  if (!(ENVIRONMENTS as readonly string[]).includes(only)) return { conflict: [only] };
  return { env: only as Environment };
}

/** Namespace name of a namespaced object (`metadata.namespace`) or a Helm release (`namespace`). */
export function namespaceOf(type: string, props: Plain): Plain {
  return type === T.release || type === T.chartV4 ? at(props, "namespace") : at(props, "metadata", "namespace");
}
