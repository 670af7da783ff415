/**
 * The Kubernetes half of the per-service database identities (`components/vault/database-access.ts`
 * is the Vault half):
 * - per service, a ServiceAccount that only ESO uses (TokenRequest, never mounted) and a
 *   `VaultDynamicSecret` generator that logs in as it and reads that service's
 *   `database/creds/<role>`: every ExternalSecret refresh makes a new login;
 * - for migrations, an ExternalSecret producing their own Secret with the schema owner's URL
 *   (static credentials, through a SecretStore of its own identity), and the migration Job's
 *   ServiceAccount with read access to that Secret alone. No service can read it.
 *
 * What ESO does with the previous login: nothing. ESO 2.9's Vault generator keeps no
 * GeneratorState and its `Cleanup` is a no-op (`generators/v1/vault/vault.go`), so the old lease
 * stays valid until Vault revokes it at its TTL; the refresh interval (at most half the TTL)
 * leaves the rest of the TTL for Reloader to roll the pods onto the new login.
 */
import * as k8sCore from "@pulumi/kubernetes/core/v1";
import * as k8sRbac from "@pulumi/kubernetes/rbac/v1";
import { CustomResource } from "@pulumi/kubernetes/apiextensions";
import { Provider } from "@pulumi/kubernetes/provider";
import * as pulumi from "@pulumi/pulumi";
import { ESO_API_VERSION } from "./secret-stores";

/** ESO 2.9 serves generators only as `generators.external-secrets.io/v1alpha1`. */
export const GENERATORS_API_VERSION = "generators.external-secrets.io/v1alpha1";

/** How the generators reach and log in to Vault. */
export interface GeneratorVaultArgs {
  /** Vault address as seen from the cluster. */
  server: pulumi.Input<string>;
  /** Kubernetes auth mount path in Vault. */
  authMountPath: pulumi.Input<string>;
  /** Audience of the ServiceAccount token ESO requests; the Vault roles require it. */
  audience: string;
  /**
   * A second audience on the token: the API server's, for a Vault outside the cluster, which
   * sends the login's own token to the API server for its TokenReview (measured: a token of
   * audience `vault` alone is refused there, and the login with it). Omit with Vault in the cluster.
   */
  reviewAudience?: string;
  /** ConfigMap in the namespace with Vault's CA (`ca.crt`); omit for plain HTTP (dev). */
  caConfigMap?: string;
}

/** One service's generator. */
export interface ServiceGeneratorArgs {
  /** Service name, used in child resource names. */
  service: string;
  /** Generator name (the ExternalSecret's `generatorRef.name`), e.g. `veza-backend-api-database`. */
  generatorName: string;
  /** ServiceAccount the generator logs in as; the Vault role binds exactly it. */
  serviceAccount: string;
  /** Vault kubernetes auth role of this service. */
  role: pulumi.Input<string>;
  /** `<mount>/creds/<role>` of this service. */
  credsPath: pulumi.Input<string>;
}

/** The migration Job's Secret: the schema owner's URL. */
export interface MigrationSecretArgs {
  /** Secret (and ExternalSecret) name, e.g. `veza-migrations-secrets`. */
  secretName: string;
  /** Key of the URL in it (`database-url`). */
  key: string;
  /** SecretStore reading Vault paths as-is, logged in as the migration identity. */
  storeName: string;
  /** `<mount>/static-creds/<static role>`. */
  staticCredsPath: pulumi.Input<string>;
  /** ServiceAccount of the migration Job: the only one allowed to read the Secret. */
  jobServiceAccount: string;
  /** How often ESO re-reads the static credentials (they change on the rotation schedule). */
  refreshInterval: string;
}

export interface DatabaseCredentialsArgs {
  /** Namespace of the services, their Secrets and ESO's objects. Created by the caller. */
  namespace: pulumi.Input<string>;
  vault: GeneratorVaultArgs;
  services: ServiceGeneratorArgs[];
  /** Where the services' `database-url` points. */
  database: { host: string; port: number; name: string; sslMode: string };
  migrations?: MigrationSecretArgs;
  /** `Retain` keeps the migration Secret if the backend secret disappears (production). Default `Delete`. */
  deletionPolicy?: "Retain" | "Delete";
  labels?: Record<string, string>;
  /** What must exist first: the ESO release (CRDs, webhook), the stores, Vault's roles. */
  dependsOn?: pulumi.Input<pulumi.Resource>[];
  provider?: Provider;
}

/** The `spec` of one service's VaultDynamicSecret generator. Pure, for tests. */
export function generatorSpec(vault: GeneratorVaultArgs, g: Pick<ServiceGeneratorArgs, "serviceAccount" | "role" | "credsPath">): Record<string, unknown> {
  return {
    path: g.credsPath,
    // GET <mount>/creds/<role>: Vault creates the login and returns it with a lease.
    method: "GET",
    // `data` of the response: username and password.
    resultType: "Data",
    provider: {
      server: vault.server,
      ...(vault.caConfigMap ? { caProvider: { type: "ConfigMap", name: vault.caConfigMap, key: "ca.crt" } } : {}),
      auth: {
        kubernetes: {
          mountPath: vault.authMountPath,
          role: g.role,
          serviceAccountRef: { name: g.serviceAccount, audiences: [vault.audience, ...(vault.reviewAudience ? [vault.reviewAudience] : [])] },
        },
      },
    },
  };
}

