/**
 * Azure Key Vault as an ESO backend: one RBAC-mode vault per environment behind a
 * deny-by-default firewall, one secret per catalog key, and one user-assigned identity
 * that ESO's Kubernetes ServiceAccount federates with and that may read that vault only.
 */
import * as authorization from "@pulumi/azure-native/authorization";
import * as keyvault from "@pulumi/azure-native/keyvault";
import * as managedidentity from "@pulumi/azure-native/managedidentity";
import * as monitor from "@pulumi/azure-native/monitor";
import * as pulumi from "@pulumi/pulumi";
import { AZURE_KEY_VAULT_NAME, IPV4_RANGE } from "../rules";
import { serviceAccountRefError } from "./service-account-ref";
import type { BackendSecret } from "./backend-secret";

/** Built-in "Key Vault Secrets User": read secret contents, nothing else. */
export const KEY_VAULT_SECRETS_USER_ROLE_ID = "4633458b-17de-408a-b874-0445c86b69e6";
/** The audience AKS workload identity tokens are exchanged for. */
export const AZURE_TOKEN_EXCHANGE_AUDIENCE = "api://AzureADTokenExchange";

export interface AzureKeyVaultArgs {
  /** Resource group for the vault and the identity. Created by the caller. */
  resourceGroupName: string;
  /** Azure region, e.g. `westeurope`. */
  location: string;
  /** Entra ID tenant the vault trusts (a UUID). */
  tenantId: string;
  /**
   * Key Vault name: 3-24 letters, digits and '-', starting with a letter, globally unique.
   * A deleted vault keeps its name for `softDeleteRetentionDays`, so reusing one needs a
   * purge (impossible with purge protection) or a recover.
   */
  vaultName: string;
  /**
   * Prepended to each key to make the secret name, e.g. `veza-production-`. Letters, digits
   * and '-' only (Key Vault names allow no '/'); the full name must match
   * `^[0-9a-zA-Z-]{1,127}$`. Changing it replaces every secret.
   */
  namePrefix: string;
  /** The secrets, one per catalog key. Keys must be unique. */
  secrets: BackendSecret[];
  /**
   * Public IPv4 addresses or CIDR ranges let through the vault firewall (e.g. the AKS
   * egress IPs ESO calls from). Everything else is denied except trusted Azure services;
   * empty: private endpoints and trusted services only. Pulumi writes secrets through
   * Azure Resource Manager, which the firewall does not filter.
   */
  allowedIpRanges: string[];
  /** Days a deleted vault or secret stays recoverable, 7-90. Azure fixes it when the vault is created: changing it later fails. */
  softDeleteRetentionDays: number;
  /**
   * Refuse purging deleted secrets and vaults until the retention period ends. Pass `true`
   * in production. Irreversible: once on, Azure never turns it off (setting `false` later
   * changes nothing), and the vault name stays taken for the retention period after deletion.
   */
  purgeProtection: boolean;
  /** The AKS cluster's OIDC issuer URL (`https://...`), trusted by the federated credential. */
  oidcIssuerUrl: string;
  /** The Kubernetes ServiceAccount ESO uses for this store. The caller creates it and annotates it with `clientId` and `tenantId`. */
  kubernetesServiceAccount: { namespace: string; name: string };
  /** Tags on the vault, the identity and every secret. Default: none. */
  tags?: Record<string, string>;
  /**
   * Log Analytics workspace (resource id) that receives the vault's `AuditEvent` logs: every
   * secret read and write, by whom. Required: Key Vault keeps no access log otherwise.
   */
  auditLogWorkspaceId: pulumi.Input<string>;
  /** Protect the vault and its secrets. Default: `false`; set in production. */
  protect?: boolean;
  /** Azure Native provider for every child. Default: the provider inherited from the parent. */
  provider?: pulumi.ProviderResource;
}

/** The Key Vault secret name for `key`. */
export function azureSecretName(namePrefix: string, key: string): string {
  return `${namePrefix}${key}`;
}

