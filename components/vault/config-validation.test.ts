/**
 * VaultConfig's validation (components/vault/config-args.ts, components/vault/config.ts): each
 * bad argument refused with its exact message before any child is created, and a missing provider or one of
 * another package refused.
 */
import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { tryRunProgram } from "../../harness";
import { VaultConfig } from "./config";
import { type VaultConfigArgs, validateVaultConfigArgs } from "./config-args";
import { CONFIG, args, children, database, vaultProvider } from "./config-fixtures";

describe("components/vault/config", () => {
  const auth = (extra: Partial<VaultConfigArgs["kubernetesAuth"]>) => ({
    kubernetesAuth: {
      audience: "vault",
      roleName: "veza-production-eso",
      boundServiceAccount: { namespace: "veza-production", name: "eso-vault-store" },
      ...extra,
    },
  });
  for (const [label, extra, message] of [
    [
      "a secretPath with a leading /",
      { secretPath: "/veza/production" },
      '[secretPath] must be relative, without a leading or trailing "/", e.g. "veza/production"; got "/veza/production".',
    ],
    [
      "a secretPath with ..",
      { secretPath: "veza/../production" },
      '[secretPath] must not contain ".."; name the path itself, e.g. "veza/production"; got "veza/../production".',
    ],
    [
      "a secretPath with a glob",
      { secretPath: "veza/*" },
      '[secretPath] must be "/"-separated segments of letters, digits, ".", "_" and "-" (no "*", "+", spaces or empty segments), e.g. "veza/production"; got "veza/*".',
    ],
    ["a kvMount with a trailing /", { kvMount: "secret/" }, '[kvMount] must be relative, without a leading or trailing "/", e.g. "secret"; got "secret/".'],
    ["no secrets", { secrets: {} }, "[secrets] is empty; pass the catalog keys and values to write to veza/production."],
    [
      "the default policy",
      { policyName: "default" },
      '[policyName] must be lowercase letters, digits, "_" and "-", and not Vault\'s built-in "default" or "root", e.g. "veza-production-read"; got "default".',
    ],
    [
      "a TTL above the max",
      auth({ tokenTtlSeconds: 3600, tokenMaxTtlSeconds: 1800 }),
      "[kubernetesAuth.tokenTtlSeconds] (3600) must not exceed [kubernetesAuth.tokenMaxTtlSeconds] (1800); lower the TTL or raise the max.",
    ],
    ["a zero TTL", auth({ tokenTtlSeconds: 0 }), "[kubernetesAuth.tokenTtlSeconds] must be a whole number of seconds, at least 1; got 0."],
    [
      "a wildcard ServiceAccount",
      auth({ boundServiceAccount: { namespace: "veza-production", name: "*" } }),
      '[kubernetesAuth.boundServiceAccount.name] must be one ServiceAccount name (no "*"), e.g. "eso-vault-store"; got "*".',
    ],
    [
      "a wildcard namespace",
      auth({ boundServiceAccount: { namespace: "*", name: "eso-vault-store" } }),
      '[kubernetesAuth.boundServiceAccount.namespace] must be one namespace name (no "*"), e.g. "veza-production"; got "*".',
    ],
    ["an empty audience", auth({ audience: "" }), '[kubernetesAuth.audience] must be the audience ESO\'s SecretStore requests, e.g. "vault"; got "".'],
    [
      "a plain-http API server",
      auth({ kubernetesHost: "http://kubernetes.default.svc" }),
      '[kubernetesAuth.kubernetesHost] must be the API server\'s https:// URL without a path, e.g. "https://kubernetes.default.svc"; got "http://kubernetes.default.svc".',
    ],
    [
      "a second stdout device next to a stdout device",
      { audit: { type: "file", path: "stdout" }, logPipelineAudit: true },
      '[logPipelineAudit] is true but [audit.path] is already "stdout": the same log would be written twice; send [audit] to a file, or drop logPipelineAudit.',
    ],
    [
      "createAudit without audit",
      { audit: undefined },
      '[createAudit] is true but [audit] is not set; pass audit: { type: "file", path: "stdout" } or set createAudit to false.',
    ],
    [
      "a relative audit path",
      { audit: { type: "file", path: "audit.log" } },
      '[audit.path] must be "stdout" or an absolute file path such as "/vault/audit/audit.log"; got "audit.log".',
    ],
    [
      "createDatabaseMount without database",
      { database: undefined },
      "[createDatabaseMount] is true but [database] is not set; pass database or set createDatabaseMount to false.",
    ],
    [
      "a host that rewrites the URL",
      { database: database({ host: "evil@postgres" }) },
      '[database.host] must be a host name or IPv4 address, e.g. "postgres.veza.svc"; got "evil@postgres".',
    ],
    ["port 0", { database: database({ port: 0 }) }, "[database.port] must be a whole number from 1 to 65535; got 0."],
    [
      "a database mismatch",
      { database: database({ sql: { appSchema: "veza", appGroupRole: "veza_app_group", database: "other" } }) },
      '[database.sql.database] must equal [database.databaseName] (Vault connects to the application database); got "other" and "veza".',
    ],
    [
      "a bad SQL name",
      { database: database({ sql: { appSchema: "public", appGroupRole: "veza_app_group", database: "veza" } }) },
      '[database] appSchema must be a dedicated schema, not "public".',
    ],
    [
      "the static role among the services' roles",
      { database: database({ dynamicRoleNames: ["veza-backend-api", "veza-app"] }) },
      '[database.dynamicRoleNames] must not name the static role "veza-app": the schema owner is for migrations only.',
    ],
    [
      "a bad dynamic role name",
      { database: database({ dynamicRoleNames: ["Veza"] }) },
      '[database.dynamicRoleNames[0]] must be lowercase letters, digits, "_" and "-", e.g. "veza-app"; got "Veza".',
    ],
    [
      "a rotation period instead of a schedule",
      { database: database({ staticRole: { name: "veza-app", username: "veza_app", rotationSchedule: "24h" } }) },
      '[database.staticRole.rotationSchedule] must be a five-field cron schedule such as "0 4 * * 0"; got "24h".',
    ],
    [
      "the database mount on the KV mount",
      { database: database({ mountPath: "secret" }) },
      '[database.mountPath] must differ from [kvMount]; both are "secret".',
    ],
    ["a CA that is not PEM", { database: database({ tlsCa: "MIIB..." }) }, "[database.tlsCa] must be PEM certificate(s) (-----BEGIN CERTIFICATE-----)."],
    [
      "a CA with an sslmode that checks none",
      { database: database({ sslMode: "require", tlsCa: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n" }) },
      '[database.tlsCa] is only used with sslMode verify-ca or verify-full; got "require".',
    ],
    [
      "a secretPath that is not a string (untyped config)",
      { secretPath: undefined as unknown as string },
      '[secretPath] must be relative, without a leading or trailing "/", e.g. "veza/production"; got undefined.',
    ],
    [
      "a secret key with a /",
      { secrets: { "db/url": "x" } },
      '[secrets] key "db/url" may hold only letters, digits, ".", "_" and "-" (it becomes a Kubernetes Secret key).',
    ],
    [
      "the root policy",
      { policyName: "root" },
      '[policyName] must be lowercase letters, digits, "_" and "-", and not Vault\'s built-in "default" or "root", e.g. "veza-production-read"; got "root".',
    ],
    [
      "a kubernetes auth path with a leading /",
      auth({ path: "/kubernetes" }),
      '[kubernetesAuth.path] must be relative, without a leading or trailing "/", e.g. "kubernetes"; got "/kubernetes".',
    ],
    [
      "an API server URL with a path",
      auth({ kubernetesHost: "https://kubernetes.default.svc/api" }),
      '[kubernetesAuth.kubernetesHost] must be the API server\'s https:// URL without a path, e.g. "https://kubernetes.default.svc"; got "https://kubernetes.default.svc/api".',
    ],
    [
      "an API server URL after a space",
      auth({ kubernetesHost: " https://kubernetes.default.svc" }),
      '[kubernetesAuth.kubernetesHost] must be the API server\'s https:// URL without a path, e.g. "https://kubernetes.default.svc"; got " https://kubernetes.default.svc".',
    ],
    [
      "two audiences in one",
      auth({ audience: "vault eso" }),
      '[kubernetesAuth.audience] must be the audience ESO\'s SecretStore requests, e.g. "vault"; got "vault eso".',
    ],
    [
      "no audience (untyped config)",
      auth({ audience: undefined as unknown as string }),
      '[kubernetesAuth.audience] must be the audience ESO\'s SecretStore requests, e.g. "vault"; got undefined.',
    ],
    [
      "an uppercase role name",
      auth({ roleName: "Veza-ESO" }),
      '[kubernetesAuth.roleName] must be lowercase letters, digits, "_" and "-", e.g. "veza-production-eso"; got "Veza-ESO".',
    ],
    [
      "a zero max TTL",
      auth({ tokenTtlSeconds: 1, tokenMaxTtlSeconds: 0 }),
      "[kubernetesAuth.tokenMaxTtlSeconds] must be a whole number of seconds, at least 1; got 0.",
    ],
    ["an audit device of another type", { audit: { type: "socket" as "file", path: "stdout" } }, '[audit.type] must be "file"; got "socket".'],
    [
      "an audit path that is a directory",
      { audit: { type: "file", path: "/vault/audit/" } },
      '[audit.path] must be "stdout" or an absolute file path such as "/vault/audit/audit.log"; got "/vault/audit/".',
    ],
    [
      "an audit path relative to a directory",
      { audit: { type: "file", path: "audit/audit.log" } },
      '[audit.path] must be "stdout" or an absolute file path such as "/vault/audit/audit.log"; got "audit/audit.log".',
    ],
    [
      "a database mount with a trailing /",
      { database: database({ mountPath: "database/" }) },
      '[database.mountPath] must be relative, without a leading or trailing "/", e.g. "database"; got "database/".',
    ],
    [
      "an uppercase connection name",
      { database: database({ connectionName: "Veza" }) },
      '[database.connectionName] must be lowercase letters, digits, "_" and "-", e.g. "veza"; got "Veza".',
    ],
    ["port 65536", { database: database({ port: 65536 }) }, "[database.port] must be a whole number from 1 to 65535; got 65536."],
    [
      "an sslmode PostgreSQL does not know",
      { database: database({ sslMode: "strict" as "require" }) },
      '[database.sslMode] must be one of disable, allow, prefer, require, verify-ca, verify-full; got "strict".',
    ],
    [
      "an admin name that is not a PostgreSQL identifier",
      { database: database({ adminUsername: "vault-admin" }) },
      '[database.adminUsername] must be a lowercase PostgreSQL identifier, e.g. "vault_admin"; got "vault-admin".',
    ],
    [
      "the group role as Vault's admin",
      { database: database({ adminUsername: "veza_app_group" }) },
      '[database.adminUsername] must differ from the app group role and the static role\'s user; got "veza_app_group".',
    ],
    [
      "the static user as Vault's admin",
      { database: database({ adminUsername: "veza_app" }) },
      '[database.adminUsername] must differ from the app group role and the static role\'s user; got "veza_app".',
    ],
    [
      "an uppercase static role",
      { database: database({ staticRole: { name: "Veza-App", username: "veza_app", rotationSchedule: "0 4 * * 0" } }) },
      '[database.staticRole.name] must be lowercase letters, digits, "_" and "-", e.g. "veza-app"; got "Veza-App".',
    ],
    [
      "a six-field (seconds) cron schedule",
      { database: database({ staticRole: { name: "veza-app", username: "veza_app", rotationSchedule: "0 0 4 * * 0" } }) },
      '[database.staticRole.rotationSchedule] must be a five-field cron schedule such as "0 4 * * 0"; got "0 0 4 * * 0".',
    ],
    ["no open connections", { database: database({ maxOpenConnections: 0 }) }, "[database.maxOpenConnections] must be a whole number, at least 1; got 0."],
    ["part of a connection", { database: database({ maxOpenConnections: 2.5 }) }, "[database.maxOpenConnections] must be a whole number, at least 1; got 2.5."],
  ] as const) {
    it(`refuses ${label}, creating nothing`, async () => {
      const { run: r, error } = await tryRunProgram({
        stack: "test",
        config: CONFIG,
        program: () => new VaultConfig("vault-config", args(vaultProvider(), "production", extra as Partial<VaultConfigArgs>)),
      });
      assert.ok(error instanceof pulumi.ResourceError, String(error));
      assert.equal(error.message, message);
      assert.equal(children(r).length, 0);
    });
  }

  // The edges of each rule, accepted: what a stack may set.
  const ca = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
  const schedule = (rotationSchedule: string) => ({ database: database({ staticRole: { name: "veza-app", username: "veza_app", rotationSchedule } }) });
  const accepted: [string, Partial<VaultConfigArgs>][] = [
    ["one-second token TTLs, TTL equal to the max", auth({ tokenTtlSeconds: 1, tokenMaxTtlSeconds: 1 })],
    ["an API server by address and port", auth({ kubernetesHost: "https://10.0.0.1:6443" })],
    ["a one-letter database host", { database: database({ host: "p" }) }],
    ["port 1", { database: database({ port: 1 }) }],
    ["port 65535", { database: database({ port: 65535 }) }],
    ["sslmode require without a CA", { database: database({ sslMode: "require" }) }],
    ["a CA with verify-ca", { database: database({ sslMode: "verify-ca", tlsCa: ca }) }],
    ["a CA with verify-full", { database: database({ sslMode: "verify-full", tlsCa: ca }) }],
    ["a schedule with two-digit fields", schedule("30 14 1 */2 1-5")],
    ["a schedule spaced by tabs and runs of spaces", schedule("0\t4  * *   0")],
    ["one open connection", { database: database({ maxOpenConnections: 1 }) }],
  ];
  it("accepts the edges of every rule", async () => {
    const errors: [string, string][] = [];
    const { error } = await tryRunProgram({
      stack: "test",
      config: CONFIG,
      program: () => {
        const provider = vaultProvider();
        for (const [label, extra] of accepted) {
          try {
            validateVaultConfigArgs(args(provider, "production", extra));
          } catch (e) {
            errors.push([label, (e as Error).message]);
          }
        }
      },
    });
    assert.equal(error, undefined);
    assert.deepEqual(errors, []);
  });

  class OtherProvider extends pulumi.ProviderResource {
    constructor() {
      super("kubernetes", "k8s", {});
    }
  }
  // Without a Vault provider the SDK silently uses the default one (VAULT_ADDR), so both are refused.
  for (const [label, provider, got] of [
    ["no provider", () => undefined, "none"],
    ["a provider of another package", () => new OtherProvider(), 'a "kubernetes" provider'],
  ] as const) {
    it(`refuses ${label} (the SDK would silently use the default Vault provider)`, async () => {
      const { run: r, error } = await tryRunProgram({
        stack: "test",
        config: CONFIG,
        program: () => new VaultConfig("vault-config", args(provider() as unknown as pulumi.ProviderResource, "production")),
      });
      assert.ok(error instanceof pulumi.ResourceError, String(error));
      assert.equal(error.message, `[provider] must be a vault.Provider built with Vault's address and token; got ${got}.`);
      assert.equal(children(r).filter((x) => x.type.startsWith("vault:")).length, 0);
    });
  }
});
