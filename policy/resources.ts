/**
 * Resource types the policies look at, and stack-level facts derived from a stack's resources
 * (its environment, its namespaces that hold secrets). Pure functions over plain data.
 */
import { type Plain, type PlainObject, Unknown, at, isObject, list } from "./props";

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

/**
 * Helm installs the policies judge by chart: `helm.sh/v3:Release` and `helm.sh/v4:Chart`, whose
 * props (`chart`, `version`, `values`, `namespace`, `repositoryOpts`) have the same shape.
 * `helm.sh/v3:Chart` is not among them: the Node SDK's v3 Chart is a local component whose
 * inputs never reach a policy pack (pulumi-kubernetes#2144); the objects it renders are judged
 * one by one.
 */
export function isHelmInstall(type: string): boolean {
  return type === T.release || type === T.chartV4;
}

/** The chart's name in one chart reference: its last path segment, without tag, digest or archive suffix. */
function chartNameOf(ref: string): string | undefined {
  let s = ref.trim();
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(s)) s = s.replace(/[?#].*$/, ""); // a URL's query or fragment
  s = s.replace(/[\\/]+$/, "");
  let name = s.slice(Math.max(s.lastIndexOf("/"), s.lastIndexOf("\\")) + 1);
  name = name.replace(/@sha256:[0-9a-f]+$/i, "").replace(/:[^:]*$/, ""); // oci://…/chart:1.2.3@sha256:…
  const archive = /^(.+?)(-v?\d+\.\d+\.\d+[0-9A-Za-z.+-]*)?\.(tgz|tar\.gz)$/i.exec(name);
  if (archive) name = archive[1];
  return name === "" ? undefined : name.toLowerCase();
}

/**
 * The names a Helm install's chart may go by, lower-cased: from `chart` (a repository chart
 * `name` or `repo/name`, `oci://registry/path/name[:tag]`, a local directory or `.tgz` archive,
 * an archive URL) and from `repositoryOpts.repo` when that is the chart's own URL (e.g. the OCI
 * reference with `chart` naming only a version or nothing). A policy keyed on a chart judges the
 * install when any of these names matches, so spelling the reference another way does not skip it.
 */
export function helmChartNames(props: Plain): string[] {
  const names = new Set<string>();
  for (const ref of [at(props, "chart"), at(props, "repositoryOpts", "repo")]) {
    const name = typeof ref === "string" ? chartNameOf(ref) : undefined;
    if (name) names.add(name);
  }
  return [...names];
}

/** The install's chart references, unknown at preview: a policy keyed on the chart cannot tell yet. */
export function helmChartUnknown(props: Plain): Unknown | undefined {
  for (const ref of [at(props, "chart"), at(props, "repositoryOpts", "repo")]) if (ref instanceof Unknown) return ref;
  return undefined;
}

/** Is this Helm install (v3 Release or v4 Chart) of the chart `chart` (e.g. `vault`, `external-secrets`)? */
export function isHelmChart(type: string, props: Plain, chart: string): boolean {
  return isHelmInstall(type) && helmChartNames(props).includes(chart);
}

/** Is this Helm release the HashiCorp Vault chart? */
export function isVaultRelease(type: string, props: Plain): boolean {
  return isHelmChart(type, props, "vault");
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
  return isHelmInstall(type) ? at(props, "namespace") : at(props, "metadata", "namespace");
}
