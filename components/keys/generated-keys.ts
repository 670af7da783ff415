/**
 * Keys the program generates itself (`@pulumi/random`) and rotates on a schedule.
 *
 * Rotation is declarative: no timer, no Lambda, no state of our own. Each key is a
 * `RandomPassword` whose `keepers` hold the number of the rotation period it belongs to,
 * computed from the `now` the caller passes (the program's start time) and a fixed epoch:
 *
 *   t = now - epoch, P = rotationDays in ms, keeper = floor(t / P)
 *
 * The first `pulumi up` after a period boundary sees a new keeper, and `keepers` forces
 * a replacement, so the provider makes a new value. `pulumi preview` shows that replacement
 * ahead of time, and tests check it offline by passing fixed dates. No `up`, no rotation:
 * schedule a `pulumi up` (CI cron) at least once per period.
 *
 * `keepPrevious` keys (JWT signing: tokens signed just before a rotation must still
 * verify) use two slots, A and B, each rotating every 2P, offset by P:
 *
 *   slot A keeper = floor(t / 2P)        changes at 0, 2P, 4P, ...
 *   slot B keeper = floor((t - P) / 2P)  changes at P, 3P, 5P, ...
 *
 * Exactly one slot changes at each boundary. The current value is the slot whose window
 * started most recently (A in even periods, B in odd ones); the other is published as
 * `<key>-previous`. A rotation therefore replaces only the older slot, and the value that
 * was current stays valid, as `-previous`, for one more period. (In period 0, slot B holds
 * a fresh value no one has used; harmless.) If no `up` runs for a whole period, both slots
 * change at the next one and every signed token becomes invalid: the schedule matters.
 *
 * Alphabet: letters and digits only (`special: false`), so values are safe in URLs, env
 * files and shell without quoting. That gives log2(62) ≈ 5.95 bits per character: the
 * 32-character minimum is ≈ 190 bits, 43 characters reach the 256 bits RFC 7518 §3.2 asks
 * of an HS256 key, and the catalog's 64-character JWT secret carries ≈ 381 bits.
 *
 * Hazards: changing `epoch`, a key's `rotationDays` or `length` changes its keepers or
 * inputs and so makes new values at the next `up` (both slots at once for `length`);
 * toggling `keepPrevious` renames the resources and does the same.
 *
 * Not protected, on purpose: Pulumi refuses to replace a protected resource (the engine's
 * step generator errors when both the old and new state are protected), and replacement is
 * how a key rotates, so `protect` would turn the first scheduled rotation into a failed
 * `up`. The durable copies live in the protected backends (Secrets Manager, Vault); losing
 * this state costs one unscheduled rotation, not data.
 */
import * as pulumi from "@pulumi/pulumi";
import { RandomPassword } from "@pulumi/random/randomPassword";
import { CATALOG_KEY } from "../rules";

/** Default epoch for rotation periods. Changing it rotates every key at the next `up`. */
export const DEFAULT_EPOCH = new Date("2026-01-01T00:00:00Z");

/** Shortest key the component accepts, in characters (≈ 190 bits at 5.95 bits each). */
export const MIN_KEY_LENGTH = 32;

const DAY_MS = 24 * 60 * 60 * 1000;

/** One generated key. */
export interface GeneratedKeySpec {
  /** Catalog key (kebab-case), e.g. `jwt-secret`. Names the resources and the output entry. */
  key: string;
  /** Length in characters, letters and digits only. At least 32. Changing it makes a new value. */
  length: number;
  /** Days between rotations (whole days, at least 1). Changing it moves the boundaries and rotates. */
  rotationDays: number;
  /**
   * Keep the value from before the last rotation, published as `<key>-previous`, so that
   * whatever was signed with it still verifies for one more period (two slots; see the file header).
   */
  keepPrevious: boolean;
}

export interface GeneratedKeysArgs {
  /** Keys to generate, in output order. Keys must be unique, and no key may be another's `<key>-previous`. */
  keys: GeneratedKeySpec[];
  /**
   * The current time. The caller passes it (`new Date()` in a stack; fixed dates in tests)
   * so the component stays deterministic. Rotation happens at the first `up` after a boundary.
   */
  now: Date;
  /**
   * Start of period 0. Default `DEFAULT_EPOCH` (2026-01-01T00:00:00Z). Changing it shifts
   * every boundary and so rotates every key at the next `up`.
   */
  epoch?: Date;
}

/** The two slots of a `keepPrevious` key at one instant. */
export interface RotationSlots {
  /** Keepers of the two slots: A = floor(t / 2P), B = floor((t - P) / 2P). */
  slots: { a: number; b: number };
  /** The slot whose window started most recently: it holds the current value. */
  currentSlot: "a" | "b";
}

function periodMs(periodDays: number): number {
  if (!Number.isInteger(periodDays) || periodDays < 1) throw new Error(`periodDays must be a whole number of at least 1; got ${periodDays}`);
  return periodDays * DAY_MS;
}

