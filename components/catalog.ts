/**
 * The secret catalog: the one table that says which secrets the Veza services need.
 *
 * Every backend (Vault KV, AWS, GCP, Azure, plain Kubernetes Secrets), every policy,
 * every ExternalSecret, the README's secrets table and Pulumi.yaml's secret declarations
 * derive from it, so adding a secret or a service is a one-line change here, then
 * `npm run readme` to regenerate the docs. Environment-free: no stack config is read.
 */
import { CATALOG_KEY } from "./rules";

/** The Veza services that consume secrets. */
export const SERVICES = ["backend-api", "chat-server", "stream-server"] as const;
export type Service = (typeof SERVICES)[number];

/** Where a secret's value comes from. */
export type SecretSource =
  /** Made by the program with `@pulumi/random` and rotated on a schedule. */
  | {
      kind: "generated";
      /** Default length in characters. */
      length: number;
      /** Shortest length config may ask for. */
      minLength: number;
      /** Days between rotations; the next `pulumi up` after that makes a new value. */
      rotationDays: number;
      /** Keep the value before the last rotation published as `<key>-previous`. */
      keepPrevious: boolean;
    }
  /** Set by an operator with `pulumi config set --secret <configKey> ...`. */
  | {
      kind: "supplied";
      /** Stack config key (camelCase) that holds the value as a Pulumi secret. */
      configKey: string;
      /** Optional shape check on the supplied value (e.g. a URL scheme). */
      pattern?: RegExp;
      /** Human words for `pattern`, used in error messages. */
      patternHint?: string;
      /**
       * A value of the right shape with `<secret>` where the sensitive part goes; required
       * with `pattern`. The offline fakes and the docs use it; never a real value.
       */
      example?: string;
    }
  /**
   * A PostgreSQL URL built from rotated credentials (Vault's database engine) where the
   * stack configures a database; otherwise supplied like any other secret.
   */
  | { kind: "database"; configKey: string; pattern: RegExp; patternHint: string; example: string };

export interface SecretSpec {
  /** Key inside the Kubernetes Secret and the backend (kebab-case). */
  key: string;
  /** What it is, for the README and backend descriptions. Never a value. */
  description: string;
  /** Services that need it: `"all"` or a list. */
  services: "all" | readonly Service[];
  source: SecretSource;
}

const POSTGRES_URL = /^postgres(ql)?:\/\/.+/;
const REDIS_URL = /^rediss?:\/\/.+/;

/** Where an example value's sensitive part goes (see `SecretSource.example`). */
export const SECRET_PLACEHOLDER = "<secret>";

/** The Veza platform's secrets, as in the spec's "Secret Structure" tables. */
// One line per secret is how the catalog is read and edited (README, "Recipes"): not reflowed.
// prettier-ignore
export const CATALOG: readonly SecretSpec[] = [
  { key: "database-url", description: "PostgreSQL connection string", services: "all", source: { kind: "database", configKey: "databaseUrl", pattern: POSTGRES_URL, patternHint: "a postgresql:// URL", example: "postgresql://veza:<secret>@postgres.example:5432/veza?sslmode=disable" } },
  { key: "redis-url", description: "Redis connection string", services: "all", source: { kind: "supplied", configKey: "redisUrl", pattern: REDIS_URL, patternHint: "a redis:// or rediss:// URL", example: "rediss://:<secret>@redis.example:6380/0" } },
  { key: "jwt-secret", description: "JWT signing secret (min 32 chars)", services: "all", source: { kind: "generated", length: 64, minLength: 32, rotationDays: 90, keepPrevious: true } },
  { key: "stripe-api-key", description: "Stripe API key for payments", services: ["backend-api"], source: { kind: "supplied", configKey: "stripeApiKey" } },
  { key: "stripe-webhook-secret", description: "Stripe webhook signing secret", services: ["backend-api"], source: { kind: "supplied", configKey: "stripeWebhookSecret" } },
  { key: "smtp-password", description: "SMTP password for emails", services: ["backend-api"], source: { kind: "supplied", configKey: "smtpPassword" } },
  { key: "s3-access-key", description: "AWS S3 access key", services: ["backend-api"], source: { kind: "supplied", configKey: "s3AccessKey" } },
  { key: "s3-secret-key", description: "AWS S3 secret key", services: ["backend-api"], source: { kind: "supplied", configKey: "s3SecretKey" } },
  { key: "chat-server-secret", description: "Secret for chat server authentication", services: ["chat-server"], source: { kind: "generated", length: 48, minLength: 32, rotationDays: 90, keepPrevious: false } },
  { key: "stream-server-secret", description: "Secret for stream server authentication", services: ["stream-server"], source: { kind: "generated", length: 48, minLength: 32, rotationDays: 90, keepPrevious: false } },
];

/** A Kubernetes Secret the services read, and the catalog keys it holds. */
export interface ServiceSecret {
  /** Secret name in the workload namespace, e.g. `veza-secrets`. */
  name: string;
  /** `undefined` for the shared Secret every service mounts. */
  service?: Service;
  /** Keys in this Secret, catalog order, `<key>-previous` right after a key that keeps one. */
  keys: string[];
}

