/**
 * The Vault and database sections of a stack's config: defaults applied, cross-key rules
 * checked (each problem named with its fix), typed settings returned. Called by
 * `loadStackConfig` with the parsed config; they add problems and warnings, never throw.
 */
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { DEV_ROOT_TOKEN_RULE, devRootTokenError } from "../components/vault/cluster-args";
import type { CheckContext, DatabaseSettings, VaultSettings, VaultSnapshotSettings } from "./config-model";
import { caCertProblem } from "./ca-cert";
import { STACK_DEFAULTS, loginMethodDefault, loginRoleDefault, vaultReplicasDefault } from "./defaults";
import { joinCommands, rmCommand, setCommands } from "./fixes";
import { DEV_ROOT_TOKEN_FIX, fixCommand } from "./problems";
import { PROJECT, durationSeconds, secondsAsDuration } from "./schema";

/**
 * The Vault settings of a stack that lists `vault`: mode, replicas, address, CA, login and
 * token, with every cross-key rule reported through `c.add` (nothing is thrown here).
 */
export function vaultSettings(c: CheckContext): VaultSettings {
  const { stack, env, cfg, d, secrets, problems, warnings, add, missing } = c;
  const v = cfg.vault ?? {};
  const mode = v.mode ?? d.vaultMode;
  const install = v.install ?? true;
  if (mode === "dev" && env !== "development") {
    add(["vault", "mode"], `"dev" (in-memory, unsealed, root token) is only allowed in development; got it in ${env}`);
  }
  if (install && env === "production" && !v.seal) {
    add(["vault", "seal"], "production needs cloud-KMS auto-unseal (awskms, gcpckms or azurekeyvault)");
  }
  const replicas = v.replicas ?? vaultReplicasDefault(mode);
  if (mode === "ha" && (replicas < 3 || replicas % 2 === 0)) {
    add(["vault", "replicas"], `Raft needs an odd number of at least 3 voters; got ${replicas}`);
  }
  const bootstrapped = mode === "dev" ? true : (v.bootstrapped ?? false);
  const devNodePort = v.devNodePort ?? STACK_DEFAULTS.vault.devNodePort;
  if (!install) externalVaultChecks(c, bootstrapped);
  else
    for (const key of ["kubernetesHost", "kubernetesCaCert", "kubernetesApiAudience"] as const)
      if (v[key] !== undefined)
        add(
          ["vault", key],
          "is only for a Vault the program does not install (vault.install false); an installed Vault reaches the API server from its own pod",
          rmCommand(stack, ["vault", key]),
        );
  if (install && mode === "ha" && bootstrapped && !v.address) {
    add(["vault", "address"], "is required once Vault is bootstrapped: the address this program's Vault provider uses");
  }
  let token: pulumi.Output<string> | undefined;
  const tokenKey = mode === "dev" ? "vaultDevRootToken" : "vaultToken";
  const login = v.login ?? {};
  // Dev mode has only its root token; everywhere else the program logs in with a short-lived
  // workload identity, and a stored token is the explicit exception.
  const method = mode === "dev" ? "token" : (login.method ?? loginMethodDefault(mode));
  const issuer = login.issuer ?? STACK_DEFAULTS.vault.loginIssuer;
  if (mode === "dev" && login.method === "jwt")
    add(
      ["vault", "login", "method"],
      'must be "token" in dev mode (the dev server\'s root token); jwt is for ha',
      rmCommand(stack, ["vault", "login", "method"]),
    );
  if (bootstrapped && method === "jwt" && issuer === "github" && !login.githubRepository) {
    add(
      ["vault", "login", "githubRepository"],
      "is required with vault.login.method jwt and issuer github: the repository whose deploy job (GitHub environment of the same name) logs in to Vault",
    );
  }
  if (bootstrapped && method === "jwt" && issuer === "pulumi" && !login.pulumiOrganization) {
    add(
      ["vault", "login", "pulumiOrganization"],
      "is required with vault.login.method jwt and issuer pulumi: the organization whose Deployments of this stack log in to Vault",
    );
  }
  if (method === "jwt" && secrets.vaultToken !== undefined) {
    add(
      ["vaultToken"],
      "is set but vault.login.method is jwt: a stored long-lived token is exactly what jwt login replaces; revoke it in Vault (vault token revoke) and remove it",
      rmCommand(stack, ["vaultToken"]),
    );
  }
  // Dev mode is always bootstrapped with token login (its root token).
  if (bootstrapped && method === "token") {
    if (secrets[tokenKey] === undefined) {
      if (!problems.some((p) => p.key === tokenKey)) {
        if (mode === "dev") missing([tokenKey], "is required: the dev server's root token", DEV_ROOT_TOKEN_FIX(stack));
        else
          missing(
            [tokenKey],
            `is required once vault.bootstrapped is true with vault.login.method token: the token \`pulumi up\` configures Vault with (or log in with jwt: ${setCommands(stack, ["vault", "login", "method"], "jwt")[0]})`,
          );
      }
    } else if (mode === "dev" && devRootTokenError(secrets[tokenKey])) {
      // Checked here, before anything is registered; the value is never echoed.
      add([tokenKey], `${DEV_ROOT_TOKEN_RULE}; the value set does not`, DEV_ROOT_TOKEN_FIX(stack));
    } else {
      token = pulumi.secret(secrets[tokenKey]);
    }
  }
  // Registered as configured, not made absolute: an absolute path would differ between
  // checkouts (a laptop, each CI runner), so every preview would report a change to the Vault
  // provider and its resources would churn. The provider reads a relative path from its working
  // directory, which is the program's (pulumi/pulumi sdk/go/common/resource/plugin:
  // provider_plugin.go starts a provider with `newPlugin(ctx, ctx.Pwd, ...)`, plugin.go runs it
  // with `cmd.Dir = pwd`; the language host runs the program there too: the project directory),
  // so the file checked here, from the program's working directory, is the file it reads.
  const caCertFile = v.caCertFile;
  if (caCertFile !== undefined) {
    const problem = caCertProblem(path.resolve(caCertFile));
    if (problem) add(["vault", "caCertFile"], `${JSON.stringify(caCertFile)} ${problem}`);
  } else if (mode === "ha" && bootstrapped && v.address?.startsWith("https://")) {
    warnings.push(
      `${PROJECT}:vault.caCertFile is not set: the Vault provider verifies ${v.address} against the system's CA roots only; with a private CA (README, "Bootstrapping Vault") every Vault resource fails with "x509: certificate signed by unknown authority"`,
    );
  }
  // Raft snapshots: an installed HA Vault's, on unless turned off. A dev server keeps nothing.
  const snap = v.snapshots;
  let snapshots: VaultSnapshotSettings | undefined;
  if (install && mode === "dev" && snap !== undefined && snap.enabled !== false) {
    add(["vault", "snapshots"], "applies only to an HA Vault (vault.mode ha): a dev server keeps its data in memory", rmCommand(stack, ["vault", "snapshots"]));
  } else if (install && mode === "ha" && snap?.enabled !== false) {
    const destination = snap?.destination ?? { kind: "pvc" as const };
    if (destination.kind === "s3" && !cfg.aws)
      add(
        ["vault", "snapshots", "destination", "kind"],
        "is s3, but the stack has no aws section: the bucket, its KMS key and the uploader's IRSA role are made in aws.accountId and aws.region, trusting aws.oidcIssuer (set those, or keep snapshots on a PVC in Vault's namespace)",
        rmCommand(stack, ["vault", "snapshots", "destination"]),
      );
    snapshots = {
      schedule: snap?.schedule ?? STACK_DEFAULTS.vault.snapshots.schedule,
      retentionDays: snap?.retentionDays ?? d.snapshotRetentionDays,
      destination,
    };
  }
  return {
    mode,
    install,
    ...(snapshots ? { snapshots } : {}),
    ...(v.kubernetesHost ? { kubernetesHost: v.kubernetesHost } : {}),
    ...(v.kubernetesCaCert ? { kubernetesCaCert: v.kubernetesCaCert } : {}),
    ...(v.kubernetesApiAudience ? { kubernetesApiAudience: v.kubernetesApiAudience } : {}),
    replicas,
    caCertFile,
    address:
      v.address ?? (mode === "dev" ? `http://127.0.0.1:${devNodePort}` : `https://vault.${cfg.namespaces?.vault ?? STACK_DEFAULTS.namespaces.vault}.svc:8200`),
    tlsSecretName: v.tlsSecretName ?? STACK_DEFAULTS.vault.tlsSecretName,
    storageSize: v.storageSize ?? STACK_DEFAULTS.vault.storageSize,
    auditStorageSize: v.auditStorageSize ?? STACK_DEFAULTS.vault.auditStorageSize,
    resources: v.resources ?? d.vaultResources,
    bootstrapped,
    devNodePort,
    seal: v.seal,
    token,
    login: {
      method,
      issuer,
      role: cfg.vaultLoginRole ?? loginRoleDefault(env),
      ...(login.githubRepository ? { githubRepository: login.githubRepository } : {}),
      ...(login.githubRepositoryId ? { githubRepositoryId: login.githubRepositoryId } : {}),
      ...(login.pulumiOrganization ? { pulumiOrganization: login.pulumiOrganization } : {}),
    },
  };
}

