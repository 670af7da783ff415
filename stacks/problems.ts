/**
 * How a config problem is worded and fixed: the example value for a key, the
 * `pulumi config set` command that repairs it (typed as the CLI stores it), and zod's issues
 * turned into sentences that name what was given.
 */
import { z } from "zod";
import { cronRepairs } from "../components/cron";
import { Computed, type ConfigPath, Placeholder, formatPath, joinCommands, nearest, placeholderNames, replaceCommands, rmCommand, setCommands } from "./fixes";
import { type Environment, ENVIRONMENTS, EXAMPLES, PROVIDERS, type ProviderName, configSchema, pemSchema } from "./schema";

/** A command that makes a valid dev root token every time (a letter first, then 48 hex digits). */
export const DEV_ROOT_TOKEN_FIX = (stack: string): string => `pulumi config set --secret vaultDevRootToken "dev-$(openssl rand -hex 24)" --stack ${stack}`;

function examplePath(path: readonly PropertyKey[]): string {
  const parts = path.map((p, i) => (typeof p === "number" ? "[]" : path[i - 1] === "generatedKeys" ? "*" : String(p)));
  return parts.join(".").replace(/\.\[\]/g, "[]");
}

/**
 * The example for `path` in environment `env`: its own, or the matching part of an
 * ancestor's example object. An example that names the environment is a function of it.
 */
export function exampleFor(path: readonly PropertyKey[], env: Environment = "development"): unknown {
  for (let n = path.length; n >= 1; n--) {
    const entry = EXAMPLES[examplePath(path.slice(0, n))];
    const example: unknown = typeof entry === "function" ? (entry as (e: Environment) => unknown)(env) : entry;
    const rest = valueAt(example, path.slice(n));
    if (rest !== undefined) return rest;
  }
  return undefined;
}

/** The environment a stack's name says it is (`development-alice` → development). */
export function environmentOfStack(stack: string): Environment | undefined {
  return ENVIRONMENTS.find((e) => stack === e || stack.startsWith(`${e}-`));
}

/** The command that sets `path` to its example, replacing `current`. */
export function fixCommand(stack: string, path: readonly PropertyKey[], current?: unknown): string {
  const example = exampleFor(path, environmentOfStack(stack));
  if (example === undefined) throw new Error(`no example for config path ${formatPath(path)}: add one to EXAMPLES in stacks/schema.ts`);
  return joinCommands(replaceCommands(stack, path as ConfigPath, example, current));
}

/**
 * Words in a backend's name as people write it (`aws-secrets-manager`, `hashicorp-vault`,
 * `google-secret-manager`, `k8s`), for the backend they mean.
 */
const PROVIDER_WORDS: Record<string, ProviderName> = {
  aws: "aws",
  amazon: "aws",
  secretsmanager: "aws",
  gcp: "gcp",
  google: "gcp",
  gcloud: "gcp",
  azure: "azure",
  keyvault: "azure",
  akv: "azure",
  vault: "vault",
  hashicorp: "vault",
  openbao: "vault",
  kubernetes: "kubernetes",
  k8s: "kubernetes",
  kube: "kubernetes",
};

/**
 * The backend a name in `providers` stands for: itself, the first word of it that names one
 * (`aws-secrets-manager` → aws, `azure-key-vault` → azure, `k8s`), or a typo of one (`valut`).
 */
export function providerMeant(name: string): ProviderName | undefined {
  if ((PROVIDERS as readonly string[]).includes(name)) return name as ProviderName;
  const words = name.toLowerCase().split(/[^a-z0-9]+/);
  for (const word of words) if (PROVIDER_WORDS[word]) return PROVIDER_WORDS[word];
  return nearest(name, PROVIDERS) as ProviderName | undefined;
}

/** A backend the fix cannot guess: the person names it (a list stays as long as it was, nothing silently dropped). */
const UNKNOWN_PROVIDER = new Placeholder("<provider>");

/**
 * The fix for a bad `providers` list: the same list, in order, with each name corrected to the
 * backend it stands for ({@link providerMeant}); a name that stands for none becomes a
 * `<provider>` placeholder, never dropped, since a backend left out of the list is one whose
 * secrets the next `pulumi up` deletes. Only duplicates go, and `kubernetes` where it is not
 * allowed (the program never deployed that). Set one element at a time (Pulumi.yaml declares
 * `providers` an array).
 */
