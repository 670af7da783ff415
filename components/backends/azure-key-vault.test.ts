import * as assert from "node:assert/strict";
import { Provider } from "@pulumi/azure-native/provider";
import { findResource, isSecret, plaintextOccurrences, resourcesOfType, runProgram, unwrapSecrets, type ProgramRun } from "../../harness";
import { SPEC_CATALOG } from "../../test/catalog-fixture";
import { AzureKeyVault, secretsUserRoleDefinitionId, validateAzureKeyVaultArgs, type AzureKeyVaultArgs } from "./azure-key-vault";

const CONFIG = { "veza-secrets:environment": "development", "veza-secrets:providers": ["vault"] };
const COMPONENT = "veza:secrets:AzureKeyVault";
const VAULT = "azure-native:keyvault:Vault";
const SECRET = "azure-native:keyvault:Secret";
const IDENTITY = "azure-native:managedidentity:UserAssignedIdentity";
const FEDERATION = "azure-native:managedidentity:FederatedIdentityCredential";
const ROLE = "azure-native:authorization:RoleAssignment";
const ENVIRONMENTS = ["development", "staging", "production"] as const;
const TENANT = "00000000-0000-0000-0000-000000000000";
const ISSUER = "https://westeurope.oic.prod-aks.azure.com/00000000-0000-0000-0000-000000000000/11111111-1111-1111-1111-111111111111/";
const SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6";
const WORKSPACE = "/subscriptions/0000/resourceGroups/veza/providers/Microsoft.OperationalInsights/workspaces/veza-audit";

const KEYS = SPEC_CATALOG.slice(0, 3).map((s) => s.key);
const fakeValue = (env: string, key: string) => `FAKE-AZURE-${env}-${key}-3b9f2c`;

function argsFor(env: string, overrides: Partial<AzureKeyVaultArgs> = {}): AzureKeyVaultArgs {
  return {
    resourceGroupName: "veza-secrets",
    location: "westeurope",
    tenantId: TENANT,
    vaultName: `veza-${env}-kv`,
    namePrefix: `veza-${env}-`,
    // Plain strings on purpose: the component must make them secrets itself.
    secrets: SPEC_CATALOG.slice(0, 3).map((s) => ({ key: s.key, description: s.description, value: fakeValue(env, s.key) })),
    allowedIpRanges: ["203.0.113.0/24", "198.51.100.7"],
    softDeleteRetentionDays: 90,
    purgeProtection: env === "production",
    oidcIssuerUrl: ISSUER,
    kubernetesServiceAccount: { namespace: `veza-${env}`, name: "eso-azure-store" },
    tags: { environment: env },
    auditLogWorkspaceId: WORKSPACE,
    ...overrides,
  };
}

const run1 = (args: AzureKeyVaultArgs) => runProgram({ stack: "test", config: CONFIG, program: () => new AzureKeyVault("kv", args) });

