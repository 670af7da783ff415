/**
 * Alerting on a Pulumi Deployments run whose source or commands differ from what this
 * repository configures. Pulumi Deployments cannot refuse such a run: whoever may create a
 * deployment on a stack (`stack_deployment:create`) may point it at any repository, branch or
 * pre-run command and it still gets the stack's credentials, and its OIDC token names no
 * source (settings.ts, file header). So each run is compared afterwards with what it should
 * have been, from Pulumi Cloud's own record of it (REST API "Get Deployment": the source it
 * cloned, its operation, its jobs' steps) and the stack's current settings ("Get Settings"),
 * and anything else is reported. audit.ts fetches those records; this file only judges them.
 *
 * Field names follow Pulumi's REST API documentation (docs/reference/cloud-rest-api/deployments);
 * that Pulumi Cloud answers exactly so cannot be checked offline.
 */
import { ENVIRONMENTS, preRunCommands } from "./settings";

/** The parts of a "Get Deployment" answer the audit reads. */
export interface DeploymentRecord {
  id: string;
  version: number;
  created?: string;
  pulumiOperation?: string;
  requestedBy?: { githubLogin?: string; name?: string };
  initiator?: string;
  configuration?: { source?: { git?: { repoURL?: string; branch?: string; commit?: string; repoDir?: string } } };
  jobs?: { steps?: { name: string }[] }[];
}

/** The parts of a stack's "Get Settings" answer the audit reads. */
export interface SettingsRecord {
  sourceContext?: { git?: { repoUrl?: string; repoURL?: string; branch?: string; commit?: string; repoDir?: string } };
  gitHub?: { repository?: string; previewPullRequests?: boolean; pullRequestTemplate?: boolean; deployCommits?: boolean };
  vcs?: { repository?: string; previewPullRequests?: boolean; pullRequestTemplate?: boolean; deployCommits?: boolean };
  operationContext?: { preRunCommands?: string[] };
}

export interface SourcePolicy {
  /** This repository, `owner/name`. */
  repository: string;
  /** The branch that holds reviewed code: `main`. */
  branch: string;
  /** Whether a commit is reachable from that branch (reviewed code). */
  isReviewed: (commit: string) => boolean;
}

/** Operations a run of each stack may perform; anything else (a destroy, a production preview) is reported. */
export const EXPECTED_OPERATIONS: Record<string, readonly string[]> = {
  development: ["update", "refresh", "preview", "detect-drift", "remediate-drift"],
  staging: ["update", "refresh", "preview", "detect-drift", "remediate-drift"],
  production: ["update", "refresh", "detect-drift"],
};

/** "2023-09-19 05:49:43.002" (UTC, as documented) or ISO 8601. */
export function createdAt(created: string): number {
  const iso = created.trim().replace(" ", "T");
  return Date.parse(/(Z|[+-]\d\d:?\d\d)$/.test(iso) ? iso : `${iso}Z`);
}

/** `https://github.com/Owner/Name.git`, `github.com/owner/name/` and `owner/name` all name `owner/name`. */
export function repositoryOf(url: string): string {
  return url
    .trim()
    .replace(/^(https?:\/\/|git@)?github\.com[/:]/i, "")
    .replace(/\.git$/i, "")
    .replace(/\/+$/, "")
    .toLowerCase();
}

/** The pre-run commands settings.ts ever writes (any EKS cluster name and region). */
const KNOWN_PRE_RUN = new RegExp(
  `^(${[...preRunCommands({ clouds: [], kubeconfig: { kind: "secret" } }), ...preRunCommands({ clouds: [], kubeconfig: { kind: "in-cluster" } })]
    .map((c) => c.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&"))
    .join("|")}|aws eks update-kubeconfig --name [\\w.-]+ --region [a-z0-9-]+)$`,
);

