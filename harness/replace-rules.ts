/**
 * Which input changes make a provider replace a resource instead of updating it, for every
 * custom resource type the program registers: the offline diff's answer to "update or
 * replace?". No provider schema ships in node_modules (the SDKs carry no force-new
 * metadata), so the table is copied from the providers' own sources, cited per entry; a type
 * missing here, or a property of a type whose table is partial, is reported as "update or
 * replace: the offline plan does not know this provider's replace rules", never guessed.
 * `test/plan-replace.test.ts` fails when the program registers a type this table lacks.
 *
 * Not modelled: the `replaceOnChanges` and `deleteBeforeReplace` resource options (the program
 * sets neither; the mocks do not record them), and provider-side diffs of computed state.
 */

/** How a provider treats a change to a resource's inputs. */
export interface ReplaceRule {
  /**
   * Input paths (dotted, as the plan flattens them) whose change replaces the resource; a path
   * covers everything under it. `"*"`: every input.
   */
  replaceOn: readonly string[] | "*";
  /** True when every other input updates in place; false when only some of the provider's rules are known. */
  complete: boolean;
  /** Where the rule comes from. */
  source: string;
}

/** What one changed input does. */
export type ChangeKind = "replace" | "update" | "unknown";

const K8S_SOURCE = "pulumi-kubernetes provider/pkg/provider/diff.go (forceNewProperties)";
const VAULT_SOURCE = "terraform-provider-vault schema (ForceNew), every resource's `namespace` included";
const AWS_SOURCE = "terraform-provider-aws schema (ForceNew); `region` forces replacement (provider 6+, guides/enhanced-region-support)";
const GCP_SOURCE = "terraform-provider-google schema (ForceNew)";
const AZURE_SOURCE = "azure-native: the resource's ARM path parameters only; its other replace rules are not in this table";

/** Kubernetes: every object is replaced when its name or namespace changes, plus per-kind immutable fields. */
function k8s(...extra: string[]): ReplaceRule {
  return { replaceOn: ["metadata.name", "metadata.namespace", ...extra], complete: true, source: K8S_SOURCE };
}
function vault(...replaceOn: string[]): ReplaceRule {
  return { replaceOn: [...replaceOn, "namespace"], complete: true, source: VAULT_SOURCE };
}
function aws(...replaceOn: string[]): ReplaceRule {
  return { replaceOn, complete: true, source: AWS_SOURCE };
}
function gcp(...replaceOn: string[]): ReplaceRule {
  return { replaceOn, complete: true, source: GCP_SOURCE };
}
function azure(...replaceOn: string[]): ReplaceRule {
  return { replaceOn, complete: false, source: AZURE_SOURCE };
}

