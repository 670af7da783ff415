/**
 * The development stack against a Vault dev server the program does not install
 * (`vault.install: false`, as `vault server -dev` on an engineer's machine) and the platform's
 * ESO CRDs (`eso.install: false`): config from the README's own commands, run by the real CLI,
 * then the e2e's servers in place of kind's.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { OutputMap } from "@pulumi/pulumi/automation";
import { externalSecretKeys, esoOutputs, kubernetesChecks, policyMatrixCheck, vaultLoginChecks } from "./checks";
import { esoChecks } from "./checks-eso";
import { applyEsoCrds } from "./crds";
import { withEso } from "./eso";
import { kubeconfig } from "./kube";
import type { Ca } from "./pki";
import { secondsSince } from "./processes";
import type { Context } from "./run";
import { type ApiServer, type VaultServer, startVaultDev } from "./servers";
import { type StackEnv, bash, prepareProject, readmeConfigCommands, runProgram } from "./stack";

/** The environment of the CLI and engine for one stack of the e2e. */
export function stackEnv(ctx: Context, api: ApiServer, stack: string): StackEnv {
  const dir = join(ctx.root, stack);
  mkdirSync(join(dir, "state"), { recursive: true });
  const kc = join(dir, "kubeconfig");
  // The README's context name: its `pulumi config set kubernetes:context kind-veza` then holds as typed.
  writeFileSync(kc, kubeconfig("kind-veza", api.url, api.caPem, api.adminToken), { mode: 0o600 });
  return {
    dir,
    pulumi: ctx.tools.pulumi as string,
    env: {
      ...process.env,
      PATH: ctx.path,
      S: stack,
      PULUMI_HOME: join(dir, "pulumi-home"),
      PULUMI_BACKEND_URL: `file://${join(dir, "state")}`,
      PULUMI_CONFIG_PASSPHRASE: randomBytes(16).toString("hex"),
      PULUMI_SKIP_UPDATE_CHECK: "true",
      PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
      KUBECONFIG: kc,
    },
  };
}

/**
 * A development stack configured for this machine's servers: a Vault dev server of its own, the
 * README's commands, then the overrides. Returns what runs it (the benchmark reuses it).
 */
export async function configureDevelopment(
  ctx: Context,
  api: ApiServer,
  ca: Ca,
  stack = "development",
): Promise<{ s: StackEnv; project: string; vault: VaultServer; readmeCommands: number; configSeconds: number }> {
  const s = stackEnv(ctx, api, stack);
  const vault = await startVaultDev(ctx.tools.vault as string, s.dir, ctx.logDir);
  ctx.summary.servers.push({ name: vault.name, version: vault.version });
  const project = prepareProject(s, stack);
  const log = join(s.dir, "cli.log");
  const t0 = Date.now();
  bash(s, project, 'pulumi login "$PULUMI_BACKEND_URL" && pulumi stack init "$S"', log);
  // The README's commands for a new development stack, as a user pastes them.
  const readme = readmeConfigCommands("Your own stack on a local cluster");
  bash(s, project, readme.join("\n"), log);
  writeFileSync(join(s.dir, "api-ca.crt"), ca.pem);
  // Then this machine's servers instead of kind: an external dev Vault and the platform's ESO CRDs.
  bash(
    s,
    project,
    [
      `pulumi config set --path vault.install false --stack "$S"`,
      `pulumi config set --path vault.address '${vault.address}' --stack "$S"`,
      `pulumi config set --path vault.kubernetesHost '${api.url}' --stack "$S"`,
      `pulumi config set --path vault.kubernetesCaCert --stack "$S" -- "$(cat ../api-ca.crt)"`,
      `pulumi config set --path vault.kubernetesApiAudience '${api.issuer}' --stack "$S"`,
      `printf %s '${vault.rootToken}' | pulumi config set --secret vaultDevRootToken --stack "$S"`,
      `pulumi config set --path eso.install false --stack "$S"`,
      `pulumi config set --path rotation.installReloader false --stack "$S"`,
    ].join("\n"),
    log,
  );
  return { s, project, vault, readmeCommands: readme.length, configSeconds: secondsSince(t0) };
}

export async function runDevelopment(ctx: Context, api: ApiServer, ca: Ca): Promise<void> {
  const stack = "development";
  const { s, project, vault, readmeCommands, configSeconds } = await configureDevelopment(ctx, api, ca, stack);
  ctx.check(`${stack}: the README's config commands run with the real CLI`, true, `${readmeCommands} commands`);
  const ns = `veza-${stack}`;
  const eso = withEso(ctx, api, ca, s, ns);
  const result = await runProgram(
    s,
    project,
    stack,
    async (outputs: OutputMap) => {
      await eso.start();
      await kubernetesChecks(ctx, api.admin, api.node, stack, ns, "eso-vault-store");
      // Every key an ExternalSecret of the program asks for must be in Vault, and nothing else.
      await vaultLoginChecks(ctx, api.admin, vault.root, stack, ns, "eso-vault-store", externalSecretKeys(outputs), api.issuer);
      await policyMatrixCheck(ctx, vault.root, `${stack} (Vault dev server)`);
      if (eso.running()) await esoChecks(ctx, api.admin, vault.root, stack, ns, { ...esoOutputs(outputs), node: api.node });
    },
    configSeconds,
    // ESO installed by the platform, but not yet: the preview must stop, naming the missing CRD.
    async (st, log) => {
      const missing = await st.preview({ onOutput: log, color: "never" }).then(
        () => "",
        (e: Error) => e.message,
      );
      ctx.check(
        `${stack}: without ESO's CRDs (eso.install false) the preview stops, naming the missing CRD`,
        /externalsecrets\.external-secrets\.io|secretstores\.external-secrets\.io/.test(missing),
        missing
          .split("\n")
          .filter((l) => /error|external-secrets\.io/.test(l))
          .slice(0, 3)
          .join(" | ")
          .slice(0, 400) || "the preview passed",
      );
      await applyEsoCrds(api.admin);
      await eso.webhook();
    },
  );
  await eso.stop();
  ctx.summary.stacks.push({ ...result, outputs: undefined } as typeof result);
  for (const p of vault.started) await p.stop();
}