/** Whether the program installs Reloader: `rotation.installReloader`, else not when the cluster has one, else the environment's default. */
export function installsReloader(cfg: CheckContext["cfg"], d: CheckContext["d"]): boolean {
  return cfg.rotation?.installReloader ?? (cfg.rotation?.reloaderInstalled ? false : d.installReloader);
}

/** Keys that describe the Vault the program installs: refused with `vault.install` false, where they would be ignored. */
const INSTALL_ONLY_KEYS = ["replicas", "tlsSecretName", "storageSize", "auditStorageSize", "resources", "devNodePort", "seal", "snapshots"] as const;

/** A Vault the program configures but does not install: its address, and how it reviews the cluster's tokens. */
function externalVaultChecks(c: CheckContext, bootstrapped: boolean): void {
  const { stack, cfg, add } = c;
  const v = cfg.vault ?? {};
  for (const key of INSTALL_ONLY_KEYS)
    if (v[key] !== undefined)
      add(["vault", key], "applies only to a Vault the program installs, and vault.install is false: remove it", rmCommand(stack, ["vault", key]));
  if (!v.address) add(["vault", "address"], "is required with vault.install false: the address of the Vault this program configures");
  if (bootstrapped && !v.kubernetesHost)
    add(
      ["vault", "kubernetesHost"],
      "is required with vault.install false: Vault runs outside the cluster, so its Kubernetes auth reviews tokens at this API server address (as Vault reaches it)",
    );
  if (bootstrapped && !v.kubernetesApiAudience)
    add(
      ["vault", "kubernetesApiAudience"],
      "is required with vault.install false: Vault sends each login's own ServiceAccount token to the API server for review, and the API server accepts only tokens of its own audience (its issuer: kubectl get --raw /.well-known/openid-configuration)",
    );
}

