/**
 * The spec's AWS backend: one Secrets Manager secret per catalog key under a name prefix
 * (`veza/production/jwt-secret`), encrypted with a customer-managed KMS key, and one IAM
 * role that External Secrets Operator assumes through EKS IRSA (its Kubernetes
 * ServiceAccount's projected token) to read exactly that prefix and nothing else.
 *
 * Environment-free: the caller chooses the prefix. The prefix must end with `/` so that
 * `veza/prod*` can never match `veza/production/...`: the IAM wildcard is the only wall
 * between environments sharing an account.
 *
 * Commercial partition only (`arn:aws:`); China and GovCloud would need a partition arg.
 */
import * as iam from "@pulumi/aws/iam";
import * as kms from "@pulumi/aws/kms";
import * as secretsmanager from "@pulumi/aws/secretsmanager";
import * as pulumi from "@pulumi/pulumi";
import { AWS_RULES } from "./aws-rules";
import type { BackendSecret } from "./backend-secret";
import { serviceAccountRefError } from "./service-account-ref";

export interface AwsSecretsArgs {
  /**
   * Secret name prefix, e.g. `veza/production/`: segments of letters, digits, `_` and `-`,
   * each followed by `/`. The trailing `/` is required (it keeps one environment's IAM
   * wildcard off another's). Also names the KMS alias: `alias/veza-production-secrets`.
   */
  namePrefix: string;
  /**
   * Secrets to create, each named `namePrefix + key`. Keys must be unique. A changed value
   * replaces the SecretVersion (a new AWSCURRENT).
   */
  secrets: BackendSecret[];
  /**
   * Days a deleted secret can be restored (Secrets Manager allows 7..30 here), also the KMS
   * key's deletion window. The second net after `protect`: a destroyed secret is recoverable this long.
   */
  recoveryWindowDays: number;
  /** Tags on the key, the secrets and the role. Never put a value here: tags are plain text. */
  tags?: Record<string, string>;
  /**
   * Region of the key and secrets, e.g. `eu-west-1`. Set on every regional resource, so
   * they land where the read policy points whatever the provider's default region.
   */
  region: string;
  /** AWS account id (12 digits) that owns the key, the secrets and the EKS OIDC provider. */
  accountId: string;
  /**
   * The EKS cluster's OIDC issuer without `https://`, e.g.
   * `oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE`. Its IAM OIDC
   * provider must already exist in `accountId` (created with the cluster).
   */
  oidcIssuer: string;
  /**
   * The Kubernetes ServiceAccount External Secrets Operator uses for this store: the only
   * identity the role trusts. Created by the caller, annotated with `roleArn`.
   */
  serviceAccount: { namespace: string; name: string };
  /**
   * Protect the KMS key and the secrets, so deleting the stack or the component fails
   * instead of destroying them. Default `false`; set it for any environment with real data.
   */
  protect?: boolean;
  /** AWS provider to use. Default: the stack's default provider. */
  provider?: pulumi.ProviderResource;
}

/** An IAM policy document, as AWS reads it. */
export interface PolicyDocument {
  Version: "2012-10-17";
  Statement: {
    Sid: string;
    Effect: "Allow";
    Principal?: Record<string, string>;
    Action: string | string[];
    Resource?: string;
    Condition?: Record<string, Record<string, string>>;
  }[];
}

/** Actions ESO needs to read a secret: value, metadata, versions. Nothing that writes or lists others. */
export const READ_ACTIONS = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret", "secretsmanager:ListSecretVersionIds"];

/** `arn:aws:secretsmanager:<region>:<account>:secret:<prefix>*`: every secret under the prefix (AWS appends `-XXXXXX`). */
export function secretsArnPattern(args: { region: string; accountId: string; namePrefix: string }): string {
  return `arn:aws:secretsmanager:${args.region}:${args.accountId}:secret:${args.namePrefix}*`;
}

/** KMS alias for a prefix: `veza/production/` → `alias/veza-production-secrets`. */
export function kmsAliasName(namePrefix: string): string {
  return `alias/${namePrefix.replace(/\//g, "-")}secrets`;
}

/** Key policy: the account root administers the key, which lets IAM policies (the read role's) grant its use. */
export function keyPolicy(accountId: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [{ Sid: "AccountAdministersKey", Effect: "Allow", Principal: { AWS: `arn:aws:iam::${accountId}:root` }, Action: "kms:*", Resource: "*" }],
  };
}

/** Trust policy: only the one ServiceAccount's projected token, with the STS audience, may assume the role. */
export function trustPolicy(args: { accountId: string; oidcIssuer: string; serviceAccount: { namespace: string; name: string } }): PolicyDocument {
  const issuer = args.oidcIssuer;
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "ExternalSecretsServiceAccount",
        Effect: "Allow",
        Principal: { Federated: `arn:aws:iam::${args.accountId}:oidc-provider/${issuer}` },
        Action: "sts:AssumeRoleWithWebIdentity",
        Condition: {
          StringEquals: {
            [`${issuer}:sub`]: `system:serviceaccount:${args.serviceAccount.namespace}:${args.serviceAccount.name}`,
            [`${issuer}:aud`]: "sts.amazonaws.com",
          },
        },
      },
    ],
  };
}

