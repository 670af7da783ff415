/**
 * Issue 30 #3: the offline diff tells a replacement from an update. `generatedKeys.jwt-secret.length`
 * 64 → 80 replaces both RandomPassword slots (pulumi-random: every input forces a new
 * password), so every JWT dies; the diff must say so, name what reads the new value, and say
 * plainly when it cannot know a provider's rules. The rule table must cover every custom
 * resource type the program registers, in every stack and with every example fragment.
 */
import * as assert from "node:assert/strict";
import { exampleFragments, runProgram, STACKS, type ProgramRun } from "../harness";
import { diffPlans, planJson, renderDiff, type PlanJson, type PlannedResource } from "../harness/plan-json";
import { REPLACE_RULES, UNKNOWN_RULES, changeKind } from "../harness/replace-rules";

const RANDOM = "random:index/randomPassword:RandomPassword";

/** A copy of a plan with one resource's inputs edited. */
function editPlan(plan: PlanJson, type: string, name: string, edit: (r: PlannedResource) => void): PlanJson {
  const copy = structuredClone(plan);
  const r = copy.resources.find((x) => x.type === type && x.name === name);
  assert.ok(r, `${type} ${name}`);
  edit(r);
  return copy;
}

describe("npm run plan --diff: replace or update (issue 30 #3)", () => {
  let production: ProgramRun;
  let base: PlanJson;
  before(async () => {
    production = await runProgram({ stack: "production" });
    base = planJson(production);
  });

  it("generatedKeys.jwt-secret.length 64 → 80 replaces both slots and names what reads them", async () => {
    const after = planJson(await runProgram({ stack: "production", overrides: { "veza-secrets:generatedKeys": { "jwt-secret": { length: 80 } } } }));
    const diff = diffPlans(base, after);
    assert.deepEqual(
      diff.changed.map((c) => [c.type, c.name, c.action, c.replaceOn]),
      [
        [RANDOM, "generated-keys-jwt-secret-a", "replace", ["length"]],
        [RANDOM, "generated-keys-jwt-secret-b", "replace", ["length"]],
      ],
    );
    for (const c of diff.changed) {
      assert.deepEqual(c.fields, { "inputs.length": ["64", "80"] });
      // Vault KV receives the new value (the mocks cannot show it: it is a secret computed at apply).
      assert.ok(
        c.dependents.some((u) => u.endsWith("veza:vault:VaultConfig$vault:kv/secretV2:SecretV2::vault-config-secrets")),
        c.dependents.join("\n"),
      );
    }
    const text = renderDiff(diff, "production", "main", "working tree");
    assert.match(text, /, 0 to update, 2 to replace \(offline/);
    assert.match(text, /^\+- random:index:RandomPassword generated-keys-jwt-secret-a {2}\[replace: length forces a new resource\]$/m);
    assert.match(text, /^ {4}inputs\.length: 64 → 80 {2}\[replaces\]$/m);
    assert.match(text, /^ {4}read by, so updated with it: .*vault:kv:SecretV2 vault-config-secrets/m);
  });

  it("Kubernetes: a new name or namespace, or a RoleBinding's roleRef, replaces; labels and rules update", () => {
    const ns = "kubernetes:core/v1:Namespace";
    const binding = base.resources.find((r) => r.type === "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding");
    const role = base.resources.find((r) => r.type === "kubernetes:rbac.authorization.k8s.io/v1:Role");
    assert.ok(binding && role);
    const renamed = editPlan(base, ns, "namespaces-vault", (r) => (r.inputs["metadata.name"] = "vault-elsewhere"));
    const relabelled = editPlan(base, ns, "namespaces-vault", (r) => (r.inputs["metadata.labels.team"] = "platform"));
    const rebound = editPlan(base, binding.type, binding.name, (r) => (r.inputs["roleRef.name"] = "another-role"));
    const widened = editPlan(base, role.type, role.name, (r) => (r.inputs["rules[0].verbs"] = "[get,list,watch]"));
    const action = (p: PlanJson): string[] => diffPlans(base, p).changed.map((c) => `${c.action} ${c.replaceOn.join(",")}`);
    assert.deepEqual(action(renamed), ["replace metadata.name"]);
    assert.deepEqual(action(relabelled), ["update "]);
    assert.deepEqual(action(rebound), ["replace roleRef.name"]);
    assert.deepEqual(action(widened), ["update "]);
  });

  it("a replacement of a protected resource says pulumi up would refuse it", () => {
    const secret = base.resources.find((r) => r.type === "aws:secretsmanager/secret:Secret" && r.protect);
    assert.ok(secret, "production protects its AWS secrets");
    const renamed = editPlan(base, secret.type, secret.name, (r) => (r.inputs.name = `${r.inputs.name}-v2`));
    const diff = diffPlans(base, renamed);
    assert.deepEqual(
      diff.changed.map((c) => [c.action, c.protect]),
      [["replace", true]],
    );
    assert.match(
      renderDiff(diff, "production", "main", "working tree"),
      new RegExp(`^\\+- aws:secretsmanager:Secret ${secret.name} {2}\\[replace: name forces a new resource; protect: pulumi up would refuse\\]$`, "m"),
    );
  });

  it("says plainly when it cannot know: a type without rules, or a property the table does not cover", () => {
    assert.equal(changeKind("example:index/thing:Thing", "anything"), "unknown");
    assert.equal(changeKind("azure-native:keyvault:Vault", "vaultName"), "replace");
    assert.equal(changeKind("azure-native:keyvault:Vault", "properties.sku.name"), "unknown");
    assert.equal(changeKind(RANDOM, "keepers.rotation"), "replace");
    assert.equal(changeKind("vault:index/policy:Policy", "policy"), "update");
    assert.equal(changeKind("vault:index/policy:Policy", "name"), "replace");
    assert.equal(changeKind("kubernetes:batch/v1:Job", "spec.template.spec.containers[0].image"), "replace");
    const provider = base.resources.find((r) => r.type === "pulumi:providers:vault");
    assert.ok(provider);
    const moved = editPlan(base, provider.type, provider.name, (r) => (r.inputs.address = "https://vault.elsewhere:8200"));
    const diff = diffPlans(base, moved);
    assert.deepEqual(
      diff.changed.map((c) => [c.action, c.unknownOn]),
      [["update-or-replace", ["address"]]],
    );
    const text = renderDiff(diff, "production", "main", "working tree");
    assert.ok(text.includes(`~? pulumi:providers:vault ${provider.name}  [${UNKNOWN_RULES} (pulumi:providers:vault: address)]`), text);
    assert.match(text, /, 1 to update or replace \(rules unknown\) \(offline/);
  });

  it("a change under ignoreChanges is shown but not acted on", () => {
    const copy = editPlan(base, RANDOM, "generated-keys-jwt-secret-a", (r) => {
      r.ignoreChanges = ["length"];
      r.inputs.length = "80";
    });
    const [c] = diffPlans(base, copy).changed;
    assert.equal(c.action, "update");
    assert.deepEqual(c.ignored, ["length"]);
    assert.match(renderDiff(diffPlans(base, copy), "p", "a", "b"), /^ {4}inputs\.length: 64 → 80 {2}\[ignored: ignoreChanges\]$/m);
  });

  it("has rules for every custom resource type the program registers, in every stack and with every example fragment", async () => {
    const types = new Map<string, string>();
    const fragments = exampleFragments();
    const ran = new Set<string>();
    const record = (run: ProgramRun, label: string): void => {
      for (const r of run.resources) if (r.custom && !types.has(r.type)) types.set(r.type, label);
    };
    for (const stack of STACKS) {
      record(await runProgram({ stack }), stack);
      for (const [name, fragment] of Object.entries(fragments)) {
        // A fragment another environment refuses (plain Kubernetes Secrets outside development) is skipped there.
        const run = await runProgram({ stack, overrides: fragment }).catch(() => undefined);
        if (!run) continue;
        ran.add(name);
        record(run, `${stack} + stacks/examples/${name}.yaml`);
      }
    }
    assert.deepEqual([...ran].sort(), Object.keys(fragments).sort(), "every example fragment ran in some stack");
    const missing = [...types].filter(([t]) => !REPLACE_RULES[t]).map(([t, where]) => `${t} (${where})`);
    assert.deepEqual(missing, [], "add each to harness/replace-rules.ts with its provider's force-new properties");
    assert.ok(types.size >= 40, `${types.size} types`);
  });
});
