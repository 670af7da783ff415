/**
 * A small, faithful model of `pulumi config set` / `pulumi config rm` and of the check the
 * CLI runs on a stack's config before the program starts, so tests can apply a printed fix
 * exactly as the CLI would and validate again. Sources (pulumi/pulumi, read for this model):
 * - flags and typing: `pkg/cmd/pulumi/config/config.go` (`newConfigSetCmd`, `configSetCmd.Run`):
 *   `--path`, `--secret`, `--plaintext`, `--type string|int|bool|float`, the last three mutually
 *   exclusive; no value and no terminal: "config value must be specified in non-interactive mode".
 * - storage: `sdk/go/common/resource/config/map.go` (`Map.Set`, `Map.Remove`): a one-segment path
 *   stores the value as given (a string unless `--type`); deeper paths coerce untyped values
 *   with `coerce` (`object.go`: "true"/"false" → booleans, base-10 integers without a leading
 *   0 → numbers, all else strings); missing containers are created from the next accessor
 *   (`newContainer`), an index may be at most the list's length, a first-level scalar is
 *   overwritten (COMPAT), a deeper one is an error; removing a missing key is a no-op.
 * - path syntax: `sdk/go/common/resource/properties_path.go` (`parsePropertyPath`, strict):
 *   `a.b`, `a[0]`, `a["k"]`; `.` followed by `[` is an error.
 * - the pre-run check: `pkg/workspace/config.go` (`mergeConfig`, `validateStackConfigValue`) and
 *   `sdk/go/common/workspace/project.go` (`ValidateConfigValue`): a key Pulumi.yaml declares
 *   without a default must be set; `secret: true` must be encrypted; a typed key must hold that
 *   type, where a plain (non-object) value is seen as its string, so a JSON text in a key
 *   declared `type: array` is refused.
 * - `looksLikeSecret` (config.go): a plain value is refused without `--plaintext` when the key
 *   (the whole path text) matches /passwd|pass|password|pwd|secret|token/i and the value's
 *   first 16 characters carry >= 80 bits of entropy, or >= 40 at >= 3 bits a character. The CLI
 *   measures with zxcvbn; the model uses the brute-force bound (length × log2 of the character
 *   classes used), which is never lower, so the model refuses at least what the CLI does.
 */
import { parse } from "shell-quote";

/** A stack file's `config:` map. Secrets are `{ secure: <plaintext> }` here (the model does not encrypt). */
export type StackFileConfig = Record<string, unknown>;

export interface Secure {
  secure: string;
}
export function isSecure(v: unknown): v is Secure {
  return typeof v === "object" && v !== null && !Array.isArray(v) && Object.keys(v).length === 1 && typeof (v as Secure).secure === "string";
}

type Segment = string | number;