export function providersFix(stack: string, raw: unknown, env: Environment | undefined): string {
  const out: (ProviderName | Placeholder)[] = [];
  // A single name (set without --path) is a list of one.
  const names = (Array.isArray(raw) ? (raw as unknown[]) : [raw]).filter((e): e is string => typeof e === "string");
  for (const name of names) {
    const meant = providerMeant(name);
    if (!meant) out.push(UNKNOWN_PROVIDER);
    else if (!out.includes(meant)) out.push(meant);
  }
  let fixed = out;
  if (fixed.includes("kubernetes") && (env !== "development" || fixed.length > 1)) fixed = fixed.filter((p) => p !== "kubernetes");
  if (fixed.length === 0) fixed = ["vault"];
  return joinCommands(replaceCommands(stack, ["providers"], fixed, raw));
}

const unwrap = (t: z.ZodType | undefined): z.ZodType | undefined => {
  let u = t;
  while (u instanceof z.ZodOptional) u = u.unwrap() as z.ZodType;
  return u;
};

/** The schema at `path` (through objects, records and lists; not into unions), if any. */
function schemaAt(path: readonly PropertyKey[]): z.ZodType | undefined {
  let cur: z.ZodType | undefined = configSchema;
  for (const p of path) {
    cur = unwrap(cur);
    if (cur instanceof z.ZodObject) cur = (cur.shape as Record<string, z.ZodType>)[String(p)];
    else if (cur instanceof z.ZodRecord) cur = cur.valueType as z.ZodType;
    else if (cur instanceof z.ZodArray) cur = cur.element as z.ZodType;
    else return undefined;
  }
  return unwrap(cur);
}

/**
 * The value nearest to a wrong one that the schema accepts, if an obvious repair gives one, so
 * the fix keeps what the person typed: a number or boolean stored where text belongs (an
 * account id), a URL scheme or a trailing `/` where a host and path belong (an OIDC issuer),
 * the scheme a URL lacks (`vault.acme.io:8200` → `https://vault.acme.io:8200`; not where
 * `oci://` would do as well), surrounding spaces, a cron schedule's near miss
 * (components/cron.ts: `@daily` for Vault, Sunday as 7, a seconds field of 0).
 */
export function repairedValue(path: readonly PropertyKey[], got: unknown): string | undefined {
  const schema = schemaAt(path);
  if (!schema || (typeof got !== "string" && typeof got !== "number" && typeof got !== "boolean")) return undefined;
  const text = String(got).trim();
  const bare = text.replace(/^https?:\/\//, "").replace(/\/+$/, "");
  const schemeless = !/^[a-z]+:\/\//i.test(text) && !schema.safeParse(`oci://${text}`).success ? [`https://${text}`] : [];
  const candidates = [text, text.replace(/\/+$/, ""), bare, ...schemeless, ...cronRepairs(text)];
  return candidates.find((c) => c !== got && schema.safeParse(c).success);
}

/** A PEM value given as the name of its file (`postgres-ca.crt`): the fix reads that file, not an example's. */
function pemFromFile(path: readonly PropertyKey[], got: unknown): Computed | undefined {
  if (schemaAt(path) !== pemSchema || typeof got !== "string") return undefined;
  return /^[\w./~-]+\.(pem|crt|cer)$/.test(got.trim()) ? new Computed(`cat ${got.trim()}`) : undefined;
}

/** The keys the schema allows at `path` (for a discriminated union: the chosen variant's, else all). */
export function knownKeys(path: readonly PropertyKey[], value: unknown): string[] {
  const cur = schemaAt(path);
  if (cur instanceof z.ZodObject) return Object.keys(cur.shape);
  if (cur instanceof z.ZodDiscriminatedUnion) {
    const key = cur.def.discriminator;
    const chosenValue = valueAt(value, [key]);
    const options = cur.options as z.ZodObject[];
    const chosen = options.filter((o) => (o.shape as Record<string, z.ZodLiteral>)[key].value === chosenValue);
    return [...new Set((chosen.length ? chosen : options).flatMap((o) => Object.keys(o.shape)))];
  }
  return [];
}

export function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = root;
  for (const p of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[p];
  }
  return cur;
}

function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return "a list";
  if (value === null) return "null";
  if (typeof value === "object") return "an object";
  return `${typeof value} ${String(value)}`;
}

