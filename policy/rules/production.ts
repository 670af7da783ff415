/** Policies: Production: stateful resources protected; every stack knows its environment. */
import { objectName, stackPolicy } from "../define";
import { at } from "../props";
import { ENVIRONMENT_LABEL, ENVIRONMENTS, T, isEsoKind, isVaultRelease, namespaceOf, stackEnvironment } from "../resources";

const PROTECTED_IN_PRODUCTION: Record<string, string> = {
  [T.awsSecret]: "Secrets Manager secret",
  [T.awsKmsKey]: "KMS key",
  [T.gcpSecret]: "Secret Manager secret",
  [T.azureVault]: "Key Vault",
  [T.azureSecret]: "Key Vault secret",
};

export const productionStatefulProtected = stackPolicy(
  {
    name: "production-stateful-protected",
    description:
      "In production, Namespaces holding secrets, the Vault release, cloud secrets, KMS keys and Key Vaults are protected (protect: true) against destroy and replacement.",
    enforcementLevel: "mandatory",
  },
  (resources, f, env) => {
    if (env !== "production") return;
    const fix = "set protect: true so neither pulumi destroy nor a replacement can delete it";
    // Namespaces that hold secrets: targeted by a Secret, an ExternalSecret, a SecretStore or the Vault release.
    const holding = new Set<string>();
    for (const r of resources) {
      const holds = r.type === T.secret || isEsoKind(r.type, "ExternalSecret") || isEsoKind(r.type, "SecretStore") || isVaultRelease(r.type, r.props);
      if (!holds) continue;
      const ns = namespaceOf(r.type, r.props);
      if (!f.unknown(ns) && typeof ns === "string") holding.add(ns);
    }
    for (const r of resources) {
      if (r.protect) continue;
      if (r.type === T.namespace) {
        const name = at(r.props, "metadata", "name");
        if (typeof name === "string" && holding.has(name)) f.violation(`Namespace "${name}" holds secrets but is not protected in production: ${fix}.`, r.urn);
      } else if (isVaultRelease(r.type, r.props)) {
        f.violation(`Vault release "${r.name}" is not protected in production: ${fix} (its StatefulSet's volumes hold Vault's data).`, r.urn);
      } else if (PROTECTED_IN_PRODUCTION[r.type]) {
        f.violation(`${PROTECTED_IN_PRODUCTION[r.type]} "${r.name}" is not protected in production: ${fix}.`, r.urn);
      }
    }
  },
);

/** Resource types whose checks depend on the stack's environment. */
const ENVIRONMENT_DEPENDENT = [
  T.vaultPolicy,
  T.awsSecret,
  T.awsKmsKey,
  T.awsRolePolicy,
  T.azureVault,
  T.gcpSecretIamMember,
  T.gcpSecretIamBinding,
  T.secret,
  // vault-role-token-policies: which policies a login role may hand out depends on the environment.
  "vault:jwt/authBackendRole:AuthBackendRole",
  "vault:kubernetes/authBackendRole:AuthBackendRole",
] as string[];

export const stackEnvironmentLabel = stackPolicy(
  {
    name: "stack-environment-label",
    description: `Every Namespace carries ${ENVIRONMENT_LABEL} (development, staging or production) and they agree: the environment-specific policies read it.`,
    enforcementLevel: "mandatory",
  },
  (resources, f) => {
    const namespaces = resources.filter((r) => r.type === T.namespace);
    for (const r of namespaces) {
      const v = at(r.props, "metadata", "labels", ENVIRONMENT_LABEL);
      if (f.unknown(v)) continue;
      const name = objectName(r);
      if (v === undefined) f.violation(`Namespace "${name}" has no ${ENVIRONMENT_LABEL} label: label every namespace with the stack's environment.`, r.urn);
      else if (typeof v !== "string" || !(ENVIRONMENTS as readonly string[]).includes(v)) {
        f.violation(`Namespace "${name}" is labelled ${ENVIRONMENT_LABEL}=${JSON.stringify(v)}: use development, staging or production.`, r.urn);
      }
    }
    const { env, conflict } = stackEnvironment(resources);
    if (conflict && conflict.length > 1) f.violation(`Namespaces disagree on ${ENVIRONMENT_LABEL} (${conflict.join(", ")}): one stack is one environment.`);
    if (
      env === undefined &&
      !conflict &&
      namespaces.length === 0 &&
      resources.some((r) => ENVIRONMENT_DEPENDENT.includes(r.type) || isVaultRelease(r.type, r.props))
    ) {
      f.violation(`No Namespace carries ${ENVIRONMENT_LABEL}, so the environment-specific policies cannot run: label the stack's namespaces.`);
    }
  },
);
