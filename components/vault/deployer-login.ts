/**
 * The program's own Vault identity: jwt auth methods that trust a CI system's OIDC tokens
 * (GitHub Actions, Pulumi Deployments), and roles with bound claims and short TTLs, instead of
 * a long-lived token kept in stack config.
 *
 * - `deployRole`: the identity `pulumi up` logs in as. Bound to the repository, the GitHub
 *   environment and the branch that deploys (GitHub), or to the stack and the `update` and
 *   `refresh` operations (Pulumi Deployments). Its policy (`deployerPolicy`) is written by the
 *   bootstrap and never by the program: the identity cannot change its own rights.
 * - `previewRole`: what a pull request's `pulumi preview` logs in as (GitHub only: Pulumi
 *   Deployments does not preview production, and a PR preview must never hold write rights).
 *   Read-only policy, managed here.
 *
 * Tokens are `service` tokens with `tokenTtlSeconds` (at most one hour) and no renewal past
 * it; the JWT that buys one is minted per run by the CI system and never stored.
 */
import * as pulumi from "@pulumi/pulumi";
import { AuthBackend, AuthBackendRole } from "@pulumi/vault/jwt";
import { Policy } from "@pulumi/vault/policy";

export const GITHUB_OIDC_ISSUER = "https://token.actions.githubusercontent.com";
export const PULUMI_OIDC_ISSUER = "https://api.pulumi.com/oidc";

/** GitHub Actions OIDC tokens for this repository. */
export interface GithubLoginArgs {
  /** Mount path of the jwt auth method. Default `"jwt-github"`. */
  path?: string;
  /** `owner/name`. */
  repository: string;
  /** Audience the workflow requests (`core.getIDToken(audience)`). */
  audience: string;
  /** GitHub environment of the deploy job, e.g. `"production"`. */
  environment: string;
  /** GitHub environment of the preview job, e.g. `"production-preview"`. */
  previewEnvironment: string;
  /** Ref that deploys. Default `"refs/heads/main"`. */
  ref?: string;
}

/** Pulumi Deployments OIDC tokens for this stack. */
export interface PulumiLoginArgs {
  /** Mount path of the jwt auth method. Default `"jwt-pulumi"`. */
  path?: string;
  /** Pulumi organization: the tokens' audience and the `sub`'s `org:`. */
  organization: string;
  project: string;
  stack: string;
}

export interface VaultDeployerLoginArgs {
  /** A `vault.Provider`. */
  provider: pulumi.ProviderResource;
  github?: GithubLoginArgs;
  pulumi?: PulumiLoginArgs;
  /** Role `pulumi up` logs in as, on each configured method, e.g. `"pulumi-production"`. */
  deployRole: string;
  /** The deployer's policy name (written by the bootstrap, not here). */
  deployerPolicy: string;
  /** Role and read-only policy of previews (GitHub only). */
  preview: { role: string; policyName: string; policy: string };
  /** Token TTL in seconds, 60 to 3600. Default `3600`. */
  tokenTtlSeconds?: number;
}

/** The `sub` values a Pulumi Deployments token of this stack may carry to log in. */
export function pulumiDeploySubjects(p: PulumiLoginArgs): string[] {
  return ["update", "refresh"].map((op) => `pulumi:deploy:org:${p.organization}:project:${p.project}:stack:${p.stack}:operation:${op}:scope:write`);
}

/** Problems with the args, each naming the argument. Empty: valid. */
export function deployerLoginErrors(args: Omit<VaultDeployerLoginArgs, "provider">): string[] {
  const errors: string[] = [];
  if (!args.github && !args.pulumi) errors.push("[github] or [pulumi] is required: the CI system whose OIDC tokens log in.");
  if (args.github && !/^[\w.-]+\/[\w.-]+$/.test(args.github.repository))
    errors.push(`[github.repository] must be "owner/name"; got ${JSON.stringify(args.github.repository)}.`);
  if (args.github && args.github.environment === args.github.previewEnvironment)
    errors.push("[github.previewEnvironment] must differ from [github.environment]: a preview must never log in as the deployer.");
  const ttl = args.tokenTtlSeconds ?? 3600;
  if (!Number.isInteger(ttl) || ttl < 60 || ttl > 3600) errors.push(`[tokenTtlSeconds] must be a whole number from 60 to 3600 (one hour at most); got ${ttl}.`);
  if (args.deployRole === args.preview.role) errors.push("[preview.role] must differ from [deployRole].");
  return errors;
}

