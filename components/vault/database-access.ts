/**
 * Per-service database identities in Vault: for each service a dynamic role of its own
 * (`database/creds/veza-<service>`), a policy that reads exactly that path, and a kubernetes
 * auth role that only that service's ESO generator ServiceAccount can log in to. Plus one
 * identity for migrations: a policy reading the schema owner's static credentials and a role
 * bound to the migration store's ServiceAccount. No service's policy names the static role.
 *
 * Why the TTLs are what they are (docs/database.md):
 * - ESO's VaultDynamicSecret generator makes a new lease on every refresh and never revokes
 *   the previous one (ESO 2.9 `generators/v1/vault/vault.go`: `Cleanup` does nothing and no
 *   GeneratorState is kept). Vault revokes each lease at the end of its TTL, running the
 *   revocation SQL that ends the login's sessions. So the previous login keeps working for
 *   `leaseTtl - refresh` after the Secret changed: the time Reloader has to roll the pods.
 * - Vault revokes a token's leases when the token expires or is revoked. The generator's
 *   client logs in per refresh and leaves its token to expire, so the token must outlive the
 *   lease: the auth role issues tokens of `leaseTtl + TOKEN_MARGIN_SECONDS`, never renewable
 *   past that, and the policy allows nothing but reading the one `creds` path.
 * - `max_ttl` equals the TTL: nobody renews (the policies grant no `sys/leases/renew`), so a
 *   lease always ends on time and the overlap is exactly what the refresh schedule makes it.
 */
import * as pulumi from "@pulumi/pulumi";
import * as database from "@pulumi/vault/database";
import * as kubernetes from "@pulumi/vault/kubernetes";
import { Policy } from "@pulumi/vault/policy";
import { creationStatements, renewStatements, revocationStatements, validateDatabaseSqlOptions, type DatabaseSqlOptions } from "./database-sql";
import { VAULT_NAME } from "../rules";

/** Seconds a generator's Vault token outlives the lease it made, so the lease ends on its own TTL. */
export const TOKEN_MARGIN_SECONDS = 300;

/** A Kubernetes ServiceAccount a Vault role binds. */
export interface BoundServiceAccount {
  namespace: string;
  name: string;
}

/** One service's database identity. */
export interface ServiceDatabaseIdentity {
  /** Service name, used in child resource names, e.g. `"backend-api"`. */
  service: string;
  /** Vault dynamic role, e.g. `"veza-backend-api"` (`<mount>/creds/<role>`). */
  roleName: string;
  /** Vault policy granting `read` on that role's `creds` path only. */
  policyName: string;
  /** Kubernetes auth role the service's generator logs in as. */
  authRoleName: string;
  /** The one ServiceAccount allowed to log in to `authRoleName` (the generator's). */
  serviceAccount: BoundServiceAccount;
}

/** The migration identity: reads the schema owner's (static role's) current password. */
export interface MigrationDatabaseIdentity {
  /** Vault static role whose credentials migrations use, e.g. `"veza-app"`. */
  staticRoleName: string;
  policyName: string;
  authRoleName: string;
  /** The migration SecretStore's ServiceAccount. */
  serviceAccount: BoundServiceAccount;
}

export interface DatabaseAccessArgs {
  /** A `vault.Provider`. Required: never the ambient `VAULT_ADDR`. */
  provider: pulumi.ProviderResource;
  /** Mount path of the database secrets engine (e.g. `VaultConfig.databaseMount`). */
  mountPath: pulumi.Input<string>;
  /** The connection the roles use; its `allowed_roles` must list every `roleName`. */
  connectionName: pulumi.Input<string>;
  /** Mount path of the kubernetes auth method (e.g. `VaultConfig.authPath`). */
  authPath: pulumi.Input<string>;
  /** Audience the auth roles require in the ServiceAccount token (the generators request it). */
  audience: string;
  /** Names the SQL statements use (`database-sql.ts`). */
  sql: DatabaseSqlOptions;
  /** One identity per service. Role, policy and auth role names must be unique. */
  services: ServiceDatabaseIdentity[];
  /** Lease TTL of every service login, in seconds: at least 120 and twice the refresh (the caller checks the refresh). */
  leaseTtlSeconds: number;
  /** Omit for stacks without migrations through Vault (there is always a static role where there is a database). */
  migrations?: MigrationDatabaseIdentity;
  /** TTL of the migration store's tokens, in seconds (static credentials make no lease). Default `600`. */
  migrationTokenTtlSeconds?: number;
}

/** A policy that grants `read` on exactly one path. */
export function readOnePathPolicy(comment: string, path: string): string {
  return `# ${comment}\npath "${path}" {\n  capabilities = ["read"]\n}\n`;
}

/** A service's policy: one dynamic role's `creds` path, nothing else. */
export function serviceCredsPolicy(mountPath: string, roleName: string): string {
  return readOnePathPolicy("This service's database logins: each read creates one, valid for the role's TTL.", `${mountPath}/creds/${roleName}`);
}

/** The migrations' policy: the static role's `static-creds` path, nothing else. */
export function migrationCredsPolicy(mountPath: string, staticRoleName: string): string {
  return readOnePathPolicy("The schema owner's current password, for migrations only.", `${mountPath}/static-creds/${staticRoleName}`);
}

/** Per-service Vault dynamic roles, policies and kubernetes auth roles; the migration identity. */
export class DatabaseAccess extends pulumi.ComponentResource {
  /** `<mount>/creds/<role>` per service: the generators' `spec.path`. */
  public readonly credsPaths: Record<string, pulumi.Output<string>>;
  /** Kubernetes auth role per service: the generators' `auth.kubernetes.role`. */
  public readonly authRoles: Record<string, pulumi.Output<string>>;
  /** The migration store's Vault role, when `migrations` is set. */
  public readonly migrationAuthRole?: pulumi.Output<string>;

