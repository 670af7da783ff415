/**
 * Vault for one stack: the Helm install always, and its configuration (KV, Kubernetes
 * auth, policy, audit, database engine) once the program can reach and authenticate to
 * it: at once in development (dev mode), after the documented bootstrap elsewhere.
 */
import { readFileSync } from "node:fs";
import { ConfigMap } from "@pulumi/kubernetes/core/v1/configMap";
import * as pulumi from "@pulumi/pulumi";
import { Provider as VaultProvider } from "@pulumi/vault/provider";
import { SERVICES } from "../components/catalog";
import { CronJobTemplateGuard } from "../components/cluster/cron-job-template-guard";
import { ServiceAccountGuard } from "../components/cluster/service-account-guard";
import { VaultCluster } from "../components/vault/cluster";
import { VAULT_API_PORT, VAULT_APP_VERSION, VAULT_IMAGE_DIGEST, VAULT_RELEASE_NAME } from "../components/vault/cluster-args";
import { RaftSnapshots, type SnapshotDestination, snapshotPolicy } from "../components/vault/raft-snapshots";
import type { DatabaseAccess } from "../components/vault/database-access";
import { type BootstrapOptions, GITHUB_OIDC_ISSUER, type JwtLogin, PULUMI_OIDC_ISSUER } from "../components/vault/bootstrap";
import { postgresConnectionUrl } from "../components/vault/config-args";
import { migrationCredsPolicy, serviceCredsPolicy } from "../components/vault/database-access";
import { creationStatements, renewStatements, revocationStatements, rootRotationStatements, rotationStatements } from "../components/vault/database-sql";
import { type DeployerPolicyOptions, deployerPolicyDocument, previewPolicyDocument } from "../components/vault/deployer-policy";
import { policyDocument } from "../components/vault/policy-hcl";
import { storeServiceAccount } from "../components/eso/secret-stores";
import { VaultConfig } from "../components/vault/config";
import type { StackConfig, VaultSnapshotSettings } from "./config-model";
import { STACK_DEFAULTS } from "./defaults";
import { setCommands } from "./fixes";
import {
  DATABASE_ENGINE,
  MIGRATIONS,
  buildDatabaseAccess,
  databaseAuthRoleName,
  databasePolicyName,
  databaseRoleName,
  databaseServiceAccount,
  staticRoleName,
} from "./database";

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
  /** The database engine: the migration path and each service's own Vault identity. */
  database?: { staticCredsPath: string; access: DatabaseAccess; outputs: Record<string, unknown> };
  /** The ServiceAccounts that log in to an external Vault review their own tokens: they need system:auth-delegator. */
  reviewsWithClientToken: boolean;
  /** The API server's audience, added to those tokens for that review (external Vault only). */
  reviewAudience?: string;
  /** What ESO's Vault stores must wait for: the configuration (role, policy, KV secret); none before it is configured (there is no Vault store then). */
  ready: pulumi.Resource[];
  outputs: {
    mode: string;
    /** Whether the program installed Vault in the cluster (else it configures an external one). */
    installed: boolean;
    address: string;
    inClusterAddress: pulumi.Output<string>;
    configured: boolean;
    kvPath?: string;
    policy?: string;
    authRole?: string;
    /** How `pulumi up` logs in to Vault. */
    login?: string;
    /** Raft snapshots: the CronJob, its schedule and retention, and where they land. */
    snapshots?: { cronJob: string; schedule: string; retentionDays: number; location: pulumi.Output<string> };
  };
  /** Labels of the snapshot Job's pods: Vault's ingress policy must admit them. */
  snapshotPodLabels?: Record<string, string>;
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
/** Audience the CI system's OIDC token carries for Vault (GitHub: requested by the workflow). */
export const DEPLOYER_AUDIENCE = "vault";
const JWT_PATHS = { github: "jwt-github", pulumi: "jwt-pulumi" } as const;
const AUDIT_DEVICE_PATH = "file";
/** The API server as an in-cluster Vault reaches it. */
const IN_CLUSTER_API = "https://kubernetes.default.svc";
/** The store ESO reads Vault's KV with: its ServiceAccount is what the read role binds. */
const VAULT_STORE = "vault-store";
/** How Vault authenticates to PostgreSQL (VaultConfig's connection). */
const POSTGRES_PASSWORD_AUTHENTICATION = "scram-sha-256";
/** ConfigMap (key `ca.crt`) in the workload namespace with the CA ESO's Vault stores trust. */
const VAULT_CA_CONFIG_MAP = "vault-ca";

