/**
 * What the mock providers answer: identities derived from the inputs the program passed
 * (region, account, names), distinct per resource, so a fake can never make a wrong ARN or
 * a shared identity look right.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { UNKNOWN, isPlainObject } from "./wire";

/**
 * The account and subscription of the credentials the engine runs with: the program cannot
 * choose them, so they are values no stack file uses. A resource whose identity should carry
 * the stack's account gets it from the inputs the program passes (a key policy, a trust
 * policy, a KMS key ARN); if the program forgets it, the fake shows this one instead.
 */
export const FAKE_CALLER_ACCOUNT = "999999999999";
export const FAKE_SUBSCRIPTION = "22222222-2222-2222-2222-222222222222";
/** What a regional AWS resource gets when neither it nor its provider names a region. */
export const FAKE_UNSET_REGION = "region-not-set";

/** A stable hex digest of a resource's identity (type and name): distinct per resource. */
function digest(...parts: string[]): string {
  return createHash("sha256").update(parts.join("\u0000")).digest("hex");
}
/** A UUID-shaped value, stable per resource and purpose, distinct across resources. */
export function fakeUuid(...parts: string[]): string {
  const h = digest(...parts);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** What a fake may read besides the resource's own inputs: its provider's inputs. */
export interface FakeContext {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
  provider: Record<string, unknown>;
  /** The id of a resource the program reads (`.get`); undefined for one it registers. */
  id?: string;
}

/** A CRD as the cluster would answer a read of it: ESO's vendored CRDs (test/upstream), else none. */
function vendoredCrd(name: string): Record<string, unknown> | undefined {
  const dir = path.join(__dirname, "..", "test", "upstream", "external-secrets", "crds");
  for (const file of fs.readdirSync(dir)) {
    const crd = yaml.load(fs.readFileSync(path.join(dir, file), "utf8")) as { metadata: { name: string } };
    if (crd.metadata.name === name) return crd as unknown as Record<string, unknown>;
  }
  return undefined;
}

/** The AWS account the inputs name (`arn:aws:<service>:<region>:<account>:`), else the caller's. */
function awsAccount(c: FakeContext): string {
  const m = /arn:aws:[a-z0-9-]+:[a-z0-9-]*:(\d{12}):/.exec(JSON.stringify(c.inputs));
  // Providers receive non-string settings JSON-encoded, as the engine passes them.
  const raw = c.provider.allowedAccountIds;
  const allowed: unknown = typeof raw === "string" ? JSON.parse(raw) : raw;
  return m?.[1] ?? (Array.isArray(allowed) && typeof allowed[0] === "string" ? allowed[0] : FAKE_CALLER_ACCOUNT);
}
/** The region the resource is created in: its own `region`, else its provider's. */
function awsRegion(c: FakeContext): string {
  return String(c.inputs.region ?? c.provider.region ?? FAKE_UNSET_REGION);
}

/**
 * Identities and outputs the mocks compute, by type, from what the program passed: ARNs from
 * the region and account in the inputs, ids and client ids distinct per resource. Returns the
 * id and the outputs added on top of the inputs.
 */
export const FAKES: Record<string, (c: FakeContext) => { id: string; outputs?: Record<string, unknown> }> = {
  // A read of an installed CRD (ESO installed by the platform): the vendored CRD, or a read that fails.
  "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition": (c) => {
    if (!c.id) return { id: c.name };
    const crd = vendoredCrd(c.id);
    if (!crd) throw new Error(`resource '${c.id}' does not exist`);
    return { id: c.id, outputs: crd };
  },
  // The random provider's own id for every password.
  "random:index/randomPassword:RandomPassword": (c) => ({
    id: "none",
    outputs: { result: `FAKE-GENERATED-${c.name}-0000000000000000000000000000000000000000000000` },
  }),
  "aws:kms/key:Key": (c) => {
    const keyId = fakeUuid(c.type, c.name);
    return { id: keyId, outputs: { keyId, arn: `arn:aws:kms:${awsRegion(c)}:${awsAccount(c)}:key/${keyId}` } };
  },
  "aws:secretsmanager/secret:Secret": (c) => {
    // AWS appends six random characters to the name; the id is the ARN.
    const arn = `arn:aws:secretsmanager:${awsRegion(c)}:${awsAccount(c)}:secret:${String(c.inputs.name ?? c.name)}-${digest(c.type, c.name).slice(0, 6)}`;
    return { id: arn, outputs: { arn } };
  },
  "aws:iam/role:Role": (c) => {
    const roleName = String(c.inputs.name ?? c.name);
    return {
      id: roleName,
      outputs: { arn: `arn:aws:iam::${awsAccount(c)}:role/${roleName}`, uniqueId: `AROA${digest(c.type, c.name).slice(0, 17).toUpperCase()}` },
    };
  },
  "gcp:serviceaccount/account:Account": (c) => {
    const project = String(c.inputs.project ?? c.provider.project ?? "project-not-set");
    const email = `${String(c.inputs.accountId ?? c.name)}@${project}.iam.gserviceaccount.com`;
    return { id: `projects/${project}/serviceAccounts/${email}`, outputs: { email, uniqueId: String(BigInt(`0x${digest(c.type, c.name).slice(0, 15)}`)) } };
  },
  "gcp:secretmanager/secret:Secret": (c) => {
    const project = String(c.inputs.project ?? c.provider.project ?? "project-not-set");
    return { id: `projects/${project}/secrets/${String(c.inputs.secretId)}` };
  },
  "azure-native:managedidentity:UserAssignedIdentity": (c) => ({
    id: `/subscriptions/${FAKE_SUBSCRIPTION}/resourceGroups/${String(c.inputs.resourceGroupName)}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${String(c.inputs.resourceName ?? c.name)}`,
    outputs: { clientId: fakeUuid(c.type, c.name, "client"), principalId: fakeUuid(c.type, c.name, "principal") },
  }),
  "azure-native:keyvault:Vault": (c) => {
    const vaultName = String(c.inputs.vaultName ?? c.name);
    return {
      id: `/subscriptions/${FAKE_SUBSCRIPTION}/resourceGroups/${String(c.inputs.resourceGroupName)}/providers/Microsoft.KeyVault/vaults/${vaultName}`,
      outputs: { properties: { ...(c.inputs.properties as object), vaultUri: `https://${vaultName}.vault.azure.net/` } },
    };
  },
};

/** `inputs` with every value `outputs` would add or change replaced by an unknown, nested objects merged. */
export function withUnknownOutputs(inputs: Record<string, unknown>, outputs: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...inputs };
  for (const [k, v] of Object.entries(outputs)) {
    out[k] =
      isPlainObject(v) && isPlainObject(inputs[k])
        ? withUnknownOutputs(
            inputs[k] as Record<string, unknown>,
            Object.fromEntries(Object.entries(v).filter(([kk, vv]) => (inputs[k] as Record<string, unknown>)[kk] !== vv)),
          )
        : UNKNOWN;
  }
  return out;
}

export function fakeId(c: FakeContext): string {
  const meta = c.inputs.metadata as { name?: string; namespace?: string } | undefined;
  // The Kubernetes provider's ids: `namespace/name`, or `name` for cluster-scoped objects.
  if (c.type.startsWith("kubernetes:") && meta?.name) return meta.namespace ? `${meta.namespace}/${meta.name}` : meta.name;
  return `${c.name}-${digest(c.type, c.name).slice(0, 8)}`;
}
