/**
 * Vault's configuration for ONE environment: what the spec does with the `vault` CLI
 * ("HashiCorp Vault", "Environment-Specific Secrets", "Automatic Rotation with Vault"),
 * as resources, through a `vault.Provider` the caller builds.
 *
 * - KV v2 at `<kvMount>/<secretPath>` (`secret/veza/production`), written as ONE secret with
 *   every catalog key: one writer per path, so nothing else (a `vault kv put`, a second
 *   component) can half-update it.
 * - The kubernetes auth method, and a role that only External Secrets Operator's
 *   ServiceAccount can log in to, with ONE read-only policy for this environment's paths.
 * - An audit device, and the database secrets engine (a PostgreSQL connection and the schema
 *   owner's static role, whose password Vault rotates on a schedule), with the SQL from
 *   `database-sql.ts`. The services' own dynamic roles, policies and logins are
 *   `database-access.ts`: this policy (ESO's KV store) reads no database path at all.
 *
 * Things several environments may share in one Vault (the KV mount, the auth method and its
 * config, the audit device, the database mount) are created only when the caller says so
 * (`create*`): Vault has one of each per path, and a second creator fails or fights.
 *
 * Not done here, on purpose: rotating the database connection's root credential. After the
 * first `pulumi up`, an operator runs `vault write -f <mountPath>/rotate-root/<connectionName>`
 * once (README, "Bootstrapping Vault"): from then on only Vault knows that password. A
 * `vault.generic.Endpoint` doing it from code would rotate again on every replacement of the
 * connection, and a run failing between the two writes would leave nobody knowing it; by
 * hand, it happens once, after the operator has seen the roles work.
 */
import * as pulumi from "@pulumi/pulumi";
import { Audit } from "@pulumi/vault/audit";
import { AuthBackend } from "@pulumi/vault/authBackend";
import * as database from "@pulumi/vault/database";
import * as kubernetes from "@pulumi/vault/kubernetes";
import * as kv from "@pulumi/vault/kv";
import { Mount } from "@pulumi/vault/mount";
import { Policy } from "@pulumi/vault/policy";
import { rootRotationStatements, rotationStatements, type DatabaseSqlOptions } from "./database-sql";

import { postgresConnectionUrl, validateVaultConfigArgs, type VaultConfigArgs } from "./config-args";
import { policyDocument } from "./policy-hcl";

/** Vault's configuration for one environment: KV secret, ESO's login and policy, audit, database engine. */
export class VaultConfig extends pulumi.ComponentResource {
  /** The environment's policy name. */
  public readonly policyName: pulumi.Output<string>;
  /** Vault role ESO logs in as (SecretStore `auth.kubernetes.role`). */
  public readonly authRole: pulumi.Output<string>;
  /** Mount path of the kubernetes auth method (SecretStore `auth.kubernetes.mountPath`). */
  public readonly authPath: pulumi.Output<string>;
  /** KV v2 mount (SecretStore `path`). */
  public readonly kvMount: pulumi.Output<string>;
  /** Secret path inside the mount (ExternalSecret `remoteRef.key`); known once the secret is written. */
  public readonly secretPath: pulumi.Output<string>;
  /** Database secrets engine mount, when `database` is set. */
  public readonly databaseMount?: pulumi.Output<string>;
  /** Static role name, when `database` is set. */
  public readonly staticRoleName?: pulumi.Output<string>;
  /** `<mount>/static-creds/<static role>`, the path ESO reads the rotated password from. */
  public readonly staticCredsPath?: pulumi.Output<string>;