/** Names of the program's own Vault identity in one environment. */
export function deployerNames(env: string): { role: string; previewRole: string; policy: string; previewPolicy: string } {
  return { role: `pulumi-${env}`, previewRole: `pulumi-${env}-preview`, policy: `veza-${env}-pulumi`, previewPolicy: `veza-${env}-pulumi-preview` };
}

/** Everything the program manages in this stack's Vault, with the values it writes: the input of its policies. */
export function deployerPolicyOptions(config: StackConfig): DeployerPolicyOptions {
  const env = config.environment;
  const v = config.vault as NonNullable<StackConfig["vault"]>;
  const ns = config.namespaces.workloads;
  const db = config.database;
  const secretPath = `veza/${env}`;
  const readPolicy = `veza-${env}-read`;
  const role = (name: string, serviceAccount: string, policy: string) => ({
    name,
    serviceAccount: { namespace: ns, name: serviceAccount },
    policy,
    audience: AUDIENCE,
  });
  const sql = db ? { appSchema: db.appSchema, appGroupRole: db.appGroupRole, staticUsername: db.appUsername, database: db.name } : undefined;
  const staticRole = db ? staticRoleName(db.appUsername) : "";
  return {
    kvMount: KV_MOUNT,
    secretPath,
    manageKvMount: v.mode !== "dev",
    kubernetesAuth: {
      path: AUTH_PATH,
      config: v.install ? { host: IN_CLUSTER_API } : { host: v.kubernetesHost as string, ...(v.kubernetesCaCert ? { caCert: v.kubernetesCaCert } : {}) },
      roles: [
        role(`eso-veza-${env}`, storeServiceAccount(VAULT_STORE), readPolicy),
        // Each service's database identity (stacks/database.ts) is the program's to manage too.
        ...(db
          ? [
              ...SERVICES.map((s) => role(databaseAuthRoleName(env, s), databaseServiceAccount(s), databasePolicyName(env, s))),
              role(databaseAuthRoleName(env, "migrations"), storeServiceAccount(MIGRATIONS.storeName), databasePolicyName(env, "migrations")),
            ]
          : []),
        // The Raft snapshot CronJob's login (components/vault/raft-snapshots.ts), in Vault's namespace.
        ...(v.snapshots
          ? [
              {
                name: SNAPSHOTS.vaultName,
                serviceAccount: { namespace: config.namespaces.vault, name: SNAPSHOTS.jobName },
                policy: SNAPSHOTS.vaultName,
                audience: AUDIENCE,
              },
            ]
          : []),
      ],
    },
    managedPolicies: [
      { name: readPolicy, document: policyDocument({ kvMount: KV_MOUNT, secretPath }) },
      ...(v.snapshots ? [{ name: SNAPSHOTS.vaultName, document: snapshotPolicy() }] : []),
      ...(db
        ? [
            ...SERVICES.map((s) => ({ name: databasePolicyName(env, s), document: serviceCredsPolicy(DATABASE_ENGINE.mountPath, databaseRoleName(s)) })),
            { name: databasePolicyName(env, "migrations"), document: migrationCredsPolicy(DATABASE_ENGINE.mountPath, staticRole) },
          ]
        : []),
    ],
    database:
      db && sql
        ? {
            mountPath: DATABASE_ENGINE.mountPath,
            connection: {
              name: DATABASE_ENGINE.connection,
              url: postgresConnectionUrl({ host: db.host, port: db.port, databaseName: db.name, sslMode: db.sslMode }),
              username: db.adminUsername,
              allowedRoles: [staticRole, ...SERVICES.map(databaseRoleName)],
              passwordAuthentication: POSTGRES_PASSWORD_AUTHENTICATION,
              rootRotationStatements: rootRotationStatements(),
              ...(db.caCert ? { tlsCa: db.caCert } : {}),
            },
            staticRoles: [{ name: staticRole, dbName: DATABASE_ENGINE.connection, username: db.appUsername, rotationStatements: rotationStatements(sql) }],
            dynamicRoles: SERVICES.map((s) => ({
              name: databaseRoleName(s),
              dbName: DATABASE_ENGINE.connection,
              creationStatements: creationStatements(sql, s),
              revocationStatements: revocationStatements(sql, s),
              renewStatements: renewStatements(sql),
            })),
          }
        : undefined,
  };
}

