/**
 * The GitHub Actions workflows (.github/workflows/), parsed and checked with GitHub's own
 * parser (@actions/workflow-parser): zero errors, then the facts that make them safe —
 * pinned actions, OIDC only where a job asks for it, production behind its environment,
 * the offline workflow free of any secret.
 *
 * @actions/workflow-parser is ESM-only and imports its JSON schema without an import
 * attribute, so Node 20 loads it only through tsx's ESM loader: .mocharc.json passes
 * `--import tsx` (node-option). The converted template has no `permissions`, so those are
 * read from the parser's token tree of the same file.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import type { TemplateToken } from "@actions/workflow-parser/templates/tokens/index" with { "resolution-mode": "import" };
import type { WorkflowJob, WorkflowTemplate } from "@actions/workflow-parser/model/workflow-template" with { "resolution-mode": "import" };
import { ROOT } from "../scripts/harness";

type Parser = typeof import("@actions/workflow-parser", { with: { "resolution-mode": "import" } });
const DIR = path.join(ROOT, ".github", "workflows");
const STACKS = ["development", "staging", "production"];

interface Parsed {
  text: string;
  errors: string[];
  template: WorkflowTemplate;
  /** The workflow as plain data, from the parser's tokens; expressions as `${{ … }}`. */
  raw: { on: Record<string, unknown>; permissions?: Record<string, string>; jobs: Record<string, RawJob> };
}

interface RawJob {
  permissions?: Record<string, string>;
  environment?: unknown;
  strategy?: { matrix?: Record<string, unknown> };
  steps: { uses?: string; run?: string; with?: Record<string, unknown>; if?: unknown }[];
}

let wp: Parser;

function toJs(t: TemplateToken | undefined): unknown {
  if (t === undefined) return undefined;
  if (wp.isMapping(t)) {
    const out: Record<string, unknown> = {};
    for (const { key, value } of t) out[wp.isString(key) ? key.value : key.toString()] = toJs(value);
    return out;
  }
  if (wp.isSequence(t)) return [...t].map(toJs);
  if (wp.isString(t) || wp.isBoolean(t) || wp.isNumber(t)) return t.value;
  if (wp.isBasicExpression(t)) return `\${{ ${t.expression} }}`;
  return null;
}

async function parse(file: string): Promise<Parsed> {
  const text = fs.readFileSync(path.join(DIR, file), "utf8");
  const result = wp.parseWorkflow({ name: file, content: text }, new wp.NoOperationTraceWriter());
  const errors = result.context.errors.getErrors().map((e) => e.message);
  assert.ok(result.value, `${file}: ${errors.join("; ")}`);
  const template = await wp.convertWorkflowTemplate(result.context, result.value);
  for (const e of template.errors ?? []) if (!errors.includes(e.Message)) errors.push(e.Message);
  return { text, errors, template, raw: toJs(result.value) as Parsed["raw"] };
}

function job(p: Parsed, id: string): WorkflowJob {
  const j = p.template.jobs.find((x) => x.id.value === id);
  assert.ok(j, `no job ${id}`);
  return j;
}

function usesOf(p: Parsed): string[] {
  return Object.values(p.raw.jobs).flatMap((j) => j.steps.flatMap((s) => (s.uses ? [s.uses] : [])));
}

function pulumiStep(j: RawJob): NonNullable<RawJob["steps"][number]["with"]> {
  const step = j.steps.find((s) => s.uses?.startsWith("pulumi/actions@"));
  assert.ok(step?.with, "no pulumi/actions step");
  return step.with;
}

const OIDC_ACTION = "aws-actions/configure-aws-credentials@";

