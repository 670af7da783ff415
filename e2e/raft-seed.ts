/**
 * What the Raft rehearsal writes before its snapshot, from the program's own documents for the
 * staging stack (its committed Pulumi.staging.yaml): the environment's KV secret with every
 * catalog key, every policy the program and the operator's bootstrap write, the Kubernetes
 * auth roles, the jwt logins, the audit devices, the database engine's connection and dynamic
 * roles (against `postgres` when given, with the static role too), and the snapshot identity (policy and role). Then `readBack` reads all of it, so the
 * restored cluster can be compared with what the original one answered.
 */
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { CATALOG, publishedKeys } from "../components/catalog";
import { jwtRoleBody } from "../components/vault/bootstrap";
import { SNAPSHOT_TOKEN, snapshotPolicy } from "../components/vault/raft-snapshots";
import { engineConfig, fakeSecrets, stackConfig } from "../harness";
import { loadStackConfig } from "../stacks/config";
import type { StackConfig } from "../stacks/config-model";
import { bootstrapOptions, deployerPolicyOptions } from "../stacks/vault";
import { makeIssuer } from "./jwt";
import type { VaultClient } from "./vault-client";

/** The staging stack's config from its committed file (fakes for the secrets, as `npm run vault-bootstrap` does). */
export function stagingConfig(): StackConfig {
  const secrets = fakeSecrets();
  return loadStackConfig({ values: { ...engineConfig(stackConfig("staging")), ...secrets }, secretKeys: new Set(Object.keys(secrets)) }, "staging");
}

/** Names of the snapshot identity, as RaftSnapshots defaults them. */
export const SNAPSHOT_NAMES = { policy: "vault-raft-snapshots", role: "vault-raft-snapshots", serviceAccount: "vault-raft-snapshots" } as const;

/** One thing read back: a Vault path and the part of its answer compared. */
export interface ReadBack {
  kind: "kv" | "policy" | "kubernetes role" | "jwt role" | "auth method" | "audit device" | "database" | "autopilot";
  path: string;
  pick: (data: Record<string, unknown>) => unknown;
}

export interface Seeded {
  /** KV path (`<mount>/data/<secretPath>`) and the values written there. */
  kv: { path: string; values: Record<string, string> };
  reads: ReadBack[];
  counts: Record<string, number>;
}

const data = (d: Record<string, unknown>) => d.data;