/** The federated credential subject for a Kubernetes ServiceAccount. */
export function serviceAccountSubject(ksa: { namespace: string; name: string }): string {
  return `system:serviceaccount:${ksa.namespace}:${ksa.name}`;
}

/**
 * The "Key Vault Secrets User" role definition id in the subscription of `resourceId`
 * (`/subscriptions/<sub>/resourceGroups/...`), so that no provider function is needed.
 */
export function secretsUserRoleDefinitionId(resourceId: string): string {
  const subscription = resourceId.split("/").slice(0, 3).join("/");
  return `${subscription}/providers/Microsoft.Authorization/roleDefinitions/${KEY_VAULT_SECRETS_USER_ROLE_ID}`;
}

const SECRET_NAME = /^[0-9a-zA-Z-]{1,127}$/;

/** The first problem with `args`, as a message naming the argument and the fix; `undefined` if none. */
export function validateAzureKeyVaultArgs(args: AzureKeyVaultArgs): string | undefined {
  if (!AZURE_KEY_VAULT_NAME.test(args.vaultName)) {
    return `[vaultName] must be 3-24 letters, digits or '-', starting with a letter, ending with a letter or digit, without "--", such as "veza-production-kv"; got "${args.vaultName}" (${args.vaultName.length} characters).`;
  }
  if (!SECRET_NAME.test(args.namePrefix)) {
    return `[namePrefix] must be letters, digits or '-' (Key Vault secret names allow no '/' or '_') such as "veza-production-"; got "${args.namePrefix}".`;
  }
  const seen = new Set<string>();
  for (const s of args.secrets) {
    if (seen.has(s.key)) return `[secrets] lists key "${s.key}" twice; give each secret its own key.`;
    seen.add(s.key);
    const secretName = azureSecretName(args.namePrefix, s.key);
    if (!SECRET_NAME.test(secretName)) {
      return `[secrets] key "${s.key}" makes secret name "${secretName}", which must match ^[0-9a-zA-Z-]{1,127}$; shorten or rename the key.`;
    }
    if (s.description.length > 256) return `[secrets] description of "${s.key}" is ${s.description.length} characters; Azure tags hold at most 256.`;
  }
  for (const range of args.allowedIpRanges) {
    if (!IPV4_RANGE.test(range)) return `[allowedIpRanges] must list IPv4 addresses or CIDR ranges such as "203.0.113.0/24"; got "${range}".`;
  }
  const days = args.softDeleteRetentionDays;
  if (!Number.isInteger(days) || days < 7 || days > 90) return `[softDeleteRetentionDays] must be a whole number of days from 7 to 90; got ${days}.`;
  if (!/^https:\/\/\S+$/.test(args.oidcIssuerUrl))
    return `[oidcIssuerUrl] must be the AKS OIDC issuer URL, starting with https://; got "${args.oidcIssuerUrl}".`;
  return serviceAccountRefError("kubernetesServiceAccount", args.kubernetesServiceAccount);
}

/** A Key Vault for one environment, readable only by that environment's ESO identity. */
export class AzureKeyVault extends pulumi.ComponentResource {
  /** Data-plane URL of the vault (`https://<name>.vault.azure.net/`), for the SecretStore. */
  public readonly vaultUri: pulumi.Output<string>;
  /** The vault's name, known once the vault exists. */
  public readonly vaultName: pulumi.Output<string>;
  /** Client id of the identity ESO federates with; annotate the Kubernetes ServiceAccount with it. */
  public readonly clientId: pulumi.Output<string>;
  /** Tenant of the vault and the identity. */
  public readonly tenantId: string;
  /** Secret name by catalog key, known once that secret is stored (use as a dependency). */
  public readonly secretNames: Record<string, pulumi.Output<string>>;