/** Number of the rotation period `now` falls in: floor((now - epoch) / P). Negative before the epoch. */
export function rotationPeriod(now: Date, epoch: Date, periodDays: number): number {
  return Math.floor((now.getTime() - epoch.getTime()) / periodMs(periodDays));
}

/** Keepers of slots A and B and which one is current, for a `keepPrevious` key with period P. */
export function rotationSlots(now: Date, epoch: Date, periodDays: number): RotationSlots {
  const p = periodMs(periodDays);
  const t = now.getTime() - epoch.getTime();
  const a = Math.floor(t / (2 * p));
  const b = Math.floor((t - p) / (2 * p));
  // Period k = floor(t / P): A starts a window in even periods, B in odd ones.
  const k = Math.floor(t / p);
  return { slots: { a, b }, currentSlot: k % 2 === 0 ? "a" : "b" };
}

/** Generated keys with scheduled, previewable rotation. */
export class GeneratedKeys extends pulumi.ComponentResource {
  /** Key → value, as Pulumi secrets; `keepPrevious` keys add `<key>-previous`. */
  public readonly values: Record<string, pulumi.Output<string>>;
  /** Key → rotation period in days. Also the component's inputs, so policy packs can check it. */
  public readonly rotationDays: Record<string, number>;

  constructor(name: string, args: GeneratedKeysArgs, opts?: pulumi.ComponentResourceOptions) {
    const rotationDays = Object.fromEntries(args.keys.map((k) => [k.key, k.rotationDays]));
    super("veza:secrets:GeneratedKeys", name, { rotationDays }, opts);
    this.rotationDays = rotationDays;
    const epoch = args.epoch ?? DEFAULT_EPOCH;
    if (!(args.now instanceof Date) || Number.isNaN(args.now.getTime())) {
      throw new pulumi.ResourceError("[now] must be a valid Date; pass `new Date()` from the stack.", this);
    }
    if (!(epoch instanceof Date) || Number.isNaN(epoch.getTime())) {
      throw new pulumi.ResourceError("[epoch] must be a valid Date such as new Date(\"2026-01-01T00:00:00Z\"), or be left out.", this);
    }
    this.validate(args.keys);

    const child = { parent: this };
    // The SDK already marks `result` secret; kept explicit because the values are the point.
    const secretResult = pulumi.mergeOptions(child, { additionalSecretOutputs: ["result"] });
    const password = (resourceName: string, spec: GeneratedKeySpec, keeper: number) =>
      new RandomPassword(
        resourceName,
        // Letters and digits only: URL, env-file and shell safe (see the header for entropy).
        { length: spec.length, special: false, keepers: { rotation: String(keeper) } },
        secretResult,
      );

    const values: Record<string, pulumi.Output<string>> = {};
    for (const spec of args.keys) {
      if (spec.keepPrevious) {
        const { slots, currentSlot } = rotationSlots(args.now, epoch, spec.rotationDays);
        const a = password(`${name}-${spec.key}-a`, spec, slots.a);
        const b = password(`${name}-${spec.key}-b`, spec, slots.b);
        const [current, previous] = currentSlot === "a" ? [a, b] : [b, a];
        values[spec.key] = pulumi.secret(current.result);
        values[`${spec.key}-previous`] = pulumi.secret(previous.result);
      } else {
        const pw = password(`${name}-${spec.key}`, spec, rotationPeriod(args.now, epoch, spec.rotationDays));
        values[spec.key] = pulumi.secret(pw.result);
      }
    }
    this.values = values;
    this.registerOutputs({ values: this.values, rotationDays: this.rotationDays });
  }

  private validate(keys: GeneratedKeySpec[]): void {
    const names = new Set<string>();
    for (const spec of keys) {
      if (!CATALOG_KEY.test(spec.key)) {
        throw new pulumi.ResourceError(`[keys] key "${spec.key}" must be kebab-case, such as "jwt-secret".`, this);
      }
      if (!Number.isInteger(spec.length) || spec.length < MIN_KEY_LENGTH) {
        throw new pulumi.ResourceError(`[keys] "${spec.key}": length must be a whole number of at least ${MIN_KEY_LENGTH} characters; got ${spec.length}.`, this);
      }
      if (!Number.isInteger(spec.rotationDays) || spec.rotationDays < 1) {
        throw new pulumi.ResourceError(`[keys] "${spec.key}": rotationDays must be a whole number of days, at least 1; got ${spec.rotationDays}.`, this);
      }
      for (const out of spec.keepPrevious ? [spec.key, `${spec.key}-previous`] : [spec.key]) {
        if (names.has(out)) throw new pulumi.ResourceError(`[keys] "${out}" is produced twice; give each key a unique name.`, this);
        names.add(out);
      }
    }
  }
}
