/**
 * Policies: issue #11's classes beyond secrets and RBAC: the deployer's own Vault login, ESO's
 * scope, Pod Security labels, NetworkPolicies around Vault, database TLS, audit redundancy.
 */
import { resourcePolicy, stackPolicy } from "../define";
import { at, isObject, leaves, list, str } from "../props";
import {
  ENVIRONMENTS,
  T,
  WORKLOAD_TYPES,
  helmChartUnknown,
  isEsoKind,
  isHelmChart,
  isHelmInstall,
  isVaultRelease,
  namespaceOf,
  podSpecPath,
} from "../resources";

const JWT_ROLE = "vault:jwt/authBackendRole:AuthBackendRole";
const KUBERNETES_ROLE = "vault:kubernetes/authBackendRole:AuthBackendRole";
const NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy";
const DB_CONNECTION = "vault:database/secretBackendConnection:SecretBackendConnection";
const ONE_HOUR = 3600;

export const vaultJwtRoleBound = resourcePolicy(
  {
    name: "vault-jwt-role-bound",
    description:
      "Vault jwt login roles bind an audience and claims (or a subject), exact values only (no * pattern, which boundClaimsType glob turns into a wildcard), and issue tokens of at most one hour: a CI token of any repository or branch must not log in, nor hold a long-lived token.",
    enforcementLevel: "mandatory",
  },
  (type) => type === JWT_ROLE,
  (r, f) => {
    const role = str(at(r.props, "roleName")) ?? r.name;
    const audiences = at(r.props, "boundAudiences");
    const claims = at(r.props, "boundClaims");
    const subject = at(r.props, "boundSubject");
    if (f.unknown(audiences) || f.unknown(claims) || f.unknown(subject)) return;
    if (list(audiences).length === 0) f.violation(`Vault jwt role "${role}" binds no audience: set boundAudiences to the audience the CI token is minted for.`);
    if ((!isObject(claims) || Object.keys(claims).length === 0) && !subject) {
      f.violation(
        `Vault jwt role "${role}" binds no claim and no subject: every token of the issuer (any repository, any branch) could log in; bind repository, environment and ref (or the stack's sub).`,
      );
    }
    const claimsType = at(r.props, "boundClaimsType");
    if (isObject(claims) && !f.unknown(claimsType)) {
      for (const [claim, value] of Object.entries(claims)) {
        if (f.unknown(value)) continue;
        for (const v of Array.isArray(value) ? value : [value]) {
          if (typeof v !== "string" || !v.includes("*")) continue;
          if (claimsType === "glob")
            f.violation(
              `Vault jwt role "${role}" binds ${claim} to the glob "${v}" (boundClaimsType glob): a token of every ${claim} it matches (e.g. any repository of the organisation, any branch) could log in; bind the exact value with boundClaimsType "string".`,
            );
          else
            f.violation(
              `Vault jwt role "${role}" binds ${claim} to "${v}", a pattern: matched literally under boundClaimsType "string", it admits every ${claim} it matches once the type is glob; bind the exact value.`,
            );
        }
      }
    }
    for (const field of ["tokenTtl", "tokenMaxTtl", "tokenExplicitMaxTtl"]) {
      const v = at(r.props, field);
      if (f.unknown(v)) continue;
      if (field !== "tokenExplicitMaxTtl" && (typeof v !== "number" || v <= 0))
        f.violation(`Vault jwt role "${role}" has no ${field}: Vault's default (32 days) applies; set at most ${ONE_HOUR} seconds.`);
      else if (typeof v === "number" && v > ONE_HOUR) f.violation(`Vault jwt role "${role}" ${field} is ${v} seconds: at most ${ONE_HOUR} (one hour).`);
    }
  },
);

/** Vault's built-in policy: a token may look itself up, renew and revoke itself. Nothing more. */
const DEFAULT_POLICY = "default";

