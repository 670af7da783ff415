/**
 * Per-environment defaults: the only place, with `config.ts`, that knows what
 * development, staging and production mean. A stack's config overrides any of them.
 */
import type { Environment } from "./schema";

export interface EnvironmentDefaults {
  vaultMode: "dev" | "ha";
  vaultResources: { requests: { cpu: string; memory: string }; limits: { cpu: string; memory: string } };
  esoReplicas: number;
  /** How often ESO re-reads each ExternalSecret from its backend. */
  refreshInterval: string;
  /**
   * Lease TTL of each service's database login. Shorter: a leaked login is useful for less time,
   * but every refresh (half of it) rolls every service's pods.
   */
  databaseLeaseTtl: string;
  /** libpq sslmode of database-url and of Vault's connection: verify-full checks the server's certificate and name. */
  sslMode: "disable" | "verify-full";
  installReloader: boolean;
  /** Protect stateful resources (data volumes, namespaces holding secrets, cloud secrets, keys). */
  protect: boolean;
  /** Days a deleted cloud secret stays recoverable (AWS allows 7-30). */
  recoveryWindowDays: number;
}

const DEFAULTS: Record<Environment, EnvironmentDefaults> = {
  development: {
    vaultMode: "dev",
    vaultResources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "500m", memory: "256Mi" } },
    esoReplicas: 1,
    refreshInterval: "15m",
    databaseLeaseTtl: "1h",
    sslMode: "disable",
    installReloader: true,
    protect: false,
    recoveryWindowDays: 7,
  },
  staging: {
    vaultMode: "ha",
    vaultResources: { requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "1", memory: "512Mi" } },
    esoReplicas: 1,
    refreshInterval: "1h",
    databaseLeaseTtl: "1h",
    sslMode: "verify-full",
    installReloader: true,
    protect: false,
    recoveryWindowDays: 7,
  },
  production: {
    vaultMode: "ha",
    vaultResources: { requests: { cpu: "500m", memory: "512Mi" }, limits: { cpu: "2", memory: "1Gi" } },
    esoReplicas: 2,
    refreshInterval: "1h",
    databaseLeaseTtl: "4h",
    sslMode: "verify-full",
    installReloader: true,
    protect: true,
    recoveryWindowDays: 30,
  },
};

export function defaultsFor(env: Environment): EnvironmentDefaults {
  return DEFAULTS[env];
}
