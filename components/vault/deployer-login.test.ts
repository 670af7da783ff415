import * as assert from "node:assert/strict";
import { Provider } from "@pulumi/vault/provider";
import { findResource, runProgram, unwrapSecrets, type ProgramRun } from "../../harness";
import { VaultDeployerLogin, type VaultDeployerLoginArgs, deployerLoginErrors, pulumiDeploySubjects } from "./deployer-login";

const ROLE = "vault:jwt/authBackendRole:AuthBackendRole";
const BACKEND = "vault:jwt/authBackend:AuthBackend";
const ARGS: Omit<VaultDeployerLoginArgs, "provider"> = {
  github: { repository: "veza/veza-secrets", audience: "vault", environment: "production", previewEnvironment: "production-preview" },
  pulumi: { organization: "veza", project: "veza-secrets", stack: "production" },
  deployRole: "pulumi-production",
  deployerPolicy: "veza-production-pulumi",
  preview: {
    role: "pulumi-production-preview",
    policyName: "veza-production-pulumi-preview",
    policy: 'path "sys/mounts/secret" {\n  capabilities = ["read"]\n}\n',
  },
};

function run(args: Omit<VaultDeployerLoginArgs, "provider">): Promise<ProgramRun> {
  return runProgram({
    stack: "test",
    config: { "veza-secrets:environment": "production", "veza-secrets:providers": ["vault"] },
    program: () => {
      const provider = new Provider("vault", { address: "https://vault:8200" });
      new VaultDeployerLogin("login", { ...args, provider });
    },
  });
}

const TOKEN = { tokenTtl: 3600, tokenMaxTtl: 3600, tokenExplicitMaxTtl: 3600, tokenType: "service", tokenNoDefaultPolicy: false };

describe("components/vault/deployer-login", () => {
  let r: ProgramRun;
  beforeEach(async () => {
    r = await run(ARGS);
  });

  it("trusts GitHub Actions' and Pulumi Cloud's OIDC issuers, one jwt mount each", () => {
    assert.deepEqual(unwrapSecrets(findResource(r, BACKEND, "login-github").inputs), {
      type: "jwt",
      path: "jwt-github",
      description: "GitHub Actions OIDC: the program's deploys and previews.",
      oidcDiscoveryUrl: "https://token.actions.githubusercontent.com",
      boundIssuer: "https://token.actions.githubusercontent.com",
    });
    const pulumi = unwrapSecrets(findResource(r, BACKEND, "login-pulumi").inputs) as Record<string, unknown>;
    assert.deepEqual([pulumi.path, pulumi.oidcDiscoveryUrl, pulumi.boundIssuer], ["jwt-pulumi", "https://api.pulumi.com/oidc", "https://api.pulumi.com/oidc"]);
  });

  it("binds the deploy role to the repository, the GitHub environment and main, with 1h tokens of the deployer policy", () => {
    assert.deepEqual(unwrapSecrets(findResource(r, ROLE, "login-github-deploy").inputs), {
      backend: "jwt-github",
      roleName: "pulumi-production",
      roleType: "jwt",
      userClaim: "sub",
      boundAudiences: ["vault"],
      boundClaimsType: "string",
      boundClaims: { repository: "veza/veza-secrets", environment: "production", ref: "refs/heads/main" },
      tokenPolicies: ["veza-production-pulumi"],
      ...TOKEN,
    });
  });

  it("gives previews their own role, bound to the preview environment, with the read-only policy it manages", () => {
    const role = unwrapSecrets(findResource(r, ROLE, "login-github-preview").inputs) as Record<string, unknown>;
    assert.deepEqual(
      [role.roleName, role.boundClaims, role.tokenPolicies],
      ["pulumi-production-preview", { repository: "veza/veza-secrets", environment: "production-preview" }, ["veza-production-pulumi-preview"]],
    );
    const policy = unwrapSecrets(findResource(r, "vault:index/policy:Policy", "login-preview-policy").inputs) as Record<string, unknown>;
    assert.deepEqual(policy, { name: "veza-production-pulumi-preview", policy: ARGS.preview.policy });
  });

  it("binds Pulumi Deployments to this stack's update and refresh only (never preview), audience the organization", () => {
    const role = unwrapSecrets(findResource(r, ROLE, "login-pulumi-deploy").inputs) as Record<string, unknown>;
    assert.deepEqual(pulumiDeploySubjects({ organization: "veza", project: "veza-secrets", stack: "production" }), [
      "pulumi:deploy:org:veza:project:veza-secrets:stack:production:operation:update:scope:write",
      "pulumi:deploy:org:veza:project:veza-secrets:stack:production:operation:refresh:scope:write",
    ]);
    assert.deepEqual(role.boundClaims, { sub: pulumiDeploySubjects({ organization: "veza", project: "veza-secrets", stack: "production" }).join(",") });
    assert.deepEqual([role.boundAudiences, role.tokenPolicies, role.tokenTtl], [["veza"], ["veza-production-pulumi"], 3600]);
  });

  it("writes no policy of the deployer's own and registers exactly these resources", () => {
    const mine = r.resources
      .filter((x) => x.type.startsWith("vault:"))
      .map((x) => `${x.type} ${x.name}`)
      .sort();
    assert.deepEqual(mine, [
      "vault:index/policy:Policy login-preview-policy",
      `${BACKEND} login-github`,
      `${BACKEND} login-pulumi`,
      `${ROLE} login-github-deploy`,
      `${ROLE} login-github-preview`,
      `${ROLE} login-pulumi-deploy`,
    ]);
  });

  it("rejects long TTLs, a preview that is the deployer, and no issuer, with exact messages", () => {
    assert.deepEqual(deployerLoginErrors({ ...ARGS, tokenTtlSeconds: 7200 }), [
      "[tokenTtlSeconds] must be a whole number from 60 to 3600 (one hour at most); got 7200.",
    ]);
    assert.deepEqual(deployerLoginErrors({ ...ARGS, github: { ...ARGS.github!, previewEnvironment: "production" } }), [
      "[github.previewEnvironment] must differ from [github.environment]: a preview must never log in as the deployer.",
    ]);
    assert.deepEqual(deployerLoginErrors({ ...ARGS, github: undefined, pulumi: undefined }), [
      "[github] or [pulumi] is required: the CI system whose OIDC tokens log in.",
    ]);
  });
});