  constructor(name: string, args: AzureKeyVaultArgs, opts?: pulumi.ComponentResourceOptions) {
    super("veza:secrets:AzureKeyVault", name, {}, opts);
    const problem = validateAzureKeyVaultArgs(args);
    if (problem) throw new pulumi.ResourceError(problem, this);

    const childOpts: pulumi.CustomResourceOptions = { parent: this, provider: args.provider };
    // protect: deleting the vault deletes every secret with it; the caller turns it on in production.
    const protectedOpts = pulumi.mergeOptions(childOpts, { protect: args.protect ?? false });

    const vault = new keyvault.Vault(
      name,
      {
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        vaultName: args.vaultName,
        tags: args.tags,
        properties: {
          tenantId: args.tenantId,
          sku: { family: "A", name: "standard" },
          // Azure RBAC instead of access policies: the role assignment below is the only grant.
          enableRbacAuthorization: true,
          enableSoftDelete: true,
          softDeleteRetentionInDays: args.softDeleteRetentionDays,
          // Azure rejects `false` (it cannot be turned off), so leave it out unless asked for.
          enablePurgeProtection: args.purgeProtection || undefined,
          networkAcls: {
            defaultAction: "Deny",
            bypass: "AzureServices",
            ipRules: args.allowedIpRanges.map((value) => ({ value })),
          },
          // The firewall above decides who gets in; "Disabled" would also ignore its ipRules.
          publicNetworkAccess: "Enabled",
        },
      },
      protectedOpts,
    );
    // From the id rather than `vault.name`: the same value, but the mocks echo only inputs.
    const vaultName = vault.id.apply(() => args.vaultName);

    this.secretNames = {};
    for (const entry of args.secrets) {
      const secretName = azureSecretName(args.namePrefix, entry.key);
      const secret = new keyvault.Secret(
        `${name}-${entry.key}`,
        {
          resourceGroupName: args.resourceGroupName,
          vaultName,
          secretName,
          tags: { ...args.tags, description: entry.description },
          // The whole object is secret: the engine marks an output secret only where the
          // top-level input was, and this resource declares no additionalSecretOutputs.
          properties: pulumi.secret({ value: entry.value, contentType: "text/plain" }),
        },
        // additionalSecretOutputs: keep `properties` secret in state even if Azure echoes it back.
        pulumi.mergeOptions(protectedOpts, { additionalSecretOutputs: ["properties"] }),
      );
      this.secretNames[entry.key] = secret.id.apply(() => secretName);
    }

    const identityName = `${args.vaultName}-eso`;
    const identity = new managedidentity.UserAssignedIdentity(
      `${name}-eso`,
      { resourceGroupName: args.resourceGroupName, location: args.location, resourceName: identityName, tags: args.tags },
      childOpts,
    );
    new managedidentity.FederatedIdentityCredential(
      `${name}-eso-federation`,
      {
        resourceGroupName: args.resourceGroupName,
        resourceName: identityName,
        federatedIdentityCredentialResourceName: "eso",
        issuer: args.oidcIssuerUrl,
        subject: serviceAccountSubject(args.kubernetesServiceAccount),
        audiences: [AZURE_TOKEN_EXCHANGE_AUDIENCE],
      },
      pulumi.mergeOptions(childOpts, { dependsOn: [identity] }),
    );
    new authorization.RoleAssignment(
      `${name}-eso-secrets-user`,
      {
        scope: vault.id,
        roleDefinitionId: vault.id.apply(secretsUserRoleDefinitionId),
        principalId: identity.principalId,
        // A just-created identity may not have replicated in Entra ID yet; with the type set,
        // ARM skips the lookup that would fail with PrincipalNotFound.
        principalType: "ServicePrincipal",
      },
      childOpts,
    );

    // Key Vault logs data-plane access only to a diagnostic setting.
    new monitor.DiagnosticSetting(
      `${name}-audit`,
      { name: "veza-audit-events", resourceUri: vault.id, workspaceId: args.auditLogWorkspaceId, logs: [{ category: "AuditEvent", enabled: true }] },
      childOpts,
    );

    this.vaultUri = vault.properties.vaultUri;
    this.vaultName = vaultName;
    this.clientId = identity.clientId;
    this.tenantId = args.tenantId;
    this.registerOutputs({
      vaultUri: this.vaultUri,
      vaultName: this.vaultName,
      clientId: this.clientId,
      tenantId: this.tenantId,
      secretNames: this.secretNames,
    });
  }
}
