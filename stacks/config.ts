/**
 * Stack config: read every `veza-secrets:*` key once, validate it with the schema and the
 * cross-key rules, apply the environment's defaults, and return one typed object.
 * Bad config throws a `ConfigError` listing every problem, each with the
 * `pulumi config set` command that fixes it, before any resource is registered.
 */
import * as pulumi from "@pulumi/pulumi";
import { CATALOG, type SecretSpec, validateCatalog } from "../components/catalog";
import { STACK_DEFAULTS, defaultsFor, workloadNamespace } from "./defaults";
import { formatPath, rmCommand, setCommands, setSecretCommand } from "./fixes";
import { ENVIRONMENTS, PROJECT, configSchema } from "./schema";
import { type CheckContext, ConfigError, type ConfigProblem, type ConfigSource, type StackConfig } from "./config-model";
import { databaseSettings, installsReloader, vaultSettings } from "./config-sections";
import { chartSettings, cloudSettings, esoSettings, generatedKeySettings, networkSettings, providerChecks, suppliedSecrets } from "./config-checks";
import { environmentOfStack, exampleFor, fixCommand, placeholderMessage, placeholdersIn, providersFix, schemaProblems, valueAt } from "./problems";

/** Keys outside the schema and the catalog that hold secrets. */
export const SECRET_KEYS = ["vaultDevRootToken", "vaultToken", "databaseAdminPassword"] as const;

/** Every config key that holds a secret: the catalog's supplied ones, then `SECRET_KEYS`. */
export function secretConfigKeys(catalog: readonly SecretSpec[]): string[] {
  const fromCatalog = catalog.flatMap((s) => (s.source.kind === "generated" ? [] : [s.source.configKey]));
  return [...fromCatalog, ...SECRET_KEYS];
}

function parseValue(raw: string): unknown {
  const t = raw.trim();
  if (t.startsWith("{") || t.startsWith("[")) {
    try {
      return JSON.parse(t);
    } catch {
      // Not JSON: the text as set, which the schema then names.
    }
  }
  return raw;
}

/**
 * This project's keys, without the `veza-secrets:` prefix: secret ones (as set) apart from the
 * others (JSON objects and lists parsed), and the secret keys stored in plain text.
 */
function readValues(
  source: ConfigSource,
  catalog: readonly SecretSpec[],
): { raw: Record<string, unknown>; secrets: Record<string, string>; plainSecrets: string[] } {
  const prefix = `${PROJECT}:`;
  const secretNames = new Set(secretConfigKeys(catalog));
  const raw: Record<string, unknown> = {};
  const secrets: Record<string, string> = {};
  const plainSecrets: string[] = [];
  for (const [fullKey, value] of Object.entries(source.values)) {
    if (!fullKey.startsWith(prefix)) continue; // other namespaces: provider config (kubernetes:context, ...)
    const key = fullKey.slice(prefix.length);
    if (!secretNames.has(key)) raw[key] = parseValue(value);
    else if (source.secretKeys.has(fullKey)) secrets[key] = value;
    else plainSecrets.push(key);
  }
  return { raw, secrets, plainSecrets };
}

/** How `loadStackConfig` treats supplied secrets. */
export interface LoadOptions {
  /**
   * `false` for commands that need no secret value (`npm run bootstrap-sql`): a missing secret
   * is not a problem then, though a secret stored in plain text still is. Default `true`.
   */
  requireSecrets?: boolean;
}

/**
 * Parse and validate a stack's config. Throws `ConfigError` listing every problem.
 * `catalog` defaults to the Veza catalog; tests pass others.
 */
