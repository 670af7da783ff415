/**
 * The SDK's wire format as the offline engines see it: the secret marker, the unknown
 * marker of a preview, and helpers to unwrap or search recorded values.
 */

/** Pulumi's marker for a secret value on the wire. */
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const SIG_KEY = "4dabf18193072939515e22adb298388d";

export function isSecret(value: unknown): value is { [SIG_KEY]: string; value: unknown } {
  return typeof value === "object" && value !== null && (value as Record<string, unknown>)[SIG_KEY] === SECRET_SIG;
}

/** A plain object (not an array, not null). */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The engine's marker for a value unknown during preview, as recorded inputs show it. */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** Remove secret wrappers, e.g. to compare inputs to plain expected values. */
export function unwrapSecrets(value: unknown): unknown {
  if (isSecret(value)) return unwrapSecrets(value.value);
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrapSecrets(v)]));
  return value;
}

/**
 * Every place where `needle` occurs outside a secret wrapper, as `path` strings.
 * Empty means the value only ever travels as a Pulumi secret.
 */
export function plaintextOccurrences(value: unknown, needle: string, at = "$"): string[] {
  if (isSecret(value)) return [];
  if (typeof value === "string") return value.includes(needle) ? [at] : [];
  if (Array.isArray(value)) return value.flatMap((v, i) => plaintextOccurrences(v, needle, `${at}[${i}]`));
  if (isPlainObject(value)) return Object.entries(value).flatMap(([k, v]) => plaintextOccurrences(v, needle, `${at}.${k}`));
  return [];
}
