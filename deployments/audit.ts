/**
 * `npx tsx deployments/audit.ts <organization> <project> <owner/repo> [hours]`, from a clone
 * whose `origin/main` is this repository's main: reads each stack's deployment settings and
 * its deployments of the last `hours` (default 2) from Pulumi Cloud's REST API with
 * PULUMI_ACCESS_TOKEN (read access suffices), and exits 1 listing every run or setting whose
 * source differs from this repository's reviewed code (source-audit.ts). Run on a schedule by
 * .github/workflows/deployments-audit.yml; a failed run is the alert.
 */
import { execFileSync } from "node:child_process";
import { ENVIRONMENTS } from "./settings";
import { type DeploymentRecord, type SettingsRecord, auditProblems, createdAt } from "./source-audit";

/** Pulumi Cloud's API; PULUMI_API_URL for a self-hosted Pulumi Cloud. */
const API = (process.env.PULUMI_API_URL ?? "https://api.pulumi.com").replace(/\/+$/, "");

async function get<T>(path: string): Promise<T> {
  const token = process.env.PULUMI_ACCESS_TOKEN;
  if (!token) throw new Error("PULUMI_ACCESS_TOKEN is not set");
  const res = await fetch(`${API}/api/${path}`, { headers: { Authorization: `token ${token}`, Accept: "application/json" } });
  if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

function isReviewed(branch: string): (commit: string) => boolean {
  return (commit) => {
    if (!/^[0-9a-f]{7,40}$/.test(commit)) return false;
    try {
      execFileSync("git", ["merge-base", "--is-ancestor", commit, `origin/${branch}`], { stdio: "ignore" });
      return true;
    } catch {
      return false;
    }
  };
}

async function main(): Promise<number> {
  const [organization, project, repository, hours = "2"] = process.argv.slice(2);
  if (!organization || !project || !repository) {
    console.error("usage: tsx deployments/audit.ts <organization> <project> <owner/repo> [hours]");
    return 2;
  }
  const since = Date.now() - Number(hours) * 3600_000;
  const records: Parameters<typeof auditProblems>[0] = {};
  for (const stack of ENVIRONMENTS) {
    const base = `stacks/${organization}/${project}/${stack}/deployments`;
    const settings = await get<SettingsRecord>(`${base}/settings`);
    const list = await get<{ deployments?: DeploymentRecord[] }>(`${base}?pageSize=100`);
    // A run whose time cannot be read is audited rather than skipped.
    const recent = (list.deployments ?? []).filter((d) => d.created === undefined || !(createdAt(d.created) < since));
    records[stack] = { settings, deployments: await Promise.all(recent.map((d) => get<DeploymentRecord>(`${base}/${d.id}`))) };
  }
  const problems = auditProblems(records, { repository, branch: "main", isReviewed: isReviewed("main") });
  for (const p of problems) console.log(`::error::${p}`);
  console.log(`${problems.length} problem(s) in the settings and the deployments of the last ${hours}h of ${ENVIRONMENTS.join(", ")}`);
  return problems.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
