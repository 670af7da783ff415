/**
 * Whole-program tests of what the program exposes: the real index.ts, per committed stack and
 * per example fragment, under Pulumi mocks (harness/index.ts), never registers or exports a
 * secret value in clear text and exports the catalog's Secret names and keys.
 */
import * as assert from "node:assert/strict";
import { fakeSecrets, plaintextOccurrences, STACKS } from "../harness";
import { expectedSecrets, fragments, fragmentsFor, stackRun } from "./program-fixtures";

describe("the whole program", () => {
  it("has an example fragment per backend choice", () => {
    assert.deepEqual(fragments, ["aws", "azure", "gcp", "kubernetes"]);
  });

  for (const stack of STACKS) {
    for (const fragment of fragmentsFor(stack)) {
      const label = `${stack}${fragment ? ` + stacks/examples/${fragment}.yaml` : ""}`;

      it(`${label}: never registers or exports a secret value in clear text`, async () => {
        const run = await stackRun(stack, fragment);
        const needles = [...Object.values(fakeSecrets()).map((v) => (v.match(/FAKE-SECRET-\w+-5f3c9a/) ?? [v])[0]), "FAKE-GENERATED-"];
        for (const needle of needles) {
          assert.deepEqual(
            plaintextOccurrences(
              run.resources.map((r) => r.inputs),
              needle,
            ),
            [],
            `${needle} in resource inputs`,
          );
          assert.deepEqual(plaintextOccurrences(run.outputs, needle), [], `${needle} in stack outputs`);
          assert.deepEqual(plaintextOccurrences([...run.componentOutputs.values()], needle), [], `${needle} in component outputs`);
        }
      });

      it(`${label}: exports the Kubernetes Secret names and keys of the catalog`, async () => {
        const run = await stackRun(stack, fragment);
        assert.deepEqual(
          run.outputs.kubernetesSecrets,
          expectedSecrets(stack, fragment).map((s) => ({ name: s.name, keys: s.keys })),
        );
      });
    }
  }
});