  constructor(name: string, args: DatabaseAccessArgs, opts?: pulumi.ComponentResourceOptions) {
    super("veza:vault:DatabaseAccess", name, {}, opts);
    this.validate(args);
    const child: pulumi.CustomResourceOptions = { parent: this, provider: args.provider };
    const tokenTtl = args.leaseTtlSeconds + TOKEN_MARGIN_SECONDS;

    this.credsPaths = {};
    this.authRoles = {};
    for (const id of args.services) {
      const role = new database.SecretBackendRole(
        `${name}-${id.service}`,
        {
          backend: args.mountPath,
          dbName: args.connectionName,
          name: id.roleName,
          creationStatements: creationStatements(args.sql, id.service),
          revocationStatements: revocationStatements(args.sql, id.service),
          renewStatements: renewStatements(args.sql),
          defaultTtl: args.leaseTtlSeconds,
          maxTtl: args.leaseTtlSeconds,
        },
        child,
      );
      const policy = new Policy(
        `${name}-${id.service}`,
        { name: id.policyName, policy: pulumi.output(args.mountPath).apply((m) => serviceCredsPolicy(m, id.roleName)) },
        child,
      );
      const authRole = new kubernetes.AuthBackendRole(
        `${name}-${id.service}`,
        {
          backend: args.authPath,
          roleName: id.authRoleName,
          boundServiceAccountNames: [id.serviceAccount.name],
          boundServiceAccountNamespaces: [id.serviceAccount.namespace],
          audience: args.audience,
          // Outlives the lease it creates (see the file comment); not renewable beyond it.
          tokenTtl,
          tokenMaxTtl: tokenTtl,
          tokenPolicies: [policy.name],
          // `default` lets a token look up and revoke itself; nothing more.
          tokenNoDefaultPolicy: false,
        },
        child,
      );
      this.credsPaths[id.service] = pulumi.interpolate`${role.backend}/creds/${role.name}`;
      this.authRoles[id.service] = authRole.roleName;
    }

    if (args.migrations) {
      const m = args.migrations;
      const ttl = args.migrationTokenTtlSeconds ?? 600;
      const policy = new Policy(
        `${name}-migrations`,
        { name: m.policyName, policy: pulumi.output(args.mountPath).apply((mp) => migrationCredsPolicy(mp, m.staticRoleName)) },
        child,
      );
      const authRole = new kubernetes.AuthBackendRole(
        `${name}-migrations`,
        {
          backend: args.authPath,
          roleName: m.authRoleName,
          boundServiceAccountNames: [m.serviceAccount.name],
          boundServiceAccountNamespaces: [m.serviceAccount.namespace],
          audience: args.audience,
          // Static credentials make no lease: the token only has to last one sync.
          tokenTtl: ttl,
          tokenMaxTtl: ttl,
          tokenPolicies: [policy.name],
          tokenNoDefaultPolicy: false,
        },
        child,
      );
      this.migrationAuthRole = authRole.roleName;
    }

    this.registerOutputs({
      credsPaths: this.credsPaths,
      authRoles: this.authRoles,
      ...(this.migrationAuthRole ? { migrationAuthRole: this.migrationAuthRole } : {}),
    });
  }

  private validate(args: DatabaseAccessArgs): void {
    const fail = (msg: string): never => {
      throw new pulumi.ResourceError(msg, this);
    };
    const pkg = (args.provider as unknown as { getPackage?: () => string } | undefined)?.getPackage?.();
    if (pkg !== "vault") fail(`[provider] must be a vault.Provider built with Vault's address and token; got ${pkg ? `a "${pkg}" provider` : "none"}.`);
    if (args.services.length === 0) fail("[services] is empty; pass one identity per service that reads database-url.");
    try {
      validateDatabaseSqlOptions(args.sql);
    } catch (e) {
      fail(`[sql] ${(e as Error).message}.`);
    }
    // Vault's expiration manager works in seconds; under 2 minutes leaves no time to roll pods.
    if (!Number.isInteger(args.leaseTtlSeconds) || args.leaseTtlSeconds < 120)
      fail(`[leaseTtlSeconds] must be a whole number of seconds, at least 120; got ${args.leaseTtlSeconds}.`);
    const names: [string, string][] = [];
    for (const id of args.services) names.push(["roleName", id.roleName], ["policyName", id.policyName], ["authRoleName", id.authRoleName]);
    if (args.migrations)
      names.push(
        ["migrations.policyName", args.migrations.policyName],
        ["migrations.authRoleName", args.migrations.authRoleName],
        ["migrations.staticRoleName", args.migrations.staticRoleName],
      );
    for (const [field, value] of names) {
      if (!VAULT_NAME.test(value)) fail(`[services] ${field} must be lowercase letters, digits, "_" and "-"; got ${JSON.stringify(value)}.`);
    }
    for (const field of ["roleName", "policyName", "authRoleName"] as const) {
      const values = args.services.map((s) => s[field]);
      const dup = values.find((v, i) => values.indexOf(v) !== i);
      if (dup) fail(`[services] ${field} ${JSON.stringify(dup)} is used by two services; each service needs its own.`);
    }
    if (args.migrations && args.services.some((s) => s.roleName === args.migrations?.staticRoleName)) {
      fail(
        `[migrations.staticRoleName] ${JSON.stringify(args.migrations.staticRoleName)} is also a service's dynamic role; the schema owner must stay out of the services' reach.`,
      );
    }
  }
}
