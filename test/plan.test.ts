import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { serviceSecrets, CATALOG, SERVICES, serviceWorkloadName } from "../components/catalog";
import { ROOT, resourcesOfType, runProgram, type ProgramRun } from "../harness";
import { diffPlans, planJson, renderDiff } from "../harness/plan-json";
import { leaves, renderMermaid, renderPlan } from "../harness/plan-render";
import { parsePlanArgs, resolveStackFile } from "../scripts/plan";
import { planAtRef, planStack } from "../scripts/plan-run";
import { ConfigError } from "../stacks/config-model";
import { DEV_ROOT_TOKEN_FIX } from "../stacks/problems";

describe("npm run plan", () => {
  let production: ProgramRun;
  before(async () => {
    production = await runProgram({ stack: "production" });
  });

  it("prints every resource once, secrets as [secret] and never their values", () => {
    const text = renderPlan(production);
    // Counted from the run, not copied from the output.
    const custom = production.resources.filter((r) => r.custom).length;
    const components = production.resources.filter((r) => !r.custom && r.type !== "pulumi:pulumi:Stack").length;
    assert.ok(custom > 0 && components > 0);
    assert.equal(
      text.split("\n")[0],
      `# stack production: ${production.resources.length} resources (${custom} custom, ${components} components), offline plan under Pulumi mocks`,
    );
    for (const r of production.resources) assert.ok(text.includes(` ${r.name}`), r.name);
    assert.ok(text.includes("=[secret]"));
    assert.ok(!/FAKE-SECRET|FAKE-GENERATED/.test(text));
    assert.deepEqual(leaves({ a: { b: 1, c: [1, 2] } }), ["a.b=1", "a.c=[1,2]"]);
  });

  it("draws the flow backend → SecretStore → ExternalSecret → Secret → service", () => {
    const m = renderMermaid(production);
    assert.match(m, /^flowchart LR/);
    for (const backend of ["Vault KV", "Vault database engine", "AWS Secrets Manager"]) assert.ok(m.includes(`"${backend}"`), backend);
    for (const s of serviceSecrets(CATALOG, { databasePerService: true }))
      assert.match(m, new RegExp(`--> k8s_${s.name.replace(/-/g, "_")}\\[\\("Secret ${s.name}"\\)\\]`), s.name);
    for (const svc of SERVICES) {
      const id = `svc_${serviceWorkloadName(svc).replace(/-/g, "_")}`;
      assert.ok(m.includes(`k8s_veza_secrets --> ${id}`), `${svc} reads veza-secrets`);
      assert.ok(m.includes(`k8s_veza_${svc.replace(/-/g, "_")}_secrets --> ${id}`), `${svc} reads its own Secret`);
    }
    // Each ExternalSecret reads the KV store, each service's also its generator, and the
    // migration ExternalSecret reads the migration store (counted from the catalog).
    const storeEdges = m.split("\n").filter((l) => /^ {2}(SecretStore|VaultDynamicSecret)_\w+ --> ExternalSecret_\w+$/.test(l));
    assert.equal(storeEdges.length, serviceSecrets(CATALOG).length + SERVICES.length + 1);
    // The database engine feeds each generator and the migration store.
    assert.equal(
      m.split("\n").filter((l) => /^ {2}backend_vaultdb --> \w+$/.test(l)).length,
      resourcesOfType(production, "kubernetes:generators.external-secrets.io/v1alpha1:VaultDynamicSecret").length + 1,
    );
  });
});

