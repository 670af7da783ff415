/**
 * Stack config: read every `veza-secrets:*` key once, validate it with the schema and the
 * cross-key rules, apply the environment's defaults, and return one typed object.
 * Bad config throws a `ConfigError` listing every problem, each with the
 * `pulumi config set` command that fixes it, before any resource is registered.
 */
import { X509Certificate } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { CATALOG, type SecretSpec, generatedSecrets, validateCatalog } from "../components/catalog";
import { DEV_ROOT_TOKEN_RULE, devRootTokenError } from "../components/cluster/vault";
import { defaultsFor } from "./defaults";
import { type ConfigPath, formatPath, joinCommands, nearest, replaceCommands, rmCommand, setCommands, setSecretCommand } from "./fixes";
import {
  type EsoProviderName,
  type Environment,
  ENVIRONMENTS,
  ESO_PROVIDERS,
  EXAMPLES,
  PROJECT,
  PROVIDERS,
  type ProviderName,
  type RawStackConfig,
  type SealConfig,
  configSchema,
  durationSeconds,
} from "./schema";

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
  /** Config path, e.g. `database.rotationPeriod`. */
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
      ].join("\n"),
    );
    this.name = "ConfigError";
  }
}

export interface VaultSettings {
  /** `dev`: in-memory, unsealed, one pod. `ha`: Raft, TLS, persistent volumes. */
  mode: "dev" | "ha";
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
  /**
   * Absolute path of the PEM file with the CA the program's Vault provider trusts for
   * `address` (validated: it exists and holds a CA certificate). None: the system's roots.
   */
  caCertFile?: string;
  /** Dev root token, or the token `pulumi up` uses after bootstrap. Secret. */
  token?: pulumi.Output<string>;
}

export interface DatabaseSettings {
  host: string;
  port: number;
  name: string;
  adminUsername: string;
  appUsername: string;
  appGroupRole: string;
  appSchema: string;
  rotationPeriod: string;
  rotationPeriodSeconds: number;
  defaultTtl: string;
  maxTtl: string;
  sslMode: "disable" | "require" | "verify-ca" | "verify-full";
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
    replicas: number;
    serviceMonitor: boolean;
    refreshInterval: string;
    /** `Merge` while adopting hand-made Secrets, else `Owner`. */
    creationPolicy: "Owner" | "Merge";
    /** `Retain` in production: a vanished backend secret does not delete the Kubernetes Secret. */
    deletionPolicy: "Retain" | "Delete";
  };
  /** Per generated catalog key: its length and rotation period. */
  generatedKeys: Record<string, { length: number; rotationDays: number }>;
  /** Present when the stack configures a database and uses Vault: credentials are rotated by Vault. */
  database?: DatabaseSettings;
  rotation: { schedule: string; installReloader: boolean };
  aws?: NonNullable<RawStackConfig["aws"]>;
  gcp?: { project: string; replicationLocations: string[]; clusterName: string; clusterLocation: string };
  azure?: NonNullable<RawStackConfig["azure"]> & { keyVaultName: string; allowedIpRanges: string[] };
  /** Supplied secrets by config key (catalog `supplied`, and `databaseUrl` when not rotated). */
  supplied: Record<string, pulumi.Output<string>>;
  /** Protect stateful resources from `pulumi destroy` and accidental replacement. */
  protect: boolean;
  /** Days a deleted cloud secret can be recovered. */
  recoveryWindowDays: number;
}

/**
 * Why a CA file cannot serve the Vault provider, or undefined. Read once, up front, so a bad
 * path stops the program before anything is registered rather than inside the provider.
 */
