/**
 * The committed stack files as the engine passes them: reading `Pulumi.<stack>.yaml` and
 * the example fragments, merging config, the engine's string encoding, and recognisable
 * fakes for supplied secrets a stack file does not hold (never for one it sets).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { CATALOG, SECRET_PLACEHOLDER, type SecretSpec } from "../components/catalog";
import { secretConfigKeys } from "../stacks/config";
import { isPlainObject } from "./wire";

/** The repository: the nearest folder above this file with a Pulumi.yaml (also when compiled elsewhere). */
export const ROOT = ((): string => {
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, "Pulumi.yaml")) && fs.existsSync(path.join(dir, "package.json"))) return dir;
  }
  return path.resolve(__dirname, "..");
})();
export const STACKS = ["development", "staging", "production"] as const;
export type StackName = (typeof STACKS)[number];

/** Config as in a stack file's `config:` map (`veza-secrets:key` → YAML value). */
export type StackConfigValues = Record<string, unknown>;

/** Read a stack file's `config:` map. Encrypted (`secure:`) values are left out. */
export function readStackFile(file: string): StackConfigValues {
  const doc = yaml.load(fs.readFileSync(file, "utf8")) as { config?: StackConfigValues } | undefined;
  const out: StackConfigValues = {};
  for (const [k, v] of Object.entries(doc?.config ?? {})) {
    if (v && typeof v === "object" && !Array.isArray(v) && "secure" in v) continue;
    out[k] = v;
  }
  return out;
}

export function stackConfig(stack: string): StackConfigValues {
  return readStackFile(path.join(ROOT, `Pulumi.${stack}.yaml`));
}

/** Example fragments under `stacks/examples/`, by name (`aws`, `gcp`, ...). */
export function exampleFragments(): Record<string, StackConfigValues> {
  const dir = path.join(ROOT, "stacks", "examples");
  const out: Record<string, StackConfigValues> = {};
  for (const f of fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".yaml"))
    .sort()) {
    out[path.basename(f, ".yaml")] = readStackFile(path.join(dir, f));
  }
  return out;
}

/** Deep-merge config values: objects merge, lists and scalars replace. */
export function mergeConfig(base: StackConfigValues, over: StackConfigValues): StackConfigValues {
  const out: StackConfigValues = { ...base };
  for (const [k, v] of Object.entries(over)) {
    out[k] = isPlainObject(v) && isPlainObject(out[k]) ? mergeConfig(out[k] as StackConfigValues, v) : v;
  }
  return out;
}

/** Turn a stack file's values into the `project:key` → string map the engine passes. */
export function engineConfig(values: StackConfigValues): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(values)) if (v !== undefined) out[k] = typeof v === "string" ? v : JSON.stringify(v);
  return out;
}

/**
 * Recognisable fake values for every secret key a stack may need, derived from the
 * catalog (a supplied key with a shape gets its catalog example, the fake in place of
 * `<secret>`) and `SECRET_KEYS`, but not `vaultToken`: the committed stacks log in with jwt,
 * which refuses a stored token next to it (a test that needs one sets it). Tests search what
 * was registered for these strings to prove no secret leaks in clear text.
 */
export function fakeSecrets(project = "veza-secrets", catalog: readonly SecretSpec[] = CATALOG): Record<string, string> {
  const examples = new Map(
    catalog.flatMap((s) => (s.source.kind !== "generated" && s.source.example ? [[s.source.configKey, s.source.example] as const] : [])),
  );
  const values: Record<string, string> = {};
  for (const k of secretConfigKeys(catalog)) {
    if (k === "vaultToken") continue;
    const fake = `FAKE-SECRET-${k}-5f3c9a`;
    values[`${project}:${k}`] = examples.get(k)?.replace(SECRET_PLACEHOLDER, fake) ?? fake;
  }
  return values;
}

/**
 * The fakes for the secret keys `values` does not set. A fake never stands in for a value
 * the stack file has: a secret pasted there in clear text must reach the program as such.
 */
export function fakesForMissing(values: StackConfigValues): Record<string, string> {
  return Object.fromEntries(Object.entries(fakeSecrets()).filter(([k]) => !(k in values)));
}