/** The `spec` of the migration ExternalSecret. Pure, for tests. */
export function migrationExternalSecretSpec(
  m: MigrationSecretArgs,
  database: DatabaseCredentialsArgs["database"],
  deletionPolicy: "Retain" | "Delete",
): Record<string, unknown> {
  return {
    refreshInterval: m.refreshInterval,
    secretStoreRef: { name: m.storeName, kind: "SecretStore" },
    dataFrom: [{ extract: { key: m.staticCredsPath } }],
    target: {
      name: m.secretName,
      creationPolicy: "Owner",
      deletionPolicy,
      template: {
        engineVersion: "v2",
        type: "Opaque",
        mergePolicy: "Replace",
        data: { [m.key]: `postgresql://{{ .username }}:{{ .password }}@${database.host}:${database.port}/${database.name}?sslmode=${database.sslMode}` },
      },
    },
  };
}

/** Per-service ServiceAccounts and VaultDynamicSecret generators; the migration Secret and its reader. */
export class DatabaseCredentials extends pulumi.ComponentResource {
  /** Generator names by service. */
  public readonly generatorNames: Record<string, pulumi.Output<string>>;
  /** The generators, for `dependsOn` of the ExternalSecrets that read them. */
  public readonly generators: CustomResource[];
  /** The migration Secret's name, when `migrations` is set. */
  public readonly migrationSecretName?: pulumi.Output<string>;

  constructor(name: string, args: DatabaseCredentialsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("veza:eso:DatabaseCredentials", name, {}, opts);
    const names = args.services.map((s) => s.generatorName);
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup) throw new pulumi.ResourceError(`[services] names the generator "${dup}" twice; each service needs its own.`, this);
    const accounts = args.services.map((s) => s.serviceAccount);
    const dupAccount = accounts.find((n, i) => accounts.indexOf(n) !== i);
    if (dupAccount) throw new pulumi.ResourceError(`[services] binds the ServiceAccount "${dupAccount}" twice; each service needs its own identity.`, this);

    const labels = { "app.kubernetes.io/part-of": "veza", "app.kubernetes.io/managed-by": "pulumi", ...args.labels };
    const child = { parent: this, provider: args.provider };
    this.generatorNames = {};
    this.generators = [];
    for (const svc of args.services) {
      const sa = new k8sCore.ServiceAccount(
        `${name}-${svc.service}`,
        {
          metadata: { name: svc.serviceAccount, namespace: args.namespace, labels: { ...labels, "app.kubernetes.io/component": "database-credentials" } },
          // ESO mints short-lived tokens for it with the TokenRequest API; no pod mounts it.
          automountServiceAccountToken: false,
        },
        child,
      );
      const generator = new CustomResource(
        `${name}-${svc.service}`,
        {
          apiVersion: GENERATORS_API_VERSION,
          kind: "VaultDynamicSecret",
          metadata: { name: svc.generatorName, namespace: args.namespace, labels },
          spec: generatorSpec(args.vault, svc),
        },
        { ...child, dependsOn: [...(args.dependsOn ?? []), sa] },
      );
      this.generatorNames[svc.service] = generator.metadata.name;
      this.generators.push(generator);
    }

    if (args.migrations) {
      const m = args.migrations;
      const es = new CustomResource(
        `${name}-migrations`,
        {
          apiVersion: ESO_API_VERSION,
          kind: "ExternalSecret",
          metadata: { name: m.secretName, namespace: args.namespace, labels },
          spec: migrationExternalSecretSpec(m, args.database, args.deletionPolicy ?? "Delete"),
        },
        { ...child, dependsOn: args.dependsOn },
      );
      const jobAccount = new k8sCore.ServiceAccount(
        `${name}-migrations-job`,
        {
          metadata: { name: m.jobServiceAccount, namespace: args.namespace, labels: { ...labels, "app.kubernetes.io/name": m.jobServiceAccount } },
          automountServiceAccountToken: false,
        },
        child,
      );
      const role = new k8sRbac.Role(
        `${name}-migrations-reader`,
        {
          metadata: { name: `secrets-reader-migrations`, namespace: args.namespace, labels },
          rules: [{ apiGroups: [""], resources: ["secrets"], resourceNames: [m.secretName], verbs: ["get"] }],
        },
        child,
      );
      new k8sRbac.RoleBinding(
        `${name}-migrations-reader`,
        {
          metadata: { name: `secrets-reader-migrations`, namespace: args.namespace, labels },
          roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.metadata.name },
          subjects: [{ kind: "ServiceAccount", name: jobAccount.metadata.name, namespace: args.namespace }],
        },
        child,
      );
      this.migrationSecretName = es.metadata.name;
    }
    this.registerOutputs({
      generatorNames: this.generatorNames,
      generators: this.generators,
      ...(this.migrationSecretName ? { migrationSecretName: this.migrationSecretName } : {}),
    });
  }
}
