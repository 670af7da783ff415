/**
 * Issue 30 #2: the offline diff shows every changed value whole. A Vault policy widened to
 * `sudo`, a new image digest or an IAM statement deep inside a policy document changes text
 * far past the 72 characters the plan used to keep, so each must show as a change, with the
 * whole value in `--json` and a line diff in the text; secrets stay `[secret]`.
 */
import * as assert from "node:assert/strict";
import { findResource, runProgram, type ProgramRun } from "../harness";
import { diffPlans, planJson, renderDiff } from "../harness/plan-json";
import { valueDiff } from "../harness/value-diff";

const POLICY = "vault:index/policy:Policy";
const ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy";

/** A copy of a run with one resource's input replaced, as if the program had changed it. */
function edited(run: ProgramRun, type: string, name: string, key: string, edit: (v: string) => string): ProgramRun {
  const copy = structuredClone(run);
  const r = findResource(copy, type, name);
  const value = r.inputs[key];
  assert.equal(typeof value, "string", `${name}.${key} is a plain string`);
  r.inputs[key] = edit(value as string);
  return copy;
}

describe("npm run plan --diff / --json: whole values (issue 30 #2)", () => {
  let production: ProgramRun;
  before(async () => {
    production = await runProgram({ stack: "production" });
  });

  it("--json keeps every input whole: multi-line Vault policies and long JSON policy documents, byte for byte", () => {
    const plan = planJson(production);
    const policy = findResource(production, POLICY, "vault-config-policy").inputs.policy as string;
    assert.ok(policy.length > 200 && policy.includes("\n"), "the policy is long and multi-line");
    const planned = plan.resources.find((r) => r.type === POLICY && r.name === "vault-config-policy");
    assert.equal(planned?.inputs.policy, policy);
    const iam = findResource(production, ROLE_POLICY, "aws-secrets-eso-read").inputs.policy as string;
    assert.ok(iam.length > 72);
    assert.equal(plan.resources.find((r) => r.type === ROLE_POLICY)?.inputs.policy, iam);
    for (const r of plan.resources) for (const [k, v] of Object.entries(r.inputs)) assert.ok(!(v.length === 72 && v.endsWith("…")), `${r.name}.${k} is cut`);
  });

  it("a Vault policy widened to sudo is a change, shown as a line diff of the policy", () => {
    const widened = edited(production, POLICY, "vault-config-policy", "policy", (p) => p.replace(/capabilities = \[([^\]]*)\]/, 'capabilities = [$1, "sudo"]'));
    const diff = diffPlans(planJson(production), planJson(widened));
    assert.equal(diff.changed.length, 1);
    const [change] = diff.changed;
    const [before, after] = change.fields["inputs.policy"];
    assert.equal(after, findResource(widened, POLICY, "vault-config-policy").inputs.policy);
    assert.equal(before, findResource(production, POLICY, "vault-config-policy").inputs.policy);
    // Vault updates a policy's body in place (only its name replaces it).
    assert.equal(change.action, "update");
    const text = renderDiff(diff, "production", "main", "working tree");
    const added = text.split("\n").filter((l) => /^ {6}\+/.test(l));
    const removed = text.split("\n").filter((l) => /^ {6}-/.test(l));
    assert.equal(added.length, 1, text);
    assert.equal(removed.length, 1, text);
    assert.match(added[0], /"sudo"\]/);
    assert.match(text, /^~ vault:index:Policy vault-config-policy$/m);
    assert.match(text, /^ {4}inputs\.policy:$/m);
    assert.match(text, /^ {6}@@ -\d+,\d+ \+\d+,\d+ @@$/m);
  });

  it("a new ESO image digest (eso.imageDigest) is a change, shown whole", async () => {
    const digest = `sha256:${"0".repeat(63)}1`;
    const after = await runProgram({ stack: "production", overrides: { "veza-secrets:eso": { imageDigest: digest } } });
    const diff = diffPlans(planJson(production), planJson(after));
    const eso = diff.changed.find((c) => c.type === "kubernetes:helm.sh/v3:Release" && c.name === "external-secrets");
    assert.ok(eso, `changed: ${diff.changed.map((c) => c.name).join(", ") || "nothing"}`);
    const [, tag] = eso.fields["inputs.values.image.tag"];
    assert.ok(tag?.endsWith(digest), tag);
    const text = renderDiff(diff, "production", "main", "working tree");
    assert.ok(text.includes(`+${tag}`), text);
  });

  it("a statement added to an IAM policy document shows as its own lines of the pretty-printed JSON", () => {
    const wider = edited(production, ROLE_POLICY, "aws-secrets-eso-read", "policy", (p) => {
      const doc = JSON.parse(p) as { Statement: Record<string, unknown>[] };
      doc.Statement.push({ Sid: "Everything", Effect: "Allow", Action: "kms:*", Resource: "*" });
      return JSON.stringify(doc);
    });
    const text = renderDiff(diffPlans(planJson(production), planJson(wider)), "production", "main", "working tree");
    for (const line of ['"Sid": "Everything",', '"Action": "kms:*",', '"Resource": "*"'])
      assert.match(text, new RegExp(`^ {6}\\+ +${line.replace(/[*]/g, "\\*")}$`, "m"), text);
  });

  it("short values stay inline; long and multi-line ones become a unified diff; none is ever cut", () => {
    assert.deepEqual(valueDiff("2", "3"), ["2 → 3"]);
    assert.deepEqual(valueDiff(undefined, "x"), ["(none) → x"]);
    const long = "a".repeat(100);
    assert.deepEqual(valueDiff(long, `${long}b`), ["@@ -1,1 +1,1 @@", `-${long}`, `+${long}b`]);
    assert.deepEqual(valueDiff("one\ntwo\nthree", "one\n2\nthree"), ["@@ -1,3 +1,3 @@", " one", "-two", "+2", " three"]);
    assert.deepEqual(valueDiff('{"a":1}', '{"a":2}'), ["@@ -1,3 +1,3 @@", " {", '-  "a": 1', '+  "a": 2', " }"]);
  });

  it("secrets stay masked in the whole-value JSON and in the diff", async () => {
    const withSecret = await runProgram({ stack: "production", overrides: { "veza-secrets:eso": { replicas: 3 } } });
    const json = JSON.stringify([planJson(production), diffPlans(planJson(production), planJson(withSecret))]);
    const text = renderDiff(diffPlans(planJson(production), planJson(withSecret)), "production", "a", "b");
    for (const out of [json, text]) assert.doesNotMatch(out, /FAKE-SECRET|FAKE-GENERATED/);
    assert.ok(json.includes('"secretString":"[secret]"'));
  });

  it("reads an older plan (values cut at 72, whitespace collapsed) without reporting its cuts as changes", () => {
    const current = planJson(production);
    const legacy = structuredClone(current);
    delete legacy.format;
    for (const r of legacy.resources)
      for (const [k, v] of Object.entries(r.inputs)) {
        const s = v.replace(/\s+/g, " ");
        r.inputs[k] = s.length > 72 ? `${s.slice(0, 71)}…` : s;
      }
    assert.deepEqual(diffPlans(legacy, current).changed, []);
    const widened = edited(production, POLICY, "vault-config-policy", "policy", (p) => `# widened\n${p}`);
    const [change] = diffPlans(legacy, planJson(widened)).changed;
    assert.deepEqual(change.cutBefore, ["inputs.policy"]);
  });
});
