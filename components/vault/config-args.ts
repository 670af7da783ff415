/**
 * What VaultConfig takes (one environment's Vault configuration) and its validation, checked
 * before any child is registered: one message naming the argument, what is wrong and a fix.
 */
import type * as pulumi from "@pulumi/pulumi";
import { validateDatabaseSqlOptions } from "./database-sql";
import { DNS_LABEL, DNS_SUBDOMAIN, PG_IDENTIFIER, VAULT_NAME, VAULT_PATH } from "../rules";

/** libpq `sslmode` values. */
export type PostgresSslMode = "disable" | "allow" | "prefer" | "require" | "verify-ca" | "verify-full";

/** How External Secrets Operator logs in to Vault (the kubernetes auth method). */
export interface VaultKubernetesAuthArgs {
  /** Mount path of the kubernetes auth method. Default: `"kubernetes"`. */
  path?: string;
  /**
   * Kubernetes API server Vault calls to review ServiceAccount tokens (TokenReview), an
   * `https://` URL. Default: `"https://kubernetes.default.svc"` (Vault runs in the cluster).
   * Used only when `createAuthBackend` is true: the auth method's config belongs to its owner.
   */
  kubernetesHost?: string;
  /**
   * PEM CA certificate(s) of `kubernetesHost`'s serving certificate. Default: none, which in
   * a pod means the pod's own CA, and outside the cluster (`reviewWithClientToken`) Vault's
   * system roots. Used only when `createAuthBackend` is true.
   */
  kubernetesCaCert?: string;
  /**
   * Vault runs outside the cluster (no pod ServiceAccount token or CA to read): each login's
   * own ServiceAccount token is sent with its TokenReview (`disable_local_ca_jwt`, no
   * reviewer JWT stored), so every ServiceAccount that logs in needs `system:auth-delegator`,
   * which the caller binds. Default: `false` (Vault in the cluster reviews with its own
   * pod's token, re-read as it rotates).
   */
  reviewWithClientToken?: boolean;
  /**
   * Audience the role requires in the ServiceAccount token, e.g. `"vault"`. Must equal the
   * audience ESO's SecretStore requests (`serviceAccountRef.audiences`), so a token minted for
   * another service cannot be replayed against Vault.
   */
  audience: string;
  /** Vault role ESO logs in as, e.g. `"veza-production-eso"`. */
  roleName: string;
  /** The one ServiceAccount allowed to log in: ESO's SecretStore account. No `*`. */
  boundServiceAccount: { namespace: string; name: string };
  /** TTL of the tokens the role issues, in seconds. Default: `600`. ESO logs in per sync. */
  tokenTtlSeconds?: number;
  /** Longest life of a renewed token, in seconds. Default: `1800`. At least `tokenTtlSeconds`. */
  tokenMaxTtlSeconds?: number;
}

/** Vault's audit device. One per Vault: see `createAudit`. */
export interface VaultAuditArgs {
  /** Only the file device: it writes JSON lines to a file or to the pod's log. */
  type: "file";
  /**
   * `file_path`: `"stdout"` in dev (the pod's log), `"/vault/audit/audit.log"` in HA where the
   * cluster component mounts the audit volume. Hazard: Vault refuses every request when its
   * only audit device cannot write, so a full audit volume stops Vault.
   */
  path: string;
}

/** The database secrets engine for PostgreSQL ("Automatic Rotation with Vault"). */
export interface VaultDatabaseArgs {
  /** Mount path of the database secrets engine. Default: `"database"`. */
  mountPath?: string;
  /** Connection name (`<mountPath>/config/<name>`), e.g. `"veza"`. */
  connectionName: string;
  /** PostgreSQL host name or IPv4 address, as Vault reaches it. A plain value: it is checked, then templated into the connection URL. */
  host: string;
  /** PostgreSQL port, 1-65535. */
  port: number;
  /** The application database Vault connects to; equal to `sql.database`. */
  databaseName: string;
  /** libpq `sslmode` of Vault's connection. Use `verify-full` where the server has a CA-signed certificate. */
  sslMode: PostgresSslMode;
  /**
   * PEM CA certificate(s) Vault verifies the server's certificate with (`tls_ca`), for
   * `verify-ca`/`verify-full` against a private CA. Default: Vault's system roots.
   */
  tlsCa?: string;
  /** The role Vault connects as (LOGIN CREATEROLE, not superuser: see `bootstrapSql`). */
  adminUsername: string;
  /**
   * Its password until the operator runs `rotate-root` (then only Vault knows it). Wrapped as a
   * Pulumi secret here whatever the caller passes. Sent to Vault only on create or when it
   * changes (terraform-provider-vault#1876), so a rotated password is never overwritten by an
   * unrelated update; changing it on purpose re-points Vault at a password a DBA just reset.
   */
  adminPassword: pulumi.Input<string>;
  /**
   * Have Vault connect when the connection is written. `true` wherever the database is up before
   * `pulumi up`; note the static role is rotated on creation, which needs the database anyway.
   */
  verifyConnection: boolean;
  /** Vault's connection pool size. Default: `4` (Vault's own default, stated). */
  maxOpenConnections?: number;
  /**
   * Static role: the schema owner, for migrations only. Vault owns `username`'s password and
   * rotates it on `rotationSchedule` (five-field cron, UTC, e.g. `"0 4 * * 0"`), a time the team
   * picks, rather than every N hours from whenever the role was written. The previous password
   * stops working at once, so no service uses this login (they have `dynamicRoleNames`).
   */
  staticRole: { name: string; username: string; rotationSchedule: string };
  /**
   * The dynamic roles the connection may serve (its `allowed_roles`), one per service, made by
   * `DatabaseAccess`. Listed here because the connection is written first.
   */
  dynamicRoleNames: string[];
  /** Names the SQL statements use (`database-sql.ts`); `database` must equal `databaseName`. */
  sql: { appSchema: string; appGroupRole: string; database: string };
}

