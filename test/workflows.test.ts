/**
 * The GitHub Actions workflows (.github/workflows/), parsed and checked with GitHub's own
 * parser (@actions/workflow-parser): zero errors, then the facts that make them safe —
 * pinned actions, OIDC only where a job asks for it, production behind its environment,
 * the offline workflow free of any secret; each deploy job on its own environment's runners
 * and previews never on them; a preview with main's policy pack before every `up`; no
 * production preview on a pull request and read-only identities for the others; runtime
 * dependencies without install scripts and secrets only on the steps that use them; every
 * download verified against a pinned SHA-256 (issue 29: #2, #5, #6, #7, #12).
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

interface RawStep {
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
  if?: unknown;
}

interface RawJob {
  "runs-on"?: unknown;
  permissions?: Record<string, string>;
  environment?: unknown;
  env?: Record<string, string>;
  strategy?: { matrix?: Record<string, unknown> };
  steps: RawStep[];
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

const PULUMI_ACTION = "pulumi/actions@";

/** The job's last pulumi/actions step's inputs (in a deploy job, the `up`). */
function pulumiStep(j: RawJob): NonNullable<RawStep["with"]> {
  const step = pulumiSteps(j).at(-1);
  assert.ok(step?.with, "no pulumi/actions step");
  return step.with;
}

function pulumiSteps(j: RawJob): RawStep[] {
  return j.steps.filter((s) => s.uses?.startsWith(PULUMI_ACTION));
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

/** Where deploy and preview jobs check out the policy pack of reviewed code (main, or the PR's base). */
const POLICY_BASE = ".policy-base/policy";

function policyCheckout(j: RawJob): RawStep | undefined {
  return j.steps.find((s) => s.uses?.startsWith("actions/checkout@") && s.with?.path === ".policy-base");
}

function installRun(j: RawJob): string {
  return j.steps.find((s) => s.run?.includes("npm ci"))?.run ?? "";
}

/** How the workflows fetch GitHub's OIDC token: a call to the runner's token service, not a download. */
const OIDC_TOKEN_FETCH = 'curl -sSf -H "Authorization: bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN" "$ACTIONS_ID_TOKEN_REQUEST_URL&audience=vault"';

/**
 * Downloads in a step that nothing verifies. A `curl` must write a file that a later line
 * checks with `sha256sum --check` against a SHA-256 pinned in the step's own env (in this
 * file, reviewed with it); a plugin install must name its exact version and a checksum;
 * npm only installs the lockfile (`npm ci`). Empty: every download is verified.
 */
function unverifiedDownloads(step: RawStep): string[] {
  const lines = (step.run ?? "").split("\n").map((l) => l.trim());
  const problems: string[] = [];
  for (const [i, l] of lines.entries()) {
    if (/\b(wget|Invoke-WebRequest)\b/.test(l) || /\|\s*(sudo\s+)?(ba)?sh\b/.test(l)) problems.push(`not verifiable: ${l}`);
    if (/\bcurl\b/.test(l) && !l.includes(OIDC_TOKEN_FETCH)) {
      const out = /\s-o\s+("[^"]+"|\S+)/.exec(l)?.[1]?.replace(/"/g, "");
      if (!out) {
        problems.push(`curl without -o (piped, unverified): ${l}`);
        continue;
      }
      const check = lines.slice(i + 1).find((x) => x.includes("| sha256sum --check") && x.includes(out));
      const sumVar = check && /^echo "\$\{(\w+)\} {2}(\S+)" \| sha256sum --check/.exec(check);
      const used = lines.findIndex((x, k) => k > i && x.includes(out) && !x.includes("sha256sum"));
      const checkedAt = check ? lines.indexOf(check) : -1;
      if (!sumVar || sumVar[2] !== out || !/^[0-9a-f]{64}$/.test(step.env?.[sumVar[1]] ?? "") || (used >= 0 && used < checkedAt)) {
        problems.push(`not checked against a pinned SHA-256: ${l}`);
      }
    }
    if (/\bpulumi plugin install\b/.test(l) && !(/ --exact\b/.test(l) && /--checksum "\$\w+"/.test(l)))
      problems.push(`plugin without --exact and --checksum: ${l}`);
    if (/\bnpm (install|i|add|update)\b/.test(l) || /\bnpx (?!--no-install)/.test(l)) problems.push(`npm outside the lockfile: ${l}`);
  }
  return problems;
}

