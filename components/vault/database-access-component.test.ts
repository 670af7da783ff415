/**
 * DatabaseAccess (components/vault/database-access.ts) under the mock engine: one dynamic role
 * per service with the SQL module's statements, one path per policy, auth roles bound to one
 * ServiceAccount each with tokens that outlive their lease, and refused arguments.
 */
import * as assert from "node:assert/strict";
import type * as pulumi from "@pulumi/pulumi";
import { Provider as KubernetesProvider } from "@pulumi/kubernetes/provider";
import { Provider } from "@pulumi/vault/provider";
import { findResource, resourcesOfType, runProgram, tryRunProgram, type ProgramRun } from "../../harness";
import { DatabaseAccess, TOKEN_MARGIN_SECONDS, migrationCredsPolicy, serviceCredsPolicy, type DatabaseAccessArgs } from "./database-access";
import { creationStatements, renewStatements, revocationStatements, type DatabaseSqlOptions } from "./database-sql";
import { policyPaths } from "./policy-hcl";
import { SERVICES, T, provider } from "./database-access-fixtures";

const CONFIG = { "veza-secrets:environment": "production", "veza-secrets:providers": ["vault"] };
const SQL: DatabaseSqlOptions = { appSchema: "veza", appGroupRole: "veza_app_group", staticUsername: "veza_app", database: "veza" };

function args(provider: pulumi.ProviderResource, extra: Partial<DatabaseAccessArgs> = {}): DatabaseAccessArgs {
  return {
    provider,
    mountPath: "database",
    connectionName: "veza",
    authPath: "kubernetes",
    audience: "vault",
    sql: SQL,
    services: SERVICES.map((s) => ({
      service: s,
      roleName: `veza-${s}`,
      policyName: `veza-production-db-${s}`,
      authRoleName: `eso-veza-production-db-${s}`,
      serviceAccount: { namespace: "veza-production", name: `eso-db-${s}` },
    })),
    leaseTtlSeconds: 14400,
    migrations: {
      staticRoleName: "veza-app",
      policyName: "veza-production-db-migrations",
      authRoleName: "eso-veza-production-db-migrations",
      serviceAccount: { namespace: "veza-production", name: "eso-vault-migrations-store" },
    },
    ...extra,
  };
}

