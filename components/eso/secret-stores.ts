/**
 * ESO SecretStores: one namespaced store per backend, each with its own ServiceAccount
 * (the least-privilege identity that backend trusts) in the workload namespace. No
 * ClusterSecretStore and no cross-namespace reference (ESO's security best practices).
 */
import * as k8sCore from "@pulumi/kubernetes/core/v1";
import { CustomResource } from "@pulumi/kubernetes/apiextensions";
import { Provider } from "@pulumi/kubernetes/provider";
import * as pulumi from "@pulumi/pulumi";

/** Objects are `external-secrets.io/v1`: ESO 2.9 no longer serves v1beta1. */
export const ESO_API_VERSION = "external-secrets.io/v1";

/** A backend ESO reads, with what it needs to authenticate. */
export type StoreSpec =
  | {
      kind: "vault";
      /** Store name, e.g. `vault-store`. */
      name: string;
      /** Vault address as seen from the cluster, e.g. `https://vault.vault-system.svc:8200`. */
      server: pulumi.Input<string>;
      /** KV mount (`secret`) for a KV v2 store; omit for a store that reads other engines' paths as-is. */
      kvMount?: string;
      /** Kubernetes auth mount path in Vault. */
      authMountPath: string;
      /** Vault role bound to this store's ServiceAccount. */
      role: string;
      /** Audience of the token ESO mints for the ServiceAccount; the Vault role checks it. */
      audience: string;
      /**
       * A second audience on the token: the API server's, for a Vault outside the cluster, which
       * sends the login's own token to the API server for its TokenReview (measured: a token of
       * audience `vault` alone is refused there, and the login with it). Omit with Vault in the cluster.
       */
      reviewAudience?: string;
      /** ConfigMap in the store's namespace holding Vault's CA (`ca.crt`); omit for plain HTTP (dev). */
      caConfigMap?: string;
      /**
       * Share another store's ServiceAccount (and so its Vault role), e.g. the store for the
       * database engine shares the KV store's. Default: `eso-<name>`.
       */
      serviceAccount?: string;
    }
  | { kind: "aws"; name: string; region: string; /** IAM role assumed through IRSA. */ roleArn: pulumi.Input<string> }
  | {
      kind: "gcp";
      name: string;
      projectId: string;
      /** Google service account the KSA impersonates through Workload Identity. */
      serviceAccountEmail: pulumi.Input<string>;
      clusterLocation: string;
      clusterName: string;
    }
  | {
      kind: "azure";
      name: string;
      vaultUrl: pulumi.Input<string>;
      tenantId: string;
      /** Client id of the user-assigned identity federated with the KSA. */
      clientId: pulumi.Input<string>;
    };

export interface SecretStoresArgs {
  /** Namespace of the stores and of the ExternalSecrets that use them. Created by the caller. */
  namespace: pulumi.Input<string>;
  /** One entry per store. Each gets a ServiceAccount named `eso-<store name>`. */
  stores: StoreSpec[];
  /** Labels on every object. */
  labels?: Record<string, string>;
  /** Resources that must exist first: the ESO release that installs the CRDs and webhook. */
  dependsOn?: pulumi.Input<pulumi.Resource>[];
  provider?: Provider;
}

/** ServiceAccount name for a store: what Vault roles and cloud trust policies bind to. */
export function storeServiceAccount(storeName: string): string {
  return `eso-${storeName}`;
}

/** The ServiceAccount a store authenticates as (its own, or the one it shares). */
export function storeAccountName(store: StoreSpec): string {
  return store.kind === "vault" && store.serviceAccount ? store.serviceAccount : storeServiceAccount(store.name);
}

/** The ServiceAccount annotations a backend's workload identity needs. */
export function serviceAccountAnnotations(store: StoreSpec): Record<string, pulumi.Input<string>> {
  switch (store.kind) {
    case "aws":
      return { "eks.amazonaws.com/role-arn": store.roleArn };
    case "gcp":
      return { "iam.gke.io/gcp-service-account": store.serviceAccountEmail };
    case "azure":
      return { "azure.workload.identity/client-id": store.clientId, "azure.workload.identity/tenant-id": store.tenantId };
    case "vault":
      return {};
  }
}

