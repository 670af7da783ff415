/**
 * Pulumi Deployments for the veza-secrets stacks: per stack, where the code comes from, what
 * triggers a deployment, the cloud identities (OIDC only, no stored keys), the kubeconfig,
 * a drift-detection schedule and a scheduled `pulumi up`. Pure functions build each
 * resource's inputs (tests call them directly); `buildDeployments` registers them.
 *
 * Why a scheduled `pulumi up` at all: generated keys rotate declaratively (their `keepers`
 * change when a rotation period starts, components/keys/generated-keys.ts), so they rotate
 * only when an `up` runs. If none runs for a whole period, both slots of a keepPrevious key
 * change at once and every token signed with the old key fails.
 *
 * Production never deploys unreviewed code: it does not deploy on push, and its scheduled
 * `up` and drift checks run a pinned, approved commit (`commit`), so the schedule can rotate
 * keys without shipping whatever main holds. Nor does it preview pull requests: a preview runs
 * the pull request's code with production's OIDC role and passphrase, so anyone who can open
 * a branch could print production's secrets. Pull requests see production's diff from the
 * credential-free offline plan, and from the GitHub preview behind required reviewers.
 */
import * as pulumi from "@pulumi/pulumi";
import {
  DeploymentSchedule,
  type DeploymentScheduleArgs,
  DeploymentSettings,
  type DeploymentSettingsArgs,
  DriftSchedule,
  type DriftScheduleArgs,
  type types,
} from "@pulumi/pulumiservice";

