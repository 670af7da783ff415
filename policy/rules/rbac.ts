/** Policies: Limit access with RBAC: get/list on named Secrets, namespaced. */
import { objectName, resourcePolicy } from "../define";
import { Findings, type Plain, at, list } from "../props";
import { T } from "../resources";

const READ_VERBS = ["get", "list"];
/** Built-in ClusterRoles that read and write Secrets. */
const SECRET_WRITING_CLUSTER_ROLES = ["cluster-admin", "admin", "edit"];

function rulesOnSecrets(props: Plain, f: Findings): { index: number; verbs: string[]; resourceNames: string[] }[] {
  const rules = at(props, "rules");
  if (f.unknown(rules)) return [];
  const out: { index: number; verbs: string[]; resourceNames: string[] }[] = [];
  list(rules).forEach((rule, index) => {
    if (f.unknown(rule)) return;
    const groups = list(at(rule, "apiGroups"));
    const resources = list(at(rule, "resources"));
    if (groups.some((g) => f.unknown(g)) || resources.some((x) => f.unknown(x))) return;
    const core = groups.includes("") || groups.includes("*");
    const secrets = resources.some((x) => x === "secrets" || x === "*" || (typeof x === "string" && x.startsWith("secrets/")));
    if (!core || !secrets) return;
    const verbs = list(at(rule, "verbs")).filter((v): v is string => typeof v === "string");
    const resourceNames = list(at(rule, "resourceNames")).filter((v): v is string => typeof v === "string");
    out.push({ index, verbs, resourceNames });
  });
  return out;
}

export const secretsRbacLeastPrivilege = resourcePolicy(
  {
    name: "secrets-rbac-least-privilege",
    description: "RBAC on Secrets is read-only (get, list) and namespaced: no ClusterRole on secrets, no binding of cluster-admin/admin/edit.",
    enforcementLevel: "mandatory",
  },
  (type) => ([T.role, T.clusterRole, T.roleBinding, T.clusterRoleBinding] as string[]).includes(type),
  (r, f) => {
    const name = objectName(r);
    if (r.type === T.roleBinding || r.type === T.clusterRoleBinding) {
      const kind = r.type === T.roleBinding ? "RoleBinding" : "ClusterRoleBinding";
      const ref = at(r.props, "roleRef");
      if (f.unknown(ref)) return;
      const refName = at(ref, "name");
      if (at(ref, "kind") === "ClusterRole" && typeof refName === "string" && SECRET_WRITING_CLUSTER_ROLES.includes(refName)) {
        f.violation(`${kind} "${name}" binds ClusterRole "${refName}", which reads and writes every Secret: bind a Role granting get/list on the named Secrets instead.`);
      }
      return;
    }
    for (const rule of rulesOnSecrets(r.props, f)) {
      if (r.type === T.clusterRole) {
        f.violation(`ClusterRole "${name}" rules[${rule.index}] grants ${rule.verbs.join(", ")} on secrets cluster-wide: grant get/list on the named Secrets with a namespaced Role instead.`);
        continue;
      }
      const extra = rule.verbs.filter((v) => !READ_VERBS.includes(v));
      if (extra.length) {
        f.violation(`Role "${name}" rules[${rule.index}] grants ${extra.join(", ")} on secrets: only get and list are allowed (ESO writes the Secrets, workloads only read them).`);
      }
    }
  },
);

export const secretsRbacResourceNames = resourcePolicy(
  {
    name: "secrets-rbac-resource-names",
    description: "Roles on Secrets name the Secrets they grant (resourceNames): least privilege, not every Secret of the namespace.",
    enforcementLevel: "advisory",
  },
  (type) => type === T.role,
  (r, f) => {
    for (const rule of rulesOnSecrets(r.props, f)) {
      if (rule.resourceNames.length === 0) {
        f.violation(`Role "${objectName(r)}" rules[${rule.index}] grants ${rule.verbs.join(", ")} on every Secret of its namespace: list the Secrets it needs in resourceNames.`);
      }
    }
  },
);
