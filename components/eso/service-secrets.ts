/**
 * ExternalSecrets that produce the Kubernetes Secrets the services read, with exactly the
 * names and keys of the spec's tables (services must not notice the move from manual
 * Secrets), fetched with as few provider calls as each backend allows.
 */
import { CustomResource } from "@pulumi/kubernetes/apiextensions";
import { Provider } from "@pulumi/kubernetes/provider";
import * as pulumi from "@pulumi/pulumi";
import { GENERATORS_API_VERSION } from "./database-credentials";
import { ESO_API_VERSION } from "./secret-stores";

/** Where ESO reads the values from: one Vault KV secret, or one backend secret per key. */
export type RemoteSource =
  /** One Vault KV v2 secret holding every key: one read per refresh (`dataFrom.extract`). */
  | { kind: "vault-kv"; storeName: string; path: string }
  /** One backend secret per key (AWS, GCP, Azure): one read per key per refresh. */
  | { kind: "per-key"; storeName: string; remoteKeys: Record<string, string> };

/**
 * `database-url` built from a login Vault makes for one service: each Secret that carries the
 * key reads it from that service's `VaultDynamicSecret` generator (`DatabaseCredentials`).
 */
export interface DatabaseUrlSource {
  /** Catalog key the URL is published under (`database-url`). */
  key: string;
  /** Generator name by Secret name, for (at least) every Secret that carries `key`. No sharing: one login per service. */
  generators: Record<string, string>;
  /**
   * How often those Secrets are refreshed: every refresh makes a new login (a new lease), so at
   * most half the lease TTL (the caller checks), leaving the other half for the previous login
   * while Reloader rolls the pods. Replaces `refreshInterval` for those Secrets.
   */
  refreshInterval: string;
  host: string;
  port: number;
  database: string;
  /** libpq sslmode; `verify-full` outside development. */
  sslMode: string;
  /** Absolute path of the CA file in the services' pods (`sslrootcert`). Default: libpq's own. */
  sslRootCert?: string;
}

export interface ServiceSecretsArgs {
  /** Namespace of the Secrets (and the stores). Created by the caller. */
  namespace: pulumi.Input<string>;
  /** The Kubernetes Secrets to produce and their keys. */
  secrets: { name: string; keys: string[] }[];
  source: RemoteSource;
  /** Omit where `database-url` is an ordinary secret of `source`. */
  database?: DatabaseUrlSource;
  /** How often ESO re-reads the backend, e.g. `1h`. Each refresh costs provider API calls. */
  refreshInterval: string;
  /**
   * `Owner` (default): ESO owns the Secret. `Merge`: ESO writes into an existing Secret
   * without taking it over: the migration path from manually created Secrets.
   */
  creationPolicy?: "Owner" | "Merge";
  /** `Retain` keeps the Kubernetes Secret if the backend secret disappears (production). Default `Delete`. */
  deletionPolicy?: "Retain" | "Delete";
  /** Annotations on the produced Secrets (e.g. Stakater Reloader's `reloader.stakater.com/match`). */
  secretAnnotations?: Record<string, string>;
  labels?: Record<string, string>;
  /** What must exist first: the ESO release (CRDs, webhook) and the SecretStores. */
  dependsOn?: pulumi.Input<pulumi.Resource>[];
  provider?: Provider;
}

/** Go-template reference to a fetched key (keys have dashes, so `index` is needed). */
function ref(key: string): string {
  return `{{ index . ${JSON.stringify(key)} }}`;
}

/** Prefix under which the database credentials land before templating. */
const DB_PREFIX = "db_";