function caCertProblem(file: string): string | undefined {
  let pem: string;
  try {
    pem = fs.readFileSync(file, "utf8");
  } catch {
    return `cannot be read (looked for ${file}; a relative path is relative to the project folder)`;
  }
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) return "holds no PEM certificate (-----BEGIN CERTIFICATE-----)";
  let certs: X509Certificate[];
  try {
    certs = blocks.map((b) => new X509Certificate(b));
  } catch (e) {
    return `holds a certificate that does not parse (${e instanceof Error ? e.message : String(e)})`;
  }
  if (!certs.some((c) => c.ca)) return "holds no CA certificate (basicConstraints CA:TRUE): give the CA that signed Vault's certificate, not the certificate itself";
  if (/PRIVATE KEY-----/.test(pem)) return "also holds a private key: keep only the CA certificate in this file (and the key out of Git)";
  return undefined;
}

/** A command that makes a valid dev root token every time (a letter first, then 48 hex digits). */
export const DEV_ROOT_TOKEN_FIX = (stack: string): string => `pulumi config set --secret vaultDevRootToken "dev-$(openssl rand -hex 24)" --stack ${stack}`;

/** Keys outside the schema and the catalog that hold secrets. */
export const SECRET_KEYS = ["vaultDevRootToken", "vaultToken", "databaseAdminPassword"] as const;

/** Every config key that holds a secret: the catalog's supplied ones, then `SECRET_KEYS`. */
export function secretConfigKeys(catalog: readonly SecretSpec[]): string[] {
  const fromCatalog = catalog.flatMap((s) => (s.source.kind === "generated" ? [] : [s.source.configKey]));
  return [...fromCatalog, ...SECRET_KEYS];
}

export { formatPath } from "./fixes";

function examplePath(path: readonly PropertyKey[]): string {
  const parts = path.map((p, i) => (typeof p === "number" ? "[]" : path[i - 1] === "generatedKeys" ? "*" : String(p)));
  return parts.join(".").replace(/\.\[\]/g, "[]");
}

/** The example for `path`: its own, or the matching part of an ancestor's example object. */
export function exampleFor(path: readonly PropertyKey[]): unknown {
  for (let n = path.length; n > 0; n--) {
    const example = EXAMPLES[examplePath(path.slice(0, n))];
    if (example === undefined) continue;
    const rest = valueAt(example, path.slice(n));
    if (rest !== undefined) return rest;
  }
  return undefined;
}

/** The environment a stack's name says it is (`development-alice` → development). */
export function environmentOfStack(stack: string): Environment | undefined {
  return ENVIRONMENTS.find((e) => stack === e || stack.startsWith(`${e}-`));
}

/** The command that sets `path` to its example (a secret: prompted for), replacing `current`. */
export function fixCommand(stack: string, path: readonly PropertyKey[], secret = false, current?: unknown): string {
  if (secret) return setSecretCommand(stack, String(path[0]));
  const example = exampleFor(path);
  if (example === undefined) throw new Error(`no example for config path ${formatPath(path)}: add one to EXAMPLES in stacks/schema.ts`);
  return joinCommands(replaceCommands(stack, path as ConfigPath, example, current));
}

/**
 * The fix for a bad `providers` list: the same list with typos replaced by the nearest
 * backend not yet listed, duplicates dropped, and `kubernetes` dropped where it is not
 * allowed; set one element at a time (Pulumi.yaml declares `providers` as an array).
 */
function providersFix(stack: string, raw: unknown, env: Environment | undefined): string {
  const out: ProviderName[] = [];
  for (const entry of Array.isArray(raw) ? (raw as unknown[]) : []) {
    const name = typeof entry === "string" ? entry : "";
    const valid = (PROVIDERS as readonly string[]).includes(name) ? (name as ProviderName) : (nearest(name, PROVIDERS.filter((p) => !out.includes(p))) as ProviderName | undefined);
    if (valid && !out.includes(valid)) out.push(valid);
  }
  let fixed = out;
  if (fixed.includes("kubernetes") && (env !== "development" || fixed.length > 1)) fixed = fixed.filter((p) => p !== "kubernetes");
  if (fixed.length === 0) fixed = ["vault"];
  return joinCommands(replaceCommands(stack, ["providers"], fixed, raw));
}

