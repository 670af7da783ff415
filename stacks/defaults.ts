/**
 * Every default of the stack config, in one place: per environment (`defaultsFor`) and the
 * same for all (`STACK_DEFAULTS`). The config layer applies them; docs/configuration.md's
 * defaults table is generated from them (`npm run readme`). A stack's config overrides any.
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
  /** Days a Vault Raft snapshot is kept (HA Vault the program installs). */
  snapshotRetentionDays: number;
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
    snapshotRetentionDays: 7,
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
    snapshotRetentionDays: 7,
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
    snapshotRetentionDays: 30,
  },
};

export function defaultsFor(env: Environment): EnvironmentDefaults {
  return DEFAULTS[env];
}

/** Defaults that do not depend on the environment, by config key. */
export const STACK_DEFAULTS = {
  namespaces: { vault: "vault-system", externalSecrets: "external-secrets-system" },
  vault: {
    devNodePort: 30820,
    tlsSecretName: "vault-tls",
    storageSize: "10Gi",
    auditStorageSize: "10Gi",
    loginIssuer: "github" as const,
    // Nightly, after the rotation job's hour is clear of it; the PVC holds a retention's worth.
    snapshots: { schedule: "15 2 * * *", pvcSize: "10Gi" },
  },
  database: {
    port: 5432,
    name: "veza",
    adminUsername: "vault_admin",
    appUsername: "veza_app",
    appGroupRole: "veza_app_group",
    appSchema: "veza",
    rotationSchedule: "0 4 * * 0",
    verifyConnection: true,
  },
  rotation: { schedule: "0 3 * * *" },
  eso: { serviceMonitor: false },
  gcp: { dataAccessAuditLogs: true },
} as const;

/** Vault's replica count by mode: one dev server, or three Raft voters. */
export function vaultReplicasDefault(mode: "dev" | "ha"): number {
  return mode === "dev" ? 1 : 3;
}

/** How `pulumi up` logs in to Vault by mode: the dev server's root token, else a jwt workload identity. */
export function loginMethodDefault(mode: "dev" | "ha"): "token" | "jwt" {
  return mode === "dev" ? "token" : "jwt";
}

/** The Vault role `pulumi up` logs in with (jwt): `pulumi-<env>`. */
export function loginRoleDefault(env: Environment): string {
  return `pulumi-${env}`;
}

/** NetworkPolicies are on outside development. */
export function networkPoliciesDefault(env: Environment): boolean {
  return env !== "development";
}

/** The Azure Key Vault's name: `veza-<env>-kv`. */
export function keyVaultNameDefault(env: Environment): string {
  return `veza-${env}-kv`;
}

/** The workload namespace of an environment: `veza-<env>`. */
export function workloadNamespace(env: Environment): string {
  return `veza-${env}`;
}

/**
 * The defaults table for docs/configuration.md: one row per config key, one column per
 * environment, from the same values the config layer applies.
 */
export function defaultsTable(envs: readonly Environment[]): string {
  const per = (f: (d: EnvironmentDefaults, env: Environment) => unknown) => envs.map((e) => f(DEFAULTS[e], e));
  const same = (v: unknown) => envs.map(() => v);
  const rows: [string, unknown[]][] = [
    ["namespaces.workloads", envs.map((e) => workloadNamespace(e))],
    ["namespaces.vault", same(STACK_DEFAULTS.namespaces.vault)],
    ["namespaces.externalSecrets", same(STACK_DEFAULTS.namespaces.externalSecrets)],
    ["vault.mode", per((d) => d.vaultMode)],
    ["vault.replicas", per((d) => vaultReplicasDefault(d.vaultMode))],
    ["vault.login.method", per((d) => loginMethodDefault(d.vaultMode))],
    ["vaultLoginRole", envs.map((e) => loginRoleDefault(e))],
    [
      "vault.resources",
      per(
        (d) =>
          `requests ${d.vaultResources.requests.cpu}/${d.vaultResources.requests.memory}, limits ${d.vaultResources.limits.cpu}/${d.vaultResources.limits.memory}`,
      ),
    ],
    ["vault.devNodePort", same(STACK_DEFAULTS.vault.devNodePort)],
    ["vault.tlsSecretName", same(STACK_DEFAULTS.vault.tlsSecretName)],
    ["vault.storageSize", same(STACK_DEFAULTS.vault.storageSize)],
    ["vault.auditStorageSize", same(STACK_DEFAULTS.vault.auditStorageSize)],
    ["vault.snapshots.enabled", per((d) => d.vaultMode === "ha")],
    // A dev server keeps nothing to snapshot: no schedule, retention or destination there.
    ["vault.snapshots.schedule", per((d) => (d.vaultMode === "ha" ? STACK_DEFAULTS.vault.snapshots.schedule : "—"))],
    ["vault.snapshots.retentionDays", per((d) => (d.vaultMode === "ha" ? d.snapshotRetentionDays : "—"))],
    ["vault.snapshots.destination", per((d) => (d.vaultMode === "ha" ? `pvc (${STACK_DEFAULTS.vault.snapshots.pvcSize})` : "—"))],
    ["vault.login.issuer", same(STACK_DEFAULTS.vault.loginIssuer)],
    ["eso.replicas", per((d) => d.esoReplicas)],
    ["eso.refreshInterval", per((d) => d.refreshInterval)],
    ["eso.serviceMonitor", same(STACK_DEFAULTS.eso.serviceMonitor)],
    ["database.port", same(STACK_DEFAULTS.database.port)],
    ["database.name", same(STACK_DEFAULTS.database.name)],
    ["database.adminUsername", same(STACK_DEFAULTS.database.adminUsername)],
    ["database.appUsername", same(STACK_DEFAULTS.database.appUsername)],
    ["database.appGroupRole", same(STACK_DEFAULTS.database.appGroupRole)],
    ["database.appSchema", same(STACK_DEFAULTS.database.appSchema)],
    ["database.rotationSchedule", same(STACK_DEFAULTS.database.rotationSchedule)],
    ["database.defaultTtl", per((d) => d.databaseLeaseTtl)],
    ["database.sslMode", per((d) => d.sslMode)],
    ["database.verifyConnection", same(STACK_DEFAULTS.database.verifyConnection)],
    ["database.refreshInterval", same("half of database.defaultTtl")],
    ["network.policies", envs.map((e) => networkPoliciesDefault(e))],
    ["rotation.schedule", same(STACK_DEFAULTS.rotation.schedule)],
    ["rotation.installReloader", per((d) => d.installReloader)],
    ["gcp.dataAccessAuditLogs", same(STACK_DEFAULTS.gcp.dataAccessAuditLogs)],
    ["azure.keyVaultName", envs.map((e) => keyVaultNameDefault(e))],
    ["protection of stateful resources", per((d) => d.protect)],
    ["cloud secret recovery window (days)", per((d) => d.recoveryWindowDays)],
  ];
  const cell = (v: unknown) => `\`${String(v)}\``;
  return [
    `| key | ${envs.join(" | ")} |`,
    `|---|${envs.map(() => "---").join("|")}|`,
    ...rows.map(([k, vs]) => `| ${k.includes(" ") ? k : `\`${k}\``} | ${vs.map(cell).join(" | ")} |`),
  ].join("\n");
}
