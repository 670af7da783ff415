/**
 * Stand-in for pulumi-random (the Go module proxy refuses its provider): `RandomPassword`, the
 * only random resource the program uses, as terraform-provider-random behaves: a new value
 * from a CSPRNG on create, every input force-new (a changed keeper or length replaces the
 * password), nothing to delete. Run by the engine as `pulumi-resource-random` (e2e/run.ts).
 */
import { randomInt } from "node:crypto";
import { type Props, serve, secret } from "./serve";

const KNOWN = [
  "length",
  "special",
  "upper",
  "lower",
  "numeric",
  "number",
  "minLower",
  "minUpper",
  "minNumeric",
  "minSpecial",
  "overrideSpecial",
  "keepers",
] as const;

/** A password of `length` characters from the classes the inputs leave on (defaults as the real provider's: all on). */
export function password(inputs: Props): string {
  const on = (k: string) => inputs[k] !== false;
  const length = Number(inputs.length);
  if (!Number.isInteger(length) || length < 1) throw new Error(`length must be a positive whole number; got ${String(inputs.length)}`);
  const special = typeof inputs.overrideSpecial === "string" ? inputs.overrideSpecial : "!@#$%&*()-_=+[]{}<>:?";
  const classes = [
    on("upper") ? "ABCDEFGHIJKLMNOPQRSTUVWXYZ" : "",
    on("lower") ? "abcdefghijklmnopqrstuvwxyz" : "",
    on("numeric") && on("number") ? "0123456789" : "",
    on("special") ? special : "",
  ].join("");
  return Array.from({ length }, () => classes[randomInt(classes.length)]).join("");
}

if (require.main === module) {
  void serve("random", {
    "random:index/randomPassword:RandomPassword": {
      known: KNOWN,
      replaceOn: KNOWN,
      async create(inputs) {
        const result = password(inputs);
        return { id: "none", outs: { result: secret(result), bcryptHash: secret("stand-in: not computed") } };
      },
      async delete() {},
    },
  });
}