export function loadStackConfig(source: ConfigSource, stack: string, catalog: readonly SecretSpec[] = CATALOG, options: LoadOptions = {}): StackConfig {
  validateCatalog(catalog);
  const problems: ConfigProblem[] = [];
  const add = (path: PropertyKey[], message: string, fix?: string): void => {
    problems.push({ key: formatPath(path), message, fix: fix ?? fixCommand(stack, path, valueAt(raw, path)) });
  };

  const missing = (path: PropertyKey[], message: string, fix?: string): void => {
    if (options.requireSecrets !== false) add(path, message, fix ?? setSecretCommand(stack, String(path[0])));
  };
  const warnings: string[] = [];
  const { raw, secrets, plainSecrets } = readValues(source, catalog);
  for (const key of plainSecrets) {
    add(
      [key],
      "holds a secret but is stored in plain text in the stack file (value not shown). If that file was ever committed, the value is in Git history: rotate it at its source, then remove the plain entry and set the new value as a secret",
      setSecretCommand(stack, key),
    );
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

  // A fix pasted before its <placeholder> was replaced: named as such, not as whatever rule
  // the marked text happens to break (or pass: a KMS key id may be any text).
  const placeholders = placeholdersIn(raw);
  for (const { path, names } of placeholders) {
    const fix =
      path[0] === "providers"
        ? providersFix(stack, raw.providers, environmentOfStack(stack))
        : exampleFor(path, environmentOfStack(stack)) !== undefined
          ? fixCommand(stack, path)
          : rmCommand(stack, path);
    add(path, placeholderMessage(names), fix);
  }
  const under = (path: readonly PropertyKey[], prefix: readonly PropertyKey[]) => prefix.every((p, i) => path[i] === p);
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.filter((i) => !placeholders.some((p) => under(i.path, p.path)));
    schemaProblems(issues, raw, stack, add);
    throw new ConfigError(stack, problems);
  }
  if (placeholders.length) throw new ConfigError(stack, problems);
  const cfg = parsed.data;
  const env = cfg.environment;
  const d = defaultsFor(env);

  // The stack name is the environment, or starts with it (review stacks: `development-pr-42`).
  if (stack !== env && !stack.startsWith(`${env}-`)) {
    const matching = ENVIRONMENTS.find((e) => stack === e || stack.startsWith(`${e}-`));
    add(
      ["environment"],
      `is "${env}" but the stack is "${stack}"; a stack's name must be its environment or start with "<environment>-"`,
      matching ? setCommands(stack, ["environment"], matching)[0] : `pulumi stack rename ${env} --stack ${stack}`,
    );
  }

  const providers = cfg.providers;
  const context: CheckContext = { stack, env, cfg, d, providers, secrets, problems, warnings, add, missing };
  const esoProviders = providerChecks(context);
  const generatedKeys = generatedKeySettings(context, catalog);
  const vault = providers.includes("vault") ? vaultSettings(context) : undefined;
  const database = databaseSettings(context, vault);
  const supplied = suppliedSecrets(context, catalog, database);
  const eso = esoSettings(context, esoProviders);
  const network = networkSettings(context, vault);
  const installReloader = installsReloader(cfg, d);
  if (installReloader && cfg.rotation?.reloaderInstalled)
    add(
      ["rotation", "reloaderInstalled"],
      "is true, and so is rotation.installReloader: a second Reloader would restart every pod twice; keep one",
      rmCommand(stack, ["rotation", "installReloader"]),
    );
  const charts = chartSettings(context, { vault: !!vault?.install, eso: !!eso?.install, reloader: installReloader });

  if (problems.length) throw new ConfigError(stack, problems);
  for (const w of warnings) void pulumi.log.warn(w);

  return {
    stack,
    environment: env,
    providers,
    esoProviders,
    namespaces: {
      workloads: cfg.namespaces?.workloads ?? workloadNamespace(env),
      vault: cfg.namespaces?.vault ?? STACK_DEFAULTS.namespaces.vault,
      externalSecrets: cfg.namespaces?.externalSecrets ?? STACK_DEFAULTS.namespaces.externalSecrets,
    },
    vault,
    eso,
    generatedKeys,
    database,
    rotation: { schedule: cfg.rotation?.schedule ?? STACK_DEFAULTS.rotation.schedule, installReloader },
    charts,
    network,
    ...cloudSettings(context),
    supplied,
    protect: d.protect,
    recoveryWindowDays: d.recoveryWindowDays,
  };
}
