/**
 * ESO's admission webhook: the rules no CRD schema expresses, transcribed from ESO 2.9's Go
 * validation, checked next to the CRD schemas (test/schemas.ts) for every custom resource.
 */
import { type JsonObject, isObject } from "./json";

// (apis/externalsecrets/v1/externalsecret_validator.go, secretstore_validator.go and the Vault
// provider's providers/v1/vault/validate.go). The API server applies the CRD's defaults
// (creationPolicy Owner, deletionPolicy Retain) before the webhook sees the object.

export function webhookErrors(obj: JsonObject): string[] {
  const spec = isObject(obj.spec) ? obj.spec : {};
  const prefix = `${String(obj.kind)} webhook`;
  if (obj.apiVersion === "external-secrets.io/v1" && obj.kind === "ExternalSecret") return externalSecretWebhook(spec).map((e) => `${prefix}: ${e}`);
  if (obj.apiVersion === "external-secrets.io/v1" && (obj.kind === "SecretStore" || obj.kind === "ClusterSecretStore")) {
    const namespace = isObject(obj.metadata) && typeof obj.metadata.namespace === "string" ? obj.metadata.namespace : undefined;
    return storeWebhook(spec, obj.kind, namespace).map((e) => `${prefix}: ${e}`);
  }
  return [];
}

function externalSecretWebhook(spec: JsonObject): string[] {
  const errors: string[] = [];
  const target = isObject(spec.target) ? spec.target : {};
  const creation = target.creationPolicy ?? "Owner";
  const deletion = target.deletionPolicy ?? "Retain";
  // validatePolicies
  if (deletion === "Delete" && (creation === "Merge" || creation === "None")) {
    errors.push("deletionPolicy=Delete must not be used when the controller doesn't own the secret. Please set creationPolicy=Owner");
  }
  if (deletion === "Merge" && creation === "None")
    errors.push("deletionPolicy=Merge must not be used with creationPolicy=None. There is no Secret to merge with");
  const data = Array.isArray(spec.data) ? spec.data : [];
  const dataFrom = Array.isArray(spec.dataFrom) ? spec.dataFrom : [];
  if (data.length === 0 && dataFrom.length === 0) errors.push("either data or dataFrom should be specified");
  for (const ref of dataFrom) {
    const r = isObject(ref) ? ref : {};
    const sourceRef = isObject(r.sourceRef) ? r.sourceRef : undefined;
    const generatorRef = sourceRef?.generatorRef !== undefined;
    const set = [r.find !== undefined, r.extract !== undefined, generatorRef].filter(Boolean).length;
    if (set > 1) errors.push("extract, find, or generatorRef cannot be set at the same time");
    if (r.find === undefined && r.extract === undefined && sourceRef === undefined) errors.push("either extract, find, or sourceRef must be set to dataFrom");
    if (sourceRef && sourceRef.generatorRef === undefined && sourceRef.storeRef === undefined)
      errors.push("generatorRef or storeRef must be set when using sourceRef in dataFrom");
  }
  // validateDuplicateKeys: only checked with deletionPolicy Retain.
  if (deletion === "Retain") {
    const seen = new Set<unknown>();
    for (const d of data) {
      const key = isObject(d) ? d.secretKey : undefined;
      if (seen.has(key)) errors.push(`duplicate secretKey found: ${String(key)}`);
      seen.add(key);
    }
  }
  return errors;
}

/**
 * ESO's ExternalSecret webhook rules alone (`externalsecret_validator.go`), without the
 * `ExternalSecret webhook:` prefix `validateCustomResource` adds: `[]` = admitted.
 */
export function validateExternalSecretWebhook(obj: unknown): string[] {
  if (!isObject(obj) || obj.kind !== "ExternalSecret") throw new TypeError("validateExternalSecretWebhook: expected an ExternalSecret");
  return externalSecretWebhook(isObject(obj.spec) ? obj.spec : {});
}

function storeWebhook(spec: JsonObject, kind: string, namespace: string | undefined): string[] {
  const errors: string[] = [];
  // validateConditions: each namespace regex must compile (Go RE2; JS RegExp is close enough here).
  for (const [ci, cond] of (Array.isArray(spec.conditions) ? spec.conditions : []).entries()) {
    const regexes = isObject(cond) && Array.isArray(cond.namespaceRegexes) ? cond.namespaceRegexes : [];
    for (const [ri, re] of regexes.entries()) {
      try {
        new RegExp(String(re));
      } catch {
        errors.push(`failed to compile ${ri}th namespace regex in ${ci}th condition`);
      }
    }
  }
  const provider = isObject(spec.provider) ? spec.provider : {};
  const vault = isObject(provider.vault) ? provider.vault : undefined;
  if (!vault) return errors;
  // esutils.ValidateReferent*Selector: a namespaced store may only name its own namespace.
  const referent = (what: string, selector: unknown) => {
    if (kind === "SecretStore" && isObject(selector) && selector.namespace !== undefined && selector.namespace !== namespace) {
      errors.push(`invalid ${what}: namespace should either be empty or match the namespace of the SecretStore for a namespaced SecretStore`);
    }
  };
  const auth = isObject(vault.auth) ? vault.auth : {};
  const k8s = isObject(auth.kubernetes) ? auth.kubernetes : undefined;
  if (k8s) {
    referent("Auth.Kubernetes.ServiceAccountRef", k8s.serviceAccountRef);
    referent("Auth.Kubernetes.SecretRef", k8s.secretRef);
  }
  const jwt = isObject(auth.jwt) ? auth.jwt : undefined;
  if (jwt) {
    if (jwt.secretRef !== undefined) referent("Auth.Jwt.SecretRef", jwt.secretRef);
    else if (isObject(jwt.kubernetesServiceAccountToken))
      referent("Auth.Jwt.KubernetesServiceAccountToken.ServiceAccountRef", jwt.kubernetesServiceAccountToken.serviceAccountRef);
    else errors.push("invalid Auth.Jwt: one of secretRef or kubernetesServiceAccountToken is required");
  }
  if (auth.tokenSecretRef !== undefined) referent("Auth.TokenSecretRef", auth.tokenSecretRef);
  const tls = isObject(vault.tls) ? vault.tls : {};
  if ((tls.certSecretRef === undefined) !== (tls.keySecretRef === undefined))
    errors.push("when provided, both ClientTLS.ClientCert and ClientTLS.SecretRef should be provided");
  const cas = isObject(vault.checkAndSet) ? vault.checkAndSet : undefined;
  if (cas?.required === true && vault.version === "v1") errors.push("checkAndSet is not supported with Vault KV version v1");
  return errors;
}
