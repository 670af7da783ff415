/**
 * The Vault policies of the program itself (the identity `pulumi up` logs in as) and of its
 * previews: every path named, no glob, and every value that decides who can read what pinned
 * to the one the program writes.
 *
 * Both are written once by an operator during the bootstrap (`npm run vault-bootstrap`), with
 * the deployer's own login (the jwt auth methods, their config and roles) and the audit
 * devices: the deployer can touch none of those, so it cannot widen its rights, trust a token
 * it signed, or switch the audit trail off. What it does manage is pinned with
 * `allowed_parameters`/`denied_parameters` (measured on Vault 1.21: a write with any other
 * value is refused with 403):
 * - the policies it writes must be exactly the generator's documents (so a policy attached to a
 *   role it can write is never more than the program makes it);
 * - its roles' `token_policies`, bound ServiceAccounts, namespaces and audience; the legacy
 *   `policies` alias is denied;
 * - the Kubernetes auth config's API server and CA (no `pem_keys` or reviewer JWT of its own);
 * - the database connection's URL, user, plugin and roles, and every role's SQL statements.
 * `"*" = []` lets through the other fields the provider sends (TTLs, token type), which widen
 * nothing. `sudo` appears only where Vault's API requires it (enabling the auth method).
 */

type Capability = "create" | "read" | "update" | "delete" | "list" | "sudo";

/** One `path` stanza. `allowed`/`denied` are `allowed_parameters`/`denied_parameters` (`[]`: any value). */
export interface Stanza {
  comment: string;
  path: string;
  capabilities: Capability[];
  allowed?: Record<string, string[]>;
  denied?: Record<string, string[]>;
}

/** A Kubernetes auth role the program writes, with what it binds. */
export interface PinnedKubernetesRole {
  name: string;
  serviceAccount: { namespace: string; name: string };
  policy: string;
  audience: string;
}

/** What the program manages in one environment's Vault, with the values it writes. */
export interface DeployerPolicyOptions {
  kvMount: string;
  /** The environment's secret inside the KV mount, e.g. `veza/production`. */
  secretPath: string;
  /** The program enables the KV mount (not in dev mode, whose server mounts it). */
  manageKvMount: boolean;
  kubernetesAuth: {
    path: string;
    /** The API server and CA Vault reviews tokens with, as the program configures them. */
    config: { host: string; caCert?: string };
    roles: PinnedKubernetesRole[];
  };
  /** Policies the program writes (never its own, never the preview's), with their exact documents. */
  managedPolicies: { name: string; document: string }[];
  /** The database secrets engine: its mount, connection and roles, with the values written. */
  database?: {
    mountPath: string;
    connection: {
      name: string;
      url: string;
      username: string;
      allowedRoles: string[];
      passwordAuthentication: string;
      rootRotationStatements: string[];
      tlsCa?: string;
    };
    staticRoles: { name: string; dbName: string; username: string; rotationStatements: string[] }[];
    dynamicRoles: { name: string; dbName: string; creationStatements: string[]; revocationStatements: string[]; renewStatements: string[] }[];
  };
}

const CRUD: Capability[] = ["create", "read", "update", "delete"];

function renderParams(name: string, params: Record<string, string[]> | undefined): string {
  if (!params) return "";
  // Values as JSON strings, which are valid HCL strings (escapes included).
  const rows = Object.entries(params).map(([k, vs]) => `    ${JSON.stringify(k)} = [${vs.map((v) => JSON.stringify(v)).join(", ")}]`);
  return `  ${name} = {\n${rows.join("\n")}\n  }\n`;
}

/** A policy document (HCL): each stanza under its comment, one blank line apart. */
export function renderPolicy(stanzas: Stanza[]): string {
  return stanzas
    .map(
      (s) =>
        `# ${s.comment}\npath "${s.path}" {\n  capabilities = [${s.capabilities.map((c) => `"${c}"`).join(", ")}]\n${renderParams("allowed_parameters", s.allowed)}${renderParams("denied_parameters", s.denied)}}\n`,
    )
    .join("\n");
}

/**
 * `"*" = []` (any other field) plus the pinned ones. A field pinned to no value is denied
 * instead: in `allowed_parameters` an empty list means any value.
 */
function pinned(values: Record<string, string[]>, denied: Record<string, string[]> = {}): Pick<Stanza, "allowed" | "denied"> {
  const empty = Object.keys(values).filter((k) => values[k].length === 0);
  const allowed = Object.fromEntries(Object.entries(values).filter(([, v]) => v.length > 0));
  const deny = { ...denied, ...Object.fromEntries(empty.map((k) => [k, []])) };
  return { allowed: { "*": [], ...allowed }, ...(Object.keys(deny).length ? { denied: deny } : {}) };
}