describe("components/backends/azure-key-vault", () => {
  let run: ProgramRun;
  beforeEach(async () => {
    run = await run1(argsFor("production"));
  });

  it("registers one vault, three secrets, one identity, one federated credential and one role assignment", () => {
    const counts: Record<string, number> = {};
    for (const r of run.resources) counts[r.type] = (counts[r.type] ?? 0) + 1;
    assert.deepEqual(counts, {
      "pulumi:pulumi:Stack": 1,
      [COMPONENT]: 1,
      [VAULT]: 1,
      [SECRET]: 3,
      [IDENTITY]: 1,
      [FEDERATION]: 1,
      [ROLE]: 1,
      "azure-native:monitor:DiagnosticSetting": 1,
    });
    const component = findResource(run, COMPONENT, "kv");
    for (const r of run.resources.filter((x) => x.custom)) assert.equal(r.parent, component.urn, r.name);
  });

  it("creates an RBAC-mode vault with soft delete, purge protection and a deny-by-default firewall", () => {
    const vault = findResource(run, VAULT, "kv").inputs;
    assert.deepEqual(vault, {
      resourceGroupName: "veza-secrets",
      location: "westeurope",
      vaultName: "veza-production-kv",
      tags: { environment: "production" },
      properties: {
        tenantId: TENANT,
        sku: { family: "A", name: "standard" },
        enableRbacAuthorization: true,
        enableSoftDelete: true,
        // Defaults the SDK fills in: the vault serves no VMs, disks or ARM templates.
        enabledForDeployment: false,
        enabledForDiskEncryption: false,
        enabledForTemplateDeployment: false,
        softDeleteRetentionInDays: 90,
        enablePurgeProtection: true,
        networkAcls: { defaultAction: "Deny", bypass: "AzureServices", ipRules: [{ value: "203.0.113.0/24" }, { value: "198.51.100.7" }] },
        publicNetworkAccess: "Enabled",
      },
    });
  });

  it("leaves purge protection out when not asked for (Azure rejects false)", async () => {
    const r = await run1(argsFor("development", { allowedIpRanges: [], softDeleteRetentionDays: 7 }));
    const props = findResource(r, VAULT, "kv").inputs.properties as Record<string, unknown>;
    assert.equal("enablePurgeProtection" in props, false);
    assert.equal(props.softDeleteRetentionInDays, 7);
    assert.deepEqual(props.networkAcls, { defaultAction: "Deny", bypass: "AzureServices", ipRules: [] });
  });

  it("names the secrets prefix + key in that vault, the whole properties object secret", () => {
    assert.deepEqual(
      resourcesOfType(run, SECRET)
        .map((r) => r.inputs.secretName)
        .sort(),
      ["veza-production-database-url", "veza-production-jwt-secret", "veza-production-redis-url"],
    );
    for (const spec of SPEC_CATALOG.slice(0, 3)) {
      const s = findResource(run, SECRET, `kv-${spec.key}`);
      assert.ok(isSecret(s.inputs.properties), spec.key);
      assert.deepEqual(unwrapSecrets(s.inputs), {
        resourceGroupName: "veza-secrets",
        vaultName: "veza-production-kv",
        secretName: `veza-production-${spec.key}`,
        tags: { environment: "production", description: spec.description },
        properties: { value: fakeValue("production", spec.key), contentType: "text/plain" },
      });
      // Recorded only: the mocks do not apply it (see harness/index.ts).
      assert.deepEqual(s.additionalSecretOutputs, ["properties"]);
      assert.ok(s.dependencies.includes(findResource(run, VAULT, "kv").urn));
    }
  });

  it("never registers or outputs a value in clear text", () => {
    for (const key of KEYS) {
      const needle = fakeValue("production", key);
      assert.deepEqual(
        run.resources.flatMap((r) => plaintextOccurrences(r.inputs, needle, r.name)),
        [],
      );
      assert.deepEqual(
        [...run.componentOutputs.values()].flatMap((o) => plaintextOccurrences(o, needle)),
        [],
      );
    }
  });

  it("federates the identity with exactly the store's Kubernetes ServiceAccount", () => {
    assert.deepEqual(findResource(run, IDENTITY, "kv-eso").inputs, {
      resourceGroupName: "veza-secrets",
      location: "westeurope",
      resourceName: "veza-production-kv-eso",
      tags: { environment: "production" },
    });
    const fic = findResource(run, FEDERATION, "kv-eso-federation");
    assert.deepEqual(fic.inputs, {
      resourceGroupName: "veza-secrets",
      resourceName: "veza-production-kv-eso",
      federatedIdentityCredentialResourceName: "eso",
      issuer: ISSUER,
      subject: "system:serviceaccount:veza-production:eso-azure-store",
      audiences: ["api://AzureADTokenExchange"],
    });
    assert.ok(fic.dependencies.includes(findResource(run, IDENTITY, "kv-eso").urn));
  });

  it("grants Key Vault Secrets User to the identity on this vault only", () => {
    const [role] = resourcesOfType(run, ROLE);
    // The harness gives the vault an ARM-shaped id in subscription 2222…, resource group as given.
    const vaultId = "/subscriptions/22222222-2222-2222-2222-222222222222/resourceGroups/veza-secrets/providers/Microsoft.KeyVault/vaults/veza-production-kv";
    assert.deepEqual(role.inputs, {
      scope: vaultId,
      roleDefinitionId: `/subscriptions/22222222-2222-2222-2222-222222222222/providers/Microsoft.Authorization/roleDefinitions/${SECRETS_USER}`,
      principalId: findResource(run, IDENTITY, "kv-eso").outputs?.principalId,
      principalType: "ServicePrincipal",
    });
    assert.equal(run.calls.length, 0);
  });

  it("derives the role definition id from the vault's subscription", () => {
    const vaultId = "/subscriptions/22222222-2222-2222-2222-222222222222/resourceGroups/veza-secrets/providers/Microsoft.KeyVault/vaults/veza-production-kv";
    assert.equal(
      secretsUserRoleDefinitionId(vaultId),
      `/subscriptions/22222222-2222-2222-2222-222222222222/providers/Microsoft.Authorization/roleDefinitions/${SECRETS_USER}`,
    );
  });

  it("sends the vault's AuditEvent logs (every secret access) to the Log Analytics workspace", async () => {
    const r = await runProgram({ stack: "test", config: CONFIG, program: () => new AzureKeyVault("kv", argsFor("production")) });
    const d = findResource(r, "azure-native:monitor:DiagnosticSetting", "kv-audit");
    const vault = findResource(r, VAULT, "kv");
    assert.deepEqual(unwrapSecrets(d.inputs), {
      name: "veza-audit-events",
      resourceUri: (unwrapSecrets(vault.inputs) as { id?: string }).id ?? d.inputs.resourceUri,
      workspaceId: WORKSPACE,
      logs: [{ category: "AuditEvent", enabled: true }],
    });
    assert.ok(d.dependencies.includes(vault.urn), "after the vault it watches");
  });

  it("registers exactly its public outputs", () => {
    assert.deepEqual(run.componentOutputs.get(findResource(run, COMPONENT, "kv").urn), {
      vaultUri: "https://veza-production-kv.vault.azure.net/",
      vaultName: "veza-production-kv",
      clientId: findResource(run, IDENTITY, "kv-eso").outputs?.clientId,
      tenantId: TENANT,
      secretNames: { "database-url": "veza-production-database-url", "redis-url": "veza-production-redis-url", "jwt-secret": "veza-production-jwt-secret" },
    });
  });

  it("grants each environment's identity its own vault and no other environment's (3×3)", async () => {
    const r = await runProgram({ stack: "test", config: CONFIG, program: () => ENVIRONMENTS.map((env) => new AzureKeyVault(`kv-${env}`, argsFor(env))) });
    const envOfPrincipal = (p: unknown) => ENVIRONMENTS.find((env) => p === findResource(r, IDENTITY, `kv-${env}-eso`).outputs?.principalId);
    const envOfScope = (s: unknown) => ENVIRONMENTS.find((env) => typeof s === "string" && s.endsWith(`/providers/Microsoft.KeyVault/vaults/veza-${env}-kv`));
    const matrix = ENVIRONMENTS.map(() => ENVIRONMENTS.map(() => 0));
    for (const a of resourcesOfType(r, ROLE)) {
      const who = envOfPrincipal(a.inputs.principalId);
      const where = envOfScope(a.inputs.scope);
      assert.ok(who && where, `unexpected role assignment ${JSON.stringify(a.inputs)}`);
      matrix[ENVIRONMENTS.indexOf(who)][ENVIRONMENTS.indexOf(where)] += 1;
    }
    assert.deepEqual(matrix, [
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
    ]);
    // Each vault holds only its own environment's secrets, so the vault scope is the secret scope.
    for (const env of ENVIRONMENTS) {
      const names = resourcesOfType(r, SECRET)
        .filter((s) => s.inputs.vaultName === `veza-${env}-kv`)
        .map((s) => s.inputs.secretName)
        .sort();
      assert.deepEqual(names, KEYS.map((k) => `veza-${env}-${k}`).sort());
      assert.equal(findResource(r, FEDERATION, `kv-${env}-eso-federation`).inputs.subject, `system:serviceaccount:veza-${env}:eso-azure-store`);
    }
  });

  it("protects the vault and its secrets, and only them, iff asked", async () => {
    assert.deepEqual(
      run.resources.filter((r) => r.protect).map((r) => r.name),
      [],
    );
    const r = await run1(argsFor("production", { protect: true }));
    assert.deepEqual(
      r.resources
        .filter((x) => x.protect)
        .map((x) => x.name)
        .sort(),
      ["kv", ...KEYS.map((k) => `kv-${k}`)].sort(),
    );
  });

  it("uses the given provider for every child", async () => {
    const r = await runProgram({
      stack: "test",
      config: CONFIG,
      program: () => new AzureKeyVault("kv", { ...argsFor("production"), provider: new Provider("azure-prod", {}) }),
    });
    const provider = findResource(r, "pulumi:providers:azure-native", "azure-prod").urn;
    for (const c of r.resources.filter((x) => x.custom && !x.type.startsWith("pulumi:providers:"))) assert.ok(c.provider.startsWith(`${provider}::`), c.name);
  });

  const BAD: [string, Partial<AzureKeyVaultArgs>, string][] = [
    [
      "a vault name too long",
      { vaultName: "veza-production-keyvault1" },
      `[vaultName] must be 3-24 letters, digits or '-', starting with a letter, ending with a letter or digit, without "--", such as "veza-production-kv"; got "veza-production-keyvault1" (25 characters).`,
    ],
    [
      "a prefix with '/'",
      { namePrefix: "veza/production-" },
      `[namePrefix] must be letters, digits or '-' (Key Vault secret names allow no '/' or '_') such as "veza-production-"; got "veza/production-".`,
    ],
    [
      "a prefix with '_'",
      { namePrefix: "veza_production-" },
      `[namePrefix] must be letters, digits or '-' (Key Vault secret names allow no '/' or '_') such as "veza-production-"; got "veza_production-".`,
    ],
    [
      "a secret name over 127 characters",
      { namePrefix: "p".repeat(120) + "-" },
      `[secrets] key "database-url" makes secret name "${"p".repeat(120)}-database-url", which must match ^[0-9a-zA-Z-]{1,127}$; shorten or rename the key.`,
    ],
    ["a retention of 5 days", { softDeleteRetentionDays: 5 }, "[softDeleteRetentionDays] must be a whole number of days from 7 to 90; got 5."],
    [
      "a bad IP range",
      { allowedIpRanges: ["203.0.113.0/33"] },
      `[allowedIpRanges] must list IPv4 addresses or CIDR ranges such as "203.0.113.0/24"; got "203.0.113.0/33".`,
    ],
    [
      "a description over 256 characters",
      { secrets: [{ key: "jwt-secret", description: "d".repeat(257), value: "x" }] },
      `[secrets] description of "jwt-secret" is 257 characters; Azure tags hold at most 256.`,
    ],
    ["a retention of 91 days", { softDeleteRetentionDays: 91 }, "[softDeleteRetentionDays] must be a whole number of days from 7 to 90; got 91."],
    [
      "an issuer not at the start",
      { oidcIssuerUrl: "xhttps://issuer" },
      `[oidcIssuerUrl] must be the AKS OIDC issuer URL, starting with https://; got "xhttps://issuer".`,
    ],
    [
      "an issuer with a space",
      { oidcIssuerUrl: "https://issuer /x" },
      `[oidcIssuerUrl] must be the AKS OIDC issuer URL, starting with https://; got "https://issuer /x".`,
    ],
    [
      "a ServiceAccount namespace that is no DNS label",
      { kubernetesServiceAccount: { namespace: "veza.production", name: "eso-azure-store" } },
      `[kubernetesServiceAccount.namespace] must be a Kubernetes namespace name (DNS label); got "veza.production".`,
    ],
    [
      "a ServiceAccount name that is no DNS subdomain",
      { kubernetesServiceAccount: { namespace: "veza-production", name: "ESO store" } },
      `[kubernetesServiceAccount.name] must be a Kubernetes ServiceAccount name (DNS subdomain); got "ESO store".`,
    ],
    ["an http issuer", { oidcIssuerUrl: "http://issuer" }, `[oidcIssuerUrl] must be the AKS OIDC issuer URL, starting with https://; got "http://issuer".`],
    [
      "a duplicate key",
      {
        secrets: [
          { key: "jwt-secret", description: "a", value: "x" },
          { key: "jwt-secret", description: "b", value: "y" },
        ],
      },
      `[secrets] lists key "jwt-secret" twice; give each secret its own key.`,
    ],
  ];
  for (const [what, overrides, message] of BAD) {
    it(`refuses ${what} with an exact message`, async () => {
      await assert.rejects(run1(argsFor("production", overrides)), { message });
    });
  }

  it("accepts the limits: retention of 7 and 90 days, a description of exactly 256 characters", () => {
    for (const overrides of [
      { softDeleteRetentionDays: 7 },
      { softDeleteRetentionDays: 90 },
      { secrets: [{ key: "jwt-secret", description: "d".repeat(256), value: "x" }] },
    ]) {
      assert.equal(validateAzureKeyVaultArgs(argsFor("production", overrides)), undefined, JSON.stringify(overrides));
    }
  });
});
