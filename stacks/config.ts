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
import { DEV_ROOT_TOKEN_RULE, devRootTokenError } from "../components/vault/cluster-args";
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
  secondsAsDuration,
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
  /** Dev root token, or the token `pulumi up` uses with login method `token`. Secret. */
  token?: pulumi.Output<string>;
  /**
   * How `pulumi up` logs in. `jwt`: the role `role` on the issuer's jwt mount, with the JWT
   * from TERRAFORM_VAULT_AUTH_JWT. `token`: `token`.
   */
  login: { method: "jwt" | "token"; issuer: "github" | "pulumi"; role: string; githubRepository?: string; pulumiOrganization?: string };
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
    replicas: number;
    serviceMonitor: boolean;
    refreshInterval: string;
    /** `Merge` while adopting hand-made Secrets, else `Owner`. */
    creationPolicy: "Owner" | "Merge";
    /** `Retain` in production: a vanished backend secret does not delete the Kubernetes Secret. */
    deletionPolicy: "Retain" | "Delete";
    /** Digest pinned on ESO's image, if configured. */
    imageDigest?: string;
  };
  /** Per generated catalog key: its length and rotation period. */
  generatedKeys: Record<string, { length: number; rotationDays: number }>;
  /** Present when the stack configures a database and uses Vault: credentials are rotated by Vault. */
  database?: DatabaseSettings;
  rotation: { schedule: string; installReloader: boolean };
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

/**
 * The example for `path` in environment `env`: its own, or the matching part of an
 * ancestor's example object. An example that names the environment is a function of it.
 */
