/**
 * What looks like a secret: by key name (the value is unknown, a Pulumi secret and a literal
 * look the same to a policy) and by value shape (a private key, a URL with a password, a
 * provider's token prefix). Pure functions, table-tested in test/policy-helpers.test.ts.
 */

/** Split a key into lowercase words: `devRootToken` → dev, root, token; `STRIPE_API_KEY` → stripe, api, key. */
export function keyWords(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2")
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w.toLowerCase());
}

/** Words that on their own make a key a secret's name. */
const SECRET_WORDS = new Set([
  "password",
  "passwd",
  "passphrase",
  "pwd",
  "secret",
  "secrets",
  "token",
  "tokens",
  "credential",
  "credentials",
  "apikey",
  "privatekey",
]);
/** Word pairs that do: `api key`, `private key`, `access key`, `secret key`, `client secret`, `signing key`. */
const SECRET_PAIRS = [
  ["api", "key"],
  ["private", "key"],
  ["access", "key"],
  ["secret", "key"],
  ["signing", "key"],
  ["encryption", "key"],
  ["auth", "key"],
];
/**
 * Last words that make a key a reference to a secret, or a setting about one, rather than the
 * secret itself: `secretName`, `tokenPath`, `existingSecret`… `ref`, `file`, `enabled`…
 */
const REFERENCE_WORDS = new Set([
  "name",
  "names",
  "ref",
  "refs",
  "path",
  "paths",
  "file",
  "files",
  "dir",
  "mount",
  "mounts",
  "selector",
  "enabled",
  "enable",
  "create",
  "ttl",
  "period",
  "length",
  "type",
  "kind",
  "audience",
  "audiences",
  "annotations",
  "labels",
  "template",
  "header",
  "field",
  "provider",
  "store",
  "id",
  "ids",
  "url",
  "arn",
  "version",
  "policy",
  "mode",
  "namespace",
  "reviewer",
  "env",
  "source",
  "format",
  "existing",
]);

/** Is `key` the name of a field that holds a secret value (password, token, API key…)? */
export function isSecretKeyName(key: string): boolean {
  const words = keyWords(key);
  if (words.length === 0) return false;
  if (REFERENCE_WORDS.has(words[words.length - 1])) return false;
  if (words[0] === "existing") return false;
  if (words.some((w) => SECRET_WORDS.has(w))) return true;
  for (let i = 0; i + 1 < words.length; i++) {
    if (SECRET_PAIRS.some(([a, b]) => words[i] === a && words[i + 1] === b)) return true;
  }
  return false;
}

/**
 * Environment variable names that must not carry a literal value: any word PASSWORD, SECRET,
 * TOKEN or KEY (the spec's list), unless the name ends in a reference word (`*_SECRET_NAME`,
 * `*_KEY_FILE`, `*_KEY_ID`, `*_TOKEN_PATH`).
 */
export function isSecretEnvName(name: string): boolean {
  const words = keyWords(name);
  if (words.length === 0 || REFERENCE_WORDS.has(words[words.length - 1])) return false;
  return words.some((w) => SECRET_WORDS.has(w) || w === "key" || w === "keys");
}

/** Value shapes that are secrets whatever their key: each with the reason reported. */
const SECRET_VALUE_SHAPES: [RegExp, string][] = [
  [/-----BEGIN ([A-Z]+ )?PRIVATE KEY-----/, "a PEM private key"],
  [/\b[a-z][a-z0-9+.-]*:\/\/[^\s/:@]*:[^\s/@]+@/i, "a URL with a password in it"],
  [/\b(AKIA|ASIA)[0-9A-Z]{16}\b/, "an AWS access key id"],
  [/\b(sk|rk)_(live|test)_[0-9A-Za-z]{8,}/, "a Stripe secret key"],
  [/\bwhsec_[0-9A-Za-z]{8,}/, "a Stripe webhook secret"],
  [/\bhv[sbr]\.[0-9A-Za-z_-]{20,}/, "a Vault token"],
  [/\bgh[pousr]_[0-9A-Za-z]{30,}/, "a GitHub token"],
  [/\beyJ[0-9A-Za-z_-]{8,}\.eyJ[0-9A-Za-z_-]{8,}\.[0-9A-Za-z_-]+/, "a JSON Web Token"],
];

/** Why `value` looks like a secret, or `undefined`. */
export function secretValueShape(value: string): string | undefined {
  for (const [re, why] of SECRET_VALUE_SHAPES) if (re.test(value)) return why;
  return undefined;
}

/**
 * Assignments of a literal to a secret-named attribute inside a config file carried as a string
 * (HCL, YAML, INI, env files): `token = "s.abc"`, `password: hunter2`, `SECRET_KEY=...`.
 * Comment lines are skipped. Returns the attribute names.
 */
export function secretAssignments(text: string): string[] {
  const found: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    const t = line.trim();
    if (t.startsWith("#") || t.startsWith("//") || t.startsWith(";")) continue;
    const m = /^["']?([A-Za-z_][\w.-]*)["']?\s*[:=]\s*(.*)$/.exec(t);
    if (!m) continue;
    const value = m[2]
      .replace(/[,;]\s*$/, "")
      .trim()
      .replace(/^["']|["']$/g, "");
    if (value === "" || value === "{" || value === "[" || value.startsWith("${") || value.startsWith("{{")) continue;
    if (isSecretKeyName(m[1])) found.push(m[1]);
  }
  return found;
}
