/**
 * Support for VaultConfig's tests (components/vault/config-*.test.ts): production-shaped args
 * with recognisable values, a program that builds the component under the mock engine, the
 * production policy exactly, and helpers over what it registered. Test support, not program code.
 */
import * as pulumi from "@pulumi/pulumi";
import { Provider } from "@pulumi/vault/provider";
import { findResource, runProgram, type ProgramRun } from "../../harness";
import { VaultConfig } from "./config";
import { type VaultConfigArgs, type VaultDatabaseArgs } from "./config-args";

export const CONFIG = { "veza-secrets:environment": "development", "veza-secrets:providers": ["vault"] };
export const T = {
  component: "veza:vault:VaultConfig",
  provider: "pulumi:providers:vault",
  mount: "vault:index/mount:Mount",
  policy: "vault:index/policy:Policy",
  audit: "vault:index/audit:Audit",
  authBackend: "vault:index/authBackend:AuthBackend",
  secret: "vault:kv/secretV2:SecretV2",
  authConfig: "vault:kubernetes/authBackendConfig:AuthBackendConfig",
  role: "vault:kubernetes/authBackendRole:AuthBackendRole",
  connection: "vault:database/secretBackendConnection:SecretBackendConnection",
  staticRole: "vault:database/secretBackendStaticRole:SecretBackendStaticRole",
  dynamicRole: "vault:database/secretBackendRole:SecretBackendRole",
};
export const ENVS = ["development", "staging", "production"] as const;

/** Recognisable values, searched for by the tests to prove they never leave a secret wrapper. */
export const VALUES = {
  "redis-url": "rediss://:FAKE-KV-redis-7d1e@redis.example:6380/0",
  "jwt-secret": "FAKE-KV-jwt-secret-7d1e-0123456789abcdef0123456789abcdef",
  "stripe-api-key": "FAKE-KV-stripe-7d1e",
};
export const ADMIN_PASSWORD = "FAKE-ADMIN-PASSWORD-7d1e";
export const SQL = { appSchema: "veza", appGroupRole: "veza_app_group", staticUsername: "veza_app", database: "veza" };

export function database(extra: Partial<VaultDatabaseArgs> = {}): VaultDatabaseArgs {
  return {
    connectionName: "veza",
    host: "postgres.veza.svc",
    port: 5432,
    databaseName: "veza",
    sslMode: "verify-full",
    adminUsername: "vault_admin",
    // Plain on purpose: the component must wrap it.
    adminPassword: ADMIN_PASSWORD,
    verifyConnection: true,
    staticRole: { name: "veza-app", username: "veza_app", rotationSchedule: "0 4 * * 0" },
    dynamicRoleNames: ["veza-backend-api", "veza-chat-server", "veza-stream-server"],
    sql: { appSchema: "veza", appGroupRole: "veza_app_group", database: "veza" },
    ...extra,
  };
}

/** Production-shaped args: owns every per-Vault object, with the database engine. */
export function args(provider: pulumi.ProviderResource, env: string, extra: Partial<VaultConfigArgs> = {}): VaultConfigArgs {
  return {
    provider,
    createKvMount: true,
    secretPath: `veza/${env}`,
    // One value plain, the others Pulumi secrets: the component must wrap the whole write.
    secrets: { "redis-url": pulumi.secret(VALUES["redis-url"]), "stripe-api-key": VALUES["stripe-api-key"], "jwt-secret": pulumi.secret(VALUES["jwt-secret"]) },
    kubernetesAuth: { audience: "vault", roleName: `veza-${env}-eso`, boundServiceAccount: { namespace: `veza-${env}`, name: "eso-vault-store" } },
    createAuthBackend: true,
    policyName: `veza-${env}-read`,
    audit: { type: "file", path: "/vault/audit/audit.log" },
    createAudit: true,
    database: database(),
    createDatabaseMount: true,
    protect: true,
    ...extra,
  };
}

export function vaultProvider(): Provider {
  return new Provider("vault", { address: "http://127.0.0.1:8200", token: pulumi.secret("t") });
}

export function run(build: (p: Provider) => VaultConfigArgs, name = "vault-config"): Promise<ProgramRun> {
  // Returns the URN, not the component: a component as stack output warns about each unset optional field.
  return runProgram({ stack: "test", config: CONFIG, program: () => ({ urn: new VaultConfig(name, build(vaultProvider())).urn }) });
}

export const POLICY_PRODUCTION = `# KV v2 data: this environment's secret values, as External Secrets Operator reads them.
path "secret/data/veza/production" {
  capabilities = ["read"]
}

# KV v2 metadata of the same secret (versions and custom metadata, no values).
path "secret/metadata/veza/production" {
  capabilities = ["read"]
}
`;

export const children = (r: ProgramRun) => r.resources.filter((x) => x.custom && x.type !== T.provider);
export const names = (r: ProgramRun) =>
  children(r)
    .map((x) => `${x.type} ${x.name}`)
    .sort();
export const outputsOf = (r: ProgramRun, name = "vault-config") => r.componentOutputs.get(findResource(r, T.component, name).urn) ?? {};