/** The deployer policy (HCL) of a stack: `npm run vault-policy -- <stack>` prints it. */
export function deployerPolicyHcl(config: StackConfig): string {
  return deployerPolicyDocument(deployerPolicyOptions(config));
}

/** What the operator's bootstrap writes for a stack (`npm run vault-bootstrap -- <stack>`): audit devices, both policies, the jwt logins. */
export function bootstrapOptions(config: StackConfig): BootstrapOptions {
  const env = config.environment;
  const v = config.vault as NonNullable<StackConfig["vault"]>;
  const names = deployerNames(env);
  const policyOptions = deployerPolicyOptions(config);
  const jwt: JwtLogin[] = [];
  const login = v.login;
  // Production is never previewed with credentials on a pull request (the offline plan shows
  // its diff; deploy.yml previews merged code as the deployer): no preview login to steal.
  const previews = env !== "production";
  if (login.githubRepository) {
    const repo = { repository: login.githubRepository, ...(login.githubRepositoryId ? { repository_id: String(login.githubRepositoryId) } : {}) };
    jwt.push({
      path: JWT_PATHS.github,
      description: "GitHub Actions OIDC: the program's deploys and previews.",
      issuer: GITHUB_OIDC_ISSUER,
      roles: [
        { name: names.role, policy: names.policy, boundAudiences: [DEPLOYER_AUDIENCE], boundClaims: { ...repo, environment: env, ref: "refs/heads/main" } },
        // No ref: a preview runs on the pull request's merge ref.
        ...(previews
          ? [
              {
                name: names.previewRole,
                policy: names.previewPolicy,
                boundAudiences: [DEPLOYER_AUDIENCE],
                boundClaims: { ...repo, environment: `${env}-preview` },
              },
            ]
          : []),
      ],
    });
  }
  if (login.pulumiOrganization) {
    jwt.push({
      path: JWT_PATHS.pulumi,
      description: "Pulumi ESC vault-login: the program's Pulumi Deployments runs.",
      issuer: PULUMI_OIDC_ISSUER,
      roles: [
        {
          name: names.role,
          policy: names.policy,
          // ESC's vault-login tokens: audience the organization, subject the ESC environment the deployment opens.
          boundAudiences: [login.pulumiOrganization],
          boundClaims: { sub: `pulumi:environments:org:${login.pulumiOrganization}:env:${pulumiEscEnvironment(env)}` },
        },
      ],
    });
  }
  return {
    // An external Vault's audit devices are its operator's own.
    auditDevices: v.install
      ? [
          { path: AUDIT_DEVICE_PATH, filePath: "/vault/audit/vault_audit.log", description: "Audit log of every request (HMAC'd values)." },
          { path: "stdout", filePath: "stdout", description: "Audit log to stdout, shipped by the cluster's log pipeline (HMAC'd values)." },
        ]
      : [],
    policies: [
      { name: names.policy, document: deployerPolicyDocument(policyOptions) },
      ...(previews ? [{ name: names.previewPolicy, document: previewPolicyDocument(policyOptions) }] : []),
    ],
    jwt,
    tokenTtlSeconds: 3600,
    // The HA Vault the program installs (an external Vault's Raft is its operator's).
    ...(v.install && v.mode === "ha" ? { autopilot: { deadServerLastContactThreshold: "10m", minQuorum: Math.max(3, v.replicas) } } : {}),
  };
}

