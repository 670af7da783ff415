/**
 * DatabaseAccess (components/vault/database-access.ts) under the mock engine: one dynamic role
 * per service with the SQL module's statements, one path per policy, auth roles bound to one
 * ServiceAccount each with tokens that outlive their lease, and refused arguments.
 */
import * as assert from "node:assert/strict";
import type * as pulumi from "@pulumi/pulumi";
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
        creationStatements: creationStatements(SQL),
        revocationStatements: revocationStatements(SQL),
        renewStatements: renewStatements(SQL),
        defaultTtl: 14400,
        maxTtl: 14400,
      })),
    );
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

  const refusals: [string, (p: Provider) => DatabaseAccessArgs, string][] = [
    ["no services", (p) => args(p, { services: [] }), "[services] is empty; pass one identity per service that reads database-url."],
    ["a TTL under two minutes", (p) => args(p, { leaseTtlSeconds: 60 }), "[leaseTtlSeconds] must be a whole number of seconds, at least 120; got 60."],
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
