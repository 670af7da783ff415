/**
 * Composition: turn a stack's validated config into component args. The only code,
 * with `config.ts` and `defaults.ts`, that knows about environments.
 */
import * as pulumi from "@pulumi/pulumi";
import { SERVICES, type SecretSpec, SHARED_SECRET_NAME, serviceSecrets, serviceWorkloadName } from "../components/catalog";
import { Namespaces } from "../components/cluster/namespaces";
import { ServiceAccess } from "../components/cluster/service-access";
import type { StackConfig } from "./config";

/** Stack outputs: names and addresses a user needs, never a secret value. */
export interface PlatformOutputs {
  environment: string;
  providers: string[];
  namespaces: Record<string, pulumi.Output<string>>;
  /** Kubernetes Secrets the services read, with their keys. */
  kubernetesSecrets: { name: string; keys: string[] }[];
  serviceAccounts: Record<string, pulumi.Output<string>>;
}

export function buildPlatform(config: StackConfig, catalog: readonly SecretSpec[]): PlatformOutputs {
  const env = config.environment;
  const envLabels = { "veza.io/environment": env };
  const secrets = serviceSecrets(catalog);

  const namespaceNames: Record<string, string> = { workloads: config.namespaces.workloads };
  if (config.vault) namespaceNames.vault = config.namespaces.vault;
  if (config.eso) namespaceNames.externalSecrets = config.namespaces.externalSecrets;
  const namespaces = new Namespaces("namespaces", {
    names: namespaceNames,
    holdSecrets: ["workloads", "vault"],
    labels: envLabels,
    protect: config.protect,
  });

  const access = new ServiceAccess("service-access", {
    namespace: namespaces.names.workloads,
    sharedSecret: SHARED_SECRET_NAME,
    services: SERVICES.map((service) => ({
      name: service,
      serviceAccount: serviceWorkloadName(service),
      secrets: secrets.filter((s) => s.service === undefined || s.service === service).map((s) => s.name),
    })),
    labels: envLabels,
  });

  return {
    environment: env,
    providers: config.providers,
    namespaces: namespaces.names,
    kubernetesSecrets: secrets.map((s) => ({ name: s.name, keys: s.keys })),
    serviceAccounts: access.serviceAccounts,
  };
}