  constructor(name: string, args: VaultConfigArgs, opts?: pulumi.ComponentResourceOptions) {
    super("veza:vault:VaultConfig", name, {}, opts);
    try {
      validateVaultConfigArgs(args);
    } catch (e) {
      throw new pulumi.ResourceError((e as Error).message, this);
    }
    const kvMount = args.kvMount ?? "secret";
    const authPath = args.kubernetesAuth.path ?? "kubernetes";
    const db = args.database;
    const dbMountPath = db?.mountPath ?? "database";

    // The audit device comes first and everything else waits for it, so every write this
    // program makes is in the audit log; if the device cannot be enabled, nothing proceeds.
    const audit =
      args.createAudit && args.audit
        ? new Audit(
            `${name}-audit`,
            { type: args.audit.type, path: "file", description: "Audit log of every request (HMAC'd values).", options: { file_path: args.audit.path } },
            { parent: this, provider: args.provider },
          )
        : undefined;
    const pipelineAudit =
      args.createAudit && args.logPipelineAudit
        ? new Audit(
            `${name}-audit-stdout`,
            {
              type: "file",
              path: "stdout",
              description: "Audit log to stdout, shipped by the cluster's log pipeline (HMAC'd values).",
              options: { file_path: "stdout" },
            },
            { parent: this, provider: args.provider, dependsOn: audit ? [audit] : [] },
          )
        : undefined;
    const child: pulumi.CustomResourceOptions = {
      parent: this,
      provider: args.provider,
      dependsOn: [...(audit ? [audit] : []), ...(pipelineAudit ? [pipelineAudit] : [])],
    };
    // Deleting these loses what code cannot rebuild: the KV values and their version history,
    // every database lease (revoked with the mount), the rotated root password (connection).
    const precious = pulumi.mergeOptions(child, { protect: args.protect ?? false });

    // KV v2, and the environment's secret: every key in one write (one writer per path).
    const kvMountResource = args.createKvMount
      ? new Mount(
          `${name}-kv-mount`,
          { path: kvMount, type: "kv", options: { version: "2" }, description: "Veza application secrets (KV v2), read by External Secrets Operator." },
          precious,
        )
      : undefined;
    const secret = new kv.SecretV2(
      `${name}-secrets`,
      {
        mount: kvMountResource ? kvMountResource.path : kvMount,
        name: args.secretPath,
        // Sorted keys: the same values always serialise the same, so no spurious new version.
        dataJson: pulumi.secret(
          pulumi.all(args.secrets).apply((values) =>
            JSON.stringify(
              Object.fromEntries(
                Object.keys(values)
                  .sort()
                  .map((k) => [k, values[k]]),
              ),
            ),
          ),
        ),
      },
      precious,
    );

    const policy = new Policy(
      `${name}-policy`,
      {
        name: args.policyName,
        policy: policyDocument({ kvMount, secretPath: args.secretPath }),
      },
      child,
    );

    // ESO's login. The auth method and its config are per Vault, so only their owner makes them.
    // Not protected: everything in them is rebuilt from code; ESO retries until they are back.
    let authConfig: kubernetes.AuthBackendConfig | undefined;
    if (args.createAuthBackend) {
      const backend = new AuthBackend(
        `${name}-k8s-auth`,
        { type: "kubernetes", path: authPath, description: "Kubernetes ServiceAccount login (External Secrets Operator)." },
        child,
      );
      authConfig = new kubernetes.AuthBackendConfig(
        `${name}-k8s-auth-config`,
        {
          backend: backend.path,
          kubernetesHost: args.kubernetesAuth.kubernetesHost ?? "https://kubernetes.default.svc",
          ...(args.kubernetesAuth.kubernetesCaCert ? { kubernetesCaCert: args.kubernetesAuth.kubernetesCaCert } : {}),
          // In the cluster, Vault reviews login tokens with its own pod's ServiceAccount token and
          // CA, re-read as they rotate: no long-lived reviewer JWT to store (that account has
          // system:auth-delegator, bound by the chart). Outside it, there is no pod token: each
          // login's own token reviews itself, and its account holds system:auth-delegator.
          disableLocalCaJwt: args.kubernetesAuth.reviewWithClientToken ?? false,
        },
        child,
      );
    }
    const { tokenTtlSeconds = 600, tokenMaxTtlSeconds = 1800 } = args.kubernetesAuth;
    const role = new kubernetes.AuthBackendRole(
      `${name}-k8s-role`,
      {
        backend: authPath,
        roleName: args.kubernetesAuth.roleName,
        boundServiceAccountNames: [args.kubernetesAuth.boundServiceAccount.name],
        boundServiceAccountNamespaces: [args.kubernetesAuth.boundServiceAccount.namespace],
        audience: args.kubernetesAuth.audience,
        tokenTtl: tokenTtlSeconds,
        tokenMaxTtl: tokenMaxTtlSeconds,
        tokenPolicies: [policy.name],
        // Keep Vault's `default` policy: it only lets a token look up, renew and revoke itself,
        // and ESO revokes its token (lookup-self, then revoke-self) after each sync; without it
        // every sync would leave a live token behind until its TTL.
        tokenNoDefaultPolicy: false,
      },
      // The role's backend is a plain path, so the input graph does not order it after the
      // config that makes logins work: say so.
      pulumi.mergeOptions(child, { dependsOn: authConfig ? [authConfig] : [] }),
    );

    this.policyName = policy.name;
    this.authRole = role.roleName;
    this.authPath = role.backend.apply((b) => b ?? authPath);
    this.kvMount = secret.mount;
    this.secretPath = secret.name;

    if (db) {
      const sqlOptions: DatabaseSqlOptions = { ...db.sql, staticUsername: db.staticRole.username };
      const dbMount = args.createDatabaseMount
        ? new Mount(
            `${name}-database-mount`,
            { path: dbMountPath, type: "database", description: "PostgreSQL credentials Vault creates and rotates for Veza." },
            precious,
          )
        : undefined;
      const connection = new database.SecretBackendConnection(
        `${name}-database-connection`,
        {
          backend: dbMount ? dbMount.path : dbMountPath,
          name: db.connectionName,
          allowedRoles: [db.staticRole.name, ...db.dynamicRoleNames],
          verifyConnection: db.verifyConnection,
          rootRotationStatements: rootRotationStatements(),
          postgresql: {
            // Vault fills {{username}} and {{password}} from the fields below; the URL holds neither.
            connectionUrl: postgresConnectionUrl(db),
            username: db.adminUsername,
            // Nested fields are not made secret by the SDK: wrap it, so state and previews hide it.
            password: pulumi.secret(db.adminPassword),
            maxOpenConnections: db.maxOpenConnections ?? 4,
            // Vault sends PostgreSQL a SCRAM verifier, never the password: statement logs
            // (log_statement = 'ddl') then hold no usable password. Vault 1.14+, PostgreSQL 10+.
            passwordAuthentication: "scram-sha-256",
            ...(db.tlsCa ? { tlsCa: db.tlsCa } : {}),
          },
        },
        // The whole block as a secret output too, in case a provider version stops marking the nested password.
        // Deleted with the mount: unmounting revokes the outstanding leases (each dynamic login
        // dropped in PostgreSQL), which needs the connection. Deleted first, as its dependency
        // order would have it, the connection takes that away and the unmount fails with
        // "failed to find entry for connection" (seen on a real Vault with ESO's leases).
        pulumi.mergeOptions(precious, { additionalSecretOutputs: ["postgresql"], ...(dbMount ? { deletedWith: dbMount } : {}) }),
      );
      const staticRole = new database.SecretBackendStaticRole(
        `${name}-static-role`,
        {
          backend: connection.backend,
          dbName: connection.name,
          name: db.staticRole.name,
          username: db.staticRole.username,
          rotationSchedule: db.staticRole.rotationSchedule,
          rotationStatements: rotationStatements(sqlOptions),
        },
        child,
      );
      this.databaseMount = connection.backend;
      this.staticRoleName = staticRole.name;
      this.staticCredsPath = pulumi.interpolate`${staticRole.backend}/static-creds/${staticRole.name}`;
    }

    this.registerOutputs({
      policyName: this.policyName,
      authRole: this.authRole,
      authPath: this.authPath,
      kvMount: this.kvMount,
      secretPath: this.secretPath,
      // The database fields only when set: the SDK warns about every undefined output.
      ...(db ? { databaseMount: this.databaseMount, staticRoleName: this.staticRoleName, staticCredsPath: this.staticCredsPath } : {}),
    });
  }
}