/** `parsePropertyPath(path, strict=true)`. */
export function parsePropertyPath(text: string): Segment[] {
  const out: Segment[] = [];
  let p = text;
  if (p.startsWith(".")) throw new Error("expected property path to start with a name or index");
  while (p.length > 0) {
    if (p[0] === ".") {
      p = p.slice(1);
      if (p.length === 0) throw new Error("expected property path to end with a name or index");
      if (p[0] === "[") throw new Error("expected property name after '.'");
    } else if (p[0] === "[") {
      if (p[1] === '"') {
        let key = "";
        let i = 2;
        for (;;) {
          if (i >= p.length) throw new Error("missing closing quote in property name");
          if (p[i] === '"') {
            i++;
            break;
          }
          if (p[i] === "\\" && p[i + 1] === '"') {
            key += '"';
            i += 2;
          } else key += p[i++];
        }
        if (p[i] !== "]") throw new Error("missing closing bracket in property access");
        out.push(key);
        p = p.slice(i + 1);
      } else {
        const close = p.indexOf("]");
        if (close === -1) throw new Error("missing closing bracket in array index");
        const seg = p.slice(1, close);
        if (!/^[+-]?\d+$/.test(seg)) throw new Error(`invalid array index: ${seg}`);
        out.push(Number(seg));
        p = p.slice(close + 1);
      }
    } else {
      const m = /^[^.[]*/.exec(p)?.[0] ?? "";
      out.push(m);
      p = p.slice(m.length);
    }
  }
  return out;
}

/** `coerce` in object.go. */
export function coerce(v: string): string | number | boolean {
  if (v === "true") return true;
  if (v === "false") return false;
  if (v.length > 1 && v[0] === "0") return v;
  if (/^[+-]?\d+$/.test(v) && Number.isSafeInteger(Number(v))) return Number(v);
  return v;
}

function typed(value: string, type: string): string | number | boolean {
  switch (type) {
    case "string":
      return value;
    case "int":
      if (!/^[+-]?\d+$/.test(value)) throw new Error(`strconv.Atoi: parsing "${value}": invalid syntax`);
      return Number(value);
    case "bool":
      // strconv.ParseBool; on failure the CLI logs a warning and stores false.
      return ["1", "t", "T", "TRUE", "true", "True"].includes(value);
    case "float":
      if (Number.isNaN(Number(value)) || value.trim() === "") throw new Error(`strconv.ParseFloat: parsing "${value}": invalid syntax`);
      return Number(value);
    default:
      throw new Error(`invalid type "${type}"; must be one of string, int, bool, or float`);
  }
}

function looksLikeSecret(name: string, value: string): boolean {
  if (!/passwd|pass|password|pwd|secret|token/i.test(name)) return false;
  const v = value.slice(0, 16);
  if (v.length === 0) return false;
  let classes = 0;
  if (/[a-z]/.test(v)) classes += 26;
  if (/[A-Z]/.test(v)) classes += 26;
  if (/\d/.test(v)) classes += 10;
  if (/[^A-Za-z0-9]/.test(v)) classes += 33;
  const entropy = v.length * Math.log2(classes);
  return entropy >= 80 || (entropy >= 40 && entropy / v.length >= 3);
}

export function isContainer(v: unknown): v is Record<string, unknown> | unknown[] {
  return typeof v === "object" && v !== null && !isSecure(v);
}

function setIn(container: Record<string, unknown> | unknown[], prefix: Segment[], rest: Segment[], value: unknown): void {
  const [head, ...tail] = rest;
  if (Array.isArray(container)) {
    if (typeof head !== "number") throw new Error(`${prefix.join(".")}: key for an array must be an int`);
    if (head < 0 || head > container.length) throw new Error(`${prefix.join(".")}: array index out of range`);
    if (tail.length === 0) {
      container[head] = value;
      return;
    }
    let child = container[head];
    if (!isContainer(child)) {
      if (child !== undefined && child !== null)
        throw new Error(`${[...prefix, head].join(".")}: expected ${typeof tail[0] === "number" ? "an array" : "a map"}`);
      child = typeof tail[0] === "number" ? new Array<unknown>(tail[0] + 1).fill(null) : {};
      container[head] = child;
    }
    setIn(child as Record<string, unknown> | unknown[], [...prefix, head], tail, value);
    return;
  }
  if (typeof head !== "string") throw new Error(`${prefix.join(".")}: key for a map must be a string`);
  if (tail.length === 0) {
    container[head] = value;
    return;
  }
  let child = container[head];
  if (!isContainer(child)) {
    if (child !== undefined && child !== null)
      throw new Error(`${[...prefix, head].join(".")}: expected ${typeof tail[0] === "number" ? "an array" : "a map"}`);
    child = typeof tail[0] === "number" ? new Array<unknown>(tail[0] + 1).fill(null) : {};
    container[head] = child;
  }
  setIn(child as Record<string, unknown> | unknown[], [...prefix, head], tail, value);
}

function removeIn(container: unknown, rest: Segment[]): void {
  if (!isContainer(container)) return;
  const [head, ...tail] = rest;
  if (Array.isArray(container)) {
    if (typeof head !== "number" || head < 0 || head >= container.length) return;
    if (tail.length === 0) container.splice(head, 1);
    else removeIn(container[head], tail);
    return;
  }
  if (typeof head !== "string") return;
  if (tail.length === 0) delete container[head];
  else removeIn(container[head], tail);
}

export interface CliOptions {
  /** The project name, the default config namespace. */
  project: string;
  /** Answers to the CLI's prompt when a command gives no value, by full config key. */
  prompt?: (key: string, secret: boolean) => string | undefined;
  /**
   * What the shell prints for a command substitution `$(command)` inside double quotes (the
   * only form a fix may use: unquoted, its output would be split into words). Without it,
   * a line with a substitution is refused.
   */
  substitute?: (command: string) => string;
  /** Shell variables a line uses (`$S`, `"$ORG/veza"`); an unset one is refused. */
  env?: Record<string, string>;
}

/** A word shell-quote leaves alone, standing for the `n`th substitution of a line. */
const marker = (n: number): string => `@@SUBSTITUTION-${n}@@`;

/**
 * Replace each `$(command)` inside double quotes by a marker, so shell-quote (which keeps
 * `$(` as text) cannot confuse it with literal text in single quotes. Unquoted `$(` is refused.
 */
function markSubstitutions(line: string): { line: string; commands: string[] } {
  const commands: string[] = [];
  let out = "";
  let quote: "" | "'" | '"' = "";
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote !== "'" && c === "\\") {
      out += c + (line[i + 1] ?? "");
      i++;
    } else if (quote === "" && (c === "'" || c === '"')) {
      quote = c;
      out += c;
    } else if (quote !== "" && c === quote) {
      quote = "";
      out += c;
    } else if (quote !== "'" && c === "$" && line[i + 1] === "(") {
      if (quote === "") throw new Error(`an unquoted $(...) would be split into words: ${line}`);
      const end = line.indexOf(")", i);
      if (end === -1) throw new Error(`unterminated $( in ${line}`);
      commands.push(line.slice(i + 2, end));
      out += marker(commands.length - 1);
      i = end;
    } else out += c;
  }
  return { line: out, commands };
}

