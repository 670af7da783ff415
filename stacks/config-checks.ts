/**
 * The other sections of a stack's config (the Vault and database ones are in
 * `config-sections.ts`): providers, generated keys, supplied secrets, ESO and the network.
 * Each applies the environment's defaults and reports every cross-key rule through `c.add`
 * with its fix; none throws. `loadStackConfig` calls them in this order.
 */
import * as pulumi from "@pulumi/pulumi";
import { type SecretSpec, generatedSecrets } from "../components/catalog";
import type { CheckContext, StackConfig, VaultSettings } from "./config-model";
import * as fs from "node:fs";
import * as path from "node:path";
import { RELOADER_CHART_VERSION } from "../components/cluster/reloader";
import { ESO_CHART_VERSION, ESO_SERVICE_ACCOUNT } from "../components/eso/operator";
import { VAULT_CHART_VERSION } from "../components/vault/cluster-args";
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
  const { stack, env, cfg, d, warnings, add } = c;
  if (!esoProviders.length) return undefined;
  const install = cfg.eso?.install ?? true;
  const eso = {
    install,
    serviceAccount: cfg.eso?.serviceAccount ?? ESO_SERVICE_ACCOUNT,
    replicas: cfg.eso?.replicas ?? d.esoReplicas,
    serviceMonitor: cfg.eso?.serviceMonitor ?? STACK_DEFAULTS.eso.serviceMonitor,
    refreshInterval: cfg.eso?.refreshInterval ?? d.refreshInterval,
    creationPolicy: cfg.eso?.adoptExisting ? ("Merge" as const) : ("Owner" as const),
    // ESO's webhook refuses Delete for a Secret it does not own (creationPolicy Merge), and
    // an adopted Secret must outlive a vanished backend entry anyway: Retain while adopting.
    deletionPolicy: env === "production" || cfg.eso?.adoptExisting ? ("Retain" as const) : ("Delete" as const),
    ...(cfg.eso?.imageDigest ? { imageDigest: cfg.eso.imageDigest } : {}),
    ...(cfg.eso?.certManagerIssuer
      ? { certManagerIssuer: { kind: cfg.eso.certManagerIssuer.kind ?? ("ClusterIssuer" as const), name: cfg.eso.certManagerIssuer.name } }
      : {}),
  };
  if (install && cfg.eso?.serviceAccount !== undefined)
    add(
      ["eso", "serviceAccount"],
      "names the controller of an ESO the program does not install (eso.install false); the installed one is external-secrets",
      rmCommand(stack, ["eso", "serviceAccount"]),
    );
  if (!install)
    for (const key of ["replicas", "serviceMonitor", "imageDigest", "certManagerIssuer"] as const)
      if (cfg.eso?.[key] !== undefined)
        add(["eso", key], "applies only to an ESO the program installs, and eso.install is false: remove it", rmCommand(stack, ["eso", key]));
  if (!(cfg.rotation?.installReloader ?? d.installReloader) && !cfg.rotation?.reloaderInstalled) {
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
  // A Vault the program does not install has no NetworkPolicy of ours to let the deployer through.
  if (vault?.install && vault.bootstrapped && !PORT_FORWARD.test(vault.address) && network.deployerCidrs.length + network.deployerNamespaces.length === 0) {
    add(
      ["network", "deployerCidrs"],
      `is required: Vault's NetworkPolicy admits only ESO, its peers and the deployer, and ${vault.address} is reached over the network (name the source range where pulumi up runs, or network.deployerNamespaces for an ingress controller or in-cluster agent; kubectl port-forward to 127.0.0.1 needs neither)`,
      // An element path: a list value given to --path would be stored as a string.
      fixCommand(stack, ["network", "deployerCidrs", 0]),
    );
  }
  // Without it, every egress rule to the API server is a rule to anywhere on 443 and 6443.
  if (env !== "development" && !network.apiServerCidrs?.length) {
    add(
      ["network", "apiServerCidrs"],
      "is required outside development: ESO, its webhook and cert controller and the rotation job may reach the Kubernetes API server and nothing else, and without its address that rule opens 443 and 6443 to anywhere (the address as pods see it: kubectl get endpointslices -n default -l kubernetes.io/service-name=kubernetes)",
      fixCommand(stack, ["network", "apiServerCidrs", 0]),
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

/** The pinned chart each release installs, by `charts` key. */
const PINNED_CHARTS = {
  vault: { name: "vault", version: VAULT_CHART_VERSION },
  eso: { name: "external-secrets", version: ESO_CHART_VERSION },
  reloader: { name: "reloader", version: RELOADER_CHART_VERSION },
} as const;

/** The `name` and `version` of a chart directory's Chart.yaml, or why they cannot be read. */
export function chartYamlIdentity(dir: string): { name?: string; version?: string } | string {
  const file = path.join(dir, "Chart.yaml");
  if (!fs.existsSync(file)) return `has no Chart.yaml (${file})`;
  const text = fs.readFileSync(file, "utf8");
  // Top-level scalars only; Chart.yaml's name and version are plain strings (quoted or not).
  const field = (key: string) => new RegExp(`^${key}:\\s*["']?([^"'\\s#]+)`, "m").exec(text)?.[1];
  return { name: field("name"), version: field("version") };
}

/**
 * Where each chart comes from: its per-chart entry, else `charts.repository`, else its own
 * repository. A chart the stack does not install may not be configured; a local chart must
 * be the pinned chart at the pinned version.
 */
export function chartSettings(c: CheckContext, installs: { vault: boolean; eso: boolean; reloader: boolean }): StackConfig["charts"] {
  const { stack, cfg, add } = c;
  const charts: StackConfig["charts"] = {};
  for (const key of ["vault", "eso", "reloader"] as const) {
    const own = cfg.charts?.[key];
    if (own && !installs[key]) {
      add(["charts", key], `is set but this stack does not install ${PINNED_CHARTS[key].name}: remove it`, rmCommand(stack, ["charts", key]));
      continue;
    }
    if (!installs[key]) continue;
    if (own?.repository !== undefined && own.path !== undefined) {
      add(["charts", key, "path"], "and charts." + key + ".repository are both set: a chart comes from one place", rmCommand(stack, ["charts", key, "path"]));
      continue;
    }
    const repository = own?.repository ?? (own?.path === undefined ? cfg.charts?.repository : undefined);
    if (repository !== undefined) {
      charts[key] = repository.startsWith("oci://") ? { kind: "oci", url: repository } : { kind: "repository", url: repository };
    } else if (own?.path !== undefined) {
      const pinned = PINNED_CHARTS[key];
      const dir = path.resolve(own.path);
      if (own.path.endsWith(".tgz")) {
        if (path.basename(own.path) !== `${pinned.name}-${pinned.version}.tgz`)
          add(["charts", key, "path"], `must be the pinned chart's package, ${pinned.name}-${pinned.version}.tgz; got ${JSON.stringify(own.path)}`);
        else if (!fs.existsSync(dir)) add(["charts", key, "path"], `${JSON.stringify(own.path)} does not exist (paths are relative to the project)`);
      } else {
        const id = chartYamlIdentity(dir);
        if (typeof id === "string") add(["charts", key, "path"], `${JSON.stringify(own.path)} ${id}`);
        else if (id.name !== pinned.name || id.version !== pinned.version)
          add(
            ["charts", key, "path"],
            `must hold the pinned chart ${pinned.name} ${pinned.version}; its Chart.yaml says ${id.name ?? "no name"} ${id.version ?? "no version"} (helm pull ${pinned.name} --version ${pinned.version} --untar)`,
          );
      }
      // Relative as configured: Helm resolves it from the project, wherever the checkout is.
      charts[key] = { kind: "path", path: own.path };
    }
  }
  return charts;
}
