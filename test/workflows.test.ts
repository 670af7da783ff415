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
import { ROOT } from "../harness";

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
/** How a job hands GitHub's OIDC token to the Vault provider's jwt login. */
const VAULT_JWT_EXPORT = 'echo "TERRAFORM_VAULT_AUTH_JWT=$jwt" >> "$GITHUB_ENV"';

/** Jobs that read a secret (`secrets.X`, `secrets[...]`) without naming a GitHub environment. */
function secretsWithoutEnvironment(jobs: Record<string, RawJob>): string[] {
  return Object.entries(jobs)
    .filter(([, j]) => /secrets\.|secrets\[/.test(JSON.stringify(j)) && typeof j.environment !== "string")
    .map(([id]) => id);
}

describe("GitHub Actions workflows", () => {
  // Every workflow gets the generic checks; these three get their own facts too.
  const files = fs
    .readdirSync(DIR)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort();
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
    const result = wp.parseWorkflow(
      { name: "bad.yml", content: "on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    stepz: []\n" },
      new wp.NoOperationTraceWriter(),
    );
    assert.ok(result.context.errors.getErrors().length > 0);
  });

  it("pin every action to a full commit SHA, with its version in a comment", () => {
    for (const f of files) {
      for (const uses of usesOf(parsed[f])) {
        assert.match(uses, /@[0-9a-f]{40}$/, `${f}: ${uses}`);
        assert.match(
          parsed[f].text,
          new RegExp(`uses: ${uses.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")} # v\\d+\\.\\d+\\.\\d+\\n`),
          `${f}: ${uses} has no version comment`,
        );
      }
    }
  });

  it("ask for an OIDC token exactly where they assume an AWS role or log in to Vault, and never use stored AWS keys", () => {
    for (const f of files) {
      const p = parsed[f];
      assert.deepEqual(p.raw.permissions, { contents: "read" }, `${f}: workflow-level permissions`);
      for (const [id, j] of Object.entries(p.raw.jobs)) {
        const assumesRole = j.steps.some((s) => s.uses?.startsWith(OIDC_ACTION));
        const vaultLogin = j.steps.some((s) => s.run?.includes(VAULT_JWT_EXPORT));
        assert.equal(
          j.permissions?.["id-token"] === "write",
          assumesRole || vaultLogin,
          `${f} ${id}: id-token write iff it assumes a role or logs in to Vault`,
        );
        for (const s of j.steps.filter((x) => x.uses?.startsWith(OIDC_ACTION))) {
          assert.deepEqual(Object.keys(s.with ?? {}).sort(), ["aws-region", "role-session-name", "role-to-assume"], `${f} ${id}`);
        }
      }
      assert.doesNotMatch(p.text, /aws-access-key-id|aws-secret-access-key|AWS_SECRET_ACCESS_KEY/, f);
    }
  });

  it("preview: development and staging on pull requests, with diff, PR comment and the policy pack", () => {
    const p = parsed["preview.yml"];
    assert.deepEqual(Object.keys(p.template.events), ["pull_request"]);
    assert.deepEqual(p.template.events.pull_request?.branches, ["main"]);
    assert.deepEqual(Object.keys(p.raw.jobs), ["preview", "production"]);
    const j = p.raw.jobs.preview;
    // Production is not in the matrix: it has its own job behind required reviewers.
    assert.deepEqual(j.strategy?.matrix, { stack: ["development", "staging"] });
    assert.equal(j.environment, "${{ format('{0}-preview', matrix.stack) }}");
    assert.deepEqual(j.permissions, { contents: "read", "pull-requests": "write", "id-token": "write" });
    const w = pulumiStep(j);
    // Step inputs are strings to the Actions schema (the action parses "true").
    assert.deepEqual([w.command, w.diff, w["comment-on-pr"], w.policyPacks], ["preview", "true", "true", "policy"]);
    assert.equal(w["stack-name"], "${{ vars.PULUMI_ORG && format('{0}/{1}', vars.PULUMI_ORG, matrix.stack) || matrix.stack }}");
    // Forks get no secrets or OIDC token: the job skips them (offline.yml covers them).
    // As GitHub evaluates it: the parser adds the implicit success().
    assert.equal(toJs(job(p, "preview").if), "${{ success() && (github.event.pull_request.head.repo.full_name == github.repository) }}");
  });

  it("preview: production only in its own job, behind the production-preview environment (required reviewers), never for forks", () => {
    const p = parsed["preview.yml"];
    const j = p.raw.jobs.production;
    assert.equal(j.environment, "production-preview");
    assert.equal(j.strategy, undefined);
    assert.deepEqual(j.permissions, { contents: "read", "pull-requests": "write", "id-token": "write" });
    assert.equal(toJs(job(p, "production").if), "${{ success() && (github.event.pull_request.head.repo.full_name == github.repository) }}");
    const w = pulumiStep(j);
    assert.deepEqual([w.command, w.diff, w.policyPacks], ["preview", "true", "policy"]);
    assert.equal(w["stack-name"], "${{ vars.PULUMI_ORG && format('{0}/production', vars.PULUMI_ORG) || 'production' }}");
    // Its role and cluster come from the environment's variables, not repository-wide names.
    const role = j.steps.find((s) => s.uses?.startsWith(OIDC_ACTION));
    assert.equal(role?.with?.["role-to-assume"], "${{ vars.AWS_PREVIEW_ROLE_ARN }}");
    // The development/staging job can never reach production's stack or credentials.
    assert.doesNotMatch(JSON.stringify(p.raw.jobs.preview), /production|role-to-assume/);
  });

  it("log in to staging's and production's Vault with a fresh OIDC token (audience vault); previews as the read-only preview role", () => {
    const vaultStep = (j: RawJob) => j.steps.find((s) => s.run?.includes(VAULT_JWT_EXPORT));
    const deploy = parsed["deploy.yml"].raw.jobs;
    assert.deepEqual(
      ["development", "staging", "production"].map((s) => vaultStep(deploy[s]) !== undefined),
      [false, true, true],
    );
    const preview = parsed["preview.yml"].raw.jobs;
    assert.equal(vaultStep(preview.preview)?.if, "matrix.stack != 'development'");
    assert.ok(vaultStep(preview.production));
    for (const j of [deploy.staging, deploy.production, preview.preview, preview.production]) {
      const run = vaultStep(j)?.run ?? "";
      assert.match(run, /\$ACTIONS_ID_TOKEN_REQUEST_URL&audience=vault/);
      assert.match(run, /::add-mask::\$jwt/);
      // Before the Pulumi step, which reads it.
      assert.ok(j.steps.indexOf(vaultStep(j)!) < j.steps.findIndex((s) => s.uses?.startsWith("pulumi/actions@")));
    }
    // As GitHub's parser reads the embedded expression: a format() over the matrix stack.
    assert.equal(
      pulumiStep(preview.preview)["config-map"],
      "${{ format('{{''veza-secrets:vaultLoginRole'': {{value: ''pulumi-{0}-preview'', secret: false}}}}', matrix.stack) }}",
    );
    assert.equal(pulumiStep(preview.production)["config-map"], "{'veza-secrets:vaultLoginRole': {value: 'pulumi-production-preview', secret: false}}");
    for (const s of ["development", "staging", "production"]) assert.equal(pulumiStep(deploy[s])["config-map"], undefined, `${s} deploys as the deployer role`);
  });

  it("read secrets only in jobs that name a GitHub environment (no repository-level credential a pull request can reach)", () => {
    for (const f of ["preview.yml", "deploy.yml"]) {
      assert.deepEqual(secretsWithoutEnvironment(parsed[f].raw.jobs), [], f);
      for (const [id, j] of Object.entries(parsed[f].raw.jobs)) assert.match(JSON.stringify(j), /secrets\.PULUMI_ACCESS_TOKEN/, `${f} ${id}`);
    }
    // The check itself catches a job that reads a secret without an environment.
    const bad: RawJob = { steps: [{ run: "echo ${{ secrets.PULUMI_ACCESS_TOKEN }}" }] };
    assert.deepEqual(secretsWithoutEnvironment({ bad, good: { ...bad, environment: "production" } }), ["bad"]);
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
