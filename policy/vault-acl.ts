/**
 * Vault ACL policies: read the `path "…" { capabilities = [...] }` rules out of a policy
 * document (strictly: see `parseVaultPolicy`) and judge them against one environment. Pure; the
 * `vault-policy-*` policies and their tests call these directly.
 */

export interface AclRule {
  path: string;
  capabilities: string[];
}

/**
 * Reading a policy document: a strict reader of the HCL the program's generators write
 * (components/vault/policy-hcl.ts `policyDocument`, database-access.ts `readOnePathPolicy`,
 * deployer-policy.ts `renderPolicy`), which refuses whatever it cannot read fully and
 * unambiguously. Vault reads policies with HCL1 (hashicorp/hcl v1, `hcl.Parse` in
 * vault/policy.go), which keeps both of two `"path"` keys in JSON, takes `"path" "x" {…}` like
 * `path "x" {…}`, appends a repeated `capabilities`, merges two blocks of one path, expands the
 * legacy `policy = "write"`, strips a leading `/` and reads `${…}` inside strings as an
 * expression. The old reader (JSON.parse and a regex) missed grants in several of these; here
 * each is either read as Vault reads it or refused, and a document the pack refuses is a
 * violation, never a pass.
 *
 * Read: `#`, `//` and `/* *\/` comments; `path "<path>" { … }` blocks (the keyword as `path` or
 * `"path"`, as HCL1 allows); inside a block `capabilities = ["…", …]` once, and at most once each
 * `allowed_parameters` / `denied_parameters = { "<name>" = ["…", …] … }` (they only narrow a
 * grant); strings with the escapes HCL1 and JSON.stringify share. Refused: the JSON form,
 * heredocs, numbers, `${…}`, templated (`{{…}}`) or `/`-prefixed paths, any other key or
 * nesting, capabilities Vault does not know, and a path named twice.
 */

/** Capabilities Vault accepts in a policy (vault/policy.go); anything else is refused. */
export const VAULT_CAPABILITIES = ["deny", "create", "read", "update", "patch", "delete", "list", "sudo", "subscribe", "recover"];
/** Block attributes the reader knows; the parameter ones only narrow what `capabilities` grants. */
const BLOCK_ATTRIBUTES = ["capabilities", "allowed_parameters", "denied_parameters"];

interface Token {
  kind: "word" | "string" | "punct";
  /** A word's or punctuation's text; a string's decoded value. */
  value: string;
  line: number;
  column: number;
}

/** A document the reader refuses, with why and where. */
export class PolicyReadError extends Error {}

const SIMPLE_ESCAPES: Record<string, string> = { a: "\x07", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t", v: "\v", "\\": "\\", '"': '"' };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  let column = 1;
  const fail = (why: string, l = line, c = column): never => {
    throw new PolicyReadError(`${why} (line ${l}, column ${c})`);
  };
  const advance = (n: number) => {
    for (let k = 0; k < n; k++, i++) {
      if (text[i] === "\n") {
        line++;
        column = 1;
      } else column++;
    }
  };
  while (i < text.length) {
    const c = text[i];
    const at = { line, column };
    if (c === " " || c === "\t" || c === "\r" || c === "\n") advance(1);
    else if (c === "#" || (c === "/" && text[i + 1] === "/")) {
      while (i < text.length && text[i] !== "\n") advance(1);
    } else if (c === "/" && text[i + 1] === "*") {
      const end = text.indexOf("*/", i + 2);
      if (end === -1) fail("has an unterminated /* comment");
      advance(end + 2 - i);
    } else if ("{}[]=,".includes(c)) {
      tokens.push({ kind: "punct", value: c, ...at });
      advance(1);
    } else if (/[A-Za-z_]/.test(c)) {
      let j = i + 1;
      while (j < text.length && /[A-Za-z0-9_.-]/.test(text[j])) j++;
      tokens.push({ kind: "word", value: text.slice(i, j), ...at });
      advance(j - i);
    } else if (c === '"') {
      advance(1);
      let value = "";
      for (;;) {
        const ch = text[i];
        if (ch === undefined || ch === "\n") fail("has an unterminated string", at.line, at.column);
        if (ch === '"') break;
        if (ch === "$" && text[i + 1] === "{") fail("interpolates ${…} in a string, which HCL1 reads as an expression");
        if (ch !== "\\") {
          value += ch;
          advance(1);
          continue;
        }
        const e = text[i + 1];
        if (e !== undefined && e in SIMPLE_ESCAPES) {
          value += SIMPLE_ESCAPES[e];
          advance(2);
          continue;
        }
        const digits = e === "u" ? 4 : e === "U" ? 8 : 0;
        const hex = text.slice(i + 2, i + 2 + digits);
        const code = digits > 0 && new RegExp(`^[0-9A-Fa-f]{${digits}}$`).test(hex) ? parseInt(hex, 16) : -1;
        if (code < 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) fail(`has an escape in a string the pack does not read (\\${e ?? ""})`);
        value += String.fromCodePoint(code);
        advance(2 + digits);
      }
      advance(1);
      tokens.push({ kind: "string", value, ...at });
    } else if (c === "<" && text[i + 1] === "<") fail("has a heredoc (<<)");
    else fail(`has ${JSON.stringify(c)} where HCL path blocks hold none`);
  }
  return tokens;
}

/** Reads tokens in order; each read names what it wanted, so a refusal says what it found instead. */
class Reader {
  private pos = 0;
  constructor(private readonly tokens: Token[]) {}

  done(): boolean {
    return this.pos >= this.tokens.length;
  }

