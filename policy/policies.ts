/**
 * The secrets spec's "Security Best Practices" as Pulumi policies. Plain objects, so tests call
 * each `validateResource` / `validateStack` directly; `index.ts` puts them in the PolicyPack
 * (never import index.ts from a test: constructing a PolicyPack starts its gRPC server).
 *
 * `mandatory` policies fail `pulumi preview --policy-pack policy` and `pulumi up`; `advisory`
 * ones warn. Resource policies see one resource's inputs and run before it is created or
 * updated; stack policies see every resource, run after the whole program has registered
 * (on `pulumi up`, after the changes were applied: a preview is what stops them in time), and
 * are the only place that knows the stack's environment, from the Namespaces'
 * `veza.io/environment` label.
 *
 * Secret values: resource policies receive Pulumi secrets in clear, so nothing here can tell a
 * secret from a literal. The literal-secret checks therefore judge key names and value shapes,
 * and the only secret-named value allowed in Helm values is `server.dev.devRootToken` of a Vault
 * release in dev mode, which the program wraps with `pulumi.secret` (components/vault/cluster.ts).
 */
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import {
  awsEsoReadScoped,
  awsSecretsEncrypted,
  awsSecretsRecoveryWindow,
  azureKeyVaultProtection,
  azureRoleAssignmentScope,
  clusterSecretStoreConditions,
  configMapNoPlaintextSecrets,
  envNoSecretLiterals,
  externalSecretNamespacedStore,
  gcpEsoAccessScoped,
  generatedKeyLength,
  generatedKeyRotation,
  generatedKeyRotationDeclared,
  helmValuesNoSecretLiterals,
  imagesPinnedByDigest,
  kubernetesSecretsThroughEso,
  pinnedVersions,
  productionStatefulProtected,
  rbacNoEscalation,
  secretsRbacLeastPrivilege,
  secretsRbacResourceNames,
  stackEnvironmentLabel,
  vaultAuditDevice,
  vaultAuditNoRawLog,
  vaultAuditRedundant,
  vaultJwtRoleBound,
  vaultRoleTokenPolicies,
  vaultNetworkPolicy,
  storeServiceAccountsGuarded,
  databaseTlsVerified,
  esoControllerScoped,
  namespacePodSecurity,
  vaultAutoUnsealInProduction,
  vaultDevModeDevelopmentOnly,
  vaultPolicyEnvironmentScope,
  vaultPolicyReadOnly,
} from "./rules";

// Each area's policies and pure helpers live in rules/<area>.ts; tests import them from here.
export * from "./rules";

/** Every policy of the pack, in the order `pulumi preview` lists them. */
export const POLICIES: (ResourceValidationPolicy | StackValidationPolicy)[] = [
  configMapNoPlaintextSecrets,
  envNoSecretLiterals,
  helmValuesNoSecretLiterals,
  kubernetesSecretsThroughEso,
  externalSecretNamespacedStore,
  clusterSecretStoreConditions,
  secretsRbacLeastPrivilege,
  secretsRbacResourceNames,
  rbacNoEscalation,
  vaultPolicyEnvironmentScope,
  vaultPolicyReadOnly,
  vaultAuditDevice,
  vaultAuditNoRawLog,
  vaultAuditRedundant,
  vaultJwtRoleBound,
  vaultRoleTokenPolicies,
  vaultNetworkPolicy,
  storeServiceAccountsGuarded,
  databaseTlsVerified,
  esoControllerScoped,
  namespacePodSecurity,
  vaultAutoUnsealInProduction,
  vaultDevModeDevelopmentOnly,
  awsEsoReadScoped,
  gcpEsoAccessScoped,
  azureRoleAssignmentScope,
  awsSecretsEncrypted,
  awsSecretsRecoveryWindow,
  azureKeyVaultProtection,
  pinnedVersions,
  imagesPinnedByDigest,
  generatedKeyLength,
  generatedKeyRotation,
  generatedKeyRotationDeclared,
  productionStatefulProtected,
  stackEnvironmentLabel,
];
