/**
 * What the stack-config loader reads and returns: the config source (as the engine hands it
 * over), the problems it reports (`ConfigError`), and the typed settings of a stack.
 */
import * as pulumi from "@pulumi/pulumi";
import type { ChartSource } from "../components/helm-chart";
import type { EnvironmentDefaults } from "./defaults";
import { placeholderNames } from "./fixes";
import { type EsoProviderName, type Environment, PROJECT, type ProviderName, type RawStackConfig, type SealConfig } from "./schema";

/** The config as the Pulumi engine hands it over: `project:key` → string, plus which are secret. */
export interface ConfigSource {
  values: Record<string, string>;
  secretKeys: ReadonlySet<string>;
}

/** Read the running stack's config from the Pulumi runtime. */
export function runtimeConfigSource(): ConfigSource {
  const values = pulumi.runtime.allConfig();
  // isConfigSecret is exported by the SDK's runtime but missing from its typings.
  const runtime = pulumi.runtime as unknown as { isConfigSecret(key: string): boolean };
  return { values, secretKeys: new Set(Object.keys(values).filter((k) => runtime.isConfigSecret(k))) };
}

/** One problem with the stack's config, and the command that fixes it. */
export interface ConfigProblem {
  /** Config path, e.g. `database.rotationSchedule`. */
  key: string;
  message: string;
  fix: string;
}

/** Bad stack config. A `RunError`, so Pulumi prints the message without a stack trace. */
export class ConfigError extends pulumi.RunError {
  constructor(
    public readonly stackName: string,
    public readonly problems: ConfigProblem[],
  ) {
    super(
      [
        `Stack "${stackName}" has ${problems.length === 1 ? "a config problem" : `${problems.length} config problems`} (Pulumi.${stackName}.yaml); nothing was created:`,
        ...problems.map((p) => `  - ${PROJECT}:${p.key}: ${p.message}\n    fix: ${p.fix}`),
        // Said once, after the fixes: a marked value is not one to run as printed.
        ...(problems.some((p) => placeholderNames(p.fix).length)
          ? ["  <...> in a fix marks a value only you know (your host, account, key): put yours in its place, inside the quotes, before running it."]
          : []),
      ].join("\n"),
    );
    this.name = "ConfigError";
  }
}

export interface VaultSettings {
  /** `dev`: in-memory, unsealed, one pod. `ha`: Raft, TLS, persistent volumes. */
  mode: "dev" | "ha";
  /** The program installs Vault in the cluster; `false`: it configures the Vault at `address`. */
  install: boolean;
  /** Not installed: the cluster's API server as Vault reaches it (Kubernetes auth), and its CA. */
  kubernetesHost?: string;
  kubernetesCaCert?: string;
  kubernetesApiAudience?: string;
  replicas: number;
  /** How this program's Vault provider reaches Vault. */
  address: string;
  tlsSecretName: string;
  storageSize: string;
  auditStorageSize: string;
  resources: { requests: { cpu: string; memory: string }; limits: { cpu: string; memory: string } };
  /** HA only: Vault was initialised and `vaultToken` is set, so it can be configured. */
  bootstrapped: boolean;
  /** Dev only: the NodePort the dev server listens on, on the local cluster. */
  devNodePort: number;
  seal?: SealConfig;
  /** Installed HA Vault: scheduled Raft snapshots (none when off). */
  snapshots?: VaultSnapshotSettings;
  /**
   * The PEM file with the CA the program's Vault provider trusts for `address`, as configured:
   * relative to the project directory (the working directory of the program and of its
   * providers) or absolute. Validated: it exists there and holds a CA certificate. None: the
   * system's roots.
   */
  caCertFile?: string;
  /** Dev root token, or the token `pulumi up` uses with login method `token`. Secret. */
  token?: pulumi.Output<string>;
  /**
   * How `pulumi up` logs in. `jwt`: the role `role` on the issuer's jwt mount, with the JWT
   * from TERRAFORM_VAULT_AUTH_JWT. `token`: `token`.
   */
  login: {
    method: "jwt" | "token";
    issuer: "github" | "pulumi";
    role: string;
    githubRepository?: string;
    githubRepositoryId?: number;
    pulumiOrganization?: string;
  };
}

/** Where an HA Vault's Raft snapshots go, as configured (`vault.snapshots.destination`). */
export type SnapshotDestinationConfig = NonNullable<NonNullable<NonNullable<RawStackConfig["vault"]>["snapshots"]>["destination"]>;