describe("GitHub Actions workflows", () => {
  // Every workflow gets the generic checks; these three get their own facts too.
  const files = fs.readdirSync(DIR).filter((f) => /\.ya?ml$/.test(f)).sort();
  const parsed: Record<string, Parsed> = {};

  before(async () => {
    wp = await import("@actions/workflow-parser");
    for (const f of files) parsed[f] = await parse(f);
  });

  it("include preview, deploy and offline, and all parse without errors", () => {
    for (const f of ["preview.yml", "deploy.yml", "offline.yml"]) assert.ok(files.includes(f), `missing ${f}`);
    for (const f of files) assert.deepEqual(parsed[f].errors, [], f);
  });

  it("would report a broken workflow (the parser is really checking)", async () => {
    const result = wp.parseWorkflow({ name: "bad.yml", content: "on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    stepz: []\n" }, new wp.NoOperationTraceWriter());
    assert.ok(result.context.errors.getErrors().length > 0);
  });

  it("pin every action to a full commit SHA, with its version in a comment", () => {
    for (const f of files) {
      for (const uses of usesOf(parsed[f])) {
        assert.match(uses, /@[0-9a-f]{40}$/, `${f}: ${uses}`);
        assert.match(parsed[f].text, new RegExp(`uses: ${uses.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")} # v\\d+\\.\\d+\\.\\d+\\n`), `${f}: ${uses} has no version comment`);
      }
    }
  });

  it("ask for an OIDC token exactly where they assume an AWS role, and never use stored AWS keys", () => {
    for (const f of files) {
      const p = parsed[f];
      assert.deepEqual(p.raw.permissions, { contents: "read" }, `${f}: workflow-level permissions`);
      for (const [id, j] of Object.entries(p.raw.jobs)) {
        const assumesRole = j.steps.some((s) => s.uses?.startsWith(OIDC_ACTION));
        assert.equal(j.permissions?.["id-token"] === "write", assumesRole, `${f} ${id}: id-token write iff it assumes a role`);
        for (const s of j.steps.filter((x) => x.uses?.startsWith(OIDC_ACTION))) {
          assert.deepEqual(Object.keys(s.with ?? {}).sort(), ["aws-region", "role-session-name", "role-to-assume"], `${f} ${id}`);
        }
      }
      assert.doesNotMatch(p.text, /aws-access-key-id|aws-secret-access-key|AWS_SECRET_ACCESS_KEY/, f);
    }
  });

  it("preview: every stack on pull requests, with diff, PR comment and the policy pack", () => {
    const p = parsed["preview.yml"];
    assert.deepEqual(Object.keys(p.template.events), ["pull_request"]);
    assert.deepEqual(p.template.events.pull_request?.branches, ["main"]);
    assert.deepEqual(Object.keys(p.raw.jobs), ["preview"]);
    const j = p.raw.jobs.preview;
    assert.deepEqual(j.strategy?.matrix?.stack, STACKS);
    assert.deepEqual(j.permissions, { contents: "read", "pull-requests": "write", "id-token": "write" });
    const w = pulumiStep(j);
    // Step inputs are strings to the Actions schema (the action parses "true").
    assert.deepEqual([w.command, w.diff, w["comment-on-pr"], w.policyPacks], ["preview", "true", "true", "policy"]);
    assert.equal(w["stack-name"], "${{ vars.PULUMI_ORG && format('{0}/{1}', vars.PULUMI_ORG, matrix.stack) || matrix.stack }}");
    // Forks get no secrets or OIDC token: the job skips them (offline.yml covers them).
    // As GitHub evaluates it: the parser adds the implicit success().
    assert.equal(toJs(job(p, "preview").if), "${{ success() && (github.event.pull_request.head.repo.full_name == github.repository) }}");
  });

  it("deploy: development, then staging, then production behind its protected environment", () => {
    const p = parsed["deploy.yml"];
    assert.deepEqual(Object.keys(p.template.events), ["push"]);
    assert.deepEqual(p.template.events.push?.branches, ["main"]);
    assert.deepEqual(
      STACKS.map((s) => job(p, s).needs?.map((n) => n.value) ?? []),
      [[], ["development"], ["staging"]],
    );
    for (const s of STACKS) {
      const j = job(p, s);
      assert.equal(j.type, "job");
      assert.equal(toJs(j.type === "job" ? j.environment : undefined), s, `${s} runs in its own GitHub environment`);
      const w = pulumiStep(p.raw.jobs[s]);
      assert.deepEqual([w.command, w.policyPacks], ["up", "policy"]);
      assert.match(String(w["stack-name"]), new RegExp(`'${s}'`));
    }
    assert.equal(p.raw.jobs.production.permissions?.["id-token"], "write");
    assert.deepEqual(toJs(p.template.concurrency), { group: "deploy", "cancel-in-progress": false });
  });

  it("offline: no credentials at all, runs the tests and diffs the plan of every stack on head and base", () => {
    const p = parsed["offline.yml"];
    assert.deepEqual(Object.keys(p.template.events).sort(), ["pull_request", "push"]);
    assert.equal(p.template.events.pull_request?.branches, undefined, "every pull request, from forks too");
    assert.doesNotMatch(p.text, /secrets\.|secrets\[|id-token|PULUMI_ACCESS_TOKEN|role-to-assume/);
    for (const j of Object.values(p.raw.jobs)) assert.equal(j.permissions, undefined);
    const runs = Object.values(p.raw.jobs).flatMap((j) => j.steps.flatMap((s) => (s.run ? [s.run] : [])));
    assert.ok(runs.includes("npm test"));
    const planStep = runs.find((r) => r.includes("npm run --silent plan"));
    assert.ok(planStep && /for side in head base/.test(planStep) && /for stack in development staging production/.test(planStep));
    assert.ok(runs.some((r) => r.includes('>> "$GITHUB_STEP_SUMMARY"') && r.includes("diff -u")));
    const base = p.raw.jobs.plan.steps.find((s) => s.with?.path === "base");
    assert.equal(base?.with?.ref, "${{ env.BASE_SHA }}");
  });

  it("install the Pulumi CLI of the same release as the locked SDK", () => {
    const lock = JSON.parse(fs.readFileSync(path.join(ROOT, "package-lock.json"), "utf8")) as { packages: Record<string, { version: string }> };
    const versions = ["preview.yml", "deploy.yml"].flatMap((f) => Object.values(parsed[f].raw.jobs).map((j) => pulumiStep(j)["pulumi-version"]));
    assert.deepEqual([...new Set(versions)], [lock.packages["node_modules/@pulumi/pulumi"].version]);
  });
});