export const vaultRoleTokenPolicies = stackPolicy(
  {
    name: "vault-role-token-policies",
    description:
      "Vault login roles the program writes (kubernetes and jwt) hand out only policies this stack writes (vault.Policy, which the Vault policy rules judge), plus Vault's default: never root, another environment's veza-<environment>- policy, the deployer's own (veza-<environment>-pulumi*, the bootstrap's) or a policy written elsewhere, which no rule has seen.",
    enforcementLevel: "mandatory",
  },
  (resources, f, env) => {
    if (env === undefined) return; // stack-environment-label reports why.
    const written = new Set<string>();
    let nameUnknown = false;
    for (const p of resources.filter((x) => x.type === T.vaultPolicy)) {
      const name = at(p.props, "name");
      if (f.unknown(name)) nameUnknown = true;
      else if (typeof name === "string") written.add(name);
    }
    for (const r of resources.filter((x) => x.type === JWT_ROLE || x.type === KUBERNETES_ROLE)) {
      const role = `Vault ${r.type === JWT_ROLE ? "jwt" : "kubernetes"} role "${str(at(r.props, "roleName")) ?? r.name}"`;
      const policies = at(r.props, "tokenPolicies");
      if (f.unknown(policies)) continue;
      const names = list(policies);
      if (names.length === 0) f.violation(`${role} names no tokenPolicies: set the one policy this stack writes for what the role reads.`, r.urn);
      for (const p of names) {
        if (f.unknown(p) || typeof p !== "string" || p === DEFAULT_POLICY) continue;
        const other = /^veza-([a-z]+)-/.exec(p)?.[1];
        if (p === "root") f.violation(`${role} hands out "root": every token it issues can do anything in Vault.`, r.urn);
        else if (other !== undefined && (ENVIRONMENTS as readonly string[]).includes(other) && other !== env)
          f.violation(`${role} hands out "${p}", a policy of the ${other} environment: a ${env} role gets ${env} policies only.`, r.urn);
        else if (p === `veza-${env}-pulumi` || p === `veza-${env}-pulumi-preview`)
          f.violation(
            `${role} hands out "${p}", the program's own policy: the deployer's logins are the operator's bootstrap's (npm run vault-bootstrap), and a role the program writes must never grant the program's rights.`,
            r.urn,
          );
        else if (!written.has(p) && !nameUnknown)
          f.violation(
            `${role} hands out "${p}", which this stack does not write: no rule of the pack has judged what it grants; attach a policy this stack writes (vault.Policy).`,
            r.urn,
          );
      }
    }
  },
);

export const esoControllerScoped = resourcePolicy(
  {
    name: "eso-controller-scoped",
    description:
      "The External Secrets Operator chart (a helm.sh/v3 Release or helm.sh/v4 Chart, however its chart is referenced: name, repo/name, oci://…/external-secrets, a local directory or archive) reconciles one namespace with namespaced RBAC (scopedNamespace, scopedRBAC) and does not grant serviceaccounts/token create on every ServiceAccount (rbac.serviceAccountTokenCreate false).",
    enforcementLevel: "mandatory",
  },
  isHelmInstall,
  (r, f) => {
    if (!isHelmChart(r.type, r.props, "external-secrets")) {
      f.unknown(helmChartUnknown(r.props)); // A chart reference unknown at preview may still be ESO's.
      return;
    }
    const values = at(r.props, "values");
    if (f.unknown(values)) return;
    const ns = at(values, "scopedNamespace");
    const scoped = at(values, "scopedRBAC");
    const token = at(values, "rbac", "serviceAccountTokenCreate");
    if (f.unknown(ns) || f.unknown(scoped) || f.unknown(token)) return;
    if (typeof ns !== "string" || ns === "")
      f.violation(
        `Helm release "${r.name}" leaves scopedNamespace empty: the controller reconciles, and reads and writes Secrets in, every namespace; set it to the workload namespace.`,
      );
    if (scoped !== true) f.violation(`Helm release "${r.name}" leaves scopedRBAC off: the controller's Secrets access is a ClusterRole; set scopedRBAC: true.`);
    if (token !== false)
      f.violation(
        `Helm release "${r.name}" keeps rbac.serviceAccountTokenCreate (the chart's default): the controller can mint a token for any ServiceAccount; set it false and grant the stores' accounts by name.`,
      );
  },
);

const PSA_LEVELS = ["baseline", "restricted"];

export const namespacePodSecurity = resourcePolicy(
  {
    name: "namespace-pod-security",
    description:
      "Every Namespace enforces a Pod Security Standard (pod-security.kubernetes.io/enforce: baseline or restricted), so privileged pods are refused (CIS Kubernetes 5.2).",
    enforcementLevel: "mandatory",
  },
  (type) => type === T.namespace,
  (r, f) => {
    const level = at(r.props, "metadata", "labels", "pod-security.kubernetes.io/enforce");
    if (f.unknown(level)) return;
    if (typeof level !== "string" || !PSA_LEVELS.includes(level)) {
      f.violation(
        `Namespace "${str(at(r.props, "metadata", "name")) ?? r.name}" enforces ${typeof level === "string" ? `"${level}"` : "no Pod Security level"}: label it pod-security.kubernetes.io/enforce: restricted (or baseline where a workload needs it).`,
      );
    }
  },
);