/** The `spec` of the ExternalSecret producing one Secret. Pure, for tests. */
export function externalSecretSpec(
  args: Omit<ServiceSecretsArgs, "namespace" | "secrets" | "dependsOn" | "provider" | "labels">,
  secret: { name: string; keys: string[] },
): Record<string, unknown> {
  const db = args.database && secret.keys.includes(args.database.key) ? args.database : undefined;
  const ordinary = secret.keys.filter((k) => k !== db?.key);
  const spec: Record<string, unknown> = {
    refreshInterval: db ? db.refreshInterval : args.refreshInterval,
    secretStoreRef: { name: args.source.storeName, kind: "SecretStore" },
  };

  const dataFrom: Record<string, unknown>[] = [];
  if (args.source.kind === "vault-kv") {
    if (ordinary.length) dataFrom.push({ extract: { key: args.source.path } });
  } else {
    const { remoteKeys } = args.source;
    spec.data = ordinary.map((k) => {
      if (!remoteKeys[k]) throw new Error(`no remote key for "${k}" in the ${args.source.storeName} source`);
      return { secretKey: k, remoteRef: { key: remoteKeys[k] } };
    });
  }
  if (db) {
    const generator = db.generators[secret.name];
    if (!generator) throw new Error(`no database generator for the Secret "${secret.name}", which carries "${db.key}"`);
    // ESO's webhook: a generatorRef entry holds neither extract nor find.
    dataFrom.push({
      sourceRef: { generatorRef: { apiVersion: GENERATORS_API_VERSION, kind: "VaultDynamicSecret", name: generator } },
      // username/password → db_username/db_password: never clash with a catalog key.
      rewrite: [{ regexp: { source: "^(.*)$", target: `${DB_PREFIX}$1` } }],
    });
  }
  if (dataFrom.length) spec.dataFrom = dataFrom;

  const data: Record<string, string> = {};
  for (const k of secret.keys) {
    data[k] =
      db && k === db.key
        ? `postgresql://${ref(`${DB_PREFIX}username`)}:${ref(`${DB_PREFIX}password`)}@${db.host}:${db.port}/${db.database}?sslmode=${db.sslMode}${db.sslRootCert ? `&sslrootcert=${db.sslRootCert}` : ""}`
        : ref(k);
  }
  spec.target = {
    name: secret.name,
    creationPolicy: args.creationPolicy ?? "Owner",
    deletionPolicy: args.deletionPolicy ?? "Delete",
    template: {
      engineVersion: "v2",
      type: "Opaque",
      // Replace: the Secret holds exactly the templated keys, not everything fetched.
      mergePolicy: "Replace",
      ...(args.secretAnnotations ? { metadata: { annotations: args.secretAnnotations } } : {}),
      data,
    },
  };
  return spec;
}

/** Backend reads one refresh of one ExternalSecret costs. */
export function providerCallsPerRefresh(args: Pick<ServiceSecretsArgs, "source" | "database">, secret: { keys: string[] }): number {
  const db = args.database && secret.keys.includes(args.database.key) ? 1 : 0;
  const ordinary = secret.keys.length - db;
  const fromSource = args.source.kind === "vault-kv" ? (ordinary ? 1 : 0) : ordinary;
  return fromSource + db;
}

/** One ExternalSecret per Kubernetes Secret. */
export class ServiceSecrets extends pulumi.ComponentResource {
  /** ExternalSecret names (equal to the Secret names they produce). */
  public readonly externalSecretNames: pulumi.Output<string>[];

  constructor(name: string, args: ServiceSecretsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("veza:eso:ServiceSecrets", name, {}, opts);
    const labels = { "app.kubernetes.io/part-of": "veza", "app.kubernetes.io/managed-by": "pulumi", ...args.labels };
    this.externalSecretNames = args.secrets.map((secret) => {
      let spec: Record<string, unknown>;
      try {
        spec = externalSecretSpec(args, secret);
      } catch (e) {
        throw new pulumi.ResourceError(`[source] ${(e as Error).message}: every key of every Secret needs one.`, this);
      }
      const es = new CustomResource(
        `${name}-${secret.name}`,
        { apiVersion: ESO_API_VERSION, kind: "ExternalSecret", metadata: { name: secret.name, namespace: args.namespace, labels }, spec },
        { parent: this, provider: args.provider, dependsOn: args.dependsOn },
      );
      return es.metadata.name;
    });
    this.registerOutputs({ externalSecretNames: this.externalSecretNames });
  }
}
