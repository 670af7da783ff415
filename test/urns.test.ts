/**
 * Every stack keeps the URNs it had before the layout change of issue #15 (test/urns.ts):
 * each baseline URN is still registered, or is an alias of a resource that is.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { STACKS } from "../harness";
import { compareUrns, copyProject, isRetired, readBaseline, stackUrns } from "./urns";

describe("URN stability (the baseline in test/fixtures/urns, aliases as the SDK sends them)", function () {
  this.timeout(300_000);

  for (const stack of STACKS) {
    it(`${stack}: every baseline URN is registered or aliased, and no alias is claimed twice`, async () => {
      const baseline = readBaseline(stack);
      assert.ok(baseline.length > 40, "the baseline lists the stack's resources");
      const urns = await stackUrns(stack);
      assert.deepEqual(
        urns.map((r) => r.urn).filter((u) => isRetired(u)),
        [],
        "a retired resource is back",
      );
      const result = compareUrns(baseline, urns);
      assert.deepEqual(result.lost, [], `${stack}: these URNs would be deleted and created again; add an alias`);
      assert.deepEqual(result.claimedTwice, []);
    });
  }

  it("catches a rename without an alias, and accepts the same rename with one", async () => {
    const copy = copyProject();
    try {
      const file = path.join(copy, "components", "cluster", "namespaces.ts");
      const source = fs.readFileSync(file, "utf8");
      const renamed = source.replace("        childName,\n", "        `${childName}-renamed`,\n");
      assert.notEqual(renamed, source, "the edit applies");
      const baseline = readBaseline("development");
      const namespaceUrns = baseline.filter((u) => u.includes("veza:cluster:Namespaces$kubernetes:core/v1:Namespace::"));
      assert.ok(namespaceUrns.length >= 3);

      fs.writeFileSync(file, renamed);
      const lost = compareUrns(baseline, await stackUrns("development", copy)).lost;
      // The external-secrets namespace keeps its old camelCase name as an alias already.
      assert.deepEqual(lost.sort(), namespaceUrns.filter((u) => !u.endsWith("::namespaces-externalSecrets")).sort());

      fs.writeFileSync(file, renamed.replace("{ parent: this, aliases, provider:", "{ parent: this, aliases: [...aliases, { name: childName }], provider:"));
      const kept = compareUrns(baseline, await stackUrns("development", copy));
      assert.deepEqual(kept.lost, []);
      assert.deepEqual(kept.aliased.sort(), namespaceUrns.sort());
    } finally {
      fs.rmSync(copy, { recursive: true, force: true });
    }
  });
});