/** The `name version` lines a plugin step installs. */
function pluginList(run: string): string[] {
  const body = /<<'PLUGINS'\n([\s\S]*?)\n\s*PLUGINS/.exec(run)?.[1] ?? "";
  return body
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean)
    .sort();
}

/** Every resource plugin the deployed program needs: its runtime @pulumi packages that are providers, at the locked version. */
function lockedPlugins(): string[] {
  const lock = JSON.parse(fs.readFileSync(path.join(ROOT, "package-lock.json"), "utf8")) as { packages: Record<string, { version: string; dev?: boolean }> };
  return Object.entries(lock.packages)
    .filter(([p, v]) => /^node_modules\/@pulumi\/[^/]+$/.test(p) && !v.dev)
    .flatMap(([p, v]) => {
      const meta = (JSON.parse(fs.readFileSync(path.join(ROOT, p, "package.json"), "utf8")) as { pulumi?: { resource?: boolean; name?: string } }).pulumi;
      return meta?.resource ? [`${meta.name} ${v.version}`] : [];
    })
    .sort();
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

  it("preview: development and staging on pull requests, with diff, PR comment and the base branch's policy pack", () => {
    const p = parsed["preview.yml"];
    assert.deepEqual(Object.keys(p.template.events), ["pull_request"]);
    assert.deepEqual(p.template.events.pull_request?.branches, ["main"]);
    assert.deepEqual(Object.keys(p.raw.jobs), ["preview"]);
    const j = p.raw.jobs.preview;
    assert.deepEqual(j.strategy?.matrix, { stack: ["development", "staging"] });
    assert.equal(j.environment, "${{ format('{0}-preview', matrix.stack) }}");
    assert.deepEqual(j.permissions, { contents: "read", "pull-requests": "write", "id-token": "write" });
    const w = pulumiStep(j);
    // Step inputs are strings to the Actions schema (the action parses "true").
    assert.deepEqual([w.command, w.diff, w["comment-on-pr"], w.policyPacks], ["preview", "true", "true", POLICY_BASE]);
    assert.equal(w["stack-name"], "${{ vars.PULUMI_ORG && format('{0}/{1}', vars.PULUMI_ORG, matrix.stack) || matrix.stack }}");
    // The pack is the pull request's base's, not the pull request's own.
    assert.deepEqual(policyCheckout(j)?.with, {
      ref: "${{ github.event.pull_request.base.sha }}",
      path: ".policy-base",
      "sparse-checkout": "policy",
      "persist-credentials": "false",
    });
    // Forks get no secrets or OIDC token: the job skips them (offline.yml covers them).
    // As GitHub evaluates it: the parser adds the implicit success().
    assert.equal(toJs(job(p, "preview").if), "${{ success() && (github.event.pull_request.head.repo.full_name == github.repository) }}");
  });

  it("preview: never production on a pull request; read-only identities only (#6)", () => {
    const p = parsed["preview.yml"];
    // No job, environment, stack, role or variable of production: a pull request's code never
    // holds production's passphrase or identities, even after an approval.
    assert.doesNotMatch(JSON.stringify(p.raw.jobs), /production|role-to-assume|AWS_|EKS_/);
    const j = p.raw.jobs.preview;
    // Vault: the read-only preview role (bound server-side to the <env>-preview environment).
    assert.equal(
      pulumiStep(j)["config-map"],
      "${{ format('{{''veza-secrets:vaultLoginRole'': {{value: ''pulumi-{0}-preview'', secret: false}}}}', matrix.stack) }}",
    );
    // Kubernetes: a kubeconfig named for what it is, and refused before any pull-request code
    // runs if it could write.
    const kube = j.steps.findIndex((s) => s.env?.KUBECONFIG_DATA !== undefined);
    assert.equal(j.steps[kube].env?.KUBECONFIG_DATA, "${{ secrets.PREVIEW_KUBECONFIG }}");
    assert.doesNotMatch(JSON.stringify(j), /secrets\.KUBECONFIG\b/);
    const guard = j.steps.findIndex((s) => s.run?.includes("kubectl auth can-i"));
    assert.ok(kube < guard && guard < j.steps.indexOf(pulumiSteps(j)[0]), "the read-only check runs after the kubeconfig and before the preview");
    const run = j.steps[guard].run ?? "";
    for (const verb of ["create", "update", "patch", "delete"]) assert.match(run, new RegExp(`for verb in .*\\b${verb}\\b`));
    for (const r of ["secrets", "configmaps", "namespaces", "roles.rbac.authorization.k8s.io", "rolebindings.rbac.authorization.k8s.io"])
      assert.ok(run.includes(` ${r}`), r);
    assert.match(run, /then\n\s+echo "::error::.*\n\s+exit 1/);
  });

  it("log in to staging's and production's Vault with a fresh OIDC token (audience vault); previews as the read-only preview role", () => {
    const vaultSteps = (j: RawJob) => j.steps.filter((s) => s.run?.includes(VAULT_JWT_EXPORT));
    const deploy = parsed["deploy.yml"].raw.jobs;
    // A token before the gating preview and a fresh one before the update.
    assert.deepEqual(
      STACKS.map((s) => vaultSteps(deploy[s]).length),
      [0, 2, 2],
    );
    const preview = parsed["preview.yml"].raw.jobs;
    assert.deepEqual(
      vaultSteps(preview.preview).map((s) => s.if),
      ["matrix.stack != 'development'"],
    );
    for (const j of [deploy.staging, deploy.production, preview.preview]) {
      const pulumi = pulumiSteps(j).map((s) => j.steps.indexOf(s));
      for (const v of vaultSteps(j)) {
        assert.match(v.run ?? "", /\$ACTIONS_ID_TOKEN_REQUEST_URL&audience=vault/);
        assert.match(v.run ?? "", /::add-mask::\$jwt/);
      }
      // Each pulumi step follows a token fetch, and no fetch comes after the last one.
      const fetches = vaultSteps(j).map((s) => j.steps.indexOf(s));
      for (const [i, at] of pulumi.entries())
        assert.ok(
          fetches.some((f) => f < at && (i === 0 || f > pulumi[i - 1] || fetches.length === 1)),
          `token before step ${at}`,
        );
    }
    for (const s of STACKS) {
      for (const w of pulumiSteps(deploy[s])) assert.equal(w.with?.["config-map"], undefined, `${s} deploys as the deployer role`);
    }
  });

  it("read secrets only in jobs that name a GitHub environment, and only in the steps that use them (#7)", () => {
    for (const f of files) assert.deepEqual(secretsWithoutEnvironment(parsed[f].raw.jobs), [], f);
    for (const f of ["preview.yml", "deploy.yml"]) {
      for (const [id, j] of Object.entries(parsed[f].raw.jobs)) {
        assert.match(JSON.stringify(j), /secrets\.PULUMI_ACCESS_TOKEN/, `${f} ${id}`);
        // Nothing secret in the job's environment: install steps never see a credential.
        assert.doesNotMatch(JSON.stringify(j.env ?? {}), /secrets\./, `${f} ${id}: job-level env`);
        for (const s of j.steps) {
          const usesSecret = /\$\{\{[^}]*\bsecrets\./.test(JSON.stringify(s));
          if (usesSecret) assert.ok(s.uses?.startsWith(PULUMI_ACTION) || s.env?.KUBECONFIG_DATA !== undefined, `${f} ${id}: "${s.name}" reads a secret`);
        }
        // The Pulumi token and passphrase go to the pulumi steps, not to anything before them.
        for (const w of pulumiSteps(j)) assert.equal(w.env?.PULUMI_ACCESS_TOKEN, "${{ secrets.PULUMI_ACCESS_TOKEN }}", `${f} ${id}`);
      }
    }
    // The check itself catches a job that reads a secret without an environment.
    const bad: RawJob = { steps: [{ run: "echo ${{ secrets.PULUMI_ACCESS_TOKEN }}" }] };
    assert.deepEqual(secretsWithoutEnvironment({ bad, good: { ...bad, environment: "production" } }), ["bad"]);
  });

  it("deploy: development, then staging, then production behind its protected environment, each `up` gated by a preview with main's policy pack (#5)", () => {
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
      const raw = p.raw.jobs[s];
      // Exactly a preview, then the up, both of this stack, both with the pack main had
      // before this push (never ./policy, the pack of the commit being deployed).
      const steps = pulumiSteps(raw);
      assert.deepEqual(
        steps.map((w) => [w.with?.command, w.with?.policyPacks, w.with?.["stack-name"]]),
        ["preview", "up"].map((c) => [c, POLICY_BASE, `\${{ vars.PULUMI_ORG && format('{0}/${s}', vars.PULUMI_ORG) || '${s}' }}`]),
        s,
      );
      assert.deepEqual(policyCheckout(raw)?.with, {
        ref: "${{ github.event.before }}",
        path: ".policy-base",
        "sparse-checkout": "policy",
        "persist-credentials": "false",
      });
      // The program's own checkout comes first: a checkout at the root cleans the workspace.
      assert.equal(raw.steps[0].uses?.startsWith("actions/checkout@") && raw.steps[0].with?.path, undefined);
      assert.ok(raw.steps.indexOf(policyCheckout(raw)!) > 0);
      // The pack's dependencies come from its own (main's) lockfile.
      assert.match(installRun(raw), /npm ci --ignore-scripts --no-audit --no-fund --prefix \.policy-base\/policy/);
    }
    assert.equal(p.raw.jobs.production.permissions?.["id-token"], "write");
    assert.deepEqual(toJs(p.template.concurrency), { group: "deploy", "cancel-in-progress": false });
  });

  it("no workflow gates or deploys with the pack of the code under review", () => {
    for (const f of files) {
      for (const [id, j] of Object.entries(parsed[f].raw.jobs)) {
        for (const w of pulumiSteps(j)) assert.equal(w.with?.policyPacks, POLICY_BASE, `${f} ${id}`);
      }
    }
  });

  it("runners: each deploy job on its own environment's runners, production only from deploy.yml on main, previews only on GitHub-hosted runners (#2)", () => {
    const deploy = parsed["deploy.yml"];
    assert.deepEqual(
      STACKS.map((s) => deploy.raw.jobs[s]["runs-on"]),
      STACKS.map((s) => `\${{ vars.PULUMI_RUNNER_${s.toUpperCase()} || 'ubuntu-24.04' }}`),
    );
    assert.equal(toJs(job(deploy, "production").if), "${{ success() && (github.event_name == 'push' && github.ref == 'refs/heads/main') }}");
    // Nothing else names a deploy runner: no shared pool, no preview on a deployer's runner.
    for (const f of files) {
      const names = [...parsed[f].text.matchAll(/vars\.(PULUMI_RUNNER\w*)/g)].map((m) => m[1]);
      assert.deepEqual(names, f === "deploy.yml" ? ["PULUMI_RUNNER_DEVELOPMENT", "PULUMI_RUNNER_STAGING", "PULUMI_RUNNER_PRODUCTION"] : [], f);
      for (const [id, j] of Object.entries(parsed[f].raw.jobs)) {
        if (f !== "deploy.yml") assert.equal(j["runs-on"], "ubuntu-24.04", `${f} ${id} runs on a GitHub-hosted runner`);
      }
    }
    // docs/delivery.md says which group admits which workflow and ref.
    const doc = fs.readFileSync(path.join(ROOT, "docs", "delivery.md"), "utf8");
    for (const s of STACKS) assert.ok(doc.includes(`PULUMI_RUNNER_${s.toUpperCase()}`), s);
    assert.ok(doc.includes(".github/workflows/deploy.yml@refs/heads/main"));
    assert.match(doc, /ephemeral|JIT/);
    assert.doesNotMatch(doc, /`PULUMI_RUNNER`/);
  });

  it("install only runtime dependencies and no install scripts where credentials are; the deployed program needs nothing more (#7)", () => {
    for (const f of ["preview.yml", "deploy.yml"]) {
      for (const [id, j] of Object.entries(parsed[f].raw.jobs)) {
        const npm = installRun(j)
          .split("\n")
          .filter((l) => /\bnpm\b/.test(l));
        assert.deepEqual(
          npm,
          ["npm ci --omit=dev --ignore-scripts --no-audit --no-fund", "npm ci --ignore-scripts --no-audit --no-fund --prefix .policy-base/policy"],
          `${f} ${id}`,
        );
        // Installed before any credential reaches the environment.
        const install = j.steps.findIndex((s) => s.run?.includes("npm ci"));
        const firstCredential = j.steps.findIndex((s) => /secrets\.|TERRAFORM_VAULT_AUTH_JWT|role-to-assume/.test(JSON.stringify(s)));
        assert.ok(install < firstCredential, `${f} ${id}`);
      }
    }
    // A credentialed deploy restores nothing another workflow's run wrote.
    for (const s of STACKS) {
      const node = parsed["deploy.yml"].raw.jobs[s].steps.find((x) => x.uses?.startsWith("actions/setup-node@"));
      assert.deepEqual(node?.with, { "node-version": "20" }, s);
    }
    // Only the jobs that log in to Vault or assume a role can mint OIDC tokens.
    assert.deepEqual(
      STACKS.map((s) => parsed["deploy.yml"].raw.jobs[s].permissions?.["id-token"]),
      [undefined, "write", "write"],
    );
    // What the program loads at deploy time is in `dependencies` (test/language-host.test.ts
    // proves the loaded files); the CLI's TypeScript loader is not needed (tsx is a dependency).
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { dependencies: Record<string, string> };
    assert.ok("tsx" in pkg.dependencies && "@pulumi/pulumi" in pkg.dependencies);
    assert.match(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8"), /nodeargs: "--require tsx\/cjs"/);
  });

  it("verify every download against a pinned SHA-256; the CLI never fetches a plugin on its own (#12)", () => {
    for (const f of files) {
      for (const [id, j] of Object.entries(parsed[f].raw.jobs)) {
        for (const s of j.steps) assert.deepEqual(unverifiedDownloads(s), [], `${f} ${id}: ${s.name ?? s.uses ?? s.run}`);
        const pulumi = pulumiSteps(j);
        if (pulumi.length === 0) continue;
        // The verified CLI is on PATH before pulumi/actions runs, at the version the action asks
        // for, so the action finds it and downloads nothing (pulumi/actions v7 skips the
        // download when `pulumi version` satisfies `pulumi-version`).
        const cli = j.steps.findIndex((s) => s.run?.includes("sha256sum --check") && s.env?.PULUMI_VERSION !== undefined);
        assert.ok(cli >= 0 && cli < j.steps.indexOf(pulumi[0]), `${f} ${id}: CLI installed before pulumi/actions`);
        for (const w of pulumi) assert.equal(w.with?.["pulumi-version"], j.steps[cli].env?.PULUMI_VERSION, `${f} ${id}`);
        assert.match(j.steps[cli].run ?? "", /echo "\$RUNNER_TEMP\/pulumi" >> "\$GITHUB_PATH"/);
        // Plugins (and the login) in a directory of this job only: an earlier job's ~/.pulumi/plugins
        // would otherwise be used as is, since `pulumi plugin install` skips a plugin already there.
        assert.match(j.steps[cli].run ?? "", /echo "PULUMI_HOME=\$RUNNER_TEMP\/pulumi-home" >> "\$GITHUB_ENV"/);
        // Every plugin the program needs, at the lockfile's version, installed with its checksum.
        const plugins = j.steps.find((s) => s.run?.includes("pulumi plugin install"));
        assert.ok(plugins && j.steps.indexOf(plugins) < j.steps.indexOf(pulumi[0]), `${f} ${id}: plugins before pulumi/actions`);
        assert.deepEqual(pluginList(plugins.run ?? ""), lockedPlugins(), `${f} ${id}`);
        assert.equal(plugins.env?.PULUMI_PLUGIN_SHA256, "${{ vars.PULUMI_PLUGIN_SHA256 }}");
        assert.ok((plugins.run ?? "").includes('if ! [[ "$sum" =~ ^[0-9a-f]{64}$ ]]; then'), "a plugin without a sum fails the job");
        assert.equal(j.env?.PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION, "true", `${f} ${id}`);
      }
    }
    // Every copy of the two install steps is the same text.
    const copies = (test: (s: RawStep) => boolean) =>
      new Set(Object.values(parsed).flatMap((p) => Object.values(p.raw.jobs).flatMap((j) => j.steps.filter(test).map((s) => JSON.stringify([s.run, s.env])))));
    assert.equal(copies((s) => s.env?.PULUMI_VERSION !== undefined).size, 1);
    assert.equal(copies((s) => s.env?.PULUMI_PLUGIN_SHA256 !== undefined).size, 1);
    // The check itself catches what it must.
    assert.deepEqual(unverifiedDownloads({ run: "curl -fsSL https://get.pulumi.com | sh" }), [
      "not verifiable: curl -fsSL https://get.pulumi.com | sh",
      "curl without -o (piped, unverified): curl -fsSL https://get.pulumi.com | sh",
    ]);
    assert.deepEqual(unverifiedDownloads({ run: 'curl -fsSL -o "$RUNNER_TEMP/x.tgz" https://example.com/x.tgz\ntar -xzf "$RUNNER_TEMP/x.tgz"' }), [
      'not checked against a pinned SHA-256: curl -fsSL -o "$RUNNER_TEMP/x.tgz" https://example.com/x.tgz',
    ]);
    const checked = 'curl -fsSL -o "$RUNNER_TEMP/x.tgz" https://example.com/x.tgz\necho "${SUM}  $RUNNER_TEMP/x.tgz" | sha256sum --check --strict';
    assert.deepEqual(unverifiedDownloads({ run: checked, env: { SUM: "a".repeat(64) } }), []);
    assert.equal(unverifiedDownloads({ run: checked, env: { SUM: "${{ vars.SUM }}" } }).length, 1, "the sum must be pinned in the workflow");
    assert.deepEqual(unverifiedDownloads({ run: "pulumi plugin install resource aws 7.48.0" }), [
      "plugin without --exact and --checksum: pulumi plugin install resource aws 7.48.0",
    ]);
    assert.deepEqual(unverifiedDownloads({ run: "npm install left-pad" }), ["npm outside the lockfile: npm install left-pad"]);
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
    // Whole values (issue 30 #2): the text plan cuts long values, the value diff does not; it
    // needs the base commit in the head checkout.
    assert.ok(runs.some((r) => r.includes('>> "$GITHUB_STEP_SUMMARY"') && r.includes('plan -- "$stack" --diff "$BASE_SHA"')));
    const head = p.raw.jobs.plan.steps.find((s) => s.with?.path === "head");
    assert.equal(String(head?.with?.["fetch-depth"]), "0");
    assert.doesNotMatch(p.text, /scripts\/harness\.ts/);
  });

  it("install the Pulumi CLI of the same release as the locked SDK", () => {
    const lock = JSON.parse(fs.readFileSync(path.join(ROOT, "package-lock.json"), "utf8")) as { packages: Record<string, { version: string }> };
    const versions = ["preview.yml", "deploy.yml"].flatMap((f) =>
      Object.values(parsed[f].raw.jobs).flatMap((j) => [
        ...pulumiSteps(j).map((w) => w.with?.["pulumi-version"]),
        ...j.steps.map((s) => s.env?.PULUMI_VERSION),
      ]),
    );
    assert.deepEqual([...new Set(versions.filter((v) => v !== undefined))], [lock.packages["node_modules/@pulumi/pulumi"].version]);
  });
});
