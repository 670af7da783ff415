/**
 * The stack config schema: every `veza-secrets:*` key a stack file may hold, its type,
 * default and limits. `config.ts` parses a stack's config with it once, up front.
 * Per-environment defaults live in `defaults.ts`, not here.
 */
import { z } from "zod";
import { Computed, Placeholder } from "./fixes";
import { AWS_RULES } from "../components/backends/aws-rules";
import { type CronConsumer, cronMessage, cronProblem } from "../components/cron";
// The components' own rules, so config that passes here never fails inside a component.
import {
  AZURE_KEY_VAULT_NAME as KEY_VAULT_NAME,
  DNS_LABEL,
  GCP_PROJECT_ID as GCP_PROJECT,
  GCP_REGION as GCP_LOCATION,
  IPV4_RANGE as KEY_VAULT_IP_RANGE,
  PG_IDENTIFIER,
  QUANTITY,
  VAULT_NAME,
} from "../components/rules";

export const PROJECT = "veza-secrets";

export const ENVIRONMENTS = ["development", "staging", "production"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

/** Secret backends a stack can use. `kubernetes` is the spec's option 1 and stands alone. */
export const PROVIDERS = ["vault", "aws", "gcp", "azure", "kubernetes"] as const;
export type ProviderName = (typeof PROVIDERS)[number];

/** Backends that External Secrets Operator reads from. */
export const ESO_PROVIDERS = ["vault", "aws", "gcp", "azure"] as const;
export type EsoProviderName = (typeof ESO_PROVIDERS)[number];

const DURATION = /^(?=\d)(\d+h)?(\d+m)?(\d+s)?$/;
/** A Go/Vault duration such as `24h`, `90m`, `1h30m`, `45s`. */
export const duration = z.string().regex(DURATION, { message: 'must be a duration such as "24h", "30m" or "1h30m"' });

/** Seconds in a duration accepted by `duration`. */
export function durationSeconds(value: string): number {
  const m = DURATION.exec(value);
  if (!m) throw new Error(`not a duration: ${value}`);
  const part = (s: string | undefined, unit: string, factor: number): number => (s ? Number(s.slice(0, -unit.length)) * factor : 0);
  return part(m[1], "h", 3600) + part(m[2], "m", 60) + part(m[3], "s", 1);
}

/** The shortest duration string for whole `seconds`, e.g. `7200` → `"2h"`, `5400` → `"1h30m"`. */
export function secondsAsDuration(seconds: number): string {
  if (!Number.isInteger(seconds) || seconds < 1) throw new Error(`not a positive whole number of seconds: ${seconds}`);
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return `${h ? `${h}h` : ""}${m ? `${m}m` : ""}${s ? `${s}s` : ""}`;
}

/** A DNS-1123 label: Kubernetes namespace and object names. */
const dnsLabel = z.string().regex(DNS_LABEL, { message: "must be a DNS-1123 label (lowercase letters, digits and '-')" }).max(63);

/** A PostgreSQL identifier we template into SQL: lowercase, no quoting needed. */
const sqlIdentifier = z.string().regex(PG_IDENTIFIER, { message: "must be a lowercase SQL identifier ([a-z_][a-z0-9_]*)" });

/** A cron schedule its consumer parses (components/cron.ts): a Kubernetes CronJob's, or Vault's rotation_schedule. */
const cron = (consumer: CronConsumer) =>
  z.string().superRefine((value, ctx) => {
    const problem = cronProblem(value, consumer);
    if (problem) ctx.addIssue({ code: "custom", message: cronMessage(problem, consumer) });
  });

const kubernetesQuantity = z.string().regex(QUANTITY, { message: 'must be a Kubernetes quantity such as "10Gi"' });

/** An image pinned by digest, e.g. `amazon/aws-cli:2.27.0@sha256:<64 hex>`. */
const imageByDigest = z
  .string()
  .regex(/^\S+@sha256:[0-9a-f]{64}$/, { message: 'must be an image pinned by digest, such as "amazon/aws-cli:<version>@sha256:<64 hex>"' });
/** Object key prefix: path segments each ending in `/`. */
const snapshotPrefix = z.string().regex(/^([A-Za-z0-9._-]+\/)+$/, { message: 'must be path segments each ending in "/", such as "vault/production/"' });
const url = z.string().regex(/^https?:\/\/[^\s/]+(\/\S*)?$/, { message: "must be an http(s) URL" });

/** PEM certificate text (a CA bundle). */
export const pemSchema = z.string().regex(/^\s*-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----\s*$/, {
  message: "must be PEM certificate(s): -----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----",
});
const pem = pemSchema;

/** Where one chart comes from instead of its own repository: a mirror (HTTP or OCI) or a local directory. */
const chartSource = z
  .strictObject({
    /** An HTTP(S) chart repository or an `oci://` registry path that mirrors the chart (same name, pinned version). */
    repository: z
      .string()
      .regex(/^(https?|oci):\/\/[^\s/]+(\/\S*)?$/, {
        message: 'must be an http(s):// chart repository or an oci:// registry path such as "oci://registry.example.com/helm"',
      })
      .optional(),
    /** A chart directory or .tgz on the machine that runs pulumi up, relative to the project. */
    path: z.string().min(1).optional(),
  })
  .optional();

const sealSchema = z.discriminatedUnion("type", [
  z.strictObject({
    type: z.literal("awskms"),
    /** AWS region of the KMS key. */
    region: z.string().min(1),
    /** KMS key id, ARN or `alias/...`. */
    kmsKeyId: z.string().min(1),
    /** IAM role the Vault pods assume through IRSA to use the key (no static keys). */
    roleArn: z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/, { message: "must be an IAM role ARN" }),
  }),
  z.strictObject({
    type: z.literal("gcpckms"),
    project: z.string().min(1),
    region: z.string().min(1),
    keyRing: z.string().min(1),
    cryptoKey: z.string().min(1),
    /** Google service account bound to Vault's Kubernetes SA through Workload Identity. */
    serviceAccountEmail: z.string().regex(/^[^@\s]+@[^@\s]+\.iam\.gserviceaccount\.com$/, { message: "must be a Google service account e-mail" }),
  }),
  z.strictObject({
    type: z.literal("azurekeyvault"),
    tenantId: z.uuid({ message: "must be a UUID" }),
    vaultName: z.string().min(3).max(24),
    keyName: z.string().min(1),
    /** Client id of the user-assigned identity Vault's pods use through workload identity. */
    clientId: z.uuid({ message: "must be a UUID" }),
  }),
]);
export type SealConfig = z.infer<typeof sealSchema>;

