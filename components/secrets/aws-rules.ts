/**
 * What the AWS identifiers must look like. The stack schema (stacks/schema.ts) checks
 * config with these same rules, so bad config stops the program before any resource is
 * registered, naming the config key, instead of failing inside AwsSecrets halfway through a run.
 */
export const AWS_RULES = {
  region: { pattern: /^[a-z]{2}(-[a-z]+)+-\d+$/, hint: 'must be an AWS region such as "eu-west-1"' },
  accountId: { pattern: /^\d{12}$/, hint: "must be a 12-digit AWS account id" },
  oidcIssuer: {
    pattern: /^[a-z0-9.-]+(\/[A-Za-z0-9._-]+)*$/,
    hint: 'must be the issuer host and path without "https://" or a trailing "/", such as "oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE"',
  },
} as const;
