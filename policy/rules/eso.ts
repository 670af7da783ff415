/** Policies: Kubernetes Secrets come from External Secrets Operator, through namespaced stores. */
import { objectName, resourcePolicy, stackPolicy } from "../define";
import { type Plain, Unknown, at, isObject, list, str } from "../props";
import { T, isEsoKind } from "../resources";

export const kubernetesSecretsThroughEso = stackPolicy(
  {
    name: "kubernetes-secrets-through-eso",
    description:
      "The program writes Kubernetes Secrets itself only in the spec's development option (providers [kubernetes]): never next to ExternalSecrets, and never in staging or production.",
    enforcementLevel: "mandatory",
  },
  (resources, f, env) => {
    const esoInUse = resources.some((r) => isEsoKind(r.type, "ExternalSecret"));
    for (const r of resources.filter((x) => x.type === T.secret)) {
      const name = objectName(r);
      if (esoInUse) {
        f.violation(
          `Secret "${name}" is written by the program although this stack runs External Secrets Operator: produce it with an ExternalSecret so its value stays in the backend.`,
          r.urn,
        );
      } else if (env !== undefined && env !== "development") {
        f.violation(
          `Secret "${name}" is written by the program in ${env}: plain Kubernetes Secrets (the spec's option 1) are for development only; use External Secrets Operator (providers vault, aws, gcp or azure).`,
          r.urn,
        );
      }
    }
  },
);

function storeProblem(ref: Plain): string | undefined {
  if (!isObject(ref)) return undefined;
  const kind = ref.kind;
  if (kind instanceof Unknown || kind === undefined || kind === "SecretStore") return undefined;
  return `${String(kind)} "${str(ref.name) ?? "?"}"`;
}

export const externalSecretNamespacedStore = resourcePolicy(
  {
    name: "external-secret-namespaced-store",
    description:
      "Every ExternalSecret reads through a namespaced SecretStore in its own namespace (kind SecretStore), never a ClusterSecretStore; no ClusterExternalSecret.",
    enforcementLevel: "mandatory",
  },
  (type) => isEsoKind(type, "ExternalSecret") || isEsoKind(type, "ClusterExternalSecret"),
  (r, f) => {
    const name = objectName(r);
    const fix = "reference a SecretStore (kind: SecretStore) in the ExternalSecret's own namespace";
    if (isEsoKind(r.type, "ClusterExternalSecret")) {
      f.violation(
        `ClusterExternalSecret "${name}" copies secrets into many namespaces: create one ExternalSecret per namespace, each reading a namespaced SecretStore.`,
      );
      return;
    }
    const spec = at(r.props, "spec");
    if (f.unknown(spec)) return;
    const storeRef = at(spec, "secretStoreRef");
    if (f.unknown(storeRef)) return;
    // Without a top-level store, every entry must name its own (sourceRef.storeRef).
    const entries = [...list(at(spec, "data")), ...list(at(spec, "dataFrom"))];
    const everyEntryHasStore = entries.length > 0 && entries.every((d) => isObject(at(d, "sourceRef", "storeRef")));
    if (!isObject(storeRef) && !everyEntryHasStore) f.violation(`ExternalSecret "${name}" has no spec.secretStoreRef: ${fix}.`);
    const top = storeProblem(storeRef);
    if (top) f.violation(`ExternalSecret "${name}" spec.secretStoreRef reads through ${top}: ${fix}.`);
    for (const field of ["data", "dataFrom"]) {
      list(at(spec, field)).forEach((d, i) => {
        const p = storeProblem(at(d, "sourceRef", "storeRef"));
        if (p) f.violation(`ExternalSecret "${name}" spec.${field}[${i}].sourceRef reads through ${p}: ${fix}.`);
      });
    }
  },
);

function restrictsNamespaces(condition: Plain): boolean {
  if (!isObject(condition)) return false;
  const nonEmptyList = (v: Plain) => Array.isArray(v) && v.length > 0;
  const selector = condition.namespaceSelector;
  const selects =
    isObject(selector) && ((isObject(selector.matchLabels) && Object.keys(selector.matchLabels).length > 0) || nonEmptyList(selector.matchExpressions));
  return nonEmptyList(condition.namespaces) || nonEmptyList(condition.namespaceRegexes) || selects;
}

export const clusterSecretStoreConditions = resourcePolicy(
  {
    name: "cluster-secret-store-conditions",
    description:
      "A ClusterSecretStore, if any, restricts which namespaces may use it (spec.conditions with namespaces, a namespaceSelector or namespaceRegexes).",
    enforcementLevel: "mandatory",
  },
  (type) => isEsoKind(type, "ClusterSecretStore"),
  (r, f) => {
    const name = objectName(r);
    const conditions = at(r.props, "spec", "conditions");
    if (f.unknown(conditions)) return;
    if (!Array.isArray(conditions) || conditions.length === 0) {
      f.violation(
        `ClusterSecretStore "${name}" has no spec.conditions: every namespace could read its secrets; restrict it with conditions[].namespaces, namespaceSelector or namespaceRegexes, or use a namespaced SecretStore.`,
      );
      return;
    }
    conditions.forEach((c, i) => {
      if (!f.unknown(c) && !restrictsNamespaces(c)) {
        f.violation(`ClusterSecretStore "${name}" spec.conditions[${i}] matches every namespace: list namespaces, a namespaceSelector or namespaceRegexes.`);
      }
    });
  },
);