/** Write the staging stack's Vault content with `root`. `auditDir` holds the file audit device's log (outside every data dir). */
export async function seed(root: VaultClient, config: StackConfig, auditDir: string, postgres?: { url: string; password: string }): Promise<Seeded> {
  const opts = deployerPolicyOptions(config);
  const boot = bootstrapOptions(config);
  const reads: ReadBack[] = [];

  // Audit devices first, as the bootstrap does; the file device's path moved under the work dir.
  for (const a of boot.auditDevices) {
    const filePath = a.filePath === "stdout" ? "stdout" : join(auditDir, "vault_audit.log");
    await root.call("PUT", `sys/audit/${a.path}`, { type: "file", description: a.description, options: { file_path: filePath } });
  }
  reads.push({ kind: "audit device", path: "sys/audit", pick: (d) => Object.keys(d.data as object).sort() });

  // KV v2 and the environment's secret: every key the catalog publishes.
  await root.call("POST", `sys/mounts/${opts.kvMount}`, { type: "kv", options: { version: "2" } });
  const values = Object.fromEntries(CATALOG.flatMap((s) => publishedKeys(s)).map((k) => [k, `${k}-${randomBytes(16).toString("hex")}`]));
  const kvPath = `${opts.kvMount}/data/${opts.secretPath}`;
  await root.call("POST", kvPath, { data: values });
  reads.push({ kind: "kv", path: kvPath, pick: (d) => (d.data as { data: unknown }).data });

  // Policies: the program's (read, per-service database), the bootstrap's (deployer, preview), the snapshot one.
  const policies = [...opts.managedPolicies, ...boot.policies, { name: SNAPSHOT_NAMES.policy, document: snapshotPolicy() }];
  for (const p of policies) {
    await root.call("PUT", `sys/policies/acl/${p.name}`, { policy: p.document });
    reads.push({ kind: "policy", path: `sys/policies/acl/${p.name}`, pick: (d) => (d.data as { policy: string }).policy });
  }

  // Kubernetes auth: the method, its config, ESO's and each service's roles, and the snapshot Job's role.
  const k = opts.kubernetesAuth;
  await root.call("POST", `sys/auth/${k.path}`, { type: "kubernetes" });
  // The host the program configures; not in a pod here, so no local CA or token to read (an installed Vault's config reads them).
  await root.call("POST", `auth/${k.path}/config`, {
    kubernetes_host: k.config.host,
    ...(k.config.caCert ? { kubernetes_ca_cert: k.config.caCert } : {}),
    disable_local_ca_jwt: true,
  });
  reads.push({ kind: "auth method", path: `auth/${k.path}/config`, pick: (d) => (d.data as { kubernetes_host: string }).kubernetes_host });
  const roles = [
    ...k.roles.map((r) => ({
      name: r.name,
      body: {
        bound_service_account_names: [r.serviceAccount.name],
        bound_service_account_namespaces: [r.serviceAccount.namespace],
        audience: r.audience,
        token_policies: [r.policy],
        token_ttl: 600,
        token_max_ttl: 1800,
      },
    })),
    {
      name: SNAPSHOT_NAMES.role,
      body: {
        bound_service_account_names: [SNAPSHOT_NAMES.serviceAccount],
        bound_service_account_namespaces: [config.namespaces.vault],
        audience: "vault",
        token_policies: [SNAPSHOT_NAMES.policy],
        token_type: SNAPSHOT_TOKEN.type,
        token_ttl: SNAPSHOT_TOKEN.ttlSeconds,
        token_max_ttl: SNAPSHOT_TOKEN.ttlSeconds,
        token_no_default_policy: SNAPSHOT_TOKEN.noDefaultPolicy,
      },
    },
  ];
  for (const r of roles) {
    await root.call("POST", `auth/${k.path}/role/${r.name}`, r.body);
    reads.push({ kind: "kubernetes role", path: `auth/${k.path}/role/${r.name}`, pick: data });
  }

  // The jwt logins of pulumi up, with a stand-in issuer key (GitHub's discovery document is out of reach).
  const issuer = makeIssuer();
  for (const j of boot.jwt) {
    await root.call("POST", `sys/auth/${j.path}`, { type: "jwt", description: j.description });
    await root.call("POST", `auth/${j.path}/config`, { jwt_validation_pubkeys: [issuer.publicPem], bound_issuer: j.issuer });
    for (const r of j.roles) {
      await root.call("POST", `auth/${j.path}/role/${r.name}`, jwtRoleBody(r, boot.tokenTtlSeconds));
      reads.push({ kind: "jwt role", path: `auth/${j.path}/role/${r.name}`, pick: data });
    }
  }
  reads.push({ kind: "auth method", path: "sys/auth", pick: (d) => Object.keys(d.data as object).sort() });

  // The database engine: the connection (verified when `postgres` is given, else a URL nothing listens on) and each service's dynamic role.
  const db = opts.database;
  if (db) {
    await root.call("POST", `sys/mounts/${db.mountPath}`, { type: "database" });
    const c = db.connection;
    await root.call("POST", `${db.mountPath}/config/${c.name}`, {
      plugin_name: "postgresql-database-plugin",
      connection_url: postgres?.url ?? c.url,
      username: c.username,
      password: postgres?.password ?? randomBytes(12).toString("hex"),
      allowed_roles: c.allowedRoles.join(","),
      password_authentication: c.passwordAuthentication,
      root_rotation_statements: c.rootRotationStatements,
      verify_connection: postgres !== undefined,
    });
    reads.push({ kind: "database", path: `${db.mountPath}/config/${c.name}`, pick: data });
    for (const r of db.dynamicRoles) {
      await root.call("POST", `${db.mountPath}/roles/${r.name}`, {
        db_name: r.dbName,
        creation_statements: r.creationStatements,
        revocation_statements: r.revocationStatements,
        renew_statements: r.renewStatements,
        default_ttl: config.database?.defaultTtl ?? "1h",
        max_ttl: config.database?.defaultTtl ?? "1h",
      });
      reads.push({ kind: "database", path: `${db.mountPath}/roles/${r.name}`, pick: data });
    }
    // The static role (the schema owner) needs its user in PostgreSQL: Vault sets its password at once.
    if (postgres)
      for (const r of db.staticRoles) {
        await root.call("POST", `${db.mountPath}/static-roles/${r.name}`, {
          db_name: r.dbName,
          username: r.username,
          rotation_statements: r.rotationStatements,
          rotation_schedule: config.database?.rotationSchedule,
        });
        // Without `ttl`, the seconds to the next rotation, which a later read answers differently.
        reads.push({
          kind: "database",
          path: `${db.mountPath}/static-roles/${r.name}`,
          pick: (d) => Object.fromEntries(Object.entries(d.data as Record<string, unknown>).filter(([k]) => k !== "ttl")),
        });
      }
  }
  reads.push({ kind: "autopilot", path: "sys/storage/raft/autopilot/configuration", pick: data });

  const counts: Record<string, number> = { "kv keys": Object.keys(values).length };
  for (const r of reads) counts[r.kind] = (counts[r.kind] ?? 0) + 1;
  return { kv: { path: kvPath, values }, reads, counts };
}

/** Read every `ReadBack` with `client`: path → picked answer (or `HTTP <status>`). */
export async function readAll(client: VaultClient, reads: ReadBack[]): Promise<Map<string, unknown>> {
  const out = new Map<string, unknown>();
  for (const r of reads) {
    const a = await client.raw("GET", r.path);
    out.set(r.path, a.status === 200 ? r.pick(a.json) : `HTTP ${a.status}`);
  }
  return out;
}
