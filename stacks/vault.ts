/**
 * Vault for one stack: the Helm install always, and its configuration (KV, Kubernetes
 * auth, policy, audit, database engine) once the program can reach and authenticate to
 * it: at once in development (dev mode), after the documented bootstrap elsewhere.
 */
import * as pulumi from "@pulumi/pulumi";
import { Provider as VaultProvider } from "@pulumi/vault/provider";
import { VAULT_APP_VERSION, VaultCluster } from "../components/cluster/vault";
import { VaultConfig } from "../components/vault/vault-config";
import type { StackConfig } from "./config";
import { durationSeconds } from "./schema";

export interface VaultPlatform {
  /** True when Vault is configured by this run (dev, or HA after bootstrap). */
  configured: boolean;
  /** Address ESO uses, inside the cluster. */
  inClusterAddress: pulumi.Output<string>;
  authPath: string;
  authRole: string;
  audience: string;
  kvMount: string;
  secretPath: string;
  /** ConfigMap with Vault's CA in the workload namespace (HA); none in dev (plain HTTP). */
  caConfigMap?: string;
  database?: { staticCredsPath: string; outputs: Record<string, unknown> };
  /** What ESO's Vault stores must wait for: the configuration (role, policy, KV secret). */
  ready: pulumi.Resource[];
  outputs: {
    mode: string;
    address: string;
    inClusterAddress: pulumi.Output<string>;
    configured: boolean;
    kvPath?: string;
    policy?: string;
    authRole?: string;
  };
}

export interface VaultInputs {
  /** Vault's namespace (created). */
  namespace: pulumi.Output<string>;
  /** Workload namespace (created): where ESO's store ServiceAccount lives. */
  workloadNamespace: pulumi.Output<string>;
  /** The ServiceAccount of the Vault SecretStore, which the Kubernetes auth role binds. */
  storeServiceAccount: { namespace: string; name: string };
  /** Everything written to the environment's KV path, by catalog key (Pulumi secrets). */
  values: Record<string, pulumi.Output<string>>;
}

const AUDIENCE = "vault";
const AUTH_PATH = "kubernetes";
const KV_MOUNT = "secret";

export function buildVault(config: StackConfig, inputs: VaultInputs): VaultPlatform {
  const v = config.vault as NonNullable<StackConfig["vault"]>;
  const env = config.environment;
  const dev = v.mode === "dev";
  const cluster = new VaultCluster("vault", {
    namespace: inputs.namespace,
    mode: v.mode,
    ...(dev
      ? { devRootToken: v.token, devNodePort: v.devNodePort, replicas: 1 }
      : {
          replicas: v.replicas,
          tlsSecretName: v.tlsSecretName,
          storageSize: v.storageSize,
          auditStorageSize: v.auditStorageSize,
          seal: v.seal,
          // Sealed pods count as Ready only until the bootstrap has initialised Vault.
          acceptSealedAsReady: !v.bootstrapped,
        }),
    resources: v.resources,
    labels: { "veza.io/environment": env },
    protect: config.protect,
  });

  const secretPath = `veza/${env}`;
  const role = `eso-veza-${env}`;
  const base: VaultPlatform = {
    configured: false,
    inClusterAddress: cluster.address,
    authPath: AUTH_PATH,
    authRole: role,
    audience: AUDIENCE,
    kvMount: KV_MOUNT,
    secretPath,
    caConfigMap: dev ? undefined : "vault-ca",
    ready: [cluster],
    outputs: { mode: v.mode, address: v.address, inClusterAddress: cluster.address, configured: false },
  };

  if (!v.token) {
    void pulumi.log.warn(
      `Vault is installed but not configured: it needs the one-time bootstrap (README, "Bootstrapping Vault"), then ` +
        `pulumi config set --path vault.bootstrapped true --stack ${config.stack} and pulumi config set --secret vaultToken --stack ${config.stack} (it prompts for the token).`,
    );
    return base;
  }

  // The program's own connection to Vault. In dev it waits for the release (same pulumi up):
  // Helm waits until the dev pod is Ready (RollingUpdate, see VaultCluster).
  const provider = new VaultProvider(
    "vault",
    {
      address: v.address,
      token: v.token,
      skipChildToken: true,
      // The CA that signed `address`'s certificate (README: a private CA); else system roots.
      ...(v.caCertFile ? { caCertFile: v.caCertFile } : {}),
      // The provider asks Vault for its version on every plan (terraform-provider-vault's
      // CustomizeDiff); with Vault unreachable during a preview it dereferences a nil
      // version. The program installs this version, so it needs no probe.
      vaultVersionOverride: VAULT_APP_VERSION,
      // Default 2 (about a second): too few for a Vault that has just turned Ready behind a
      // NodePort or a restarting active node. 10 retries back off 1-1.5 s each.
      maxRetries: 10,
    },
    { dependsOn: [cluster] },
  );
  const db = config.database;
  // Vault role names take dashes; the PostgreSQL user takes underscores.
  const staticRole = db?.appUsername.replace(/_/g, "-");
  const vaultConfig = new VaultConfig(
    "vault-config",
    {
      provider,
      kvMount: KV_MOUNT,
      // Dev-mode Vault mounts secret/ as KV v2 itself; mounting it again fails.
      createKvMount: !dev,
      secretPath,
      secrets: inputs.values,
      createAuthBackend: true,
      kubernetesAuth: {
        path: AUTH_PATH,
        kubernetesHost: "https://kubernetes.default.svc",
        audience: AUDIENCE,
        roleName: role,
        boundServiceAccount: inputs.storeServiceAccount,
      },
      policyName: `veza-${env}-read`,
      createAudit: true,
      audit: { type: "file", path: dev ? "stdout" : "/vault/audit/vault_audit.log" },
      createDatabaseMount: !!db,
      database: db
        ? {
            connectionName: "veza",
            host: db.host,
            port: db.port,
            databaseName: db.name,
            sslMode: db.sslMode,
            adminUsername: db.adminUsername,
            adminPassword: db.adminPassword,
            verifyConnection: db.verifyConnection,
            staticRole: { name: staticRole as string, username: db.appUsername, rotationPeriodSeconds: db.rotationPeriodSeconds },
            dynamicRole: { name: "veza-role", defaultTtlSeconds: durationSeconds(db.defaultTtl), maxTtlSeconds: durationSeconds(db.maxTtl) },
            sql: { appSchema: db.appSchema, appGroupRole: db.appGroupRole, database: db.name },
          }
        : undefined,
      protect: config.protect,
    },
    { dependsOn: [cluster] },
  );

  return {
    ...base,
    configured: true,
    ready: [cluster, vaultConfig],
    database: db
      ? {
          staticCredsPath: `database/static-creds/${staticRole}`,
          outputs: {
            connection: "veza",
            staticRole,
            staticRoleUser: db.appUsername,
            rotationPeriod: db.rotationPeriod,
            dynamicRole: "veza-role",
            defaultTtl: db.defaultTtl,
            maxTtl: db.maxTtl,
          },
        }
      : undefined,
    outputs: { ...base.outputs, configured: true, kvPath: `${KV_MOUNT}/${secretPath}`, policy: `veza-${env}-read`, authRole: role },
  };
}
