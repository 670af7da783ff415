/**
 * Whole-program tests of access per environment: the real index.ts under Pulumi mocks
 * (harness/index.ts) scopes ESO, labels namespaces for Pod Security, closes Vault's network,
 * audits Vault, keeps pods off the store accounts, logs in to Vault with jwt, and grants each
 * environment's identities only that environment's paths.
 */
import * as assert from "node:assert/strict";
import { SERVICES } from "../components/catalog";
import { resourcesOfType, STACKS, unwrapSecrets } from "../harness";
import { validatedConfig } from "../stacks/config-fixtures";
import { bootstrapOptions } from "../stacks/vault";
import { RELEASE, meta, stackRun } from "./program-fixtures";

describe("the whole program, per environment", () => {
  it("scopes ESO to the workload namespace and lets it mint tokens only for that stack's store ServiceAccounts", async () => {
    for (const [stack, fragment, accounts] of [
      ["development", undefined, ["eso-vault-store"]],
      // With database: the migration store's account and each service's generator account too.
      ["production", undefined, ["eso-aws-store", ...SERVICES.map((s) => `eso-db-${s}`), "eso-vault-migrations-store", "eso-vault-store"].sort()],
      ["staging", "gcp", [...SERVICES.map((s) => `eso-db-${s}`), "eso-gcp-store", "eso-vault-migrations-store", "eso-vault-store"].sort()],
    ] as const) {
      const run = await stackRun(stack, fragment);
      const eso = run.resources.find((r) => r.type === RELEASE && r.inputs.chart === "external-secrets");
      const values = unwrapSecrets(eso?.inputs.values) as { scopedNamespace: string; scopedRBAC: boolean; rbac: unknown };
      assert.deepEqual([values.scopedNamespace, values.scopedRBAC, values.rbac], [`veza-${stack}`, true, { serviceAccountTokenCreate: false }], stack);
      const role = run.resources.find((r) => r.type === "kubernetes:rbac.authorization.k8s.io/v1:Role" && r.name === "external-secrets-token-create");
      assert.deepEqual(
        unwrapSecrets(role?.inputs.rules),
        [{ apiGroups: [""], resources: ["serviceaccounts/token"], resourceNames: accounts, verbs: ["create"] }],
        `${stack} ${fragment ?? ""}`,
      );
      assert.equal(meta(role as { inputs: Record<string, unknown> }).namespace, `veza-${stack}`);
    }
  });

  it("labels every namespace it creates for Pod Security Admission (restricted: enforce, audit, warn)", async () => {
    const restricted = Object.fromEntries(
      ["enforce", "audit", "warn"].flatMap((m) => [
        [`pod-security.kubernetes.io/${m}`, "restricted"],
        [`pod-security.kubernetes.io/${m}-version`, "latest"],
      ]),
    );
    for (const [stack, fragment] of [
      ["development", undefined],
      ["development", "kubernetes"],
      ["production", undefined],
    ] as const) {
      const namespaces = resourcesOfType(await stackRun(stack, fragment), "kubernetes:core/v1:Namespace");
      assert.ok(namespaces.length >= 1);
      for (const ns of namespaces) {
        const labels = (ns.inputs.metadata as { labels: Record<string, string> }).labels;
        assert.deepEqual(Object.fromEntries(Object.entries(labels).filter(([k]) => k.startsWith("pod-security."))), restricted, `${stack} ${meta(ns).name}`);
      }
    }
  });

  it("closes Vault's API to all but ESO, its peers and the stack's deployer range; ESO reaches HTTPS anywhere only with a cloud backend", async () => {
    const np = async (stack: string, fragment?: string) => {
      const run = await stackRun(stack, fragment);
      return Object.fromEntries(
        run.resources
          .filter((r) => r.type === "kubernetes:networking.k8s.io/v1:NetworkPolicy")
          .map((r) => [meta(r).name, r.inputs.spec as { ingress?: { from: unknown[] }[]; egress?: unknown[] }]),
      );
    };
    const prod = await np("production");
    assert.deepEqual(Object.keys(prod).sort(), [
      "eso-cert-controller-egress",
      "eso-controller-egress",
      "eso-default-deny",
      "eso-webhook",
      "reloader",
      "rotation-job",
      "vault-ingress",
    ]);
    // ESO, the peers, the snapshot Job (issue 31), then the deployer.
    assert.equal(
      (prod["vault-ingress"].ingress?.[2].from[0] as { podSelector: { matchLabels: Record<string, string> } }).podSelector.matchLabels[
        "app.kubernetes.io/name"
      ],
      "vault-raft-snapshots",
    );
    assert.deepEqual(prod["vault-ingress"].ingress?.[3].from, [{ ipBlock: { cidr: "10.20.0.0/24" } }]);
    // Production mirrors to AWS Secrets Manager: HTTPS egress; staging reads Vault only.
    assert.equal(prod["eso-controller-egress"].egress?.length, 4);
    assert.equal((await np("staging"))["eso-controller-egress"].egress?.length, 3);
    assert.deepEqual(await np("development"), {}, "dev mode's Vault is reached through a NodePort: off by default");
  });

  it("audits HA Vault to its volume and to stdout for the log pipeline (the operator's bootstrap, never the deployer); dev mode to stdout once", async () => {
    const audits = async (stack: string) =>
      (await stackRun(stack)).resources
        .filter((r) => r.type === "vault:index/audit:Audit")
        .map((r) => [r.inputs.path, (r.inputs.options as { file_path: string }).file_path]);
    const bootstrapped = (stack: string) => bootstrapOptions(validatedConfig(stack).config).auditDevices.map((a) => [a.path, a.filePath]);
    for (const stack of ["staging", "production"]) {
      assert.deepEqual(await audits(stack), [], stack);
      assert.deepEqual(
        bootstrapped(stack),
        [
          ["file", "/vault/audit/vault_audit.log"],
          ["stdout", "stdout"],
        ],
        stack,
      );
    }
    assert.deepEqual(await audits("development"), [["file", "stdout"]]);
  });

  it("keeps pods off the store ServiceAccounts and the rotation account, in the workload namespace", async () => {
    for (const [stack, accounts] of [
      ["development", ["eso-vault-store"]],
      ["production", ["eso-vault-store", "eso-aws-store"]],
    ] as const) {
      const run = await stackRun(stack);
      const vap = run.resources.find(
        (r) => r.type === "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy" && r.name === "service-account-guard",
      );
      const text = JSON.stringify((vap?.inputs.spec as { validations: unknown }).validations);
      for (const a of [...accounts, "secrets-rotation"]) assert.ok(text.includes(`'${a}'`), `${stack}: ${a}`);
      const binding = run.resources.find(
        (r) => r.type === "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding" && r.name === "service-account-guard",
      );
      assert.deepEqual((binding?.inputs.spec as { matchResources: unknown }).matchResources, {
        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": `veza-${stack}` } },
      });
    }
    // Option 1 has no store and no rotation job: only who may mount each service's Secret is guarded.
    const option1 = (await stackRun("development", "kubernetes")).resources.filter(
      (r) => r.type === "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy",
    );
    assert.deepEqual(
      option1.map((r) => r.name),
      ["service-account-guard"],
    );
    assert.deepEqual(
      (option1[0].inputs.spec as { validations: { message: string }[] }).validations.map((v) => v.message.split(":")[0]),
      ["volumes", "environment"],
    );
  });

  it("logs in to staging's and production's Vault with a jwt role, never a stored token; dev mode with its root token", async () => {
    for (const stack of ["staging", "production"]) {
      const run = await stackRun(stack);
      const provider = run.resources.find((r) => r.type === "pulumi:providers:vault");
      const inputs = unwrapSecrets(provider?.inputs) as Record<string, unknown>;
      assert.equal(inputs.token, undefined, stack);
      assert.equal(inputs.authLoginJwt, JSON.stringify({ mount: "jwt-github", role: `pulumi-${stack}` }), stack);
      // The jwt logins are the operator's bootstrap: the program configures none of them.
      assert.deepEqual(
        run.resources.filter((r) => r.type.startsWith("vault:jwt/")),
        [],
      );
      const roles = bootstrapOptions(validatedConfig(stack).config).jwt.flatMap((j) => j.roles.map((r) => [r.name, r.boundClaims, r.policy]));
      assert.deepEqual(roles, [
        [`pulumi-${stack}`, { repository: "veza/veza-secrets", environment: stack, ref: "refs/heads/main" }, `veza-${stack}-pulumi`],
        // Production has no preview login: nothing previews it with credentials (issue 29 #6).
        ...(stack === "production"
          ? []
          : [[`pulumi-${stack}-preview`, { repository: "veza/veza-secrets", environment: `${stack}-preview` }, `veza-${stack}-pulumi-preview`]]),
      ]);
      // No policy the program writes is its own or the previews'.
      const policies = run.resources.filter((r) => r.type === "vault:index/policy:Policy").map((r) => r.inputs.name);
      const dbPolicies = [...SERVICES, "migrations"].sort().map((i) => `veza-${stack}-db-${i}`);
      // The snapshot Job's policy: read on sys/storage/raft/snapshot alone (issue 31).
      assert.deepEqual(policies.sort(), ["vault-raft-snapshots", ...dbPolicies, `veza-${stack}-read`], stack);
    }
    const dev = unwrapSecrets((await stackRun("development")).resources.find((r) => r.type === "pulumi:providers:vault")?.inputs) as Record<string, unknown>;
    assert.equal(dev.token, "FAKE-SECRET-vaultDevRootToken-5f3c9a");
    assert.equal(dev.authLoginJwt, undefined);
  });

  it("grants each environment's identities only that environment's paths (3×3)", async () => {
    for (const stack of STACKS) {
      const others = STACKS.filter((s) => s !== stack);
      const policy = (await stackRun(stack)).resources.find((r) => r.type === "vault:index/policy:Policy");
      assert.ok(policy);
      const hcl = String(policy.inputs.policy);
      assert.ok(hcl.includes(`secret/data/veza/${stack}"`), `${stack} policy reads its own path`);
      for (const other of others) assert.ok(!hcl.includes(`veza/${other}`), `${stack}'s Vault policy names ${other}`);
      assert.ok(!/\*|sudo/.test(hcl), `${stack}'s Vault policy has a wildcard or sudo`);
      const role = (await stackRun(stack)).resources.find((r) => r.type === "vault:kubernetes/authBackendRole:AuthBackendRole");
      assert.deepEqual(
        [role?.inputs.boundServiceAccountNames, role?.inputs.boundServiceAccountNamespaces, role?.inputs.audience],
        [["eso-vault-store"], [`veza-${stack}`], "vault"],
      );

      const awsPolicy = resourcesOfType(await stackRun(stack, "aws"), "aws:iam/rolePolicy:RolePolicy").map((r) => String(unwrapSecrets(r.inputs.policy)));
      assert.equal(awsPolicy.length, 1);
      assert.ok(awsPolicy[0].includes(`:secret:veza/${stack}/*`));
      for (const other of others) assert.ok(!awsPolicy[0].includes(`veza/${other}/`), `${stack}'s AWS policy names ${other}`);

      const gcpGrants = resourcesOfType(await stackRun(stack, "gcp"), "gcp:secretmanager/secretIamMember:SecretIamMember");
      assert.ok(gcpGrants.length > 0);
      for (const g of gcpGrants) assert.match(String(g.inputs.secretId), new RegExp(`^veza-${stack}-`));

      const azureGrants = resourcesOfType(await stackRun(stack, "azure"), "azure-native:authorization:RoleAssignment");
      assert.deepEqual(
        azureGrants.map((g) => String(g.inputs.scope).split("/").pop()),
        [`veza-${stack}-kv`],
      );
    }
  });
});