const resources = z.strictObject({
  cpu: kubernetesQuantity,
  memory: kubernetesQuantity,
});

/** The schema of all non-secret `veza-secrets:*` keys. */
export const configSchema = z.strictObject({
  /** Which environment this stack is. Must match the stack name. */
  environment: z.enum(ENVIRONMENTS),
  /** Secret backends, first one receives generated keys. */
  providers: z.array(z.enum(PROVIDERS)).min(1),
  namespaces: z
    .strictObject({
      workloads: dnsLabel.optional(),
      vault: dnsLabel.optional(),
      externalSecrets: dnsLabel.optional(),
    })
    .optional(),
  vault: z
    .strictObject({
      mode: z.enum(["dev", "ha"]).optional(),
      replicas: z.number().int().min(1).max(7).optional(),
      address: url.optional(),
      tlsSecretName: dnsLabel.optional(),
      storageSize: kubernetesQuantity.optional(),
      auditStorageSize: kubernetesQuantity.optional(),
      resources: z.strictObject({ requests: resources, limits: resources }).optional(),
      bootstrapped: z.boolean().optional(),
      devNodePort: z.number().int().min(30000).max(32767).optional(),
      seal: sealSchema.optional(),
      /**
       * How `pulumi up` logs in to Vault. `jwt` (default outside dev mode): a CI system's OIDC
       * token (TERRAFORM_VAULT_AUTH_JWT) for a role with bound claims and a 1h token. `token`:
       * the `vaultToken` secret (dev mode's root token, the bootstrap run, a Vault you run yourself).
       */
      login: z
        .strictObject({
          method: z.enum(["jwt", "token"]).optional(),
          /** Which CI system's tokens `pulumi up` logs in with. Default `github`. */
          issuer: z.enum(["github", "pulumi"]).optional(),
          /** GitHub repository whose deploy and preview jobs may log in. */
          githubRepository: z
            .string()
            .regex(/^[\w.-]+\/[\w.-]+$/, { message: 'must be a GitHub repository "owner/name"' })
            .optional(),
          /** The repository's numeric id (GitHub's `repository_id` claim): a renamed or re-created repository of the same name cannot log in. */
          githubRepositoryId: z.number().int().positive().optional(),
          /** Pulumi organization whose Deployments of this stack may log in. */
          pulumiOrganization: z
            .string()
            .regex(/^[\w.-]+$/, { message: "must be a Pulumi organization name" })
            .optional(),
        })
        .optional(),
      /** PEM file (relative to the project, or absolute) with the CA that signed `address`'s certificate. */
      caCertFile: z.string().min(1).optional(),
      /** HA Vault the program installs: scheduled Raft snapshots (components/vault/raft-snapshots.ts). */
      snapshots: z
        .strictObject({
          /** Default: on for an installed HA Vault. */
          enabled: z.boolean().optional(),
          /** The CronJob's schedule: five fields or a descriptor, the controller's time zone. */
          schedule: cron("kubernetes").optional(),
          /** Days a snapshot is kept (the PVC's prune, or the bucket's lifecycle rule). */
          retentionDays: z.number().int().min(1).max(3650).optional(),
          /** Where snapshots go. Default: a PVC in Vault's namespace. */
          destination: z
            .discriminatedUnion("kind", [
              z.strictObject({ kind: z.literal("pvc"), size: kubernetesQuantity.optional(), storageClassName: dnsLabel.optional() }),
              z.strictObject({
                kind: z.literal("s3"),
                /** Created, with its KMS key and a write-only IRSA role, in the `aws` section's account and region. */
                bucketName: z
                  .string()
                  .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { message: "must be an S3 bucket name (3-63 lowercase letters, digits, '.' and '-')" }),
                prefix: snapshotPrefix.optional(),
                uploaderImage: imageByDigest,
              }),
              z.strictObject({
                kind: z.literal("gcs"),
                bucket: z.string().regex(/^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$/, { message: "must be a Cloud Storage bucket name" }),
                prefix: snapshotPrefix.optional(),
                serviceAccountEmail: z.email({ message: "must be a Google service account's email" }),
                uploaderImage: imageByDigest,
              }),
              z.strictObject({
                kind: z.literal("azure"),
                storageAccount: z.string().regex(/^[a-z0-9]{3,24}$/, { message: "must be a storage account name (3-24 lowercase letters and digits)" }),
                container: z.string().regex(/^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/, { message: "must be a blob container name" }),
                prefix: snapshotPrefix.optional(),
                clientId: z.uuid({ message: "must be the managed identity's client id (a UUID)" }),
                uploaderImage: imageByDigest,
              }),
            ])
            .optional(),
        })
        .optional(),
      /** Install Vault in the cluster. `false`: configure a Vault the program does not install, at `address`. Default true. */
      install: z.boolean().optional(),
      /** With install false: the cluster's API server as Vault reaches it, for Kubernetes auth. */
      kubernetesHost: z
        .string()
        .regex(/^https:\/\/[^\s/]+$/, { message: 'must be the API server\'s https:// URL without a path, e.g. "https://203.0.113.10:6443"' })
        .optional(),
      /** With install false: PEM CA of that API server's certificate. */
      kubernetesCaCert: pem.optional(),
      /**
       * With install false: an audience the API server accepts (its service-account issuer, unless
       * --api-audiences says otherwise). ESO's tokens carry it beside "vault", so Vault can send
       * each login's own token to the API server for review.
       */
      kubernetesApiAudience: z.string().regex(/^\S+$/, { message: "must be an audience (no spaces), e.g. the API server's issuer" }).optional(),
    })
    .optional(),
  eso: z
    .strictObject({
      replicas: z.number().int().min(1).max(5).optional(),
      serviceMonitor: z.boolean().optional(),
      refreshInterval: duration.optional(),
      /** Migration: write into existing, hand-made Secrets (`creationPolicy: Merge`) instead of owning them. */
      adoptExisting: z.boolean().optional(),
      /** Digest of ESO's image at the pinned version (`sha256:<64 hex>`), appended to its tag instead of the shipped `ESO_IMAGE_DIGEST`. */
      /** Install ESO with its chart. `false`: the platform team runs ESO (CRDs and controller) already. Default true. */
      install: z.boolean().optional(),
      /** With install false: the controller's ServiceAccount, in namespaces.externalSecrets. Default `external-secrets`. */
      serviceAccount: dnsLabel.optional(),
      /** cert-manager issues the webhook's certificate, and ESO's cert controller (cluster-wide Secret read) is not installed. */
      certManagerIssuer: z
        .strictObject({
          /** `ClusterIssuer` (default) or `Issuer` (then in namespaces.externalSecrets). */
          kind: z.enum(["ClusterIssuer", "Issuer"]).optional(),
          name: dnsLabel,
        })
        .optional(),
      imageDigest: z
        .string()
        .regex(/^sha256:[0-9a-f]{64}$/, {
          message: 'must be "sha256:" and 64 lowercase hex digits (crane digest ghcr.io/external-secrets/external-secrets:v2.9.0)',
        })
        .optional(),
    })
    .optional(),
  generatedKeys: z
    .record(
      z.string(),
      z.strictObject({
        length: z.number().int().max(1024).optional(),
        rotationDays: z.number().int().min(1).max(3650).optional(),
      }),
    )
    .optional(),
  database: z
    .strictObject({
      host: z.string().min(1),
      port: z.number().int().min(1).max(65535).optional(),
      name: sqlIdentifier.optional(),
      adminUsername: sqlIdentifier.optional(),
      appUsername: sqlIdentifier.optional(),
      appGroupRole: sqlIdentifier.optional(),
      appSchema: sqlIdentifier.optional(),
      /** Removed: the static role rotates on `rotationSchedule`. Kept in the schema to name the replacement. */
      rotationPeriod: duration.optional(),
      /** When Vault rotates the schema owner's (migration) password: five-field cron (Vault's static role `rotation_schedule`: no descriptors), UTC. */
      rotationSchedule: cron("vault").optional(),
      /** Lease TTL of each service's database login (Vault role `default_ttl` and `max_ttl`). */
      defaultTtl: duration.optional(),
      /** Removed: leases are never renewed, so the max equals `defaultTtl`. Kept to name the fix. */
      maxTtl: duration.optional(),
      /** How often ESO makes each service a new login; at most half `defaultTtl`. Default: half. */
      refreshInterval: duration.optional(),
      sslMode: z.enum(["disable", "require", "verify-ca", "verify-full"]).optional(),
      /** PEM CA certificate(s) Vault verifies PostgreSQL's certificate with (verify-ca/verify-full). Default: Vault's system roots. */
      caCert: pem.optional(),
      /** Path of the CA file in the services' pods, added to database-url as sslrootcert. Default: libpq's (~/.postgresql/root.crt). */
      sslRootCert: z
        .string()
        .regex(/^\/[A-Za-z0-9._/-]+$/, { message: "must be an absolute file path of letters, digits, '.', '_', '-' and '/'" })
        .optional(),
      verifyConnection: z.boolean().optional(),
    })
    .optional(),
  /** NetworkPolicies around Vault and ESO's controller. */
  network: z
    .strictObject({
      /** Create them. Default: false in development (dev Vault is reached through a NodePort from the host), true elsewhere. */
      policies: z.boolean().optional(),
      /** Source CIDRs allowed to Vault's API (where `pulumi up` runs), as Vault's pods see them. */
      deployerCidrs: z.array(z.cidrv4({ message: "must be an IPv4 CIDR" })).optional(),
      /** Namespaces whose pods may call Vault's API (an ingress controller in front of it, an in-cluster agent). */
      deployerNamespaces: z.array(dnsLabel).optional(),
      /** Where the Kubernetes API server is, for ESO's egress. Default any address, ports 443/6443. */
      apiServerCidrs: z.array(z.cidrv4({ message: "must be an IPv4 CIDR" })).optional(),
    })
    .optional(),
  /** Vault role `pulumi` logs in as, overriding `pulumi-<env>`: previews set `pulumi-<env>-preview`. */
  vaultLoginRole: z.string().regex(VAULT_NAME, { message: "must be a Vault role name" }).optional(),
  rotation: z
    .strictObject({
      /** The secrets-rotation CronJob's schedule: five fields or a descriptor such as `@daily`, in the controller's time zone (UTC on most clusters). */
      schedule: cron("kubernetes").optional(),
      installReloader: z.boolean().optional(),
      /** Stakater Reloader already runs in the cluster and watches the workload namespace (installed by the platform team). */
      reloaderInstalled: z.boolean().optional(),
    })
    .optional(),
  /** Where the three charts come from: a mirror for all, or per chart; versions stay pinned. */
  charts: z
    .strictObject({
      /** Mirror of all three charts: an http(s):// chart repository or an oci:// registry path. */
      repository: chartSource.unwrap().shape.repository,
      vault: chartSource,
      eso: chartSource,
      reloader: chartSource,
    })
    .optional(),
  aws: z
    .strictObject({
      region: z.string().regex(AWS_RULES.region.pattern, { message: AWS_RULES.region.hint }),
      accountId: z.string().regex(AWS_RULES.accountId.pattern, { message: AWS_RULES.accountId.hint }),
      /** The EKS cluster's OIDC issuer without `https://`, e.g. `oidc.eks.eu-west-1.amazonaws.com/id/ABC`. */
      oidcIssuer: z.string().regex(AWS_RULES.oidcIssuer.pattern, { message: AWS_RULES.oidcIssuer.hint }),
    })
    .optional(),
  gcp: z
    .strictObject({
      project: z.string().regex(GCP_PROJECT, { message: "must be a Google Cloud project id (6-30 lowercase letters, digits, '-', starting with a letter)" }),
      /** Empty: automatic replication. Otherwise user-managed replicas in these locations. */
      replicationLocations: z.array(z.string().regex(GCP_LOCATION, { message: 'must be a Google Cloud region such as "europe-west1"' })).optional(),
      /** The GKE cluster ESO runs in (Workload Identity token exchange). */
      clusterName: z.string().min(1),
      clusterLocation: z.string().min(1),
      /** Turn on Secret Manager's Data Access audit logs in the project. Default true. */
      dataAccessAuditLogs: z.boolean().optional(),
    })
    .optional(),
  azure: z
    .strictObject({
      resourceGroupName: z.string().min(1).max(90),
      location: z.string().min(1),
      tenantId: z.uuid({ message: "must be a UUID" }),
      /** The AKS cluster's OIDC issuer URL, for ESO's federated credential. */
      oidcIssuerUrl: url,
      /** Key Vault name, 3-24 characters; default `veza-<env>-kv`. */
      keyVaultName: z
        .string()
        .regex(KEY_VAULT_NAME, {
          message: "must be a Key Vault name (3-24 letters, digits or '-', starting with a letter, ending with a letter or digit, without \"--\")",
        })
        .optional(),
      /** Log Analytics workspace resource id receiving the Key Vault's AuditEvent logs. */
      auditLogWorkspaceId: z.string().regex(/^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.OperationalInsights\/workspaces\/[^/]+$/i, {
        message: "must be a Log Analytics workspace resource id (/subscriptions/.../workspaces/<name>)",
      }),
      /** Public IP ranges (CIDR) allowed through the vault's firewall; everything else is denied. */
      allowedIpRanges: z.array(z.string().regex(KEY_VAULT_IP_RANGE, { message: 'must be an IPv4 address or CIDR range such as "203.0.113.0/24"' })).optional(),
    })
    .optional(),
});

