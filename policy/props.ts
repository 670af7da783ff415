/**
 * Reading resource properties the way the policy engine hands them over.
 *
 * During `pulumi preview`, values computed from other resources' outputs are unknown. The
 * framework wraps `props` in a proxy that throws `UnknownValueError` when such a value is read;
 * a policy that lets it escape becomes a single advisory "can't run during preview" note, and
 * in a stack policy one unknown value anywhere silences the whole check. So every policy first
 * copies what it reads into plain data (`plain`), where an unknown value becomes an `Unknown`
 * marker: the policy reports every violation it can prove from known values, and only then
 * (`Findings.finish`) rethrows the first unknown it needed, which the framework turns into that
 * advisory note. At `pulumi up` the inputs are known and the check runs in full.
 *
 * Secrets: resource validation receives secret values unwrapped, in clear; a policy cannot tell
 * a Pulumi secret from a literal. The checks therefore look at key names and value shapes, never
 * at secrecy (see `secret-patterns.ts`).
 */
import * as policy from "@pulumi/policy";

/**
 * The framework's error for a value unknown at preview. Exported at runtime by @pulumi/policy,
 * but its typings drop the class (proxy.d.ts marks it internal), hence the cast.
 */
export const UnknownValueError = (policy as unknown as { UnknownValueError: new (...args: never[]) => Error }).UnknownValueError;

/** A value the engine does not know yet (preview). Holds the framework's error to rethrow. */
export class Unknown {
  constructor(readonly cause: Error) {}
}

/** Plain data: what `plain` returns. */
export type Plain = string | number | boolean | null | undefined | Unknown | Plain[] | { [key: string]: Plain };
export type PlainObject = { [key: string]: Plain };

export function isUnknown(v: unknown): v is Unknown {
  return v instanceof Unknown;
}

export function isObject(v: unknown): v is PlainObject {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Unknown);
}

function readField(obj: Record<string | number, unknown>, key: string | number): Plain {
  try {
    return plain(obj[key]);
  } catch (e) {
    if (e instanceof UnknownValueError) return new Unknown(e);
    throw e;
  }
}

/** Deep copy of a (possibly proxied) value into plain data; unknown values become `Unknown`. */
export function plain(value: unknown): Plain {
  if (value === null || value === undefined) return value;
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") return value;
  if (value instanceof Unknown) return value;
  if (Array.isArray(value)) {
    const arr = value as unknown[];
    const out: Plain[] = [];
    for (let i = 0; i < arr.length; i++) out.push(readField(arr as unknown as Record<number, unknown>, i));
    return out;
  }
  if (typeof value === "object") {
    const obj = value as Record<string, unknown>;
    const out: PlainObject = {};
    for (const key of Object.keys(obj)) out[key] = readField(obj, key);
    return out;
  }
  return undefined;
}

/** The value at `path` below `root`; `undefined` where a step is missing, the marker where unknown. */
export function at(root: Plain, ...path: (string | number)[]): Plain {
  let cur: Plain = root;
  for (const step of path) {
    if (cur instanceof Unknown) return cur;
    if (typeof step === "number") {
      if (!Array.isArray(cur)) return undefined;
      cur = cur[step];
    } else {
      if (!isObject(cur)) return undefined;
      cur = cur[step];
    }
  }
  return cur;
}

export function str(v: Plain): string | undefined {
  return typeof v === "string" ? v : undefined;
}

export function list(v: Plain): Plain[] {
  return Array.isArray(v) ? v : [];
}

/** Every leaf below `root` with its path (`a.b[0].c`); objects and arrays are descended into. */
export function* leaves(root: Plain, path: (string | number)[] = []): Generator<{ path: (string | number)[]; value: Plain; parent?: PlainObject }> {
  if (Array.isArray(root)) {
    for (let i = 0; i < root.length; i++) yield* leaves(root[i], [...path, i]);
    return;
  }
  if (isObject(root)) {
    for (const [k, v] of Object.entries(root)) {
      if (Array.isArray(v) || isObject(v)) yield* leaves(v, [...path, k]);
      else yield { path: [...path, k], value: v, parent: root };
    }
    return;
  }
  yield { path, value: root };
}

/** `a.b[0].c` */
export function formatPath(path: readonly (string | number)[]): string {
  let out = "";
  for (const p of path) {
    if (typeof p === "number") out += `[${p}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(p)) out += out ? `.${p}` : p;
    else out += `[${JSON.stringify(p)}]`;
  }
  return out;
}

/**
 * Violations of one policy run, and the unknown values it could not judge. `finish` must be
 * called last: it rethrows the first unknown so the engine reports that the policy could not
 * fully run during preview, after the definite violations have been reported.
 */
export class Findings {
  private readonly pending: Unknown[] = [];
  constructor(private readonly report: (message: string, urn?: string) => void) {}

  violation(message: string, urn?: string): void {
    this.report(message, urn);
  }

  /** Note that a needed value is unknown; returns true when `v` is unknown (so callers can skip). */
  unknown(v: Plain): v is Unknown {
    if (v instanceof Unknown) {
      this.pending.push(v);
      return true;
    }
    return false;
  }

  finish(): void {
    if (this.pending.length > 0) throw this.pending[0].cause;
  }
}