export const ENVIRONMENTS = ["development", "staging", "production"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

/** The cloud backends a stack lists in `veza-secrets:providers` that need cloud credentials. */
export type Cloud = "aws" | "gcp" | "azure";

/** How a deployment reaches the stack's Kubernetes cluster. */
export type KubeconfigSource =
  /** EKS: `aws eks update-kubeconfig` with the stack's AWS OIDC role (no stored credential). */
  | { kind: "eks"; clusterName: string; region: string }
  /** A kubeconfig kept as a secret in this project's config (`kubeconfig-<stack>`), written to ~/.kube/config (0600) before the run. */
  | { kind: "secret" }
  /** A self-hosted agent running inside the cluster (`agentPoolId`): in-cluster credentials. */
  | { kind: "in-cluster" };

/** Settings of one stack. */
export interface StackDeploymentConfig {
  /** Cloud backends the stack uses (from its `Pulumi.<stack>.yaml` `veza-secrets:providers`). */
  clouds: Cloud[];
  kubeconfig: KubeconfigSource;
  /** AWS OIDC: the account whose `pulumi-deployments-<stack>` role the deployment assumes, or the role itself. */
  aws?: { accountId?: string; roleArn?: string; duration?: string };
  /** GCP workload identity federation. */
  gcp?: { projectNumber: string; workloadPoolId: string; providerId: string; serviceAccount: string; region?: string };
  /** Azure workload identity federation. */
  azure?: { clientId: string; tenantId: string; subscriptionId: string };
  /** Self-hosted agent pool, for clusters Pulumi's hosted runners cannot reach. */
  agentPoolId?: string;
  /** Pin deployments to this approved commit instead of the branch head. Required in production. */
  commit?: string;
}

export interface DeploymentsArgs {
  /** Pulumi Cloud organization that owns the stacks. */
  organization: string;
  /** The program's project: `veza-secrets`. */
  project: string;
  /** GitHub repository, `owner/name`, connected through the Pulumi GitHub App. */
  repository: string;
  /** Branch that deploys: `main`. */
  branch: string;
  stacks: Record<Environment, StackDeploymentConfig>;
  /** Make development the template of review stacks, one per pull request, destroyed on merge. */
  reviewStacks: boolean;
  /** Cron of the scheduled `pulumi up` (UTC). Default daily 04:00. */
  updateCron: string;
  /** Cron of drift detection (UTC). Default every 6 hours. */
  driftCron: string;
  /**
   * PULUMI_CONFIG_PASSPHRASE for every stack, only for stacks whose secrets provider is a
   * passphrase. Secret. Prefer `configPassphrases`: one shared passphrase lets development's
   * deployments (and its pull-request previews) decrypt production's config.
   */
  configPassphrase?: pulumi.Input<string>;
  /** PULUMI_CONFIG_PASSPHRASE per stack (`configPassphrase-<stack>`), overriding `configPassphrase`. Secret. */
  configPassphrases?: Partial<Record<Environment, pulumi.Input<string>>>;
  /** Kubeconfig per stack whose `kubeconfig.kind` is `secret`. Secret. */
  kubeconfigs: Partial<Record<Environment, pulumi.Input<string>>>;
}

export const DEFAULT_UPDATE_CRON = "0 4 * * *";
export const DEFAULT_DRIFT_CRON = "0 */6 * * *";

/** Files whose change can change what a stack deploys (tests and docs do not). */
export function triggerPaths(stack: Environment): string[] {
  return ["index.ts", "stacks/**", "components/**", "package.json", "package-lock.json", "Pulumi.yaml", `Pulumi.${stack}.yaml`, "tsconfig.json"];
}

/**
 * The OIDC subjects the AWS role of a stack's deployments should trust: exactly the
 * operations it runs (scheduled and manual `update`, drift detection's `refresh`), never
 * `operation:*`, which would also let a pull request's `preview` assume it.
 */
export function awsTrustSubjects(organization: string, project: string, stack: Environment): string[] {
  return ["update", "refresh"].map((op) => `pulumi:deploy:org:${organization}:project:${project}:stack:${stack}:operation:${op}:scope:write`);
}

/** The AWS role a stack's deployments assume: `arn:aws:iam::<account>:role/pulumi-deployments-<stack>`. */
export function awsRoleArn(stack: Environment, aws: NonNullable<StackDeploymentConfig["aws"]>): string | undefined {
  return aws.roleArn ?? (aws.accountId ? `arn:aws:iam::${aws.accountId}:role/pulumi-deployments-${stack}` : undefined);
}

const SHA = /^[0-9a-f]{40}$/;

/** Problems with the args, each naming the config key and the fix. Empty: valid. */
export function deploymentsArgsErrors(args: DeploymentsArgs): string[] {
  const errors: string[] = [];
  const key = (stack: string, path: string) => `[stacks.${stack}.${path}]`;
  if (!/^[\w.-]+\/[\w.-]+$/.test(args.repository)) errors.push(`[repository] must be a GitHub repository "owner/name"; got "${args.repository}".`);
  for (const stack of ENVIRONMENTS) {
    const s = args.stacks[stack];
    if (!s) {
      errors.push(`[stacks.${stack}] is missing: every environment needs its deployment settings.`);
      continue;
    }
    if (!s.kubeconfig) {
      errors.push(
        `${key(stack, "kubeconfig")} is required: Pulumi Deployments runs outside the cluster; give it {kind: "eks", clusterName, region}, {kind: "secret"} or {kind: "in-cluster"} with an agentPoolId.`,
      );
      continue;
    }
    const needsAws = s.clouds.includes("aws") || s.kubeconfig.kind === "eks";
    if (needsAws && !(s.aws && awsRoleArn(stack, s.aws))) {
      errors.push(
        `${key(stack, "aws.accountId")} is required: ${stack} uses AWS${s.kubeconfig.kind === "eks" ? " (EKS kubeconfig)" : ""}, reached only through OIDC (role pulumi-deployments-${stack}).`,
      );
    }
    if (s.aws?.roleArn !== undefined && !/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/.test(s.aws.roleArn)) {
      errors.push(`${key(stack, "aws.roleArn")} must be an IAM role ARN; got "${s.aws.roleArn}".`);
    }
    const account: unknown = s.aws?.accountId;
    if (account !== undefined && !(typeof account === "string" && /^\d{12}$/.test(account))) {
      // `pulumi config set --path` stores digits as a number, which drops leading zeros.
      errors.push(
        `${key(stack, "aws.accountId")} must be a quoted 12-digit AWS account id (a string); got ${JSON.stringify(account)}. Quote it in the stack file, or set aws.roleArn instead.`,
      );
    }
    if (s.clouds.includes("gcp") && !s.gcp)
      errors.push(`${key(stack, "gcp")} is required: ${stack} uses Google Cloud, reached only through workload identity federation.`);
    if (s.clouds.includes("azure") && !s.azure)
      errors.push(`${key(stack, "azure")} is required: ${stack} uses Azure, reached only through workload identity federation.`);
    if (s.kubeconfig.kind === "secret" && args.kubeconfigs[stack] === undefined) {
      errors.push(
        `[kubeconfig-${stack}] is required by ${key(stack, "kubeconfig")} kind "secret": pulumi config set --secret kubeconfig-${stack} "$(cat kubeconfig)".`,
      );
    }
    if (s.kubeconfig.kind === "in-cluster" && !s.agentPoolId)
      errors.push(`${key(stack, "agentPoolId")} is required by kubeconfig kind "in-cluster": only an agent inside the cluster has in-cluster credentials.`);
    if (s.commit !== undefined && !SHA.test(s.commit)) errors.push(`${key(stack, "commit")} must be a full 40-character commit SHA; got "${s.commit}".`);
    if (stack === "production" && s.commit === undefined) {
      errors.push(
        `${key(stack, "commit")} is required: production's scheduled up and drift checks must run an approved commit, not main's head. Set it to the commit you approved for release.`,
      );
    }
  }
  return errors;
}

/** Shell commands run before each operation: the kubeconfig, then the exact locked dependencies. */
export function preRunCommands(s: StackDeploymentConfig): string[] {
  const commands: string[] = [];
  if (s.kubeconfig.kind === "eks") commands.push(`aws eks update-kubeconfig --name ${s.kubeconfig.clusterName} --region ${s.kubeconfig.region}`);
  if (s.kubeconfig.kind === "secret") {
    // The variable is a deployment secret (masked in logs); the file is the executor's, deleted with it.
    commands.push('mkdir -p "$HOME/.kube" && (umask 077 && printf \'%s\' "$KUBECONFIG_DATA" > "$HOME/.kube/config")');
  }
  commands.push("npm ci --no-audit --no-fund");
  return commands;
}

/** DeploymentSettings inputs for one stack. */
export function deploymentSettingsArgs(stack: Environment, args: DeploymentsArgs): DeploymentSettingsArgs {
  const s = args.stacks[stack];
  const environmentVariables: Record<string, pulumi.Input<string>> = {};
  // Never a literal: both come from this project's secret config and stay encrypted in Pulumi Cloud.
  const passphrase = args.configPassphrases?.[stack] ?? args.configPassphrase;
  if (passphrase !== undefined) environmentVariables.PULUMI_CONFIG_PASSPHRASE = pulumi.secret(passphrase);
  const kubeconfig = args.kubeconfigs[stack];
  if (s.kubeconfig.kind === "secret" && kubeconfig !== undefined) environmentVariables.KUBECONFIG_DATA = pulumi.secret(kubeconfig);

  const oidc: types.input.OperationContextOIDCArgs = {};
  const role = s.aws ? awsRoleArn(stack, s.aws) : undefined;
  if (role && (s.clouds.includes("aws") || s.kubeconfig.kind === "eks")) {
    oidc.aws = { roleARN: role, sessionName: `pulumi-deployments-${args.project}-${stack}`, duration: s.aws?.duration ?? "1h" };
  }
  if (s.clouds.includes("gcp") && s.gcp) {
    oidc.gcp = {
      projectId: s.gcp.projectNumber,
      workloadPoolId: s.gcp.workloadPoolId,
      providerId: s.gcp.providerId,
      serviceAccount: s.gcp.serviceAccount,
      tokenLifetime: "1h",
      ...(s.gcp.region ? { region: s.gcp.region } : {}),
    };
  }
  if (s.clouds.includes("azure") && s.azure) oidc.azure = { ...s.azure };

  return {
    organization: args.organization,
    project: args.project,
    stack,
    ...(s.agentPoolId ? { agentPoolId: s.agentPoolId } : {}),
    sourceContext: {
      git: s.commit ? { commit: s.commit, repoDir: "." } : { branch: `refs/heads/${args.branch}`, repoDir: "." },
    },
    // `vcs` is the SDK's replacement for the deprecated `github` block, with the same triggers.
    vcs: {
      provider: "github",
      repository: args.repository,
      // Production ships only through an explicit, approved deployment (see the file header).
      deployCommits: stack !== "production",
      // A PR preview runs the PR's code with the stack's credentials: never production's.
      previewPullRequests: stack !== "production",
      pullRequestTemplate: args.reviewStacks && stack === "development",
      paths: triggerPaths(stack),
    },
    operationContext: {
      // npm ci below installs exactly the lockfile; the executor's own `npm install` would not.
      options: { skipInstallDependencies: true },
      preRunCommands: preRunCommands(s),
      environmentVariables,
      ...(Object.keys(oidc).length > 0 ? { oidc } : {}),
    },
  };
}

/** Drift detection: every stack; remediated automatically except in production, where a person decides. */
export function driftScheduleArgs(stack: Environment, args: DeploymentsArgs): DriftScheduleArgs {
  return { organization: args.organization, project: args.project, stack, scheduleCron: args.driftCron, autoRemediate: stack !== "production" };
}

/** The scheduled `pulumi up` that rotates generated keys on time. */
export function updateScheduleArgs(stack: Environment, args: DeploymentsArgs): DeploymentScheduleArgs {
  return { organization: args.organization, project: args.project, stack, scheduleCron: args.updateCron, pulumiOperation: "update" };
}

export interface DeploymentsOutputs {
  /** `org/project/stack` of every stack with deployment settings. */
  stacks: string[];
  /** Per stack with an AWS role: the OIDC subjects its trust policy should allow (`sub` condition). */
  awsTrustSubjects: Partial<Record<Environment, string[]>>;
  reviewStackTemplate?: string;
}

/** Register the settings and schedules of every stack. Throws listing every config problem. */
export function buildDeployments(args: DeploymentsArgs): DeploymentsOutputs {
  const errors = deploymentsArgsErrors(args);
  if (errors.length > 0) throw new pulumi.RunError(`Deployment settings are invalid:\n${errors.map((e) => `  - ${e}`).join("\n")}`);
  for (const stack of ENVIRONMENTS) {
    const settings = new DeploymentSettings(stack, deploymentSettingsArgs(stack, args));
    // Schedules run with the stack's settings: create them after.
    new DriftSchedule(`${stack}-drift`, driftScheduleArgs(stack, args), { dependsOn: [settings] });
    new DeploymentSchedule(`${stack}-update`, updateScheduleArgs(stack, args), { dependsOn: [settings] });
  }
  return {
    stacks: ENVIRONMENTS.map((s) => `${args.organization}/${args.project}/${s}`),
    awsTrustSubjects: Object.fromEntries(ENVIRONMENTS.filter((s) => args.stacks[s].aws).map((s) => [s, awsTrustSubjects(args.organization, args.project, s)])),
    ...(args.reviewStacks ? { reviewStackTemplate: `${args.organization}/${args.project}/development` } : {}),
  };
}