export type RawStackConfig = z.infer<typeof configSchema>;

/** The Log Analytics workspace with azure: the user's subscription, resource group and workspace. */
const AZURE_WORKSPACE = new Placeholder(
  "/subscriptions/<azure-subscription-id>/resourceGroups/<resource-group>/providers/Microsoft.OperationalInsights/workspaces/<log-analytics-workspace>",
);
const AWS_REGION = new Placeholder("<aws-region>");
const AWS_ACCOUNT_ID = new Placeholder("<aws-account-id>", "digits");
const AWS_OIDC_ISSUER = new Placeholder("oidc.eks.<aws-region>.amazonaws.com/id/<eks-oidc-id>");
const GCP_PROJECT_ID = new Placeholder("<gcp-project-id>");
const AZURE_TENANT_ID = new Placeholder("<azure-tenant-id>");
const AZURE_OIDC_ISSUER = new Placeholder("<aks-oidc-issuer-url>");
const POSTGRES_HOST = new Placeholder("<postgres-host>");
const CHART_MIRROR = new Placeholder("oci://<registry-host>/<path>");

/**
 * Example values, by config path (array indices as `[]`, record keys as `*`), typed as the
 * schema wants them, used to print the `pulumi config set` commands that fix a bad key
 * (one command per leaf; `stacks/fixes.ts`). Each is one of three kinds:
 * - a real default or a value that works for anyone (`vault-tls`, `"0 3 * * *"`, `true`);
 * - a `Computed` value, which the shell works out when the fix runs (a digest, a file's text,
 *   the cluster's API server);
 * - a `Placeholder`, a value only the person knows (their host, account, key, CIDR), printed
 *   marked `<...>`: pasted as is, the program refuses it by name.
 * Every example must pass the schema once its placeholders are filled (`stacks/config-*.test.ts`
 * apply each printed fix, with test/fix-check.ts's stand-ins, and validate again). A function
 * gives the example for the stack's environment (names that carry it).
 */
