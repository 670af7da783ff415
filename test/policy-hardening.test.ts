/**
 * The policy pack's policies for issue #11's hardening classes (policy/): Vault's jwt roles,
 * ESO's scope, Pod Security, Vault's NetworkPolicy, database TLS, the stores' ServiceAccounts
 * and redundant audit; each against one violating and one compliant case, with the exact message.
 */
import * as assert from "node:assert/strict";
import * as P from "../policy/policies";
import type { FakeResource } from "./policy-args";
import { NS, messages, namespace, stackMessages } from "./policy-fixtures";

describe("policy pack: issue #11's hardening classes (one violating, one compliant each)", () => {
  it("vault-jwt-role-bound", async () => {
    const role = (props: object): FakeResource => ({
      type: "vault:jwt/authBackendRole:AuthBackendRole",
      name: "r",
      props: { roleName: "pulumi-production", ...props },
    });
    assert.deepEqual(await messages(P.vaultJwtRoleBound, role({ boundAudiences: [], tokenTtl: 2764800, tokenMaxTtl: 2764800 })), [
      'Vault jwt role "pulumi-production" binds no audience: set boundAudiences to the audience the CI token is minted for.',
      'Vault jwt role "pulumi-production" binds no claim and no subject: every token of the issuer (any repository, any branch) could log in; bind repository, environment and ref (or the stack\'s sub).',
      'Vault jwt role "pulumi-production" tokenTtl is 2764800 seconds: at most 3600 (one hour).',
      'Vault jwt role "pulumi-production" tokenMaxTtl is 2764800 seconds: at most 3600 (one hour).',
    ]);
    assert.deepEqual(await messages(P.vaultJwtRoleBound, role({ boundAudiences: ["vault"], boundClaims: { repository: "veza/veza-secrets" } })), [
      'Vault jwt role "pulumi-production" has no tokenTtl: Vault\'s default (32 days) applies; set at most 3600 seconds.',
      'Vault jwt role "pulumi-production" has no tokenMaxTtl: Vault\'s default (32 days) applies; set at most 3600 seconds.',
    ]);
    assert.deepEqual(
      await messages(
        P.vaultJwtRoleBound,
        role({
          boundAudiences: ["vault"],
          boundClaims: { repository: "veza/veza-secrets", environment: "production" },
          tokenTtl: 3600,
          tokenMaxTtl: 3600,
          tokenExplicitMaxTtl: 3600,
        }),
      ),
      [],
    );
  });

  it("eso-controller-scoped", async () => {
    const release = (values: object): FakeResource => ({
      type: "kubernetes:helm.sh/v3:Release",
      name: "external-secrets",
      props: { chart: "external-secrets", version: "2.9.0", values },
    });
    assert.deepEqual(await messages(P.esoControllerScoped, release({})), [
      'Helm release "external-secrets" leaves scopedNamespace empty: the controller reconciles, and reads and writes Secrets in, every namespace; set it to the workload namespace.',
      'Helm release "external-secrets" leaves scopedRBAC off: the controller\'s Secrets access is a ClusterRole; set scopedRBAC: true.',
      "Helm release \"external-secrets\" keeps rbac.serviceAccountTokenCreate (the chart's default): the controller can mint a token for any ServiceAccount; set it false and grant the stores' accounts by name.",
    ]);
    assert.deepEqual(
      await messages(P.esoControllerScoped, release({ scopedNamespace: "veza-production", scopedRBAC: true, rbac: { serviceAccountTokenCreate: false } })),
      [],
    );
    // Another chart is not judged.
    assert.deepEqual(
      await messages(P.esoControllerScoped, { type: "kubernetes:helm.sh/v3:Release", name: "vault", props: { chart: "vault", values: {} } }),
      [],
    );
  });

  it("namespace-pod-security", async () => {
    const ns = (labels: Record<string, string>): FakeResource => ({ type: NS, name: "n", props: { metadata: { name: "veza-production", labels } } });
    assert.deepEqual(await messages(P.namespacePodSecurity, ns({})), [
      'Namespace "veza-production" enforces no Pod Security level: label it pod-security.kubernetes.io/enforce: restricted (or baseline where a workload needs it).',
    ]);
    assert.deepEqual(await messages(P.namespacePodSecurity, ns({ "pod-security.kubernetes.io/enforce": "privileged" })), [
      'Namespace "veza-production" enforces "privileged": label it pod-security.kubernetes.io/enforce: restricted (or baseline where a workload needs it).',
    ]);
    assert.deepEqual(await messages(P.namespacePodSecurity, ns({ "pod-security.kubernetes.io/enforce": "restricted" })), []);
  });

  const vaultRelease: FakeResource = { type: "kubernetes:helm.sh/v3:Release", name: "vault", props: { chart: "vault", namespace: "vault-system", values: {} } };
  it("vault-network-policy", async () => {
    const np = (namespace: string): FakeResource => ({
      type: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
      name: "np",
      props: { metadata: { name: "vault-ingress", namespace }, spec: { podSelector: {}, policyTypes: ["Ingress"] } },
    });
    assert.deepEqual(await stackMessages(P.vaultNetworkPolicy, [namespace("production"), vaultRelease, np("veza-production")]), [
      "Vault release \"vault\" in vault-system has no ingress NetworkPolicy: every pod can reach 8200/8201; admit only ESO's controller, Vault's peers and the deployer.",
    ]);
    assert.deepEqual(await stackMessages(P.vaultNetworkPolicy, [namespace("production"), vaultRelease, np("vault-system")]), []);
    assert.deepEqual(await stackMessages(P.vaultNetworkPolicy, [namespace("development"), vaultRelease]), [], "dev mode's Vault is reached through a NodePort");
  });

  it("database-tls-verified", async () => {
    const conn = (url: string): FakeResource => ({
      type: "vault:database/secretBackendConnection:SecretBackendConnection",
      name: "vault-config-database-connection",
      props: { postgresql: { connectionUrl: url } },
    });
    const url = (mode: string) => `postgresql://{{username}}:{{password}}@db:5432/veza?sslmode=${mode}`;
    assert.deepEqual(await stackMessages(P.databaseTlsVerified, [namespace("staging"), conn(url("require"))]), [
      'Vault database connection "vault-config-database-connection" uses sslmode=require in staging: use verify-full, with the server\'s CA (tls_ca) where it is private.',
    ]);
    assert.deepEqual(await stackMessages(P.databaseTlsVerified, [namespace("staging"), conn("postgresql://{{username}}:{{password}}@db:5432/veza")]), [
      'Vault database connection "vault-config-database-connection" uses sslmode=prefer (the default) in staging: use verify-full, with the server\'s CA (tls_ca) where it is private.',
    ]);
    assert.deepEqual(await stackMessages(P.databaseTlsVerified, [namespace("staging"), conn(url("verify-full"))]), []);
    assert.deepEqual(await stackMessages(P.databaseTlsVerified, [namespace("development"), conn(url("disable"))]), []);
  });

  it("store-service-accounts-guarded", async () => {
    const store: FakeResource = {
      type: "kubernetes:external-secrets.io/v1:SecretStore",
      name: "vault-store",
      props: {
        metadata: { name: "vault-store", namespace: "veza-production" },
        spec: { provider: { vault: { auth: { kubernetes: { serviceAccountRef: { name: "eso-vault-store", audiences: ["vault"] } } } } } },
      },
    };
    const thief: FakeResource = {
      type: "kubernetes:apps/v1:Deployment",
      name: "debug",
      props: { metadata: { name: "debug" }, spec: { template: { spec: { serviceAccountName: "eso-vault-store", containers: [] } } } },
    };
    const vap: FakeResource = {
      type: "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy",
      name: "guard",
      props: { spec: { validations: [{ expression: "!(object.spec.serviceAccountName in ['eso-vault-store'])" }] } },
    };
    assert.deepEqual(await stackMessages(P.storeServiceAccountsGuarded, [namespace("production"), store, thief]), [
      'Deployment "debug" runs as "eso-vault-store", a SecretStore\'s ServiceAccount: give it its own account.',
      'SecretStore ServiceAccount "eso-vault-store" is not guarded by a ValidatingAdmissionPolicy: anyone who can create pods in its namespace can run as it and mint its token; add one that refuses pods as it.',
    ]);
    assert.deepEqual(await stackMessages(P.storeServiceAccountsGuarded, [namespace("production"), store, vap]), []);
  });

  it("vault-audit-redundant", async () => {
    const audit = (path: string): FakeResource => ({
      type: "vault:index/audit:Audit",
      name: `vault-config-audit-${path}`,
      props: { type: "file", path, options: { file_path: path === "stdout" ? "stdout" : "/vault/audit/vault_audit.log" } },
    });
    assert.deepEqual(await stackMessages(P.vaultAuditRedundant, [namespace("production"), audit("file")]), [
      'Vault has one audit device ("file") in production: add a second (e.g. file to stdout for the log pipeline), so a full or failing device does not stop Vault.',
    ]);
    assert.deepEqual(await stackMessages(P.vaultAuditRedundant, [namespace("production"), audit("file"), audit("stdout")]), []);
    assert.deepEqual(await stackMessages(P.vaultAuditRedundant, [namespace("development"), audit("file")]), []);
  });
});