export interface VaultConfigArgs {
  /** A `vault.Provider` with Vault's address and token. Required: never the ambient `VAULT_ADDR`. */
  provider: pulumi.ProviderResource;
  /** KV v2 mount path. Default: `"secret"`. */
  kvMount?: string;
  /**
   * Create the KV v2 mount. `false` for dev-mode Vault, which already mounts `secret/` as KV v2
   * (mounting it again fails), and for every environment but one sharing a Vault.
   */
  createKvMount: boolean;
  /**
   * Path of this environment's secret inside the mount, e.g. `"veza/production"` (data path
   * `<kvMount>/data/<secretPath>`). Relative: no leading or trailing `/`, no `..`, no glob.
   */
  secretPath: string;
  /**
   * Catalog key → value, written together as one KV v2 secret. Wrapped as a Pulumi secret here.
   * Keys become Kubernetes Secret keys: letters, digits, `.`, `_`, `-`.
   */
  secrets: Record<string, pulumi.Input<string>>;
  /** ESO's login: auth method, its role and the ServiceAccount bound to it. */
  kubernetesAuth: VaultKubernetesAuthArgs;
  /**
   * Enable and configure the kubernetes auth method at `kubernetesAuth.path`. One per Vault:
   * `true` for exactly one environment of a shared Vault; the others add only their role.
   */
  createAuthBackend: boolean;
  /** Name of this environment's policy, e.g. `"veza-production-read"`. Not `default` or `root`. */
  policyName: string;
  /** The audit device. Created only when `createAudit` is true. */
  audit?: VaultAuditArgs;
  /** Enable `audit` (one per Vault). Needs `audit`. */
  createAudit: boolean;
  /**
   * A second audit device, `file` to the pod's stdout at device path `stdout`, where the
   * cluster's log pipeline (Fluent Bit, the cloud's agent) collects and ships it. Vault blocks
   * every request only when no device can write, so a full audit volume no longer stops it,
   * and the log leaves the cluster. Created with `createAudit`. Default: `false`. Use where
   * `audit.path` is a file; with `audit.path: "stdout"` it would log everything twice.
   */
  logPipelineAudit?: boolean;
  /** The database secrets engine. Omit where database-url is supplied rather than rotated. */
  database?: VaultDatabaseArgs;
  /** Mount the database secrets engine at `database.mountPath` (one per path per Vault). Needs `database`. */
  createDatabaseMount: boolean;
  /**
   * Protect what cannot be rebuilt from code: the KV mount and secret (values and version
   * history), the database mount (deleting it revokes every lease) and connection. Default: `false`.
   */
  protect?: boolean;
}

/** Vault paths as we template them into policies: segments of `[A-Za-z0-9._-]`, no glob. */
const SSL_MODES: readonly PostgresSslMode[] = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"];