export const EXAMPLES: Record<string, unknown> = {
  providers: ["vault"],
  "providers[]": "vault",
  "namespaces.workloads": (env: Environment) => `veza-${env}`,
  "namespaces.vault": "vault-system",
  "namespaces.externalSecrets": "external-secrets-system",
  "vault.mode": "ha",
  "vault.replicas": 3,
  "vault.address": new Placeholder("https://<vault-host>:8200"),
  "vault.tlsSecretName": "vault-tls",
  "vault.storageSize": "10Gi",
  "vault.auditStorageSize": "10Gi",
  "vault.bootstrapped": true,
  "vault.devNodePort": 30820,
  "vault.seal": {
    type: "awskms",
    region: AWS_REGION,
    kmsKeyId: new Placeholder("<kms-key-id>"),
    roleArn: new Placeholder("arn:aws:iam::<aws-account-id>:role/<vault-unseal-role>"),
  },
  "vault.seal.type": "awskms",
  "vault.seal.project": GCP_PROJECT_ID,
  "vault.seal.keyRing": new Placeholder("<key-ring>"),
  "vault.seal.cryptoKey": new Placeholder("<crypto-key>"),
  "vault.seal.serviceAccountEmail": new Placeholder("<vault-service-account>@<gcp-project-id>.iam.gserviceaccount.com"),
  "vault.seal.tenantId": AZURE_TENANT_ID,
  "vault.seal.vaultName": new Placeholder("<key-vault-name>"),
  "vault.seal.keyName": new Placeholder("<key-name>"),
  "vault.seal.clientId": new Placeholder("<azure-client-id>"),
  "vault.resources": { requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "1", memory: "1Gi" } },
  "vault.login.method": "jwt",
  "vault.login.issuer": "github",
  // This repository, as the committed stacks name it.
  "vault.login.githubRepository": "veza/veza-secrets",
  "vault.login.pulumiOrganization": "veza",
  // gh api repos/<owner>/<repo> --jq .id (docs/vault-bootstrap.md, step 6).
  "vault.login.githubRepositoryId": new Placeholder("<github-repository-id>", "number"),
  // The key exists for previews, which log in with the read-only role.
  // Production has no preview login (nothing previews it with credentials on a pull request).
  vaultLoginRole: (env: Environment) => (env === "production" ? "pulumi-production" : `pulumi-${env}-preview`),
  "network.policies": true,
  "network.deployerCidrs[]": new Placeholder("<deployer-cidr>"),
  "network.deployerNamespaces[]": new Placeholder("<deployer-namespace>"),
  // The API server as pods reach it (NetworkPolicies see the endpoints, not the Service's IP).
  "network.apiServerCidrs[]": new Computed(
    "kubectl get endpointslices -n default -l kubernetes.io/service-name=kubernetes -o jsonpath='{.items[0].endpoints[0].addresses[0]}/32'",
  ),
  // Not certs/vault-ca.pem: the committed file is an example CA (certs/README.md).
  "vault.caCertFile": new Placeholder("<vault-ca-file>"),
  "vault.install": true,
  "vault.snapshots.enabled": true,
  "vault.snapshots.schedule": "15 2 * * *",
  "vault.snapshots.retentionDays": 30,
  "vault.snapshots.destination": { kind: "pvc" },
  "vault.snapshots.destination.kind": "pvc",
  "vault.snapshots.destination.size": "10Gi",
  "vault.snapshots.destination.storageClassName": new Placeholder("<storage-class>"),
  "vault.snapshots.destination.bucketName": new Placeholder("<snapshot-bucket>"),
  "vault.snapshots.destination.bucket": new Placeholder("<snapshot-bucket>"),
  "vault.snapshots.destination.prefix": "vault/production/",
  "vault.snapshots.destination.uploaderImage": new Placeholder("<image>@sha256:<digest>"),
  "vault.snapshots.destination.serviceAccountEmail": new Placeholder("<service-account>@<project>.iam.gserviceaccount.com"),
  "vault.snapshots.destination.storageAccount": new Placeholder("<storage-account>"),
  "vault.snapshots.destination.container": new Placeholder("<container>"),
  "vault.snapshots.destination.clientId": new Placeholder("<managed-identity-client-id>"),
  // The API server as kubectl reaches it, and its CA: read from the kubeconfig when the fix runs.
  "vault.kubernetesHost": new Computed("kubectl config view --minify -o jsonpath='{.clusters[0].cluster.server}'"),
  "vault.kubernetesCaCert": new Computed("kubectl config view --raw --minify -o jsonpath='{.clusters[0].cluster.certificate-authority-data}' | base64 -d"),
  // The API server's issuer (kubectl get --raw /.well-known/openid-configuration): cluster-specific.
  "vault.kubernetesApiAudience": new Placeholder("<api-server-issuer>"),
  "eso.install": true,
  "eso.serviceAccount": "external-secrets",
  "eso.certManagerIssuer.kind": "ClusterIssuer",
  "eso.certManagerIssuer.name": new Placeholder("<issuer-name>"),
  "rotation.reloaderInstalled": true,
  "charts.repository": CHART_MIRROR,
  "charts.vault.repository": CHART_MIRROR,
  "charts.eso.repository": CHART_MIRROR,
  "charts.reloader.repository": CHART_MIRROR,
  "charts.vault.path": new Placeholder("<vault-chart-dir>"),
  "charts.eso.path": new Placeholder("<external-secrets-chart-dir>"),
  "charts.reloader.path": new Placeholder("<reloader-chart-dir>"),
  "eso.refreshInterval": "1h",
  "eso.replicas": 2,
  "eso.serviceMonitor": true,
  "eso.adoptExisting": true,
  // No digest can be invented: the fix looks it up (crane, go-containerregistry) when run.
  "eso.imageDigest": new Computed("crane digest ghcr.io/external-secrets/external-secrets:v2.9.0"),
  "generatedKeys.*.length": 64,
  "generatedKeys.*.rotationDays": 90,
  database: { host: POSTGRES_HOST },
  "database.host": POSTGRES_HOST,
  "database.port": 5432,
  "database.name": "veza",
  "database.adminUsername": "vault_admin",
  "database.appUsername": "veza_app",
  "database.appGroupRole": "veza_app_group",
  "database.appSchema": "veza",
  "database.rotationSchedule": "0 4 * * 0",
  "database.defaultTtl": "4h",
  "database.refreshInterval": "2h",
  "database.sslMode": "verify-full",
  // The CA's PEM text, read from the user's file when the fix runs.
  "database.caCert": new Computed("cat '<postgres-ca-file>'"),
  "database.sslRootCert": new Placeholder("<ca-file-in-pods>"),
  "database.verifyConnection": true,
  "rotation.schedule": "0 3 * * *",
  "rotation.installReloader": true,
  aws: { region: AWS_REGION, accountId: AWS_ACCOUNT_ID, oidcIssuer: AWS_OIDC_ISSUER },
  "aws.region": AWS_REGION,
  "aws.accountId": AWS_ACCOUNT_ID,
  "aws.oidcIssuer": AWS_OIDC_ISSUER,
  gcp: { project: GCP_PROJECT_ID, clusterName: new Placeholder("<gke-cluster-name>"), clusterLocation: new Placeholder("<gke-cluster-location>") },
  "gcp.project": GCP_PROJECT_ID,
  "gcp.replicationLocations[]": new Placeholder("<gcp-region>"),
  azure: {
    resourceGroupName: new Placeholder("<resource-group>"),
    location: new Placeholder("<azure-location>"),
    tenantId: AZURE_TENANT_ID,
    oidcIssuerUrl: AZURE_OIDC_ISSUER,
    auditLogWorkspaceId: AZURE_WORKSPACE,
  },
  "azure.tenantId": AZURE_TENANT_ID,
  "azure.oidcIssuerUrl": AZURE_OIDC_ISSUER,
  "azure.keyVaultName": (env: Environment) => `veza-${env}-kv`,
  "azure.allowedIpRanges[]": new Placeholder("<allowed-ip-range>"),
  "azure.auditLogWorkspaceId": AZURE_WORKSPACE,
};