export class VaultDeployerLogin extends pulumi.ComponentResource {
  /** Mount paths of the jwt auth methods, by issuer. */
  public readonly authPaths: Record<string, pulumi.Output<string>>;
  /** The preview policy's name. */
  public readonly previewPolicyName: pulumi.Output<string>;

  constructor(name: string, args: VaultDeployerLoginArgs, opts?: pulumi.ComponentResourceOptions) {
    super("veza:vault:VaultDeployerLogin", name, {}, opts);
    const errors = deployerLoginErrors(args);
    if (errors.length > 0) throw new pulumi.ResourceError(errors.join(" "), this);
    const child = { parent: this, provider: args.provider };
    const ttl = args.tokenTtlSeconds ?? 3600;
    const token = { tokenTtl: ttl, tokenMaxTtl: ttl, tokenExplicitMaxTtl: ttl, tokenType: "service", tokenNoDefaultPolicy: false };

    const previewPolicy = new Policy(`${name}-preview-policy`, { name: args.preview.policyName, policy: args.preview.policy }, child);
    this.previewPolicyName = previewPolicy.name;
    this.authPaths = {};

    // A mount's path as an output of the mount, so its roles wait for it (the SDK types the
    // mount's own `path` output optional; it is the path given).
    const pathOf = (b: AuthBackend, path: string) => b.path.apply(() => path);
    if (args.github) {
      const g = args.github;
      const githubPath = g.path ?? "jwt-github";
      const backend = new AuthBackend(
        `${name}-github`,
        {
          type: "jwt",
          path: githubPath,
          description: "GitHub Actions OIDC: the program's deploys and previews.",
          oidcDiscoveryUrl: GITHUB_OIDC_ISSUER,
          boundIssuer: GITHUB_OIDC_ISSUER,
        },
        child,
      );
      const role = (suffix: string, roleName: string, claims: Record<string, string>, policy: pulumi.Input<string>) =>
        new AuthBackendRole(
          `${name}-github-${suffix}`,
          {
            backend: pathOf(backend, githubPath),
            roleName,
            roleType: "jwt",
            userClaim: "sub",
            boundAudiences: [g.audience],
            boundClaimsType: "string",
            boundClaims: claims,
            tokenPolicies: [policy],
            ...token,
          },
          child,
        );
      role("deploy", args.deployRole, { repository: g.repository, environment: g.environment, ref: g.ref ?? "refs/heads/main" }, args.deployerPolicy);
      // No ref: a preview runs on the pull request's merge ref.
      role("preview", args.preview.role, { repository: g.repository, environment: g.previewEnvironment }, previewPolicy.name);
      this.authPaths.github = pathOf(backend, githubPath);
    }
    if (args.pulumi) {
      const p = args.pulumi;
      const pulumiPath = p.path ?? "jwt-pulumi";
      const backend = new AuthBackend(
        `${name}-pulumi`,
        {
          type: "jwt",
          path: pulumiPath,
          description: "Pulumi Deployments OIDC: the program's scheduled and manual deploys.",
          oidcDiscoveryUrl: PULUMI_OIDC_ISSUER,
          boundIssuer: PULUMI_OIDC_ISSUER,
        },
        child,
      );
      new AuthBackendRole(
        `${name}-pulumi-deploy`,
        {
          backend: pathOf(backend, pulumiPath),
          roleName: args.deployRole,
          roleType: "jwt",
          userClaim: "sub",
          boundAudiences: [p.organization],
          // A list of exact subjects: update and refresh of this stack, never preview.
          boundClaimsType: "string",
          boundClaims: { sub: pulumiDeploySubjects(p).join(",") },
          tokenPolicies: [args.deployerPolicy],
          ...token,
        },
        child,
      );
      this.authPaths.pulumi = pathOf(backend, pulumiPath);
    }
    this.registerOutputs({ authPaths: this.authPaths, previewPolicyName: this.previewPolicyName });
  }
}