/** Read policy: the three read actions on the prefix, and decrypt with the key only through Secrets Manager. */
export function readPolicy(args: { region: string; accountId: string; namePrefix: string; kmsKeyArn: string }): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      { Sid: "ReadSecretsUnderPrefix", Effect: "Allow", Action: [...READ_ACTIONS], Resource: secretsArnPattern(args) },
      {
        Sid: "DecryptThroughSecretsManager",
        Effect: "Allow",
        Action: "kms:Decrypt",
        Resource: args.kmsKeyArn,
        Condition: { StringEquals: { "kms:ViaService": `secretsmanager.${args.region}.amazonaws.com` } },
      },
    ],
  };
}

/** Secrets Manager secrets, their KMS key, and ESO's read-only IRSA role. */
export class AwsSecrets extends pulumi.ComponentResource {
  /** Role for ESO's ServiceAccount annotation `eks.amazonaws.com/role-arn`. */
  public readonly roleArn: pulumi.Output<string>;
  /** The customer-managed key encrypting the secrets. */
  public readonly kmsKeyArn: pulumi.Output<string>;
  /** Key → secret name (`namePrefix + key`), for ExternalSecrets' `remoteRef.key`. */
  public readonly secretNames: Record<string, string>;
  /** Region of the key and secrets, for the SecretStore. */
  public readonly region: string;

  constructor(name: string, args: AwsSecretsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("veza:secrets:AwsSecrets", name, {}, opts);
    this.validate(args);
    const { region, accountId, namePrefix } = args;
    const tags = args.tags;
    const child: pulumi.CustomResourceOptions = { parent: this, provider: args.provider };
    // Deleting the stack or this component must not destroy the key or the secrets; the
    // recovery window is the second net.
    const precious = pulumi.mergeOptions(child, { protect: args.protect ?? false });

    const key = new kms.Key(
      `${name}-key`,
      {
        description: `Encrypts the Secrets Manager secrets under ${namePrefix}`,
        enableKeyRotation: true,
        deletionWindowInDays: args.recoveryWindowDays,
        policy: JSON.stringify(keyPolicy(accountId)),
        region,
        tags,
      },
      precious,
    );
    new kms.Alias(`${name}-key`, { name: kmsAliasName(namePrefix), targetKeyId: key.keyId, region }, child);

    const secretNames: Record<string, string> = {};
    for (const spec of args.secrets) {
      const secretName = `${namePrefix}${spec.key}`;
      const secret = new secretsmanager.Secret(
        `${name}-${spec.key}`,
        { name: secretName, description: spec.description, kmsKeyId: key.arn, recoveryWindowInDays: args.recoveryWindowDays, region, tags },
        precious,
      );
      // Not protected: a new value replaces the version (secret_string is ForceNew), and a
      // protected resource cannot be replaced. The secret above holds the history.
      new secretsmanager.SecretVersion(`${name}-${spec.key}`, { secretId: secret.id, secretString: pulumi.secret(spec.value), region }, child);
      secretNames[spec.key] = secretName;
    }

    const role = new iam.Role(
      `${name}-eso`,
      {
        description: `External Secrets Operator (${args.serviceAccount.namespace}/${args.serviceAccount.name}) reads ${namePrefix}*`,
        assumeRolePolicy: JSON.stringify(trustPolicy(args)),
        tags,
      },
      child,
    );
    new iam.RolePolicy(
      `${name}-eso-read`,
      { role: role.id, policy: key.arn.apply((kmsKeyArn) => JSON.stringify(readPolicy({ region, accountId, namePrefix, kmsKeyArn }))) },
      child,
    );

    this.roleArn = role.arn;
    this.kmsKeyArn = key.arn;
    this.secretNames = secretNames;
    this.region = region;
    this.registerOutputs({ roleArn: this.roleArn, kmsKeyArn: this.kmsKeyArn, secretNames: this.secretNames, region: this.region });
  }

  private validate(args: AwsSecretsArgs): void {
    const fail = (msg: string) => {
      throw new pulumi.ResourceError(msg, this);
    };
    if (!/^([A-Za-z0-9_-]+\/)+$/.test(args.namePrefix)) {
      fail(`[namePrefix] must be path segments of letters, digits, "_" or "-", each ending in "/", such as "veza/production/"; got "${args.namePrefix}".`);
    }
    if (!Number.isInteger(args.recoveryWindowDays) || args.recoveryWindowDays < 7 || args.recoveryWindowDays > 30) {
      fail(`[recoveryWindowDays] must be a whole number of days from 7 to 30; got ${args.recoveryWindowDays}.`);
    }
    for (const field of ["region", "accountId", "oidcIssuer"] as const) {
      const rule = AWS_RULES[field];
      if (!rule.pattern.test(args[field])) fail(`[${field}] ${rule.hint}; got "${args[field]}".`);
    }
    const account = serviceAccountRefError("serviceAccount", args.serviceAccount);
    if (account) fail(account);
    const seen = new Set<string>();
    for (const spec of args.secrets) {
      if (!/^[A-Za-z0-9_+=.@-]+$/.test(spec.key)) fail(`[secrets] key "${spec.key}" may hold only letters, digits and _+=.@-.`);
      if (seen.has(spec.key)) fail(`[secrets] key "${spec.key}" appears twice; each secret needs a unique key.`);
      seen.add(spec.key);
      if (`${args.namePrefix}${spec.key}`.length > 512)
        fail(`[secrets] name "${args.namePrefix}${spec.key}" is longer than Secrets Manager's 512 characters; shorten the prefix or key.`);
    }
  }
}
