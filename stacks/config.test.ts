import * as assert from "node:assert/strict";
import * as path from "node:path";
import { DEV_ROOT_TOKEN_RULE } from "../components/vault/cluster-args";
import { loadStackConfig } from "./config";
import { ConfigError } from "./config-model";
import { formatPath } from "./fixes";
import { z } from "zod";
import { ENVIRONMENTS, EXAMPLES, configSchema, durationSeconds, secondsAsDuration } from "./schema";
import { setCommands } from "./fixes";
import { CATALOG, generatedSecrets } from "../components/catalog";
import { STACKS, engineConfig, exampleFragments, fakeSecrets, mergeConfig, stackConfig, tryRunProgram, type StackConfigValues } from "../harness";
import { problemsAfterFix, substitute } from "../test/fix-check";
import { applyLine, type StackFileConfig } from "../test/pulumi-cli";
import { PROJECT_FILE, preRunErrors } from "../test/pulumi-project";
import { Computed } from "./fixes";

const P = "veza-secrets";

/** Engine-form config for a stack file plus overrides (undefined removes a key). */
function source(stack: string, overrides: Record<string, unknown> = {}, secrets = fakeSecrets()) {
  const values = engineConfig({ ...stackConfig(stack), ...overrides });
  return { values: { ...values, ...secrets }, secretKeys: new Set(Object.keys(secrets)) };
}

function problemsOf(fn: () => unknown): { key: string; message: string; fix: string }[] {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    return e.problems;
  }
  assert.fail("expected the config to be rejected");
}