/** Name of the Secret every service mounts (the spec's `veza-secrets`). */
export const SHARED_SECRET_NAME = "veza-secrets";

/** Name of a service's own Secret: the common keys plus its extras. */
export function serviceSecretName(service: Service): string {
  return `veza-${service}-secrets`;
}

/** Name of a service's Kubernetes ServiceAccount and Deployment (`veza-backend-api`). */
export function serviceWorkloadName(service: Service): string {
  return `veza-${service}`;
}

/** Does `service` need `spec`? */
export function needs(spec: SecretSpec, service: Service): boolean {
  return spec.services === "all" || spec.services.includes(service);
}

/** Options of {@link serviceSecrets}. */
export interface ServiceSecretsOptions {
  /**
   * Publish `database` keys only in each service's own Secret, never in the shared one: where
   * Vault issues each service its own database login, a shared Secret would hand one service's
   * login to the others. Default `false` (a supplied `database-url` is shared like any key).
   */
  databasePerService?: boolean;
  /** The services to make Secrets for; default {@link SERVICES}. */
  services?: readonly Service[];
}

/**
 * The Kubernetes Secrets the services consume: `veza-secrets` with the keys every
 * service needs, then one per service with the common keys plus that service's own.
 */
export function serviceSecrets(catalog: readonly SecretSpec[], options: ServiceSecretsOptions = {}): ServiceSecret[] {
  const shared = (s: SecretSpec): boolean => s.services === "all" && !(options.databasePerService && s.source.kind === "database");
  const common = catalog.filter(shared).flatMap(publishedKeys);
  const result: ServiceSecret[] = [{ name: SHARED_SECRET_NAME, keys: common }];
  for (const service of options.services ?? SERVICES) {
    const keys = catalog.filter((s) => needs(s, service)).flatMap(publishedKeys);
    result.push({ name: serviceSecretName(service), service, keys });
  }
  return result;
}

/** Suffix of the key that keeps a rotated key's previous value (zero-downtime JWT rotation). */
export const PREVIOUS_SUFFIX = "-previous";

/** The keys a catalog entry publishes: itself, and `<key>-previous` where it keeps one. */
export function publishedKeys(spec: SecretSpec): string[] {
  return spec.source.kind === "generated" && spec.source.keepPrevious ? [spec.key, `${spec.key}${PREVIOUS_SUFFIX}`] : [spec.key];
}

/** Keys generated with `@pulumi/random`. */
export function generatedSecrets(catalog: readonly SecretSpec[]): (SecretSpec & { source: Extract<SecretSource, { kind: "generated" }> })[] {
  return catalog.filter((s): s is SecretSpec & { source: Extract<SecretSource, { kind: "generated" }> } => s.source.kind === "generated");
}

/** Keys whose value an operator supplies through secret stack config. */
export function suppliedSecrets(catalog: readonly SecretSpec[]): (SecretSpec & { source: Extract<SecretSource, { kind: "supplied" }> })[] {
  return catalog.filter((s): s is SecretSpec & { source: Extract<SecretSource, { kind: "supplied" }> } => s.source.kind === "supplied");
}

/**
 * Check the catalog's own invariants (unique kebab-case keys, unique config keys, sane
 * lengths). Throws with the offending key; the program runs it once at start-up.
 */
export function validateCatalog(catalog: readonly SecretSpec[]): void {
  const keys = new Set<string>();
  const configKeys = new Set<string>();
  for (const spec of catalog) {
    if (!CATALOG_KEY.test(spec.key) || spec.key.length > 63) {
      throw new Error(`catalog: key "${spec.key}" must be kebab-case, at most 63 characters`);
    }
    if (keys.has(spec.key)) throw new Error(`catalog: key "${spec.key}" appears twice`);
    keys.add(spec.key);
    if (spec.services !== "all" && spec.services.length === 0) {
      throw new Error(`catalog: key "${spec.key}" is needed by no service`);
    }
    if (spec.source.kind === "generated") {
      const { length, minLength, rotationDays } = spec.source;
      if (minLength < 32 || length < minLength) {
        throw new Error(`catalog: key "${spec.key}" length ${length} must be at least its minLength ${minLength}, itself at least 32`);
      }
      if (rotationDays < 1) throw new Error(`catalog: key "${spec.key}" rotationDays must be at least 1`);
    } else {
      const { configKey: ck, pattern, example } = spec.source;
      if (!/^[a-z][A-Za-z0-9]*$/.test(ck)) throw new Error(`catalog: key "${spec.key}" config key "${ck}" must be camelCase`);
      if (pattern && !(example ?? "").includes(SECRET_PLACEHOLDER)) {
        throw new Error(`catalog: key "${spec.key}" has a pattern, so it needs an example with ${SECRET_PLACEHOLDER} where the secret goes`);
      }
      if (pattern && example && !pattern.test(example.replace(SECRET_PLACEHOLDER, "x"))) {
        throw new Error(`catalog: key "${spec.key}" example ${JSON.stringify(example)} does not match its own pattern ${String(pattern)}`);
      }
      if (configKeys.has(ck)) throw new Error(`catalog: config key "${ck}" is used by two keys`);
      configKeys.add(ck);
    }
  }
}
