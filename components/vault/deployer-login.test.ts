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

const componentOf = (run: ProgramRun) => run.resources.find((x) => x.type === "veza:vault:VaultDeployerLogin");

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
    assert.deepEqual(unwrapSecrets(findResource(r, BACKEND, "login-pulumi").inputs), {
      type: "jwt",
      path: "jwt-pulumi",
      description: "Pulumi Deployments OIDC: the program's scheduled and manual deploys.",
      oidcDiscoveryUrl: "https://api.pulumi.com/oidc",
      boundIssuer: "https://api.pulumi.com/oidc",
    });
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

  it("registers every resource under the component, through the Vault provider it is given", () => {
    const component = componentOf(r);
    assert.ok(component, "the component is registered");
    const provider = r.resources.find((x) => x.type === "pulumi:providers:vault");
    assert.ok(provider, "the Vault provider is registered");
    const children = r.resources.filter((x) => x.type.startsWith("vault:"));
    assert.equal(children.length, 6);
    for (const child of children) {
      assert.equal(child.parent, component.urn, child.name);
      assert.ok(child.provider.startsWith(`${provider.urn}::`), `${child.name}: ${child.provider}`);
    }
  });

  it("configures the Pulumi Deployments role exactly, like GitHub's", () => {
    assert.deepEqual(unwrapSecrets(findResource(r, ROLE, "login-pulumi-deploy").inputs), {
      backend: "jwt-pulumi",
      roleName: "pulumi-production",
      roleType: "jwt",
      userClaim: "sub",
      boundAudiences: ["veza"],
      boundClaimsType: "string",
      boundClaims: { sub: pulumiDeploySubjects(ARGS.pulumi!).join(",") },
      tokenPolicies: ["veza-production-pulumi"],
      ...TOKEN,
    });
  });

  it("outputs each mount's path and the preview policy's name", () => {
    const component = componentOf(r);
    assert.deepEqual(unwrapSecrets(r.componentOutputs.get(component!.urn)), {
      authPaths: { github: "jwt-github", pulumi: "jwt-pulumi" },
      previewPolicyName: "veza-production-pulumi-preview",
    });
  });

  it("mounts at the paths given, and the roles and outputs follow them", async () => {
    const custom = await run({
      ...ARGS,
      github: { ...ARGS.github!, path: "oidc-gh" },
      pulumi: { ...ARGS.pulumi!, path: "oidc-pd" },
      tokenTtlSeconds: 900,
    });
    const inputs = (type: string, name: string) => unwrapSecrets(findResource(custom, type, name).inputs) as Record<string, unknown>;
    assert.deepEqual(
      [inputs(BACKEND, "login-github").path, inputs(ROLE, "login-github-deploy").backend, inputs(ROLE, "login-github-preview").backend],
      ["oidc-gh", "oidc-gh", "oidc-gh"],
    );
    assert.deepEqual([inputs(BACKEND, "login-pulumi").path, inputs(ROLE, "login-pulumi-deploy").backend], ["oidc-pd", "oidc-pd"]);
    for (const name of ["login-github-deploy", "login-github-preview", "login-pulumi-deploy"]) {
      const role = inputs(ROLE, name);
      assert.deepEqual([role.tokenTtl, role.tokenMaxTtl, role.tokenExplicitMaxTtl], [900, 900, 900], name);
    }
    const component = componentOf(custom);
    assert.deepEqual((unwrapSecrets(custom.componentOutputs.get(component!.urn)) as Record<string, unknown>).authPaths, {
      github: "oidc-gh",
      pulumi: "oidc-pd",
    });
  });

  it("with only one CI system, makes only its mount", async () => {
    const onlyPulumi = await run({ ...ARGS, github: undefined });
    assert.deepEqual(
      onlyPulumi.resources.filter((x) => x.type === BACKEND || x.type === ROLE).map((x) => x.name),
      ["login-pulumi", "login-pulumi-deploy"],
    );
  });

  it("accepts token TTLs from 60 s to 3600 s in whole seconds, and nothing outside", () => {
    for (const ttl of [60, 61, 3599, 3600]) assert.deepEqual(deployerLoginErrors({ ...ARGS, tokenTtlSeconds: ttl }), [], String(ttl));
    for (const ttl of [0, 59, 3601, 600.5]) {
      assert.deepEqual(
        deployerLoginErrors({ ...ARGS, tokenTtlSeconds: ttl }),
        [`[tokenTtlSeconds] must be a whole number from 60 to 3600 (one hour at most); got ${ttl}.`],
        String(ttl),
      );
    }
  });

  it("accepts a repository only as the whole owner/name", () => {
    for (const repository of ["veza/veza-secrets", "Veza-Platform/secrets.v2", "a_b/c"]) {
      assert.deepEqual(deployerLoginErrors({ ...ARGS, github: { ...ARGS.github!, repository } }), [], repository);
    }
    for (const repository of ["veza", "https://github.com/veza/veza-secrets", "veza/veza-secrets/tree", "veza/veza-secrets ", "veza owner/secrets"]) {
      assert.deepEqual(
        deployerLoginErrors({ ...ARGS, github: { ...ARGS.github!, repository } }),
        [`[github.repository] must be "owner/name"; got ${JSON.stringify(repository)}.`],
        repository,
      );
    }
  });

  it("rejects a preview role that is the deploy role, and reports every problem at once from the component", async () => {
    assert.deepEqual(deployerLoginErrors({ ...ARGS, preview: { ...ARGS.preview, role: ARGS.deployRole } }), ["[preview.role] must differ from [deployRole]."]);
    await assert.rejects(run({ ...ARGS, tokenTtlSeconds: 30, preview: { ...ARGS.preview, role: ARGS.deployRole } }), {
      message: "[tokenTtlSeconds] must be a whole number from 60 to 3600 (one hour at most); got 30. [preview.role] must differ from [deployRole].",
    });
  });
});
