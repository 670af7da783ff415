/**
 * Composition: turn a stack's validated config into component args. The only code,
 * with `config.ts` and `defaults.ts`, that knows about environments.
 */
import * as pulumi from "@pulumi/pulumi";
import {
  PREVIOUS_SUFFIX,
  SERVICES,
  type SecretSpec,
  SHARED_SECRET_NAME,
  generatedSecrets,
  serviceSecretName,
  serviceSecrets,
  serviceWorkloadName,
} from "../components/catalog";
import { ESO_REQUIRED_CRDS, ESO_VAULT_GENERATOR_CRD, ExternalSecretsOperator } from "../components/eso/operator";
import { TokenReviewAccess } from "../components/cluster/token-review-access";
import { Namespaces } from "../components/cluster/namespaces";
import { NetworkPolicies } from "../components/cluster/network-policies";
import { RELOADER_SECRET_ANNOTATIONS, Reloader } from "../components/cluster/reloader";
import { ServiceAccess } from "../components/cluster/service-access";
import { DatabaseCredentials } from "../components/eso/database-credentials";
import { ServiceAccountGuard } from "../components/cluster/service-account-guard";
import { RotationJob } from "../components/eso/rotation-job";
import { SecretStores, type StoreSpec, storeAccountName, storeServiceAccount } from "../components/eso/secret-stores";
import { ServiceSecrets, type DatabaseUrlSource, type RemoteSource } from "../components/eso/service-secrets";
import { GeneratedKeys } from "../components/keys/generated-keys";
import { KubernetesSecrets } from "../components/backends/kubernetes-secrets";
import { CLOUD_BACKENDS } from "./backends";
import type { StackConfig } from "./config-model";
import { MIGRATIONS, databaseAuthRoleName, databaseGeneratorName, databaseServiceAccount } from "./database";
import { type VaultPlatform, buildVault } from "./vault";

/** Stack outputs: names and addresses a user needs, never a secret value. */
export interface PlatformOutputs {
  environment: string;
  providers: string[];
  namespaces: Record<string, pulumi.Output<string>>;
  /** Kubernetes Secrets the services read, with their keys. */
  kubernetesSecrets: { name: string; keys: string[] }[];
  serviceAccounts: Record<string, pulumi.Output<string>>;
  /** SecretStore names (empty for providers [kubernetes]). */
  secretStores: string[];
  /** ExternalSecret names (equal to the Secrets they produce). */
  externalSecrets: string[];
  /** Where each backend keeps this environment's secrets (names and paths, no values). */
  backends: Record<string, unknown>;
  /** Rotation: generated keys' periods in days, the CronJob schedule, Vault's database roles. */
  rotation: Record<string, unknown>;
  vault?: VaultPlatform["outputs"];
  /** Commands for the spec's troubleshooting section, with this stack's names. */
  troubleshooting: string[];
}

/** Names of the stores, by backend. */
const STORE_NAMES = { vault: "vault-store", aws: "aws-store", gcp: "gcp-store", azure: "azure-store" } as const;
/** The rotation CronJob, and its ServiceAccount (RotationJob's default `jobName`). */
const ROTATION_JOB_NAME = "secrets-rotation";

/**
 * Build the platform for one stack. `now` is the rotation clock for generated keys
 * (tests pass fixed dates); `catalog` is the secret catalog (the benchmark passes larger ones).
 */
