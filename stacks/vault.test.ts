/**
 * The stack layer's Vault (stacks/vault.ts): what `buildVault` makes of each stack's config,
 * one run of the Vault part alone (harness/vault-slice.ts) per test. Expected values come from
 * the validated config and the naming rules, never from the program's output.
 */
import * as assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { SERVICES } from "../components/catalog";
import { bootstrapScript } from "../components/vault/bootstrap";
import { VAULT_APP_VERSION } from "../components/vault/cluster-args";
import { findResource, resourcesOfType, stackConfig, unwrapSecrets, type ProgramRun, type RecordedResource } from "../harness";
import { problemsAfterFix, prompt, stackFile, substitute } from "../test/fix-check";
import { applyLine } from "../test/pulumi-cli";
import { runVaultSlice } from "../harness/vault-slice";
import type { StackConfig } from "./config-model";
import { validatedConfig } from "./config-fixtures";
import { databaseAuthRoleName, databasePolicyName, databaseRoleName, staticRoleName } from "./database";
import { bootstrapOptions, deployerNames, deployerPolicyOptions } from "./vault";

const P = "veza-secrets";
/** A PEM CA certificate (the committed example), for settings that take one inline. */
const stackConfigCa = (): string => readFileSync(join(__dirname, "..", "certs", "vault-ca.pem"), "utf8");
const PROVIDER = "pulumi:providers:vault";
const AUDIT = "vault:index/audit:Audit";
const MOUNT = "vault:index/mount:Mount";
const JWT_BACKEND = "vault:jwt/authBackend:AuthBackend";
const JWT_ROLE = "vault:jwt/authBackendRole:AuthBackendRole";

type Overrides = Record<string, unknown>;
/** The stack's validated config (as the program sees it) and its Vault part's run. */
async function vaultOf(
  stack: string,
  overrides: Overrides = {},
  extraSecrets: Record<string, string> = {},
): Promise<{ config: StackConfig; vault: NonNullable<StackConfig["vault"]>; secrets: Record<string, string>; run: ProgramRun }> {
  const { secrets, config } = validatedConfig(stack, overrides, extraSecrets);
  assert.ok(config.vault, `${stack} has no vault section`);
  return { config, vault: config.vault, secrets, run: await runVaultSlice(stack, overrides, secrets) };
}

const release = (run: ProgramRun) => findResource(run, "kubernetes:helm.sh/v3:Release", "vault");
const serverValues = (run: ProgramRun) => (unwrapSecrets(release(run).inputs.values) as { server: Record<string, unknown> }).server;
const inputs = (r: RecordedResource) => unwrapSecrets(r.inputs) as Record<string, unknown>;
const auditPaths = (run: ProgramRun) => resourcesOfType(run, AUDIT).map((a) => [a.inputs.path, (a.inputs.options as { file_path: string }).file_path]);

