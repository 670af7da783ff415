/**
 * Keys the program generates itself (`@pulumi/random`) and rotates on a schedule, with no
 * timer and no state of its own: each key is a `RandomPassword` whose `keepers` hold the
 * number of the rotation period that `now` falls in, so the first `pulumi up` after a period
 * boundary replaces it. `keepPrevious` keys alternate two slots offset by one period, so the
 * value before a rotation stays published as `<key>-previous` for one more period. Not
 * protected, on purpose (replacement is how a key rotates; the durable copies are in the
 * protected backends). The design, the arithmetic and the hazards: docs/key-rotation.md.
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
      throw new pulumi.ResourceError('[epoch] must be a valid Date such as new Date("2026-01-01T00:00:00Z"), or be left out.', this);
    }
    this.validate(args.keys);

    // RandomPassword marks its `result` secret itself (additionalSecretOutputs); a test checks it.
    const child = { parent: this };
    const password = (resourceName: string, spec: GeneratedKeySpec, keeper: number) =>
      new RandomPassword(
        resourceName,
        // Letters and digits only: URL, env-file and shell safe (see the header for entropy).
        { length: spec.length, special: false, keepers: { rotation: String(keeper) } },
        child,
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
        throw new pulumi.ResourceError(
          `[keys] "${spec.key}": length must be a whole number of at least ${MIN_KEY_LENGTH} characters; got ${spec.length}.`,
          this,
        );
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
