/**
 * Stack config mistakes in the secret backends and their clouds' settings (providers, aws, gcp,
 * azure): each rejected with the key, the reason and the exact fix, by the loader and the whole
 * program, and the fix applied with the CLI's rules.
 */
import { exampleFragments, stackConfig } from "../harness";
import { P, itRejectsAndFixes, type ConfigMistake } from "./config-fixtures";

describe("stack config", () => {
  // One row per kind of mistake: the exact message and the exact command that fixes it.
  // Each fix is then applied with the CLI's own rules (test/pulumi-cli.ts) and the config
  // validated again, by the CLI's pre-run check and by the program.
  const table: ConfigMistake[] = [
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
      name: "unknown enum value",
      stack: "development",
      overrides: { [`${P}:providers`]: ["vault", "hashicorp"] },
      key: "providers[1]",
      message: 'must be one of "vault", "aws", "gcp", "azure", "kubernetes"; got "hashicorp"; did you mean "vault"?',
      fix: "pulumi config rm providers --stack development && pulumi config set --path 'providers[0]' vault --stack development",
    },
    {
      name: "a typo of a backend already listed (the fix must not make a duplicate)",
      stack: "development",
      overrides: { [`${P}:providers`]: ["vault", "valut"] },
      key: "providers[1]",
      message: 'must be one of "vault", "aws", "gcp", "azure", "kubernetes"; got "valut"; did you mean "vault"?',
      fix: "pulumi config rm providers --stack development && pulumi config set --path 'providers[0]' vault --stack development",
    },
    {
      name: "a typo of a backend not yet listed",
      stack: "production",
      overrides: { [`${P}:providers`]: ["vault", "awss"] },
      key: "providers[1]",
      message: 'must be one of "vault", "aws", "gcp", "azure", "kubernetes"; got "awss"; did you mean "aws"?',
      fix: "pulumi config rm providers --stack production && pulumi config set --path 'providers[0]' vault --stack production && pulumi config set --path 'providers[1]' aws --stack production",
    },
    // Issue 30 #5: the fix dropped AWS here, and the next pulumi up would have deleted (or, protected, left
    // behind) production's AWS secrets. It keeps every backend, in order, with the typo corrected.
    {
      name: "a backend written as its product's name (aws-secrets-manager)",
      stack: "production",
      overrides: { [`${P}:providers`]: ["vault", "aws-secrets-manager"] },
      key: "providers[1]",
      message: 'must be one of "vault", "aws", "gcp", "azure", "kubernetes"; got "aws-secrets-manager"; did you mean "aws"?',
      fix: "pulumi config rm providers --stack production && pulumi config set --path 'providers[0]' vault --stack production && pulumi config set --path 'providers[1]' aws --stack production",
    },
    {
      name: "a name that stands for no backend (kept in its place, marked for the person to name)",
      stack: "development",
      overrides: { [`${P}:providers`]: ["plain-secrets"] },
      key: "providers[0]",
      message: 'must be one of "vault", "aws", "gcp", "azure", "kubernetes"; got "plain-secrets"',
      fix: "pulumi config rm providers --stack development && pulumi config set --path 'providers[0]' '<provider>' --stack development",
    },
    // A fix pasted before its placeholder was replaced: refused by name, never taken for a value
    // (a KMS key id may be any text, so no other rule would catch it).
    {
      name: "a KMS key id pasted as the fix's placeholder",
      stack: "production",
      overrides: {
        [`${P}:vault`]: {
          ...(stackConfig("production")[`${P}:vault`] as object),
          seal: { type: "awskms", region: "eu-west-1", kmsKeyId: "<kms-key-id>", roleArn: "arn:aws:iam::123456789012:role/veza-production-vault-unseal" },
        },
      },
      key: "vault.seal.kmsKeyId",
      message: "still holds <kms-key-id> from a printed fix: replace it with your own value (the fix shows where)",
      fix: "pulumi config set --path 'vault.seal.kmsKeyId' '<kms-key-id>' --stack production",
    },
    {
      name: "an account id pasted with its placeholder (named for it, not for the digits it lacks)",
      stack: "production",
      overrides: { [`${P}:aws`]: { region: "eu-west-1", accountId: "<aws-account-id>", oidcIssuer: "oidc.eks.eu-west-1.amazonaws.com/id/5C1B2A" } },
      key: "aws.accountId",
      message: "still holds <aws-account-id> from a printed fix: replace it with your own value (the fix shows where)",
      fix: "pulumi config set --type string --path 'aws.accountId' '<aws-account-id>' --stack production",
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
      name: "plain Kubernetes Secrets outside development",
      stack: "staging",
      overrides: { [`${P}:providers`]: ["kubernetes"] },
      key: "providers",
      message: '"kubernetes" (plain Secrets written by the program, the spec\'s option 1) is for development only; got it in staging',
      fix: "pulumi config rm providers --stack staging && pulumi config set --path 'providers[0]' vault --stack staging",
    },
    {
      name: "provider listed without its settings (one command per leaf, the account id kept a string)",
      stack: "production",
      overrides: { [`${P}:aws`]: undefined },
      key: "aws",
      message: '"aws" is listed in providers but its settings are missing',
      // The account, region and cluster are the user's: marked, each in quotes so a shell reads no redirection.
      fix: "pulumi config set --path 'aws.region' '<aws-region>' --stack production && pulumi config set --type string --path 'aws.accountId' '<aws-account-id>' --stack production && pulumi config set --path 'aws.oidcIssuer' 'oidc.eks.<aws-region>.amazonaws.com/id/<eks-oidc-id>' --stack production",
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
      fix: "pulumi config set --path 'gcp.replicationLocations[0]' '<gcp-region>' --stack production",
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
      name: "Azure Key Vault without the workspace its audit events go to",
      stack: "staging",
      overrides: {
        [`${P}:providers`]: ["vault", "azure"],
        [`${P}:azure`]: Object.fromEntries(Object.entries(exampleFragments().azure[`${P}:azure`] as object).filter(([k]) => k !== "auditLogWorkspaceId")),
      },
      key: "azure.auditLogWorkspaceId",
      message: "is required",
      fix: "pulumi config set --path 'azure.auditLogWorkspaceId' '/subscriptions/<azure-subscription-id>/resourceGroups/<resource-group>/providers/Microsoft.OperationalInsights/workspaces/<log-analytics-workspace>' --stack staging",
    },
  ];

  itRejectsAndFixes(table);
});
