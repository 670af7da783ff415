/**
 * `pulumi config set` commands that fix a config problem, written so that the CLI stores
 * each value with the type the schema wants. The CLI's rules (pulumi/pulumi):
 * - `pkg/cmd/pulumi/config/config.go` (`config set`): "When setting the config for a path,
 *   "true" and "false" are treated as boolean values, and integers are treated as numbers.
 *   All other values are treated as strings. Top level entries are always treated as
 *   strings."; `--type string|int|bool|float` stores the value as that type; `--secret`,
 *   `--plaintext` and `--type` are mutually exclusive.
 * - `sdk/go/common/resource/config/object.go` (`coerce`): digits with a leading `0` stay strings.
 * - `pkg/workspace/config.go` (`validateStackConfigValue`): a top-level key declared with a
 *   type in Pulumi.yaml is checked before the program runs, so a JSON string pasted into a
 *   key declared `type: array` is refused: lists are set one element at a time with `--path`.
 * - `sdk/go/common/resource/config/map.go` (`Remove`): `config rm` of a missing key is a no-op,
 *   so a whole value is replaced by `rm` then one `set` per leaf.
 */

/** A config path: object keys and array indices. */
export type ConfigPath = readonly (string | number)[];

/** Render a config path for `pulumi config set --path` (`a.b`, `a[0]`, `a["k-1"]`). */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(String(part))) out += out === "" ? String(part) : `.${String(part)}`;
    else out += `["${String(part).replace(/"/g, '\\"')}"]`;
  }
  return out;
}

