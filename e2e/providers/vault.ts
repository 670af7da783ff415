/**
 * Stand-in for pulumi-vault (the Go module proxy refuses its provider; see e2e/README.md):
 * each resource type the program registers, written to a REAL Vault through its HTTP API the
 * way terraform-provider-vault writes it (one request per resource, the same paths, the
 * inputs' snake_case names), so Vault itself judges every policy, role, mount and database
 * setting, and the token the program logs in with must be allowed every request.
 *
 * What it stands in for, and does not reproduce: the real provider's read-back and drift
 * detection (`pulumi refresh`), its schema defaults (an input the program leaves out is not
 * sent here, while the real provider sends some defaults), and its retries. An input this
 * file does not know fails `check`, so nothing the program sets is silently dropped.
 */
import { readFileSync } from "node:fs";
import { httpJson } from "../http";
import { type Props, type TypeHandler, hasUnknown, serve } from "./serve";

interface Connection {
  address: string;
  token: string;
  ca?: string;
}
let conn: Connection | undefined;

/** Vault's answer to one request: status and parsed JSON body (if any). */
export async function vaultRequest(c: Connection, method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const a = await httpJson(new URL(`/v1/${path}`, c.address).href, method, { ca: c.ca, headers: { "X-Vault-Token": c.token }, body });
  return { status: a.status, json: a.json };
}

function connection(): Connection {
  if (!conn) throw new Error("stand-in vault: the provider was not configured");
  return conn;
}

async function call(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const { status, json } = await vaultRequest(connection(), method, path, body);
  if (status >= 400) throw new Error(`Vault ${method} ${path}: ${status} ${JSON.stringify(json.errors ?? json)}`);
  return json;
}

