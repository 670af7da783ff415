/**
 * The program's own identity on a real Vault, after the operator's bootstrap: the deploy job's
 * token gets `pulumi-<env>` and nothing wider, every escalation a stolen deployer token could
 * try is refused (issue 29's list, confirmed against the previous policy), the preview token
 * reads and never writes, and tokens with other claims do not log in.
 */
import type { Issuer } from "./jwt";
import { githubClaims } from "./jwt";
import type { Context } from "./run";
import type { VaultClient } from "./vault-client";

type Claims = { repository: string; environment: string; ref: string; audience: string };

async function jwtLogin(vault: VaultClient, role: string, jwt: string): Promise<{ status: number; token?: string; policies?: string[]; errors?: unknown }> {
  const a = await vault.withToken("").raw("POST", "auth/jwt-github/login", { role, jwt });
  const auth = a.json.auth as { client_token?: string; policies?: string[] } | undefined;
  return { status: a.status, token: auth?.client_token, policies: auth?.policies, errors: a.json.errors };
}

export async function deployerChecks(ctx: Context, root: VaultClient, env: string, issuer: Issuer, claims: Claims): Promise<void> {
  const stack = `${env}:`;
  const deploy = await jwtLogin(root, `pulumi-${env}`, issuer.sign(githubClaims(claims)));
  ctx.check(
    `${stack} the deploy job's OIDC token logs in as pulumi-${env} with the deployer policy only`,
    deploy.status === 200 && JSON.stringify([...(deploy.policies ?? [])].sort()) === JSON.stringify(["default", `veza-${env}-pulumi`]),
    `${deploy.status} ${JSON.stringify(deploy.policies ?? deploy.errors)}`,
  );
  if (!deploy.token) return;
  const deployer = root.withToken(deploy.token);
  // An audit device as the Vault's operator keeps one: the deployer must not switch it off.
  await root.call("PUT", "sys/audit/e2e-file", { type: "file", options: { file_path: "/dev/null" } });
  const everything = 'path "*" {\n  capabilities = ["create", "read", "update", "delete", "list", "sudo"]\n}\n';
  const attempts: [string, string, string, unknown][] = [
    ["rewrite its own policy to everything", "PUT", `sys/policies/acl/veza-${env}-pulumi`, { policy: everything }],
    ["rewrite the preview policy to everything", "PUT", `sys/policies/acl/veza-${env}-pulumi-preview`, { policy: everything }],
    [
      "widen ESO's read policy to every secret",
      "PUT",
      `sys/policies/acl/veza-${env}-read`,
      { policy: 'path "secret/data/*" {\n  capabilities = ["read"]\n}\n' },
    ],
    ["write a new policy", "PUT", "sys/policies/acl/e2e-evil", { policy: everything }],
    [
      "rebind its own jwt role",
      "PUT",
      `auth/jwt-github/role/pulumi-${env}`,
      { role_type: "jwt", user_claim: "sub", bound_audiences: ["vault"], bound_claims: { repository: "evil/repo" }, token_policies: ["root"] },
    ],
    ["trust its own signing key", "PUT", "auth/jwt-github/config", { jwt_validation_pubkeys: [issuer.publicPem], bound_issuer: "evil" }],
    ["enable another auth method", "POST", "sys/auth/e2e-evil", { type: "jwt" }],
    ["switch the audit device off", "DELETE", "sys/audit/e2e-file", undefined],
    [
      "give ESO's role the root policy",
      "PUT",
      `auth/kubernetes/role/eso-veza-${env}`,
      {
        bound_service_account_names: ["eso-vault-store"],
        bound_service_account_namespaces: [`veza-${env}`],
        token_policies: [`veza-${env}-read`, "root"],
        audience: "vault",
      },
    ],
    [
      "give ESO's role the root policy by its old name",
      "PUT",
      `auth/kubernetes/role/eso-veza-${env}`,
      { bound_service_account_names: ["eso-vault-store"], bound_service_account_namespaces: [`veza-${env}`], policies: ["root"], audience: "vault" },
    ],
    [
      "bind ESO's role to every ServiceAccount",
      "PUT",
      `auth/kubernetes/role/eso-veza-${env}`,
      { bound_service_account_names: ["*"], bound_service_account_namespaces: ["*"], token_policies: [`veza-${env}-read`], audience: "vault" },
    ],
    [
      "make Kubernetes auth trust its own keys",
      "PUT",
      "auth/kubernetes/config",
      { kubernetes_host: "https://evil.example:6443", pem_keys: [issuer.publicPem] },
    ],
    [
      "point the database connection elsewhere",
      "PUT",
      "database/config/veza",
      { plugin_name: "postgresql-database-plugin", connection_url: "postgresql://{{username}}:{{password}}@evil.example:5432/veza", username: "vault_admin" },
    ],
    [
      "make a service's logins superusers",
      "PUT",
      "database/roles/veza-backend-api",
      { db_name: "veza", creation_statements: ["CREATE ROLE \"{{name}}\" WITH LOGIN SUPERUSER PASSWORD '{{password}}'"] },
    ],
    ["mint a token with the root policy", "POST", "auth/token/create", { policies: ["root"] }],
    ["read another environment's secret", "GET", "secret/data/veza/production", undefined],
  ];
  const allowed: string[] = [];
  for (const [what, method, path, body] of attempts) {
    const a = await deployer.raw(method, path, body);
    if (a.status !== 403) allowed.push(`${what} (${method} ${path}: ${a.status})`);
  }
  ctx.check(
    `${stack} a deployer token's escalation attempts are refused (${attempts.length - allowed.length} of ${attempts.length} with 403)`,
    allowed.length === 0,
    allowed.join("; ") || "every one 403",
  );
  // The audit device is still on after the attempt.
  const audits = (await root.call("GET", "sys/audit")).data as Record<string, unknown> | undefined;
  ctx.check(`${stack} the audit device survived the deployer`, !!audits && "e2e-file/" in audits, Object.keys(audits ?? {}).join(", "));

  // The preview identity: reads what a preview compares, writes nothing, sees no secret value.
  const preview = await jwtLogin(
    root,
    `pulumi-${env}-preview`,
    issuer.sign(githubClaims({ ...claims, environment: `${env}-preview`, ref: "refs/pull/1/merge" })),
  );
  if (preview.token) {
    const p = root.withToken(preview.token);
    const read = (await p.raw("GET", `sys/policies/acl/veza-${env}-read`)).status;
    const write = (await p.raw("PUT", `sys/policies/acl/veza-${env}-read`, { policy: everything })).status;
    const secret = (await p.raw("GET", `secret/data/veza/${env}`)).status;
    ctx.check(
      `${stack} the preview token reads a managed policy (200), cannot write it (403) nor read the secret (403)`,
      read === 200 && write === 403 && secret === 403,
      `${read} ${write} ${secret}`,
    );
  } else ctx.check(`${stack} the preview job's token logs in as pulumi-${env}-preview`, false, `${preview.status} ${JSON.stringify(preview.errors)}`);

  // Tokens of another environment, branch, repository or audience do not log in as the deployer.
  const others: [string, Partial<Claims>][] = [
    ["another environment", { environment: "production" }],
    ["another branch", { ref: "refs/heads/feature" }],
    ["another repository", { repository: "someone/veza-secrets" }],
    ["another audience", { audience: "sts.amazonaws.com" }],
    ["the preview environment", { environment: `${env}-preview` }],
  ];
  const admitted: string[] = [];
  for (const [what, change] of others) {
    const r = await jwtLogin(root, `pulumi-${env}`, issuer.sign(githubClaims({ ...claims, ...change })));
    if (r.status === 200) admitted.push(what);
  }
  ctx.check(
    `${stack} tokens of another environment, branch, repository, audience or the preview job do not log in as pulumi-${env}`,
    admitted.length === 0,
    admitted.join(", ") || `${others.length} of ${others.length} refused`,
  );
}
