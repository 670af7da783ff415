/** Policies: Generated keys: long enough, rotated at least every 90 days. */
import { resourcePolicy, stackPolicy } from "../define";
import { type Plain, at, isObject } from "../props";
import { type StackResource, T } from "../resources";

export const MIN_KEY_LENGTH = 32;
export const MAX_ROTATION_DAYS = 90;

export const generatedKeyLength = resourcePolicy(
  {
    name: "generated-key-length",
    description: `Generated keys (RandomPassword) are at least ${MIN_KEY_LENGTH} characters (the spec's JWT minimum).`,
    enforcementLevel: "mandatory",
  },
  (type) => type === T.randomPassword,
  (r, f) => {
    const length = at(r.props, "length");
    if (f.unknown(length)) return;
    if (typeof length !== "number" || length < MIN_KEY_LENGTH) {
      f.violation(`RandomPassword "${r.name}" is ${String(length)} characters long: generated keys must be at least ${MIN_KEY_LENGTH}.`);
    }
  },
);

/** Rotation periods a stack declares: RandomPassword `keepers.rotationDays`, GeneratedKeys output `rotationDays`. */
function declaredRotations(resources: StackResource[]): { urn: string; what: string; days: Plain }[] {
  const out: { urn: string; what: string; days: Plain }[] = [];
  for (const r of resources) {
    if (r.type === T.randomPassword) {
      const days = at(r.props, "keepers", "rotationDays");
      if (days !== undefined) out.push({ urn: r.urn, what: `RandomPassword "${r.name}"`, days: typeof days === "string" ? Number(days) : days });
    } else if (r.type === T.generatedKeys) {
      const byKey = at(r.props, "rotationDays");
      if (isObject(byKey)) for (const [key, days] of Object.entries(byKey)) out.push({ urn: r.urn, what: `Generated key "${key}" (${r.name})`, days });
    }
  }
  return out;
}

export const generatedKeyRotation = stackPolicy(
  {
    name: "generated-key-rotation",
    description: `Generated keys rotate: every RandomPassword has a rotation keeper, and every declared rotation period is at most ${MAX_ROTATION_DAYS} days.`,
    enforcementLevel: "mandatory",
  },
  (resources, f) => {
    for (const r of resources.filter((x) => x.type === T.randomPassword)) {
      const keeper = at(r.props, "keepers", "rotation");
      if (f.unknown(keeper)) continue;
      if (keeper === undefined || keeper === "") {
        f.violation(
          `RandomPassword "${r.name}" has no rotation keeper, so it never rotates: generate it with GeneratedKeys (keepers.rotation = its rotation period).`,
          r.urn,
        );
      }
    }
    for (const d of declaredRotations(resources)) {
      if (f.unknown(d.days)) continue;
      if (typeof d.days !== "number" || !Number.isFinite(d.days) || d.days > MAX_ROTATION_DAYS) {
        f.violation(`${d.what} rotates every ${String(d.days)} days: rotate generated keys at least every ${MAX_ROTATION_DAYS} days.`, d.urn);
      }
    }
  },
);

export const generatedKeyRotationDeclared = stackPolicy(
  {
    name: "generated-key-rotation-declared",
    description: "Generated keys declare their rotation period where a policy can read it, so the 90-day rule can be checked.",
    enforcementLevel: "mandatory",
  },
  (resources, f) => {
    const keys = resources.filter((r) => r.type === T.randomPassword);
    if (keys.length === 0 || declaredRotations(resources).length > 0) return;
    f.violation(
      `${keys.length} generated keys do not declare their rotation period, so "rotated at least every ${MAX_ROTATION_DAYS} days" cannot be checked: expose rotationDays (key → days) as an output of the GeneratedKeys component.`,
    );
  },
);
