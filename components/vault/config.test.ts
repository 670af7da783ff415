import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { Provider } from "@pulumi/vault/provider";
import {
  findResource,
  isSecret,
  plaintextOccurrences,
  resourcesOfType,
  runProgram,
  tryRunProgram,
  unwrapSecrets,
  type ProgramRun,
  type RecordedResource,
} from "../../harness";
import { rootRotationStatements, rotationStatements } from "./database-sql";
import { VaultConfig } from "./config";
import { type VaultConfigArgs, type VaultDatabaseArgs } from "./config-args";
import { policyDocument, policyPaths } from "./policy-hcl";

const CONFIG = { "veza-secrets:environment": "development", "veza-secrets:providers": ["vault"] };
const T = {
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
const ENVS = ["development", "staging", "production"] as const;

/** Recognisable values, searched for below to prove they never leave a secret wrapper. */
const VALUES = {
  "redis-url": "rediss://:FAKE-KV-redis-7d1e@redis.example:6380/0",
  "jwt-secret": "FAKE-KV-jwt-secret-7d1e-0123456789abcdef0123456789abcdef",
  "stripe-api-key": "FAKE-KV-stripe-7d1e",
};
const ADMIN_PASSWORD = "FAKE-ADMIN-PASSWORD-7d1e";
const SQL = { appSchema: "veza", appGroupRole: "veza_app_group", staticUsername: "veza_app", database: "veza" };

function database(extra: Partial<VaultDatabaseArgs> = {}): VaultDatabaseArgs {
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
function args(provider: pulumi.ProviderResource, env: string, extra: Partial<VaultConfigArgs> = {}): VaultConfigArgs {
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

function vaultProvider(): Provider {
  return new Provider("vault", { address: "http://127.0.0.1:8200", token: pulumi.secret("t") });
}

function run(build: (p: Provider) => VaultConfigArgs, name = "vault-config"): Promise<ProgramRun> {
  // Returns the URN, not the component: a component as stack output warns about each unset optional field.
  return runProgram({ stack: "test", config: CONFIG, program: () => ({ urn: new VaultConfig(name, build(vaultProvider())).urn }) });
}

const POLICY_PRODUCTION = `# KV v2 data: this environment's secret values, as External Secrets Operator reads them.
path "secret/data/veza/production" {
  capabilities = ["read"]
}

# KV v2 metadata of the same secret (versions and custom metadata, no values).
path "secret/metadata/veza/production" {
  capabilities = ["read"]
}
`;

const children = (r: ProgramRun) => r.resources.filter((x) => x.custom && x.type !== T.provider);
const names = (r: ProgramRun) =>
  children(r)
    .map((x) => `${x.type} ${x.name}`)
    .sort();
const outputsOf = (r: ProgramRun, name = "vault-config") => r.componentOutputs.get(findResource(r, T.component, name).urn) ?? {};

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

    it("protects the KV mount and secret, the database mount and connection, and nothing else", () => {
      const isProtected = children(prod)
        .filter((r) => r.protect)
        .map((r) => r.name)
        .sort();
      assert.deepEqual(isProtected, ["vault-config-database-connection", "vault-config-database-mount", "vault-config-kv-mount", "vault-config-secrets"]);
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

  describe("dev-mode Vault (development)", () => {
    let dev: ProgramRun;
    beforeEach(async () => {
      dev = await run((p) =>
        args(p, "development", {
          createKvMount: false,
          audit: { type: "file", path: "stdout" },
          database: undefined,
          createDatabaseMount: false,
          protect: false,
          kubernetesAuth: {
            audience: "vault",
            roleName: "veza-development-eso",
            boundServiceAccount: { namespace: "veza-development", name: "eso-vault-store" },
            tokenTtlSeconds: 300,
            tokenMaxTtlSeconds: 900,
          },
        }),
      );
    });

    it("creates no Mount (dev mounts secret/ already) and no database resources", () => {
      assert.deepEqual(
        names(dev),
        [
          `${T.audit} vault-config-audit`,
          `${T.authBackend} vault-config-k8s-auth`,
          `${T.policy} vault-config-policy`,
          `${T.authConfig} vault-config-k8s-auth-config`,
          `${T.role} vault-config-k8s-role`,
          `${T.secret} vault-config-secrets`,
        ].sort(),
      );
      assert.equal(resourcesOfType(dev, T.mount).length, 0);
    });

    it("writes into the existing secret/ mount, audits to stdout, protects nothing, honours the TTLs", () => {
      const secret = findResource(dev, T.secret, "vault-config-secrets");
      assert.equal(secret.inputs.mount, "secret");
      assert.equal(secret.inputs.name, "veza/development");
      assert.deepEqual(secret.dependencies, [findResource(dev, T.audit, "vault-config-audit").urn]);
      assert.deepEqual(findResource(dev, T.audit, "vault-config-audit").inputs.options, { file_path: "stdout" });
      assert.ok(children(dev).every((r) => !r.protect));
      const role = findResource(dev, T.role, "vault-config-k8s-role");
      assert.equal(role.inputs.tokenTtl, 300);
      assert.equal(role.inputs.tokenMaxTtl, 900);
    });

    it("grants only KV read in the policy, and outputs no database names", () => {
      assert.deepEqual(policyPaths(String(findResource(dev, T.policy, "vault-config-policy").inputs.policy)), [
        { path: "secret/data/veza/development", capabilities: ["read"] },
        { path: "secret/metadata/veza/development", capabilities: ["read"] },
      ]);
      assert.deepEqual(outputsOf(dev), {
        policyName: "veza-development-read",
        authRole: "veza-development-eso",
        authPath: "kubernetes",
        kvMount: "secret",
        secretPath: "veza/development",
      });
    });
  });

  describe("three environments in one Vault: only the first owns the shared objects", () => {
    let shared: ProgramRun;
    beforeEach(async () => {
      shared = await runProgram({
        stack: "test",
        config: CONFIG,
        program: () => {
          const p = vaultProvider();
          return ENVS.map(
            (env, i) =>
              new VaultConfig(
                env,
                args(p, env, {
                  createKvMount: i === 0,
                  createAuthBackend: i === 0,
                  createAudit: i === 0,
                  createDatabaseMount: false,
                  database: database({ mountPath: `database-${env}` }),
                  protect: false,
                }),
              ),
          );
        },
      });
    });

    it("creates the KV mount, auth method, its config and the audit device once", () => {
      assert.deepEqual(
        resourcesOfType(shared, T.mount).map((r) => r.name),
        ["development-kv-mount"],
      );
      assert.deepEqual(
        resourcesOfType(shared, T.authBackend).map((r) => r.name),
        ["development-k8s-auth"],
      );
      assert.deepEqual(
        resourcesOfType(shared, T.authConfig).map((r) => r.name),
        ["development-k8s-auth-config"],
      );
      assert.deepEqual(
        resourcesOfType(shared, T.audit).map((r) => r.name),
        ["development-audit"],
      );
      assert.equal(resourcesOfType(shared, T.role).length, 3);
      assert.equal(resourcesOfType(shared, T.policy).length, 3);
      // The others' roles point at the shared method by path; their secrets at the shared mount.
      const stagingRole = findResource(shared, T.role, "staging-k8s-role");
      assert.equal(stagingRole.inputs.backend, "kubernetes");
      assert.ok(!stagingRole.dependencies.includes(findResource(shared, T.authConfig, "development-k8s-auth-config").urn));
      assert.equal(findResource(shared, T.secret, "staging-secrets").inputs.mount, "secret");
      assert.equal(findResource(shared, T.connection, "staging-database-connection").inputs.backend, "database-staging");
    });

    for (const own of ENVS) {
      it(`${own}'s policy reads only veza/${own}, no database path, never "*" or sudo`, () => {
        const paths = policyPaths(String(findResource(shared, T.policy, `${own}-policy`).inputs.policy));
        assert.deepEqual(paths, [
          { path: `secret/data/veza/${own}`, capabilities: ["read"] },
          { path: `secret/metadata/veza/${own}`, capabilities: ["read"] },
        ]);
        for (const other of ENVS.filter((e) => e !== own)) {
          assert.ok(
            paths.every((p) => !p.path.includes(other)),
            `${own} names ${other}`,
          );
        }
        assert.ok(paths.every((p) => !p.path.includes("*") && !p.path.includes("+") && !p.capabilities.includes("sudo")));
      });
    }
  });

  describe("policyDocument and policyPaths", () => {
    it("produces the production policy exactly", () => {
      assert.equal(policyDocument({ kvMount: "secret", secretPath: "veza/production" }), POLICY_PRODUCTION);
    });

    for (const own of ENVS) {
      for (const other of ENVS) {
        it(`${own}'s policy ${own === other ? "names" : "does not name"} veza/${other}`, () => {
          const hcl = policyDocument({ kvMount: "secret", secretPath: `veza/${own}` });
          const paths = policyPaths(hcl).map((p) => p.path);
          if (own === other) assert.deepEqual(paths, [`secret/data/veza/${own}`, `secret/metadata/veza/${own}`]);
          else assert.ok(!hcl.includes(`veza/${other}`), hcl);
          assert.ok(!hcl.includes("*") && !hcl.includes("sudo"), hcl);
        });
      }
    }

    it("refuses text it cannot read", () => {
      assert.throws(() => policyPaths(`${POLICY_PRODUCTION}\npath "sys/*" { capabilities = ["sudo"] policy = "deny" }`), /^Error: policyPaths: cannot parse/);
      assert.throws(() => policyPaths('path "a" { capabilities = [read] }'), /^Error: policyPaths: capability read in path "a" is not a quoted word$/);
    });
  });

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

  it("refuses a provider of another package (the SDK would silently use the default Vault provider)", async () => {
    class OtherProvider extends pulumi.ProviderResource {
      constructor() {
        super("kubernetes", "k8s", {});
      }
    }
    const { run: r, error } = await tryRunProgram({
      stack: "test",
      config: CONFIG,
      program: () => new VaultConfig("vault-config", args(new OtherProvider(), "production")),
    });
    assert.ok(error instanceof pulumi.ResourceError, String(error));
    assert.equal(error.message, `[provider] must be a vault.Provider built with Vault's address and token; got a "kubernetes" provider.`);
    assert.equal(children(r).filter((x) => x.type.startsWith("vault:")).length, 0);
  });
});
