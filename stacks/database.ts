/**
 * The per-service database identities of one stack: the names both halves agree on (Vault's
 * roles and policies in `components/vault/database-access.ts`, the ServiceAccounts and
 * generators in `components/eso/database-credentials.ts`), and the Vault half's args.
 */
import * as pulumi from "@pulumi/pulumi";
import { SERVICES, type Service } from "../components/catalog";
import { storeServiceAccount } from "../components/eso/secret-stores";
import { DatabaseAccess, type DatabaseAccessArgs } from "../components/vault/database-access";
import type { VaultConfig } from "../components/vault/config";
import type { StackConfig } from "./config-model";

/** Vault dynamic role of a service: `database/creds/veza-backend-api`. */
export const databaseRoleName = (service: Service): string => `veza-${service}`;
/** ServiceAccount a service's generator logs in to Vault as. */
export const databaseServiceAccount = (service: Service): string => `eso-db-${service}`;
/** VaultDynamicSecret generator of a service. */
export const databaseGeneratorName = (service: Service): string => `veza-${service}-database`;
/** Vault policy of a service: read its own `creds` path. */
export const databasePolicyName = (env: string, service: Service | "migrations"): string => `veza-${env}-db-${service}`;
/** Kubernetes auth role of a service's generator (or of the migration store). */
export const databaseAuthRoleName = (env: string, service: Service | "migrations"): string => `eso-veza-${env}-db-${service}`;

/**
 * Vault's database engine as the stack names it: its mount and its PostgreSQL connection. The
 * mount, the roles, the deployer's policy, the static-creds path and the outputs all use these.
 */
export const DATABASE_ENGINE = { mountPath: "database", connection: "veza" } as const;

/** The migration identity's Kubernetes names. */
export const MIGRATIONS = {
  /** SecretStore that reads the static credentials. */
  storeName: "vault-migrations-store",
  /** The migration Job's ServiceAccount: the one reader of `secretName`. */
  jobServiceAccount: "veza-migrations",
  /** The Secret holding the schema owner's URL. */
  secretName: "veza-migrations-secrets",
  /**
   * How often ESO re-reads the static credentials. The owner's password changes on the rotation
   * schedule and the old one stops at once: a short interval bounds how long a migration Job
   * started just after a rotation can find a stale Secret (or force-sync first, README).
   */
  refreshInterval: "5m",
} as const;

/** The Vault role name of the static (schema owner) role: PostgreSQL user with dashes. */
export const staticRoleName = (appUsername: string): string => appUsername.replace(/_/g, "-");

export interface DatabaseVault {
  access: DatabaseAccess;
  /** `<mount>/static-creds/<static role>`. */
  staticCredsPath: string;
}

/** Where the Vault half lives: the database mount and the kubernetes auth method (VaultConfig's). */
export interface DatabaseVaultPaths {
  mountPath: pulumi.Input<string>;
  authPath: pulumi.Input<string>;
}

/** The Vault half's args for one stack: one identity per service, and the migration identity. */
export function databaseAccessArgs(config: StackConfig, provider: pulumi.ProviderResource, paths: DatabaseVaultPaths, audience: string): DatabaseAccessArgs {
  const db = config.database as NonNullable<StackConfig["database"]>;
  const env = config.environment;
  const namespace = config.namespaces.workloads;
  return {
    provider,
    mountPath: paths.mountPath,
    connectionName: DATABASE_ENGINE.connection,
    authPath: paths.authPath,
    audience,
    sql: { appSchema: db.appSchema, appGroupRole: db.appGroupRole, staticUsername: db.appUsername, database: db.name },
    services: SERVICES.map((service) => ({
      service,
      roleName: databaseRoleName(service),
      policyName: databasePolicyName(env, service),
      authRoleName: databaseAuthRoleName(env, service),
      serviceAccount: { namespace, name: databaseServiceAccount(service) },
    })),
    leaseTtlSeconds: db.defaultTtlSeconds,
    migrations: {
      staticRoleName: staticRoleName(db.appUsername),
      policyName: databasePolicyName(env, "migrations"),
      authRoleName: databaseAuthRoleName(env, "migrations"),
      serviceAccount: { namespace, name: storeServiceAccount(MIGRATIONS.storeName) },
    },
  };
}

/** The Vault half: per-service dynamic roles, policies, auth roles; the migration identity. */
export function buildDatabaseAccess(config: StackConfig, provider: pulumi.ProviderResource, vaultConfig: VaultConfig, audience: string): DatabaseVault {
  const db = config.database as NonNullable<StackConfig["database"]>;
  const paths = { mountPath: vaultConfig.databaseMount as pulumi.Output<string>, authPath: vaultConfig.authPath };
  // The roles need the connection (allowed_roles) and the auth method.
  const access = new DatabaseAccess("database-access", databaseAccessArgs(config, provider, paths, audience), { dependsOn: [vaultConfig] });
  return { access, staticCredsPath: `${DATABASE_ENGINE.mountPath}/static-creds/${staticRoleName(db.appUsername)}` };
}
