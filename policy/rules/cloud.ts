/** Policies: Cloud backends: least-privilege ESO identities, encryption at rest, recovery. */
import { resourcePolicy, stackPolicy } from "../define";
import { Unknown, at, str } from "../props";
import { ENVIRONMENTS, type Environment, GCP_BROAD_IAM, T } from "../resources";

interface IamStatement {
  Sid?: string;
  Effect?: string;
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
}

const asList = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** What is wrong with one IAM policy document for environment `env` (any environment when undefined). */
export function iamDocumentProblems(document: string, env: Environment | undefined): string[] {
  let parsed: { Statement?: IamStatement | IamStatement[] };
  try {
    parsed = JSON.parse(document) as typeof parsed;
  } catch {
    return ["is not valid JSON"];
  }
  const statements = Array.isArray(parsed.Statement) ? parsed.Statement : parsed.Statement ? [parsed.Statement] : [];
  const prefix = env ? `veza/${env}/` : `veza/(${ENVIRONMENTS.join("|")})/`;
  const secretArn = new RegExp(`^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\\d{12}:secret:${prefix}`);
  const problems: string[] = [];
  statements.forEach((s, i) => {
    if (s.Effect !== "Allow") return;
    const id = s.Sid ? `statement "${s.Sid}"` : `statement ${i}`;
    if (s.NotAction !== undefined || s.NotResource !== undefined) {
      problems.push(`${id} allows by NotAction/NotResource: list the actions and resources it grants`);
      return;
    }
    const actions = asList(s.Action);
    const resources = asList(s.Resource);
    const wild = actions.filter((a) => a === "*" || /^(secretsmanager|kms):\*$/i.test(a));
    if (wild.length) problems.push(`${id} allows ${wild.map((a) => `"${a}"`).join(", ")}: list the read actions ESO needs`);
    const sm = actions.filter((a) => /^secretsmanager:/i.test(a) || a === "*");
    if (sm.length) {
      for (const res of resources.filter((x) => !secretArn.test(x))) {
        problems.push(
          `${id} grants ${sm.join(", ")} on "${res}": scope it to arn:aws:secretsmanager:<region>:<account>:secret:veza/${env ?? "<environment>"}/*`,
        );
      }
    }
    const kms = actions.filter((a) => /^kms:/i.test(a));
    if (kms.length && resources.includes("*")) problems.push(`${id} grants ${kms.join(", ")} on every KMS key ("*"): name the key`);
  });
  return problems;
}

export const awsEsoReadScoped = stackPolicy(
  {
    name: "aws-eso-read-scoped",
    description:
      "AWS IAM policies grant Secrets Manager access only under this environment's veza/<environment>/ prefix, with named actions and named KMS keys.",
    enforcementLevel: "mandatory",
  },
  (resources, f, env) => {
    for (const r of resources.filter((x) => x.type === T.awsRolePolicy || x.type === T.awsPolicy)) {
      const document = at(r.props, "policy");
      if (f.unknown(document) || typeof document !== "string") continue;
      for (const problem of iamDocumentProblems(document, env)) f.violation(`IAM policy "${r.name}" ${problem}.`, r.urn);
    }
  },
);

const GCP_SECRET_ROLES = ["roles/secretmanager.secretAccessor", "roles/secretmanager.admin", "roles/secretmanager.secretVersionManager"];

export const gcpEsoAccessScoped = stackPolicy(
  {
    name: "gcp-eso-access-scoped",
    description:
      "Google Secret Manager access is granted per secret (SecretIamMember) on this environment's veza-<environment>- secrets, never project-, folder- or organisation-wide.",
    enforcementLevel: "mandatory",
  },
  (resources, f, env) => {
    for (const r of resources) {
      if (GCP_BROAD_IAM.test(r.type)) {
        const level = r.type.slice(4, r.type.indexOf("/"));
        const roles: string[] = [];
        const role = at(r.props, "role");
        if (f.unknown(role)) continue;
        if (typeof role === "string") roles.push(role);
        const policyData = at(r.props, "policyData");
        if (f.unknown(policyData)) continue;
        if (typeof policyData === "string") {
          try {
            const doc = JSON.parse(policyData) as { bindings?: { role?: string }[] };
            for (const b of doc.bindings ?? []) if (b.role) roles.push(b.role);
          } catch {
            // Not JSON: nothing to judge.
          }
        }
        for (const granted of roles.filter((x) => GCP_SECRET_ROLES.includes(x))) {
          f.violation(
            `IAM grant "${r.name}" gives ${granted} on every secret of the ${level === "projects" ? "project" : level === "folder" ? "folder" : "organization"}: grant it per secret (secretmanager.SecretIamMember) instead.`,
            r.urn,
          );
        }
      } else if ((r.type === T.gcpSecretIamMember || r.type === T.gcpSecretIamBinding) && env !== undefined) {
        const secretId = at(r.props, "secretId");
        if (f.unknown(secretId) || typeof secretId !== "string") continue;
        const id = secretId.split("/").pop() ?? secretId;
        if (!id.startsWith(`veza-${env}-`)) {
          f.violation(
            `Secret IAM grant "${r.name}" gives ${str(at(r.props, "role")) ?? "a role"} on "${id}", which is not one of this environment's veza-${env}- secrets.`,
            r.urn,
          );
        }
      }
    }
  },
);

