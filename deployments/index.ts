// Pulumi Deployments for the veza-secrets stacks (docs/delivery.md): `cd deployments && npm ci && pulumi up`.
import * as pulumi from "@pulumi/pulumi";
import { DEFAULT_DRIFT_CRON, DEFAULT_UPDATE_CRON, ENVIRONMENTS, type Environment, type StackDeploymentConfig, buildDeployments } from "./settings";
import { deploymentAlerts } from "./settings";
import { stackClouds } from "./stack-files";
const config = new pulumi.Config();
const stacks = config.requireObject<Partial<Record<Environment, Omit<StackDeploymentConfig, "clouds">>>>("stacks");
const kubeconfigs: Partial<Record<Environment, pulumi.Output<string>>> = {};
const configPassphrases: typeof kubeconfigs = {};
for (const s of ENVIRONMENTS) {
  const [value, passphrase] = [config.getSecret(`kubeconfig-${s}`), config.getSecret(`configPassphrase-${s}`)];
  if (value !== undefined) kubeconfigs[s] = value;
  if (passphrase !== undefined) configPassphrases[s] = passphrase;
}
export = buildDeployments({
  organization: config.require("organization"),
  project: config.get("project") ?? "veza-secrets",
  repository: config.require("repository"),
  branch: config.get("branch") ?? "main",
  // A missing stack stays missing, so the validation names it.
  stacks: Object.fromEntries(ENVIRONMENTS.map((s) => [s, stacks[s] && { ...stacks[s], clouds: stackClouds(s) }])) as Record<Environment, StackDeploymentConfig>,
  reviewStacks: config.getBoolean("reviewStacks") ?? false, // must stay false: settings.ts says why
  deploymentAlerts: deploymentAlerts(config.getSecret("deploymentAlertsUrl"), config.get("deploymentAlertsFormat"), config.getSecret("deploymentAlertsSecret")),
  updateCron: config.get("updateCron") ?? DEFAULT_UPDATE_CRON,
  driftCron: config.get("driftCron") ?? DEFAULT_DRIFT_CRON,
  configPassphrase: config.getSecret("configPassphrase"),
  configPassphrases,
  kubeconfigs,
});