export function exampleFor(path: readonly PropertyKey[], env: Environment = "development"): unknown {
  for (let n = path.length; n > 0; n--) {
    const entry = EXAMPLES[examplePath(path.slice(0, n))];
    const example: unknown = typeof entry === "function" ? (entry as (e: Environment) => unknown)(env) : entry;
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
  const example = exampleFor(path, environmentOfStack(stack));
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

const unwrap = (t: z.ZodType | undefined): z.ZodType | undefined => {
  let u = t;
  while (u instanceof z.ZodOptional) u = u.unwrap() as z.ZodType;
  return u;
};

/** The schema at `path` (through objects, records and lists; not into unions), if any. */
function schemaAt(path: readonly PropertyKey[]): z.ZodType | undefined {
  let cur: z.ZodType | undefined = configSchema;
  for (const p of path) {
    cur = unwrap(cur);
    if (cur instanceof z.ZodObject) cur = (cur.shape as Record<string, z.ZodType>)[String(p)];
    else if (cur instanceof z.ZodRecord) cur = cur.valueType as z.ZodType;
    else if (cur instanceof z.ZodArray) cur = cur.element as z.ZodType;
    else return undefined;
  }
  return unwrap(cur);
}

/**
 * The value nearest to a wrong one that the schema accepts, if an obvious repair gives one:
 * a number or boolean stored where text belongs (an account id), a URL scheme or a trailing
 * `/` where a host and path belong (an OIDC issuer), surrounding spaces.
 */
export function repairedValue(path: readonly PropertyKey[], got: unknown): string | undefined {
  const schema = schemaAt(path);
  if (!schema || (typeof got !== "string" && typeof got !== "number" && typeof got !== "boolean")) return undefined;
  const text = String(got).trim();
  const candidates = [text, text.replace(/\/+$/, ""), text.replace(/^https?:\/\//, "").replace(/\/+$/, "")];
  return candidates.find((c) => c !== got && schema.safeParse(c).success);
}

/** The keys the schema allows at `path` (for a discriminated union: the chosen variant's, else all). */
function knownKeys(path: readonly PropertyKey[], value: unknown): string[] {
  const cur = schemaAt(path);
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
        const repaired = repairedValue(issue.path, got);
        add(issue.path, zodMessage(issue, raw), false, repaired !== undefined ? setCommands(stack, issue.path as ConfigPath, repaired)[0] : undefined);
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
      matching ? setCommands(stack, ["environment"], matching)[0] : `pulumi stack rename ${env} --stack ${stack}`,
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
    const login = v.login ?? {};
    // Dev mode has only its root token; everywhere else the program logs in with a short-lived
    // workload identity, and a stored token is the explicit exception.
    const method = mode === "dev" ? "token" : (login.method ?? "jwt");
    const issuer = login.issuer ?? "github";
    if (mode === "dev" && login.method === "jwt") add(["vault", "login", "method"], 'must be "token" in dev mode (the dev server\'s root token); jwt is for ha', false, rmCommand(stack, ["vault", "login", "method"]));
    if (bootstrapped && method === "jwt" && issuer === "github" && !login.githubRepository) {
      add(["vault", "login", "githubRepository"], "is required with vault.login.method jwt and issuer github: the repository whose deploy job (GitHub environment of the same name) logs in to Vault");
    }
    if (bootstrapped && method === "jwt" && issuer === "pulumi" && !login.pulumiOrganization) {
      add(["vault", "login", "pulumiOrganization"], "is required with vault.login.method jwt and issuer pulumi: the organization whose Deployments of this stack log in to Vault");
    }
    if (method === "jwt" && secrets.vaultToken !== undefined) {
      add(["vaultToken"], "is set but vault.login.method is jwt: a stored long-lived token is exactly what jwt login replaces; revoke it in Vault (vault token revoke) and remove it", false, rmCommand(stack, ["vaultToken"]));
    }
    if (mode === "dev" || (bootstrapped && method === "token")) {
      if (secrets[tokenKey] === undefined) {
        if (!problems.some((p) => p.key === tokenKey)) {
          if (mode === "dev") add([tokenKey], "is required: the dev server's root token", true, DEV_ROOT_TOKEN_FIX(stack));
          else add([tokenKey], `is required once vault.bootstrapped is true with vault.login.method token: the token \`pulumi up\` configures Vault with (or log in with jwt: ${setCommands(stack, ["vault", "login", "method"], "jwt")[0]})`, true);
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
      login: {
        method,
        issuer,
        role: cfg.vaultLoginRole ?? `pulumi-${env}`,
        ...(login.githubRepository ? { githubRepository: login.githubRepository } : {}),
        ...(login.pulumiOrganization ? { pulumiOrganization: login.pulumiOrganization } : {}),
      },
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
    const rotationSchedule = db.rotationSchedule ?? "0 4 * * 0";
    const defaultTtl = db.defaultTtl ?? d.databaseLeaseTtl;
    const ttl = durationSeconds(defaultTtl);
    // Half the TTL by default: the previous login stays valid for the other half, while
    // Reloader rolls the pods onto the new one (docs/database.md).
    const refreshInterval = db.refreshInterval ?? secondsAsDuration(Math.floor(ttl / 2));
    const unset = (key: string): string => rmCommand(stack, ["database", key]);
    if (db.rotationPeriod !== undefined) {
      add(["database", "rotationPeriod"], `was replaced by database.rotationSchedule (cron, UTC; default "0 4 * * 0"): the migration login now rotates at a time you choose`, false, joinCommands([unset("rotationPeriod"), fixCommand(stack, ["database", "rotationSchedule"])]));
    }
    if (db.maxTtl !== undefined) {
      add(["database", "maxTtl"], `was removed: service logins are never renewed, so each lease ends at database.defaultTtl`, false, unset("maxTtl"));
    }
    const sslMode = db.sslMode ?? d.sslMode;
    for (const k of ["caCert", "sslRootCert"] as const) {
      if (db[k] !== undefined && sslMode !== "verify-ca" && sslMode !== "verify-full") {
        add(["database", "sslMode"], `is "${sslMode}", which verifies no certificate, but database.${k} is set: use verify-full (or verify-ca)`, false, setCommands(stack, ["database", "sslMode"], "verify-full")[0]);
      }
    }
    if (ttl < 600) {
      add(["database", "defaultTtl"], `must be at least 10m (each login must outlive a pod rollout); got "${defaultTtl}"`);
    } else if (durationSeconds(refreshInterval) * 2 > ttl) {
      add(["database", "refreshInterval"], `(${refreshInterval}) must be at most half of database.defaultTtl (${defaultTtl}): the previous login must stay valid while the pods restart`, false, setCommands(stack, ["database", "refreshInterval"], secondsAsDuration(Math.floor(ttl / 2)))[0]);
    } else if (durationSeconds(refreshInterval) < 60) {
      add(["database", "refreshInterval"], `must be at least 1m (each refresh makes a database login); got "${refreshInterval}"`);
    }
    if (!(cfg.rotation?.installReloader ?? d.installReloader)) {
      add(["rotation", "installReloader"], "must be true with database: each refresh gives every service a new login, and only Reloader moves the pods onto it before the old one expires", false, setCommands(stack, ["rotation", "installReloader"], true)[0]);
    }
    // Needed only by the run that configures Vault (README, "Bootstrapping Vault": the first
    // install of an HA Vault comes before the database bootstrap that makes this password).
    if (vault?.bootstrapped && secrets.databaseAdminPassword === undefined && !problems.some((p) => p.key === "databaseAdminPassword")) {
      add(["databaseAdminPassword"], "is required once vault.bootstrapped is true: the password of database.adminUsername, which Vault rotates after first use", true);
    }
    database = {
      host: db.host,
      port: db.port ?? 5432,
      name: db.name ?? "veza",
      adminUsername: db.adminUsername ?? "vault_admin",
      appUsername: db.appUsername ?? "veza_app",
      appGroupRole: db.appGroupRole ?? "veza_app_group",
      appSchema: db.appSchema ?? "veza",
      rotationSchedule,
      defaultTtl,
      defaultTtlSeconds: ttl,
      refreshInterval,
      sslMode: db.sslMode ?? d.sslMode,
      ...(db.caCert ? { caCert: db.caCert } : {}),
      ...(db.sslRootCert ? { sslRootCert: db.sslRootCert } : {}),
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
        ...(cfg.eso?.imageDigest ? { imageDigest: cfg.eso.imageDigest } : {}),
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

  const networkOn = cfg.network?.policies ?? env !== "development";
  const network = networkOn
    ? {
        deployerCidrs: cfg.network?.deployerCidrs ?? [],
        deployerNamespaces: cfg.network?.deployerNamespaces ?? [],
        ...(cfg.network?.apiServerCidrs ? { apiServerCidrs: cfg.network.apiServerCidrs } : {}),
      }
    : undefined;
  // With Vault's ingress closed, the program's own Vault provider must be let in, unless it
  // comes through kubectl port-forward (not network traffic).
  const viaPortForward = vault ? /^https?:\/\/(127\.0\.0\.1|localhost)(:|\/|$)/.test(vault.address) : true;
  if (network && vault?.bootstrapped && !viaPortForward && network.deployerCidrs.length + network.deployerNamespaces.length === 0) {
    add(
      ["network", "deployerCidrs"],
      `is required: Vault's NetworkPolicy admits only ESO, its peers and the deployer, and ${vault.address} is reached over the network (name the source range where pulumi up runs, or network.deployerNamespaces for an ingress controller or in-cluster agent; kubectl port-forward to 127.0.0.1 needs neither)`,
      false,
      // An element path: a list value given to --path would be stored as a string.
      fixCommand(stack, ["network", "deployerCidrs", 0]),
    );
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
    network,
    aws: providers.includes("aws") ? cfg.aws : undefined,
    gcp:
      providers.includes("gcp") && cfg.gcp
        ? {
            project: cfg.gcp.project,
            replicationLocations: cfg.gcp.replicationLocations ?? [],
            clusterName: cfg.gcp.clusterName,
            clusterLocation: cfg.gcp.clusterLocation,
            dataAccessAuditLogs: cfg.gcp.dataAccessAuditLogs ?? true,
          }
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
