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
        f.violation(
          `${kind} "${name}" binds ClusterRole "${refName}", which reads and writes every Secret: bind a Role granting get/list on the named Secrets instead.`,
        );
      }
      return;
    }
    for (const rule of rulesOnSecrets(r.props, f)) {
      if (r.type === T.clusterRole) {
        f.violation(
          `ClusterRole "${name}" rules[${rule.index}] grants ${rule.verbs.join(", ")} on secrets cluster-wide: grant get/list on the named Secrets with a namespaced Role instead.`,
        );
        continue;
      }
      const extra = rule.verbs.filter((v) => !READ_VERBS.includes(v));
      if (extra.length) {
        f.violation(
          `Role "${name}" rules[${rule.index}] grants ${extra.join(", ")} on secrets: only get and list are allowed (ESO writes the Secrets, workloads only read them).`,
        );
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
        f.violation(
          `Role "${objectName(r)}" rules[${rule.index}] grants ${rule.verbs.join(", ")} on every Secret of its namespace: list the Secrets it needs in resourceNames.`,
        );
      }
    }
  },
);

/** Workload kinds whose pod template decides what runs, by API group. */
const WORKLOAD_RESOURCES: Record<string, string[]> = {
  "": ["pods", "replicationcontrollers"],
  apps: ["deployments", "statefulsets", "daemonsets", "replicasets"],
  batch: ["jobs", "cronjobs"],
};
const WRITE_VERBS = ["create", "update", "patch", "delete", "deletecollection", "*"];
const ESCALATION_VERBS = ["escalate", "bind", "impersonate"];
/** Subresources that run code in, or read from, a running pod. */
const POD_ACCESS = ["pods/exec", "pods/attach", "pods/portforward", "pods/ephemeralcontainers"];

/** Why one RBAC rule lets its holder escalate, one message each. Pure, for tests. */
export function rbacRuleEscalations(rule: Plain): string[] {
  const groups = list(at(rule, "apiGroups")).filter((g): g is string => typeof g === "string");
  const resources = list(at(rule, "resources")).filter((x): x is string => typeof x === "string");
  const verbs = list(at(rule, "verbs")).filter((v): v is string => typeof v === "string");
  const names = list(at(rule, "resourceNames")).filter((v): v is string => typeof v === "string");
  const out: string[] = [];
  const has = (verb: string) => verbs.includes(verb) || verbs.includes("*");
  const inGroup = (g: string) => groups.includes(g) || groups.includes("*");
  const covers = (resource: string) => resources.includes(resource) || resources.includes("*");
  for (const v of ESCALATION_VERBS) if (has(v)) out.push(`"${v}" (its holder can grant or assume rights it does not have)`);
  const writes = verbs.filter((v) => WRITE_VERBS.includes(v));
  for (const [group, kinds] of Object.entries(WORKLOAD_RESOURCES)) {
    if (!inGroup(group)) continue;
    const hit = kinds.filter(covers);
    if (hit.length && writes.length) out.push(`${writes.join(", ")} on ${hit.join(", ")} (its holder can change what runs, and as which ServiceAccount)`);
  }
  if (inGroup("")) {
    const exec = POD_ACCESS.filter(covers);
    if (exec.length) out.push(`${verbs.join(", ")} on ${exec.join(", ")} (a shell in, or traffic to, running pods and their tokens)`);
    if (covers("serviceaccounts/token") && has("create") && names.length === 0) {
      out.push("create on serviceaccounts/token for every ServiceAccount (it can mint a token for any identity): name them in resourceNames");
    }
  }
  return out;
}

export const rbacNoEscalation = resourcePolicy(
  {
    name: "rbac-no-escalation",
    description:
      "Roles grant no way around RBAC: no escalate, bind or impersonate; no write on workloads (Pods, Deployments, Jobs, ...); no pods/exec, attach or port-forward; serviceaccounts/token only for named ServiceAccounts.",
    enforcementLevel: "mandatory",
  },
  (type) => type === T.role || type === T.clusterRole,
  (r, f) => {
    const rules = at(r.props, "rules");
    if (f.unknown(rules)) return;
    const kind = r.type === T.role ? "Role" : "ClusterRole";
    list(rules).forEach((rule, index) => {
      if (f.unknown(rule)) return;
      for (const e of rbacRuleEscalations(rule)) f.violation(`${kind} "${objectName(r)}" rules[${index}] grants ${e}.`);
    });
  },
);
