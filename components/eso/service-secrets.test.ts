import * as assert from "node:assert/strict";
import { BareResource, findResource, resourcesOfType, runProgram, tryRunProgram, unwrapSecrets } from "../../harness";
import { validateCustomResource } from "../../test/schemas";
import { ServiceSecrets, externalSecretSpec, providerCallsPerRefresh, type ServiceSecretsArgs } from "./service-secrets";

const CONFIG = { "veza-secrets:environment": "development", "veza-secrets:providers": ["vault"] };
const ES = "kubernetes:external-secrets.io/v1:ExternalSecret";
// With per-service database logins the shared Secret carries no database-url (catalog.serviceSecrets).
const SHARED = { name: "veza-secrets", keys: ["redis-url", "jwt-secret", "jwt-secret-previous"] };
const CHAT = { name: "veza-chat-server-secrets", keys: ["database-url", "redis-url", "jwt-secret", "jwt-secret-previous", "chat-server-secret"] };
const DATABASE = {
  key: "database-url",
  generators: { "veza-chat-server-secrets": "veza-chat-server-database" },
  refreshInterval: "2h",
  host: "postgres.veza.internal",
  port: 5432,
  database: "veza",
  sslMode: "require",
};

const vaultArgs: ServiceSecretsArgs = {
  namespace: "veza-production",
  secrets: [SHARED, CHAT],
  source: { kind: "vault-kv", storeName: "vault-store", path: "veza/production" },
  database: DATABASE,
  refreshInterval: "1h",
  deletionPolicy: "Retain",
  secretAnnotations: { "reloader.stakater.com/match": "true" },
};