/** Problems with a stack's current settings: a source other than this repository's reviewed code, PR previews, unknown pre-run commands. */
export function settingsProblems(stack: string, settings: SettingsRecord, policy: SourcePolicy): string[] {
  const problems: string[] = [];
  const where = `${stack} settings`;
  const vcs = settings.vcs ?? settings.gitHub ?? {};
  const git = settings.sourceContext?.git ?? {};
  const repo = vcs.repository ?? git.repoUrl ?? git.repoURL;
  if (repo === undefined || repositoryOf(repo) !== repositoryOf(policy.repository)) {
    problems.push(`${where}: source repository ${repo ?? "(none)"}, expected ${policy.repository}`);
  }
  if (git.commit !== undefined) {
    if (!policy.isReviewed(git.commit)) problems.push(`${where}: commit ${git.commit} is not on ${policy.branch}`);
  } else if (stack === "production") {
    problems.push(`${where}: production must run a pinned commit, not branch ${git.branch ?? "(none)"}`);
  } else if (git.branch !== `refs/heads/${policy.branch}` && git.branch !== policy.branch) {
    problems.push(`${where}: branch ${git.branch ?? "(none)"}, expected refs/heads/${policy.branch}`);
  }
  if (vcs.previewPullRequests === true) problems.push(`${where}: previews pull requests with the stack's deploy credentials`);
  if (vcs.pullRequestTemplate === true) problems.push(`${where}: is a review-stack template (pull-request code with its deploy credentials)`);
  if (stack === "production" && vcs.deployCommits === true) problems.push(`${where}: deploys every push to production`);
  for (const c of settings.operationContext?.preRunCommands ?? []) {
    if (!KNOWN_PRE_RUN.test(c)) problems.push(`${where}: unknown pre-run command ${JSON.stringify(c)}`);
  }
  return problems;
}

/** Problems with one run: its source, its operation, more pre-run commands than the settings hold. */
export function deploymentProblems(stack: string, d: DeploymentRecord, settings: SettingsRecord, policy: SourcePolicy): string[] {
  const problems: string[] = [];
  const who = d.requestedBy?.githubLogin ?? d.requestedBy?.name ?? "unknown";
  const where = `${stack} deployment #${d.version} (${d.pulumiOperation ?? "?"}, by ${who}, via ${d.initiator ?? "?"})`;
  const git = d.configuration?.source?.git;
  if (!git) {
    problems.push(`${where}: no git source recorded (a template or no source), expected ${policy.repository}`);
  } else {
    if (git.repoURL === undefined || repositoryOf(git.repoURL) !== repositoryOf(policy.repository)) {
      problems.push(`${where}: ran ${git.repoURL ?? "(no repository)"}, expected ${policy.repository}`);
    }
    if (git.repoDir !== undefined && git.repoDir !== "" && git.repoDir !== "." && git.repoDir !== "./") {
      problems.push(`${where}: ran from folder ${git.repoDir}, expected the repository root`);
    }
    if (git.commit !== undefined) {
      if (!policy.isReviewed(git.commit)) problems.push(`${where}: ran commit ${git.commit}, which is not on ${policy.branch}`);
    } else if (stack === "production") {
      problems.push(`${where}: ran branch ${git.branch ?? "(none)"}, expected the pinned commit`);
    } else if (git.branch !== `refs/heads/${policy.branch}` && git.branch !== policy.branch) {
      problems.push(`${where}: ran branch ${git.branch ?? "(none)"}, expected refs/heads/${policy.branch}`);
    }
  }
  const allowed = EXPECTED_OPERATIONS[stack] ?? [];
  if (d.pulumiOperation !== undefined && !allowed.includes(d.pulumiOperation)) {
    problems.push(`${where}: operation ${d.pulumiOperation} is not one ${stack} runs (${allowed.join(", ")})`);
  }
  const preRunSteps = Math.max(0, ...(d.jobs ?? []).map((j) => (j.steps ?? []).filter((s) => /^Pre-run command \d+$/.test(s.name)).length));
  const configured = settings.operationContext?.preRunCommands?.length ?? 0;
  if (preRunSteps > configured) problems.push(`${where}: ran ${preRunSteps} pre-run commands, the settings hold ${configured}`);
  return problems;
}

/** Every problem of every stack: the settings first, then each run. */
export function auditProblems(records: Partial<Record<string, { settings: SettingsRecord; deployments: DeploymentRecord[] }>>, policy: SourcePolicy): string[] {
  return ENVIRONMENTS.flatMap((stack) => {
    const r = records[stack];
    if (!r) return [];
    return [...settingsProblems(stack, r.settings, policy), ...r.deployments.flatMap((d) => deploymentProblems(stack, d, r.settings, policy))];
  });
}
