/** Policies: Never commit secrets: no plaintext secret in ConfigMaps, env literals or Helm values. */
import { type CheckedResource, objectName, resourcePolicy } from "../define";
import { type PlainObject, Unknown, at, formatPath, isObject, leaves, list, str } from "../props";
import { T, WORKLOAD_TYPES, isVaultRelease, podContainers } from "../resources";
import { isSecretEnvName, isSecretKeyName, secretAssignments, secretValueShape } from "../secret-patterns";

const ESO_FIX = "put it in the secret backend and let an ExternalSecret produce a Kubernetes Secret instead";

export const configMapNoPlaintextSecrets = resourcePolicy(
  {
    name: "configmap-no-plaintext-secrets",
    description: "ConfigMaps hold no secrets: no secret-named key with a value, no value shaped like a private key, credential URL or token.",
    enforcementLevel: "mandatory",
  },
  (type) => type === T.configMap,
  (r, f) => {
    const name = objectName(r);
    for (const field of ["data", "binaryData"]) {
      const data = at(r.props, field);
      if (f.unknown(data) || !isObject(data)) continue;
      for (const [key, value] of Object.entries(data)) {
        if (value instanceof Unknown) {
          if (isSecretKeyName(key)) f.violation(`ConfigMap "${name}" key "${key}" holds a secret in plain text: ${ESO_FIX}.`);
          continue;
        }
        if (typeof value !== "string" || value === "") continue;
        if (isSecretKeyName(key)) {
          f.violation(`ConfigMap "${name}" key "${key}" holds a secret in plain text: ${ESO_FIX}.`);
          continue;
        }
        if (field === "binaryData") continue;
        const shape = secretValueShape(value);
        if (shape) {
          f.violation(`ConfigMap "${name}" key "${key}" holds ${shape}: ${ESO_FIX}.`);
          continue;
        }
        const assigned = secretAssignments(value);
        if (assigned.length) f.violation(`ConfigMap "${name}" key "${key}" sets ${assigned.join(", ")} in plain text: ${ESO_FIX}.`);
      }
    }
  },
);

export const envNoSecretLiterals = resourcePolicy(
  {
    name: "env-no-secret-literals",
    description: "Containers take secrets from Secrets (valueFrom.secretKeyRef, envFrom), never as literal env values (*PASSWORD*, *SECRET*, *TOKEN*, *KEY*).",
    enforcementLevel: "mandatory",
  },
  (type) => WORKLOAD_TYPES.includes(type),
  (r, f) => {
    for (const { container } of podContainers(r.type, r.props)) {
      const cname = str(container.name) ?? "?";
      for (const item of list(at(container, "env"))) {
        if (!isObject(item)) continue;
        const envName = str(item.name) ?? "?";
        const value = item.value;
        const fix = "use valueFrom.secretKeyRef on a Secret produced by an ExternalSecret";
        if (isSecretEnvName(envName) && (value instanceof Unknown || (typeof value === "string" && value !== ""))) {
          f.violation(`${objectName(r)}: container "${cname}" env "${envName}" sets a secret as a literal value: ${fix}.`);
          continue;
        }
        const shape = typeof value === "string" ? secretValueShape(value) : undefined;
        if (shape) f.violation(`${objectName(r)}: container "${cname}" env "${envName}" holds ${shape}: ${fix}.`);
      }
    }
  },
);

/** The one secret-named Helm value allowed: Vault's dev root token, in dev mode only (see the file header). */
function allowedSecretValue(r: CheckedResource, path: (string | number)[]): boolean {
  return isVaultRelease(r.type, r.props) && formatPath(path) === "server.dev.devRootToken" && at(r.props, "values", "server", "dev", "enabled") === true;
}

/** `secretKey` next to `secretName` (a chart's Secret selector) names a key inside a Secret: a reference, not a value. */
function isReferenceKey(key: string, parent: PlainObject | undefined): boolean {
  return key === "secretKey" && parent !== undefined && "secretName" in parent;
}

export const helmValuesNoSecretLiterals = resourcePolicy(
  {
    name: "helm-values-no-secret-literals",
    description:
      "Helm release values carry no secrets (Helm stores them in the release Secret and `helm get values` prints them); the only exception is Vault's dev-mode server.dev.devRootToken, which the program passes as a Pulumi secret.",
    enforcementLevel: "mandatory",
  },
  (type) => type === T.release || type === T.chartV4,
  (r, f) => {
    const values = at(r.props, "values");
    if (f.unknown(values)) return;
    const fix = "reference a Kubernetes Secret from the chart (e.g. extraSecretEnvironmentVars) instead of putting the value in values";
    for (const { path, value, parent } of leaves(values)) {
      const key = path[path.length - 1];
      const where = `Helm release "${r.name}" value ${formatPath(path)}`;
      const secretKey = typeof key === "string" && isSecretKeyName(key) && !isReferenceKey(key, parent);
      if (secretKey && (value instanceof Unknown || (typeof value === "string" && value !== ""))) {
        if (!allowedSecretValue(r, path)) f.violation(`${where} holds a secret literal: ${fix}.`);
        continue;
      }
      if (typeof value !== "string") continue;
      const shape = secretValueShape(value);
      if (shape) {
        f.violation(`${where} holds ${shape}: ${fix}.`);
        continue;
      }
      const assigned = secretAssignments(value);
      if (assigned.length) f.violation(`${where} sets ${assigned.join(", ")} in plain text: ${fix}.`);
    }
  },
);