describe("stack layer: Vault per stack (stacks/vault.ts)", () => {
  it("development: dev mode with the stack's root token and NodePort, configured at once with the token, on dev's built-in KV and audit to stdout", async () => {
    const { vault, secrets, run } = await vaultOf("development");
    const server = serverValues(run);
    const token = secrets[`${P}:vaultDevRootToken`];
    assert.ok(token);
    assert.deepEqual(server.dev, { enabled: true, devRootToken: token });
    assert.equal((unwrapSecrets(release(run).inputs.values) as { ui: { serviceNodePort: number } }).ui.serviceNodePort, vault.devNodePort);
    assert.equal((server.ha as { enabled: boolean }).enabled, false);

    const provider = inputs(findResource(run, PROVIDER, "vault"));
    assert.equal(provider.address, vault.address);
    assert.equal(provider.token, token);
    assert.equal(provider.authLoginJwt, undefined);
    assert.equal(provider.caCertFile, undefined);
    assert.equal(provider.skipChildToken, "true");
    assert.equal(provider.maxRetries, "10");
    assert.equal(provider.vaultVersionOverride, VAULT_APP_VERSION);
    assert.ok(findResource(run, PROVIDER, "vault").dependencies.includes(release(run).urn), "the provider waits for the release");

    assert.deepEqual(resourcesOfType(run, MOUNT), [], "dev mode mounts secret/ itself, and there is no database engine");
    assert.equal(findResource(run, "vault:index/authBackend:AuthBackend", "vault-config-k8s-auth").inputs.type, "kubernetes");
    assert.deepEqual(server.extraLabels, { "veza.io/environment": "development" });
    const vaultConfig = run.resources.find((r) => r.name === "vault-config" && !r.custom);
    assert.ok(vaultConfig?.dependencies.includes(release(run).urn), "Vault's configuration waits for the release");
    assert.deepEqual(auditPaths(run), [["file", "stdout"]]);
    assert.deepEqual(resourcesOfType(run, JWT_BACKEND), [], "no deployer login in dev mode");
    const kv = inputs(findResource(run, "vault:kv/secretV2:SecretV2", "vault-config-secrets"));
    assert.equal(kv.name, "veza/development");
    assert.equal(kv.mount, "secret");
  });

  it("HA before the bootstrap: only the release, whose sealed pods count as ready; no provider, nothing configured", async () => {
    const { run } = await vaultOf("staging", { [`${P}:vault`]: { bootstrapped: false } });
    assert.deepEqual(
      run.resources.filter((r) => r.custom).map((r) => r.type),
      ["kubernetes:helm.sh/v3:Release"],
    );
    assert.match((serverValues(run).readinessProbe as { path: string }).path, /sealedcode=204&uninitcode=204/);
    const after = await vaultOf("staging");
    assert.doesNotMatch((serverValues(after.run).readinessProbe as { path: string }).path, /sealedcode/);
    assert.deepEqual(after.run.warnings, [], "nothing to warn of once bootstrapped");
  });

  it("before the bootstrap, pulumi up warns once, naming the README section and a command that, pasted, marks the stack bootstrapped", async () => {
    const row = { stack: "staging", overrides: { [`${P}:vault`]: { ...(stackConfig("staging")[`${P}:vault`] as object), bootstrapped: false } } };
    const { run } = await vaultOf(row.stack, row.overrides);
    assert.equal(run.warnings.length, 1, JSON.stringify(run.warnings));
    const m = /^Vault is installed but not configured: it needs the one-time bootstrap \(README, "Bootstrapping Vault"\), then (pulumi config set .+)\.$/.exec(
      run.warnings[0],
    );
    assert.ok(m, run.warnings[0]);
    const file = stackFile(row);
    assert.deepEqual(applyLine(file, m[1], { project: P, prompt, substitute }), [row.stack], "the command names the stack");
    assert.equal((file[`${P}:vault`] as { bootstrapped: unknown }).bootstrapped, true, "a boolean, as the CLI stores it");
    assert.deepEqual(problemsAfterFix(row, m[1]), [], "the stack is valid afterwards");
  });

  it("HA after the bootstrap: the stack's replicas, TLS and storage; the provider logs in with the deploy job's OIDC token and trusts the stack's CA", async () => {
    for (const stack of ["staging", "production"]) {
      const { vault, run } = await vaultOf(stack);
      const server = serverValues(run);
      assert.equal((server.ha as { replicas: number; enabled: boolean }).replicas, vault.replicas, stack);
      assert.equal((server.dev as { enabled: boolean }).enabled, false, stack);
      assert.equal((server.dataStorage as { size: string }).size, vault.storageSize, stack);
      assert.equal((server.auditStorage as { size: string }).size, vault.auditStorageSize, stack);
      assert.ok(JSON.stringify(release(run).inputs.values).includes(`"${vault.tlsSecretName}"`), `${stack}: the TLS secret is mounted`);

      const provider = inputs(findResource(run, PROVIDER, "vault"));
      assert.equal(provider.address, vault.address);
      assert.deepEqual(JSON.parse(provider.authLoginJwt as string), { mount: "jwt-github", role: vault.login.role });
      assert.equal(vault.login.role, deployerNames(stack).role);
      assert.equal(provider.token, undefined, `${stack}: no stored token`);
      assert.equal(provider.caCertFile, vault.caCertFile);
      assert.ok(vault.caCertFile);
    }
  });

  it("HA: its own KV v2 mount; no audit device (the operator's bootstrap enables them)", async () => {
    const { run } = await vaultOf("staging");
    assert.deepEqual(
      resourcesOfType(run, MOUNT)
        .map((m) => [m.inputs.path, m.inputs.type])
        .sort(),
      [
        ["database", "database"],
        ["secret", "kv"],
      ],
    );
    assert.deepEqual((findResource(run, MOUNT, "vault-config-kv-mount").inputs.options as { version: string }).version, "2");
    assert.deepEqual(auditPaths(run), []);
  });

  it("the store's Kubernetes auth role binds the SecretStore's account to the environment's read policy", async () => {
    for (const stack of ["development", "staging"]) {
      const { config, run } = await vaultOf(stack);
      const role = inputs(findResource(run, "vault:kubernetes/authBackendRole:AuthBackendRole", "vault-config-k8s-role"));
      assert.equal(role.roleName, `eso-veza-${stack}`);
      assert.equal(role.backend, "kubernetes");
      assert.equal(role.audience, "vault");
      assert.deepEqual(role.boundServiceAccountNames, ["eso-vault-store"]);
      assert.deepEqual(role.boundServiceAccountNamespaces, [config.namespaces.workloads]);
      assert.deepEqual(role.tokenPolicies, [`veza-${stack}-read`]);
    }
  });

  it("the database engine: the stack's connection, the schema owner's static role on the stack's schedule, one dynamic role per service, then each service's identity", async () => {
    const { config, secrets, run } = await vaultOf("staging");
    const db = config.database as NonNullable<StackConfig["database"]>;
    const connection = inputs(findResource(run, "vault:database/secretBackendConnection:SecretBackendConnection", "vault-config-database-connection"));
    const postgres = connection.postgresql as { connectionUrl: string; username: string; password: string };
    assert.equal(postgres.connectionUrl, `postgresql://{{username}}:{{password}}@${db.host}:${db.port}/${db.name}?sslmode=${db.sslMode}`);
    assert.equal(postgres.username, db.adminUsername);
    assert.equal(postgres.password, secrets[`${P}:databaseAdminPassword`]);
    assert.ok(postgres.password);
    assert.equal(connection.verifyConnection, db.verifyConnection);
    assert.deepEqual(connection.allowedRoles, [staticRoleName(db.appUsername), ...SERVICES.map(databaseRoleName)]);

    const staticRole = inputs(findResource(run, "vault:database/secretBackendStaticRole:SecretBackendStaticRole", "vault-config-static-role"));
    assert.equal(staticRole.name, staticRoleName(db.appUsername));
    assert.equal(staticRole.username, db.appUsername);
    assert.equal(staticRole.rotationSchedule, db.rotationSchedule);

    for (const role of resourcesOfType(run, "vault:database/secretBackendRole:SecretBackendRole"))
      assert.equal(role.inputs.dbName, connection.name, String(role.inputs.name));
    // The deployer's policy names the engine as it is made: the same mount, connection and static role.
    const engine = deployerPolicyOptions(config).database;
    const mount = resourcesOfType(run, MOUNT).find((m) => m.inputs.type === "database");
    assert.equal(mount?.inputs.path, engine?.mountPath);
    assert.equal(connection.backend, engine?.mountPath);
    assert.equal(connection.name, engine?.connection.name);
    assert.deepEqual(
      engine?.staticRoles.map((r) => r.name),
      [staticRole.name],
    );
    const dynamic = resourcesOfType(run, "vault:database/secretBackendRole:SecretBackendRole").map((r) => r.inputs.name);
    assert.deepEqual(dynamic.sort(), SERVICES.map(databaseRoleName).sort());
    const access = run.resources.find((r) => r.name === "database-access" && !r.custom);
    const connectionUrn = findResource(run, "vault:database/secretBackendConnection:SecretBackendConnection", "vault-config-database-connection").urn;
    assert.ok(access?.dependencies.includes(connectionUrn), "the identities wait for the connection");
    for (const service of SERVICES) {
      const policy = resourcesOfType(run, "vault:index/policy:Policy").find((p) => p.inputs.name === databasePolicyName("staging", service));
      assert.ok(policy, service);
      const authRole = resourcesOfType(run, "vault:kubernetes/authBackendRole:AuthBackendRole").find(
        (r) => r.inputs.roleName === databaseAuthRoleName("staging", service),
      );
      assert.deepEqual(authRole?.inputs.tokenPolicies, [databasePolicyName("staging", service)]);
    }
  });

  it("without a database section: no database mount, connection or identities", async () => {
    const { run } = await vaultOf("staging", { [`${P}:database`]: undefined });
    assert.deepEqual(
      resourcesOfType(run, MOUNT).map((m) => m.inputs.path),
      ["secret"],
    );
    assert.equal(
      run.resources.some((r) => r.type.startsWith("vault:database/") || r.name === "database-access"),
      false,
    );
  });

  it("configures no jwt login, no audit device and no policy of its own outside dev mode: those are the operator's bootstrap", async () => {
    for (const stack of ["staging", "production"]) {
      const { run } = await vaultOf(stack);
      const names = deployerNames(stack);
      assert.deepEqual(resourcesOfType(run, JWT_BACKEND), [], stack);
      assert.deepEqual(resourcesOfType(run, JWT_ROLE), [], stack);
      assert.deepEqual(resourcesOfType(run, AUDIT), [], stack);
      const policies = resourcesOfType(run, "vault:index/policy:Policy").map((p) => p.inputs.name);
      assert.ok(!policies.includes(names.policy) && !policies.includes(names.previewPolicy), `${stack}: ${policies.join(", ")}`);
    }
  });

  it("Pulumi issuer: the provider takes ESC's vault-login token from VAULT_TOKEN (no jwt login of its own, no stored token)", async () => {
    const pulumi = await vaultOf("staging", {
      [`${P}:vault`]: { login: { method: "jwt", issuer: "pulumi", pulumiOrganization: "veza-org", githubRepository: undefined } },
    });
    const provider = inputs(findResource(pulumi.run, PROVIDER, "vault"));
    assert.equal(provider.authLoginJwt, undefined);
    assert.equal(provider.token, undefined);
  });

  it("a stored token (login method token): the provider uses it, and no jwt login is configured", async () => {
    const overrides = { [`${P}:vault`]: { login: { method: "token", githubRepository: undefined } } };
    const token = "hvs.operator-supplied-token";
    const { run } = await vaultOf("staging", overrides, { [`${P}:vaultToken`]: token });
    const provider = inputs(findResource(run, PROVIDER, "vault"));
    assert.equal(provider.token, token);
    assert.equal(provider.authLoginJwt, undefined);
    assert.deepEqual(resourcesOfType(run, JWT_BACKEND), []);
  });

  it("production protects Vault's stateful resources; staging does not", async () => {
    const stateful = ["vault-config-kv-mount", "vault-config-secrets", "vault-config-database-mount", "vault-config-database-connection"];
    for (const stack of ["staging", "production"]) {
      const { config, run } = await vaultOf(stack);
      for (const name of stateful) assert.equal(run.resources.find((r) => r.name === name && r.custom)?.protect, config.protect, `${stack}: ${name}`);
      assert.equal(release(run).protect, config.protect, `${stack}: the release`);
    }
  });
});

