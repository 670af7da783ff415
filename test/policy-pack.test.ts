/**
 * The policy pack (policy/) as a whole: its policies' names, descriptions and levels, the
 * PolicyPack in policy/index.ts with its pinned package, and docs/delivery.md's generated list.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as P from "../policy/policies";
import { DELIVERY_DOC, applyPolicyTable, policyTable } from "../scripts/delivery-doc";
import { ROOT } from "../harness";

describe("policy pack: the pack", () => {
  it("has at least 12 policies, each with a unique name, a description and an enforcement level", () => {
    assert.ok(P.POLICIES.length >= 12, `only ${P.POLICIES.length} policies`);
    const names = P.POLICIES.map((p) => p.name);
    assert.equal(new Set(names).size, names.length);
    for (const p of P.POLICIES) {
      assert.match(p.name, /^[a-z0-9-]+$/);
      assert.ok(p.description.length > 20, p.name);
      assert.ok(p.enforcementLevel === "mandatory" || p.enforcementLevel === "advisory", p.name);
    }
  });

  it("builds the PolicyPack in index.ts from POLICIES, with the package pinned like the root lockfile", () => {
    // Read, not imported: constructing a PolicyPack starts a gRPC server.
    const index = fs.readFileSync(path.join(ROOT, "policy", "index.ts"), "utf8");
    assert.match(index, /new PolicyPack\("veza-secrets", \{[\s\S]*policies: POLICIES/);
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "policy", "package.json"), "utf8")) as { name: string; dependencies: Record<string, string> };
    const lock = JSON.parse(fs.readFileSync(path.join(ROOT, "package-lock.json"), "utf8")) as { packages: Record<string, { version: string }> };
    assert.equal(pkg.name, "veza-secrets-policy");
    assert.deepEqual(pkg.dependencies, {
      "@pulumi/policy": lock.packages["node_modules/@pulumi/policy"].version,
      "@pulumi/pulumi": lock.packages["node_modules/@pulumi/pulumi"].version,
    });
    assert.match(fs.readFileSync(path.join(ROOT, "policy", "PulumiPolicy.yaml"), "utf8"), /^runtime: nodejs$/m);
  });
});

describe("policy pack: docs/delivery.md", () => {
  it("lists every policy, generated from policies.ts (run `npx tsx scripts/delivery-doc.ts`)", () => {
    const doc = fs.readFileSync(DELIVERY_DOC, "utf8");
    assert.equal(applyPolicyTable(doc), doc);
    assert.equal(policyTable().split("\n").length, P.POLICIES.length + 2);
    assert.throws(() => applyPolicyTable("no markers"), /docs\/delivery.md has no <!-- generated:policies --> block/);
  });
});