export function zodMessage(issue: z.core.$ZodIssue, raw: unknown): string {
  const got = valueAt(raw, issue.path);
  switch (issue.code) {
    case "invalid_type":
      return got === undefined ? "is required" : `must be ${article(issue.expected)}; got ${describe(got)}`;
    case "invalid_value":
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}; got ${describe(got)}`;
    case "too_small":
      if (issue.origin === "array") return `must list at least ${String(issue.minimum)}`;
      if (issue.origin === "string") return `must be at least ${String(issue.minimum)} characters; got ${describe(got)}`;
      return `must be at least ${String(issue.minimum)}; got ${describe(got)}`;
    case "too_big":
      if (issue.origin === "string") return `must be at most ${String(issue.maximum)} characters; got ${describe(got)}`;
      return `must be at most ${String(issue.maximum)}; got ${describe(got)}`;
    case "unrecognized_keys":
      return `unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `"${k}"`).join(", ")} (check the spelling against Pulumi.yaml)`;
    case "invalid_union":
      return `is not a valid value; got ${describe(got)}`;
    default:
      return `${issue.message}; got ${describe(got)}`;
  }
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

/**
 * The fix for a value the schema refuses: set the repaired value if there is one; else, where
 * the key has no example (an object, such as `vault` set to text that is not JSON), remove
 * the value, so the next run names what is missing inside it; else `undefined` (the caller
 * sets the example).
 */
function repairCommand(stack: string, path: ConfigPath, got: unknown, env: Environment | undefined): string | undefined {
  const repaired = repairedValue(path, got) ?? pemFromFile(path, got);
  if (repaired !== undefined) return setCommands(stack, path, repaired)[0];
  return exampleFor(path, env) === undefined ? rmCommand(stack, path) : undefined;
}

/**
 * Every schema issue as a problem with its fix: unknown keys with the nearest known one,
 * providers and environment with a working list or name, enum typos with the nearest value,
 * anything else with a repaired value where one can be derived.
 */
export function schemaProblems(
  issues: readonly z.core.$ZodIssue[],
  raw: Record<string, unknown>,
  stack: string,
  add: (path: PropertyKey[], message: string, fix?: string) => void,
): void {
  const stackEnv = environmentOfStack(stack);
  for (const issue of issues) {
    const got = valueAt(raw, issue.path);
    if (issue.code === "unrecognized_keys") {
      const known = knownKeys(issue.path, valueAt(raw, issue.path));
      for (const k of issue.keys) {
        const p = [...issue.path, k];
        const near = nearest(
          k,
          known.filter((x) => valueAt(raw, [...issue.path, x]) === undefined),
        );
        const message = zodMessage({ ...issue, keys: [k] }, raw) + (near ? `; did you mean "${near}"?` : "");
        const move = near ? setCommands(stack, [...issue.path, near] as ConfigPath, valueAt(raw, p)) : [];
        add(p, message, joinCommands([...move, rmCommand(stack, p as ConfigPath)]));
      }
    } else if (issue.path[0] === "providers") {
      const meant = typeof got === "string" ? providerMeant(got) : undefined;
      add(issue.path, zodMessage(issue, raw) + (meant ? `; did you mean "${meant}"?` : ""), providersFix(stack, raw.providers, stackEnv));
    } else if (issue.path[0] === "environment") {
      const env = stackEnv ?? (typeof got === "string" ? nearest(got, ENVIRONMENTS) : undefined) ?? "development";
      add(issue.path, zodMessage(issue, raw), setCommands(stack, ["environment"], env)[0]);
    } else if ((issue.code === "invalid_value" || issue.code === "invalid_union") && typeof got === "string") {
      const options = issue.code === "invalid_value" ? issue.values.map(String) : ((issue as { options?: unknown[] }).options ?? []).map(String);
      const near = nearest(got, options);
      add(
        issue.path,
        zodMessage(issue, raw) + (near ? `; did you mean "${near}"?` : ""),
        near ? setCommands(stack, issue.path as ConfigPath, near)[0] : undefined,
      );
    } else {
      add(issue.path, zodMessage(issue, raw), repairCommand(stack, issue.path as ConfigPath, got, stackEnv));
    }
  }
}

/** Every text value of `raw` that still holds a printed fix's `<placeholder>`, by path. */
export function placeholdersIn(raw: unknown, path: (string | number)[] = []): { path: (string | number)[]; names: string[] }[] {
  if (typeof raw === "string") {
    const names = placeholderNames(raw);
    return names.length ? [{ path, names }] : [];
  }
  if (Array.isArray(raw)) return raw.flatMap((v, i) => placeholdersIn(v, [...path, i]));
  if (raw !== null && typeof raw === "object") return Object.entries(raw).flatMap(([k, v]) => placeholdersIn(v, [...path, k]));
  return [];
}

/** The problem of a value pasted with its placeholder unreplaced: named, never taken for a value. */
export function placeholderMessage(names: readonly string[]): string {
  const list = names.map((n) => `<${n}>`).join(", ");
  return `still holds ${list} from a printed fix: replace ${names.length > 1 ? "each" : "it"} with your own value (the fix shows where)`;
}
