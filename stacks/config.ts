/**
 * Stack config: read every `veza-secrets:*` key once, validate it with the schema and the
 * cross-key rules, apply the environment's defaults, and return one typed object.
 * Bad config throws a `ConfigError` listing every problem, each with the
 * `pulumi config set` command that fixes it, before any resource is registered.
 */
import * as pulumi from "@pulumi/pulumi";
import { CATALOG, type SecretSpec, generatedSecrets, validateCatalog } from "../components/catalog";
import { STACK_DEFAULTS, defaultsFor, keyVaultNameDefault, networkPoliciesDefault, workloadNamespace } from "./defaults";
import { formatPath, joinCommands, nearest, rmCommand, setCommands } from "./fixes";
import { ENVIRONMENTS, ESO_PROVIDERS, PROJECT, configSchema, durationSeconds } from "./schema";
import { type CheckContext, ConfigError, type ConfigProblem, type ConfigSource, type StackConfig } from "./config-model";
import { databaseSettings, vaultSettings } from "./config-sections";
import { environmentOfStack, fixCommand, providersFix, schemaProblems, valueAt } from "./problems";

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
      return raw;
    }
  }
  return raw;
}

/**
 * Parse and validate a stack's config. Throws `ConfigError` listing every problem.
 * `catalog` defaults to the Veza catalog; tests pass others.
 */
/** How `loadStackConfig` treats supplied secrets. */
export interface LoadOptions {
  /**
   * `false` for commands that need no secret value (`npm run bootstrap-sql`): a missing secret
   * is not a problem then, though a secret stored in plain text still is. Default `true`.
   */
  requireSecrets?: boolean;
}

export function loadStackConfig(source: ConfigSource, stack: string, catalog: readonly SecretSpec[] = CATALOG, options: LoadOptions = {}): StackConfig {
  validateCatalog(catalog);
  const problems: ConfigProblem[] = [];
  const add = (path: PropertyKey[], message: string, secret = false, fix?: string): void => {
    problems.push({ key: formatPath(path), message, fix: fix ?? fixCommand(stack, path, secret, valueAt(raw, path)) });
  };

  const missing = (path: PropertyKey[], message: string, fix?: string): void => {
    if (options.requireSecrets !== false) add(path, message, true, fix);
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
    schemaProblems(parsed.error.issues, raw, stack, add);
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
    add(
      ["providers"],
      `"kubernetes" (plain Secrets written by the program, the spec's option 1) is for development only; got it in ${env}`,
      false,
      providersFix(stack, providers, env),
    );
  } else if (providers.includes("kubernetes") && providers.length > 1) {
    add(
      ["providers"],
      `"kubernetes" (plain Secrets written by the program) cannot be combined with ${providers.filter((p) => p !== "kubernetes").join(", ")}: both would own the same Secrets`,
      false,
      providersFix(stack, providers, env),
    );
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
      const near = nearest(
        key,
        generated.map((g) => g.key).filter((k) => !cfg.generatedKeys?.[k]),
      );
      const move = near ? setCommands(stack, ["generatedKeys", near], override) : [];
      add(
        ["generatedKeys", key],
        `is not a generated key; generated keys are ${generated.map((g) => g.key).join(", ")}${near ? `; did you mean "${near}"?` : ""}`,
        false,
        joinCommands([...move, rmCommand(stack, ["generatedKeys", key])]),
      );
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
      add(
        ["generatedKeys", g.key, "rotationDays"],
        `must be at most ${g.source.rotationDays} (the catalog's period: a stack may rotate sooner, never later); got ${rotationDays}`,
      );
    }
    generatedKeys[g.key] = { length, rotationDays };
  }

  const context: CheckContext = { stack, env, cfg, d, providers, secrets, problems, warnings, add, missing };
  const vault = providers.includes("vault") ? vaultSettings(context) : undefined;
  const database = databaseSettings(context, vault);

  // Supplied secrets: every one the catalog needs must be set, as a secret, in the right shape.
  const supplied: Record<string, pulumi.Output<string>> = {};
  for (const spec of catalog) {
    if (spec.source.kind === "generated") continue;
    if (spec.source.kind === "database" && database) continue;
    const { configKey } = spec.source;
    const value = secrets[configKey];
    if (value === undefined) {
      if (!problems.some((p) => p.key === configKey)) missing([configKey], `is required: ${spec.description} (${spec.key})`);
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
        serviceMonitor: cfg.eso?.serviceMonitor ?? STACK_DEFAULTS.eso.serviceMonitor,
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

  const networkOn = cfg.network?.policies ?? networkPoliciesDefault(env);
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
      workloads: cfg.namespaces?.workloads ?? workloadNamespace(env),
      vault: cfg.namespaces?.vault ?? STACK_DEFAULTS.namespaces.vault,
      externalSecrets: cfg.namespaces?.externalSecrets ?? STACK_DEFAULTS.namespaces.externalSecrets,
    },
    vault,
    eso,
    generatedKeys,
    database,
    rotation: { schedule: cfg.rotation?.schedule ?? STACK_DEFAULTS.rotation.schedule, installReloader: cfg.rotation?.installReloader ?? d.installReloader },
    network,
    aws: providers.includes("aws") ? cfg.aws : undefined,
    gcp:
      providers.includes("gcp") && cfg.gcp
        ? {
            project: cfg.gcp.project,
            replicationLocations: cfg.gcp.replicationLocations ?? [],
            clusterName: cfg.gcp.clusterName,
            clusterLocation: cfg.gcp.clusterLocation,
            dataAccessAuditLogs: cfg.gcp.dataAccessAuditLogs ?? STACK_DEFAULTS.gcp.dataAccessAuditLogs,
          }
        : undefined,
    azure:
      providers.includes("azure") && cfg.azure
        ? { ...cfg.azure, keyVaultName: cfg.azure.keyVaultName ?? keyVaultNameDefault(env), allowedIpRanges: cfg.azure.allowedIpRanges ?? [] }
        : undefined,
    supplied,
    protect: d.protect,
    recoveryWindowDays: d.recoveryWindowDays,
  };
}