  peek(): Token | undefined {
    return this.tokens[this.pos];
  }

  next(wanted: string): Token {
    const t = this.tokens[this.pos++];
    if (t === undefined) throw new PolicyReadError(`ends where ${wanted} should follow`);
    return t;
  }

  fail(t: Token, why: string): never {
    throw new PolicyReadError(`${why} (line ${t.line}, column ${t.column})`);
  }

  punct(value: string, wanted = `"${value}"`): Token {
    const t = this.next(wanted);
    if (t.kind !== "punct" || t.value !== value) this.fail(t, `has ${describe(t)} where ${wanted} should be`);
    return t;
  }

  /** `,` between items, optional (HCL1 accepts either). */
  optionalComma(): void {
    const t = this.peek();
    if (t && t.kind === "punct" && t.value === ",") this.pos++;
  }

  isPunct(value: string): boolean {
    const t = this.peek();
    return t !== undefined && t.kind === "punct" && t.value === value;
  }

  /** A key: a word or a quoted string (HCL1 reads both alike). */
  key(wanted: string): Token {
    const t = this.next(wanted);
    if (t.kind === "punct") this.fail(t, `has ${describe(t)} where ${wanted} should be`);
    return t;
  }

  /** `[ "a", "b" ]`: strings only, comma-separated, a trailing comma allowed. */
  stringList(wanted: string): Token[] {
    this.punct("[", `a list of strings for ${wanted}`);
    const items: Token[] = [];
    while (!this.isPunct("]")) {
      const t = this.next(`a string in ${wanted}`);
      if (t.kind !== "string") this.fail(t, `has ${describe(t)} in ${wanted}, where only quoted strings are read`);
      items.push(t);
      if (!this.isPunct("]")) this.punct(",", `"," or "]" in ${wanted}`);
    }
    this.pos++;
    return items;
  }
}

function describe(t: Token): string {
  return t.kind === "string" ? `the string ${JSON.stringify(t.value)}` : `"${t.value}"`;
}

/** `{ "<name>" = [ "…" ] … }` of allowed_parameters / denied_parameters, read to be skipped over exactly. */
function readParameters(r: Reader, attribute: string, path: string): void {
  r.punct("{", `a { … } of parameters for ${attribute}`);
  const names = new Set<string>();
  while (!r.isPunct("}")) {
    const k = r.key(`a parameter name in ${attribute}`);
    if (names.has(k.value)) r.fail(k, `names parameter ${JSON.stringify(k.value)} twice in ${attribute} of path "${path}"`);
    names.add(k.value);
    r.punct("=", `"=" after parameter ${JSON.stringify(k.value)}`);
    r.stringList(`${attribute}.${k.value}`);
    r.optionalComma();
  }
  r.punct("}");
}

/**
 * The rules of a Vault policy document, in order. Throws `PolicyReadError` (the reason, with
 * line and column) for any document the reader refuses; see above for what it reads.
 */
export function parseVaultPolicy(document: string): AclRule[] {
  if (/^\s*\{/.test(document)) throw new PolicyReadError('is JSON, which Vault reads with HCL1\'s JSON rules (a second "path" key adds rules)');
  const r: Reader = new Reader(tokenize(document));
  const rules: AclRule[] = [];
  const seen = new Set<string>();
  while (!r.done()) {
    const keyword = r.key('a path "<path>" { … } block');
    if (keyword.value !== "path") r.fail(keyword, `has ${describe(keyword)} where a path block should start (only path blocks are read)`);
    const label = r.next("the path, in quotes");
    if (label.kind !== "string") r.fail(label, `has ${describe(label)} where the path, in quotes, should follow "path"`);
    const path = label.value;
    if (r.peek()?.kind === "string") r.fail(label, `gives path "${path}" a second label`);
    r.punct("{", `"{" after path "${path}"`);
    if (path === "") r.fail(label, "has an empty path");
    if (path.startsWith("/")) r.fail(label, `has path "${path}" with a leading "/", which Vault strips`);
    if (path.includes("{{")) r.fail(label, `has path "${path}", templated: what it grants depends on the token's identity`);
    let capabilities: string[] | undefined;
    const set = new Set<string>();
    while (!r.isPunct("}")) {
      const attr = r.key(`an attribute of path "${path}"`);
      if (!BLOCK_ATTRIBUTES.includes(attr.value))
        r.fail(attr, `sets ${JSON.stringify(attr.value)} in path "${path}" (only ${BLOCK_ATTRIBUTES.join(", ")} are read)`);
      if (set.has(attr.value)) r.fail(attr, `sets ${attr.value} twice in path "${path}" (Vault's HCL1 decoder keeps both)`);
      set.add(attr.value);
      r.punct("=", `"=" after ${attr.value}`);
      if (attr.value === "capabilities") {
        capabilities = r.stringList(`capabilities of path "${path}"`).map((t) => {
          if (!VAULT_CAPABILITIES.includes(t.value)) r.fail(t, `grants ${JSON.stringify(t.value)} on path "${path}", not a capability Vault knows`);
          return t.value;
        });
      } else readParameters(r, attr.value, path);
      r.optionalComma();
    }
    r.punct("}");
    if (capabilities === undefined) r.fail(label, `has path "${path}" without capabilities`);
    if (seen.has(path)) r.fail(label, `names path "${path}" twice (Vault applies both blocks)`);
    seen.add(path);
    rules.push({ path, capabilities });
  }
  if (rules.length === 0) throw new PolicyReadError("has no path rules");
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
