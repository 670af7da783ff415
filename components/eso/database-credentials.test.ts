import * as assert from "node:assert/strict";
import { Provider } from "@pulumi/kubernetes/provider";
import { BareResource, findResource, resourcesOfType, runProgram, tryRunProgram, unwrapSecrets, type ProgramRun } from "../../harness";
import { validateCustomResource } from "../../test/schemas";
import { DatabaseCredentials, generatorSpec, migrationExternalSecretSpec, type DatabaseCredentialsArgs } from "./database-credentials";

const CONFIG = { "veza-secrets:environment": "production", "veza-secrets:providers": ["vault"] };
const GENERATOR = "kubernetes:generators.external-secrets.io/v1alpha1:VaultDynamicSecret";
const SA = "kubernetes:core/v1:ServiceAccount";
const VAULT = { server: "https://vault.vault-system.svc:8200", authMountPath: "kubernetes", audience: "vault", caConfigMap: "vault-ca" };
const DB = { host: "postgres.veza.internal", port: 5432, name: "veza", sslMode: "require" };

const args = (extra: Partial<DatabaseCredentialsArgs> = {}): DatabaseCredentialsArgs => ({
  namespace: "veza-production",
  vault: VAULT,
  services: ["backend-api", "chat-server"].map((s) => ({
    service: s,
    generatorName: `veza-${s}-database`,
    serviceAccount: `eso-db-${s}`,
    role: `eso-veza-production-db-${s}`,
    credsPath: `database/creds/veza-${s}`,
  })),
  database: DB,
  migrations: {
    secretName: "veza-migrations-secrets",
    key: "database-url",
    storeName: "vault-migrations-store",
    staticCredsPath: "database/static-creds/veza-app",
    jobServiceAccount: "veza-migrations",
    refreshInterval: "5m",
  },
  deletionPolicy: "Retain",
  ...extra,
});

describe("components/eso/database-credentials", () => {
  let run: ProgramRun;
  beforeEach(async () => {
    run = await runProgram({
      stack: "test",
      config: CONFIG,
      program: () => {
        const release = new BareResource("eso-release");
        new DatabaseCredentials("database-credentials", { ...args(), dependsOn: [release] });
      },
    });
  });

  it("makes each service a generator that logs in as its own ServiceAccount and reads its own creds path", () => {
    assert.deepEqual(
      generatorSpec(VAULT, { serviceAccount: "eso-db-backend-api", role: "eso-veza-production-db-backend-api", credsPath: "database/creds/veza-backend-api" }),
      {
        path: "database/creds/veza-backend-api",
        method: "GET",
        resultType: "Data",
        provider: {
          server: "https://vault.vault-system.svc:8200",
          caProvider: { type: "ConfigMap", name: "vault-ca", key: "ca.crt" },
          auth: {
            kubernetes: {
              mountPath: "kubernetes",
              role: "eso-veza-production-db-backend-api",
              serviceAccountRef: { name: "eso-db-backend-api", audiences: ["vault"] },
            },
          },
        },
      },
    );
    const generators = resourcesOfType(run, GENERATOR);
    assert.deepEqual(
      generators.map((g) => (g.inputs.metadata as { name: string }).name),
      ["veza-backend-api-database", "veza-chat-server-database"],
    );
    const release = findResource(run, "test:index:Bare", "eso-release");
    for (const g of generators) {
      assert.deepEqual(validateCustomResource(unwrapSecrets(g.inputs)), [], g.name);
      assert.ok(g.dependencies.includes(release.urn), `${g.name} waits for the ESO release (CRD)`);
      const sa = findResource(run, SA, g.name);
      assert.ok(g.dependencies.includes(sa.urn), `${g.name} waits for its ServiceAccount`);
    }
  });

  it("gives the services' generator accounts no mounted token, and the migration Job an account that reads only its Secret", () => {
    const accounts = resourcesOfType(run, SA).map((r) => [(r.inputs.metadata as { name: string }).name, r.inputs.automountServiceAccountToken]);
    assert.deepEqual(accounts, [
      ["eso-db-backend-api", false],
      ["eso-db-chat-server", false],
      ["veza-migrations", false],
    ]);
    const role = findResource(run, "kubernetes:rbac.authorization.k8s.io/v1:Role", "database-credentials-migrations-reader");
    assert.deepEqual(role.inputs.rules, [{ apiGroups: [""], resources: ["secrets"], resourceNames: ["veza-migrations-secrets"], verbs: ["get"] }]);
    const binding = findResource(run, "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", "database-credentials-migrations-reader");
    assert.deepEqual(binding.inputs.subjects, [{ kind: "ServiceAccount", name: "veza-migrations", namespace: "veza-production" }]);
  });

  it("builds the migration Secret from the static credentials through the migration store, valid for ESO", () => {
    const es = findResource(run, "kubernetes:external-secrets.io/v1:ExternalSecret", "database-credentials-migrations");
    assert.deepEqual(es.inputs.spec, migrationExternalSecretSpec(args().migrations as NonNullable<DatabaseCredentialsArgs["migrations"]>, DB, "Retain"));
    assert.deepEqual(es.inputs.spec, {
      refreshInterval: "5m",
      secretStoreRef: { name: "vault-migrations-store", kind: "SecretStore" },
      dataFrom: [{ extract: { key: "database/static-creds/veza-app" } }],
      target: {
        name: "veza-migrations-secrets",
        creationPolicy: "Owner",
        deletionPolicy: "Retain",
        template: {
          engineVersion: "v2",
          type: "Opaque",
          mergePolicy: "Replace",
          data: { "database-url": "postgresql://{{ .username }}:{{ .password }}@postgres.veza.internal:5432/veza?sslmode=require" },
        },
      },
    });
    assert.deepEqual(validateCustomResource(unwrapSecrets(es.inputs)), []);
  });

  for (const [what, field, message] of [
    ["a ServiceAccount", "serviceAccount", '[services] binds the ServiceAccount "veza-shared" twice; each service needs its own identity.'],
    ["a generator name", "generatorName", '[services] names the generator "veza-shared" twice; each service needs its own.'],
  ] as const) {
    it(`refuses two services sharing ${what}, creating nothing`, async () => {
      const shared = args().services.map((s) => ({ ...s, [field]: "veza-shared" }));
      const { run: failed, error } = await tryRunProgram({
        stack: "test",
        config: CONFIG,
        program: () => new DatabaseCredentials("bad", args({ services: shared })),
      });
      assert.ok(error?.message.includes(message), String(error));
      assert.deepEqual(
        failed.resources.filter((r) => r.custom),
        [],
      );
    });
  }
});