describe("stack layer: the deployer's Vault policy inputs (stacks/vault.ts)", () => {
  it("names the deployer's roles and policies per environment", () => {
    assert.deepEqual(deployerNames("production"), {
      role: "pulumi-production",
      previewRole: "pulumi-production-preview",
      policy: "veza-production-pulumi",
      previewPolicy: "veza-production-pulumi-preview",
    });
  });

  it("pins exactly what the program registers: the deployer policy admits each write of the staging stack, field by field", async () => {
    const { config, run } = await vaultOf("staging");
    const options = deployerPolicyOptions(config);
    // Every managed policy's document is the one the program writes.
    const written = Object.fromEntries(
      resourcesOfType(run, "vault:index/policy:Policy").map((p) => [p.inputs.name as string, unwrapSecrets(p.inputs.policy) as string]),
    );
    assert.deepEqual(Object.fromEntries(options.managedPolicies.map((p) => [p.name, p.document])), written);
    // Every Kubernetes auth role: the same ServiceAccount, namespace, policy and audience.
    const roles = resourcesOfType(run, "vault:kubernetes/authBackendRole:AuthBackendRole").map((r) => inputs(r));
    assert.deepEqual(
      options.kubernetesAuth.roles.map((r) => [r.name, [r.serviceAccount.name], [r.serviceAccount.namespace], [r.policy], r.audience]).sort(),
      roles.map((r) => [r.roleName, r.boundServiceAccountNames, r.boundServiceAccountNamespaces, r.tokenPolicies, r.audience]).sort(),
    );
    const k8sConfig = inputs(findResource(run, "vault:kubernetes/authBackendConfig:AuthBackendConfig", "vault-config-k8s-auth-config"));
    assert.equal(options.kubernetesAuth.config.host, k8sConfig.kubernetesHost);
    assert.equal(options.kubernetesAuth.config.caCert, k8sConfig.kubernetesCaCert);
    // The database: connection URL, user, roles, and every statement list.
    const connection = inputs(findResource(run, "vault:database/secretBackendConnection:SecretBackendConnection", "vault-config-database-connection"));
    const pg = connection.postgresql as Record<string, unknown>;
    const db = options.database;
    assert.ok(db);
    assert.equal(db.connection.url, pg.connectionUrl);
    assert.equal(db.connection.username, pg.username);
    assert.equal(db.connection.passwordAuthentication, pg.passwordAuthentication);
    assert.deepEqual([...db.connection.allowedRoles].sort(), [...(connection.allowedRoles as string[])].sort());
    assert.deepEqual(db.connection.rootRotationStatements, connection.rootRotationStatements);
    const staticRole = inputs(findResource(run, "vault:database/secretBackendStaticRole:SecretBackendStaticRole", "vault-config-static-role"));
    assert.deepEqual(db.staticRoles, [
      { name: staticRole.name, dbName: staticRole.dbName, username: staticRole.username, rotationStatements: staticRole.rotationStatements },
    ]);
    const dynamic = resourcesOfType(run, "vault:database/secretBackendRole:SecretBackendRole").map((r) => inputs(r));
    assert.deepEqual(
      db.dynamicRoles.map((r) => [r.name, r.dbName, r.creationStatements, r.revocationStatements, r.renewStatements]).sort(),
      dynamic.map((r) => [r.name, r.dbName, r.creationStatements, r.revocationStatements, r.renewStatements ?? []]).sort(),
    );
    assert.equal(db.mountPath, resourcesOfType(run, MOUNT).find((m) => m.inputs.type === "database")?.inputs.path);
  });

  it("bootstraps GitHub's deploy and preview roles bound to the repository (and its id), the environment and main, with the policies it writes; no preview login for production", () => {
    for (const stack of ["staging", "production"] as const) {
      const { config } = validatedConfig(stack, { [`${P}:vault`]: { login: { githubRepositoryId: 4242 } } });
      const o = bootstrapOptions(config);
      const names = deployerNames(stack);
      const repo = { repository: config.vault?.login.githubRepository, repository_id: "4242" };
      const preview = {
        name: names.previewRole,
        policy: names.previewPolicy,
        boundAudiences: ["vault"],
        boundClaims: { ...repo, environment: `${stack}-preview` },
      };
      assert.deepEqual(o.jwt, [
        {
          path: "jwt-github",
          description: "GitHub Actions OIDC: the program's deploys and previews.",
          issuer: "https://token.actions.githubusercontent.com",
          roles: [
            { name: names.role, policy: names.policy, boundAudiences: ["vault"], boundClaims: { ...repo, environment: stack, ref: "refs/heads/main" } },
            // Production is not previewed with credentials on pull requests (issue 29 #6).
            ...(stack === "production" ? [] : [preview]),
          ],
        },
      ]);
      assert.deepEqual(
        o.policies.map((p) => p.name),
        stack === "production" ? [names.policy] : [names.policy, names.previewPolicy],
        stack,
      );
    }
    const o = bootstrapOptions(validatedConfig("production").config);
    assert.deepEqual(
      o.auditDevices.map((a) => [a.path, a.filePath]),
      [
        ["file", "/vault/audit/vault_audit.log"],
        ["stdout", "stdout"],
      ],
    );
    assert.equal(o.tokenTtlSeconds, 3600);
  });

  it("bootstraps a Pulumi ESC vault-login role bound to the organization and the stack's ESC environment", () => {
    const { config } = validatedConfig("staging", {
      [`${P}:vault`]: { login: { method: "jwt", issuer: "pulumi", pulumiOrganization: "veza-org", githubRepository: undefined } },
    });
    assert.deepEqual(bootstrapOptions(config).jwt, [
      {
        path: "jwt-pulumi",
        description: "Pulumi ESC vault-login: the program's Pulumi Deployments runs.",
        issuer: "https://api.pulumi.com/oidc",
        roles: [
          {
            name: deployerNames("staging").role,
            policy: deployerNames("staging").policy,
            boundAudiences: ["veza-org"],
            boundClaims: { sub: "pulumi:environments:org:veza-org:env:veza-secrets/staging" },
          },
        ],
      },
    ]);
  });

  it("an external Vault's bootstrap enables no audit device (its operator's) and pins its API server and CA", () => {
    const ca = stackConfigCa();
    const { config } = validatedConfig("staging", {
      [`${P}:vault`]: {
        install: false,
        replicas: undefined,
        tlsSecretName: undefined,
        kubernetesHost: "https://203.0.113.10:6443",
        kubernetesCaCert: ca,
        kubernetesApiAudience: "https://kubernetes.default.svc.cluster.local",
      },
    });
    assert.deepEqual(bootstrapOptions(config).auditDevices, []);
    assert.deepEqual(deployerPolicyOptions(config).kubernetesAuth.config, { host: "https://203.0.113.10:6443", caCert: ca });
    assert.equal(bootstrapOptions(config).autopilot, undefined, "an external Vault's Raft is its operator's");
  });

  it("turns on Raft autopilot's dead-server cleanup for the HA Vault it installs, never below its replicas (issue 31)", () => {
    for (const [stack, replicas] of [
      ["staging", undefined],
      ["production", 5],
    ] as const) {
      const { config } = validatedConfig(stack, replicas ? { [`${P}:vault`]: { ...(stackConfig(stack)[`${P}:vault`] as object), replicas } } : {});
      const o = bootstrapOptions(config);
      assert.deepEqual(o.autopilot, { deadServerLastContactThreshold: "10m", minQuorum: replicas ?? 3 }, stack);
      assert.ok(
        bootstrapScript(o).includes(
          `vault operator raft autopilot set-config -cleanup-dead-servers=true -dead-server-last-contact-threshold=10m -min-quorum=${replicas ?? 3}\n`,
        ),
        stack,
      );
    }
    assert.equal(bootstrapOptions(validatedConfig("development").config).autopilot, undefined, "a dev server has no Raft");
    assert.throws(
      () => bootstrapScript({ ...bootstrapOptions(validatedConfig("staging").config), autopilot: { deadServerLastContactThreshold: "10m", minQuorum: 1 } }),
      /minQuorum/,
    );
  });
});