const KEY_VAULT_SCOPE = /\/providers\/Microsoft\.KeyVault\/vaults\/[^/]+(\/(secrets|keys)\/[^/]+)?$/i;

export const azureRoleAssignmentScope = resourcePolicy(
  {
    name: "azure-role-assignment-scope",
    description: "Azure role assignments are scoped to one Key Vault (or one of its secrets or keys), never a subscription or resource group.",
    enforcementLevel: "mandatory",
  },
  (type) => type === T.azureRoleAssignment,
  (r, f) => {
    const scope = at(r.props, "scope");
    if (f.unknown(scope)) return;
    if (typeof scope !== "string" || !KEY_VAULT_SCOPE.test(scope)) {
      f.violation(
        `Role assignment "${r.name}" is scoped to "${String(scope)}": scope it to the Key Vault (or one secret), never a subscription or resource group.`,
      );
    }
  },
);

export const awsSecretsEncrypted = resourcePolicy(
  {
    name: "aws-secrets-encrypted-with-cmk",
    description: "Secrets Manager secrets are encrypted with a customer-managed KMS key (kmsKeyId), and KMS keys rotate automatically.",
    enforcementLevel: "mandatory",
  },
  (type) => type === T.awsSecret || type === T.awsKmsKey,
  (r, f) => {
    if (r.type === T.awsKmsKey) {
      const rotation = at(r.props, "enableKeyRotation");
      if (f.unknown(rotation)) return;
      if (rotation !== true) f.violation(`KMS key "${r.name}" does not rotate: set enableKeyRotation: true.`);
      return;
    }
    const key = at(r.props, "kmsKeyId");
    // Unknown at preview means computed from the key resource: set, so fine.
    if (key instanceof Unknown) return;
    const secretName = str(at(r.props, "name")) ?? r.name;
    if (typeof key !== "string" || key === "" || key === "alias/aws/secretsmanager") {
      f.violation(`Secrets Manager secret "${secretName}" has no customer-managed kmsKeyId: encrypt it with the stack's KMS key, not the AWS-managed default.`);
    }
  },
);

export const awsSecretsRecoveryWindow = stackPolicy(
  {
    name: "aws-secrets-recovery-window",
    description: "Deleted Secrets Manager secrets and KMS keys stay recoverable: at least 7 days, 30 in production.",
    enforcementLevel: "mandatory",
  },
  (resources, f, env) => {
    const minimum = env === "production" ? 30 : 7;
    for (const r of resources) {
      const field = r.type === T.awsSecret ? "recoveryWindowInDays" : r.type === T.awsKmsKey ? "deletionWindowInDays" : undefined;
      if (!field) continue;
      const days = at(r.props, field);
      if (f.unknown(days) || days === undefined) continue; // AWS default: 30 days.
      if (typeof days === "number" && days >= minimum) continue;
      const what = r.type === T.awsSecret ? `Secrets Manager secret "${str(at(r.props, "name")) ?? r.name}"` : `KMS key "${r.name}"`;
      f.violation(
        `${what} has ${field} ${String(days)}: use at least ${minimum} days${env === "production" ? " in production" : ""} (0 deletes without recovery).`,
        r.urn,
      );
    }
  },
);

export const azureKeyVaultProtection = stackPolicy(
  {
    name: "azure-key-vault-protection",
    description: "Key Vaults keep soft delete on, and in production purge protection, so deleted secrets cannot be purged before their retention ends.",
    enforcementLevel: "mandatory",
  },
  (resources, f, env) => {
    for (const r of resources.filter((x) => x.type === T.azureVault)) {
      const properties = at(r.props, "properties");
      if (f.unknown(properties)) continue;
      const vaultName = str(at(r.props, "vaultName")) ?? r.name;
      if (at(properties, "enableSoftDelete") === false) f.violation(`Key Vault "${vaultName}" turns soft delete off: leave enableSoftDelete on.`, r.urn);
      const purge = at(properties, "enablePurgeProtection");
      if (env === "production" && !f.unknown(purge) && purge !== true) {
        f.violation(`Key Vault "${vaultName}" has no purge protection in production: set enablePurgeProtection: true.`, r.urn);
      }
    }
  },
);
