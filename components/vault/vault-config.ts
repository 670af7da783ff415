/**
 * Vault's configuration for ONE environment: what the spec does with the `vault` CLI
 * ("HashiCorp Vault", "Environment-Specific Secrets", "Automatic Rotation with Vault"),
 * as resources, through a `vault.Provider` the caller builds.
 *
 * - KV v2 at `<kvMount>/<secretPath>` (`secret/veza/production`), written as ONE secret with
 *   every catalog key: one writer per path, so nothing else (a `vault kv put`, a second
 *   component) can half-update it.
 * - The kubernetes auth method, and a role that only External Secrets Operator's
 *   ServiceAccount can log in to, with ONE read-only policy for this environment's paths.
 * - An audit device, and the database secrets engine (a PostgreSQL connection and the schema
 *   owner's static role, whose password Vault rotates on a schedule), with the SQL from
 *   `database-sql.ts`. The services' own dynamic roles, policies and logins are
 *   `database-access.ts`: this policy (ESO's KV store) reads no database path at all.
 *
 * Things several environments may share in one Vault (the KV mount, the auth method and its
 * config, the audit device, the database mount) are created only when the caller says so
 * (`create*`): Vault has one of each per path, and a second creator fails or fights.
 *
 * Not done here, on purpose: rotating the database connection's root credential. After the
 * first `pulumi up`, an operator runs `vault write -f <mountPath>/rotate-root/<connectionName>`
 * once (README, "Bootstrapping Vault"): from then on only Vault knows that password. A
 * `vault.generic.Endpoint` doing it from code would rotate again on every replacement of the
 * connection, and a run failing between the two writes would leave nobody knowing it; by
 * hand, it happens once, after the operator has seen the roles work.
 */
import * as pulumi from "@pulumi/pulumi";
import { Audit } from "@pulumi/vault/audit";
import { AuthBackend } from "@pulumi/vault/authBackend";
import * as database from "@pulumi/vault/database";
import * as kubernetes from "@pulumi/vault/kubernetes";
import * as kv from "@pulumi/vault/kv";
import { Mount } from "@pulumi/vault/mount";
import { Policy } from "@pulumi/vault/policy";
import { rootRotationStatements, rotationStatements, validateDatabaseSqlOptions, type DatabaseSqlOptions } from "./database-sql";

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

/** What `policyDocument` grants: one environment's KV path. */
export interface PolicyDocumentOptions {
  kvMount: string;
  secretPath: string;
}

/**
 * The environment's Vault policy (HCL): `read` on its KV v2 data and metadata. Nothing else: no
 * `list`, no glob, no `sudo`, no other path, and no database path (each service reads only its
 * own `creds` path, with its own identity: `database-access.ts`).
 */
export function policyDocument(o: PolicyDocumentOptions): string {
  const block = (comment: string, path: string) => `# ${comment}\npath "${path}" {\n  capabilities = ["read"]\n}\n`;
  const blocks = [
    block("KV v2 data: this environment's secret values, as External Secrets Operator reads them.", `${o.kvMount}/data/${o.secretPath}`),
    // ESO reads metadata for remoteRef.metadataPolicy: Fetch (versions, timestamps, custom
    // metadata); it holds no values. No `list`: ESO's dataFrom.find is not used.
    block("KV v2 metadata of the same secret (versions and custom metadata, no values).", `${o.kvMount}/metadata/${o.secretPath}`),
  ];
  return blocks.join("\n");
}

/** One `path` stanza of a policy. */
export interface PolicyPath {
  path: string;
  capabilities: string[];
}

/**
 * Parse the `path "..." { capabilities = [...] }` stanzas of a policy written by
 * `policyDocument`. Throws on anything else (another attribute, a stray token), so a test
 * cannot pass over text it did not read.
 */
export function policyPaths(hcl: string): PolicyPath[] {
  const body = hcl.replace(/^\s*#.*$/gm, "");
  const stanza = /path\s+"([^"]*)"\s*\{\s*capabilities\s*=\s*\[([^\]]*)\]\s*\}/g;
  const result: PolicyPath[] = [];
  let last = 0;
  for (let m = stanza.exec(body); m; m = stanza.exec(body)) {
    if (body.slice(last, m.index).trim() !== "") throw new Error(`policyPaths: cannot parse ${JSON.stringify(body.slice(last, m.index).trim())}`);
    const capabilities = m[2].split(",").map((c) => c.trim()).filter((c) => c !== "").map((c) => {
      if (!/^"[a-z]+"$/.test(c)) throw new Error(`policyPaths: capability ${c} in path "${m?.[1]}" is not a quoted word`);
      return c.slice(1, -1);
    });
    result.push({ path: m[1], capabilities });
    last = m.index + m[0].length;
  }
  if (body.slice(last).trim() !== "") throw new Error(`policyPaths: cannot parse ${JSON.stringify(body.slice(last).trim())}`);
  return result;
}