describe("components/vault/database-access", () => {
  let run: ProgramRun;
  beforeEach(async () => {
    run = await runProgram({ stack: "test", config: CONFIG, program: () => ({ urn: new DatabaseAccess("database-access", args(provider())).urn }) });
  });

  it("makes one dynamic role per service with the SQL module's statements, and a TTL equal to its max (never renewed)", () => {
    assert.deepEqual(
      resourcesOfType(run, T.role).map((r) => r.inputs),
      SERVICES.map((s) => ({
        backend: "database",
        dbName: "veza",
        name: `veza-${s}`,
        creationStatements: creationStatements(SQL, s),
        revocationStatements: revocationStatements(SQL, s),
        renewStatements: renewStatements(SQL),
        defaultTtl: 14400,
        maxTtl: 14400,
      })),
    );
  });

  it("puts each service's users in its own group role (issue 29 #10), never another service's or the shared group directly", () => {
    for (const r of resourcesOfType(run, T.role)) {
      const service = String(r.inputs.name).replace(/^veza-/, "");
      const grants = (r.inputs.creationStatements as string[]).filter((x) => x.startsWith("GRANT"));
      assert.deepEqual(grants, [`GRANT "veza_app_group_${service.replace(/-/g, "_")}" TO "{{name}}";`], service);
    }
  });

  it("gives every policy exactly one path: a service its own creds, migrations the static creds", () => {
    const policies = Object.fromEntries(resourcesOfType(run, T.policy).map((r) => [String(r.inputs.name), policyPaths(String(r.inputs.policy))]));
    assert.deepEqual(policies, {
      "veza-production-db-backend-api": [{ path: "database/creds/veza-backend-api", capabilities: ["read"] }],
      "veza-production-db-chat-server": [{ path: "database/creds/veza-chat-server", capabilities: ["read"] }],
      "veza-production-db-stream-server": [{ path: "database/creds/veza-stream-server", capabilities: ["read"] }],
      "veza-production-db-migrations": [{ path: "database/static-creds/veza-app", capabilities: ["read"] }],
    });
    assert.equal(serviceCredsPolicy("database", "veza-chat-server"), String(findResource(run, T.policy, "database-access-chat-server").inputs.policy));
    assert.equal(migrationCredsPolicy("database", "veza-app"), String(findResource(run, T.policy, "database-access-migrations").inputs.policy));
  });

  it("binds each auth role to one ServiceAccount, with tokens that outlive the lease they make", () => {
    const roles = resourcesOfType(run, T.authRole).map((r) => r.inputs);
    const ttl = 14400 + TOKEN_MARGIN_SECONDS;
    assert.deepEqual(roles, [
      ...SERVICES.map((s) => ({
        backend: "kubernetes",
        roleName: `eso-veza-production-db-${s}`,
        boundServiceAccountNames: [`eso-db-${s}`],
        boundServiceAccountNamespaces: ["veza-production"],
        audience: "vault",
        tokenTtl: ttl,
        tokenMaxTtl: ttl,
        tokenPolicies: [`veza-production-db-${s}`],
        tokenNoDefaultPolicy: false,
      })),
      {
        backend: "kubernetes",
        roleName: "eso-veza-production-db-migrations",
        boundServiceAccountNames: ["eso-vault-migrations-store"],
        boundServiceAccountNamespaces: ["veza-production"],
        audience: "vault",
        tokenTtl: 600,
        tokenMaxTtl: 600,
        tokenPolicies: ["veza-production-db-migrations"],
        tokenNoDefaultPolicy: false,
      },
    ]);
  });

  it("registers every resource under the component, through the Vault provider it is given", () => {
    const component = run.resources.find((r) => r.type === "veza:vault:DatabaseAccess");
    const vault = run.resources.find((r) => r.type === "pulumi:providers:vault");
    assert.ok(component && vault);
    const children = run.resources.filter((r) => r.type.startsWith("vault:"));
    assert.equal(children.length, SERVICES.length * 3 + 2);
    for (const child of children) {
      assert.equal(child.parent, component.urn, child.name);
      assert.ok(child.provider.startsWith(`${vault.urn}::`), `${child.name}: ${child.provider}`);
    }
  });

  it("outputs each service's creds path and auth role, and the migration role", () => {
    const component = run.resources.find((r) => r.type === "veza:vault:DatabaseAccess");
    assert.deepEqual(run.componentOutputs.get(component!.urn), {
      credsPaths: Object.fromEntries(SERVICES.map((s) => [s, `database/creds/veza-${s}`])),
      authRoles: Object.fromEntries(SERVICES.map((s) => [s, `eso-veza-production-db-${s}`])),
      migrationAuthRole: "eso-veza-production-db-migrations",
    });
  });

  it("without migrations, makes no migration identity and outputs no migration role", async () => {
    const without = await runProgram({
      stack: "test",
      config: CONFIG,
      program: () => ({ urn: new DatabaseAccess("database-access", args(provider(), { migrations: undefined })).urn }),
    });
    assert.deepEqual(
      without.resources.filter((r) => r.name.includes("migrations")),
      [],
    );
    const component = without.resources.find((r) => r.type === "veza:vault:DatabaseAccess");
    assert.deepEqual(Object.keys(without.componentOutputs.get(component!.urn) ?? {}).sort(), ["authRoles", "credsPaths"]);
  });

  it("says in each policy what its one path is for", () => {
    for (const policy of [serviceCredsPolicy("database", "veza-chat-server"), migrationCredsPolicy("database", "veza-app")]) {
      assert.match(policy, /^# [A-Z][^\n]*\.\npath "[^"]+" \{\n {2}capabilities = \["read"\]\n\}\n$/, policy);
    }
    assert.notEqual(serviceCredsPolicy("database", "r").split("\n")[0], migrationCredsPolicy("database", "r").split("\n")[0]);
  });

  it("accepts a lease TTL of exactly two minutes", async () => {
    const ok = await tryRunProgram({
      stack: "test",
      config: CONFIG,
      program: () => ({ urn: new DatabaseAccess("ok", args(provider(), { leaseTtlSeconds: 120 })).urn }),
    });
    assert.equal(ok.error, undefined);
  });

  const badName = (field: keyof Pick<DatabaseAccessArgs["services"][number], "roleName" | "policyName" | "authRoleName">) => (p: Provider) =>
    args(p, { services: args(p).services.map((s, i) => (i === 1 ? { ...s, [field]: "Veza_Role" } : s)) });
  const badMigrationName = (field: "policyName" | "authRoleName" | "staticRoleName") => (p: Provider) =>
    args(p, { migrations: { ...args(p).migrations!, [field]: "veza role" } });
  const refusals: [string, (p: Provider) => DatabaseAccessArgs, string][] = [
    [
      "no provider",
      (p) => ({ ...args(p), provider: undefined as unknown as pulumi.ProviderResource }),
      "[provider] must be a vault.Provider built with Vault's address and token; got none.",
    ],
    [
      "another package's provider",
      (p) => ({ ...args(p), provider: new KubernetesProvider("k8s", {}) }),
      `[provider] must be a vault.Provider built with Vault's address and token; got a "kubernetes" provider.`,
    ],
    ["SQL names it would refuse", (p) => args(p, { sql: { ...SQL, appSchema: "public" } }), '[sql] appSchema must be a dedicated schema, not "public".'],
    ["no services", (p) => args(p, { services: [] }), "[services] is empty; pass one identity per service that reads database-url."],
    ["a TTL under two minutes", (p) => args(p, { leaseTtlSeconds: 60 }), "[leaseTtlSeconds] must be a whole number of seconds, at least 120; got 60."],
    ["a TTL of 119 s", (p) => args(p, { leaseTtlSeconds: 119 }), "[leaseTtlSeconds] must be a whole number of seconds, at least 120; got 119."],
    ["a TTL in part-seconds", (p) => args(p, { leaseTtlSeconds: 600.5 }), "[leaseTtlSeconds] must be a whole number of seconds, at least 120; got 600.5."],
    ...(["roleName", "policyName", "authRoleName"] as const).map((field): [string, (p: Provider) => DatabaseAccessArgs, string] => [
      `a service's ${field} Vault would not take`,
      badName(field),
      `[services] ${field} must be lowercase letters, digits, "_" and "-"; got "Veza_Role".`,
    ]),
    ...(["policyName", "authRoleName", "staticRoleName"] as const).map((field): [string, (p: Provider) => DatabaseAccessArgs, string] => [
      `a migrations ${field} Vault would not take`,
      badMigrationName(field),
      `[services] migrations.${field} must be lowercase letters, digits, "_" and "-"; got "veza role".`,
    ]),
    [
      "two services sharing a role",
      (p) => args(p, { services: args(p).services.map((s) => ({ ...s, roleName: "veza-shared" })) }),
      '[services] roleName "veza-shared" is used by two services; each service needs its own.',
    ],
    [
      "the static role as a service's role",
      (p) => args(p, { services: args(p).services.map((s, i) => (i === 0 ? { ...s, roleName: "veza-app" } : s)) }),
      "[migrations.staticRoleName] \"veza-app\" is also a service's dynamic role; the schema owner must stay out of the services' reach.",
    ],
  ];
  for (const [label, build, message] of refusals) {
    it(`refuses ${label}, creating nothing`, async () => {
      const { run: failed, error } = await tryRunProgram({
        stack: "test",
        config: CONFIG,
        program: () => ({ urn: new DatabaseAccess("bad", build(provider())).urn }),
      });
      assert.ok(error, "expected an error");
      assert.ok(error.message.includes(message), error.message);
      assert.deepEqual(
        failed.resources.filter((r) => r.custom && !r.type.startsWith("pulumi:providers:")),
        [],
      );
    });
  }
});