describe("components/eso/database-credentials: ownership, labels, dependencies, outputs", () => {
  const ES = "kubernetes:external-secrets.io/v1:ExternalSecret";
  let run: ProgramRun;
  beforeEach(async () => {
    run = await runProgram({
      stack: "test",
      config: CONFIG,
      program: () => {
        const release = new BareResource("eso-release");
        const provider = new Provider("cluster", {});
        new DatabaseCredentials("database-credentials", { ...args(), dependsOn: [release], provider, labels: { team: "platform" } });
      },
    });
  });

  it("parents every child on the component with the caller's provider, and labels each as Veza's, managed by Pulumi", () => {
    const owner = findResource(run, "veza:eso:DatabaseCredentials", "database-credentials");
    const provider = findResource(run, "pulumi:providers:kubernetes", "cluster");
    const children = run.resources.filter((r) => r.custom && !r.type.startsWith("pulumi:providers:") && r.type !== "test:index:Bare");
    // Per service a ServiceAccount and a generator; for migrations an ExternalSecret, a ServiceAccount, a Role and a RoleBinding.
    assert.equal(children.length, 2 * args().services.length + 4);
    const base = { "app.kubernetes.io/part-of": "veza", "app.kubernetes.io/managed-by": "pulumi", team: "platform" };
    for (const r of children) {
      assert.equal(r.parent, owner.urn, r.name);
      assert.ok(r.provider.startsWith(`${provider.urn}::`), r.name);
      const labels = (r.inputs.metadata as { labels: Record<string, string> }).labels;
      assert.deepEqual(
        { ...labels, "app.kubernetes.io/component": undefined, "app.kubernetes.io/name": undefined },
        { ...base, "app.kubernetes.io/component": undefined, "app.kubernetes.io/name": undefined },
        r.name,
      );
    }
    for (const s of args().services) {
      const sa = findResource(run, SA, `database-credentials-${s.service}`);
      assert.equal((sa.inputs.metadata as { labels: Record<string, string> }).labels["app.kubernetes.io/component"], "database-credentials");
    }
  });

  it("binds the migration reader Role to the migration Job's account by exact names", () => {
    const role = findResource(run, "kubernetes:rbac.authorization.k8s.io/v1:Role", "database-credentials-migrations-reader");
    const binding = findResource(run, "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", "database-credentials-migrations-reader");
    assert.equal((role.inputs.metadata as { name: string }).name, "secrets-reader-migrations");
    assert.equal((binding.inputs.metadata as { name: string }).name, "secrets-reader-migrations");
    assert.deepEqual(binding.inputs.roleRef, { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "secrets-reader-migrations" });
    assert.deepEqual(binding.inputs.subjects, [{ kind: "ServiceAccount", name: "veza-migrations", namespace: "veza-production" }]);
  });

  it("creates the migration ExternalSecret after what the caller names (the ESO release)", () => {
    const es = findResource(run, ES, "database-credentials-migrations");
    assert.ok(es.dependencies.includes(findResource(run, "test:index:Bare", "eso-release").urn));
  });

  it("registers the generator names, the generators and the migration Secret's name as outputs", () => {
    const owner = findResource(run, "veza:eso:DatabaseCredentials", "database-credentials");
    const outputs = run.componentOutputs.get(owner.urn) ?? {};
    assert.deepEqual(Object.keys(outputs).sort(), ["generatorNames", "generators", "migrationSecretName"]);
    assert.deepEqual(outputs.generatorNames, Object.fromEntries(args().services.map((s) => [s.service, s.generatorName])));
    assert.equal(outputs.migrationSecretName, "veza-migrations-secrets");
  });
});