/** Vault paths as we template them into policies: segments of `[A-Za-z0-9._-]`, no glob. */
const PATH = /^[A-Za-z0-9_-][A-Za-z0-9._-]*(\/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$/;
const NAME = /^[a-z0-9][a-z0-9_-]*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const PG_IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;
const SSL_MODES: readonly PostgresSslMode[] = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"];

/** Vault's configuration for one environment: KV secret, ESO's login and policy, audit, database engine. */
export class VaultConfig extends pulumi.ComponentResource {
  /** The environment's policy name. */
  public readonly policyName: pulumi.Output<string>;
  /** Vault role ESO logs in as (SecretStore `auth.kubernetes.role`). */
  public readonly authRole: pulumi.Output<string>;
  /** Mount path of the kubernetes auth method (SecretStore `auth.kubernetes.mountPath`). */
  public readonly authPath: pulumi.Output<string>;
  /** KV v2 mount (SecretStore `path`). */
  public readonly kvMount: pulumi.Output<string>;
  /** Secret path inside the mount (ExternalSecret `remoteRef.key`); known once the secret is written. */
  public readonly secretPath: pulumi.Output<string>;
  /** Database secrets engine mount, when `database` is set. */
  public readonly databaseMount?: pulumi.Output<string>;
  /** Static role name, when `database` is set. */
  public readonly staticRoleName?: pulumi.Output<string>;
  /** `<mount>/static-creds/<static role>`, the path ESO reads the rotated password from. */
  public readonly staticCredsPath?: pulumi.Output<string>;

  constructor(name: string, args: VaultConfigArgs, opts?: pulumi.ComponentResourceOptions) {
    super("veza:vault:VaultConfig", name, {}, opts);
    this.validate(args);
    const kvMount = args.kvMount ?? "secret";
    const authPath = args.kubernetesAuth.path ?? "kubernetes";
    const db = args.database;
    const dbMountPath = db?.mountPath ?? "database";

    // The audit device comes first and everything else waits for it, so every write this
    // program makes is in the audit log; if the device cannot be enabled, nothing proceeds.
    const audit =
      args.createAudit && args.audit
        ? new Audit(
            `${name}-audit`,
            { type: args.audit.type, path: "file", description: "Audit log of every request (HMAC'd values).", options: { file_path: args.audit.path } },
            { parent: this, provider: args.provider },
          )
        : undefined;
    const pipelineAudit =
      args.createAudit && args.logPipelineAudit
        ? new Audit(
            `${name}-audit-stdout`,
            { type: "file", path: "stdout", description: "Audit log to stdout, shipped by the cluster's log pipeline (HMAC'd values).", options: { file_path: "stdout" } },
            { parent: this, provider: args.provider, dependsOn: audit ? [audit] : [] },
          )
        : undefined;
    const child: pulumi.CustomResourceOptions = { parent: this, provider: args.provider, dependsOn: [...(audit ? [audit] : []), ...(pipelineAudit ? [pipelineAudit] : [])] };
    // Deleting these loses what code cannot rebuild: the KV values and their version history,
    // every database lease (revoked with the mount), the rotated root password (connection).
    const precious = pulumi.mergeOptions(child, { protect: args.protect ?? false });

    // KV v2, and the environment's secret: every key in one write (one writer per path).
    const kvMountResource = args.createKvMount
      ? new Mount(`${name}-kv-mount`, { path: kvMount, type: "kv", options: { version: "2" }, description: "Veza application secrets (KV v2), read by External Secrets Operator." }, precious)
      : undefined;
    const secret = new kv.SecretV2(
      `${name}-secrets`,
      {
        mount: kvMountResource ? kvMountResource.path : kvMount,
        name: args.secretPath,
        // Sorted keys: the same values always serialise the same, so no spurious new version.
        dataJson: pulumi.secret(pulumi.all(args.secrets).apply((values) => JSON.stringify(Object.fromEntries(Object.entries(values).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))))),
      },
      precious,
    );

    const policy = new Policy(
      `${name}-policy`,
      {
        name: args.policyName,
        policy: policyDocument({ kvMount, secretPath: args.secretPath }),
      },
      child,
    );

    // ESO's login. The auth method and its config are per Vault, so only their owner makes them.
    // Not protected: everything in them is rebuilt from code; ESO retries until they are back.
    let authConfig: kubernetes.AuthBackendConfig | undefined;
    if (args.createAuthBackend) {
      const backend = new AuthBackend(`${name}-k8s-auth`, { type: "kubernetes", path: authPath, description: "Kubernetes ServiceAccount login (External Secrets Operator)." }, child);
      authConfig = new kubernetes.AuthBackendConfig(
        `${name}-k8s-auth-config`,
        {
          backend: backend.path,
          kubernetesHost: args.kubernetesAuth.kubernetesHost ?? "https://kubernetes.default.svc",
          // Vault reviews login tokens with its own pod's ServiceAccount token and CA, re-read as
          // they rotate: no long-lived reviewer JWT to store. That account needs
          // system:auth-delegator, which the cluster component binds (authDelegator.enabled).
          disableLocalCaJwt: false,
        },
        child,
      );
    }
    const { tokenTtlSeconds = 600, tokenMaxTtlSeconds = 1800 } = args.kubernetesAuth;
    const role = new kubernetes.AuthBackendRole(
      `${name}-k8s-role`,
      {
        backend: authPath,
        roleName: args.kubernetesAuth.roleName,
        boundServiceAccountNames: [args.kubernetesAuth.boundServiceAccount.name],
        boundServiceAccountNamespaces: [args.kubernetesAuth.boundServiceAccount.namespace],
        audience: args.kubernetesAuth.audience,
        tokenTtl: tokenTtlSeconds,
        tokenMaxTtl: tokenMaxTtlSeconds,
        tokenPolicies: [policy.name],
        // Keep Vault's `default` policy: it only lets a token look up, renew and revoke itself,
        // and ESO revokes its token (lookup-self, then revoke-self) after each sync; without it
        // every sync would leave a live token behind until its TTL.
        tokenNoDefaultPolicy: false,
      },
      // The role's backend is a plain path, so the input graph does not order it after the
      // config that makes logins work: say so.
      pulumi.mergeOptions(child, { dependsOn: authConfig ? [authConfig] : [] }),
    );

    this.policyName = policy.name;
    this.authRole = role.roleName;
    this.authPath = role.backend.apply((b) => b ?? authPath);
    this.kvMount = secret.mount;
    this.secretPath = secret.name;

    if (db) {
      const sqlOptions: DatabaseSqlOptions = { ...db.sql, staticUsername: db.staticRole.username };
      const dbMount = args.createDatabaseMount
        ? new Mount(`${name}-database-mount`, { path: dbMountPath, type: "database", description: "PostgreSQL credentials Vault creates and rotates for Veza." }, precious)
        : undefined;
      const connection = new database.SecretBackendConnection(
        `${name}-database-connection`,
        {
          backend: dbMount ? dbMount.path : dbMountPath,
          name: db.connectionName,
          allowedRoles: [db.staticRole.name, ...db.dynamicRoleNames],
          verifyConnection: db.verifyConnection,
          rootRotationStatements: rootRotationStatements(),
          postgresql: {
            // Vault fills {{username}} and {{password}} from the fields below; the URL holds neither.
            connectionUrl: `postgresql://{{username}}:{{password}}@${db.host}:${db.port}/${db.databaseName}?sslmode=${db.sslMode}`,
            username: db.adminUsername,
            // Nested fields are not made secret by the SDK: wrap it, so state and previews hide it.
            password: pulumi.secret(db.adminPassword),
            maxOpenConnections: db.maxOpenConnections ?? 4,
            // Vault sends PostgreSQL a SCRAM verifier, never the password: statement logs
            // (log_statement = 'ddl') then hold no usable password. Vault 1.14+, PostgreSQL 10+.
            passwordAuthentication: "scram-sha-256",
            ...(db.tlsCa ? { tlsCa: db.tlsCa } : {}),
          },
        },
        // The whole block as a secret output too, in case a provider version stops marking the nested password.
        pulumi.mergeOptions(precious, { additionalSecretOutputs: ["postgresql"] }),
      );
      const staticRole = new database.SecretBackendStaticRole(
        `${name}-static-role`,
        {
          backend: connection.backend,
          dbName: connection.name,
          name: db.staticRole.name,
          username: db.staticRole.username,
          rotationSchedule: db.staticRole.rotationSchedule,
          rotationStatements: rotationStatements(sqlOptions),
        },
        child,
      );
      this.databaseMount = connection.backend;
      this.staticRoleName = staticRole.name;
      this.staticCredsPath = pulumi.interpolate`${staticRole.backend}/static-creds/${staticRole.name}`;
    }

    this.registerOutputs({
      policyName: this.policyName,
      authRole: this.authRole,
      authPath: this.authPath,
      kvMount: this.kvMount,
      secretPath: this.secretPath,
      // The database fields only when set: the SDK warns about every undefined output.
      ...(db
        ? { databaseMount: this.databaseMount, staticRoleName: this.staticRoleName, staticCredsPath: this.staticCredsPath }
        : {}),
    });
  }

  private validate(args: VaultConfigArgs): void {
    const fail = (msg: string): never => {
      throw new pulumi.ResourceError(msg, this);
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
      if (!PATH.test(value)) {
        fail(`[${field}] must be "/"-separated segments of letters, digits, ".", "_" and "-" (no "*", "+", spaces or empty segments), e.g. "${example}"; got ${JSON.stringify(value)}.`);
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
      if (!/^[A-Za-z0-9._-]+$/.test(key)) fail(`[secrets] key ${JSON.stringify(key)} may hold only letters, digits, ".", "_" and "-" (it becomes a Kubernetes Secret key).`);
    }
    if (!NAME.test(args.policyName) || args.policyName === "default" || args.policyName === "root") {
      fail(`[policyName] must be lowercase letters, digits, "_" and "-", and not Vault's built-in "default" or "root", e.g. "veza-production-read"; got ${JSON.stringify(args.policyName)}.`);
    }

    const auth = args.kubernetesAuth;
    path("kubernetesAuth.path", auth.path ?? "kubernetes", "kubernetes");
    if (auth.kubernetesHost !== undefined && !/^https:\/\/[^\s/]+$/.test(auth.kubernetesHost)) {
      fail(`[kubernetesAuth.kubernetesHost] must be the API server's https:// URL without a path, e.g. "https://kubernetes.default.svc"; got ${JSON.stringify(auth.kubernetesHost)}.`);
    }
    if (!/^\S+$/.test(auth.audience ?? "")) fail(`[kubernetesAuth.audience] must be the audience ESO's SecretStore requests, e.g. "vault"; got ${JSON.stringify(auth.audience)}.`);
    if (!NAME.test(auth.roleName)) fail(`[kubernetesAuth.roleName] must be lowercase letters, digits, "_" and "-", e.g. "veza-production-eso"; got ${JSON.stringify(auth.roleName)}.`);
    const sa = auth.boundServiceAccount;
    if (!DNS_LABEL.test(sa.namespace) || sa.namespace.length > 63) {
      fail(`[kubernetesAuth.boundServiceAccount.namespace] must be one namespace name (no "*"), e.g. "veza-production"; got ${JSON.stringify(sa.namespace)}.`);
    }
    if (!DNS_SUBDOMAIN.test(sa.name) || sa.name.length > 253) {
      fail(`[kubernetesAuth.boundServiceAccount.name] must be one ServiceAccount name (no "*"), e.g. "eso-vault-store"; got ${JSON.stringify(sa.name)}.`);
    }
    const { tokenTtlSeconds = 600, tokenMaxTtlSeconds = 1800 } = auth;
    wholeSeconds("kubernetesAuth.tokenTtlSeconds", tokenTtlSeconds);
    wholeSeconds("kubernetesAuth.tokenMaxTtlSeconds", tokenMaxTtlSeconds);
    if (tokenTtlSeconds > tokenMaxTtlSeconds) {
      fail(`[kubernetesAuth.tokenTtlSeconds] (${tokenTtlSeconds}) must not exceed [kubernetesAuth.tokenMaxTtlSeconds] (${tokenMaxTtlSeconds}); lower the TTL or raise the max.`);
    }

    if (args.logPipelineAudit && args.audit?.path === "stdout") fail('[logPipelineAudit] is true but [audit.path] is already "stdout": the same log would be written twice; send [audit] to a file, or drop logPipelineAudit.');
    if (args.createAudit && !args.audit) fail(`[createAudit] is true but [audit] is not set; pass audit: { type: "file", path: "stdout" } or set createAudit to false.`);
    if (args.audit) {
      if (args.audit.type !== "file") fail(`[audit.type] must be "file"; got ${JSON.stringify(args.audit.type)}.`);
      if (args.audit.path !== "stdout" && !/^\/[^\s]+[^/]$/.test(args.audit.path)) {
        fail(`[audit.path] must be "stdout" or an absolute file path such as "/vault/audit/audit.log"; got ${JSON.stringify(args.audit.path)}.`);
      }
    }

    if (args.createDatabaseMount && !args.database) fail(`[createDatabaseMount] is true but [database] is not set; pass database or set createDatabaseMount to false.`);
    const db = args.database;
    if (!db) return;
    const mountPath = db.mountPath ?? "database";
    path("database.mountPath", mountPath, "database");
    if (mountPath === (args.kvMount ?? "secret")) fail(`[database.mountPath] must differ from [kvMount]; both are ${JSON.stringify(mountPath)}.`);
    if (!NAME.test(db.connectionName)) fail(`[database.connectionName] must be lowercase letters, digits, "_" and "-", e.g. "veza"; got ${JSON.stringify(db.connectionName)}.`);
    // Templated into the connection URL: a host with "@", "/" or "?" would change its meaning.
    if (!/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(db.host)) fail(`[database.host] must be a host name or IPv4 address, e.g. "postgres.veza.svc"; got ${JSON.stringify(db.host)}.`);
    if (!Number.isInteger(db.port) || db.port < 1 || db.port > 65535) fail(`[database.port] must be a whole number from 1 to 65535; got ${db.port}.`);
    if (!SSL_MODES.includes(db.sslMode)) fail(`[database.sslMode] must be one of ${SSL_MODES.join(", ")}; got ${JSON.stringify(db.sslMode)}.`);
    if (db.tlsCa !== undefined && !db.tlsCa.includes("-----BEGIN CERTIFICATE-----")) fail("[database.tlsCa] must be PEM certificate(s) (-----BEGIN CERTIFICATE-----).");
    if (db.tlsCa !== undefined && !["verify-ca", "verify-full"].includes(db.sslMode)) fail(`[database.tlsCa] is only used with sslMode verify-ca or verify-full; got ${JSON.stringify(db.sslMode)}.`);
    if (!PG_IDENTIFIER.test(db.adminUsername)) fail(`[database.adminUsername] must be a lowercase PostgreSQL identifier, e.g. "vault_admin"; got ${JSON.stringify(db.adminUsername)}.`);
    if (db.sql.database !== db.databaseName) fail(`[database.sql.database] must equal [database.databaseName] (Vault connects to the application database); got ${JSON.stringify(db.sql.database)} and ${JSON.stringify(db.databaseName)}.`);
    try {
      validateDatabaseSqlOptions({ ...db.sql, staticUsername: db.staticRole.username });
    } catch (e) {
      fail(`[database] ${(e as Error).message}.`);
    }
    if ([db.sql.appGroupRole, db.staticRole.username].includes(db.adminUsername)) {
      fail(`[database.adminUsername] must differ from the app group role and the static role's user; got ${JSON.stringify(db.adminUsername)}.`);
    }
    for (const [field, value] of [["database.staticRole.name", db.staticRole.name], ...db.dynamicRoleNames.map((n, i) => [`database.dynamicRoleNames[${i}]`, n] as const)] as const) {
      if (!NAME.test(value)) fail(`[${field}] must be lowercase letters, digits, "_" and "-", e.g. "veza-app"; got ${JSON.stringify(value)}.`);
    }
    if (db.dynamicRoleNames.includes(db.staticRole.name)) fail(`[database.dynamicRoleNames] must not name the static role ${JSON.stringify(db.staticRole.name)}: the schema owner is for migrations only.`);
    // Vault parses rotation_schedule as standard five-field cron.
    if (!/^(\S+\s+){4}\S+$/.test(db.staticRole.rotationSchedule)) {
      fail(`[database.staticRole.rotationSchedule] must be a five-field cron schedule such as "0 4 * * 0"; got ${JSON.stringify(db.staticRole.rotationSchedule)}.`);
    }
    if (db.maxOpenConnections !== undefined && (!Number.isInteger(db.maxOpenConnections) || db.maxOpenConnections < 1)) {
      fail(`[database.maxOpenConnections] must be a whole number, at least 1; got ${db.maxOpenConnections}.`);
    }
  }
}
