/**
 * Whole-program tests: the real index.ts, per committed stack and per example fragment,
 * under Pulumi mocks (scripts/harness.ts), asserting on what it registers.
 */
import * as assert from "node:assert/strict";
import { serviceSecrets, CATALOG } from "../components/catalog";
import { exampleFragments, fakeSecrets, plaintextOccurrences, runProgram, STACKS, type ProgramRun } from "../scripts/harness";

const runs = new Map<string, ProgramRun>();
async function stackRun(stack: string, fragment?: string): Promise<ProgramRun> {
  const key = `${stack}+${fragment ?? ""}`;
  if (!runs.has(key)) {
    const overrides = fragment ? exampleFragments()[fragment] : undefined;
    const secrets = fakeSecrets();
    runs.set(key, await runProgram({ stack, overrides, secrets }));
  }
  return runs.get(key) as ProgramRun;
}

const fragments = Object.keys(exampleFragments());

describe("the whole program", () => {
  it("has an example fragment per backend choice", () => {
    assert.deepEqual(fragments, ["aws", "azure", "gcp", "kubernetes"]);
  });

  for (const stack of STACKS) {
    for (const fragment of [undefined, ...fragments]) {
      const label = `${stack}${fragment ? ` + stacks/examples/${fragment}.yaml` : ""}`;

      it(`${label}: never registers or exports a secret value in clear text`, async () => {
        const run = await stackRun(stack, fragment);
        const needles = [...Object.values(fakeSecrets()).map((v) => (v.match(/FAKE-SECRET-\w+-5f3c9a/) ?? [v])[0]), "FAKE-GENERATED-"];
        for (const needle of needles) {
          assert.deepEqual(plaintextOccurrences(run.resources.map((r) => r.inputs), needle), [], `${needle} in resource inputs`);
          assert.deepEqual(plaintextOccurrences(run.outputs, needle), [], `${needle} in stack outputs`);
          assert.deepEqual(plaintextOccurrences([...run.componentOutputs.values()], needle), [], `${needle} in component outputs`);
        }
      });

      it(`${label}: exports the Kubernetes Secret names and keys of the catalog`, async () => {
        const run = await stackRun(stack, fragment);
        assert.deepEqual(
          run.outputs.kubernetesSecrets,
          serviceSecrets(CATALOG).map((s) => ({ name: s.name, keys: s.keys })),
        );
      });
    }
  }
});
