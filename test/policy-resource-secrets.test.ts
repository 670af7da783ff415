/**
 * The policy pack's resource policies on secret values (policy/): plain text in ConfigMaps, env
 * and Helm values, ExternalSecrets' stores, raw audit logs, encryption keys and key length;
 * each against one violating and one compliant resource, with the exact message.
 */
import * as assert from "node:assert/strict";
import * as P from "../policy/policies";
import { type FakeResource, UNKNOWN_STRING, validateResource } from "./policy-args";
import { messages } from "./policy-fixtures";

const ESO_FIX = "put it in the secret backend and let an ExternalSecret produce a Kubernetes Secret instead";
const HELM_FIX = "reference a Kubernetes Secret from the chart (e.g. extraSecretEnvironmentVars) instead of putting the value in values";

describe("policy pack: resource policies (one violating, one compliant each)", () => {
  it("configmap-no-plaintext-secrets", async () => {
    const cm = (data: Record<string, string>): FakeResource => ({
      type: "kubernetes:core/v1:ConfigMap",
      name: "cm",
      props: { metadata: { name: "app-config" }, data },
    });
    assert.deepEqual(
      await messages(P.configMapNoPlaintextSecrets, cm({ "smtp-password": "hunter2", DATABASE: "postgresql://veza:pw@db/veza", "app.hcl": 'token = "s.x"' })),
      [
        `ConfigMap "app-config" key "smtp-password" holds a secret in plain text: ${ESO_FIX}.`,
        `ConfigMap "app-config" key "DATABASE" holds a URL with a password in it: ${ESO_FIX}.`,
        `ConfigMap "app-config" key "app.hcl" sets token in plain text: ${ESO_FIX}.`,
      ],
    );
    assert.deepEqual(
      await messages(P.configMapNoPlaintextSecrets, cm({ "ca.crt": "-----BEGIN CERTIFICATE-----\nMIIB", LOG_LEVEL: "info", "smtp-password": "" })),
      [],
    );
  });

  it("env-no-secret-literals", async () => {
    const deploy = (env: object[]): FakeResource => ({
      type: "kubernetes:apps/v1:Deployment",
      name: "api",
      props: { metadata: { name: "veza-backend-api" }, spec: { template: { spec: { containers: [{ name: "api", image: "veza/api:1.0.0", env }] } } } },
    });
    assert.deepEqual(
      await messages(
        P.envNoSecretLiterals,
        deploy([
          { name: "JWT_SECRET", value: "abc" },
          { name: "REDIS", value: "redis://:pw@redis:6379" },
        ]),
      ),
      [
        'veza-backend-api: container "api" env "JWT_SECRET" sets a secret as a literal value: use valueFrom.secretKeyRef on a Secret produced by an ExternalSecret.',
        'veza-backend-api: container "api" env "REDIS" holds a URL with a password in it: use valueFrom.secretKeyRef on a Secret produced by an ExternalSecret.',
      ],
    );
    assert.deepEqual(
      await messages(
        P.envNoSecretLiterals,
        deploy([
          { name: "JWT_SECRET", valueFrom: { secretKeyRef: { name: "veza-secrets", key: "jwt-secret" } } },
          { name: "HOME", value: "/tmp" },
        ]),
      ),
      [],
    );
  });

  it("helm-values-no-secret-literals, allowing only Vault's dev root token in dev mode", async () => {
    const release = (chart: string, values: object): FakeResource => ({
      type: "kubernetes:helm.sh/v3:Release",
      name: chart,
      props: { chart, version: "1.0.0", values },
    });
    assert.deepEqual(
      await messages(
        P.helmValuesNoSecretLiterals,
        release("app", { auth: { username: "admin", adminPassword: "pw", apiKey: "k" }, server: { dev: { enabled: true, devRootToken: "root-token" } } }),
      ),
      [
        `Helm release "app" value auth.adminPassword holds a secret literal: ${HELM_FIX}.`,
        `Helm release "app" value auth.apiKey holds a secret literal: ${HELM_FIX}.`,
        `Helm release "app" value server.dev.devRootToken holds a secret literal: ${HELM_FIX}.`,
      ],
    );
    assert.deepEqual(await messages(P.helmValuesNoSecretLiterals, release("vault", { server: { dev: { enabled: false, devRootToken: "root-token" } } })), [
      `Helm release "vault" value server.dev.devRootToken holds a secret literal: ${HELM_FIX}.`,
    ]);
    assert.deepEqual(
      await messages(
        P.helmValuesNoSecretLiterals,
        release("vault", {
          server: {
            dev: { enabled: true, devRootToken: "FAKE-SECRET-vaultDevRootToken" },
            volumes: [{ name: "tls", secret: { secretName: "vault-tls" } }],
            extraSecretEnvironmentVars: [{ envName: "AWS_SECRET_ACCESS_KEY", secretName: "unseal", secretKey: "key" }],
          },
        }),
      ),
      [],
    );
  });

  it("external-secret-namespaced-store", async () => {
    const es = (spec: object, type = "kubernetes:external-secrets.io/v1:ExternalSecret"): FakeResource => ({
      type,
      name: "es",
      props: { metadata: { name: "veza-secrets" }, spec },
    });
    const fix = "reference a SecretStore (kind: SecretStore) in the ExternalSecret's own namespace";
    assert.deepEqual(
      await messages(
        P.externalSecretNamespacedStore,
        es({
          secretStoreRef: { name: "global", kind: "ClusterSecretStore" },
          dataFrom: [{ extract: { key: "x" }, sourceRef: { storeRef: { name: "g2", kind: "ClusterSecretStore" } } }],
        }),
      ),
      [
        `ExternalSecret "veza-secrets" spec.secretStoreRef reads through ClusterSecretStore "global": ${fix}.`,
        `ExternalSecret "veza-secrets" spec.dataFrom[0].sourceRef reads through ClusterSecretStore "g2": ${fix}.`,
      ],
    );
    assert.deepEqual(await messages(P.externalSecretNamespacedStore, es({ data: [] })), [`ExternalSecret "veza-secrets" has no spec.secretStoreRef: ${fix}.`]);
    assert.deepEqual(await messages(P.externalSecretNamespacedStore, es({}, "kubernetes:external-secrets.io/v1:ClusterExternalSecret")), [
      'ClusterExternalSecret "veza-secrets" copies secrets into many namespaces: create one ExternalSecret per namespace, each reading a namespaced SecretStore.',
    ]);
    assert.deepEqual(
      await messages(
        P.externalSecretNamespacedStore,
        es({ secretStoreRef: { name: "vault-store", kind: "SecretStore" }, dataFrom: [{ extract: { key: "veza/production" } }] }),
      ),
      [],
    );
  });

  it("cluster-secret-store-conditions", async () => {
    const css = (spec: object): FakeResource => ({
      type: "kubernetes:external-secrets.io/v1:ClusterSecretStore",
      name: "css",
      props: { metadata: { name: "shared" }, spec },
    });
    assert.deepEqual(await messages(P.clusterSecretStoreConditions, css({ provider: {} })), [
      'ClusterSecretStore "shared" has no spec.conditions: every namespace could read its secrets; restrict it with conditions[].namespaces, namespaceSelector or namespaceRegexes, or use a namespaced SecretStore.',
    ]);
    assert.deepEqual(await messages(P.clusterSecretStoreConditions, css({ conditions: [{ namespaceSelector: {} }] })), [
      'ClusterSecretStore "shared" spec.conditions[0] matches every namespace: list namespaces, a namespaceSelector or namespaceRegexes.',
    ]);
    assert.deepEqual(await messages(P.clusterSecretStoreConditions, css({ conditions: [{ namespaces: ["veza-production"] }] })), []);
  });

  it("vault-audit-hmac-values", async () => {
    const audit = (options: object): FakeResource => ({ type: "vault:index/audit:Audit", name: "a", props: { type: "file", path: "file", options } });
    assert.deepEqual(await messages(P.vaultAuditNoRawLog, audit({ file_path: "stdout", log_raw: "true" })), [
      'Vault audit device "file" sets log_raw: every secret, token and password would be written in clear to the audit log; remove it.',
    ]);
    assert.deepEqual(await messages(P.vaultAuditNoRawLog, audit({ file_path: "stdout" })), []);
    assert.deepEqual(await messages(P.vaultAuditNoRawLog, audit({ file_path: "stdout", log_raw: "false" })), []);
  });

  it("aws-secrets-encrypted-with-cmk", async () => {
    const secret = (props: object): FakeResource => ({
      type: "aws:secretsmanager/secret:Secret",
      name: "aws-jwt-secret",
      props: { name: "veza/production/jwt-secret", ...props },
    });
    assert.deepEqual(await messages(P.awsSecretsEncrypted, secret({})), [
      'Secrets Manager secret "veza/production/jwt-secret" has no customer-managed kmsKeyId: encrypt it with the stack\'s KMS key, not the AWS-managed default.',
    ]);
    assert.deepEqual(await messages(P.awsSecretsEncrypted, { type: "aws:kms/key:Key", name: "aws-key", props: { enableKeyRotation: false } }), [
      'KMS key "aws-key" does not rotate: set enableKeyRotation: true.',
    ]);
    assert.deepEqual(await messages(P.awsSecretsEncrypted, secret({ kmsKeyId: "arn:aws:kms:eu-west-1:123456789012:key/k" })), []);
    // At preview the key's ARN is unknown: it is set, so nothing to report and nothing deferred.
    assert.deepEqual(await validateResource(P.awsSecretsEncrypted, secret({ kmsKeyId: UNKNOWN_STRING })), { messages: [], urns: [] });
  });

  it("generated-key-length", async () => {
    const pw = (length: number): FakeResource => ({
      type: "random:index/randomPassword:RandomPassword",
      name: "keys-jwt-secret-a",
      props: { length, special: false, keepers: { rotation: "0" } },
    });
    assert.deepEqual(await messages(P.generatedKeyLength, pw(16)), [
      'RandomPassword "keys-jwt-secret-a" is 16 characters long: generated keys must be at least 32.',
    ]);
    assert.deepEqual(await messages(P.generatedKeyLength, pw(64)), []);
  });
});
