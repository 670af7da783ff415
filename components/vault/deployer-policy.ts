/**
 * The Vault policies of the program itself (the identity `pulumi up` logs in as) and of its
 * previews: every path named, no glob, nothing the program does not manage.
 *
 * The deployer policy is written once by a person during the bootstrap (README,
 * "Bootstrapping Vault"; `npm run vault-policy -- <stack>` prints it) and never by the
 * program: it grants nothing on `sys/policies/acl/<its own name>`, so the identity cannot
 * widen its own rights. It can write the policies it manages (ESO's read policy, the preview
 * policy), each by name. `sudo` appears only where Vault's API requires it: enabling and
 * reading one auth method or one audit device by its path.
 */

/** What the program manages in one environment's Vault, by name. */
export interface DeployerPolicyOptions {
  kvMount: string;
  /** The environment's secret inside the KV mount, e.g. `veza/production`. */
  secretPath: string;
  /** The kubernetes auth mount (ESO's login) and its role. */
  kubernetesAuth: { path: string; roles: string[] };
  /** The jwt auth mounts the deployer logs in through, and their roles. */
  jwtAuth: { path: string; roles: string[] }[];
  /** Policies the program writes (never its own). */
  managedPolicies: string[];
  /** Audit devices the program enables, by path. */
  auditDevices: string[];
  /** The database secrets engine: its mount, connection and roles. */
  database?: { mountPath: string; connection: string; staticRoles: string[]; dynamicRoles: string[] };
}

type Capability = "create" | "read" | "update" | "delete" | "list" | "sudo";
interface Stanza {
  comment: string;
  path: string;
  capabilities: Capability[];
}

const CRUD: Capability[] = ["create", "read", "update", "delete"];

function render(stanzas: Stanza[]): string {
  return stanzas.map((s) => `# ${s.comment}\npath "${s.path}" {\n  capabilities = [${s.capabilities.map((c) => `"${c}"`).join(", ")}]\n}\n`).join("\n");
}

/** Every path the deployer writes, as stanzas. */
function deployerStanzas(o: DeployerPolicyOptions): Stanza[] {
  const out: Stanza[] = [
    { comment: "The KV v2 mount.", path: `sys/mounts/${o.kvMount}`, capabilities: CRUD },
    { comment: "This environment's secret (one writer per path).", path: `${o.kvMount}/data/${o.secretPath}`, capabilities: CRUD },
    { comment: "Its metadata (deleting the secret deletes every version).", path: `${o.kvMount}/metadata/${o.secretPath}`, capabilities: ["read", "delete"] },
    { comment: "Which auth methods are on (the provider reads the list to find its own).", path: "sys/auth", capabilities: ["read"] },
    { comment: "ESO's kubernetes auth method (enabling one needs sudo).", path: `sys/auth/${o.kubernetesAuth.path}`, capabilities: [...CRUD, "sudo"] },
    { comment: "Its config.", path: `auth/${o.kubernetesAuth.path}/config`, capabilities: CRUD },
    ...o.kubernetesAuth.roles.map((r): Stanza => ({ comment: "ESO's role.", path: `auth/${o.kubernetesAuth.path}/role/${r}`, capabilities: CRUD })),
  ];
  for (const j of o.jwtAuth) {
    out.push({
      comment: `The ${j.path} jwt auth method (the deployer's own login; enabling one needs sudo).`,
      path: `sys/auth/${j.path}`,
      capabilities: [...CRUD, "sudo"],
    });
    out.push({ comment: "Its issuer config.", path: `auth/${j.path}/config`, capabilities: CRUD });
    for (const r of j.roles) out.push({ comment: "A deployer role (bound claims, TTL at most 1h).", path: `auth/${j.path}/role/${r}`, capabilities: CRUD });
  }
  for (const p of o.managedPolicies) out.push({ comment: "A policy the program manages (never its own).", path: `sys/policies/acl/${p}`, capabilities: CRUD });
  for (const a of o.auditDevices) out.push({ comment: "An audit device (enabling one needs sudo).", path: `sys/audit/${a}`, capabilities: [...CRUD, "sudo"] });
  if (o.auditDevices.length > 0)
    out.push({ comment: "Reading which audit devices are on (the provider lists them; needs sudo).", path: "sys/audit", capabilities: ["read", "sudo"] });
  const db = o.database;
  if (db) {
    out.push({ comment: "The database secrets engine's mount.", path: `sys/mounts/${db.mountPath}`, capabilities: CRUD });
    out.push({ comment: "The PostgreSQL connection.", path: `${db.mountPath}/config/${db.connection}`, capabilities: CRUD });
    for (const r of db.staticRoles) out.push({ comment: "A static role.", path: `${db.mountPath}/static-roles/${r}`, capabilities: CRUD });
    for (const r of db.dynamicRoles) out.push({ comment: "A dynamic role.", path: `${db.mountPath}/roles/${r}`, capabilities: CRUD });
  }
  return out;
}

/** The deployer's policy (HCL). Written by the bootstrap, never by the program. */
export function deployerPolicyDocument(o: DeployerPolicyOptions): string {
  return render(deployerStanzas(o));
}

/**
 * The preview identity's policy (HCL): `read` on the same paths and nothing else, so a pull
 * request's preview can compare but never change Vault. Paths whose read needs `sudo`
 * (enabled auth methods and audit devices) are left out: a preview does not read them.
 */
export function previewPolicyDocument(o: DeployerPolicyOptions): string {
  const stanzas = deployerStanzas(o)
    .filter((s) => !s.capabilities.includes("sudo") && !s.path.startsWith(`${o.kvMount}/data/`))
    .map((s): Stanza => ({ ...s, comment: `Read only: ${s.comment}`, capabilities: ["read"] }));
  return render(stanzas);
}
