/** Test helper: what the Kubernetes RBAC authoriser would allow, from what a program registered. */
import { resourcesOfType, type ProgramRun } from "../harness";

interface Rule {
  apiGroups: string[];
  resources: string[];
  resourceNames?: string[];
  verbs: string[];
}
type Meta = { name: string; namespace?: string; labels?: Record<string, string> };
const meta = (r: { inputs: Record<string, unknown> }) => r.inputs.metadata as Meta;
const ROLE = "kubernetes:rbac.authorization.k8s.io/v1:Role";
const BINDING = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding";
const SA = "kubernetes:core/v1:ServiceAccount";

/**
 * Which Secrets each ServiceAccount may `get`, as the API server's RBAC authoriser would decide
 * it from the registered Roles and RoleBindings (namespaced, core group, by resourceNames).
 */
export function readableSecrets(run: ProgramRun, namespace: string): Record<string, string[]> {
  const roles = resourcesOfType(run, ROLE).filter((r) => meta(r).namespace === namespace);
  const out: Record<string, string[]> = {};
  for (const sa of resourcesOfType(run, SA).filter((s) => meta(s).namespace === namespace)) out[meta(sa).name] = [];
  for (const b of resourcesOfType(run, BINDING).filter((x) => meta(x).namespace === namespace)) {
    const ref = b.inputs.roleRef as { apiGroup: string; kind: string; name: string };
    const role = roles.find((r) => meta(r).name === ref.name);
    if (ref.kind !== "Role" || ref.apiGroup !== "rbac.authorization.k8s.io" || !role) continue;
    const names = (role.inputs.rules as Rule[])
      .filter((rule) => rule.apiGroups.includes("") && rule.resources.includes("secrets") && rule.verbs.includes("get"))
      .flatMap((rule) => rule.resourceNames ?? ["*"]);
    for (const s of b.inputs.subjects as { kind: string; name: string; namespace: string }[]) {
      if (s.kind !== "ServiceAccount" || s.namespace !== namespace) continue;
      out[s.name] = [...(out[s.name] ?? []), ...names].sort();
    }
  }
  return out;
}