/** By resource type token. */
export const REPLACE_RULES: Record<string, ReplaceRule> = {
  // pulumi-random: every input of RandomPassword is RequiresReplace (terraform-provider-random
  // internal/provider/resource_password.go): a new length or keeper is a new password.
  "random:index/randomPassword:RandomPassword": { replaceOn: "*", complete: true, source: "terraform-provider-random (every attribute RequiresReplace)" },

  "kubernetes:core/v1:Namespace": k8s(),
  "kubernetes:core/v1:ServiceAccount": k8s(),
  // Data and type too while the provider's enableSecretMutable is off (the default; no stack sets it).
  "kubernetes:core/v1:Secret": k8s("type", "data", "stringData"),
  "kubernetes:core/v1:PersistentVolumeClaim": k8s("spec.accessModes", "spec.selector", "spec.storageClassName", "spec.volumeName"),
  "kubernetes:rbac.authorization.k8s.io/v1:Role": k8s(),
  "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding": k8s("roleRef"),
  "kubernetes:networking.k8s.io/v1:NetworkPolicy": k8s(),
  "kubernetes:batch/v1:CronJob": k8s(),
  "kubernetes:batch/v1:Job": k8s("spec.completions", "spec.parallelism", "spec.selector", "spec.template"),
  "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy": k8s(),
  "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding": k8s(),
  "kubernetes:external-secrets.io/v1:ExternalSecret": k8s(),
  "kubernetes:external-secrets.io/v1:SecretStore": k8s(),
  "kubernetes:generators.external-secrets.io/v1alpha1:VaultDynamicSecret": k8s(),
  // helm_release.go Diff: forceNewFields := {".name", ".namespace"}.
  "kubernetes:helm.sh/v3:Release": {
    replaceOn: ["name", "namespace"],
    complete: true,
    source: "pulumi-kubernetes provider/pkg/provider/helm_release.go (Diff)",
  },

  "vault:index/policy:Policy": vault("name"),
  // `path` is not force-new: the provider remounts (Vault 1.10+) unless disableRemount is set.
  "vault:index/mount:Mount": vault("type", "local", "sealWrap", "externalEntropyAccess"),
  "vault:index/authBackend:AuthBackend": vault("type", "local"),
  "vault:index/audit:Audit": vault("path", "type", "description", "local", "options"),
  "vault:kubernetes/authBackendConfig:AuthBackendConfig": vault("backend"),
  "vault:kubernetes/authBackendRole:AuthBackendRole": vault("backend", "roleName"),
  "vault:kv/secretV2:SecretV2": vault("mount", "name"),
  "vault:database/secretBackendConnection:SecretBackendConnection": vault("backend"),
  "vault:database/secretBackendRole:SecretBackendRole": vault("backend", "name", "dbName"),
  "vault:database/secretBackendStaticRole:SecretBackendStaticRole": vault("backend", "name", "username", "dbName"),
  // A provider's own config is diffed by the engine (DiffConfig); a replaced provider replaces
  // every resource it manages, and the bridge's rules for that are not modelled here.
  "pulumi:providers:vault": { replaceOn: [], complete: false, source: "provider configuration: DiffConfig of the bridged provider, not modelled" },

  "aws:iam/role:Role": aws("name", "namePrefix", "path"),
  "aws:iam/rolePolicy:RolePolicy": aws("name", "namePrefix", "role"),
  "aws:kms/key:Key": aws("customerMasterKeySpec", "keySpec", "keyUsage", "multiRegion", "customKeyStoreId", "xksKeyId", "region"),
  "aws:kms/alias:Alias": aws("name", "namePrefix", "region"),
  "aws:secretsmanager/secret:Secret": aws("name", "namePrefix", "region"),
  // secret_string is ForceNew: every new value is a new version resource.
  "aws:secretsmanager/secretVersion:SecretVersion": aws("secretId", "secretString", "secretBinary", "secretStringWoVersion", "region"),
  "aws:s3/bucket:Bucket": aws("bucket", "bucketPrefix", "objectLockEnabled", "region"),
  "aws:s3/bucketPolicy:BucketPolicy": aws("bucket", "region"),
  "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": aws("bucket", "region"),
  "aws:s3/bucketVersioning:BucketVersioning": aws("bucket", "expectedBucketOwner", "region"),
  "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": aws("bucket", "expectedBucketOwner", "region"),
  "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": aws("bucket", "expectedBucketOwner", "region"),

  "gcp:secretmanager/secret:Secret": gcp("secretId", "project", "replication"),
  "gcp:secretmanager/secretVersion:SecretVersion": gcp("secret", "secretData", "isSecretDataBase64"),
  "gcp:secretmanager/secretIamMember:SecretIamMember": { replaceOn: "*", complete: true, source: `${GCP_SOURCE}: an IAM member has no update` },
  "gcp:serviceaccount/account:Account": gcp("accountId", "project"),
  "gcp:serviceaccount/iAMMember:IAMMember": { replaceOn: "*", complete: true, source: `${GCP_SOURCE}: an IAM member has no update` },
  "gcp:projects/iAMAuditConfig:IAMAuditConfig": gcp("project", "service"),

  "azure-native:keyvault:Vault": azure("resourceGroupName", "vaultName"),
  "azure-native:keyvault:Secret": azure("resourceGroupName", "vaultName", "secretName"),
  "azure-native:managedidentity:UserAssignedIdentity": azure("resourceGroupName", "resourceName"),
  "azure-native:managedidentity:FederatedIdentityCredential": azure("resourceGroupName", "resourceName", "federatedIdentityCredentialResourceName"),
  "azure-native:authorization:RoleAssignment": azure("scope", "roleAssignmentName"),
  "azure-native:monitor:DiagnosticSetting": azure("resourceUri", "name"),
};

/** The plain-language answer when the table cannot tell. */
export const UNKNOWN_RULES = "update or replace: the offline plan does not know this provider's replace rules";

/** True when `path` is `rule` or lies under it (`spec.template` covers `spec.template.spec.containers[0].image`). */
export function underPath(path: string, rule: string): boolean {
  return path === rule || path.startsWith(`${rule}.`) || path.startsWith(`${rule}[`);
}

/** What changing the input at `path` (as the plan flattens it, without `inputs.`) does to a resource of `type`. */
export function changeKind(type: string, path: string, rules: Record<string, ReplaceRule> = REPLACE_RULES): ChangeKind {
  const rule = rules[type];
  if (!rule) return "unknown";
  if (rule.replaceOn === "*" || rule.replaceOn.some((r) => underPath(path, r))) return "replace";
  return rule.complete ? "update" : "unknown";
}