describe("stack config", () => {
  // One row per kind of mistake: the exact message and the exact command that fixes it.
  // Each fix is then applied with the CLI's own rules (test/pulumi-cli.ts) and the config
  // validated again, by the CLI's pre-run check and by the program.
  const table: {
    name: string;
    stack: string;
    overrides: Record<string, unknown>;
    secrets?: Record<string, string>;
    key: string;
    message: string;
    fix: string;
  }[] = [
    {
      name: "missing required key",
      stack: "production",
      overrides: { [`${P}:providers`]: undefined },
      key: "providers",
      message: "is required",
      // Not `set providers '["vault"]'`: that stores a string, which the CLI refuses for a key Pulumi.yaml declares `type: array`.
      fix: "pulumi config set --path 'providers[0]' vault --stack production",
    },
    {
      name: "wrong type",
      stack: "staging",
      overrides: {
        [`${P}:vault`]: { mode: "ha", replicas: "three", bootstrapped: true, address: "https://v:8200", login: { githubRepository: "veza/veza-secrets" } },
      },
      key: "vault.replicas",
      message: 'must be a number; got "three"',
      fix: "pulumi config set --path 'vault.replicas' 3 --stack staging",
    },
    {
      name: "out-of-range number",
      stack: "production",
      overrides: { [`${P}:eso`]: { replicas: 9 } },
      key: "eso.replicas",
      message: "must be at most 5; got number 9",
      fix: "pulumi config set --path 'eso.replicas' 2 --stack production",
    },
    {
      name: "unknown enum value",
      stack: "development",
      overrides: { [`${P}:providers`]: ["vault", "hashicorp"] },
      key: "providers[1]",
      message: 'must be one of "vault", "aws", "gcp", "azure", "kubernetes"; got "hashicorp"',
      fix: "pulumi config rm providers --stack development && pulumi config set --path 'providers[0]' vault --stack development",
    },
    {
      name: "a typo of a backend already listed (the fix must not make a duplicate)",
      stack: "development",
      overrides: { [`${P}:providers`]: ["vault", "valut"] },
      key: "providers[1]",
      message: 'must be one of "vault", "aws", "gcp", "azure", "kubernetes"; got "valut"',
      fix: "pulumi config rm providers --stack development && pulumi config set --path 'providers[0]' vault --stack development",
    },
    {
      name: "a typo of a backend not yet listed",
      stack: "production",
      overrides: { [`${P}:providers`]: ["vault", "awss"] },
      key: "providers[1]",
      message: 'must be one of "vault", "aws", "gcp", "azure", "kubernetes"; got "awss"',
      fix: "pulumi config rm providers --stack production && pulumi config set --path 'providers[0]' vault --stack production && pulumi config set --path 'providers[1]' aws --stack production",
    },
    {
      name: "a backend listed twice",
      stack: "production",
      overrides: { [`${P}:providers`]: ["vault", "aws", "vault"] },
      key: "providers[2]",
      message: 'lists "vault" twice',
      fix: "pulumi config rm providers --stack production && pulumi config set --path 'providers[0]' vault --stack production && pulumi config set --path 'providers[1]' aws --stack production",
    },
    {
      name: "malformed duration",
      stack: "staging",
      overrides: { [`${P}:database`]: { host: "db", defaultTtl: "soon" } },
      key: "database.defaultTtl",
      message: 'must be a duration such as "24h", "30m" or "1h30m"; got "soon"',
      fix: "pulumi config set --path 'database.defaultTtl' 4h --stack staging",
    },
    {
      name: "a typo in an enum value",
      stack: "staging",
      overrides: { [`${P}:database`]: { host: "db", sslMode: "requre" } },
      key: "database.sslMode",
      message: 'must be one of "disable", "require", "verify-ca", "verify-full"; got "requre"; did you mean "require"?',
      fix: "pulumi config set --path 'database.sslMode' require --stack staging",
    },
    {
      name: "a cron schedule with spaces (quoted for the shell)",
      stack: "development",
      overrides: { [`${P}:rotation`]: { schedule: "daily" } },
      key: "rotation.schedule",
      message: 'must be a five-field cron schedule such as "0 3 * * *"; got "daily"',
      fix: "pulumi config set --path 'rotation.schedule' '0 3 * * *' --stack development",
    },
    {
      name: "too-short generated key",
      stack: "development",
      overrides: { [`${P}:generatedKeys`]: { "jwt-secret": { length: 16 } } },
      key: 'generatedKeys["jwt-secret"].length',
      message: "must be at least 32 characters; got 16",
      fix: `pulumi config set --path 'generatedKeys["jwt-secret"].length' 64 --stack development`,
    },
    {
      name: "a misspelled generated key",
      stack: "development",
      overrides: { [`${P}:generatedKeys`]: { "jwt-secrte": { length: 64 } } },
      key: 'generatedKeys["jwt-secrte"]',
      message: `is not a generated key; generated keys are ${generatedSecrets(CATALOG)
        .map((g) => g.key)
        .join(", ")}; did you mean "jwt-secret"?`,
      fix: `pulumi config set --path 'generatedKeys["jwt-secret"].length' 64 --stack development && pulumi config rm --path 'generatedKeys["jwt-secrte"]' --stack development`,
    },
    {
      name: "a rotation period longer than the catalog's",
      stack: "production",
      overrides: { [`${P}:generatedKeys`]: { "jwt-secret": { rotationDays: 365 } } },
      key: 'generatedKeys["jwt-secret"].rotationDays',
      message: "must be at most 90 (the catalog's period: a stack may rotate sooner, never later); got 365",
      fix: `pulumi config set --path 'generatedKeys["jwt-secret"].rotationDays' 90 --stack production`,
    },
    {
      name: "plain Kubernetes Secrets outside development",
      stack: "staging",
      overrides: { [`${P}:providers`]: ["kubernetes"] },
      key: "providers",
      message: '"kubernetes" (plain Secrets written by the program, the spec\'s option 1) is for development only; got it in staging',
      fix: "pulumi config rm providers --stack staging && pulumi config set --path 'providers[0]' vault --stack staging",
    },
    {
      name: "environment that does not match the stack",
      stack: "production",
      overrides: { [`${P}:environment`]: "staging" },
      key: "environment",
      message: 'is "staging" but the stack is "production"; a stack\'s name must be its environment or start with "<environment>-"',
      fix: "pulumi config set environment production --stack production",
    },
    {
      name: "an environment that is not one (the fix names the stack's, not a placeholder)",
      stack: "production",
      overrides: { [`${P}:environment`]: "prod" },
      key: "environment",
      message: 'must be one of "development", "staging", "production"; got "prod"',
      fix: "pulumi config set environment production --stack production",
    },
    {
      name: "provider listed without its settings (one command per leaf, the account id kept a string)",
      stack: "production",
      overrides: { [`${P}:aws`]: undefined },
      key: "aws",
      message: '"aws" is listed in providers but its settings are missing',
      fix: "pulumi config set --path 'aws.region' eu-west-1 --stack production && pulumi config set --type string --path 'aws.accountId' 123456789012 --stack production && pulumi config set --path 'aws.oidcIssuer' oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE --stack production",
    },
    {
      name: "an account id stored as a number",
      stack: "production",
      overrides: { [`${P}:aws`]: { region: "eu-west-1", accountId: 210987654321, oidcIssuer: "oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE" } },
      key: "aws.accountId",
      message: "must be a string; got number 210987654321",
      fix: "pulumi config set --type string --path 'aws.accountId' 210987654321 --stack production",
    },
    {
      name: "an OIDC issuer with a trailing slash (caught before any resource, not inside AwsSecrets)",
      stack: "production",
      overrides: { [`${P}:aws`]: { region: "eu-west-1", accountId: "123456789012", oidcIssuer: "oidc.eks.eu-west-1.amazonaws.com/id/5C1B2A/" } },
      key: "aws.oidcIssuer",
      message:
        'must be the issuer host and path without "https://" or a trailing "/", such as "oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE"; got "oidc.eks.eu-west-1.amazonaws.com/id/5C1B2A/"',
      // The nearest valid value is the one given, repaired: not the example's issuer.
      fix: "pulumi config set --path 'aws.oidcIssuer' oidc.eks.eu-west-1.amazonaws.com/id/5C1B2A --stack production",
    },
    {
      name: "an OIDC issuer pasted as a URL",
      stack: "production",
      overrides: { [`${P}:aws`]: { region: "eu-west-1", accountId: "123456789012", oidcIssuer: "https://oidc.eks.eu-west-1.amazonaws.com/id/5C1B2A" } },
      key: "aws.oidcIssuer",
      message:
        'must be the issuer host and path without "https://" or a trailing "/", such as "oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE"; got "https://oidc.eks.eu-west-1.amazonaws.com/id/5C1B2A"',
      fix: "pulumi config set --path 'aws.oidcIssuer' oidc.eks.eu-west-1.amazonaws.com/id/5C1B2A --stack production",
    },
    {
      name: "a replication location GcpSecrets would refuse (the component's rule, checked up front)",
      stack: "production",
      overrides: {
        [`${P}:providers`]: ["vault", "aws", "gcp"],
        [`${P}:gcp`]: { project: "veza-prod", clusterName: "veza", clusterLocation: "europe-west1", replicationLocations: ["europe"] },
      },
      key: "gcp.replicationLocations[0]",
      message: 'must be a Google Cloud region such as "europe-west1"; got "europe"',
      fix: "pulumi config set --path 'gcp.replicationLocations[0]' europe-west1 --stack production",
    },
    {
      name: "misspelled key (the fix moves the value to the nearest key)",
      stack: "staging",
      overrides: {
        [`${P}:vault`]: { mode: "ha", bootstrapped: true, address: "https://v:8200", replcias: 3, login: { githubRepository: "veza/veza-secrets" } },
      },
      key: "vault.replcias",
      message: 'unknown key "replcias" (check the spelling against Pulumi.yaml); did you mean "replicas"?',
      fix: "pulumi config set --path 'vault.replicas' 3 --stack staging && pulumi config rm --path 'vault.replcias' --stack staging",
    },
    {
      name: "kubernetes combined with another backend",
      stack: "development",
      overrides: { [`${P}:providers`]: ["kubernetes", "vault"] },
      key: "providers",
      message: '"kubernetes" (plain Secrets written by the program) cannot be combined with vault: both would own the same Secrets',
      fix: "pulumi config rm providers --stack development && pulumi config set --path 'providers[0]' vault --stack development",
    },
    {
      name: "dev-mode Vault outside development",
      stack: "staging",
      overrides: { [`${P}:vault`]: { mode: "dev" } },
      key: "vault.mode",
      message: '"dev" (in-memory, unsealed, root token) is only allowed in development; got it in staging',
      fix: "pulumi config set --path 'vault.mode' ha --stack staging",
    },
    {
      name: "production without auto-unseal (one command per leaf, not a JSON string)",
      stack: "production",
      overrides: { [`${P}:vault`]: { mode: "ha", bootstrapped: true, address: "https://v:8200", login: { githubRepository: "veza/veza-secrets" } } },
      key: "vault.seal",
      message: "production needs cloud-KMS auto-unseal (awskms, gcpckms or azurekeyvault)",
      fix: "pulumi config set --path 'vault.seal.type' awskms --stack production && pulumi config set --path 'vault.seal.region' eu-west-1 --stack production && pulumi config set --path 'vault.seal.kmsKeyId' alias/veza-vault-unseal --stack production && pulumi config set --path 'vault.seal.roleArn' arn:aws:iam::123456789012:role/veza-vault-unseal --stack production",
    },
    {
      name: "even Raft replicas",
      stack: "staging",
      overrides: {
        [`${P}:vault`]: { mode: "ha", replicas: 4, bootstrapped: true, address: "https://v:8200", login: { githubRepository: "veza/veza-secrets" } },
      },
      key: "vault.replicas",
      message: "Raft needs an odd number of at least 3 voters; got 4",
      fix: "pulumi config set --path 'vault.replicas' 3 --stack staging",
    },
    {
      name: "jwt login without the repository whose jobs log in",
      stack: "staging",
      overrides: { [`${P}:vault`]: { mode: "ha", bootstrapped: true, address: "https://v:8200" } },
      key: "vault.login.githubRepository",
      message:
        "is required with vault.login.method jwt and issuer github: the repository whose deploy job (GitHub environment of the same name) logs in to Vault",
      fix: "pulumi config set --path 'vault.login.githubRepository' veza/veza-secrets --stack staging",
    },
    {
      name: "jwt login through Pulumi Deployments without the organization",
      stack: "production",
      overrides: { [`${P}:vault`]: { ...(stackConfig("production")[`${P}:vault`] as object), login: { issuer: "pulumi" } } },
      key: "vault.login.pulumiOrganization",
      message: "is required with vault.login.method jwt and issuer pulumi: the organization whose Deployments of this stack log in to Vault",
      fix: "pulumi config set --path 'vault.login.pulumiOrganization' veza --stack production",
    },
    {
      name: "a stored long-lived token next to jwt login",
      stack: "production",
      overrides: {},
      secrets: { ...fakeSecrets(), [`${P}:vaultToken`]: "hvs.FAKE" },
      key: "vaultToken",
      message:
        "is set but vault.login.method is jwt: a stored long-lived token is exactly what jwt login replaces; revoke it in Vault (vault token revoke) and remove it",
      fix: "pulumi config rm vaultToken --stack production",
    },
    {
      name: "token login once bootstrapped, without the token",
      stack: "staging",
      overrides: { [`${P}:vault`]: { ...(stackConfig("staging")[`${P}:vault`] as object), login: { method: "token" } } },
      key: "vaultToken",
      message:
        "is required once vault.bootstrapped is true with vault.login.method token: the token `pulumi up` configures Vault with (or log in with jwt: pulumi config set --path 'vault.login.method' jwt --stack staging)",
      fix: "pulumi config set --secret vaultToken --stack staging",
    },
    {
      name: "jwt login for dev mode's Vault",
      stack: "development",
      overrides: { [`${P}:vault`]: { login: { method: "jwt" } } },
      key: "vault.login.method",
      message: 'must be "token" in dev mode (the dev server\'s root token); jwt is for ha',
      fix: "pulumi config rm --path 'vault.login.method' --stack development",
    },
    {
      name: "a database CA with an sslmode that verifies nothing",
      stack: "staging",
      overrides: { [`${P}:database`]: { host: "db", sslMode: "require", sslRootCert: "/etc/veza/postgres/ca.crt" } },
      key: "database.sslMode",
      message: 'is "require", which verifies no certificate, but database.sslRootCert is set: use verify-full (or verify-ca)',
      fix: "pulumi config set --path 'database.sslMode' verify-full --stack staging",
    },
    {
      name: "Vault reached over the network with its ingress closed and no deployer range",
      stack: "production",
      overrides: { [`${P}:network`]: undefined },
      key: "network.deployerCidrs",
      message:
        "is required: Vault's NetworkPolicy admits only ESO, its peers and the deployer, and https://vault.veza.internal:8200 is reached over the network (name the source range where pulumi up runs, or network.deployerNamespaces for an ingress controller or in-cluster agent; kubectl port-forward to 127.0.0.1 needs neither)",
      fix: "pulumi config set --path 'network.deployerCidrs[0]' 10.20.0.0/24 --stack production",
    },
    {
      name: "a database refresh above half the lease TTL",
      stack: "staging",
      overrides: { [`${P}:database`]: { host: "db", defaultTtl: "1h", refreshInterval: "45m" } },
      key: "database.refreshInterval",
      message: "(45m) must be at most half of database.defaultTtl (1h): the previous login must stay valid while the pods restart",
      fix: "pulumi config set --path 'database.refreshInterval' 30m --stack staging",
    },
    {
      name: "a lease TTL too short to roll the pods",
      stack: "staging",
      overrides: { [`${P}:database`]: { host: "db", defaultTtl: "5m", refreshInterval: "2m" } },
      key: "database.defaultTtl",
      message: 'must be at least 10m (each login must outlive a pod rollout); got "5m"',
      fix: "pulumi config set --path 'database.defaultTtl' 4h --stack staging",
    },
    {
      name: "the removed database.rotationPeriod",
      stack: "staging",
      overrides: { [`${P}:database`]: { host: "db", rotationPeriod: "24h" } },
      key: "database.rotationPeriod",
      message: 'was replaced by database.rotationSchedule (cron, UTC; default "0 4 * * 0"): the migration login now rotates at a time you choose',
      fix: "pulumi config rm --path 'database.rotationPeriod' --stack staging && pulumi config set --path 'database.rotationSchedule' '0 4 * * 0' --stack staging",
    },
    {
      name: "the removed database.maxTtl",
      stack: "production",
      overrides: { [`${P}:database`]: { host: "db", maxTtl: "8h" } },
      key: "database.maxTtl",
      message: "was removed: service logins are never renewed, so each lease ends at database.defaultTtl",
      fix: "pulumi config rm --path 'database.maxTtl' --stack production",
    },
    {
      name: "Vault database logins without Reloader",
      stack: "production",
      overrides: { [`${P}:rotation`]: { installReloader: false } },
      key: "rotation.installReloader",
      message: "must be true with database: each refresh gives every service a new login, and only Reloader moves the pods onto it before the old one expires",
      fix: "pulumi config set --path 'rotation.installReloader' true --stack production",
    },
    {
      name: "a Vault CA file that does not exist",
      stack: "staging",
      overrides: { [`${P}:vault`]: { ...(stackConfig("staging")[`${P}:vault`] as object), caCertFile: "certs/missing-ca.pem" } },
      key: "vault.caCertFile",
      message: `"certs/missing-ca.pem" cannot be read (looked for ${path.resolve("certs/missing-ca.pem")}; a relative path is relative to the project folder)`,
      fix: "pulumi config set --path 'vault.caCertFile' certs/vault-ca.pem --stack staging",
    },
    {
      name: "a typo in the Vault login method",
      stack: "production",
      overrides: {
        [`${P}:vault`]: {
          ...(stackConfig("production")[`${P}:vault`] as { login?: object }),
          login: { ...(stackConfig("production")[`${P}:vault`] as { login?: object }).login, method: "jwtt" },
        },
      },
      key: "vault.login.method",
      message: 'must be one of "jwt", "token"; got "jwtt"; did you mean "jwt"?',
      fix: "pulumi config set --path 'vault.login.method' jwt --stack production",
    },
    {
      name: "a preview login role that is not a Vault role name (the fix names the stack's environment)",
      stack: "production",
      overrides: { [`${P}:vaultLoginRole`]: "Pulumi Preview" },
      key: "vaultLoginRole",
      message: 'must be a Vault role name; got "Pulumi Preview"',
      fix: "pulumi config set vaultLoginRole pulumi-production-preview --stack production",
    },
    {
      name: "a deployer range that is not a CIDR",
      stack: "production",
      overrides: { [`${P}:network`]: { deployerCidrs: ["10.20.0.0/33"] } },
      key: "network.deployerCidrs[0]",
      message: 'must be an IPv4 CIDR; got "10.20.0.0/33"',
      fix: "pulumi config set --path 'network.deployerCidrs[0]' 10.20.0.0/24 --stack production",
    },
    {
      name: "an ESO image digest of the wrong shape (the fix looks the digest up when run)",
      stack: "staging",
      overrides: { [`${P}:eso`]: { imageDigest: "sha256:abc" } },
      key: "eso.imageDigest",
      message: 'must be "sha256:" and 64 lowercase hex digits (crane digest ghcr.io/external-secrets/external-secrets:v2.9.0); got "sha256:abc"',
      fix: `pulumi config set --path 'eso.imageDigest' --stack staging -- "$(crane digest ghcr.io/external-secrets/external-secrets:v2.9.0)"`,
    },
    {
      name: "a database CA that is not PEM (the fix reads the file, after -- since PEM starts with dashes)",
      stack: "staging",
      overrides: { [`${P}:database`]: { host: "db", caCert: "postgres-ca.crt" } },
      key: "database.caCert",
      message: 'must be PEM certificate(s): -----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----; got "postgres-ca.crt"',
      fix: `pulumi config set --path 'database.caCert' --stack staging -- "$(cat postgres-ca.crt)"`,
    },
    {
      name: "Azure Key Vault without the workspace its audit events go to",
      stack: "staging",
      overrides: {
        [`${P}:providers`]: ["vault", "azure"],
        [`${P}:azure`]: Object.fromEntries(Object.entries(exampleFragments().azure[`${P}:azure`] as object).filter(([k]) => k !== "auditLogWorkspaceId")),
      },
      key: "azure.auditLogWorkspaceId",
      message: "is required",
      fix: "pulumi config set --path 'azure.auditLogWorkspaceId' /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/veza/providers/Microsoft.OperationalInsights/workspaces/veza-audit --stack staging",
    },
    {
      name: "a dev root token the chart would break (the fix makes a valid one every time)",
      stack: "development",
      overrides: {},
      secrets: { ...fakeSecrets(), [`${P}:vaultDevRootToken`]: "1-starts-with-a-digit" },
      key: "vaultDevRootToken",
      message: `${DEV_ROOT_TOKEN_RULE}; the value set does not`,
      fix: `pulumi config set --secret vaultDevRootToken "dev-$(openssl rand -hex 24)" --stack development`,
    },
    {
      name: "a workload namespace that is not a DNS label (the fix names the stack's environment)",
      stack: "staging",
      overrides: { [`${P}:namespaces`]: { workloads: "Veza_Staging" } },
      key: "namespaces.workloads",
      message: "must be a DNS-1123 label (lowercase letters, digits and '-'); got \"Veza_Staging\"",
      fix: "pulumi config set --path 'namespaces.workloads' veza-staging --stack staging",
    },
    {
      name: "missing supplied secret (the CLI prompts for it: no value in shell history)",
      stack: "production",
      overrides: {},
      secrets: Object.fromEntries(Object.entries(fakeSecrets()).filter(([k]) => k !== `${P}:stripeApiKey`)),
      key: "stripeApiKey",
      message: "is required: Stripe API key for payments (stripe-api-key)",
      fix: "pulumi config set --secret stripeApiKey --stack production",
    },
    {
      name: "supplied secret in the wrong shape",
      stack: "development",
      overrides: {},
      secrets: { ...fakeSecrets(), [`${P}:redisUrl`]: "http://redis:6379" },
      key: "redisUrl",
      message: "must be a redis:// or rediss:// URL (value not shown)",
      fix: "pulumi config set --secret redisUrl --stack development",
    },
  ];

  for (const row of table) {
    it(`rejects ${row.name} with the key, the reason and the fix, registering nothing`, async () => {
      const problems = problemsOf(() => loadStackConfig(source(row.stack, row.overrides, row.secrets), row.stack));
      assert.deepEqual(problems, [{ key: row.key, message: row.message, fix: row.fix }]);

      // The whole program, too: nothing but the stack itself is registered.
      const overrides: StackConfigValues = {};
      const config = mergeConfig(stackConfig(row.stack), overrides);
      for (const [k, v] of Object.entries(row.overrides)) {
        if (v === undefined) delete config[k];
        else config[k] = v;
      }
      const { run, error } = await tryRunProgram({ stack: row.stack, config, secrets: row.secrets });
      assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
      assert.deepEqual(
        run.resources.map((r) => r.type),
        ["pulumi:pulumi:Stack"],
      );
    });

    it(`fixes ${row.name} when the printed command is applied with the CLI's rules`, () => {
      assert.deepEqual(problemsAfterFix(row, row.fix), [], `still wrong after applying: ${row.fix}`);
    });
  }

  it("has examples the schema accepts, for every path a fix may print", () => {
    const unwrap = (t: z.ZodType): z.ZodType => (t instanceof z.ZodOptional ? unwrap(t.unwrap() as z.ZodType) : t);
    const at = (t: z.ZodType, parts: string[]): z.ZodType[] => {
      const u = unwrap(t);
      if (parts.length === 0) return [u];
      const [head, ...rest] = parts;
      if (u instanceof z.ZodDiscriminatedUnion) return (u.options as z.ZodType[]).flatMap((o) => at(o, parts));
      if (head === "[]" && u instanceof z.ZodArray) return at(u.element as z.ZodType, rest);
      if (head === "*" && u instanceof z.ZodRecord) return at(u.valueType as z.ZodType, rest);
      if (u instanceof z.ZodObject) {
        const child = (u.shape as Record<string, z.ZodType | undefined>)[head];
        return child ? at(child, rest) : [];
      }
      return [];
    };
    for (const [key, example] of Object.entries(EXAMPLES)) {
      const parts = key.replace(/\[\]/g, ".[]").split(".");
      const schemas = at(configSchema, parts);
      assert.ok(schemas.length > 0, `${key} is not a path of the schema`);
      // A computed example is checked with what its command prints (test/fix-check.ts).
      for (const env of ENVIRONMENTS) {
        const plain: unknown = typeof example === "function" ? (example as (e: string) => unknown)(env) : example;
        const value = plain instanceof Computed ? substitute(plain.command) : plain;
        assert.ok(
          schemas.some((sch) => sch.safeParse(value).success),
          `${key} (${env}): the schema refuses its example ${JSON.stringify(value)}`,
        );
      }
    }
    // Every example has the type the CLI will store from the printed command.
    assert.equal(
      setCommands("s", ["aws", "accountId"], EXAMPLES["aws.accountId"])[0],
      "pulumi config set --type string --path 'aws.accountId' 123456789012 --stack s",
    );
    assert.equal(
      setCommands("s", ["vault", "resources", "limits", "cpu"], "1")[0],
      "pulumi config set --type string --path 'vault.resources.limits.cpu' 1 --stack s",
    );
  });

  describe("the model of pulumi config set (test/pulumi-cli.ts)", () => {
    const apply = (line: string, start: StackFileConfig = {}): StackFileConfig => {
      const config = structuredClone(start);
      applyLine(config, line, { project: P });
      return config;
    };
    it("stores top-level values as strings, --path 'values' typed, and --type as asked", () => {
      assert.deepEqual(apply("pulumi config set providers '[\"vault\"]' --stack s"), { [`${P}:providers`]: '["vault"]' });
      assert.deepEqual(
        apply("pulumi config set --path 'a.n' 3 --stack s && pulumi config set --path 'a.b' true --stack s && pulumi config set --path 'a.z' 0123 --stack s"),
        { [`${P}:a`]: { n: 3, b: true, z: "0123" } },
      );
      assert.deepEqual(apply("pulumi config set --path 'aws.accountId' 123456789012 --stack s"), { [`${P}:aws`]: { accountId: 123456789012 } });
      assert.deepEqual(apply("pulumi config set --type string --path 'aws.accountId' 123456789012 --stack s"), { [`${P}:aws`]: { accountId: "123456789012" } });
      assert.deepEqual(apply("pulumi config set --path 'vault.seal' '{\"type\":\"awskms\"}' --stack s"), { [`${P}:vault`]: { seal: '{"type":"awskms"}' } });
      assert.deepEqual(apply("pulumi config set --path 'g[\"jwt-secret\"].length' 64 --stack s"), { [`${P}:g`]: { "jwt-secret": { length: 64 } } });
      assert.deepEqual(apply("pulumi config set --path 'p[0]' vault --stack s", { [`${P}:p`]: ["kubernetes", "vault"] }), { [`${P}:p`]: ["vault", "vault"] });
    });
    it("refuses what the CLI refuses", () => {
      assert.throws(() => apply("pulumi config set --path 'p[2]' x --stack s", { [`${P}:p`]: ["a"] }), /array index out of range/);
      assert.throws(() => apply("pulumi config set --secret --type string k v --stack s"), /none of the others can be/);
      assert.throws(() => apply("pulumi config set --secret k < value --stack s"), /the shell would not run this as typed/);
      assert.throws(() => apply("pulumi config set k v"), /no --stack/);
      assert.throws(() => apply("pulumi config set --path 'a.[0]' v --stack s"), /expected property name after '\.'/);
      assert.throws(() => apply("pulumi config set smtpPassword 'Xk9#mQ2$vL7@pR4!' --stack s"), /looks like a secret/);
      assert.deepEqual(preRunErrors("s", { [`${P}:environment`]: "development", [`${P}:providers`]: '["vault"]' }, PROJECT_FILE).slice(1), [
        "Stack 's' with configuration key 'veza-secrets:providers' must be of type 'array<string>'",
      ]);
    });
  });

  it("rejects a secret stored in plain text, without echoing it", () => {
    const src = source("development");
    const secretKeys = new Set([...src.secretKeys].filter((k) => k !== `${P}:smtpPassword`));
    const err = (() => {
      try {
        loadStackConfig({ values: src.values, secretKeys }, "development");
      } catch (e) {
        return e as ConfigError;
      }
      assert.fail("accepted a plain-text secret");
    })();
    assert.deepEqual(err.problems, [
      {
        key: "smtpPassword",
        message:
          "holds a secret but is stored in plain text in the stack file (value not shown). If that file was ever committed, the value is in Git history: rotate it at its source, then remove the plain entry and set the new value as a secret",
        // set --secret replaces the plain entry (config.Map.Set overwrites the key).
        fix: "pulumi config set --secret smtpPassword --stack development",
      },
    ]);
    assert.ok(!err.message.includes("FAKE-SECRET"), "the error message must not contain the value");
  });

  // The harness feeds the program the stack file as it is: a fake stands in only for a
  // secret the file lacks, so a value pasted in clear text is refused, not hidden.
  for (const stack of STACKS) {
    it(`${stack}: a secret pasted in clear text into the stack file stops the program, named and not echoed`, async () => {
      const pasted = "sk_live_PASTED-IN-CLEAR-9d1e";
      const { run, error } = await tryRunProgram({ stack, overrides: { [`${P}:stripeApiKey`]: pasted } });
      assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
      assert.deepEqual(
        error.problems.map((p) => p.key),
        ["stripeApiKey"],
      );
      assert.match(error.message, /in Git history: rotate it/);
      assert.ok(!error.message.includes(pasted), "the error must not print the value");
      assert.deepEqual(
        run.resources.map((r) => r.type),
        ["pulumi:pulumi:Stack"],
        "nothing may be registered",
      );
    });
  }

  it("lists every problem at once", () => {
    const problems = problemsOf(() =>
      loadStackConfig(
        source("production", { [`${P}:aws`]: undefined }, Object.fromEntries(Object.entries(fakeSecrets()).filter(([k]) => !/stripe/.test(k)))),
        "production",
      ),
    );
    assert.deepEqual(
      problems.map((p) => p.key),
      ["aws", "stripeApiKey", "stripeWebhookSecret"],
    );
  });

  it("tells a new user how to create the stack when there is no config", () => {
    const problems = problemsOf(() => loadStackConfig({ values: {}, secretKeys: new Set() }, "development"));
    assert.equal(problems.length, 1);
    assert.match(problems[0].message, /^no veza-secrets config found for stack "development"\. Create the stack from a committed stack file/);
    assert.match(
      problems[0].message,
      /pulumi login --local; export PULUMI_CONFIG_PASSPHRASE=\.\.\.; pulumi stack init development; kubectl config use-context/,
    );
  });

  it("accepts review stacks named after their environment", () => {
    const cfg = loadStackConfig(source("development"), "development-pr-42");
    assert.equal(cfg.environment, "development");
    assert.equal(cfg.namespaces.workloads, "veza-development");
  });

  it("parses each committed stack into the typed config with its environment's defaults", () => {
    const dev = loadStackConfig(source("development"), "development");
    assert.deepEqual(
      {
        providers: dev.providers,
        eso: dev.eso,
        vaultMode: dev.vault?.mode,
        replicas: dev.vault?.replicas,
        address: dev.vault?.address,
        database: dev.database,
        protect: dev.protect,
        recovery: dev.recoveryWindowDays,
      },
      {
        providers: ["vault"],
        eso: { replicas: 1, serviceMonitor: false, refreshInterval: "15m", creationPolicy: "Owner", deletionPolicy: "Delete" },
        vaultMode: "dev",
        replicas: 1,
        address: "http://127.0.0.1:30820",
        database: undefined,
        protect: false,
        recovery: 7,
      },
    );
    // Every non-generated catalog key is supplied in development (no database configured there).
    const nonGenerated = CATALOG.flatMap((s) => (s.source.kind === "generated" ? [] : [s.source.configKey]));
    assert.ok(nonGenerated.includes("databaseUrl") && nonGenerated.includes("redisUrl"));
    assert.deepEqual(Object.keys(dev.supplied).sort(), [...nonGenerated].sort());

    const prod = loadStackConfig(source("production"), "production");
    assert.deepEqual(prod.esoProviders, ["vault", "aws"]);
    assert.deepEqual(prod.eso, { replicas: 2, serviceMonitor: true, refreshInterval: "1h", creationPolicy: "Owner", deletionPolicy: "Retain" });
    assert.equal(prod.protect, true);
    assert.equal(prod.recoveryWindowDays, 30);
    assert.equal(prod.vault?.seal?.type, "awskms");
    assert.deepEqual(
      { ...prod.database, adminPassword: undefined },
      {
        host: "postgres.veza.internal",
        port: 5432,
        name: "veza",
        adminUsername: "vault_admin",
        appUsername: "veza_app",
        appGroupRole: "veza_app_group",
        appSchema: "veza",
        rotationSchedule: "0 4 * * 0",
        defaultTtl: "4h",
        defaultTtlSeconds: 14400,
        refreshInterval: "2h",
        sslMode: "verify-full",
        verifyConnection: true,
        adminPassword: undefined,
      },
    );
    // database-url is built from rotated credentials, so it is not a supplied secret here.
    assert.ok(!("databaseUrl" in prod.supplied));
    // Production overrides no generated key: each keeps the catalog's length and period.
    assert.deepEqual(
      prod.generatedKeys,
      Object.fromEntries(generatedSecrets(CATALOG).map((g) => [g.key, { length: g.source.length, rotationDays: g.source.rotationDays }])),
    );
    assert.deepEqual(prod.generatedKeys["jwt-secret"], { length: 64, rotationDays: 90 });
  });

  it("formats config paths as pulumi config set --path expects", () => {
    assert.equal(formatPath(["vault", "replicas"]), "vault.replicas");
    assert.equal(formatPath(["providers", 1]), "providers[1]");
    assert.equal(formatPath(["generatedKeys", "jwt-secret", "length"]), 'generatedKeys["jwt-secret"].length');
  });

  it("derives the database refresh as half the lease TTL where the stack sets none", () => {
    const staging = loadStackConfig(source("staging", { [`${P}:database`]: { host: "db", defaultTtl: "3h" } }), "staging");
    assert.deepEqual([staging.database?.defaultTtlSeconds, staging.database?.refreshInterval], [10800, "1h30m"]);
  });

  it("reads durations as Vault does, and writes them back", () => {
    assert.deepEqual([7200, 5400, 45, 7205, 1800].map(secondsAsDuration), ["2h", "1h30m", "45s", "2h5s", "30m"]);
    assert.deepEqual(["24h", "90m", "1h30m", "45s", "2h0m5s"].map(durationSeconds), [86400, 5400, 5400, 45, 7205]);
    assert.throws(() => durationSeconds("1d"), /not a duration: 1d/);
  });
});