export function buildPlatform(config: StackConfig, catalog: readonly SecretSpec[], now: Date = new Date()): PlatformOutputs {
  const env = config.environment;
  const envLabels = { "veza.io/environment": env };
  // With Vault's database engine each service gets its own login, so database-url leaves the
  // shared Secret and lives only in each service's own (`veza-<service>-secrets`).
  const secrets = serviceSecrets(catalog, { databasePerService: !!config.database });
  const ns = config.namespaces;

  const namespaceNames: Record<string, string> = { workloads: ns.workloads };
  // Only the namespaces of what the program installs: an external Vault's or the platform's ESO's are not its own.
  if (config.vault?.install) namespaceNames.vault = ns.vault;
  if (config.eso?.install) namespaceNames.externalSecrets = ns.externalSecrets;
  // Pod Security "restricted" everywhere: the services, Reloader and the rotation job in the
  // workload namespace, Vault (components/vault/cluster.ts sets its security context) and
  // External Secrets Operator (its chart's defaults) all run non-root, without capabilities
  // or privilege escalation, under RuntimeDefault seccomp. A service that cannot must be fixed,
  // not the namespace relaxed.
  const podSecurity = { workloads: "restricted", vault: "restricted", externalSecrets: "restricted" } as const;
  const namespaces = new Namespaces("namespaces", {
    names: namespaceNames,
    holdSecrets: ["workloads", "vault"],
    labels: envLabels,
    podSecurity,
    protect: config.protect,
  });

  const access = new ServiceAccess("service-access", {
    namespace: namespaces.names.workloads,
    sharedSecret: SHARED_SECRET_NAME,
    services: SERVICES.map((service) => ({
      name: service,
      serviceAccount: serviceWorkloadName(service),
      // Besides the shared Secret, which ServiceAccess grants every service through one Role.
      secrets: secrets.filter((s) => s.service === service).map((s) => s.name),
    })),
    labels: envLabels,
  });

  // Every value the services need, as Pulumi secrets: generated, then supplied.
  const generated = new GeneratedKeys("generated-keys", {
    keys: generatedSecrets(catalog).map((g) => ({ key: g.key, ...config.generatedKeys[g.key], keepPrevious: g.source.keepPrevious })),
    now,
  });
  const values: Record<string, pulumi.Output<string>> = { ...generated.values };
  for (const spec of catalog) {
    if (spec.source.kind !== "generated" && config.supplied[spec.source.configKey]) values[spec.key] = config.supplied[spec.source.configKey];
  }
  // Every value is stored. With rotated database credentials database-url is not among them:
  // ESO builds it from Vault's database engine, and the config takes no supplied value for it.
  const byKey = new Map(catalog.flatMap((s) => [[s.key, s] as const, [`${s.key}${PREVIOUS_SUFFIX}`, s] as const]));
  const stored = Object.keys(values);
  const entries = stored.map((key) => ({ key, description: byKey.get(key)?.description ?? key, value: values[key] }));

  // The troubleshooting commands are added where the platform is complete (two returns).
  const outputs: Omit<PlatformOutputs, "troubleshooting"> = {
    environment: env,
    providers: config.providers,
    namespaces: namespaces.names,
    kubernetesSecrets: secrets.map((s) => ({ name: s.name, keys: s.keys })),
    serviceAccounts: access.serviceAccounts,
    secretStores: [],
    externalSecrets: [],
    backends: {},
    rotation: {
      generatedKeysDays: Object.fromEntries(Object.entries(config.generatedKeys).map(([k, v]) => [k, v.rotationDays])),
    },
  };

  // ESO does not restart pods (external-secrets#3218), nor does writing a Secret directly.
  if (config.rotation.installReloader)
    new Reloader("reloader", {
      namespace: namespaces.names.workloads,
      labels: envLabels,
      ...(config.charts.reloader ? { chart: config.charts.reloader } : {}),
    });

  // Each service's own Secrets may be mounted only by pods of their owner: RBAC covers reads
  // through the API, not the kubelet's (components/cluster/service-account-guard.ts).
  const serviceSecretOwners: Record<string, string[]> = Object.fromEntries(
    secrets.flatMap((s) => (s.service === undefined ? [] : [[s.name, [serviceWorkloadName(s.service)]]])),
  );

  // The spec's option 1: the program writes the Secrets itself, no operator.
  if (config.providers.includes("kubernetes")) {
    new ServiceAccountGuard("service-account-guard", {
      namespace: namespaces.names.workloads,
      identityServiceAccounts: [],
      secretOwners: serviceSecretOwners,
      labels: envLabels,
    });
    new KubernetesSecrets("kubernetes-secrets", {
      namespace: namespaces.names.workloads,
      secrets: secrets.map((s) => ({ name: s.name, data: Object.fromEntries(s.keys.map((k) => [k, values[k]])) })),
      labels: envLabels,
      annotations: config.rotation.installReloader ? { ...RELOADER_SECRET_ANNOTATIONS } : undefined,
      protect: config.protect,
    });
    outputs.backends.kubernetes = { namespace: ns.workloads, secrets: secrets.map((s) => s.name) };
    return { ...outputs, troubleshooting: [`kubectl get secret ${SHARED_SECRET_NAME} -n ${ns.workloads}`] };
  }

  // Backends ESO reads. Each store's ServiceAccount is the identity its backend trusts.
  const stores: StoreSpec[] = [];
  const sources: Partial<Record<keyof typeof STORE_NAMES, RemoteSource>> = {};
  const sa = (backend: keyof typeof STORE_NAMES) => ({ namespace: ns.workloads, name: storeServiceAccount(STORE_NAMES[backend]) });
  const remoteKeys = (prefix: string) => Object.fromEntries(stored.map((k) => [k, `${prefix}${k}`]));

  let vault: VaultPlatform | undefined;
  if (config.vault) {
    vault = buildVault(config, {
      namespace: namespaces.names.vault,
      workloadNamespace: namespaces.names.workloads,
      storeServiceAccount: sa("vault"),
      values: Object.fromEntries(stored.map((k) => [k, values[k]])),
    });
    outputs.vault = vault.outputs;
    if (vault.configured) {
      const common = {
        server: vault.inClusterAddress,
        authMountPath: vault.authPath,
        role: vault.authRole,
        audience: vault.audience,
        ...(vault.reviewAudience ? { reviewAudience: vault.reviewAudience } : {}),
        caConfigMap: vault.caConfigMap,
      };
      stores.push({ kind: "vault", name: STORE_NAMES.vault, kvMount: vault.kvMount, ...common });
      sources.vault = { kind: "vault-kv", storeName: STORE_NAMES.vault, path: vault.secretPath };
      // The migration store: its own ServiceAccount and Vault role, which read the schema owner's
      // static credentials and nothing else. The services' logins come from generators instead.
      if (vault.database) {
        stores.push({ kind: "vault", name: MIGRATIONS.storeName, ...common, role: databaseAuthRoleName(env, "migrations") });
      }
    }
  }
  // The cloud backends (AWS, Google Cloud, Azure): one table, one SecretStore each, read per key.
  for (const backend of CLOUD_BACKENDS) {
    if (!backend.enabled(config)) continue;
    const prefix = backend.prefix(env);
    const built = backend.build({ config, env, prefix, secrets: entries, serviceAccount: sa(backend.name), storeName: STORE_NAMES[backend.name] });
    stores.push(built.store);
    sources[backend.name] = { kind: "per-key", storeName: STORE_NAMES[backend.name], remoteKeys: remoteKeys(prefix) };
    outputs.backends[backend.name] = built.outputs;
  }

  // External Secrets Operator, its stores, and the ExternalSecrets that feed the services.
  const eso = config.eso as NonNullable<StackConfig["eso"]>;
  const databaseGenerators = !!(config.database && vault?.database);
  const operator = new ExternalSecretsOperator("external-secrets", {
    namespace: eso.install ? namespaces.names.externalSecrets : ns.externalSecrets,
    install: eso.install,
    ...(eso.install ? {} : { serviceAccount: eso.serviceAccount, crds: [...ESO_REQUIRED_CRDS, ...(databaseGenerators ? [ESO_VAULT_GENERATOR_CRD] : [])] }),
    ...(config.charts.eso ? { chart: config.charts.eso } : {}),
    watchNamespace: namespaces.names.workloads,
    // The stores' accounts, and each service's database generator account (it logs in to Vault too).
    tokenServiceAccounts: [...stores.map(storeAccountName), ...(config.database && vault?.database ? SERVICES.map(databaseServiceAccount) : [])],
    imageDigest: eso.imageDigest,
    ...(eso.certManagerIssuer ? { webhookCertificateIssuer: eso.certManagerIssuer } : {}),
    replicas: eso.replicas,
    serviceMonitor: eso.serviceMonitor,
    labels: envLabels,
    protect: config.protect,
  });
  // Vault's API only from ESO's controller, its peers and the deployer; ESO's egress only to
  // what it calls.
  if (config.network) {
    new NetworkPolicies("network-policies", {
      ...(config.vault?.install ? { vaultNamespace: namespaces.names.vault } : {}),
      ...(config.vault && !config.vault.install ? { externalVaultPort: vaultPort(config.vault.address) } : {}),
      esoNamespace: eso.install ? namespaces.names.externalSecrets : ns.externalSecrets,
      esoEgress: eso.install,
      deployerCidrs: config.network.deployerCidrs,
      deployerNamespaces: config.network.deployerNamespaces,
      ...(vault?.snapshotPodLabels ? { vaultNamespaceClients: [vault.snapshotPodLabels] } : {}),
      apiServerCidrs: config.network.apiServerCidrs,
      cloudApis: config.esoProviders.some((p) => p !== "vault"),
      esoMetrics: eso.install && eso.serviceMonitor,
      // Before the CronJob exists too: its pods are never unconfined, even for a first run.
      rotationJob: { namespace: namespaces.names.workloads, podLabels: { "app.kubernetes.io/name": ROTATION_JOB_NAME } },
      ...(config.rotation.installReloader ? { reloader: { namespace: namespaces.names.workloads } } : {}),
      labels: envLabels,
    });
  }
  const storeSet = new SecretStores("secret-stores", {
    namespace: namespaces.names.workloads,
    stores,
    labels: envLabels,
    dependsOn: [...operator.ready, ...(vault?.ready ?? [])],
  });
  outputs.secretStores = stores.map((s) => s.name);

  // The first backend that is ready is the source; the others hold the same values, ready for failover.
  const primary = config.esoProviders.map((p) => sources[p]).find((s): s is RemoteSource => !!s);
  let database: DatabaseUrlSource | undefined;
  let databaseCredentials: DatabaseCredentials | undefined;
  if (config.database && vault?.database) {
    const db = config.database;
    const key = catalog.find((s) => s.source.kind === "database")?.key ?? "database-url";
    databaseCredentials = new DatabaseCredentials("database-credentials", {
      namespace: namespaces.names.workloads,
      vault: {
        server: vault.inClusterAddress,
        authMountPath: vault.authPath,
        audience: vault.audience,
        ...(vault.reviewAudience ? { reviewAudience: vault.reviewAudience } : {}),
        caConfigMap: vault.caConfigMap,
      },
      services: SERVICES.map((service) => ({
        service,
        generatorName: databaseGeneratorName(service),
        serviceAccount: databaseServiceAccount(service),
        role: vault?.database?.access.authRoles[service] as pulumi.Output<string>,
        credsPath: vault?.database?.access.credsPaths[service] as pulumi.Output<string>,
      })),
      database: { host: db.host, port: db.port, name: db.name, sslMode: db.sslMode },
      migrations: {
        secretName: MIGRATIONS.secretName,
        key,
        storeName: MIGRATIONS.storeName,
        staticCredsPath: vault.database.staticCredsPath,
        jobServiceAccount: MIGRATIONS.jobServiceAccount,
        refreshInterval: MIGRATIONS.refreshInterval,
      },
      deletionPolicy: eso.deletionPolicy,
      labels: envLabels,
      dependsOn: [...operator.ready, ...storeSet.stores],
    });
    database = {
      key,
      // Each service's own Secret reads its own generator (the ones carrying the key use it).
      generators: Object.fromEntries(SERVICES.map((service) => [serviceSecretName(service), databaseGeneratorName(service)])),
      refreshInterval: db.refreshInterval,
      host: db.host,
      port: db.port,
      database: db.name,
      sslMode: db.sslMode,
      ...(db.sslRootCert ? { sslRootCert: db.sslRootCert } : {}),
    };
  }
  // database-url comes only from Vault's database engine when the stack configures one:
  // until Vault is bootstrapped there is no complete Secret to produce.
  if (primary && (!config.database || database)) {
    const annotations = config.rotation.installReloader ? { ...RELOADER_SECRET_ANNOTATIONS } : undefined;
    new ServiceSecrets("service-secrets", {
      namespace: namespaces.names.workloads,
      secrets: secrets.map((s) => ({ name: s.name, keys: s.keys })),
      source: primary,
      database,
      refreshInterval: eso.refreshInterval,
      creationPolicy: eso.creationPolicy,
      deletionPolicy: eso.deletionPolicy,
      secretAnnotations: annotations,
      labels: envLabels,
      dependsOn: [...operator.ready, ...storeSet.stores, ...(databaseCredentials?.generators ?? [])],
    });
    outputs.externalSecrets = [...secrets.map((s) => s.name), ...(databaseCredentials ? [MIGRATIONS.secretName] : [])];
    new RotationJob(ROTATION_JOB_NAME, {
      namespace: namespaces.names.workloads,
      schedule: config.rotation.schedule,
      // Every ExternalSecret the program makes, the migration Job's too (a fresh owner password).
      externalSecrets: outputs.externalSecrets,
      labels: envLabels,
      dependsOn: operator.ready,
    });
    outputs.rotation.cronJob = { name: ROTATION_JOB_NAME, schedule: config.rotation.schedule };
  } else {
    void pulumi.log.warn(
      `No ExternalSecrets yet: ${primary ? "database-url comes from Vault's database engine" : `no backend is ready (${config.esoProviders.join(", ")})`}; ` +
        `they are created once Vault is bootstrapped (README: "Bootstrapping Vault").`,
    );
  }
  // No pod may run as a store's ServiceAccount (the identity Vault and the clouds trust), and
  // only the Job controller as the rotation job's.
  // The database generators' accounts log in to Vault too: no pod may borrow them either.
  const identities = [...new Set([...stores.map(storeAccountName), ...(config.database && vault?.database ? SERVICES.map(databaseServiceAccount) : [])])];
  // And the schema owner's Secret, the migration Job's alone.
  const secretOwners = { ...serviceSecretOwners, ...(databaseCredentials ? { [MIGRATIONS.secretName]: [MIGRATIONS.jobServiceAccount] } : {}) };
  if (identities.length + Object.keys(secretOwners).length > 0) {
    new ServiceAccountGuard("service-account-guard", {
      namespace: namespaces.names.workloads,
      identityServiceAccounts: identities,
      jobServiceAccounts: outputs.rotation.cronJob ? [ROTATION_JOB_NAME] : [],
      secretOwners,
      labels: envLabels,
    });
  }
  // A Vault outside the cluster reviews each login with the login's own token: the accounts
  // that log in to it (identities only, guarded above) may create TokenReviews.
  if (vault?.configured && vault.reviewsWithClientToken) {
    const vaultLogins = [
      ...stores.filter((s) => s.kind === "vault").map(storeAccountName),
      ...(databaseGenerators ? SERVICES.map(databaseServiceAccount) : []),
    ];
    new TokenReviewAccess("vault-token-review", {
      bindingName: `veza-${env}-vault-token-review`,
      serviceAccounts: [...new Set(vaultLogins)].map((name) => ({ namespace: namespaces.names.workloads, name })),
      labels: envLabels,
    });
  }
  if (vault?.database) outputs.rotation.database = vault.database.outputs;
  const troubleshooting = [
    `kubectl describe externalsecret ${SHARED_SECRET_NAME} -n ${ns.workloads}`,
    `kubectl logs -n ${ns.externalSecrets} deployment/external-secrets`,
    ...stores.map((s) => `kubectl describe secretstore ${s.name} -n ${ns.workloads}`),
    `kubectl get secret ${SHARED_SECRET_NAME} -n ${ns.workloads}`,
    `kubectl annotate externalsecret ${SHARED_SECRET_NAME} force-sync=$(date +%s) --overwrite -n ${ns.workloads}`,
  ];
  return { ...outputs, troubleshooting };
}

/** The port of a Vault URL: its explicit port, else the scheme's (443 for https, 80 for http). */
export function vaultPort(address: string): number {
  const url = new URL(address);
  return url.port ? Number(url.port) : url.protocol === "https:" ? 443 : 80;
}