/** The ESC environment whose `vault-login` logs a stack's Pulumi Deployments run in: `veza-secrets/<env>`. */
export function pulumiEscEnvironment(env: string): string {
  return `veza-secrets/${env}`;
}

export function buildVault(config: StackConfig, inputs: VaultInputs): VaultPlatform {
  const v = config.vault as NonNullable<StackConfig["vault"]>;
  const env = config.environment;
  const dev = v.mode === "dev";
  // A Vault the program does not install (vault.install false) is configured where it runs.
  const cluster = v.install
    ? new VaultCluster("vault", {
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
        ...(config.charts.vault ? { chart: config.charts.vault } : {}),
      })
    : undefined;
  const installed = cluster ? [cluster] : [];
  // ESO reaches an external Vault at the address the program uses, and trusts the same CA.
  const inClusterAddress = cluster ? cluster.address : pulumi.output(v.address);

  const secretPath = `veza/${env}`;
  const role = `eso-veza-${env}`;
  const base: VaultPlatform = {
    configured: false,
    reviewsWithClientToken: !v.install,
    ...(!v.install && v.kubernetesApiAudience ? { reviewAudience: v.kubernetesApiAudience } : {}),
    inClusterAddress,
    authPath: AUTH_PATH,
    authRole: role,
    audience: AUDIENCE,
    kvMount: KV_MOUNT,
    secretPath,
    caConfigMap: dev || (!v.install && !v.caCertFile) ? undefined : VAULT_CA_CONFIG_MAP,
    ready: [],
    outputs: { mode: v.mode, installed: v.install, address: v.address, inClusterAddress, configured: false },
  };

  // Once bootstrapped with token login the config has required the token (config-sections.ts).
  if (!v.bootstrapped) {
    void pulumi.log.warn(
      `Vault is ${v.install ? "installed" : "external"} but not configured: it needs the one-time bootstrap (README, "Bootstrapping Vault"), then ` +
        `${setCommands(config.stack, ["vault", "bootstrapped"], true)[0]}.`,
    );
    return base;
  }

  // An external Vault's CA, for ESO's stores (an installed one's is written by the bootstrap,
  // with its TLS Secret): the same file the program's own provider trusts.
  const caConfigMap =
    !v.install && base.caConfigMap && v.caCertFile
      ? new ConfigMap("vault-ca", {
          metadata: { name: base.caConfigMap, namespace: inputs.workloadNamespace, labels: { "veza.io/environment": env } },
          data: { "ca.crt": readFileSync(v.caCertFile, "utf8") },
        })
      : undefined;

  // The program's own connection to Vault. In dev it waits for the release (same pulumi up):
  // Helm waits until the dev pod is Ready (RollingUpdate, see VaultCluster).
  // jwt: the provider exchanges the CI system's OIDC token (TERRAFORM_VAULT_AUTH_JWT, never in
  // config or state) for a token of at most 1h, used as is: a child token would need
  // auth/token/create in the deployer's policy and could not outlive its parent anyway.
  // token: dev mode's root token, or a token an operator supplies (bootstrap run, own Vault).
  const provider = new VaultProvider(
    "vault",
    {
      address: v.address,
      // jwt with Pulumi: ESC's vault-login has logged in already and set VAULT_TOKEN, which the
      // provider reads when given no token (Pulumi Deployments cannot hand a raw OIDC token to it).
      ...(v.login.method === "token"
        ? { token: v.token }
        : v.login.issuer === "github"
          ? { authLoginJwt: { mount: JWT_PATHS.github, role: v.login.role } }
          : {}),
      skipChildToken: true,
      // The CA that signed `address`'s certificate (README: a private CA); else system roots.
      ...(v.caCertFile ? { caCertFile: v.caCertFile } : {}),
      // The provider asks Vault for its version on every plan (terraform-provider-vault's
      // CustomizeDiff); with Vault unreachable during a preview it dereferences a nil
      // version. The program installs this version, so it needs no probe. An external Vault's
      // version is its operator's: the provider reads it (sys/seal-status, unauthenticated),
      // so fields newer than that Vault are not sent to it.
      ...(v.install ? { vaultVersionOverride: VAULT_APP_VERSION } : {}),
      // Default 2 (about a second): too few for a Vault that has just turned Ready behind a
      // NodePort or a restarting active node. 10 retries back off 1-1.5 s each.
      maxRetries: 10,
    },
    { dependsOn: installed },
  );
  const db = config.database;
  // Vault role names take dashes; the PostgreSQL user takes underscores.
  const staticRole = db ? staticRoleName(db.appUsername) : undefined;
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
        // In the cluster: the API server's Service. Outside: the address Vault reaches it at, its
        // CA, and each login's own token for the review (its account gets system:auth-delegator).
        ...(v.install
          ? { kubernetesHost: IN_CLUSTER_API }
          : { kubernetesHost: v.kubernetesHost, kubernetesCaCert: v.kubernetesCaCert, reviewWithClientToken: true }),
        audience: AUDIENCE,
        roleName: role,
        boundServiceAccount: inputs.storeServiceAccount,
      },
      policyName: `veza-${env}-read`,
      // Dev: the program's root token enables the stdout device. HA: the audit devices are the
      // operator's bootstrap (bootstrapOptions), so the deployer can never switch them off.
      createAudit: dev,
      audit: { type: "file", path: "stdout" },
      createDatabaseMount: !!db,
      database: db
        ? {
            mountPath: DATABASE_ENGINE.mountPath,
            connectionName: DATABASE_ENGINE.connection,
            host: db.host,
            port: db.port,
            databaseName: db.name,
            sslMode: db.sslMode,
            ...(db.caCert ? { tlsCa: db.caCert } : {}),
            adminUsername: db.adminUsername,
            adminPassword: db.adminPassword,
            verifyConnection: db.verifyConnection,
            staticRole: { name: staticRole as string, username: db.appUsername, rotationSchedule: db.rotationSchedule },
            dynamicRoleNames: SERVICES.map(databaseRoleName),
            sql: { appSchema: db.appSchema, appGroupRole: db.appGroupRole, database: db.name },
          }
        : undefined,
      protect: config.protect,
    },
    { dependsOn: installed },
  );

  // Each service's own database login: dynamic role, policy and auth role (stacks/database.ts).
  const dbVault = db ? buildDatabaseAccess(config, provider, vaultConfig, AUDIENCE) : undefined;
  // Raft snapshots of the HA Vault the program installs (docs/vault-operations.md).
  const snapshots = v.snapshots && cluster ? buildSnapshots(config, v.snapshots, inputs.namespace, provider, vaultConfig) : undefined;
  // Its account can save Vault's whole storage: pods only from its Jobs, tokens only for them,
  if (snapshots) {
    new ServiceAccountGuard("vault-service-account-guard", {
      namespace: inputs.namespace,
      identityServiceAccounts: [],
      jobServiceAccounts: [SNAPSHOTS.jobName],
      labels: { "veza.io/environment": config.environment },
    });
    // And a Job as that account runs the CronJob's own template (kubectl create job --from=cronjob/…).
    new CronJobTemplateGuard(
      "vault-snapshot-template-guard",
      {
        namespace: inputs.namespace,
        cronJobName: SNAPSHOTS.jobName,
        serviceAccountName: SNAPSHOTS.jobName,
        labels: { "veza.io/environment": config.environment },
      },
      { dependsOn: [snapshots] },
    );
  }
  return {
    ...base,
    configured: true,
    ready: [...installed, vaultConfig, ...(caConfigMap ? [caConfigMap] : []), ...(dbVault ? [dbVault.access] : [])],
    database:
      db && dbVault
        ? {
            staticCredsPath: dbVault.staticCredsPath,
            access: dbVault.access,
            outputs: {
              connection: DATABASE_ENGINE.connection,
              migrationRole: staticRole,
              migrationRoleUser: db.appUsername,
              rotationSchedule: db.rotationSchedule,
              serviceRoles: Object.fromEntries(SERVICES.map((s) => [s, databaseRoleName(s)])),
              leaseTtl: db.defaultTtl,
              refreshInterval: db.refreshInterval,
            },
          }
        : undefined,
    outputs: {
      ...base.outputs,
      configured: true,
      kvPath: `${KV_MOUNT}/${secretPath}`,
      policy: `veza-${env}-read`,
      authRole: role,
      login: v.login.method === "jwt" ? `jwt: ${JWT_PATHS[v.login.issuer]}/role/${v.login.role}` : "token",
      ...(snapshots && v.snapshots
        ? { snapshots: { cronJob: SNAPSHOTS.jobName, schedule: v.snapshots.schedule, retentionDays: v.snapshots.retentionDays, location: snapshots.location } }
        : {}),
    },
    ...(snapshots ? { snapshotPodLabels: snapshots.podLabels } : {}),
  };
}

