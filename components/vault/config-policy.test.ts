/**
 * The Vault policy VaultConfig writes (components/vault/policy-hcl.ts): policyDocument renders
 * the production policy exactly and names only its own environment (3×3), and policyPaths
 * refuses text it cannot read.
 */
import * as assert from "node:assert/strict";
import { policyDocument, policyPaths } from "./policy-hcl";
import { ENVS, POLICY_PRODUCTION } from "./config-fixtures";

describe("components/vault/config", () => {
  describe("policyDocument and policyPaths", () => {
    it("produces the production policy exactly", () => {
      assert.equal(policyDocument({ kvMount: "secret", secretPath: "veza/production" }), POLICY_PRODUCTION);
    });

    for (const own of ENVS) {
      for (const other of ENVS) {
        it(`${own}'s policy ${own === other ? "names" : "does not name"} veza/${other}`, () => {
          const hcl = policyDocument({ kvMount: "secret", secretPath: `veza/${own}` });
          const paths = policyPaths(hcl).map((p) => p.path);
          if (own === other) assert.deepEqual(paths, [`secret/data/veza/${own}`, `secret/metadata/veza/${own}`]);
          else assert.ok(!hcl.includes(`veza/${other}`), hcl);
          assert.ok(!hcl.includes("*") && !hcl.includes("sudo"), hcl);
        });
      }
    }

    it("refuses text it cannot read", () => {
      assert.throws(() => policyPaths(`${POLICY_PRODUCTION}\npath "sys/*" { capabilities = ["sudo"] policy = "deny" }`), /^Error: policyPaths: cannot parse/);
      assert.throws(() => policyPaths('path "a" { capabilities = [read] }'), /^Error: policyPaths: capability read in path "a" is not a quoted word$/);
    });
  });
});