describe("components/eso/service-secrets", () => {
  it("reads Vault KV in one call, the service's own generated login in another, on the database refresh, and templates exactly the Secret's keys", () => {
    assert.deepEqual(externalSecretSpec(vaultArgs, CHAT), {
      refreshInterval: "2h",
      secretStoreRef: { name: "vault-store", kind: "SecretStore" },
      dataFrom: [
        { extract: { key: "veza/production" } },
        {
          sourceRef: { generatorRef: { apiVersion: "generators.external-secrets.io/v1alpha1", kind: "VaultDynamicSecret", name: "veza-chat-server-database" } },
          rewrite: [{ regexp: { source: "^(.*)$", target: "db_$1" } }],
        },
      ],
      target: {
        name: "veza-chat-server-secrets",
        creationPolicy: "Owner",
        deletionPolicy: "Retain",
        template: {
          engineVersion: "v2",
          type: "Opaque",
          mergePolicy: "Replace",
          metadata: { annotations: { "reloader.stakater.com/match": "true" } },
          data: {
            "database-url": 'postgresql://{{ index . "db_username" }}:{{ index . "db_password" }}@postgres.veza.internal:5432/veza?sslmode=require',
            "redis-url": '{{ index . "redis-url" }}',
            "jwt-secret": '{{ index . "jwt-secret" }}',
            "jwt-secret-previous": '{{ index . "jwt-secret-previous" }}',
            "chat-server-secret": '{{ index . "chat-server-secret" }}',
          },
        },
      },
    });
    assert.equal(providerCallsPerRefresh(vaultArgs, CHAT), 2);
  });

  it("keeps the shared Secret on the ordinary refresh, with no database read", () => {
    const spec = externalSecretSpec(vaultArgs, SHARED) as { refreshInterval: string; dataFrom: unknown[] };
    assert.equal(spec.refreshInterval, "1h");
    assert.deepEqual(spec.dataFrom, [{ extract: { key: "veza/production" } }]);
    assert.equal(providerCallsPerRefresh(vaultArgs, SHARED), 1);
  });

  it("refuses a Secret that carries database-url without a generator of its own", () => {
    assert.throws(() => externalSecretSpec({ ...vaultArgs, database: { ...DATABASE, generators: {} } }, CHAT), {
      message: 'no database generator for the Secret "veza-chat-server-secrets", which carries "database-url"',
    });
  });

  it("adds sslrootcert to database-url when the services' CA path is given", () => {
    const spec = externalSecretSpec({ ...vaultArgs, database: { ...DATABASE, sslMode: "verify-full", sslRootCert: "/etc/veza/postgres/ca.crt" } }, CHAT) as {
      target: { template: { data: Record<string, string> } };
    };
    assert.equal(
      spec.target.template.data["database-url"],
      'postgresql://{{ index . "db_username" }}:{{ index . "db_password" }}@postgres.veza.internal:5432/veza?sslmode=verify-full&sslrootcert=/etc/veza/postgres/ca.crt',
    );
  });

  it("reads one cloud secret per key where the backend keeps one secret per key", () => {
    const args: ServiceSecretsArgs = {
      ...vaultArgs,
      database: undefined,
      source: { kind: "per-key", storeName: "aws-store", remoteKeys: Object.fromEntries(CHAT.keys.map((k) => [k, `veza/production/${k}`])) },
      creationPolicy: "Merge",
      deletionPolicy: undefined,
    };
    const spec = externalSecretSpec(args, CHAT) as { data: unknown; dataFrom?: unknown; target: { creationPolicy: string; deletionPolicy: string } };
    assert.deepEqual(
      spec.data,
      CHAT.keys.map((k) => ({ secretKey: k, remoteRef: { key: `veza/production/${k}` } })),
    );
    assert.equal(spec.dataFrom, undefined);
    assert.deepEqual([spec.target.creationPolicy, spec.target.deletionPolicy], ["Merge", "Delete"]);
    assert.equal(providerCallsPerRefresh(args, CHAT), 5);
    assert.throws(
      () => externalSecretSpec({ ...args, source: { ...args.source, remoteKeys: {} } as ServiceSecretsArgs["source"] }, CHAT),
      /no remote key for "database-url" in the aws-store source/,
    );
  });

  it("registers one valid external-secrets.io/v1 ExternalSecret per Secret, after what it depends on", async () => {
    const run = await runProgram({
      stack: "test",
      config: CONFIG,
      program: () => {
        const store = new BareResource("store");
        new ServiceSecrets("secrets", { ...vaultArgs, dependsOn: [store] });
      },
    });
    const ess = resourcesOfType(run, ES);
    assert.deepEqual(ess.map((e) => (e.inputs.metadata as { name: string }).name).sort(), ["veza-chat-server-secrets", "veza-secrets"]);
    const store = findResource(run, "test:index:Bare", "store");
    for (const es of ess) {
      assert.deepEqual(validateCustomResource(unwrapSecrets(es.inputs)), [], es.name);
      assert.ok(es.dependencies.includes(store.urn), es.name);
      assert.equal(es.parent, findResource(run, "veza:eso:ServiceSecrets", "secrets").urn);
      assert.deepEqual(es.inputs.spec, externalSecretSpec(vaultArgs, es.name.endsWith("chat-server-secrets") ? CHAT : SHARED));
    }
  });

  it("passes the caller's refresh interval, policies and labels through, and templates without annotations when none are given", async () => {
    const args: ServiceSecretsArgs = {
      ...vaultArgs,
      refreshInterval: "37m",
      creationPolicy: undefined,
      deletionPolicy: undefined,
      secretAnnotations: undefined,
      labels: { "veza.io/environment": "staging" },
    };
    const run = await runProgram({ stack: "test", config: CONFIG, program: () => new ServiceSecrets("s", args) });
    const shared = findResource(run, ES, "s-veza-secrets");
    assert.deepEqual(shared.inputs.metadata, {
      name: "veza-secrets",
      namespace: "veza-production",
      labels: { "app.kubernetes.io/part-of": "veza", "app.kubernetes.io/managed-by": "pulumi", "veza.io/environment": "staging" },
    });
    const spec = shared.inputs.spec as {
      refreshInterval: string;
      target: { creationPolicy: string; deletionPolicy: string; template: Record<string, unknown> };
    };
    assert.equal(spec.refreshInterval, "37m");
    assert.deepEqual([spec.target.creationPolicy, spec.target.deletionPolicy], ["Owner", "Delete"]);
    assert.equal(spec.target.template.metadata, undefined);
    assert.deepEqual(run.componentOutputs.get(findResource(run, "veza:eso:ServiceSecrets", "s").urn), {
      externalSecretNames: ["veza-secrets", "veza-chat-server-secrets"],
    });
  });

  it("reads the database credentials only for Secrets that hold database-url, and Vault KV only for Secrets with other keys", () => {
    // A Secret whose only key is database-url reads its service's generator and nothing else.
    const onlyDb = { name: "veza-chat-server-secrets", keys: ["database-url"] };
    const noDb = { name: "no-db", keys: ["redis-url"] };
    const db = externalSecretSpec(vaultArgs, onlyDb) as { dataFrom: { extract?: unknown; sourceRef?: { generatorRef: { name: string } } }[] };
    assert.deepEqual(
      db.dataFrom.map((d) => d.sourceRef?.generatorRef.name),
      ["veza-chat-server-database"],
    );
    assert.equal(providerCallsPerRefresh(vaultArgs, onlyDb), 1);
    const kv = externalSecretSpec(vaultArgs, noDb) as {
      dataFrom: { extract: { key: string }; sourceRef?: unknown }[];
      target: { template: { data: Record<string, string> } };
    };
    assert.deepEqual(kv.dataFrom, [{ extract: { key: "veza/production" } }]);
    assert.deepEqual(kv.target.template.data, { "redis-url": '{{ index . "redis-url" }}' });
    assert.equal(providerCallsPerRefresh(vaultArgs, noDb), 1);
    assert.equal(providerCallsPerRefresh({ ...vaultArgs, database: undefined }, SHARED), 1);
    // Without a database source, database-url is an ordinary key of the KV secret.
    const plain = externalSecretSpec({ ...vaultArgs, database: undefined }, onlyDb) as {
      dataFrom: unknown[];
      target: { template: { data: Record<string, string> } };
    };
    assert.deepEqual(plain.dataFrom, [{ extract: { key: "veza/production" } }]);
    assert.deepEqual(plain.target.template.data, { "database-url": '{{ index . "database-url" }}' });
    const empty = externalSecretSpec({ ...vaultArgs, source: { kind: "per-key", storeName: "aws-store", remoteKeys: {} } }, onlyDb) as {
      data: unknown[];
      dataFrom: unknown[];
    };
    assert.deepEqual(empty.data, []);
    assert.equal(empty.dataFrom.length, 1);
    assert.equal(providerCallsPerRefresh({ ...vaultArgs, database: undefined, source: { kind: "per-key", storeName: "s", remoteKeys: {} } }, { keys: [] }), 0);
    assert.equal(providerCallsPerRefresh({ ...vaultArgs, database: undefined }, { keys: [] }), 0);
  });

  it("refuses a Secret key the per-key source has no remote key for, naming it, creating nothing", async () => {
    const { run, error } = await tryRunProgram({
      stack: "test",
      config: CONFIG,
      program: () =>
        new ServiceSecrets("s", { ...vaultArgs, database: undefined, source: { kind: "per-key", storeName: "aws-store", remoteKeys: { "redis-url": "r" } } }),
    });
    assert.equal(error?.message, '[source] no remote key for "jwt-secret" in the aws-store source: every key of every Secret needs one.');
    assert.deepEqual(resourcesOfType(run, ES), []);
  });
});
