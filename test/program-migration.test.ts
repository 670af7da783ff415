/**
 * Whole-program tests of the migration from manually created Secrets: the real index.ts under
 * Pulumi mocks (harness/index.ts) with eso.adoptExisting passes ESO's schemas and webhook,
 * merges into the existing Secrets, then owns them with the same names and keys.
 */
import * as assert from "node:assert/strict";
import { resourcesOfType, runProgram, STACKS, unwrapSecrets, type ProgramRun } from "../harness";
import { validateCustomResource } from "./schemas";
import { ES, expectedSecrets, meta, stackRun } from "./program-fixtures";

describe("migration from manually created Secrets", () => {
  for (const stack of STACKS) {
    it(`${stack}: eso.adoptExisting passes ESO's CRD schemas and its admission webhook (Merge never with deletionPolicy Delete)`, async () => {
      const run = await runProgram({ stack, overrides: { "veza-secrets:eso": { adoptExisting: true } } });
      const ess = resourcesOfType(run, ES);
      assert.ok(ess.length > 0);
      for (const r of ess) {
        assert.deepEqual(validateCustomResource(unwrapSecrets(r.inputs)), [], `${stack} ${r.name}`);
        // The migration Job's Secret was never made by hand: ESO owns it from the start.
        const policy = meta(r).name === "veza-migrations-secrets" ? "Owner" : "Merge";
        assert.deepEqual((r.inputs.spec as { target: object }).target, {
          ...(r.inputs.spec as { target: object }).target,
          creationPolicy: policy,
          deletionPolicy: "Retain",
        });
      }
    });
  }

  it("merges into existing Secrets while eso.adoptExisting is on, then owns them, keeping names and keys", async () => {
    const adopt = await runProgram({ stack: "staging", overrides: { "veza-secrets:eso": { adoptExisting: true } } });
    const own = await stackRun("staging");
    const targets = (run: ProgramRun) =>
      resourcesOfType(run, ES)
        .map((e) => e.inputs.spec as { target: { name: string; creationPolicy: string; template: { data: object } } })
        .map((s) => [s.target.name, s.target.creationPolicy, Object.keys(s.target.template.data)] as const)
        .sort();
    // The migration Job's Secret is new (never hand-made): ESO owns it from the start.
    const adopted = (run: ProgramRun) => targets(run).filter(([name]) => name !== "veza-migrations-secrets");
    assert.deepEqual(
      adopted(adopt).map(([name, policy]) => [name, policy]),
      expectedSecrets("staging")
        .map((s) => [s.name, "Merge"])
        .sort(),
    );
    assert.deepEqual(
      adopted(own).map(([name, policy]) => [name, policy]),
      expectedSecrets("staging")
        .map((s) => [s.name, "Owner"])
        .sort(),
    );
    // Same Secret names and keys in both phases: pods never see a different Secret.
    assert.deepEqual(
      targets(adopt).map(([n, , k]) => [n, k]),
      targets(own).map(([n, , k]) => [n, k]),
    );
  });
});