/** Quote a word for a POSIX shell: bare when safe, else single-quoted. */
export function shellWord(word: string): string {
  if (/^[A-Za-z0-9_./:@%+=,-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** What the CLI stores for an untyped value set with `--path` below the top level. */
export function cliCoerce(text: string): string | number | boolean {
  if (text === "true") return true;
  if (text === "false") return false;
  if (text.length > 1 && text.startsWith("0")) return text;
  if (/^-?\d+$/.test(text)) return Number(text);
  return text;
}

type Leaf = string | number | boolean;

/** One part a person must replace in a printed value: `<kms-key-id>`, lowercase words joined by `-`. */
const MARKER = /<([a-z][a-z0-9]*(?:-[a-z0-9]+)*)>/g;

/** The placeholders in `text` (`"arn:aws:iam::<aws-account-id>:role/x"` → `["aws-account-id"]`). */
export function placeholderNames(text: string): string[] {
  return [...text.matchAll(MARKER)].map((m) => m[1]);
}

/** `text` with each placeholder replaced by `fill(name)`. */
export function fillPlaceholders(text: string, fill: (name: string) => string): string {
  return text.replace(MARKER, (_, name: string) => fill(name));
}

/**
 * A value only the person running the fix knows (their KMS key, their account id): printed
 * with each part to replace marked `<name>`, in single quotes, so the shell reads `<` and `>` as
 * text rather than a redirection. Pasted unreplaced, the CLI stores the marked text and the
 * program refuses it by name (stacks/config.ts), so a placeholder never passes for a value.
 * `type` is what the real value is, for the `--type` the CLI needs to store it as such: text,
 * text of digits (an account id: `--type string` below the top level, or the CLI stores a
 * number) or a number.
 */
export class Placeholder {
  constructor(
    public readonly text: string,
    public readonly type: "string" | "digits" | "number" = "string",
  ) {
    if (placeholderNames(text).length === 0) throw new Error(`a placeholder must mark what to replace as <name>: ${text}`);
  }
}

/**
 * A value the shell works out when the fix runs, `"$(command)"`: what no example may invent
 * (an image digest) or what is too long to type (a PEM file's text). The value goes after
 * `--`, so text that starts with `-` (`-----BEGIN CERTIFICATE-----`) is not read as a flag.
 */
export class Computed {
  constructor(public readonly command: string) {
    if (/["`$\\]/.test(command)) throw new Error(`a computed value's command must not need quoting inside "$(...)": ${command}`);
  }
}

function keyArg(path: ConfigPath): string {
  // A path is always single-quoted: `[`, `]` and `"` are shell syntax, and one form is easier to read.
  return path.length > 1 || typeof path[0] === "number" ? `--path '${formatPath(path).replace(/'/g, `'\\''`)}'` : shellWord(formatPath(path));
}

/** One `pulumi config set` for a leaf, with `--type` wherever the CLI would otherwise store another type. */
export function setLeaf(stack: string, path: ConfigPath, value: Leaf): string {
  const text = String(value);
  const nested = path.length > 1;
  let type = "";
  if (nested) {
    const stored = cliCoerce(text);
    if (typeof value === "string" && typeof stored !== "string") type = "--type string ";
    else if (typeof value === "number" && typeof stored !== "number") type = "--type float ";
  } else if (typeof value === "number") {
    type = Number.isInteger(value) ? "--type int " : "--type float ";
  } else if (typeof value === "boolean") {
    type = "--type bool ";
  }
  return `pulumi config set ${type}${keyArg(path)} ${shellWord(text)} --stack ${stack}`;
}

/** One `pulumi config set` whose value the shell computes (see {@link Computed}); stored as the string it prints. */
export function setComputed(stack: string, path: ConfigPath, value: Computed): string {
  return `pulumi config set ${keyArg(path)} --stack ${stack} -- "$(${value.command})"`;
}

/**
 * One `pulumi config set` of a placeholder (see {@link Placeholder}), typed for the value that
 * replaces it: digits kept text below the top level (`--type string`), a number at the top level
 * `--type int` (which the CLI refuses while the placeholder is there).
 */
export function setPlaceholder(stack: string, path: ConfigPath, value: Placeholder): string {
  const nested = path.length > 1;
  const type = value.type === "digits" && nested ? "--type string " : value.type === "number" && !nested ? "--type int " : "";
  return `pulumi config set ${type}${keyArg(path)} ${shellWord(value.text)} --stack ${stack}`;
}

/** One command per leaf of `value` (objects by key, lists by index). Empty objects and lists set nothing. */
export function setCommands(stack: string, path: ConfigPath, value: unknown): string[] {
  if (value instanceof Computed) return [setComputed(stack, path, value)];
  if (value instanceof Placeholder) return [setPlaceholder(stack, path, value)];
  if (Array.isArray(value)) return value.flatMap((v, i) => setCommands(stack, [...path, i], v));
  if (value !== null && typeof value === "object") return Object.entries(value).flatMap(([k, v]) => setCommands(stack, [...path, k], v));
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") return [setLeaf(stack, path, value)];
  return [];
}

/** `pulumi config rm` for a key or a path. */
export function rmCommand(stack: string, path: ConfigPath): string {
  return `pulumi config rm ${keyArg(path)} --stack ${stack}`;
}

/**
 * Replace `current` at `path` by `value`: one `set` per leaf, after an `rm` when a list or
 * object would otherwise be merged into what is there (stale entries or keys would stay).
 */
export function replaceCommands(stack: string, path: ConfigPath, value: unknown, current?: unknown): string[] {
  const leaves = setCommands(stack, path, value);
  const container = value instanceof Object && !(value instanceof Computed) && !(value instanceof Placeholder);
  return container && current !== undefined ? [rmCommand(stack, path), ...leaves] : leaves;
}

/** A secret: no value on the command line (the CLI prompts without echo; nothing lands in shell history). */
export function setSecretCommand(stack: string, key: string): string {
  return `pulumi config set --secret ${shellWord(key)} --stack ${stack}`;
}

/** Join commands so the line can be pasted into a shell as is. */
export function joinCommands(commands: readonly string[]): string {
  return commands.join(" && ");
}

/** Levenshtein distance, case-insensitive. */
export function distance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  let prev = Array.from({ length: y.length + 1 }, (_, i) => i);
  for (let i = 1; i <= x.length; i++) {
    const cur = [i];
    for (let j = 1; j <= y.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x[i - 1] === y[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[y.length];
}

/** The candidate nearest to `value`, if it is near enough to be a typo (at most a third of its length off). */
export function nearest(value: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = distance(value, c);
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.ceil(best.length / 3)) ? best : undefined;
}
