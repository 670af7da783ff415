/**
 * policyPaths, the strict reader of `path` stanzas that tests and the policy pack use to read
 * policies back: it must read every layout HCL allows for the stanzas the program writes, and
 * refuse, naming it, anything it did not read.
 */
import * as assert from "node:assert/strict";
import { policyPaths } from "./policy-hcl";

describe("components/vault/policy-hcl policyPaths", () => {
  it("reads stanzas however they are spaced", () => {
    const tight = 'path "a"{capabilities=["read"]}';
    const loose = 'path   "b"   {\n\n   capabilities   =   [ "read" ,  "list" ]   \n\n}';
    assert.deepEqual(policyPaths(`${tight}\n${loose}`), [
      { path: "a", capabilities: ["read"] },
      { path: "b", capabilities: ["read", "list"] },
    ]);
  });

  it("skips comment lines, indented or not, but not a # inside a path", () => {
    const hcl = '# top\n  # indented\n\t# tabbed\npath "kv/data/a#b" {\n  capabilities = ["read"]\n}\n';
    assert.deepEqual(policyPaths(hcl), [{ path: "kv/data/a#b", capabilities: ["read"] }]);
  });

  it("reads an empty capability list and a trailing comma as what they grant", () => {
    assert.deepEqual(policyPaths('path "a" { capabilities = [] }\npath "b" { capabilities = ["read",] }'), [
      { path: "a", capabilities: [] },
      { path: "b", capabilities: ["read"] },
    ]);
  });

  it("refuses a capability that is not exactly a quoted word, naming it and its path", () => {
    for (const c of ['x"read"', '"read"x', '"Read"', "'read'"]) {
      assert.throws(
        () => policyPaths(`path "kv/a" { capabilities = [${c}] }`),
        { message: `policyPaths: capability ${c} in path "kv/a" is not a quoted word` },
        c,
      );
    }
  });

  it("refuses text between or after stanzas, quoting it", () => {
    const a = 'path "a" { capabilities = ["read"] }';
    assert.throws(() => policyPaths(`${a}\nstray = 1\n${a}`), { message: 'policyPaths: cannot parse "stray = 1"' });
    assert.throws(() => policyPaths(`${a}\npolicy = "deny"\n`), { message: 'policyPaths: cannot parse "policy = \\"deny\\""' });
    assert.throws(() => policyPaths(`${a}\npath "b" { capabilities = ["read"] denied_parameters = {} }`), {
      message: 'policyPaths: cannot parse "path \\"b\\" { capabilities = [\\"read\\"] denied_parameters = {} }"',
    });
  });
});