/** The keys the schema allows at `path` (for a discriminated union: the chosen variant's, else all). */
function knownKeys(path: readonly PropertyKey[], value: unknown): string[] {
  let cur: z.ZodType | undefined = configSchema;
  const unwrap = (t: z.ZodType | undefined): z.ZodType | undefined => {
    let u = t;
    while (u instanceof z.ZodOptional) u = u.unwrap() as z.ZodType;
    return u;
  };
  for (const p of path) {
    cur = unwrap(cur);
    if (cur instanceof z.ZodObject) cur = (cur.shape as Record<string, z.ZodType>)[String(p)];
    else if (cur instanceof z.ZodRecord) cur = cur.valueType as z.ZodType;
    else if (cur instanceof z.ZodArray) cur = cur.element as z.ZodType;
    else return [];
  }
  cur = unwrap(cur);
  if (cur instanceof z.ZodObject) return Object.keys(cur.shape);
  if (cur instanceof z.ZodDiscriminatedUnion) {
    const type = (value as { type?: unknown } | undefined)?.type;
    const options = (cur.options as z.ZodType[]).filter((o): o is z.ZodObject => o instanceof z.ZodObject);
    const chosen = options.filter((o) => (o.shape as { type?: z.ZodLiteral }).type?.value === type);
    return [...new Set((chosen.length ? chosen : options).flatMap((o) => Object.keys(o.shape)))];
  }
  return [];
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = root;
  for (const p of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[p];
  }
  return cur;
}

function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return "a list";
  if (value === null) return "null";
  if (typeof value === "object") return "an object";
  return `${typeof value} ${String(value)}`;
}