export interface VaultSnapshotSettings {
  schedule: string;
  retentionDays: number;
  destination: SnapshotDestinationConfig;
}

export interface DatabaseSettings {
  host: string;
  port: number;
  name: string;
  adminUsername: string;
  appUsername: string;
  appGroupRole: string;
  appSchema: string;
  /** When Vault rotates the schema owner's password (migrations only): five-field cron, UTC. */
  rotationSchedule: string;
  /** Lease TTL of each service's login (Vault `default_ttl` = `max_ttl`). */
  defaultTtl: string;
  defaultTtlSeconds: number;
  /** How often ESO makes each service a new login: at most half `defaultTtl`. */
  refreshInterval: string;
  sslMode: "disable" | "require" | "verify-ca" | "verify-full";
  /** PEM CA Vault verifies the server with; default Vault's system roots. */
  caCert?: string;
  /** CA path in the services' pods, for database-url's sslrootcert. */
  sslRootCert?: string;
  verifyConnection: boolean;
  /** Admin password Vault starts with (it then rotates it). Secret. */
  adminPassword: pulumi.Output<string>;
}

/** A stack's config, validated, with its environment's defaults applied. */
export interface StackConfig {
  stack: string;
  environment: Environment;
  providers: ProviderName[];
  /** `providers` that External Secrets Operator reads (all but `kubernetes`). */
  esoProviders: EsoProviderName[];
  namespaces: { workloads: string; vault: string; externalSecrets: string };
  /** Present when `vault` is a provider. */
  vault?: VaultSettings;
  /** Present when any ESO provider is used. */
  eso?: {
    /** The program installs ESO; `false`: the platform's ESO, whose controller is `serviceAccount` in namespaces.externalSecrets. */
    install: boolean;
    serviceAccount: string;
    replicas: number;
    serviceMonitor: boolean;
    refreshInterval: string;
    /** `Merge` while adopting hand-made Secrets, else `Owner`. */
    creationPolicy: "Owner" | "Merge";
    /** `Retain` in production: a vanished backend secret does not delete the Kubernetes Secret. */
    deletionPolicy: "Retain" | "Delete";
    /** Digest pinned on ESO's image, if configured. */
    imageDigest?: string;
    /** cert-manager issues the webhook's certificate; no cert controller. */
    certManagerIssuer?: { kind: "ClusterIssuer" | "Issuer"; name: string };
  };
  /** Per generated catalog key: its length and rotation period. */
  generatedKeys: Record<string, { length: number; rotationDays: number }>;
  /** Present when the stack configures a database and uses Vault: credentials are rotated by Vault. */
  database?: DatabaseSettings;
  rotation: { schedule: string; installReloader: boolean };
  /** Where each chart comes from when not its own repository (a mirror or a local directory). */
  charts: { vault?: ChartSource; eso?: ChartSource; reloader?: ChartSource };
  /** NetworkPolicies around Vault and ESO's controller; absent when off. */
  network?: { deployerCidrs: string[]; deployerNamespaces: string[]; apiServerCidrs?: string[] };
  aws?: NonNullable<RawStackConfig["aws"]>;
  gcp?: { project: string; replicationLocations: string[]; clusterName: string; clusterLocation: string; dataAccessAuditLogs: boolean };
  azure?: NonNullable<RawStackConfig["azure"]> & { keyVaultName: string; allowedIpRanges: string[] };
  /** Supplied secrets by config key (catalog `supplied`, and `databaseUrl` when not rotated). */
  supplied: Record<string, pulumi.Output<string>>;
  /** Protect stateful resources from `pulumi destroy` and accidental replacement. */
  protect: boolean;
  /** Days a deleted cloud secret can be recovered. */
  recoveryWindowDays: number;
}

/** What the section checks of `loadStackConfig` share: the parsed config and where problems go. */
export interface CheckContext {
  stack: string;
  env: Environment;
  /** The schema-validated config, before defaults. */
  cfg: RawStackConfig;
  d: EnvironmentDefaults;
  providers: readonly ProviderName[];
  /** Secret config values by key (never logged). */
  secrets: Record<string, string>;
  problems: ConfigProblem[];
  warnings: string[];
  /** Report a problem; without `fix`, the fix sets `path` to its example (`fixCommand`). */
  add(path: PropertyKey[], message: string, fix?: string): void;
  /** Report a secret that is not set (skipped when the caller needs no secret values). */
  missing(path: PropertyKey[], message: string, fix?: string): void;
}
