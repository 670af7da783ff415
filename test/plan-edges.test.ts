/**
 * Issue 30 #9, the plan's small edges: `--mermaid` output is Mermaid from its first line
 * (comments are `%%`), node ids do not shift when a resource is added, `--json` URNs are the
 * engine's (the README sends users there for `pulumi up --replace`), and an unknown stack is
 * answered with the stacks that exist, not with a `pulumi stack init` the program would refuse.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CATALOG } from "../components/catalog";
import { ROOT, engineConfig, fakesForMissing, runProgram, stackConfig, type ProgramRun } from "../harness";
import { runLikeLanguageHost } from "../harness/language-host";
import { engineUrns, planJson } from "../harness/plan-json";
import { mermaidIds, renderMermaid } from "../harness/plan-render";
import { syntheticCatalog } from "../harness/synthetic-catalog";
import { STACK_ENVIRONMENTS, UnknownStackError, existingStackFile, stacksIn } from "../scripts/plan";
import { missingSecretsNote, runPlanCommand } from "../scripts/plan-run";
import { run } from "../stacks/program";
import { ENVIRONMENTS } from "../stacks/schema";

describe("npm run plan: Mermaid, URNs and unknown stacks (issue 30 #9)", () => {
  let production: ProgramRun;
  before(async () => {
    production = await runProgram({ stack: "production" });
  });

  it("--mermaid with faked secrets starts with a Mermaid comment, then the flowchart", async () => {
    const target = existingStackFile("development");
    const out = await runPlanCommand({ target: "development", mermaid: true, json: false, noFakes: false }, target);
    assert.equal(out.code, 0, out.stderr);
    const [first, second] = out.stdout.split("\n");
    assert.match(first, /^%% missing secrets, faked for this offline plan .*: vaultDevRootToken, /);
    assert.equal(second, "flowchart LR");
    assert.equal(
      missingSecretsNote(["a"], false),
      "# missing secrets, faked for this offline plan (pulumi up would stop; --no-fakes prints the command for each): a",
    );
    const text = await runPlanCommand({ target: "development", mermaid: false, json: false, noFakes: false }, target);
    assert.match(text.stdout.split("\n")[0], /^# missing secrets/);
  });

  it("node ids come from each resource's kind and name: adding a secret renames no node", async () => {
    const bigger = await runProgram({ stack: "production", program: () => run(syntheticCatalog(CATALOG.length + 1)) });
    // Node and subgraph ids (a folded node's label counts its members, so ids, not lines).
    const ids = (m: string): string[] => [...m.matchAll(/^ {2,4}(?:subgraph )?(\w+)[[(]/gm)].map((x) => x[1]);
    const before = ids(renderMermaid(production));
    const after = new Set(ids(renderMermaid(bigger)));
    assert.ok(before.length > 20 && after.size > before.length, `${before.length} → ${after.size}`);
    assert.deepEqual(
      before.filter((id) => !after.has(id)),
      [],
      "every node of the smaller diagram keeps its id",
    );
    assert.ok(renderMermaid(production).includes('    Policy_vault_config_policy["vault:index:Policy<br/>vault-config-policy"]'));
    assert.ok(after.has(`Secret_aws_secrets_synthetic_key_${CATALOG.length}`), "the new key's AWS secret is a node of its own");
    // Clashing kind-and-name pairs get a stable hash suffix, each its own.
    const clash = mermaidIds([
      { urn: "urn:a::p::x:y:Secret::s-1", type: "x:y:Secret", name: "s-1" },
      { urn: "urn:a::p::z$x:y:Secret::s-1", type: "x:y:Secret", name: "s-1" },
      { urn: "urn:a::p::x:y:Other::s-1", type: "x:y:Other", name: "s-1" },
    ]);
    assert.equal(new Set(clash.values()).size, 3);
    assert.equal(clash.get("urn:a::p::x:y:Other::s-1"), "Other_s_1");
    assert.match(clash.get("urn:a::p::x:y:Secret::s-1") ?? "", /^Secret_s_1_[0-9a-f]{8}$/);
  });

  it("--json URNs are the engine's: no root stack type in children's URNs, parents' types chained", async () => {
    const plan = planJson(production);
    const urns = plan.resources.map((r) => r.urn);
    assert.deepEqual(
      urns.filter((u) => u.includes("pulumi:pulumi:Stack$")),
      [],
    );
    assert.ok(urns.includes("urn:pulumi:production::veza-secrets::veza:cluster:Namespaces::namespaces"));
    assert.ok(urns.includes("urn:pulumi:production::veza-secrets::veza:cluster:Namespaces$kubernetes:core/v1:Namespace::namespaces-vault"));
    // The same URNs as the language host's engine gives each resource (harness/language-host.ts).
    const values = stackConfig("production");
    const fakes = fakesForMissing(values);
    const host = await runLikeLanguageHost({
      projectDir: ROOT,
      project: "veza-secrets",
      stack: "production",
      config: { ...engineConfig(values), ...fakes },
      secretKeys: Object.keys(fakes),
      timeoutMs: 240_000,
    });
    assert.equal(host.exitCode, 0, host.stderr.slice(0, 2000));
    assert.deepEqual([...urns].sort(), host.resources.map((r) => r.urn).sort());
    // parent and dependsOn name the same URNs.
    const known = new Set(urns);
    for (const r of plan.resources) for (const u of [r.parent, ...r.dependsOn].filter(Boolean)) assert.ok(known.has(u), `${r.name}: ${u}`);
  });

  it("a component inside a component: the type chain has both parents, without the stack", () => {
    const stack = { urn: "urn:pulumi:s::p::pulumi:pulumi:Stack::p-s", type: "pulumi:pulumi:Stack", name: "p-s", parent: "" };
    const outer = { urn: "urn:pulumi:s::p::pulumi:pulumi:Stack$a:b:Outer::o", type: "a:b:Outer", name: "o", parent: stack.urn };
    const inner = { urn: "urn:pulumi:s::p::a:b:Outer$a:b:Inner::i", type: "a:b:Inner", name: "i", parent: outer.urn };
    const leaf = { urn: "urn:pulumi:s::p::a:b:Inner$c:d:Leaf::l", type: "c:d:Leaf", name: "l", parent: inner.urn };
    assert.deepEqual(
      [...engineUrns([stack, outer, inner, leaf]).values()],
      [
        "urn:pulumi:s::p::pulumi:pulumi:Stack::p-s",
        "urn:pulumi:s::p::a:b:Outer::o",
        "urn:pulumi:s::p::a:b:Outer$a:b:Inner::i",
        "urn:pulumi:s::p::a:b:Outer$a:b:Inner$c:d:Leaf::l",
      ],
    );
  });

  it("the README's --replace URNs are the ones --json prints", () => {
    const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
    const g = /G='([^']+)'/.exec(readme)?.[1];
    assert.ok(g, "README sets G");
    const names = [...readme.matchAll(/--replace "\$G::([\w-]+)"/g)].map((m) => m[1]);
    assert.ok(names.length >= 3);
    const urns = new Set(planJson(production).resources.map((r) => r.urn));
    for (const n of names) assert.ok(urns.has(`${g}::${n}`), `${g}::${n}`);
  });

  it("an unknown stack lists the stacks that exist and never suggests a name the program refuses", () => {
    assert.deepEqual([...STACK_ENVIRONMENTS], [...ENVIRONMENTS]);
    assert.deepEqual(
      stacksIn(ROOT).filter((s) => !s.includes("-")),
      ["development", "production", "staging"],
    );
    const err = (name: string, root = ROOT): string => {
      try {
        existingStackFile(name, root);
      } catch (e) {
        assert.ok(e instanceof UnknownStackError);
        return e.message;
      }
      throw new Error(`${name} was accepted`);
    };
    const prod = err("prod");
    assert.match(prod, /^no stack "prod": there is no Pulumi\.prod\.yaml\.$/m);
    assert.match(prod, /^Stacks with a file there: development, .*production, .*staging\.$/m);
    assert.match(prod, /^Did you mean production\b/m);
    assert.doesNotMatch(prod, /stack init prod/);
    assert.match(prod, /must be its environment or start with "<environment>-"/);
    // A name the program accepts may be created.
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "veza-plan-edges-"));
    fs.writeFileSync(path.join(tmp, "Pulumi.staging.yaml"), "config: {}\n");
    const bob = err("development-bob", tmp);
    assert.match(bob, /^Stacks with a file there: staging\.$/m);
    assert.match(bob, /^To create it: pulumi stack init development-bob, then set its config/m);
    fs.rmSync(tmp, { recursive: true, force: true });
  });
});
