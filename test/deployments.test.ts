/**
 * The Pulumi Deployments project (deployments/): its settings per stack, exact inputs of every
 * resource it registers (under the offline harness), its config validation, and that its
 * secrets never travel in clear.
 *
 * What this cannot show: that Pulumi Cloud accepts these settings (the `vcs.provider` value,
 * a pinned `commit` together with PR previews, the executor image having the aws CLI). The
 * harness only records what the program would send.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { DEFAULT_DRIFT_CRON, DEFAULT_UPDATE_CRON, type DeploymentsArgs, buildDeployments, deploymentsArgsErrors, triggerPaths } from "../deployments/settings";
import { stackClouds } from "../deployments/stack-files";
import { ROOT, isSecret, plaintextOccurrences, runProgram, unwrapSecrets } from "../harness";

const COMMIT = "0123456789abcdef0123456789abcdef01234567";
const PASSPHRASE = "FAKE-SECRET-passphrase-5f3c9a";
const KUBECONFIG = "FAKE-SECRET-kubeconfig-5f3c9a";

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
    configPassphrase: PASSPHRASE,
    kubeconfigs: { development: KUBECONFIG },
    ...over,
  };
}

async function deploy(a: DeploymentsArgs) {
  const run = await runProgram({ stack: "deployments", config: {}, program: () => buildDeployments(a) });
  return { run, resources: run.resources.filter((r) => r.type.startsWith("pulumiservice:")) };
}

const NPM_CI = "npm ci --no-audit --no-fund";
const vcs = (stack: string, deployCommits: boolean) => ({
  provider: "github",
  repository: "veza/veza-secrets",
  deployCommits,
  // No stack previews pull requests or templates review stacks: either would run a PR's code
  // with the stack's deploy credentials (issue 29 #6; preview.yml previews read-only).
  previewPullRequests: false,
  pullRequestTemplate: false,
  paths: ["index.ts", "stacks/**", "components/**", "package.json", "package-lock.json", "Pulumi.yaml", `Pulumi.${stack}.yaml`, "tsconfig.json"],
});

describe("deployments: Pulumi Deployments settings", () => {
  it("registers settings, drift detection and a scheduled up for each stack, nothing else", async () => {
    const { resources } = await deploy(args());
    // Registration order is the SDK's (asynchronous); compare as sets.
    assert.deepEqual(
      resources.map((r) => `${r.type} ${r.name}`).sort(),
      ["development", "staging", "production"]
        .flatMap((s) => [
          `pulumiservice:index:DeploymentSettings ${s}`,
          `pulumiservice:index:DriftSchedule ${s}-drift`,
          `pulumiservice:index:DeploymentSchedule ${s}-update`,
        ])
        .sort(),
    );
  });

  it("development: deploys every push to main, never previews PRs, kubeconfig and passphrase from secret config", async () => {
    const { resources } = await deploy(args());
    const settings = resources.find((r) => r.name === "development")!;
    assert.deepEqual(unwrapSecrets(settings.inputs), {
      organization: "veza",
      project: "veza-secrets",
      stack: "development",
      sourceContext: { git: { branch: "refs/heads/main", repoDir: "." } },
      vcs: vcs("development", true),
      operationContext: {
        options: { skipInstallDependencies: true },
        preRunCommands: ['mkdir -p "$HOME/.kube" && (umask 077 && printf \'%s\' "$KUBECONFIG_DATA" > "$HOME/.kube/config")', NPM_CI],
        environmentVariables: { PULUMI_CONFIG_PASSPHRASE: PASSPHRASE, KUBECONFIG_DATA: KUBECONFIG },
      },
    });
    const env = (settings.inputs.operationContext as { environmentVariables: Record<string, unknown> }).environmentVariables;
    assert.ok(isSecret(env.PULUMI_CONFIG_PASSPHRASE), "PULUMI_CONFIG_PASSPHRASE must be a Pulumi secret");
    assert.ok(isSecret(env.KUBECONFIG_DATA), "KUBECONFIG_DATA must be a Pulumi secret");
  });

  it("staging: deploys every push through its in-cluster agent pool, no cloud credentials", async () => {
    const { resources } = await deploy(args());
    assert.deepEqual(unwrapSecrets(resources.find((r) => r.name === "staging")!.inputs), {
      organization: "veza",
      project: "veza-secrets",
      stack: "staging",
      agentPoolId: "pool-staging",
      sourceContext: { git: { branch: "refs/heads/main", repoDir: "." } },
      vcs: vcs("staging", true),
      operationContext: {
        options: { skipInstallDependencies: true },
        preRunCommands: [NPM_CI],
        environmentVariables: { PULUMI_CONFIG_PASSPHRASE: PASSPHRASE },
      },
    });
  });

  it("production: never deploys on push, runs the pinned commit, AWS only through OIDC", async () => {
    const { resources } = await deploy(args());
    assert.deepEqual(unwrapSecrets(resources.find((r) => r.name === "production")!.inputs), {
      organization: "veza",
      project: "veza-secrets",
      stack: "production",
      sourceContext: { git: { commit: COMMIT, repoDir: "." } },
      vcs: vcs("production", false),
      operationContext: {
        options: { skipInstallDependencies: true },
        preRunCommands: ["aws eks update-kubeconfig --name veza-production --region eu-west-1", NPM_CI],
        environmentVariables: { PULUMI_CONFIG_PASSPHRASE: PASSPHRASE },
        oidc: {
          aws: {
            roleARN: "arn:aws:iam::123456789012:role/pulumi-deployments-production",
            sessionName: "pulumi-deployments-veza-secrets-production",
            duration: "1h",
          },
        },
      },
    });
  });

  it("schedules drift detection (remediated except in production) and a daily up per stack", async () => {
    const { resources } = await deploy(args());
    const inputs = (name: string) => resources.find((r) => r.name === name)!.inputs;
    for (const stack of ["development", "staging", "production"]) {
      const base = { organization: "veza", project: "veza-secrets", stack };
      assert.deepEqual(inputs(`${stack}-drift`), { ...base, scheduleCron: "0 */6 * * *", autoRemediate: stack !== "production" });
      assert.deepEqual(inputs(`${stack}-update`), { ...base, scheduleCron: "0 4 * * *", pulumiOperation: "update" });
      const settingsUrn = resources.find((r) => r.name === stack)!.urn;
      assert.deepEqual(resources.find((r) => r.name === `${stack}-update`)!.dependencies, [settingsUrn]);
    }
  });

  it("refuses review stacks: they would run a pull request's code with development's deploy credentials", () => {
    assert.deepEqual(deploymentsArgsErrors(args({ reviewStacks: true })), [
      "[reviewStacks] must be false: a review stack runs a pull request's code with development's deployment settings (its deploy kubeconfig and passphrase). Pull requests are previewed by .github/workflows/preview.yml with read-only identities.",
    ]);
    assert.throws(() => buildDeployments(args({ reviewStacks: true })), /\[reviewStacks\] must be false/);
  });

  it("gives each stack its own passphrase when configured (a shared one lets development's runs decrypt production's config)", async () => {
    const { resources } = await deploy(args({ configPassphrases: { production: "PROD-PASS-9c1e", staging: "STG-PASS-4a7b" } }));
    const env = (name: string) =>
      unwrapSecrets((resources.find((r) => r.name === name)!.inputs.operationContext as { environmentVariables: unknown }).environmentVariables) as Record<
        string,
        string
      >;
    assert.deepEqual(
      ["development", "staging", "production"].map((s) => env(s).PULUMI_CONFIG_PASSPHRASE),
      [PASSPHRASE, "STG-PASS-4a7b", "PROD-PASS-9c1e"],
    );
    const prod = (resources.find((r) => r.name === "production")!.inputs.operationContext as { environmentVariables: Record<string, unknown> })
      .environmentVariables;
    assert.ok(isSecret(prod.PULUMI_CONFIG_PASSPHRASE));
  });

  it("leaves the passphrase out when the stacks use Pulumi Cloud's secrets provider, and never sends a secret in clear", async () => {
    const { run, resources } = await deploy(args({ configPassphrase: undefined }));
    const env = (name: string) =>
      unwrapSecrets((resources.find((r) => r.name === name)!.inputs.operationContext as { environmentVariables: unknown }).environmentVariables);
    assert.deepEqual(env("staging"), {});
    for (const r of run.resources) assert.deepEqual(plaintextOccurrences(r.inputs, KUBECONFIG), [], `${r.name} sends the kubeconfig in clear`);
  });

  it("rejects incomplete settings, naming the key and the fix", () => {
    const a = args();
    const bad = args({
      repository: "veza-secrets",
      kubeconfigs: {},
      stacks: {
        development: { clouds: ["gcp"], kubeconfig: { kind: "secret" } },
        staging: { clouds: ["azure"], kubeconfig: { kind: "in-cluster" } },
        production: { clouds: ["aws"], kubeconfig: { kind: "eks", clusterName: "c", region: "eu-west-1" }, aws: { roleArn: "role/x" }, commit: "main" },
      },
    });
    assert.deepEqual(deploymentsArgsErrors(a), []);
    assert.deepEqual(deploymentsArgsErrors(bad), [
      '[repository] must be a GitHub repository "owner/name"; got "veza-secrets".',
      "[stacks.development.gcp] is required: development uses Google Cloud, reached only through workload identity federation.",
      '[kubeconfig-development] is required by [stacks.development.kubeconfig] kind "secret": pulumi config set --secret kubeconfig-development "$(cat kubeconfig)".',
      "[stacks.staging.azure] is required: staging uses Azure, reached only through workload identity federation.",
      '[stacks.staging.agentPoolId] is required by kubeconfig kind "in-cluster": only an agent inside the cluster has in-cluster credentials.',
      '[stacks.production.aws.roleArn] must be an IAM role ARN; got "role/x".',
      '[stacks.production.commit] must be a full 40-character commit SHA; got "main".',
    ]);
    const numeric = args();
    (numeric.stacks.production.aws as { accountId: unknown }).accountId = 12345678901;
    assert.deepEqual(deploymentsArgsErrors(numeric), [
      "[stacks.production.aws.accountId] must be a quoted 12-digit AWS account id (a string); got 12345678901. Quote it in the stack file, or set aws.roleArn instead.",
    ]);
    const unpinned = args();
    delete unpinned.stacks.production.commit;
    delete unpinned.stacks.production.aws;
    assert.deepEqual(deploymentsArgsErrors(unpinned), [
      "[stacks.production.aws.accountId] is required: production uses AWS (EKS kubeconfig), reached only through OIDC (role pulumi-deployments-production).",
      "[stacks.production.commit] is required: production's scheduled up and drift checks must run an approved commit, not main's head. Set it to the commit you approved for release.",
    ]);
    assert.throws(() => buildDeployments(unpinned), /^Error: Deployment settings are invalid:\n {2}- \[stacks\.production\.aws\.accountId\] is required/);
  });

  it("index.ts reads its config (and the stack files) into exactly these settings", async () => {
    // The harness names config after the main project; `new pulumi.Config()` reads whatever
    // project runs, so under the harness the keys are `veza-secrets:…` instead of
    // `veza-secrets-deployments:…`.
    const run = await runProgram({
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
      secrets: { "veza-secrets:kubeconfig-development": KUBECONFIG, "veza-secrets:configPassphrase": PASSPHRASE },
      program: path.join(ROOT, "deployments", "index.ts"),
    });
    const { resources: expected } = await deploy(args());
    const got = run.resources.filter((r) => r.type.startsWith("pulumiservice:"));
    const byName = (rs: typeof got) => Object.fromEntries(rs.map((r) => [r.name, unwrapSecrets(r.inputs)]));
    assert.deepEqual(byName(got), byName(expected));
    assert.deepEqual(run.outputs.stacks, ["veza/veza-secrets/development", "veza/veza-secrets/staging", "veza/veza-secrets/production"]);
    // The AWS trust policy names each operation: never operation:*, which a PR preview would match.
    assert.deepEqual(run.outputs.awsTrustSubjects, {
      production: [
        "pulumi:deploy:org:veza:project:veza-secrets:stack:production:operation:update:scope:write",
        "pulumi:deploy:org:veza:project:veza-secrets:stack:production:operation:refresh:scope:write",
      ],
    });
  });

  it("reads each stack's clouds from the main program's committed stack files", () => {
    assert.deepEqual(
      ["development", "staging", "production"].map((s) => stackClouds(s)),
      [[], [], ["aws"]],
    );
    assert.deepEqual(
      triggerPaths("staging").filter((p) => p.startsWith("Pulumi.")),
      ["Pulumi.yaml", "Pulumi.staging.yaml"],
    );
  });

  it("is its own project, pinned like the root lockfile, with a short index.ts", () => {
    const dir = path.join(ROOT, "deployments");
    const project = yaml.load(fs.readFileSync(path.join(dir, "Pulumi.yaml"), "utf8")) as {
      name: string;
      runtime: { name: string; options: { typescript: boolean } };
    };
    assert.equal(project.name, "veza-secrets-deployments");
    assert.deepEqual([project.runtime.name, project.runtime.options.typescript], ["nodejs", true]);
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")) as { dependencies: Record<string, string> };
    const lock = JSON.parse(fs.readFileSync(path.join(ROOT, "package-lock.json"), "utf8")) as { packages: Record<string, { version: string }> };
    for (const [name, version] of Object.entries(pkg.dependencies)) assert.equal(version, lock.packages[`node_modules/${name}`].version, name);
    assert.ok(fs.readFileSync(path.join(dir, "index.ts"), "utf8").split("\n").length <= 30);
  });
});