/** The snapshot CronJob's and its Vault identity's names (RaftSnapshots' defaults, stated here for the deployer's policy). */
export const SNAPSHOTS = { jobName: "vault-raft-snapshots", vaultName: "vault-raft-snapshots" } as const;

/** The active node's Service: a snapshot through a standby fails ("incomplete snapshot"). */
function activeVaultAddress(namespace: string): string {
  return `https://${VAULT_RELEASE_NAME}-active.${namespace}.svc:${VAULT_API_PORT}`;
}

/** The RaftSnapshots component for an installed HA Vault, from the stack's snapshot settings. */
function buildSnapshots(
  config: StackConfig,
  s: VaultSnapshotSettings,
  namespace: pulumi.Output<string>,
  provider: pulumi.ProviderResource,
  vaultConfig: VaultConfig,
): RaftSnapshots {
  const v = config.vault as NonNullable<StackConfig["vault"]>;
  const d = s.destination;
  const prefix = `vault/${config.environment}/`;
  let destination: SnapshotDestination;
  switch (d.kind) {
    case "pvc":
      destination = {
        kind: "pvc",
        claimName: SNAPSHOTS.jobName,
        size: d.size ?? STACK_DEFAULTS.vault.snapshots.pvcSize,
        ...(d.storageClassName ? { storageClassName: d.storageClassName } : {}),
      };
      break;
    case "s3": {
      const aws = config.aws as NonNullable<StackConfig["aws"]>;
      destination = {
        kind: "s3",
        bucketName: d.bucketName,
        prefix: d.prefix ?? prefix,
        region: aws.region,
        accountId: aws.accountId,
        oidcIssuer: aws.oidcIssuer,
      };
      break;
    }
    case "gcs":
      destination = { kind: "gcs", bucket: d.bucket, prefix: d.prefix ?? prefix, serviceAccountEmail: d.serviceAccountEmail };
      break;
    case "azure":
      destination = { kind: "azure", storageAccount: d.storageAccount, container: d.container, prefix: d.prefix ?? prefix, clientId: d.clientId };
      break;
  }
  return new RaftSnapshots(
    "vault-raft-snapshots",
    {
      namespace,
      vaultAddress: namespace.apply(activeVaultAddress),
      vaultCaSecretName: v.tlsSecretName,
      authPath: AUTH_PATH,
      jobName: SNAPSHOTS.jobName,
      vaultName: SNAPSHOTS.vaultName,
      schedule: s.schedule,
      retentionDays: s.retentionDays,
      image: `hashicorp/vault:${VAULT_APP_VERSION}@${VAULT_IMAGE_DIGEST}`,
      ...(d.kind === "pvc" ? {} : { uploaderImage: d.uploaderImage }),
      destination,
      vaultProvider: provider,
      labels: { "veza.io/environment": config.environment },
      tags: { "veza.io/environment": config.environment },
      // The snapshots are the way back after a lost cluster: kept like Vault's own data.
      protect: config.protect,
      dependsOn: [vaultConfig],
    },
    { dependsOn: [vaultConfig] },
  );
}
