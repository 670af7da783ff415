/**
 * The other sections of a stack's config (the Vault and database ones are in
 * `config-sections.ts`): providers, generated keys, supplied secrets, ESO and the network.
 * Each applies the environment's defaults and reports every cross-key rule through `c.add`
 * with its fix; none throws. `loadStackConfig` calls them in this order.
 */
import * as pulumi from "@pulumi/pulumi";
import { type SecretSpec, generatedSecrets } from "../components/catalog";
import type { CheckContext, StackConfig, VaultSettings } from "./config-model";
import { STACK_DEFAULTS, keyVaultNameDefault, networkPoliciesDefault } from "./defaults";
import { joinCommands, nearest, rmCommand, setCommands, setSecretCommand } from "./fixes";
import { fixCommand, providersFix } from "./problems";
import { ESO_PROVIDERS, PROJECT, durationSeconds } from "./schema";

/** Providers listed once, `kubernetes` alone and in development only, each cloud with its settings. */
export function providerChecks(c: CheckContext): StackConfig["esoProviders"] {
  const { stack, env, cfg, providers, add } = c;
  providers.forEach((p, i) => {
    if (providers.indexOf(p) !== i) add(["providers", i], `lists "${p}" twice`, providersFix(stack, providers, env));
  });
  if (providers.includes("kubernetes") && env !== "development") {
    add(
      ["providers"],
      `"kubernetes" (plain Secrets written by the program, the spec's option 1) is for development only; got it in ${env}`,
      providersFix(stack, providers, env),
    );
  } else if (providers.includes("kubernetes") && providers.length > 1) {
    add(
      ["providers"],
      `"kubernetes" (plain Secrets written by the program) cannot be combined with ${providers.filter((p) => p !== "kubernetes").join(", ")}: both would own the same Secrets`,
      providersFix(stack, providers, env),
    );
  }
  for (const p of ["aws", "gcp", "azure"] as const) {
    if (providers.includes(p) && !cfg[p]) add([p], `"${p}" is listed in providers but its settings are missing`);
  }
  // The ESO backends, in the order the stack lists them.
  const esoProviders = ESO_PROVIDERS.filter((p) => providers.includes(p));
  esoProviders.sort((a, b) => providers.indexOf(a) - providers.indexOf(b));
  return esoProviders;
}

/** Generated keys: only catalog keys, never shorter than the catalog's minimum, never rotated later. */
export function generatedKeySettings(c: CheckContext, catalog: readonly SecretSpec[]): StackConfig["generatedKeys"] {
  const { stack, cfg, add } = c;
  const generatedKeys: StackConfig["generatedKeys"] = {};
  const generated = generatedSecrets(catalog);
  const overrides = cfg.generatedKeys ?? {};
  for (const [key, override] of Object.entries(overrides)) {
    if (!generated.some((g) => g.key === key)) {
      const near = nearest(
        key,
        generated.map((g) => g.key).filter((k) => !overrides[k]),
      );
      const move = near ? setCommands(stack, ["generatedKeys", near], override) : [];
      add(
        ["generatedKeys", key],
        `is not a generated key; generated keys are ${generated.map((g) => g.key).join(", ")}${near ? `; did you mean "${near}"?` : ""}`,
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
  return generatedKeys;
}

/**
 * Supplied secrets: every one the catalog needs must be set, as a secret, in the right shape
 * (the database URL is not supplied when the stack has the database engine).
 */
export function suppliedSecrets(c: CheckContext, catalog: readonly SecretSpec[], database: StackConfig["database"]): StackConfig["supplied"] {
  const { stack, secrets, problems, add, missing } = c;
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
      add([configKey], `must be ${spec.source.patternHint ?? `like ${spec.source.pattern}`} (value not shown)`, setSecretCommand(stack, configKey));
      continue;
    }
    supplied[configKey] = pulumi.secret(value);
  }
  return supplied;
}

/** ESO's settings when any backend goes through it: replicas, refresh, Secret policies. */
export function esoSettings(c: CheckContext, esoProviders: StackConfig["esoProviders"]): StackConfig["eso"] {
  const { env, cfg, d, warnings, add } = c;
  if (!esoProviders.length) return undefined;
  const eso = {
    replicas: cfg.eso?.replicas ?? d.esoReplicas,
    serviceMonitor: cfg.eso?.serviceMonitor ?? STACK_DEFAULTS.eso.serviceMonitor,
    refreshInterval: cfg.eso?.refreshInterval ?? d.refreshInterval,
    creationPolicy: cfg.eso?.adoptExisting ? ("Merge" as const) : ("Owner" as const),
    // ESO's webhook refuses Delete for a Secret it does not own (creationPolicy Merge), and
    // an adopted Secret must outlive a vanished backend entry anyway: Retain while adopting.
    deletionPolicy: env === "production" || cfg.eso?.adoptExisting ? ("Retain" as const) : ("Delete" as const),
    ...(cfg.eso?.imageDigest ? { imageDigest: cfg.eso.imageDigest } : {}),
  };
  if (!(cfg.rotation?.installReloader ?? d.installReloader)) {
    warnings.push(
      `${PROJECT}:rotation.installReloader is false: nothing restarts pods when ESO updates a Secret (the secrets-rotation CronJob only force-syncs); run your own Reloader or restart the services after a rotation`,
    );
  }
  if (env === "production" && eso.replicas < 2) {
    add(["eso", "replicas"], `production runs at least 2 replicas with leader election; got ${eso.replicas}`);
  }
  if (durationSeconds(eso.refreshInterval) < 60) {
    add(["eso", "refreshInterval"], `must be at least 1m (each refresh is a provider API call); got "${eso.refreshInterval}"`);
  }
  return eso;
}

/** A Vault address reached through `kubectl port-forward` (not network traffic). */
const PORT_FORWARD = /^https?:\/\/(127\.0\.0\.1|localhost)(:|\/|$)/;

/** NetworkPolicies (on by default outside development) and who may reach Vault's API. */
export function networkSettings(c: CheckContext, vault: VaultSettings | undefined): StackConfig["network"] {
  const { stack, env, cfg, add } = c;
  if (!(cfg.network?.policies ?? networkPoliciesDefault(env))) return undefined;
  const network = {
    deployerCidrs: cfg.network?.deployerCidrs ?? [],
    deployerNamespaces: cfg.network?.deployerNamespaces ?? [],
    ...(cfg.network?.apiServerCidrs ? { apiServerCidrs: cfg.network.apiServerCidrs } : {}),
  };
  // With Vault's ingress closed, the program's own Vault provider must be let in, unless it
  // comes through kubectl port-forward (not network traffic).
  if (vault?.bootstrapped && !PORT_FORWARD.test(vault.address) && network.deployerCidrs.length + network.deployerNamespaces.length === 0) {
    add(
      ["network", "deployerCidrs"],
      `is required: Vault's NetworkPolicy admits only ESO, its peers and the deployer, and ${vault.address} is reached over the network (name the source range where pulumi up runs, or network.deployerNamespaces for an ingress controller or in-cluster agent; kubectl port-forward to 127.0.0.1 needs neither)`,
      // An element path: a list value given to --path would be stored as a string.
      fixCommand(stack, ["network", "deployerCidrs", 0]),
    );
  }
  return network;
}

/** The cloud backends' settings, for the clouds the stack lists, with their defaults. */
export function cloudSettings(c: CheckContext): Pick<StackConfig, "aws" | "gcp" | "azure"> {
  const { env, cfg, providers } = c;
  return {
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
  };
}