/** `camelCase` → `snake_case`, as the provider's schema names Vault's fields. */
export function snake(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** The value of `key`, or `dflt` when the program left it out (the schema default the real provider sends). */
const or = (i: Props, key: string, dflt: Props[string]): Props[string] => (i[key] === undefined || i[key] === null ? dflt : i[key]);

/** Only the keys the program set (terraform-provider-vault's `GetOk` fields), under their Vault names. */
function setFields(i: Props, keys: readonly string[]): Props {
  return Object.fromEntries(keys.filter((k) => i[k] !== undefined && i[k] !== null && i[k] !== "" && i[k] !== false).map((k) => [snake(k), i[k]]));
}

/** The token fields of a role as the provider's `updateTokenFields` sends them on create: those set, and `token_type` ("default"). */
const TOKEN_FIELDS = ["tokenTtl", "tokenMaxTtl", "tokenExplicitMaxTtl", "tokenPolicies", "tokenBoundCidrs", "tokenPeriod", "tokenNumUses"];
function tokenFields(i: Props): Props {
  return {
    ...setFields(i, TOKEN_FIELDS),
    ...(i.tokenNoDefaultPolicy !== undefined ? { token_no_default_policy: i.tokenNoDefaultPolicy } : {}),
    token_type: or(i, "tokenType", "default"),
  };
}

/** A resource written with one PUT to a path built from its inputs; deleted there (or, where the real provider does, only forgotten). */
function pathResource(
  known: readonly string[],
  replaceOn: readonly string[],
  path: (i: Props) => string,
  body: (i: Props) => Props,
  deleteIsNoop = false,
): TypeHandler {
  return {
    known,
    replaceOn,
    async create(inputs) {
      await call("PUT", path(inputs), body(inputs));
      // Every resource's create ends with its read.
      await call("GET", path(inputs));
      return { id: path(inputs) };
    },
    async delete(id) {
      if (!deleteIsNoop) await call("DELETE", id);
    },
  };
}

// Each type as terraform-provider-vault (HEAD 3144751) writes it: paths, the fields it always
// sends (with their schema defaults) and those only when set, its force-new fields, its deletes.
const TYPES: Record<string, TypeHandler> = {
  "vault:index/mount:Mount": {
    known: ["path", "type", "description", "options"],
    // The provider remounts on a path change; the stand-in replaces (no `sys/remount`).
    replaceOn: ["path", "type"],
    async create(i) {
      await call("POST", `sys/mounts/${i.path}`, {
        type: i.type,
        description: or(i, "description", ""),
        local: false,
        seal_wrap: false,
        external_entropy_access: false,
        options: or(i, "options", {}),
        config: { default_lease_ttl: "0s", max_lease_ttl: "0s", force_no_cache: false },
      });
      await call("GET", `sys/mounts/${i.path}`);
      return { id: String(i.path) };
    },
    async update(id, _o, n) {
      await call("POST", `sys/mounts/${id}/tune`, {
        default_lease_ttl: "0s",
        max_lease_ttl: "0s",
        options: or(n, "options", {}),
        description: or(n, "description", ""),
      });
    },
    async delete(id) {
      await call("DELETE", `sys/mounts/${id}`);
    },
  },
  "vault:index/authBackend:AuthBackend": {
    known: ["type", "path", "description"],
    replaceOn: ["type", "path"],
    async create(i) {
      const path = or(i, "path", i.type);
      await call("POST", `sys/auth/${path}`, {
        type: i.type,
        description: or(i, "description", ""),
        local: false,
        config: { default_lease_ttl: "", max_lease_ttl: "", force_no_cache: false },
      });
      const mount = await call("GET", `sys/mounts/auth/${path}`);
      await call("GET", `sys/mounts/auth/${path}/tune`);
      return { id: String(path), outs: { accessor: String((mount.data as Props | undefined)?.accessor ?? "") } };
    },
    async update(id, _o, n) {
      await call("POST", `sys/mounts/auth/${id}/tune`, { description: or(n, "description", "") });
    },
    async delete(id) {
      await call("DELETE", `sys/auth/${id}`);
    },
  },
  "vault:index/audit:Audit": {
    known: ["type", "path", "description", "options", "local"],
    replaceOn: ["type", "path", "description", "options", "local"],
    async create(i) {
      const path = or(i, "path", i.type);
      await call("PUT", `sys/audit/${path}`, {
        type: i.type,
        description: or(i, "description", ""),
        local: or(i, "local", false),
        options: or(i, "options", {}),
      });
      return { id: String(path) };
    },
    async delete(id) {
      await call("DELETE", `sys/audit/${id}`);
    },
  },
  "vault:index/policy:Policy": {
    known: ["name", "policy"],
    replaceOn: ["name"],
    async create(i) {
      // The provider reads the policy first (a 404 is "absent"; a 403 fails the create).
      const { status } = await vaultRequest(connection(), "GET", `sys/policies/acl/${i.name}`);
      if (status >= 400 && status !== 404) throw new Error(`Vault GET sys/policies/acl/${i.name}: ${status}`);
      await call("PUT", `sys/policies/acl/${i.name}`, { policy: i.policy });
      await call("GET", `sys/policies/acl/${i.name}`);
      return { id: String(i.name) };
    },
    async delete(id) {
      await call("DELETE", `sys/policies/acl/${id}`);
    },
  },
  "vault:kv/secretV2:SecretV2": {
    known: ["mount", "name", "dataJson"],
    replaceOn: ["mount", "name"],
    async create(i) {
      await call("PUT", `${i.mount}/data/${i.name}`, { data: JSON.parse(String(i.dataJson)) as unknown, cas: 0, options: {} });
      await call("GET", `${i.mount}/data/${i.name}`);
      return { id: `${i.mount}/data/${i.name}`, outs: { path: `${i.mount}/data/${i.name}` } };
    },
    async delete(id) {
      // delete_all_versions false: the latest version is soft-deleted.
      await call("DELETE", id);
    },
  },
  "vault:kubernetes/authBackendConfig:AuthBackendConfig": pathResource(
    ["backend", "kubernetesHost", "kubernetesCaCert", "disableLocalCaJwt", "tokenReviewerJwt", "issuer", "disableIssValidation"],
    ["backend"],
    (i) => `auth/${or(i, "backend", "kubernetes")}/config`,
    (i) => ({
      kubernetes_host: i.kubernetesHost,
      ...setFields(i, ["kubernetesCaCert", "tokenReviewerJwt", "issuer", "disableLocalCaJwt"]),
      disable_iss_validation: or(i, "disableIssValidation", false),
      use_annotations_as_alias_metadata: false,
    }),
    // The real provider's delete only forgets the config (Vault has no DELETE for it).
    true,
  ),
  "vault:kubernetes/authBackendRole:AuthBackendRole": pathResource(
    [
      "backend",
      "roleName",
      "boundServiceAccountNames",
      "boundServiceAccountNamespaces",
      "audience",
      "aliasNameSource",
      ...TOKEN_FIELDS,
      "tokenNoDefaultPolicy",
      "tokenType",
    ],
    ["backend", "roleName"],
    (i) => `auth/${or(i, "backend", "kubernetes")}/role/${i.roleName}`,
    (i) => ({
      bound_service_account_names: i.boundServiceAccountNames,
      bound_service_account_namespace_selector: "",
      ...setFields(i, ["boundServiceAccountNamespaces", "audience", "aliasNameSource"]),
      ...tokenFields(i),
    }),
  ),
  "vault:jwt/authBackendRole:AuthBackendRole": pathResource(
    [
      "backend",
      "roleName",
      "roleType",
      "userClaim",
      "boundAudiences",
      "boundClaimsType",
      "boundClaims",
      "boundSubject",
      ...TOKEN_FIELDS,
      "tokenNoDefaultPolicy",
      "tokenType",
    ],
    ["backend", "roleName", "roleType"],
    (i) => `auth/${or(i, "backend", "jwt")}/role/${i.roleName}`,
    (i) => ({
      bound_audiences: or(i, "boundAudiences", []),
      user_claim: i.userClaim,
      user_claim_json_pointer: false,
      // Each claim value is split on commas into a list (disable_bound_claims_parsing false).
      bound_claims: Object.fromEntries(Object.entries((or(i, "boundClaims", {}) ?? {}) as Props).map(([k, v]) => [k, String(v).split(",")])),
      clock_skew_leeway: 0,
      expiration_leeway: 0,
      not_before_leeway: 0,
      verbose_oidc_logging: false,
      ...setFields(i, ["roleType"]),
      ...(i.boundSubject !== undefined ? { bound_subject: i.boundSubject } : {}),
      ...(i.boundClaimsType !== undefined ? { bound_claims_type: i.boundClaimsType } : {}),
      ...tokenFields(i),
    }),
  ),
  "vault:database/secretBackendConnection:SecretBackendConnection": {
    known: ["backend", "name", "allowedRoles", "verifyConnection", "rootRotationStatements", "postgresql"],
    // `name` is not force-new in the real provider (a rename orphans the old config).
    replaceOn: ["backend"],
    async create(i) {
      const pg = (i.postgresql ?? {}) as Props;
      const known = ["connectionUrl", "username", "password", "maxOpenConnections", "passwordAuthentication", "tlsCa"];
      const unknown = Object.keys(pg).filter((k) => !known.includes(k));
      if (unknown.length) throw new Error(`stand-in vault: unknown postgresql input ${unknown.join(", ")}`);
      await call("PUT", `${i.backend}/config/${i.name}`, {
        plugin_name: "postgresql-database-plugin",
        max_open_connections: or(pg, "maxOpenConnections", 2),
        username: or(pg, "username", ""),
        disable_escaping: false,
        verify_connection: or(i, "verifyConnection", true),
        password_authentication: or(pg, "passwordAuthentication", "password"),
        ...setFields(pg, ["connectionUrl", "password", "tlsCa"]),
        ...setFields(i, ["rootRotationStatements"]),
        // A list, sent joined with commas.
        ...(i.allowedRoles !== undefined ? { allowed_roles: (i.allowedRoles as string[]).join(",") } : {}),
      });
      await call("GET", `${i.backend}/config/${i.name}`);
      return { id: `${i.backend}/config/${i.name}` };
    },
    async delete(id) {
      await call("DELETE", id);
    },
  },
  "vault:database/secretBackendStaticRole:SecretBackendStaticRole": pathResource(
    ["backend", "dbName", "name", "username", "rotationSchedule", "rotationPeriod", "rotationWindow", "rotationStatements"],
    ["backend", "name", "username", "dbName"],
    (i) => `${i.backend}/static-roles/${i.name}`,
    (i) => ({
      username: i.username,
      db_name: i.dbName,
      rotation_statements: or(i, "rotationStatements", []),
      ...setFields(i, ["rotationPeriod", "rotationSchedule", "rotationWindow"]),
    }),
  ),
  "vault:database/secretBackendRole:SecretBackendRole": pathResource(
    ["backend", "dbName", "name", "creationStatements", "revocationStatements", "renewStatements", "rollbackStatements", "defaultTtl", "maxTtl"],
    ["backend", "name", "dbName"],
    (i) => `${i.backend}/roles/${i.name}`,
    (i) => ({
      db_name: i.dbName,
      creation_statements: i.creationStatements,
      ...setFields(i, ["defaultTtl", "maxTtl", "revocationStatements", "rollbackStatements", "renewStatements"]),
    }),
  ),
};

/** Provider inputs the program sets, and those the SDK fills from defaults (maxLeaseTtlSeconds, maxRetries, skipTlsVerify). */
const PROVIDER_KNOWN = [
  "address",
  "token",
  "caCertFile",
  "skipChildToken",
  "vaultVersionOverride",
  "maxRetries",
  "maxLeaseTtlSeconds",
  "skipTlsVerify",
  "authLoginJwt",
  "version",
];

/** The SDK sends non-string provider inputs JSON-encoded (`"true"`, `"{\"mount\":…}"`). */
function decoded(value: unknown): unknown {
  if (typeof value !== "string") return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}

/** The provider's configuration: address, CA and a token, logging in with jwt where asked (TERRAFORM_VAULT_AUTH_JWT, as the real provider). */
async function configure(config: Props): Promise<void> {
  const unknown = Object.keys(config).filter((k) => !PROVIDER_KNOWN.includes(k) && decoded(config[k]) !== null);
  if (unknown.length) throw new Error(`stand-in vault: unknown provider input ${unknown.join(", ")}`);
  if (decoded(config.skipTlsVerify) === true) throw new Error("stand-in vault: skipTlsVerify is true (the program never turns TLS verification off)");
  if (hasUnknown(config)) return; // a preview before the address is known: no request is made
  const address = String(config.address);
  const ca = typeof config.caCertFile === "string" ? readFileSync(config.caCertFile, "utf8") : undefined;
  const login = (decoded(config.authLoginJwt) ?? undefined) as Props | undefined;
  if (login) {
    const jwt = process.env.TERRAFORM_VAULT_AUTH_JWT;
    if (!jwt) throw new Error("authLoginJwt: TERRAFORM_VAULT_AUTH_JWT is not set");
    const { status, json } = await vaultRequest({ address, token: "", ca }, "POST", `auth/${login.mount}/login`, { role: login.role, jwt });
    if (status !== 200) throw new Error(`jwt login at auth/${login.mount}/login: ${status} ${JSON.stringify(json.errors)}`);
    conn = { address, ca, token: String((json.auth as Props).client_token) };
  } else {
    // No token configured: the provider reads VAULT_TOKEN (ESC's vault-login sets it).
    const token = typeof config.token === "string" && config.token ? config.token : process.env.VAULT_TOKEN;
    if (!token) throw new Error("no Vault token: neither the token input nor VAULT_TOKEN is set");
    conn = { address, ca, token };
  }
  // The provider's first request with any token (it needs the default policy's lookup-self).
  await call("GET", "auth/token/lookup-self");
}

if (require.main === module) void serve("vault", TYPES, configure);