/** Every path the deployer writes, as stanzas. */
export function deployerStanzas(o: DeployerPolicyOptions): Stanza[] {
  const k = o.kubernetesAuth;
  const out: Stanza[] = [];
  if (o.manageKvMount) out.push({ comment: "The KV v2 mount.", path: `sys/mounts/${o.kvMount}`, capabilities: CRUD, ...pinned({ type: ["kv"] }) });
  out.push(
    { comment: "This environment's secret (one writer per path).", path: `${o.kvMount}/data/${o.secretPath}`, capabilities: CRUD },
    { comment: "Its metadata (deleting the secret deletes every version).", path: `${o.kvMount}/metadata/${o.secretPath}`, capabilities: ["read", "delete"] },
    {
      comment: "ESO's kubernetes auth method (enabling one needs sudo), only as a kubernetes method.",
      path: `sys/auth/${k.path}`,
      capabilities: [...CRUD, "sudo"],
      ...pinned({ type: ["kubernetes"] }),
    },
    { comment: "Its mount, as the provider reads it back.", path: `sys/mounts/auth/${k.path}`, capabilities: ["read"] },
    { comment: "Its tuning, as the provider reads it back.", path: `sys/mounts/auth/${k.path}/tune`, capabilities: ["read", "update"] },
    {
      comment: "Its config: this API server and CA only, no keys or reviewer token of the deployer's.",
      path: `auth/${k.path}/config`,
      capabilities: CRUD,
      ...pinned({ kubernetes_host: [k.config.host], kubernetes_ca_cert: k.config.caCert ? [k.config.caCert] : [] }, { pem_keys: [], token_reviewer_jwt: [] }),
    },
  );
  for (const r of k.roles)
    out.push({
      comment: `A role for ${r.serviceAccount.namespace}/${r.serviceAccount.name} only, with its one policy.`,
      path: `auth/${k.path}/role/${r.name}`,
      capabilities: CRUD,
      ...pinned(
        {
          token_policies: [r.policy],
          bound_service_account_names: [r.serviceAccount.name],
          bound_service_account_namespaces: [r.serviceAccount.namespace],
          bound_service_account_namespace_selector: [""],
          audience: [r.audience],
        },
        { policies: [] },
      ),
    });
  for (const p of o.managedPolicies)
    out.push({
      comment: "A policy the program manages, exactly as it writes it.",
      path: `sys/policies/acl/${p.name}`,
      capabilities: CRUD,
      allowed: { policy: [p.document] },
    });
  const db = o.database;
  if (db) {
    out.push({
      comment: "The database secrets engine's mount.",
      path: `sys/mounts/${db.mountPath}`,
      capabilities: CRUD,
      ...pinned({ type: ["database"] }),
    });
    const c = db.connection;
    out.push({
      comment: "The PostgreSQL connection: this server, user, plugin and roles only.",
      path: `${db.mountPath}/config/${c.name}`,
      capabilities: CRUD,
      ...pinned(
        {
          plugin_name: ["postgresql-database-plugin"],
          connection_url: [c.url],
          username: [c.username],
          // The provider sends the list joined with commas.
          allowed_roles: [c.allowedRoles.join(",")],
          password_authentication: [c.passwordAuthentication],
          root_rotation_statements: c.rootRotationStatements,
          tls_ca: c.tlsCa ? [c.tlsCa] : [],
        },
        { plugin_version: [] },
      ),
    });
    for (const r of db.staticRoles)
      out.push({
        comment: "A static role: this user and its rotation SQL only.",
        path: `${db.mountPath}/static-roles/${r.name}`,
        capabilities: CRUD,
        ...pinned({ db_name: [r.dbName], username: [r.username], rotation_statements: r.rotationStatements }),
      });
    for (const r of db.dynamicRoles)
      out.push({
        comment: "A dynamic role: its SQL only.",
        path: `${db.mountPath}/roles/${r.name}`,
        capabilities: CRUD,
        ...pinned(
          {
            db_name: [r.dbName],
            creation_statements: r.creationStatements,
            revocation_statements: r.revocationStatements,
            renew_statements: r.renewStatements,
          },
          { rollback_statements: [] },
        ),
      });
  }
  return out;
}

/** The deployer's policy (HCL). Written by the bootstrap, never by the program. */
export function deployerPolicyDocument(o: DeployerPolicyOptions): string {
  return renderPolicy(deployerStanzas(o));
}

/**
 * The preview identity's policy (HCL): `read` on the same paths and nothing else, so a pull
 * request's preview can compare but never change Vault. The secret's values and paths whose
 * read needs `sudo` are left out. Written by the bootstrap.
 */
export function previewPolicyDocument(o: DeployerPolicyOptions): string {
  const stanzas = deployerStanzas(o)
    .filter((s) => !s.capabilities.includes("sudo") && !s.path.startsWith(`${o.kvMount}/data/`))
    .map((s): Stanza => ({ comment: `Read only: ${s.comment}`, path: s.path, capabilities: ["read"] }));
  return renderPolicy(stanzas);
}