/** The SecretStore `spec.provider` block for a backend. */
export function storeProvider(store: StoreSpec): Record<string, unknown> {
  const serviceAccountRef = { name: storeAccountName(store) };
  switch (store.kind) {
    case "vault":
      return {
        vault: {
          server: store.server,
          ...(store.kvMount ? { path: store.kvMount, version: "v2" } : { version: "v1" }),
          ...(store.caConfigMap ? { caProvider: { type: "ConfigMap", name: store.caConfigMap, key: "ca.crt" } } : {}),
          auth: {
            kubernetes: {
              mountPath: store.authMountPath,
              role: store.role,
              serviceAccountRef: { ...serviceAccountRef, audiences: [store.audience, ...(store.reviewAudience ? [store.reviewAudience] : [])] },
            },
          },
        },
      };
    case "aws":
      return { aws: { service: "SecretsManager", region: store.region, auth: { jwt: { serviceAccountRef } } } };
    case "gcp":
      return {
        gcpsm: {
          projectID: store.projectId,
          auth: {
            workloadIdentity: { serviceAccountRef, clusterLocation: store.clusterLocation, clusterName: store.clusterName, clusterProjectID: store.projectId },
          },
        },
      };
    case "azure":
      return { azurekv: { authType: "WorkloadIdentity", vaultUrl: store.vaultUrl, tenantId: store.tenantId, serviceAccountRef } };
  }
}

/** SecretStores and their ServiceAccounts, in the workload namespace. */
export class SecretStores extends pulumi.ComponentResource {
  /** Store names by store name (known once each store exists: use as dependencies). */
  public readonly storeNames: Record<string, pulumi.Output<string>>;
  /** ServiceAccount names by store name (stores sharing an account list the same one). */
  public readonly serviceAccounts: Record<string, pulumi.Output<string>>;
  /** The stores, for `dependsOn` of the ExternalSecrets that read them. */
  public readonly stores: CustomResource[];

  constructor(name: string, args: SecretStoresArgs, opts?: pulumi.ComponentResourceOptions) {
    super("veza:eso:SecretStores", name, {}, opts);
    const names = args.stores.map((s) => s.name);
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup) throw new pulumi.ResourceError(`[stores] names store "${dup}" twice; give each store its own name.`, this);

    const labels = { "app.kubernetes.io/part-of": "veza", "app.kubernetes.io/managed-by": "pulumi", ...args.labels };
    this.storeNames = {};
    this.serviceAccounts = {};
    this.stores = [];
    const accounts = new Map<string, k8sCore.ServiceAccount>();
    for (const store of args.stores) {
      const account = storeAccountName(store);
      let sa = accounts.get(account);
      if (!sa) {
        sa = new k8sCore.ServiceAccount(
          `${name}-${account}`,
          {
            metadata: {
              name: account,
              namespace: args.namespace,
              labels: { ...labels, "app.kubernetes.io/component": "secret-store" },
              annotations: serviceAccountAnnotations(store),
            },
            // ESO mints short-lived tokens for it with the TokenRequest API; no pod mounts it.
            automountServiceAccountToken: false,
          },
          { parent: this, provider: args.provider },
        );
        accounts.set(account, sa);
      }
      const cr = new CustomResource(
        `${name}-${store.name}`,
        {
          apiVersion: ESO_API_VERSION,
          kind: "SecretStore",
          metadata: { name: store.name, namespace: args.namespace, labels },
          spec: { provider: storeProvider(store) },
        },
        { parent: this, provider: args.provider, dependsOn: [...(args.dependsOn ?? []), sa] },
      );
      this.storeNames[store.name] = cr.metadata.name;
      this.serviceAccounts[store.name] = sa.metadata.name;
      this.stores.push(cr);
    }
    this.registerOutputs({ storeNames: this.storeNames, serviceAccounts: this.serviceAccounts, stores: this.stores });
  }
}