export const vaultNetworkPolicy = stackPolicy(
  {
    name: "vault-network-policy",
    description:
      "Outside development, Vault's namespace has a NetworkPolicy restricting ingress to its server pods: not every pod of the cluster may call Vault's API.",
    enforcementLevel: "mandatory",
  },
  (resources, f, env) => {
    if (env === undefined || env === "development") return;
    for (const vault of resources.filter((x) => isVaultRelease(x.type, x.props))) {
      const ns = namespaceOf(vault.type, vault.props);
      if (f.unknown(ns)) continue;
      const guarded = resources.some((p) => {
        if (p.type !== NETWORK_POLICY) return false;
        const pns = at(p.props, "metadata", "namespace");
        const types = list(at(p.props, "spec", "policyTypes"));
        return !f.unknown(pns) && pns === ns && (types.includes("Ingress") || at(p.props, "spec", "ingress") !== undefined);
      });
      if (!guarded)
        f.violation(
          `Vault release "${vault.name}" in ${String(ns)} has no ingress NetworkPolicy: every pod can reach 8200/8201; admit only ESO's controller, Vault's peers and the deployer.`,
          vault.urn,
        );
    }
  },
);

export const databaseTlsVerified = stackPolicy(
  {
    name: "database-tls-verified",
    description:
      "Outside development, Vault's PostgreSQL connection verifies the server's certificate (sslmode verify-full or verify-ca): require encrypts but trusts any certificate.",
    enforcementLevel: "mandatory",
  },
  (resources, f, env) => {
    if (env === undefined || env === "development") return;
    for (const c of resources.filter((x) => x.type === DB_CONNECTION)) {
      const url = at(c.props, "postgresql", "connectionUrl");
      if (f.unknown(url) || typeof url !== "string") continue;
      const mode = /[?&]sslmode=([a-z-]+)/.exec(url)?.[1] ?? "prefer (the default)";
      if (mode !== "verify-full" && mode !== "verify-ca")
        f.violation(
          `Vault database connection "${c.name}" uses sslmode=${mode} in ${env}: use verify-full, with the server's CA (tls_ca) where it is private.`,
          c.urn,
        );
    }
  },
);

export const vaultAuditRedundant = stackPolicy(
  {
    name: "vault-audit-redundant",
    description:
      "Outside development, Vault has at least two audit devices: it refuses every request when none can write, so one full volume must not stop it.",
    enforcementLevel: "mandatory",
  },
  (resources, f, env) => {
    if (env === undefined || env === "development") return;
    const audits = resources.filter((r) => r.type === T.vaultAudit);
    if (audits.length === 1)
      f.violation(
        `Vault has one audit device ("${str(at(audits[0].props, "path")) ?? audits[0].name}") in ${env}: add a second (e.g. file to stdout for the log pipeline), so a full or failing device does not stop Vault.`,
        audits[0].urn,
      );
  },
);

const VAP = "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy";

export const storeServiceAccountsGuarded = stackPolicy(
  {
    name: "store-service-accounts-guarded",
    description:
      "No workload runs as a SecretStore's ServiceAccount, and a ValidatingAdmissionPolicy keeps every other pod off it: whoever holds its token reads what the backend trusts it with.",
    enforcementLevel: "mandatory",
  },
  (resources, f) => {
    const accounts = new Set<string>();
    for (const store of resources.filter((r) => isEsoKind(r.type, "SecretStore") || isEsoKind(r.type, "ClusterSecretStore"))) {
      for (const { path, value } of leaves(store.props)) {
        if (path.includes("serviceAccountRef") && path[path.length - 1] === "name" && typeof value === "string") accounts.add(value);
      }
    }
    if (accounts.size === 0) return;
    for (const w of resources.filter((r) => WORKLOAD_TYPES.includes(r.type))) {
      const specPath = podSpecPath(w.type);
      const sa = specPath ? at(w.props, ...specPath, "serviceAccountName") : undefined;
      if (typeof sa === "string" && accounts.has(sa))
        f.violation(`${w.type.split(":").pop() ?? "Workload"} "${w.name}" runs as "${sa}", a SecretStore's ServiceAccount: give it its own account.`, w.urn);
    }
    const guarded = resources
      .filter((r) => r.type === VAP)
      .flatMap((r) => list(at(r.props, "spec", "validations")).map((v) => str(at(v, "expression")) ?? ""))
      .join("\n");
    for (const a of [...accounts].sort()) {
      if (!guarded.includes(`'${a}'`))
        f.violation(
          `SecretStore ServiceAccount "${a}" is not guarded by a ValidatingAdmissionPolicy: anyone who can create pods in its namespace can run as it and mint its token; add one that refuses pods as it.`,
        );
    }
  },
);
