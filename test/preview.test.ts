/**
 * Each committed stack as `pulumi preview` runs it: resources to be created have unknown ids
 * and computed outputs, so the program's code meets unknowns where it builds inputs from them
 * (ARNs in policies, generated values, vault URIs). The program must register the same
 * resources as at `pulumi up`, leak nothing, and pass the unknowns on instead of guessing.
 */
import * as assert from "node:assert/strict";
import { fakeSecrets, plaintextOccurrences, resourcesOfType, runProgram, STACKS, UNKNOWN, unwrapSecrets, type ProgramRun } from "../harness";

const key = (r: { type: string; name: string }) => `${r.type} ${r.name}`;
/** Every path under `value` that holds an unknown. */
function unknownPaths(value: unknown, at = "$"): string[] {
  if (value === UNKNOWN) return [at];
  if (Array.isArray(value)) return value.flatMap((v, i) => unknownPaths(v, `${at}[${i}]`));
  if (value && typeof value === "object") return Object.entries(value).flatMap(([k, v]) => unknownPaths(v, `${at}.${k}`));
  return [];
}

describe("the whole program at preview (unknown outputs), per stack", () => {
  for (const stack of STACKS) {
    describe(stack, () => {
      let preview: ProgramRun;
      let up: ProgramRun;
      before(async () => {
        preview = await runProgram({ stack, preview: true });
        up = await runProgram({ stack });
      });

      it("registers the same resources, with the same parents and options, as an update", () => {
        const shape = (run: ProgramRun) => run.resources.map((r) => [key(r), r.parent.split("::").pop(), r.protect, r.dependencies.length]).sort();
        assert.deepEqual(shape(preview), shape(up));
      });

      it("passes unknowns on only where an input is built from another resource's computed output", () => {
        const withUnknowns = preview.resources.filter((r) => unknownPaths(unwrapSecrets(r.inputs)).length > 0);
        assert.ok(withUnknowns.length > 0, "preview made something unknown");
        for (const r of withUnknowns) assert.ok(r.dependencies.length > 0, `${key(r)} has unknown inputs but depends on nothing`);
        // What the environments' read paths need at preview: known, not guessed.
        for (const r of resourcesOfType(preview, "kubernetes:external-secrets.io/v1:ExternalSecret")) {
          assert.deepEqual(unknownPaths(r.inputs), [], `${r.name} is fully known at preview`);
        }
        if (stack === "production") {
          // The read policy names the KMS key's ARN and the role's id, which AWS assigns: unknown until created.
          const policy = resourcesOfType(preview, "aws:iam/rolePolicy:RolePolicy");
          assert.equal(policy.length, 1);
          assert.deepEqual(unknownPaths(unwrapSecrets(policy[0].inputs)), ["$.policy", "$.role"]);
          assert.deepEqual(unknownPaths(unwrapSecrets(resourcesOfType(up, "aws:iam/rolePolicy:RolePolicy")[0].inputs)), []);
        }
      });

      it("never registers a secret value in clear text, unknowns or not", () => {
        for (const needle of [...Object.values(fakeSecrets()).map((v) => (v.match(/FAKE-SECRET-\w+-5f3c9a/) ?? [v])[0]), "FAKE-GENERATED-"]) {
          assert.deepEqual(
            plaintextOccurrences(
              preview.resources.map((r) => r.inputs),
              needle,
            ),
            [],
            needle,
          );
          assert.deepEqual(plaintextOccurrences(preview.outputs, needle), [], needle);
        }
      });
    });
  }
});