/** Split a pasted line into commands on `&&`; anything else a shell would interpret is refused. */
export function splitCommands(line: string, substitute?: (command: string) => string, env: Record<string, string> = {}): string[][] {
  const marked = markSubstitutions(line);
  if (marked.commands.length && !substitute) throw new Error(`the model cannot run $(${marked.commands[0]}) in ${line}`);
  const outputs = marked.commands.map((c) => (substitute as (command: string) => string)(c));
  const unmark = (word: string): string => outputs.reduce((w, o, n) => w.split(marker(n)).join(o), word);
  const commands: string[][] = [[]];
  const variable = (name: string): string => {
    if (!(name in env)) throw new Error(`$${name} is not set in ${line}`);
    return env[name];
  };
  for (const token of parse(marked.line, variable)) {
    if (typeof token === "string") commands[commands.length - 1].push(unmark(token));
    else if ("op" in token && token.op === "&&") commands.push([]);
    else if ("comment" in token) continue;
    else throw new Error(`the shell would not run this as typed: ${JSON.stringify(token)} in ${line}`);
  }
  if (commands.some((c) => c.length === 0)) throw new Error(`empty command in ${line}`);
  return commands;
}

/** Apply one pasted line (commands joined by `&&`) to a stack's config, as the CLI would. Returns the stacks named. */
export function applyLine(config: StackFileConfig, line: string, opts: CliOptions): string[] {
  return splitCommands(line, opts.substitute, opts.env).map((argv) => applyArgv(config, argv, opts));
}

/** Apply one parsed `pulumi config set` or `rm` as the CLI would. Returns the stack it names. */
export function applyArgv(config: StackFileConfig, argv: string[], opts: CliOptions): string {
  if (argv[0] !== "pulumi" || argv[1] !== "config" || (argv[2] !== "set" && argv[2] !== "rm")) {
    throw new Error(`not a pulumi config set/rm command: ${argv.join(" ")}`);
  }
  const verb = argv[2];
  const flags: Record<string, string | boolean> = {};
  const positional: string[] = [];
  const known = verb === "set" ? { path: false, secret: false, plaintext: false, type: true, stack: true, raw: false } : { path: false, stack: true };
  for (let i = 3; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--") {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith("-") && a !== "-") {
      const [rawName, inline] = a.replace(/^--?/, "").split(/=(.*)/s, 2);
      const name = rawName === "s" ? "stack" : rawName;
      if (!(name in known)) throw new Error(`unknown flag: ${a}`);
      const takesValue = (known as Record<string, boolean>)[name];
      if (takesValue) {
        const v = inline ?? argv[++i];
        if (v === undefined) throw new Error(`flag needs an argument: ${a}`);
        flags[name] = v;
      } else flags[name] = true;
    } else positional.push(a);
  }
  const stack = typeof flags.stack === "string" ? flags.stack : "";
  if (!stack) throw new Error(`no --stack in ${argv.join(" ")}: the command would act on whatever stack is selected`);
  const exclusive = ["secret", "plaintext", "type"].filter((f) => flags[f] !== undefined);
  if (exclusive.length > 1)
    throw new Error(`if any flags in the group [secret plaintext type] are set none of the others can be; [${exclusive.join(" ")}] were all set`);
  const usePath = flags.path === true;
  const [keyText, ...values] = positional;
  if (!keyText) throw new Error(`no key in ${argv.join(" ")}`);
  if (values.length > (verb === "set" ? 1 : 0)) throw new Error(`too many arguments in ${argv.join(" ")}`);

  // ParseConfigKey: `namespace:name`, or a bare name in the project's namespace.
  const ns = /^([A-Za-z0-9_-]+):(.*)$/s.exec(keyText);
  const namespace = ns ? ns[1] : opts.project;
  const name = ns ? ns[2] : keyText;
  const segments = usePath ? parsePropertyPath(name) : [name];
  if (typeof segments[0] !== "string" || segments[0] === "") throw new Error("first path segement of config key must be a string");
  const fullKey = `${namespace}:${segments[0]}`;

  if (verb === "rm") {
    if (segments.length === 1) delete config[fullKey];
    else removeIn(config[fullKey], segments.slice(1));
    return stack;
  }

  const text = values[0] ?? opts.prompt?.(`${namespace}:${name}`, flags.secret === true);
  if (text === undefined) throw new Error("config value must be specified in non-interactive mode");
  let value: unknown;
  if (flags.secret === true) value = { secure: text };
  else {
    if (flags.plaintext !== true && looksLikeSecret(name, text)) {
      throw new Error(
        `config value for '${fullKey}' looks like a secret; rerun with --secret to encrypt it, or --plaintext if you meant to store in plaintext`,
      );
    }
    value = typeof flags.type === "string" ? typed(text, flags.type) : segments.length > 1 ? coerce(text) : text;
  }
  if (segments.length === 1) {
    config[fullKey] = value;
    return stack;
  }
  let root = config[fullKey];
  // COMPAT: a first-level scalar is replaced by a new container.
  if (!isContainer(root)) {
    root = typeof segments[1] === "number" ? new Array<unknown>(segments[1] + 1).fill(null) : {};
    config[fullKey] = root;
  }
  setIn(root as Record<string, unknown> | unknown[], [segments[0]], segments.slice(1), value);
  return stack;
}
