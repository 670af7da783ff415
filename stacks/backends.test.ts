/**
 * The stack layer's cloud backends (stacks/backends.ts): for each, the names, labels and
 * identities a stack's config gives it, the SecretStore ESO reads it through and the stack
 * outputs it adds; one program run per test. Expected values come from the validated config,
 * the catalog and the store naming rule, never from the program's output.
 */
import * as assert from "node:assert/strict";
import { storeServiceAccount } from "../components/eso/secret-stores";
import { exampleFragments, findResource, resourcesOfType, unwrapSecrets, type ProgramRun, type RecordedResource } from "../harness";
import { CLOUD_BACKENDS } from "./backends";
import type { StackConfig } from "./config-model";
import { buildStack, storedKeys, validatedConfig } from "./config-fixtures";

const STORE = "kubernetes:external-secrets.io/v1:SecretStore";

const build = (stack: string, fragment: string) => buildStack(stack, exampleFragments()[fragment]);

const storeSpec = (run: ProgramRun, name: string) =>
  (unwrapSecrets(findResource(run, STORE, `secret-stores-${name}`).inputs.spec) as { provider: Record<string, Record<string, unknown>> }).provider;
const outputsOf = (run: ProgramRun) => unwrapSecrets(run.outputs) as { backends: Record<string, Record<string, unknown>>; secretStores: string[] };
const inputs = (r: RecordedResource) => unwrapSecrets(r.inputs) as Record<string, unknown>;