/**
 * The database settings when the stack sets `database` and uses Vault (`vault`, the stack's
 * Vault settings: rotated credentials need Vault's database engine); `undefined` otherwise,
 * with a warning if `database` is ignored.
 */
export function databaseSettings(c: CheckContext, vault: VaultSettings | undefined): DatabaseSettings | undefined {
  const { stack, cfg, d, secrets, problems, warnings, add, missing } = c;
  if (cfg.database && !vault) {
    // Rotated credentials need Vault's database engine; without it database-url is supplied.
    warnings.push(
      `${PROJECT}:database is ignored: rotated database credentials need vault in providers; database-url comes from the databaseUrl secret instead`,
    );
  }
  if (!cfg.database || !vault) return undefined;
  {
    const db = cfg.database;
    const rotationSchedule = db.rotationSchedule ?? STACK_DEFAULTS.database.rotationSchedule;
    const defaultTtl = db.defaultTtl ?? d.databaseLeaseTtl;
    const ttl = durationSeconds(defaultTtl);
    // Half the TTL by default: the previous login stays valid for the other half, while
    // Reloader rolls the pods onto the new one (docs/database.md). At least 1s, so a TTL
    // under 2s is refused below rather than failing here.
    const halfTtl = secondsAsDuration(Math.max(1, Math.floor(ttl / 2)));
    const refreshInterval = db.refreshInterval ?? halfTtl;
    const unset = (key: string): string => rmCommand(stack, ["database", key]);
    if (db.rotationPeriod !== undefined) {
      add(
        ["database", "rotationPeriod"],
        `was replaced by database.rotationSchedule (cron, UTC; default "${STACK_DEFAULTS.database.rotationSchedule}"): the migration login now rotates at a time you choose`,
        joinCommands([unset("rotationPeriod"), fixCommand(stack, ["database", "rotationSchedule"])]),
      );
    }
    if (db.maxTtl !== undefined) {
      add(["database", "maxTtl"], `was removed: service logins are never renewed, so each lease ends at database.defaultTtl`, unset("maxTtl"));
    }
    const sslMode = db.sslMode ?? d.sslMode;
    for (const k of ["caCert", "sslRootCert"] as const) {
      if (db[k] !== undefined && sslMode !== "verify-ca" && sslMode !== "verify-full") {
        add(
          ["database", "sslMode"],
          `is "${sslMode}", which verifies no certificate, but database.${k} is set: use verify-full (or verify-ca)`,
          setCommands(stack, ["database", "sslMode"], "verify-full")[0],
        );
      }
    }
    if (ttl < 600) {
      add(["database", "defaultTtl"], `must be at least 10m (each login must outlive a pod rollout); got "${defaultTtl}"`);
    } else if (durationSeconds(refreshInterval) * 2 > ttl) {
      add(
        ["database", "refreshInterval"],
        `(${refreshInterval}) must be at most half of database.defaultTtl (${defaultTtl}): the previous login must stay valid while the pods restart`,
        setCommands(stack, ["database", "refreshInterval"], halfTtl)[0],
      );
    } else if (durationSeconds(refreshInterval) < 60) {
      add(
        ["database", "refreshInterval"],
        `must be at least 1m (each refresh makes a database login); got "${refreshInterval}"`,
        setCommands(stack, ["database", "refreshInterval"], halfTtl)[0],
      );
    }
    if (!installsReloader(cfg, d) && !cfg.rotation?.reloaderInstalled) {
      add(
        ["rotation", "installReloader"],
        "must be true with database (or rotation.reloaderInstalled, when the cluster runs Reloader already): each refresh gives every service a new login, and only Reloader moves the pods onto it before the old one expires",
        setCommands(stack, ["rotation", "installReloader"], true)[0],
      );
    }
    // Needed only by the run that configures Vault (README, "Bootstrapping Vault": the first
    // install of an HA Vault comes before the database bootstrap that makes this password).
    if (vault.bootstrapped && secrets.databaseAdminPassword === undefined && !problems.some((p) => p.key === "databaseAdminPassword")) {
      missing(
        ["databaseAdminPassword"],
        "is required once vault.bootstrapped is true: the password of database.adminUsername, which Vault rotates after first use",
      );
    }
    return {
      host: db.host,
      port: db.port ?? STACK_DEFAULTS.database.port,
      name: db.name ?? STACK_DEFAULTS.database.name,
      adminUsername: db.adminUsername ?? STACK_DEFAULTS.database.adminUsername,
      appUsername: db.appUsername ?? STACK_DEFAULTS.database.appUsername,
      appGroupRole: db.appGroupRole ?? STACK_DEFAULTS.database.appGroupRole,
      appSchema: db.appSchema ?? STACK_DEFAULTS.database.appSchema,
      rotationSchedule,
      defaultTtl,
      defaultTtlSeconds: ttl,
      refreshInterval,
      sslMode: db.sslMode ?? d.sslMode,
      ...(db.caCert ? { caCert: db.caCert } : {}),
      ...(db.sslRootCert ? { sslRootCert: db.sslRootCert } : {}),
      verifyConnection: db.verifyConnection ?? STACK_DEFAULTS.database.verifyConnection,
      adminPassword: pulumi.secret(secrets.databaseAdminPassword ?? ""),
    };
  }
}