export function validateVaultConfigArgs(args: VaultConfigArgs): void {
  const fail = (msg: string): never => {
    throw new Error(msg);
  };
  // A provider of another package is silently ignored by the SDK (resource.js compares
  // getPackage()), and the children would then configure whatever VAULT_ADDR points at.
  const pkg = (args.provider as unknown as { getPackage?: () => string } | undefined)?.getPackage?.();
  if (pkg !== "vault") fail(`[provider] must be a vault.Provider built with Vault's address and token; got ${pkg ? `a "${pkg}" provider` : "none"}.`);

  const path = (field: string, value: string, example: string) => {
    if (typeof value !== "string" || value.startsWith("/") || value.endsWith("/")) {
      fail(`[${field}] must be relative, without a leading or trailing "/", e.g. "${example}"; got ${JSON.stringify(value)}.`);
    }
    if (value.includes("..")) fail(`[${field}] must not contain ".."; name the path itself, e.g. "${example}"; got ${JSON.stringify(value)}.`);
    if (!VAULT_PATH.test(value)) {
      fail(
        `[${field}] must be "/"-separated segments of letters, digits, ".", "_" and "-" (no "*", "+", spaces or empty segments), e.g. "${example}"; got ${JSON.stringify(value)}.`,
      );
    }
  };
  const wholeSeconds = (field: string, value: number, min = 1) => {
    if (!Number.isInteger(value) || value < min) fail(`[${field}] must be a whole number of seconds, at least ${min}; got ${value}.`);
  };

  path("kvMount", args.kvMount ?? "secret", "secret");
  path("secretPath", args.secretPath, "veza/production");
  const keys = Object.keys(args.secrets ?? {});
  if (keys.length === 0) fail(`[secrets] is empty; pass the catalog keys and values to write to ${args.secretPath}.`);
  for (const key of keys) {
    if (!/^[A-Za-z0-9._-]+$/.test(key))
      fail(`[secrets] key ${JSON.stringify(key)} may hold only letters, digits, ".", "_" and "-" (it becomes a Kubernetes Secret key).`);
  }
  if (!VAULT_NAME.test(args.policyName) || args.policyName === "default" || args.policyName === "root") {
    fail(
      `[policyName] must be lowercase letters, digits, "_" and "-", and not Vault's built-in "default" or "root", e.g. "veza-production-read"; got ${JSON.stringify(args.policyName)}.`,
    );
  }

  const auth = args.kubernetesAuth;
  path("kubernetesAuth.path", auth.path ?? "kubernetes", "kubernetes");
  if (auth.kubernetesHost !== undefined && !/^https:\/\/[^\s/]+$/.test(auth.kubernetesHost)) {
    fail(
      `[kubernetesAuth.kubernetesHost] must be the API server's https:// URL without a path, e.g. "https://kubernetes.default.svc"; got ${JSON.stringify(auth.kubernetesHost)}.`,
    );
  }
  if (auth.kubernetesCaCert !== undefined && !auth.kubernetesCaCert.includes("-----BEGIN CERTIFICATE-----"))
    fail("[kubernetesAuth.kubernetesCaCert] must be PEM certificate(s) (-----BEGIN CERTIFICATE-----).");
  if (auth.reviewWithClientToken && auth.kubernetesHost === undefined)
    fail("[kubernetesAuth.kubernetesHost] is required with reviewWithClientToken: a Vault outside the cluster cannot reach https://kubernetes.default.svc.");
  if (typeof auth.audience !== "string" || !/^\S+$/.test(auth.audience))
    fail(`[kubernetesAuth.audience] must be the audience ESO's SecretStore requests, e.g. "vault"; got ${JSON.stringify(auth.audience)}.`);
  if (!VAULT_NAME.test(auth.roleName))
    fail(`[kubernetesAuth.roleName] must be lowercase letters, digits, "_" and "-", e.g. "veza-production-eso"; got ${JSON.stringify(auth.roleName)}.`);
  const sa = auth.boundServiceAccount;
  if (!DNS_LABEL.test(sa.namespace)) {
    fail(`[kubernetesAuth.boundServiceAccount.namespace] must be one namespace name (no "*"), e.g. "veza-production"; got ${JSON.stringify(sa.namespace)}.`);
  }
  if (!DNS_SUBDOMAIN.test(sa.name)) {
    fail(`[kubernetesAuth.boundServiceAccount.name] must be one ServiceAccount name (no "*"), e.g. "eso-vault-store"; got ${JSON.stringify(sa.name)}.`);
  }
  const { tokenTtlSeconds = 600, tokenMaxTtlSeconds = 1800 } = auth;
  wholeSeconds("kubernetesAuth.tokenTtlSeconds", tokenTtlSeconds);
  wholeSeconds("kubernetesAuth.tokenMaxTtlSeconds", tokenMaxTtlSeconds);
  if (tokenTtlSeconds > tokenMaxTtlSeconds) {
    fail(
      `[kubernetesAuth.tokenTtlSeconds] (${tokenTtlSeconds}) must not exceed [kubernetesAuth.tokenMaxTtlSeconds] (${tokenMaxTtlSeconds}); lower the TTL or raise the max.`,
    );
  }

  if (args.logPipelineAudit && args.audit?.path === "stdout")
    fail(
      '[logPipelineAudit] is true but [audit.path] is already "stdout": the same log would be written twice; send [audit] to a file, or drop logPipelineAudit.',
    );
  if (args.createAudit && !args.audit)
    fail(`[createAudit] is true but [audit] is not set; pass audit: { type: "file", path: "stdout" } or set createAudit to false.`);
  if (args.audit) {
    if (args.audit.type !== "file") fail(`[audit.type] must be "file"; got ${JSON.stringify(args.audit.type)}.`);
    if (args.audit.path !== "stdout" && !/^\/[^\s]+[^/]$/.test(args.audit.path)) {
      fail(`[audit.path] must be "stdout" or an absolute file path such as "/vault/audit/audit.log"; got ${JSON.stringify(args.audit.path)}.`);
    }
  }

  if (args.createDatabaseMount && !args.database)
    fail(`[createDatabaseMount] is true but [database] is not set; pass database or set createDatabaseMount to false.`);
  const db = args.database;
  if (!db) return;
  const mountPath = db.mountPath ?? "database";
  path("database.mountPath", mountPath, "database");
  if (mountPath === (args.kvMount ?? "secret")) fail(`[database.mountPath] must differ from [kvMount]; both are ${JSON.stringify(mountPath)}.`);
  if (!VAULT_NAME.test(db.connectionName))
    fail(`[database.connectionName] must be lowercase letters, digits, "_" and "-", e.g. "veza"; got ${JSON.stringify(db.connectionName)}.`);
  // Templated into the connection URL: a host with "@", "/" or "?" would change its meaning.
  if (!/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(db.host))
    fail(`[database.host] must be a host name or IPv4 address, e.g. "postgres.veza.svc"; got ${JSON.stringify(db.host)}.`);
  if (!Number.isInteger(db.port) || db.port < 1 || db.port > 65535) fail(`[database.port] must be a whole number from 1 to 65535; got ${db.port}.`);
  if (!SSL_MODES.includes(db.sslMode)) fail(`[database.sslMode] must be one of ${SSL_MODES.join(", ")}; got ${JSON.stringify(db.sslMode)}.`);
  if (db.tlsCa !== undefined && !db.tlsCa.includes("-----BEGIN CERTIFICATE-----"))
    fail("[database.tlsCa] must be PEM certificate(s) (-----BEGIN CERTIFICATE-----).");
  if (db.tlsCa !== undefined && !["verify-ca", "verify-full"].includes(db.sslMode))
    fail(`[database.tlsCa] is only used with sslMode verify-ca or verify-full; got ${JSON.stringify(db.sslMode)}.`);
  if (!PG_IDENTIFIER.test(db.adminUsername))
    fail(`[database.adminUsername] must be a lowercase PostgreSQL identifier, e.g. "vault_admin"; got ${JSON.stringify(db.adminUsername)}.`);
  if (db.sql.database !== db.databaseName)
    fail(
      `[database.sql.database] must equal [database.databaseName] (Vault connects to the application database); got ${JSON.stringify(db.sql.database)} and ${JSON.stringify(db.databaseName)}.`,
    );
  try {
    validateDatabaseSqlOptions({ ...db.sql, staticUsername: db.staticRole.username });
  } catch (e) {
    fail(`[database] ${(e as Error).message}.`);
  }
  if ([db.sql.appGroupRole, db.staticRole.username].includes(db.adminUsername)) {
    fail(`[database.adminUsername] must differ from the app group role and the static role's user; got ${JSON.stringify(db.adminUsername)}.`);
  }
  for (const [field, value] of [
    ["database.staticRole.name", db.staticRole.name],
    ...db.dynamicRoleNames.map((n, i) => [`database.dynamicRoleNames[${i}]`, n] as const),
  ] as const) {
    if (!VAULT_NAME.test(value)) fail(`[${field}] must be lowercase letters, digits, "_" and "-", e.g. "veza-app"; got ${JSON.stringify(value)}.`);
  }
  if (db.dynamicRoleNames.includes(db.staticRole.name))
    fail(`[database.dynamicRoleNames] must not name the static role ${JSON.stringify(db.staticRole.name)}: the schema owner is for migrations only.`);
  // Vault parses rotation_schedule as standard five-field cron.
  if (!/^(\S+\s+){4}\S+$/.test(db.staticRole.rotationSchedule)) {
    fail(
      `[database.staticRole.rotationSchedule] must be a five-field cron schedule such as "0 4 * * 0"; got ${JSON.stringify(db.staticRole.rotationSchedule)}.`,
    );
  }
  if (db.maxOpenConnections !== undefined && (!Number.isInteger(db.maxOpenConnections) || db.maxOpenConnections < 1)) {
    fail(`[database.maxOpenConnections] must be a whole number, at least 1; got ${db.maxOpenConnections}.`);
  }
}

/** The connection URL Vault's PostgreSQL plugin gets: it fills `{{username}}` and `{{password}}` itself, so the URL holds neither. */
export function postgresConnectionUrl(db: Pick<VaultDatabaseArgs, "host" | "port" | "databaseName" | "sslMode">): string {
  return `postgresql://{{username}}:{{password}}@${db.host}:${db.port}/${db.databaseName}?sslmode=${db.sslMode}`;
}
