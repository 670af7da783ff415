/**
 * What the AWS identifiers must look like. The stack schema (stacks/schema.ts) checks
 * config with these same rules, so bad config stops the program before any resource is
 * registered, naming the config key, instead of failing inside AwsSecrets halfway through a run.
 * The patterns are components/rules.ts's; this table adds the words each message uses.
 */
import { AWS_ACCOUNT_ID, AWS_OIDC_ISSUER, AWS_REGION } from "../rules";

export const AWS_RULES = {
  region: { pattern: AWS_REGION, hint: 'must be an AWS region such as "eu-west-1"' },
  accountId: { pattern: AWS_ACCOUNT_ID, hint: "must be a 12-digit AWS account id" },
  oidcIssuer: {
    pattern: AWS_OIDC_ISSUER,
    hint: 'must be the issuer host and path without "https://" or a trailing "/", such as "oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE"',
  },
} as const;
