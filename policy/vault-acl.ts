/**
 * Vault ACL policies: parse the `path "…" { capabilities = [...] }` rules out of a policy
 * document (HCL or its JSON form) and judge them against one environment. Pure; the
 * `vault-policy-environment-scope` policy and its tests call these directly.
 */

export interface AclRule {
  path: string;
  capabilities: string[];
}

/** Remove `#`, `//` and `/* *\/` comments outside strings. */
function stripComments(text: string): string {
  let out = "";
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      const end = findStringEnd(text, i);
      out += text.slice(i, end + 1);
      i = end + 1;
    } else if (c === "#" || (c === "/" && text[i + 1] === "/")) {
      while (i < text.length && text[i] !== "\n") i++;
    } else if (c === "/" && text[i + 1] === "*") {
      const end = text.indexOf("*/", i + 2);
      i = end === -1 ? text.length : end + 2;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

function findStringEnd(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length && text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
  return i;
}

/** Index of the `}` closing the `{` at `open`, or -1. */
function closingBrace(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === '"') i = findStringEnd(text, i);
    else if (text[i] === "{") depth++;
    else if (text[i] === "}" && --depth === 0) return i;
  }
  return -1;
}

/**
 * The rules of a Vault policy document. Throws `Error` with a reason when the document is
 * neither HCL `path` blocks nor the JSON `{"path": {...}}` form.
 */
export function parseVaultPolicy(document: string): AclRule[] {
  const trimmed = document.trim();
  if (trimmed.startsWith("{")) {
    let json: unknown;
    try {
      json = JSON.parse(trimmed);
    } catch {
      throw new Error("is neither HCL nor valid JSON");
    }
    const paths = (json as { path?: unknown }).path;
    if (typeof paths !== "object" || paths === null) throw new Error('has no "path" rules');
    return Object.entries(paths as Record<string, { capabilities?: unknown }>).map(([path, rule]) => ({
      path,
      capabilities: Array.isArray(rule?.capabilities) ? rule.capabilities.map(String) : [],
    }));
  }
  const text = stripComments(document);
  const rules: AclRule[] = [];
  const header = /path\s+"((?:[^"\\]|\\.)*)"\s*\{/g;
  let m: RegExpExecArray | null;
  while ((m = header.exec(text)) !== null) {
    const open = m.index + m[0].length - 1;
    const close = closingBrace(text, open);
    if (close === -1) throw new Error(`has an unterminated block for path "${m[1]}"`);
    const body = text.slice(open + 1, close);
    const caps = /capabilities\s*=\s*\[([^\]]*)\]/.exec(body);
    const capabilities = caps ? [...caps[1].matchAll(/"([^"]*)"/g)].map((c) => c[1]) : [];
    rules.push({ path: m[1], capabilities });
    header.lastIndex = close + 1;
  }
  if (rules.length === 0) throw new Error("has no path rules");
  return rules;
}

const ENVIRONMENTS = ["development", "staging", "production"];
const isGlob = (segment: string): boolean => segment.includes("*") || segment === "+";

/**
 * What is wrong with one rule for a stack of environment `env`, one message each:
 * `sudo` (or `root`), a wildcard that is not confined to `veza/<env>/`, or another
 * environment's `veza/<other>` path. Empty: the rule is fine.
 *
 * A path that names no `veza/` prefix at all (e.g. `database/static-creds/veza-app`,
 * `auth/token/lookup-self`) is this environment's by construction (every environment runs
 * its own Vault), so only wildcards are refused there.
 */
export function aclRuleProblems(rule: AclRule, env: string): string[] {
  const problems: string[] = [];
  const caps = rule.capabilities.map((c) => c.toLowerCase());
  for (const cap of ["sudo", "root"]) if (caps.includes(cap)) problems.push(`grants "${cap}" on "${rule.path}"`);
  if (caps.includes("deny")) return problems;

  const segments = rule.path.split("/");
  let own = -1;
  for (let i = 0; i + 1 < segments.length; i++) {
    if (segments[i] !== "veza") continue;
    const next = segments[i + 1];
    if (isGlob(next)) problems.push(`grants "${rule.path}", a wildcard over every environment's veza/ secrets`);
    else if (ENVIRONMENTS.includes(next) && next !== env) problems.push(`grants "${rule.path}", a path of the ${next} environment`);
    else if (next === env && own === -1) own = i;
  }
  if (problems.length > 0) return problems;
  const globBefore = segments.findIndex(isGlob);
  if (globBefore !== -1 && (own === -1 || globBefore < own)) {
    problems.push(`grants "${rule.path}", a wildcard outside veza/${env}/`);
  }
  return problems;
}

/** Capabilities an application's or ESO's policy may hold: reading its own paths. */
export const READ_CAPABILITIES = ["read", "list"];
const WRITE_CAPABILITIES = ["create", "update", "patch", "delete", "sudo", "root"];

/** Does a Vault policy path (a trailing `*` glob, `+` segment globs) cover `target`? */
export function pathCovers(pattern: string, target: string): boolean {
  const glob = pattern.endsWith("*");
  const body = (glob ? pattern.slice(0, -1) : pattern)
    .split("/")
    .map((seg) => (seg === "+" ? "[^/]+" : seg.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
    .join("/");
  return new RegExp(`^${body}${glob ? ".*" : ""}$`).test(target);
}

/**
 * What an application's or ESO's policy named `policyName` must not hold, one message each:
 * anything on its own `sys/policies/acl/<name>` (self-promotion to root), changes to audit
 * devices, writes to KV data, and any capability beyond read/list. Empty: allowed.
 */
export function readOnlyPolicyProblems(policyName: string, rule: AclRule): string[] {
  const caps = rule.capabilities.map((c) => c.toLowerCase());
  if (caps.includes("deny")) return [];
  const writes = caps.filter((c) => WRITE_CAPABILITIES.includes(c));
  const problems: string[] = [];
  if (writes.length === 0) {
    const unknown = caps.filter((c) => !READ_CAPABILITIES.includes(c));
    if (unknown.length) problems.push(`grants ${unknown.map((c) => `"${c}"`).join(", ")} on "${rule.path}"`);
    return problems;
  }
  const w = writes.map((c) => `"${c}"`).join(", ");
  if (pathCovers(rule.path, `sys/policies/acl/${policyName}`) || pathCovers(rule.path, `sys/policy/${policyName}`)) {
    problems.push(`grants ${w} on "${rule.path}", which covers its own policy: a holder can rewrite it to grant itself everything (a self-promotion to root)`);
  } else if (/^sys\/audit(\/|\*|$)/.test(rule.path) || rule.path === "sys/*" || rule.path === "*") {
    problems.push(`grants ${w} on "${rule.path}": a holder can disable or redirect the audit devices and act unlogged`);
  } else if (/^[^/]+\/data\//.test(rule.path) || /^[^/]*\*$/.test(rule.path)) {
    problems.push(`grants ${w} on "${rule.path}": it writes secret data (KV), where applications and ESO only read`);
  } else {
    problems.push(`grants ${w} on "${rule.path}": applications and ESO may only read their own paths`);
  }
  return problems;
}
