/**
 * The cloud backends, as one table: for each, whether the stack turns it on, the names it
 * gives this environment's secrets, the component that stores them, the SecretStore ESO
 * reads them through and the stack outputs it adds. The platform walks the table; adding a
 * backend is one entry here plus its component.
 */
import { AwsSecrets } from "../components/backends/aws-secrets";
import { AzureKeyVault } from "../components/backends/azure-key-vault";
import type { BackendSecret } from "../components/backends/backend-secret";
import { GcpSecrets } from "../components/backends/gcp-secrets";
import type { StoreSpec } from "../components/eso/secret-stores";
import type { StackConfig } from "./config-model";

/** What the platform hands every backend. */
export interface BackendContext {
  config: StackConfig;
  /** The environment (`production`). */
  env: string;
  /** The prefix of this environment's secret names in the backend (`veza/production/`). */
  prefix: string;
  /** Every stored catalog key with its description and value. */
  secrets: BackendSecret[];
  /** The store's ServiceAccount: the identity the backend trusts. */
  serviceAccount: { namespace: string; name: string };
  /** The SecretStore's name. */
  storeName: string;
}

/** What a backend adds to the platform. */
export interface BuiltBackend {
  store: StoreSpec;
  /** `backends.<name>` in the stack outputs: names and identities, never a value. */
  outputs: Record<string, unknown>;
}

export interface CloudBackend {
  name: "aws" | "gcp" | "azure";
  /** On when the stack's config has this backend's section. */
  enabled(config: StackConfig): boolean;
  /** Name prefix of this environment's secrets. */
  prefix(env: string): string;
  build(ctx: BackendContext): BuiltBackend;
}

function section<K extends "aws" | "gcp" | "azure">(config: StackConfig, key: K): NonNullable<StackConfig[K]> {
  const value = config[key];
  if (!value) throw new Error(`backend ${key} built without its config section`);
  return value as NonNullable<StackConfig[K]>;
}

export const CLOUD_BACKENDS: readonly CloudBackend[] = [
  {
    name: "aws",
    enabled: (config) => !!config.aws,
    prefix: (env) => `veza/${env}/`,
    build: ({ config, env, prefix, secrets, serviceAccount, storeName }) => {
      const aws = section(config, "aws");
      const backend = new AwsSecrets("aws-secrets", {
        namePrefix: prefix,
        secrets,
        recoveryWindowDays: config.recoveryWindowDays,
        tags: { "veza:environment": env, "veza:managed-by": "pulumi" },
        region: aws.region,
        accountId: aws.accountId,
        oidcIssuer: aws.oidcIssuer,
        serviceAccount,
        protect: config.protect,
      });
      return {
        store: { kind: "aws", name: storeName, region: aws.region, roleArn: backend.roleArn },
        outputs: { region: aws.region, prefix, roleArn: backend.roleArn, kmsKeyArn: backend.kmsKeyArn },
      };
    },
  },
  {
    name: "gcp",
    enabled: (config) => !!config.gcp,
    prefix: (env) => `veza-${env}-`,
    build: ({ config, env, prefix, secrets, serviceAccount, storeName }) => {
      const gcp = section(config, "gcp");
      const backend = new GcpSecrets("gcp-secrets", {
        project: gcp.project,
        namePrefix: prefix,
        secrets,
        replicationLocations: gcp.replicationLocations,
        labels: { "veza-environment": env, "veza-managed-by": "pulumi" },
        serviceAccountId: `eso-veza-${env}`,
        kubernetesServiceAccount: serviceAccount,
        dataAccessAuditLogs: gcp.dataAccessAuditLogs,
        protect: config.protect,
      });
      return {
        store: {
          kind: "gcp",
          name: storeName,
          projectId: gcp.project,
          serviceAccountEmail: backend.serviceAccountEmail,
          clusterLocation: gcp.clusterLocation,
          clusterName: gcp.clusterName,
        },
        outputs: { project: gcp.project, prefix, serviceAccountEmail: backend.serviceAccountEmail },
      };
    },
  },
  {
    name: "azure",
    enabled: (config) => !!config.azure,
    prefix: (env) => `veza-${env}-`,
    build: ({ config, env, prefix, secrets, serviceAccount, storeName }) => {
      const azure = section(config, "azure");
      const backend = new AzureKeyVault("azure-key-vault", {
        resourceGroupName: azure.resourceGroupName,
        location: azure.location,
        tenantId: azure.tenantId,
        vaultName: azure.keyVaultName,
        namePrefix: prefix,
        secrets,
        allowedIpRanges: azure.allowedIpRanges,
        softDeleteRetentionDays: env === "production" ? 90 : 7,
        purgeProtection: env === "production",
        oidcIssuerUrl: azure.oidcIssuerUrl,
        kubernetesServiceAccount: serviceAccount,
        auditLogWorkspaceId: azure.auditLogWorkspaceId,
        tags: { "veza-environment": env, "veza-managed-by": "pulumi" },
        protect: config.protect,
      });
      return {
        store: { kind: "azure", name: storeName, vaultUrl: backend.vaultUri, tenantId: azure.tenantId, clientId: backend.clientId },
        outputs: { vaultName: backend.vaultName, prefix, clientId: backend.clientId },
      };
    },
  },
];