describe("npm run plan: any stack, strict flags, missing secrets, JSON and diffs", () => {
  let production: ProgramRun;
  before(async () => {
    production = await runProgram({ stack: "production" });
  });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "veza-plan-test-"));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it("rejects unknown flags and stray arguments instead of ignoring them", () => {
    assert.throws(() => parsePlanArgs(["development", "--dif", "main"]), /unknown option --dif/);
    assert.throws(() => parsePlanArgs(["development", "staging"]), /one stack at a time/);
    assert.throws(() => parsePlanArgs(["--json"]), /name a stack/);
    assert.throws(() => parsePlanArgs(["development", "--diff"]), /--diff needs a Git ref/);
    assert.throws(() => parsePlanArgs(["development", "--mermaid", "--json"]), /exclusive/);
    assert.deepEqual(parsePlanArgs(["development-alice", "--json", "--no-fakes", "--diff=main"]), {
      target: "development-alice",
      mermaid: false,
      json: true,
      noFakes: true,
      diff: "main",
    });
  });

  it("plans a per-engineer stack file, listing the secrets it lacks, and fails on them with --no-fakes", async () => {
    const file = path.join(tmp, "Pulumi.development-alice.yaml");
    // The redis URL is set (encrypted, unreadable offline); the rest are missing.
    fs.writeFileSync(
      file,
      "config:\n  veza-secrets:environment: development\n  veza-secrets:providers:\n    - vault\n  veza-secrets:redisUrl:\n    secure: v1:AAAA\n",
    );
    assert.deepEqual(resolveStackFile(file), { stack: "development-alice", file });
    assert.deepEqual(resolveStackFile("development-alice", tmp), { stack: "development-alice", file });
    const expectedMissing = [
      "vaultDevRootToken",
      ...CATALOG.flatMap((s) => (s.source.kind !== "generated" && s.source.configKey !== "redisUrl" ? [s.source.configKey] : [])),
    ];

    const faked = await planStack("development-alice", file, false);
    assert.equal(faked.error, undefined);
    assert.deepEqual(faked.missing, expectedMissing);
    assert.ok(faked.run && faked.run.resources.some((r) => r.urn.startsWith("urn:pulumi:development-alice::veza-secrets::")));

    const strict = await planStack("development-alice", file, true);
    assert.ok(strict.error instanceof ConfigError);
    assert.deepEqual(strict.missing, expectedMissing);
    assert.deepEqual(
      strict.error.problems.map((p) => p.key),
      expectedMissing,
    );
    assert.deepEqual(
      strict.error.problems.map((p) => p.fix),
      expectedMissing.map((k) =>
        k === "vaultDevRootToken" ? DEV_ROOT_TOKEN_FIX("development-alice") : `pulumi config set --secret ${k} --stack development-alice`,
      ),
    );
    await assert.rejects(
      planStack("nobody", path.join(tmp, "Pulumi.nobody.yaml"), false),
      /no stack "nobody".*\nStacks with a file there: development-alice\./,
    );
  });

  it("diffs two plans by URN: creations, deletions (protected ones flagged) and changed inputs", async () => {
    const before = planJson(production);
    const after = planJson(
      await runProgram({
        stack: "production",
        overrides: { "veza-secrets:eso": { replicas: 3 }, "veza-secrets:aws": undefined, "veza-secrets:providers": ["vault"] },
      }),
    );
    const diff = diffPlans(before, after);
    assert.deepEqual(diffPlans(before, before), { added: [], removed: [], changed: [] });
    assert.ok(diff.removed.length > 0 && diff.removed.every((r) => !after.resources.some((a) => a.urn === r.urn)));
    assert.ok(diff.removed.some((r) => r.type === "aws:secretsmanager/secret:Secret" && r.protect));
    const eso = diff.changed.find((c) => c.type === "kubernetes:helm.sh/v3:Release" && c.name.includes("external-secrets"));
    assert.ok(eso, diff.changed.map((c) => c.name).join(", "));
    assert.deepEqual(eso.fields["inputs.values.replicaCount"], ["2", "3"]);
    // Helm values update in place (only the release's name and namespace replace it).
    assert.equal(eso.action, "update");
    const text = renderDiff(diff, "production", "main", "working tree");
    assert.match(
      text,
      new RegExp(
        `^# diff production: main → working tree: ${diff.added.length} to create, ${diff.removed.length} to delete, ${diff.changed.filter((c) => c.action === "update").length} to update, ${diff.changed.filter((c) => c.action === "replace").length} to replace`,
      ),
    );
    assert.match(text, /^- aws:secretsmanager:Secret aws-secrets-\S+ {2}\[protect: pulumi up would refuse\]$/m);
  });

  it("runs the plan at a Git ref from a clean copy of that commit (--diff)", function () {
    // The committed tree is planned by its own scripts/plan.ts, which must understand --json.
    const head = execFileSync("git", ["show", "HEAD:scripts/plan.ts"], { cwd: ROOT }).toString("utf8");
    if (!head.includes("--json")) this.skip();
    const atHead = planAtRef("HEAD", "development");
    assert.equal(atHead.stack, "development");
    assert.ok(atHead.resources.length > 30);
    assert.throws(() => planAtRef("no-such-ref-xyz", "development"), /could not plan development at no-such-ref-xyz/);
  });
});
