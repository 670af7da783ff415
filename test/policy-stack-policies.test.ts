/**
 * The policy pack's stack policies (policy/), which judge a stack's resources together: each
 * against one violating and one compliant stack, with the exact message.
 */
import * as assert from "node:assert/strict";
import * as P from "../policy/policies";
import { type FakeResource, urnOf, validateStack } from "./policy-args";
import { NS, namespace, stackMessages } from "./policy-fixtures";

describe("policy pack: stack policies (one violating, one compliant each)", () => {
  const secret = (ns: string): FakeResource => ({
    type: "kubernetes:core/v1:Secret",
    name: "k8s-veza-secrets",
    props: { metadata: { name: "veza-secrets", namespace: ns }, type: "Opaque" },
  });
  const externalSecret: FakeResource = {
    type: "kubernetes:external-secrets.io/v1:ExternalSecret",
    name: "es-veza-secrets",
    props: { metadata: { name: "veza-secrets", namespace: "veza-production" }, spec: { secretStoreRef: { name: "vault-store", kind: "SecretStore" } } },
  };

  it("kubernetes-secrets-through-eso", async () => {
    assert.deepEqual(await stackMessages(P.kubernetesSecretsThroughEso, [namespace("production"), externalSecret, secret("veza-production")]), [
      'Secret "veza-secrets" is written by the program although this stack runs External Secrets Operator: produce it with an ExternalSecret so its value stays in the backend.',
    ]);
    assert.deepEqual(await stackMessages(P.kubernetesSecretsThroughEso, [namespace("staging"), secret("veza-staging")]), [
      'Secret "veza-secrets" is written by the program in staging: plain Kubernetes Secrets (the spec\'s option 1) are for development only; use External Secrets Operator (providers vault, aws, gcp or azure).',
    ]);
    assert.deepEqual(await stackMessages(P.kubernetesSecretsThroughEso, [namespace("development"), secret("veza-development")]), []);
    assert.deepEqual(await stackMessages(P.kubernetesSecretsThroughEso, [namespace("production"), externalSecret]), []);
  });

  const vaultPolicy = (doc: string): FakeResource => ({ type: "vault:index/policy:Policy", name: "vault-eso", props: { name: "eso-read", policy: doc } });

  it("vault-policy-environment-scope", async () => {
    const bad = 'path "secret/data/veza/staging" { capabilities = ["read"] }\npath "sys/*" { capabilities = ["read", "sudo"] }';
    const tail = "production policies may grant only veza/production/ paths (and this Vault's own engines), without sudo.";
    assert.deepEqual(await stackMessages(P.vaultPolicyEnvironmentScope, [namespace("production"), vaultPolicy(bad)]), [
      `Vault policy "eso-read" grants "secret/data/veza/staging", a path of the staging environment: ${tail}`,
      `Vault policy "eso-read" grants "sudo" on "sys/*": ${tail}`,
    ]);
    assert.deepEqual(await stackMessages(P.vaultPolicyEnvironmentScope, [namespace("production"), vaultPolicy("read everything")]), [
      'Vault policy "eso-read" cannot be checked: it has "read" where a path block should start (only path blocks are read) (line 1, column 1). The pack reads only HCL blocks path "<path>" { capabilities = [...] } (with allowed_parameters, denied_parameters), as the program\'s generators write them; write it that way.',
    ]);
    assert.deepEqual(
      await stackMessages(P.vaultPolicyEnvironmentScope, [
        namespace("production"),
        vaultPolicy('path "secret/data/veza/production" { capabilities = ["read"] }\npath "secret/metadata/veza/production" { capabilities = ["read"] }'),
      ]),
      [],
    );
  });

  it("vault-audit-device", async () => {
    const audit: FakeResource = {
      type: "vault:index/audit:Audit",
      name: "vault-audit",
      props: { type: "file", path: "file", options: { file_path: "stdout" } },
    };
    const jwtProvider: FakeResource = {
      type: "pulumi:providers:vault",
      name: "vault",
      props: { address: "https://v:8200", authLoginJwt: '{"mount":"jwt-github"}' },
    };
    const tokenProvider: FakeResource = { type: "pulumi:providers:vault", name: "vault", props: { address: "http://127.0.0.1:30820", token: "dev-root" } };
    const devRelease: FakeResource = {
      type: "kubernetes:helm.sh/v3:Release",
      name: "vault",
      props: { chart: "vault", values: { server: { dev: { enabled: true } } } },
    };
    const haRelease: FakeResource = {
      type: "kubernetes:helm.sh/v3:Release",
      name: "vault",
      props: { chart: "vault", values: { server: { ha: { enabled: true } } } },
    };
    // The deployer's login managing an audit device: refused.
    assert.deepEqual(await stackMessages(P.vaultAuditDevice, [namespace("staging"), haRelease, jwtProvider, audit]), [
      "Vault audit device \"file\" is managed by the deployer's login: its policy would need sudo on sys/audit, and a stolen token could switch the audit trail off first. Enable audit devices in the operator's bootstrap (npm run vault-bootstrap) instead.",
    ]);
    // HA with the deployer's login and no audit device (the bootstrap's): passes.
    assert.deepEqual(await stackMessages(P.vaultAuditDevice, [namespace("staging"), haRelease, jwtProvider, vaultPolicy("x")]), []);
    // Dev mode: its root token must enable one.
    assert.deepEqual(await stackMessages(P.vaultAuditDevice, [namespace("development"), devRelease, tokenProvider, vaultPolicy("x")]), [
      'This stack runs Vault in dev mode but enables no audit device: add a vault.Audit (type "file", file_path "stdout") so every secret access is logged.',
    ]);
    assert.deepEqual(await stackMessages(P.vaultAuditDevice, [namespace("development"), devRelease, tokenProvider, audit]), []);
    assert.deepEqual(await stackMessages(P.vaultAuditDevice, [namespace("staging")]), []);
  });

  const vaultRelease = (server: object, protect = false): FakeResource => ({
    type: "kubernetes:helm.sh/v3:Release",
    name: "vault",
    props: { chart: "vault", version: "0.34.1", namespace: "vault-system", values: { server } },
    protect,
  });
  const haWithSeal = {
    ha: { enabled: true, raft: { enabled: true, config: 'storage "raft" {}\n\nseal "awskms" {\n  region     = "eu-west-1"\n  kms_key_id = "alias/k"\n}\n' } },
  };

  it("vault-auto-unseal-in-production", async () => {
    assert.deepEqual(
      await stackMessages(P.vaultAutoUnsealInProduction, [
        namespace("production"),
        vaultRelease({ ha: { enabled: true, raft: { config: 'storage "raft" {}\n# seal "awskms" {}' } } }),
      ]),
      [
        'Vault release "vault" has no auto-unseal seal stanza in production: configure cloud-KMS auto-unseal (seal "awskms", "gcpckms" or "azurekeyvault") so a restarted pod unseals without key holders.',
      ],
    );
    assert.deepEqual(await stackMessages(P.vaultAutoUnsealInProduction, [namespace("production"), vaultRelease(haWithSeal)]), []);
    assert.deepEqual(
      await stackMessages(P.vaultAutoUnsealInProduction, [namespace("staging"), vaultRelease({ ha: { enabled: true, raft: { config: "" } } })]),
      [],
    );
  });

  it("vault-dev-mode-development-only", async () => {
    assert.deepEqual(await stackMessages(P.vaultDevModeDevelopmentOnly, [namespace("staging"), vaultRelease({ dev: { enabled: true } })]), [
      'Vault release "vault" runs in dev mode (in memory, unsealed, root token) in staging: dev mode is for development only; use ha mode.',
    ]);
    assert.deepEqual(await stackMessages(P.vaultDevModeDevelopmentOnly, [namespace("development"), vaultRelease({ dev: { enabled: true } })]), []);
  });

  it("aws-eso-read-scoped", async () => {
    const rolePolicy = (resource: string): FakeResource => ({
      type: "aws:iam/rolePolicy:RolePolicy",
      name: "aws-eso-read",
      props: {
        policy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Sid: "ReadSecretsUnderPrefix", Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: resource }],
        }),
      },
    });
    assert.deepEqual(
      await stackMessages(P.awsEsoReadScoped, [namespace("production"), rolePolicy("arn:aws:secretsmanager:eu-west-1:123456789012:secret:veza/*")]),
      [
        'IAM policy "aws-eso-read" statement "ReadSecretsUnderPrefix" grants secretsmanager:GetSecretValue on "arn:aws:secretsmanager:eu-west-1:123456789012:secret:veza/*": scope it to arn:aws:secretsmanager:<region>:<account>:secret:veza/production/*.',
      ],
    );
    assert.deepEqual(
      await stackMessages(P.awsEsoReadScoped, [namespace("production"), rolePolicy("arn:aws:secretsmanager:eu-west-1:123456789012:secret:veza/production/*")]),
      [],
    );
  });

  it("gcp-eso-access-scoped", async () => {
    const projectMember: FakeResource = {
      type: "gcp:projects/iAMMember:IAMMember",
      name: "eso-all",
      props: { project: "p", role: "roles/secretmanager.secretAccessor", member: "serviceAccount:eso@p.iam.gserviceaccount.com" },
    };
    const secretMember = (secretId: string): FakeResource => ({
      type: "gcp:secretmanager/secretIamMember:SecretIamMember",
      name: "gcp-jwt-accessor",
      props: { secretId, role: "roles/secretmanager.secretAccessor" },
    });
    assert.deepEqual(await stackMessages(P.gcpEsoAccessScoped, [namespace("staging"), projectMember, secretMember("veza-production-jwt-secret")]), [
      'IAM grant "eso-all" gives roles/secretmanager.secretAccessor on every secret of the project: grant it per secret (secretmanager.SecretIamMember) instead.',
      'Secret IAM grant "gcp-jwt-accessor" gives roles/secretmanager.secretAccessor on "veza-production-jwt-secret", which is not one of this environment\'s veza-staging- secrets.',
    ]);
    assert.deepEqual(await stackMessages(P.gcpEsoAccessScoped, [namespace("staging"), secretMember("projects/p/secrets/veza-staging-jwt-secret")]), []);
  });

  it("aws-secrets-recovery-window", async () => {
    const secret = (days?: number): FakeResource => ({
      type: "aws:secretsmanager/secret:Secret",
      name: "aws-jwt",
      props: { name: "veza/production/jwt-secret", kmsKeyId: "k", recoveryWindowInDays: days },
    });
    assert.deepEqual(
      await stackMessages(P.awsSecretsRecoveryWindow, [
        namespace("production"),
        secret(7),
        { type: "aws:kms/key:Key", name: "aws-key", props: { deletionWindowInDays: 7 } },
      ]),
      [
        'Secrets Manager secret "veza/production/jwt-secret" has recoveryWindowInDays 7: use at least 30 days in production (0 deletes without recovery).',
        'KMS key "aws-key" has deletionWindowInDays 7: use at least 30 days in production (0 deletes without recovery).',
      ],
    );
    assert.deepEqual(await stackMessages(P.awsSecretsRecoveryWindow, [namespace("staging"), secret(0)]), [
      'Secrets Manager secret "veza/production/jwt-secret" has recoveryWindowInDays 0: use at least 7 days (0 deletes without recovery).',
    ]);
    assert.deepEqual(await stackMessages(P.awsSecretsRecoveryWindow, [namespace("production"), secret(30), secret(undefined)]), []);
  });

  it("azure-key-vault-protection", async () => {
    const vault = (properties: object): FakeResource => ({
      type: "azure-native:keyvault:Vault",
      name: "azure",
      props: { vaultName: "veza-production-kv", properties },
    });
    assert.deepEqual(await stackMessages(P.azureKeyVaultProtection, [namespace("production"), vault({ enableSoftDelete: false })]), [
      'Key Vault "veza-production-kv" turns soft delete off: leave enableSoftDelete on.',
      'Key Vault "veza-production-kv" has no purge protection in production: set enablePurgeProtection: true.',
    ]);
    assert.deepEqual(
      await stackMessages(P.azureKeyVaultProtection, [namespace("production"), vault({ enableSoftDelete: true, enablePurgeProtection: true })]),
      [],
    );
    assert.deepEqual(await stackMessages(P.azureKeyVaultProtection, [namespace("staging"), vault({ enableSoftDelete: true })]), []);
  });

  it("generated-key-rotation", async () => {
    const pw = (keepers?: object): FakeResource => ({
      type: "random:index/randomPassword:RandomPassword",
      name: "keys-chat-server-secret",
      props: { length: 48, keepers },
    });
    assert.deepEqual(await stackMessages(P.generatedKeyRotation, [pw(undefined), pw({ rotation: "1", rotationDays: "180" })]), [
      'RandomPassword "keys-chat-server-secret" has no rotation keeper, so it never rotates: generate it with GeneratedKeys (keepers.rotation = its rotation period).',
      'RandomPassword "keys-chat-server-secret" rotates every 180 days: rotate generated keys at least every 90 days.',
    ]);
    const component: FakeResource = { type: "veza:secrets:GeneratedKeys", name: "keys", props: { rotationDays: { "jwt-secret": 365 } } };
    assert.deepEqual(await stackMessages(P.generatedKeyRotation, [component]), [
      'Generated key "jwt-secret" (keys) rotates every 365 days: rotate generated keys at least every 90 days.',
    ]);
    assert.deepEqual(
      await stackMessages(P.generatedKeyRotation, [pw({ rotation: "1", rotationDays: "90" }), { ...component, props: { rotationDays: { "jwt-secret": 90 } } }]),
      [],
    );
  });

  it("generated-key-rotation-declared (mandatory)", async () => {
    const pw: FakeResource = { type: "random:index/randomPassword:RandomPassword", name: "keys-a", props: { length: 64, keepers: { rotation: "0" } } };
    assert.equal(P.generatedKeyRotationDeclared.enforcementLevel, "mandatory");
    assert.deepEqual(await stackMessages(P.generatedKeyRotationDeclared, [pw, pw]), [
      '2 generated keys do not declare their rotation period, so "rotated at least every 90 days" cannot be checked: expose rotationDays (key → days) as an output of the GeneratedKeys component.',
    ]);
    assert.deepEqual(
      await stackMessages(P.generatedKeyRotationDeclared, [pw, { type: "veza:secrets:GeneratedKeys", name: "keys", props: { rotationDays: { a: 90 } } }]),
      [],
    );
  });

  it("production-stateful-protected", async () => {
    const unprotected = [
      namespace("production", "veza-production"),
      namespace("production", "external-secrets-system"),
      externalSecret,
      vaultRelease(haWithSeal),
      { type: "aws:secretsmanager/secret:Secret", name: "aws-jwt", props: { name: "veza/production/jwt-secret" } },
      { type: "aws:kms/key:Key", name: "aws-key", props: {} },
      { type: "azure-native:keyvault:Vault", name: "azure", props: {} },
    ];
    const fix = "set protect: true so neither pulumi destroy nor a replacement can delete it";
    assert.deepEqual(await stackMessages(P.productionStatefulProtected, unprotected), [
      `Namespace "veza-production" holds secrets but is not protected in production: ${fix}.`,
      `Vault release "vault" is not protected in production: ${fix} (its StatefulSet's volumes hold Vault's data).`,
      `Secrets Manager secret "aws-jwt" is not protected in production: ${fix}.`,
      `KMS key "aws-key" is not protected in production: ${fix}.`,
      `Key Vault "azure" is not protected in production: ${fix}.`,
    ]);
    const out = await validateStack(P.productionStatefulProtected, unprotected);
    assert.deepEqual(out.urns, [
      urnOf(NS, "namespaces-veza-production"),
      urnOf("kubernetes:helm.sh/v3:Release", "vault"),
      urnOf("aws:secretsmanager/secret:Secret", "aws-jwt"),
      urnOf("aws:kms/key:Key", "aws-key"),
      urnOf("azure-native:keyvault:Vault", "azure"),
    ]);
    assert.deepEqual(
      await stackMessages(
        P.productionStatefulProtected,
        unprotected.map((r) => ({ ...r, protect: r.type !== NS || r.name.endsWith("veza-production") })),
      ),
      [],
    );
    assert.deepEqual(
      await stackMessages(
        P.productionStatefulProtected,
        unprotected.map((r) => (r.type === NS ? namespace("staging", (r.props.metadata as { name: string }).name) : r)),
      ),
      [],
    );
  });

  it("stack-environment-label", async () => {
    const unlabelled: FakeResource = { type: NS, name: "namespaces-x", props: { metadata: { name: "x" } } };
    assert.deepEqual(
      await stackMessages(P.stackEnvironmentLabel, [namespace("production"), namespace("staging", "other"), unlabelled, { ...namespace("prod", "p") }]),
      [
        'Namespace "x" has no veza.io/environment label: label every namespace with the stack\'s environment.',
        'Namespace "p" is labelled veza.io/environment="prod": use development, staging or production.',
        "Namespaces disagree on veza.io/environment (prod, production, staging): one stack is one environment.",
      ],
    );
    assert.deepEqual(await stackMessages(P.stackEnvironmentLabel, [vaultPolicy("x")]), [
      "No Namespace carries veza.io/environment, so the environment-specific policies cannot run: label the stack's namespaces.",
    ]);
    assert.deepEqual(await stackMessages(P.stackEnvironmentLabel, [namespace("production"), namespace("production", "vault-system")]), []);
  });
});