describe("stack layer: the cloud backends (stacks/backends.ts)", () => {
  it("a backend is on exactly when its config section is, and builds only then", () => {
    const { config } = validatedConfig("staging");
    for (const backend of CLOUD_BACKENDS) {
      assert.equal(backend.enabled(config), false, backend.name);
      assert.equal(backend.enabled({ ...config, [backend.name]: {} } as StackConfig), true, backend.name);
      assert.throws(
        () =>
          backend.build({
            config,
            env: "staging",
            prefix: backend.prefix("staging"),
            secrets: [],
            serviceAccount: { namespace: "n", name: "s" },
            storeName: "x",
          }),
        { message: `backend ${backend.name} built without its config section` },
      );
    }
    assert.deepEqual(
      CLOUD_BACKENDS.map((b) => [b.name, b.prefix("staging")]),
      [
        ["aws", "veza/staging/"],
        ["gcp", "veza-staging-"],
        ["azure", "veza-staging-"],
      ],
    );
  });

  it("AWS Secrets Manager: veza/<env>/<key> per stored key, the stack's recovery window and tags; the store assumes the role with its own account", async () => {
    const { config, run } = await build("staging", "aws");
    const aws = config.aws as NonNullable<StackConfig["aws"]>;
    const secrets = resourcesOfType(run, "aws:secretsmanager/secret:Secret").map(inputs);
    assert.deepEqual(
      secrets.map((s) => s.name).sort(),
      storedKeys(config)
        .map((k) => `veza/staging/${k}`)
        .sort(),
    );
    for (const s of secrets) {
      assert.equal(s.recoveryWindowInDays, config.recoveryWindowDays, String(s.name));
      assert.equal(s.region, aws.region);
      assert.deepEqual(s.tags, { "veza:environment": "staging", "veza:managed-by": "pulumi" });
    }
    const role = findResource(run, "aws:iam/role:Role", "aws-secrets-eso");
    const roleArn = (role.outputs as { arn: string }).arn;
    assert.ok(roleArn.startsWith(`arn:aws:iam::${aws.accountId}:role/`), roleArn);
    assert.ok(
      JSON.stringify(unwrapSecrets(role.inputs.assumeRolePolicy)).includes(
        `system:serviceaccount:${config.namespaces.workloads}:${storeServiceAccount("aws-store")}`,
      ),
    );
    const store = storeSpec(run, "aws-store").aws;
    assert.equal(store.region, aws.region);
    assert.deepEqual(store.auth, { jwt: { serviceAccountRef: { name: storeServiceAccount("aws-store") } } });
    const key = findResource(run, "aws:kms/key:Key", "aws-secrets-key");
    assert.deepEqual(outputsOf(run).backends.aws, { region: aws.region, prefix: "veza/staging/", roleArn, kmsKeyArn: (key.outputs as { arn: string }).arn });
  });

  it("Google Secret Manager: veza-<env>-<key> in the stack's project and locations, labelled; the store reads through Workload Identity as eso-veza-<env>", async () => {
    const { config, run } = await build("staging", "gcp");
    const gcp = config.gcp as NonNullable<StackConfig["gcp"]>;
    const secrets = resourcesOfType(run, "gcp:secretmanager/secret:Secret").map(inputs);
    assert.deepEqual(
      secrets.map((s) => s.secretId).sort(),
      storedKeys(config)
        .map((k) => `veza-staging-${k}`)
        .sort(),
    );
    for (const s of secrets) {
      assert.equal(s.project, gcp.project);
      assert.deepEqual(s.labels, { "veza-environment": "staging", "veza-managed-by": "pulumi" });
      assert.deepEqual(s.replication, { userManaged: { replicas: gcp.replicationLocations.map((location) => ({ location })) } });
    }
    const account = findResource(run, "gcp:serviceaccount/account:Account", "gcp-secrets-eso");
    assert.equal(account.inputs.accountId, "eso-veza-staging");
    const email = (account.outputs as { email: string }).email;
    const store = storeSpec(run, "gcp-store").gcpsm;
    assert.equal(store.projectID, gcp.project);
    assert.deepEqual((store.auth as { workloadIdentity: Record<string, unknown> }).workloadIdentity, {
      clusterLocation: gcp.clusterLocation,
      clusterName: gcp.clusterName,
      clusterProjectID: gcp.project,
      serviceAccountRef: { name: storeServiceAccount("gcp-store") },
    });
    assert.deepEqual(outputsOf(run).backends.gcp, { project: gcp.project, prefix: "veza-staging-", serviceAccountEmail: email });
    assert.ok(resourcesOfType(run, "gcp:projects/iAMAuditConfig:IAMAuditConfig").length === (gcp.dataAccessAuditLogs ? 1 : 0));
  });

  it("Azure Key Vault: 90 days' soft delete and purge protection in production, 7 days and none elsewhere; the store reads the vault with its workload identity", async () => {
    for (const stack of ["staging", "production"]) {
      const { config, run } = await build(stack, "azure");
      const azure = config.azure as NonNullable<StackConfig["azure"]>;
      const vault = inputs(findResource(run, "azure-native:keyvault:Vault", "azure-key-vault"));
      const props = vault.properties as { softDeleteRetentionInDays: number; enablePurgeProtection?: boolean; tenantId: string };
      assert.equal(props.softDeleteRetentionInDays, stack === "production" ? 90 : 7, stack);
      assert.equal(props.enablePurgeProtection ?? false, stack === "production", stack);
      assert.equal(props.tenantId, azure.tenantId);
      assert.equal(vault.vaultName, azure.keyVaultName);
      assert.equal(vault.resourceGroupName, azure.resourceGroupName);
      assert.deepEqual(vault.tags, { "veza-environment": stack, "veza-managed-by": "pulumi" });
      const secrets = resourcesOfType(run, "azure-native:keyvault:Secret").map(inputs);
      assert.deepEqual(
        secrets.map((s) => s.secretName).sort(),
        storedKeys(config)
          .map((k) => `veza-${stack}-${k}`)
          .sort(),
      );

      const store = storeSpec(run, "azure-store").azurekv;
      assert.equal(store.tenantId, azure.tenantId);
      assert.equal(store.authType, "WorkloadIdentity");
      assert.deepEqual(store.serviceAccountRef, { name: storeServiceAccount("azure-store") });
      const vaultUri = (findResource(run, "azure-native:keyvault:Vault", "azure-key-vault").outputs as { properties: { vaultUri: string } }).properties
        .vaultUri;
      assert.equal(store.vaultUrl, vaultUri);
      const out = outputsOf(run).backends.azure;
      assert.equal(out.vaultName, azure.keyVaultName);
      assert.equal(out.prefix, `veza-${stack}-`);
      assert.ok(typeof out.clientId === "string" && out.clientId.length > 0);
      assert.ok(outputsOf(run).secretStores.includes("azure-store"));
    }
  });
});
