/**
 * The policy pack (policy/) over the real program: every stack (and every example fragment
 * merged over it) run through every policy, with no mandatory violation and only the accepted
 * advisories.
 */
import * as assert from "node:assert/strict";
import * as P from "../policy/policies";
import { STACKS, exampleFragments, runProgram, unwrapSecrets, type ProgramRun } from "../harness";
import { type FakeResource, isStackPolicy, validateResource, validateStack } from "./policy-args";

/** The program's registered resources as the engine would hand them to policies. */
function asPolicyResources(run: ProgramRun): FakeResource[] {
  return run.resources
    .filter((r) => r.type !== "pulumi:pulumi:Stack" && !r.type.startsWith("pulumi:providers:"))
    .map((r) => ({
      type: r.type,
      name: r.name,
      urn: r.urn,
      // Components' state holds what they registered as outputs (the engine replaces their inputs).
      // The engine sends a resource's inputs as its props, components' included.
      props: unwrapSecrets(r.inputs) as Record<string, unknown>,
      protect: r.protect,
      parent: r.parent,
      dependencies: r.dependencies,
    }));
}

interface Found {
  policy: string;
  level: string;
  message: string;
}

async function runAllPolicies(resources: FakeResource[]): Promise<Found[]> {
  const found: Found[] = [];
  for (const policy of P.POLICIES) {
    const outcomes = isStackPolicy(policy) ? [await validateStack(policy, resources)] : await Promise.all(resources.map((r) => validateResource(policy, r)));
    for (const o of outcomes) {
      assert.equal(o.cannotRunInPreview, undefined, `${policy.name}: ${o.cannotRunInPreview}`);
      for (const message of o.messages) found.push({ policy: policy.name, level: policy.enforcementLevel ?? "advisory", message });
    }
  }
  return found;
}

/**
 * Mandatory violations the current program is known to have, by run (`<stack>` or
 * `<stack>+<fragment>`): each is reported to the lead, not hidden by weakening the policy.
 * The test fails when one disappears (drop it here) or a new one appears (fix the program).
 */
const KNOWN_MANDATORY: Record<string, string[]> = {};
/**
 * Advisory findings accepted for a run, with the reason in a comment beside each. Asserted like
 * the mandatory ones: an advisory does not fail `pulumi up`, so nothing else would notice a new one.
 */
const KNOWN_ADVISORY: Record<string, string[]> = {};

describe("policy pack: every stack of the program", function () {
  this.timeout(600_000);
  const runs: { id: string; stack: string; overrides?: Record<string, unknown> }[] = [];
  for (const stack of STACKS) runs.push({ id: stack, stack });
  for (const [fragment, values] of Object.entries(exampleFragments())) {
    // The spec's option 1 is development-only: stacks/config.ts refuses it elsewhere.
    for (const stack of STACKS.filter((s) => fragment !== "kubernetes" || s === "development"))
      runs.push({ id: `${stack}+${fragment}`, stack, overrides: values });
  }

  for (const { id, stack, overrides } of runs) {
    it(`${id}: no mandatory violation and no advisory beyond the accepted ones`, async () => {
      const run = await runProgram({ stack, overrides });
      const found = await runAllPolicies(asPolicyResources(run));
      const advisory = found.filter((f) => f.level === "advisory").map((f) => `${f.policy}: ${f.message}`);
      const accepted = KNOWN_ADVISORY[id] ?? [];
      assert.deepEqual(advisory.sort(), accepted.sort());
      const mandatory = found.filter((f) => f.level === "mandatory").map((f) => `${f.policy}: ${f.message}`);
      // Sorted: the SDK registers resources asynchronously.
      assert.deepEqual(mandatory.sort(), [...(KNOWN_MANDATORY[id] ?? [])].sort());
    });
  }
});
