/**
 * VaultConfig (components/vault/config.ts) for an environment that owns its Vault (production):
 * exactly the Vault resources it registers, their inputs, the database engine, secrecy of the
 * admin password and KV values, parents, providers, ordering, protection and outputs.
 */
import * as assert from "node:assert/strict";
import { findResource, isSecret, plaintextOccurrences, resourcesOfType, unwrapSecrets, type ProgramRun, type RecordedResource } from "../../harness";
import { rootRotationStatements, rotationStatements } from "./database-sql";
import { ADMIN_PASSWORD, POLICY_PRODUCTION, SQL, T, VALUES, args, children, database, names, outputsOf, run } from "./config-fixtures";

describe("components/vault/config", () => {
  describe("an environment that owns its Vault (production)", () => {
    let prod: ProgramRun;
    let get: (type: string, suffix: string) => RecordedResource;
    beforeEach(async () => {
      prod = await run((p) => args(p, "production"));
      get = (type, suffix) => findResource(prod, type, `vault-config-${suffix}`);
    });

    it("registers exactly these ten Vault resources", () => {
      assert.deepEqual(
        names(prod),
        [
          `${T.audit} vault-config-audit`,
          `${T.authBackend} vault-config-k8s-auth`,
          `${T.mount} vault-config-database-mount`,
          `${T.mount} vault-config-kv-mount`,
          `${T.policy} vault-config-policy`,
          `${T.connection} vault-config-database-connection`,
          `${T.staticRole} vault-config-static-role`,
          `${T.authConfig} vault-config-k8s-auth-config`,
          `${T.role} vault-config-k8s-role`,
          `${T.secret} vault-config-secrets`,
        ].sort(),
      );
    });

    it("mounts KV v2 and writes every key, as one secret, at secret/veza/production", () => {
      assert.deepEqual(get(T.mount, "kv-mount").inputs, {
        path: "secret",
        type: "kv",
        options: { version: "2" },
        description: "Veza application secrets (KV v2), read by External Secrets Operator.",
      });
      const secret = get(T.secret, "secrets");
      assert.deepEqual(Object.keys(secret.inputs).sort(), ["dataJson", "mount", "name"]);
      assert.equal(secret.inputs.mount, "secret");
      assert.equal(secret.inputs.name, "veza/production");
      assert.ok(isSecret(secret.inputs.dataJson));
      // Keys sorted: the same values always serialise to the same JSON.
      assert.equal(
        unwrapSecrets(secret.inputs.dataJson),
        JSON.stringify({ "jwt-secret": VALUES["jwt-secret"], "redis-url": VALUES["redis-url"], "stripe-api-key": VALUES["stripe-api-key"] }),
      );
    });

    it("writes the one read-only policy, exactly", () => {
      assert.deepEqual(get(T.policy, "policy").inputs, { name: "veza-production-read", policy: POLICY_PRODUCTION });
    });

    it("enables kubernetes auth, reviewed with Vault's own ServiceAccount token", () => {
      assert.deepEqual(get(T.authBackend, "k8s-auth").inputs, {
        type: "kubernetes",
        path: "kubernetes",
        description: "Kubernetes ServiceAccount login (External Secrets Operator).",
      });
      assert.deepEqual(get(T.authConfig, "k8s-auth-config").inputs, {
        backend: "kubernetes",
        kubernetesHost: "https://kubernetes.default.svc",
        disableLocalCaJwt: false,
      });
    });

    it("binds the role to exactly ESO's ServiceAccount, with the audience, short TTLs and only this environment's policy", () => {
      assert.deepEqual(get(T.role, "k8s-role").inputs, {
        backend: "kubernetes",
        roleName: "veza-production-eso",
        boundServiceAccountNames: ["eso-vault-store"],
        boundServiceAccountNamespaces: ["veza-production"],
        audience: "vault",
        tokenTtl: 600,
        tokenMaxTtl: 1800,
        tokenPolicies: ["veza-production-read"],
        tokenNoDefaultPolicy: false,
      });
    });

    it("enables the file audit device at the given path", () => {
      assert.deepEqual(get(T.audit, "audit").inputs, {
        type: "file",
        path: "file",
        description: "Audit log of every request (HMAC'd values).",
        options: { file_path: "/vault/audit/audit.log" },
      });
    });

    it("adds a second audit device to stdout for the log pipeline when asked, before everything else but the first", async () => {
      const r = await run((p) => args(p, "production", { logPipelineAudit: true }));
      const second = findResource(r, T.audit, "vault-config-audit-stdout");
      assert.deepEqual(second.inputs, {
        type: "file",
        path: "stdout",
        description: "Audit log to stdout, shipped by the cluster's log pipeline (HMAC'd values).",
        options: { file_path: "stdout" },
      });
      const first = findResource(r, T.audit, "vault-config-audit");
      assert.deepEqual(second.dependencies, [first.urn]);
      for (const x of r.resources.filter((y) => y.type.startsWith("vault:") && y.type !== T.audit)) assert.ok(x.dependencies.includes(second.urn), x.name);
    });

    it("configures the database engine: mount, connection (URL template exactly), allowed roles, root rotation SQL", () => {
      assert.deepEqual(get(T.mount, "database-mount").inputs, {
        path: "database",
        type: "database",
        description: "PostgreSQL credentials Vault creates and rotates for Veza.",
      });
      const connection = get(T.connection, "database-connection");
      assert.deepEqual(unwrapSecrets(connection.inputs), {
        backend: "database",
        name: "veza",
        allowedRoles: ["veza-app", "veza-backend-api", "veza-chat-server", "veza-stream-server"],
        verifyConnection: true,
        rootRotationStatements: rootRotationStatements(),
        postgresql: {
          connectionUrl: "postgresql://{{username}}:{{password}}@postgres.veza.svc:5432/veza?sslmode=verify-full",
          username: "vault_admin",
          password: ADMIN_PASSWORD,
          maxOpenConnections: 4,
          passwordAuthentication: "scram-sha-256",
        },
      });
      assert.deepEqual(connection.additionalSecretOutputs, ["postgresql"]);
    });

    it("passes a private CA to Vault's connection (tls_ca) for verify-full", async () => {
      const ca = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n";
      const r = await run((p) => args(p, "production", { database: database({ tlsCa: ca }) }));
      const pg = (unwrapSecrets(findResource(r, T.connection, "vault-config-database-connection").inputs) as { postgresql: Record<string, unknown> })
        .postgresql;
      assert.deepEqual([pg.tlsCa, pg.connectionUrl], [ca, "postgresql://{{username}}:{{password}}@postgres.veza.svc:5432/veza?sslmode=verify-full"]);
    });

    it("makes the static role on a rotation schedule (no period) with the SQL module's rotation statements, and no dynamic role", () => {
      assert.deepEqual(get(T.staticRole, "static-role").inputs, {
        backend: "database",
        dbName: "veza",
        name: "veza-app",
        username: "veza_app",
        rotationSchedule: "0 4 * * 0",
        rotationStatements: rotationStatements(SQL),
      });
      // The services' dynamic roles are DatabaseAccess's (database-access.ts), one per service.
      assert.deepEqual(resourcesOfType(prod, T.dynamicRole), []);
    });

    it("never holds the admin password or a KV value in clear text; postgresql.password is a secret wrapper", () => {
      assert.ok(isSecret((get(T.connection, "database-connection").inputs.postgresql as Record<string, unknown>).password));
      for (const needle of [ADMIN_PASSWORD, ...Object.values(VALUES)]) {
        for (const r of prod.resources) assert.deepEqual(plaintextOccurrences(r.inputs, needle), [], `${r.type} ${r.name}`);
        for (const [urn, outputs] of prod.componentOutputs) assert.deepEqual(plaintextOccurrences(outputs, needle), [], urn);
      }
    });

    it("gives every child the component as parent and the given provider", () => {
      const component = findResource(prod, T.component, "vault-config");
      const provider = findResource(prod, T.provider, "vault");
      assert.equal(children(prod).length, 10);
      for (const r of children(prod)) {
        assert.equal(r.parent, component.urn, r.name);
        assert.ok(r.provider.startsWith(`${provider.urn}::`), `${r.name}: ${r.provider}`);
      }
    });

    it("orders: audit first; config after backend; role after config and policy; KV secret after its mount; connection after its mount; roles after the connection", () => {
      const urn = (type: string, suffix: string) => get(type, suffix).urn;
      const dependsOn = (type: string, suffix: string, ...on: [string, string][]) => {
        const deps = get(type, suffix).dependencies;
        for (const [t, s] of on) assert.ok(deps.includes(urn(t, s)), `${suffix} should depend on ${s}: ${deps.join(", ")}`);
      };
      assert.deepEqual(get(T.audit, "audit").dependencies, []);
      for (const r of children(prod).filter((x) => x.type !== T.audit)) assert.ok(r.dependencies.includes(urn(T.audit, "audit")), r.name);
      dependsOn(T.authConfig, "k8s-auth-config", [T.authBackend, "k8s-auth"]);
      dependsOn(T.role, "k8s-role", [T.authConfig, "k8s-auth-config"], [T.policy, "policy"]);
      dependsOn(T.secret, "secrets", [T.mount, "kv-mount"]);
      dependsOn(T.connection, "database-connection", [T.mount, "database-mount"]);
      dependsOn(T.staticRole, "static-role", [T.connection, "database-connection"]);
    });

    it("deletes the database connection with its mount, and nothing else that way (the unmount revokes the leases, which needs the connection)", () => {
      assert.equal(get(T.connection, "database-connection").deletedWith, get(T.mount, "database-mount").urn);
      assert.deepEqual(
        children(prod)
          .filter((r) => r.deletedWith)
          .map((r) => r.name),
        ["vault-config-database-connection"],
      );
    });

    it("protects the KV mount and secret, the database mount and connection, and nothing else", () => {
      const isProtected = children(prod)
        .filter((r) => r.protect)
        .map((r) => r.name)
        .sort();
      assert.deepEqual(isProtected, ["vault-config-database-connection", "vault-config-database-mount", "vault-config-kv-mount", "vault-config-secrets"]);
    });

    it("protects nothing when protect is not set (the default is off, for development)", async () => {
      const unset = await run((p) => args(p, "production", { protect: undefined }));
      assert.ok(children(unset).length > 0);
      assert.deepEqual(
        children(unset).filter((r) => r.protect),
        [],
      );
    });

    it("registers names and paths, no values, as outputs", () => {
      assert.deepEqual(outputsOf(prod), {
        policyName: "veza-production-read",
        authRole: "veza-production-eso",
        authPath: "kubernetes",
        kvMount: "secret",
        secretPath: "veza/production",
        databaseMount: "database",
        staticRoleName: "veza-app",
        staticCredsPath: "database/static-creds/veza-app",
      });
    });
  });
});