function zodMessage(issue: z.core.$ZodIssue, raw: unknown): string {
  const got = valueAt(raw, issue.path);
  switch (issue.code) {
    case "invalid_type":
      return got === undefined ? "is required" : `must be ${article(issue.expected)}; got ${describe(got)}`;
    case "invalid_value":
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}; got ${describe(got)}`;
    case "too_small":
      if (issue.origin === "array") return `must list at least ${String(issue.minimum)}`;
      if (issue.origin === "string") return `must be at least ${String(issue.minimum)} characters; got ${describe(got)}`;
      return `must be at least ${String(issue.minimum)}; got ${describe(got)}`;
    case "too_big":
      if (issue.origin === "string") return `must be at most ${String(issue.maximum)} characters; got ${describe(got)}`;
      return `must be at most ${String(issue.maximum)}; got ${describe(got)}`;
    case "unrecognized_keys":
      return `unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `"${k}"`).join(", ")} (check the spelling against Pulumi.yaml)`;
    case "invalid_union":
      return `is not a valid value; got ${describe(got)}`;
    default:
      return `${issue.message}; got ${describe(got)}`;
  }
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

function parseValue(raw: string): unknown {
  const t = raw.trim();
  if (t.startsWith("{") || t.startsWith("[")) {
    try {
      return JSON.parse(t);
    } catch {
      return raw;
    }
  }
  return raw;
}

/**
 * Parse and validate a stack's config. Throws `ConfigError` listing every problem.
 * `catalog` defaults to the Veza catalog; tests pass others.
 */
export function loadStackConfig(source: ConfigSource, stack: string, catalog: readonly SecretSpec[] = CATALOG): StackConfig {
  validateCatalog(catalog);
  const problems: ConfigProblem[] = [];
  const add = (path: PropertyKey[], message: string, secret = false, fix?: string): void => {
    problems.push({ key: formatPath(path), message, fix: fix ?? fixCommand(stack, path, secret, valueAt(raw, path)) });
  };

  const warnings: string[] = [];
  const prefix = `${PROJECT}:`;
  const secretNames = new Set(secretConfigKeys(catalog));
  const raw: Record<string, unknown> = {};
  const secrets: Record<string, string> = {};
  for (const [fullKey, value] of Object.entries(source.values)) {
    if (!fullKey.startsWith(prefix)) continue; // other namespaces: provider config (kubernetes:context, ...)
    const key = fullKey.slice(prefix.length);
    if (secretNames.has(key)) {
      if (!source.secretKeys.has(fullKey)) {
        add(
          [key],
          "holds a secret but is stored in plain text in the stack file (value not shown). If that file was ever committed, the value is in Git history: rotate it at its source, then remove the plain entry and set the new value as a secret",
          true,
        );
      } else {
        secrets[key] = value;
      }
    } else {
      raw[key] = parseValue(value);
    }
  }

  if (Object.keys(raw).length === 0 && Object.keys(secrets).length === 0 && problems.length === 0) {
    throw new ConfigError(stack, [
      {
        key: "environment",
        message: `no ${PROJECT} config found for stack "${stack}". Create the stack from a committed stack file (Pulumi.development.yaml, Pulumi.staging.yaml, Pulumi.production.yaml): pulumi login --local; export PULUMI_CONFIG_PASSPHRASE=...; pulumi stack init ${stack}; kubectl config use-context <your cluster>; then set the secrets the README lists`,
        fix: setCommands(stack, ["environment"], environmentOfStack(stack) ?? "development")[0],
      },
    ]);
  }

  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const stackEnv = environmentOfStack(stack);
    for (const issue of parsed.error.issues) {
      const got = valueAt(raw, issue.path);
      if (issue.code === "unrecognized_keys") {
        const known = knownKeys(issue.path, valueAt(raw, issue.path));
        for (const k of issue.keys) {
          const p = [...issue.path, k];
          const near = nearest(k, known.filter((x) => valueAt(raw, [...issue.path, x]) === undefined));
          const message = zodMessage({ ...issue, keys: [k] }, raw) + (near ? `; did you mean "${near}"?` : "");
          const move = near ? setCommands(stack, [...issue.path, near] as ConfigPath, valueAt(raw, p)) : [];
          add(p, message, false, joinCommands([...move, rmCommand(stack, p as ConfigPath)]));
        }
      } else if (issue.path[0] === "providers") {
        add(issue.path, zodMessage(issue, raw), false, providersFix(stack, raw.providers, stackEnv));
      } else if (issue.path.length === 1 && issue.path[0] === "environment") {
        const env = stackEnv ?? nearest(typeof got === "string" ? got : "", ENVIRONMENTS) ?? "development";
        add(issue.path, zodMessage(issue, raw), false, setCommands(stack, ["environment"], env)[0]);
      } else if ((issue.code === "invalid_value" || issue.code === "invalid_union") && typeof got === "string") {
        const options = issue.code === "invalid_value" ? issue.values.map(String) : ((issue as { options?: unknown[] }).options ?? []).map(String);
        const near = nearest(got, options);
        add(issue.path, zodMessage(issue, raw) + (near ? `; did you mean "${near}"?` : ""), false, near ? setCommands(stack, issue.path as ConfigPath, near)[0] : undefined);
      } else {
        add(issue.path, zodMessage(issue, raw));
      }
    }
    throw new ConfigError(stack, problems);
  }
  const cfg = parsed.data;
  const env = cfg.environment;
  const d = defaultsFor(env);

  // The stack name is the environment, or starts with it (review stacks: `development-pr-42`).
  if (stack !== env && !stack.startsWith(`${env}-`)) {
    const matching = ENVIRONMENTS.find((e) => stack === e || stack.startsWith(`${e}-`));
    add(
      ["environment"],
      `is "${env}" but the stack is "${stack}"; a stack's name must be its environment or start with "<environment>-"`,
      false,
      matching ? `pulumi config set environment ${matching} --stack ${stack}` : `pulumi stack rename ${env} --stack ${stack}`,
    );
  }

  const providers = cfg.providers;
  providers.forEach((p, i) => {
    if (providers.indexOf(p) !== i) add(["providers", i], `lists "${p}" twice`, false, providersFix(stack, providers, env));
  });
  if (providers.includes("kubernetes") && env !== "development") {
    add(["providers"], `"kubernetes" (plain Secrets written by the program, the spec's option 1) is for development only; got it in ${env}`, false, providersFix(stack, providers, env));
  } else if (providers.includes("kubernetes") && providers.length > 1) {
    add(["providers"], `"kubernetes" (plain Secrets written by the program) cannot be combined with ${providers.filter((p) => p !== "kubernetes").join(", ")}: both would own the same Secrets`, false, providersFix(stack, providers, env));
  }
  const esoProviders = ESO_PROVIDERS.filter((p) => providers.includes(p));
  esoProviders.sort((a, b) => providers.indexOf(a) - providers.indexOf(b));
  for (const p of ["aws", "gcp", "azure"] as const) {
    if (providers.includes(p) && !cfg[p]) add([p], `"${p}" is listed in providers but its settings are missing`);
  }

  // Generated keys: only catalog keys, never below the catalog's minimum.
  const generatedKeys: StackConfig["generatedKeys"] = {};
  const generated = generatedSecrets(catalog);
  for (const [key, override] of Object.entries(cfg.generatedKeys ?? {})) {
    if (!generated.some((g) => g.key === key)) {
      const near = nearest(key, generated.map((g) => g.key).filter((k) => !cfg.generatedKeys?.[k]));
      const move = near ? setCommands(stack, ["generatedKeys", near], override) : [];
      add(["generatedKeys", key], `is not a generated key; generated keys are ${generated.map((g) => g.key).join(", ")}${near ? `; did you mean "${near}"?` : ""}`, false, joinCommands([...move, rmCommand(stack, ["generatedKeys", key])]));
    }
  }
  for (const g of generated) {
    const o = cfg.generatedKeys?.[g.key];
    const length = o?.length ?? g.source.length;
    const rotationDays = o?.rotationDays ?? g.source.rotationDays;
    if (length < g.source.minLength) {
      add(["generatedKeys", g.key, "length"], `must be at least ${g.source.minLength} characters; got ${length}`);
    }
    if (rotationDays > g.source.rotationDays) {
      add(["generatedKeys", g.key, "rotationDays"], `must be at most ${g.source.rotationDays} (the catalog's period: a stack may rotate sooner, never later); got ${rotationDays}`);
    }
    generatedKeys[g.key] = { length, rotationDays };
  }

  // Vault.
  let vault: VaultSettings | undefined;
  if (providers.includes("vault")) {
    const v = cfg.vault ?? {};
    const mode = v.mode ?? d.vaultMode;
    if (mode === "dev" && env !== "development") {
      add(["vault", "mode"], `"dev" (in-memory, unsealed, root token) is only allowed in development; got it in ${env}`);
    }
    if (env === "production" && !v.seal) {
      add(["vault", "seal"], "production needs cloud-KMS auto-unseal (awskms, gcpckms or azurekeyvault)");
    }
    const replicas = v.replicas ?? (mode === "dev" ? 1 : 3);
    if (mode === "ha" && (replicas < 3 || replicas % 2 === 0)) {
      add(["vault", "replicas"], `Raft needs an odd number of at least 3 voters; got ${replicas}`);
    }
    const bootstrapped = mode === "dev" ? true : (v.bootstrapped ?? false);
    const devNodePort = v.devNodePort ?? 30820;
    if (mode === "ha" && bootstrapped && !v.address) {
      add(["vault", "address"], "is required once Vault is bootstrapped: the address this program's Vault provider uses");
    }
    let token: pulumi.Output<string> | undefined;
    const tokenKey = mode === "dev" ? "vaultDevRootToken" : "vaultToken";
    if (mode === "dev" || bootstrapped) {
      if (secrets[tokenKey] === undefined) {
        if (!problems.some((p) => p.key === tokenKey)) {
          if (mode === "dev") add([tokenKey], "is required: the dev server's root token", true, DEV_ROOT_TOKEN_FIX(stack));
          else add([tokenKey], "is required once vault.bootstrapped is true: the token `pulumi up` configures Vault with", true);
        }
      } else if (mode === "dev" && devRootTokenError(secrets[tokenKey])) {
        // Checked here, before anything is registered; the value is never echoed.
        add([tokenKey], `${DEV_ROOT_TOKEN_RULE}; the value set does not`, true, DEV_ROOT_TOKEN_FIX(stack));
      } else {
        token = pulumi.secret(secrets[tokenKey]);
      }
    }
    let caCertFile: string | undefined;
    if (v.caCertFile !== undefined) {
      caCertFile = path.resolve(v.caCertFile);
      const problem = caCertProblem(caCertFile);
      if (problem) add(["vault", "caCertFile"], `${JSON.stringify(v.caCertFile)} ${problem}`);
    } else if (mode === "ha" && bootstrapped && (v.address ?? "").startsWith("https://")) {
      warnings.push(
        `${PROJECT}:vault.caCertFile is not set: the Vault provider verifies ${v.address ?? "Vault"} against the system's CA roots only; with a private CA (README, "Bootstrapping Vault") every Vault resource fails with "x509: certificate signed by unknown authority"`,
      );
    }
    vault = {
      mode,
      replicas,
      caCertFile,
      address: v.address ?? (mode === "dev" ? `http://127.0.0.1:${devNodePort}` : `https://vault.${cfg.namespaces?.vault ?? "vault-system"}.svc:8200`),
      tlsSecretName: v.tlsSecretName ?? "vault-tls",
      storageSize: v.storageSize ?? "10Gi",
      auditStorageSize: v.auditStorageSize ?? "10Gi",
      resources: v.resources ?? d.vaultResources,
      bootstrapped,
      devNodePort,
      seal: v.seal,
      token,
    };
  }

  // Database: rotated by Vault when configured and Vault is used; else database-url is supplied.
  let database: DatabaseSettings | undefined;
  if (cfg.database && !providers.includes("vault")) {
    // Rotated credentials need Vault's database engine; without it database-url is supplied.
    warnings.push(`${PROJECT}:database is ignored: rotated database credentials need vault in providers; database-url comes from the databaseUrl secret instead`);
  }
  if (cfg.database && providers.includes("vault")) {
    const db = cfg.database;
    const rotationPeriod = db.rotationPeriod ?? "24h";
    const defaultTtl = db.defaultTtl ?? "1h";
    const maxTtl = db.maxTtl ?? "24h";
    if (durationSeconds(defaultTtl) > durationSeconds(maxTtl)) {
      add(["database", "defaultTtl"], `(${defaultTtl}) must not exceed database.maxTtl (${maxTtl})`);
    }
    if (durationSeconds(rotationPeriod) < 3600) {
      add(["database", "rotationPeriod"], `must be at least 1h; got "${rotationPeriod}"`);
    }
    if (secrets.databaseAdminPassword === undefined && !problems.some((p) => p.key === "databaseAdminPassword")) {
      add(["databaseAdminPassword"], "is required: the password of database.adminUsername, which Vault rotates after first use", true);
    }
    database = {
      host: db.host,
      port: db.port ?? 5432,
      name: db.name ?? "veza",
      adminUsername: db.adminUsername ?? "vault_admin",
      appUsername: db.appUsername ?? "veza_app",
      appGroupRole: db.appGroupRole ?? "veza_app_group",
      appSchema: db.appSchema ?? "veza",
      rotationPeriod,
      rotationPeriodSeconds: durationSeconds(rotationPeriod),
      defaultTtl,
      maxTtl,
      sslMode: db.sslMode ?? d.sslMode,
      verifyConnection: db.verifyConnection ?? true,
      adminPassword: pulumi.secret(secrets.databaseAdminPassword ?? ""),
    };
  }

  // Supplied secrets: every one the catalog needs must be set, as a secret, in the right shape.
  const supplied: Record<string, pulumi.Output<string>> = {};
  for (const spec of catalog) {
    if (spec.source.kind === "generated") continue;
    if (spec.source.kind === "database" && database) continue;
    const { configKey } = spec.source;
    const value = secrets[configKey];
    if (value === undefined) {
      if (!problems.some((p) => p.key === configKey)) add([configKey], `is required: ${spec.description} (${spec.key})`, true);
      continue;
    }
    if (spec.source.pattern && !spec.source.pattern.test(value)) {
      add([configKey], `must be ${spec.source.patternHint ?? `like ${spec.source.pattern}`} (value not shown)`, true);
      continue;
    }
    supplied[configKey] = pulumi.secret(value);
  }

  const eso = esoProviders.length
    ? {
        replicas: cfg.eso?.replicas ?? d.esoReplicas,
        serviceMonitor: cfg.eso?.serviceMonitor ?? false,
        refreshInterval: cfg.eso?.refreshInterval ?? d.refreshInterval,
        creationPolicy: cfg.eso?.adoptExisting ? ("Merge" as const) : ("Owner" as const),
        // ESO's webhook refuses Delete for a Secret it does not own (creationPolicy Merge), and
        // an adopted Secret must outlive a vanished backend entry anyway: Retain while adopting.
        deletionPolicy: env === "production" || cfg.eso?.adoptExisting ? ("Retain" as const) : ("Delete" as const),
      }
    : undefined;
  if (eso && !(cfg.rotation?.installReloader ?? d.installReloader)) {
    warnings.push(
      `${PROJECT}:rotation.installReloader is false: nothing restarts pods when ESO updates a Secret (the secrets-rotation CronJob only force-syncs); run your own Reloader or restart the services after a rotation`,
    );
  }
  if (eso && env === "production" && eso.replicas < 2) {
    add(["eso", "replicas"], `production runs at least 2 replicas with leader election; got ${eso.replicas}`);
  }
  if (eso && durationSeconds(eso.refreshInterval) < 60) {
    add(["eso", "refreshInterval"], `must be at least 1m (each refresh is a provider API call); got "${eso.refreshInterval}"`);
  }

  if (problems.length) throw new ConfigError(stack, problems);
  for (const w of warnings) void pulumi.log.warn(w);

  return {
    stack,
    environment: env,
    providers,
    esoProviders,
    namespaces: {
      workloads: cfg.namespaces?.workloads ?? `veza-${env}`,
      vault: cfg.namespaces?.vault ?? "vault-system",
      externalSecrets: cfg.namespaces?.externalSecrets ?? "external-secrets-system",
    },
    vault,
    eso,
    generatedKeys,
    database,
    rotation: { schedule: cfg.rotation?.schedule ?? "0 3 * * *", installReloader: cfg.rotation?.installReloader ?? d.installReloader },
    aws: providers.includes("aws") ? cfg.aws : undefined,
    gcp:
      providers.includes("gcp") && cfg.gcp
        ? { project: cfg.gcp.project, replicationLocations: cfg.gcp.replicationLocations ?? [], clusterName: cfg.gcp.clusterName, clusterLocation: cfg.gcp.clusterLocation }
        : undefined,
    azure:
      providers.includes("azure") && cfg.azure
        ? { ...cfg.azure, keyVaultName: cfg.azure.keyVaultName ?? `veza-${env}-kv`, allowedIpRanges: cfg.azure.allowedIpRanges ?? [] }
        : undefined,
    supplied,
    protect: d.protect,
    recoveryWindowDays: d.recoveryWindowDays,
  };
}
