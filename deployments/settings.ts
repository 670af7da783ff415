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
 * keys without shipping whatever main holds. Production releases go through GitHub Actions
 * (deploy.yml) by preference: Pulumi Deployments cannot bind a run to its source. Its OIDC
 * token names only organization, project, stack and operation, and whoever may create a
 * deployment on a stack (`stack_deployment:create`, part of Stack Write) can run any
 * repository, branch or pre-run command with that stack's credentials: on production that
 * permission is production-admin. What can be bound is bound (the trust conditions below,
 * this repository and the pinned commit in the settings); the rest is watched: an
 * organization webhook reports every deployment, and source-audit.ts compares each one with
 * the settings (.github/workflows/deployments-audit.yml).
 *
 * No stack previews pull requests, and none is a review-stack template: Deployments gives a
 * pull request's preview the stack's own settings, that is its deploy credentials
 * (kubeconfig, passphrase, agent pool, OIDC role). Pull requests are previewed by
 * preview.yml with read-only identities, and production's diff comes from the
 * credential-free offline plan.
 */
import * as pulumi from "@pulumi/pulumi";
import {
  DeploymentSchedule,
  type DeploymentScheduleArgs,
  DeploymentSettings,
  type DeploymentSettingsArgs,
  DriftSchedule,
  type DriftScheduleArgs,
  Webhook,
  type WebhookArgs,
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
  /**
   * Review stacks (development as the template of one stack per pull request). Must be
   * `false`: a review stack runs the pull request's code with development's deployment
   * settings, its deploy kubeconfig and passphrase included. Kept so an old stack file that
   * sets it gets an error naming the reason instead of silently changing behaviour.
   */
  reviewStacks: boolean;
  /**
   * Where to report every deployment of the organization's stacks as it is queued and starts
   * (an organization webhook: only organization admins can change or delete it, unlike a
   * stack webhook, which Stack Write may delete). Default: none.
   */
  deploymentAlerts?: DeploymentAlerts;
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

/** An organization webhook for deployment events. */
export interface DeploymentAlerts {
  /** Receiver: a Slack or Microsoft Teams incoming-webhook URL, or an HTTPS endpoint for `raw` JSON. Secret. */
  payloadUrl: pulumi.Input<string>;
  /** Payload format. Default `slack`. */
  format?: "slack" | "ms_teams" | "raw";
  /** HMAC key Pulumi Cloud signs `raw` deliveries with. Secret. */
  secret?: pulumi.Input<string>;
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

/**
 * The whole `Condition` block of that role's trust policy: the audience (the organization, as
 * Pulumi documents) and exactly those subjects. Nothing in the token names the source
 * repository, branch or commit, so no condition can bind them (see the file header).
 */
export function awsTrustConditions(organization: string, project: string, stack: Environment): Record<string, Record<string, string | string[]>> {
  return {
    StringEquals: {
      "api.pulumi.com/oidc:aud": organization,
      "api.pulumi.com/oidc:sub": awsTrustSubjects(organization, project, stack),
    },
  };
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
  if (args.reviewStacks) {
    errors.push(
      "[reviewStacks] must be false: a review stack runs a pull request's code with development's deployment settings (its deploy kubeconfig and passphrase). Pull requests are previewed by .github/workflows/preview.yml with read-only identities.",
    );
  }
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
      // A PR preview (or review stack) would run the PR's code with these settings' deploy
      // credentials: never, on any stack (preview.yml previews with read-only identities).
      previewPullRequests: false,
      pullRequestTemplate: false,
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
  /** Per stack with an AWS role: the trust policy's whole `Condition` block (audience and subjects). */
  awsTrustConditions: Partial<Record<Environment, ReturnType<typeof awsTrustConditions>>>;
}

/** `deploymentAlerts` from the project's config: none without a receiver; the format must be one Pulumi Cloud sends. */
export function deploymentAlerts(payloadUrl?: pulumi.Input<string>, format?: string, secret?: pulumi.Input<string>): DeploymentAlerts | undefined {
  if (payloadUrl === undefined) return undefined;
  if (format !== undefined && format !== "slack" && format !== "ms_teams" && format !== "raw") {
    throw new pulumi.RunError(`[deploymentAlertsFormat] must be slack, ms_teams or raw; got "${format}".`);
  }
  return { payloadUrl, ...(format !== undefined ? { format } : {}), ...(secret !== undefined ? { secret } : {}) };
}

/** The organization webhook that reports every deployment as it is queued and as it starts. */
export function deploymentAlertsWebhookArgs(organization: string, alerts: DeploymentAlerts): WebhookArgs {
  return {
    organizationName: organization,
    displayName: "veza-secrets: every deployment (docs/delivery.md)",
    active: true,
    payloadUrl: pulumi.secret(alerts.payloadUrl),
    format: alerts.format ?? "slack",
    filters: ["deployment_queued", "deployment_started"],
    ...(alerts.secret !== undefined ? { secret: pulumi.secret(alerts.secret) } : {}),
  };
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
  if (args.deploymentAlerts) new Webhook("deployment-alerts", deploymentAlertsWebhookArgs(args.organization, args.deploymentAlerts));
  const withAws = ENVIRONMENTS.filter((s) => args.stacks[s].aws);
  return {
    stacks: ENVIRONMENTS.map((s) => `${args.organization}/${args.project}/${s}`),
    awsTrustSubjects: Object.fromEntries(withAws.map((s) => [s, awsTrustSubjects(args.organization, args.project, s)])),
    awsTrustConditions: Object.fromEntries(withAws.map((s) => [s, awsTrustConditions(args.organization, args.project, s)])),
  };
}
