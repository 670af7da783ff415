/**
 * Scheduled Raft snapshots of an HA Vault: a CronJob in Vault's namespace that logs in with
 * Kubernetes auth to a role whose one policy grants `read` on `sys/storage/raft/snapshot`,
 * saves a snapshot, refuses an empty or unreadable one (the Job fails, so an alert on failed
 * Jobs sees it: never a silent success), and keeps it on a PVC or uploads it to object storage.
 *
 * Environment-free: the caller gives the namespace, Vault's address and CA, the images, the
 * schedule, the retention and the destination. Open-source Vault has no automated snapshots
 * (an Enterprise feature, vault-helm#453), hence this Job.
 *
 * A snapshot is Vault's whole storage, encrypted with its barrier key: useless without the
 * unseal keys (or the KMS key of an auto-unseal), but still the most sensitive object the
 * platform stores. Hence a writer that can only add objects under its prefix, versioning, and
 * a customer-managed key where this component creates the bucket.
 *
 * Destinations:
 * - `pvc`: a PersistentVolumeClaim this component creates; the Job prunes files older than
 *   `retentionDays`. Survives a pod, not the loss of the cluster or its storage: a stopgap.
 * - `s3`: this component creates the bucket (versioning, SSE-KMS with its own key, lifecycle
 *   retention, public access blocked, TLS only) and an IRSA role that may only `PutObject`
 *   under `prefix`; the uploader uses it through a projected token of its own.
 * - `gcs`, `azure`: an EXISTING bucket or container and identity (see their TSDoc for what
 *   they must have): creating them cleanly needs project- and tenant-level wiring (the GCS
 *   service agent's key grant, a Key Vault for the storage account's key) that belongs to
 *   the platform's cloud layer, not to a Vault component.
 */
import * as k8sBatch from "@pulumi/kubernetes/batch/v1";
import * as k8sCore from "@pulumi/kubernetes/core/v1";
import type * as k8sInput from "@pulumi/kubernetes/types/input";
import type { Provider as KubernetesProvider } from "@pulumi/kubernetes/provider";
import * as iam from "@pulumi/aws/iam";
import * as kms from "@pulumi/aws/kms";
import * as s3 from "@pulumi/aws/s3";
import * as pulumi from "@pulumi/pulumi";
import * as vaultKubernetes from "@pulumi/vault/kubernetes";
import { Policy } from "@pulumi/vault/policy";
import { AWS_RULES } from "../backends/aws-rules";
import { type PolicyDocument, keyPolicy } from "../backends/aws-secrets";
import { cronMessage, cronProblem } from "../cron";
import { DNS_LABEL, DNS_SUBDOMAIN, QUANTITY, VAULT_NAME, VAULT_PATH } from "../rules";

/** The one Vault path the snapshot identity may touch. */
export const SNAPSHOT_PATH = "sys/storage/raft/snapshot";

/**
 * The snapshot token: a batch token (no storage entry per nightly login, nothing to revoke),
 * without Vault's `default` policy (it needs no lookup or renewal of itself), for five
 * minutes. Vault checks the token when the request starts; the snapshot then streams however
 * long it takes.
 */
export const SNAPSHOT_TOKEN = { type: "batch", ttlSeconds: 300, noDefaultPolicy: true } as const;

/** Bounds of each Job: retries of a failed pod, and the wall-clock limit of the whole Job. */
export const SNAPSHOT_JOB_LIMITS = { backoffLimit: 2, activeDeadlineSeconds: 900, startingDeadlineSeconds: 3600 } as const;

/** The Vault image's user and group (hashicorp/vault: `vault`, 100:1000). */
const VAULT_USER = { runAsUser: 100, runAsGroup: 1000 } as const;
/** Where the pod reads its Vault token and Vault's CA (a projected volume). */
const VAULT_CREDENTIALS_DIR = "/var/run/secrets/vault";
/** Where the snapshot is written: the PVC, or an emptyDir the uploader reads. */
const SNAPSHOT_DIR = "/snapshots";
/** The uploader's AWS web-identity token (its own projected token, audience STS). */
const AWS_TOKEN_DIR = "/var/run/secrets/aws";

/**
 * The snapshot policy (HCL): `read` on `sys/storage/raft/snapshot`, nothing else. `read` is a
 * GET, i.e. a save; a restore is a POST to the same path (`update`) or to `snapshot-force`,
 * which it does not grant.
 */
export function snapshotPolicy(): string {
  return `# Raft snapshots (GET ${SNAPSHOT_PATH}): save only. Restoring is a POST, which this does not grant.\npath "${SNAPSHOT_PATH}" {\n  capabilities = ["read"]\n}\n`;
}

/** Keep snapshots on a PersistentVolumeClaim this component creates in Vault's namespace. */
export interface PvcDestination {
  kind: "pvc";
  /** Name of the PVC (created). */
  claimName: string;
  /** Its size, e.g. `10Gi`: room for `retentionDays` snapshots. */
  size: string;
  /** Storage class. Default: the cluster's default class. */
  storageClassName?: string;
}

/**
 * Upload to an S3 bucket this component creates, with its KMS key and the uploader's IRSA role.
 * Needs the EKS cluster's IAM OIDC provider in `accountId` (created with the cluster).
 */
export interface S3Destination {
  kind: "s3";
  /** Bucket name (created; globally unique, 3-63 lowercase letters, digits, `.` and `-`). */
  bucketName: string;
  /** Key prefix, path segments each ending in `/`, e.g. `vault/production/`. The role may write only under it. */
  prefix: string;
  /** Region of the bucket and key, e.g. `eu-west-1`. */
  region: string;
  /** AWS account id (12 digits) of the bucket, the key and the OIDC provider. */
  accountId: string;
  /** The EKS OIDC issuer without `https://`, e.g. `oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE`. */
  oidcIssuer: string;
}

/**
 * Upload to an EXISTING Google Cloud Storage bucket, as an EXISTING Google service account
 * through GKE Workload Identity (the ServiceAccount is annotated with it). The bucket must
 * have object versioning, a default Cloud KMS key, and a lifecycle rule deleting objects under
 * `prefix` older than `retentionDays` (this component cannot set it on a bucket it does not
 * own); the Google service account needs `roles/storage.objectCreator` on the bucket only,
 * with an IAM condition `resource.name.startsWith("projects/_/buckets/<bucket>/objects/<prefix>")`,
 * and `roles/iam.workloadIdentityUser` for `<namespace>/<jobName>`.
 */
export interface GcsDestination {
  kind: "gcs";
  bucket: string;
  /** Object prefix, path segments each ending in `/`. */
  prefix: string;
  serviceAccountEmail: string;
}

/**
 * Upload to an EXISTING Azure Blob container, as an EXISTING user-assigned managed identity
 * through Azure Workload Identity (the ServiceAccount is annotated with its client id, the pod
 * labelled; the identity's federated credential must name `system:serviceaccount:<namespace>:<jobName>`).
 * The storage account must have blob versioning, a customer-managed key, and a lifecycle
 * management rule deleting blobs under `prefix` older than `retentionDays`; the identity needs
 * `Storage Blob Data Contributor` on the container only, with an ABAC condition limiting writes
 * to blobs under `prefix` (and no delete).
 */
export interface AzureDestination {
  kind: "azure";
  storageAccount: string;
  container: string;
  /** Blob name prefix, path segments each ending in `/`. */
  prefix: string;
  /** The managed identity's client id. */
  clientId: string;
}

export type SnapshotDestination = PvcDestination | S3Destination | GcsDestination | AzureDestination;

export interface RaftSnapshotsArgs {
  /** Vault's namespace: the CronJob, its ServiceAccount and the PVC go there. Created by the caller. */
  namespace: pulumi.Input<string>;
  /**
   * Vault's address as the pod reaches it, e.g. `https://vault-active.vault.svc:8200`: the
   * active node's Service, so the snapshot is not proxied through a standby.
   */
  vaultAddress: pulumi.Input<string>;
  /** Secret in `namespace` holding Vault's CA under `ca.crt` (the TLS Secret): only that key is mounted. */
  vaultCaSecretName: pulumi.Input<string>;
  /** Mount path of the Kubernetes auth method, which the caller has enabled and configured. Default `kubernetes`. */
  authPath?: string;
  /** Name of the CronJob and its ServiceAccount (≤ 52 characters, a DNS label). Default `vault-raft-snapshots`. */
  jobName?: string;
  /** Name of the Vault policy and of the Kubernetes auth role. Default `vault-raft-snapshots`. */
  vaultName?: string;
  /** Five-field cron schedule (the controller's time zone, UTC on managed clusters), e.g. `15 2 * * *`. */
  schedule: string;
  /** Days a snapshot is kept: the PVC prune, or the bucket's lifecycle rule. 1 to 3650. */
  retentionDays: number;
  /**
   * Image with the `vault` CLI and a POSIX shell, pinned by digest (a tag alone is refused),
   * e.g. `hashicorp/vault:2.0.4@sha256:…`. Runs as the image's `vault` user (100:1000).
   */
  image: string;
  /**
   * Cloud destinations: the image with the cloud's CLI (`aws`, `gcloud`, `az`), pinned by
   * digest. Not used (and refused) with `pvc`.
   */
  uploaderImage?: string;
  /** Where snapshots go. */
  destination: SnapshotDestination;
  /** Vault provider that writes the policy and the role (an identity allowed to write them). */
  vaultProvider: pulumi.ProviderResource;
  /** Kubernetes provider. Default: the stack's default provider. */
  kubernetesProvider?: KubernetesProvider;
  /** AWS provider for the `s3` destination. Default: the stack's default provider. */
  awsProvider?: pulumi.ProviderResource;
  /** Extra labels on every Kubernetes object and the pods (e.g. for NetworkPolicies). */
  labels?: Record<string, string>;
  /** Tags on the AWS resources. Never put a value here: tags are plain text. */
  tags?: Record<string, string>;
  /**
   * Protect what holds snapshots (the PVC, the bucket and its key) from `pulumi destroy`.
   * Default `false`; set it wherever the snapshots matter.
   */
  protect?: boolean;
  /** What must exist first (Vault's release, the Kubernetes auth method's config). */
  dependsOn?: pulumi.Input<pulumi.Resource>[];
}

/** Quote a word for a POSIX shell: bare when safe, else single-quoted. */
function sh(word: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The snapshot step's options: where the file goes, and whether to prune (PVC). */
export interface SnapshotScriptOptions {
  /** Path of the snapshot file the step leaves behind (its name may contain `$stamp`). */
  file: string;
  /** Prune `vault-raft-*.snap` files in the file's directory older than this many days. */
  pruneDays?: number;
}

/**
 * The save step alone (the token already in `VAULT_TOKEN`): save to a `.partial` file, fail
 * if it is empty or `vault operator raft snapshot inspect` cannot read it, then rename it. The
 * save fails too when `VAULT_ADDR` is a standby: it answers a redirect the CLI does not follow
 * ("incomplete snapshot"), hence the active node's Service.
 * The e2e runs exactly this against a real Raft cluster.
 */
export function snapshotSaveStep(o: SnapshotScriptOptions): string {
  const lines = [
    `file="${o.file}"`,
    // Whatever fails, no half-written file stays behind (on a PVC it would never be pruned).
    `trap 'rm -f "$file.partial"' EXIT`,
    `vault operator raft snapshot save "$file.partial"`,
    `if [ ! -s "$file.partial" ]; then echo "vault-raft-snapshot: the snapshot is empty; failing the Job" >&2; exit 1; fi`,
    `vault operator raft snapshot inspect "$file.partial" >/dev/null`,
    // vault writes the file 0600 whatever the umask (seen in npm run e2e:raft): the uploader
    // (another user) reads it through the pod's fsGroup, which owns the file in the set-group-ID volume.
    `chmod 0640 "$file.partial"`,
    `mv "$file.partial" "$file"`,
    `echo "vault-raft-snapshot: saved $file ($(wc -c < "$file") bytes)"`,
  ];
  if (o.pruneDays !== undefined) {
    const dir = o.file.slice(0, o.file.lastIndexOf("/")) || "/";
    lines.push(`find ${sh(dir)} -maxdepth 1 -type f -name 'vault-raft-*.snap' -mtime +${o.pruneDays} -print -delete`);
  }
  return lines.join("\n");
}

/** The whole snapshot script (`sh -c`): `set -eu`, the Kubernetes auth login, then the save step. */
export function snapshotScript(o: SnapshotScriptOptions): string {
  return [
    "set -eu",
    // Owner and group only: the uploader reads the file through the pod's fsGroup.
    "umask 027",
    'stamp="$(date -u +%Y%m%dT%H%M%SZ)"',
    // The token never reaches the log or the process list: a command substitution into a variable.
    `VAULT_TOKEN="$(vault write -field=token "auth/$VAULT_AUTH_PATH/login" role="$VAULT_ROLE" jwt=@${VAULT_CREDENTIALS_DIR}/token)"`,
    "export VAULT_TOKEN",
    snapshotSaveStep(o),
  ].join("\n");
}

/** The uploader's script for a cloud destination (`sh -c`, `set -eu`): refuse an empty file, upload it under the prefix. */
export function uploadScript(d: Exclude<SnapshotDestination, PvcDestination>, file: string): string {
  const head = [
    "set -eu",
    `file="${file}"`,
    `if [ ! -s "$file" ]; then echo "vault-raft-snapshot: no snapshot to upload; failing the Job" >&2; exit 1; fi`,
    `name="${d.prefix}vault-raft-$(date -u +%Y%m%dT%H%M%SZ).snap"`,
  ];
  switch (d.kind) {
    case "s3":
      // One PUT (no multipart): the role needs only PutObject and GenerateDataKey; up to 5 GB.
      return [
        ...head,
        `aws s3api put-object --bucket ${sh(d.bucketName)} --key "$name" --body "$file" --server-side-encryption aws:kms --ssekms-key-id "$SNAPSHOT_KMS_KEY_ARN" >/dev/null`,
        `echo "vault-raft-snapshot: uploaded s3://${d.bucketName}/$name"`,
      ].join("\n");
    case "gcs":
      return [...head, `gcloud storage cp "$file" "gs://${d.bucket}/$name"`, `echo "vault-raft-snapshot: uploaded gs://${d.bucket}/$name"`].join("\n");
    case "azure":
      return [
        ...head,
        'az login --service-principal --username "$AZURE_CLIENT_ID" --tenant "$AZURE_TENANT_ID" --federated-token "$(cat "$AZURE_FEDERATED_TOKEN_FILE")" --output none',
        `az storage blob upload --auth-mode login --account-name ${sh(d.storageAccount)} --container-name ${sh(d.container)} --name "$name" --file "$file" --no-progress --output none`,
        `echo "vault-raft-snapshot: uploaded ${d.storageAccount}/${d.container}/$name"`,
      ].join("\n");
  }
}

/** The S3 uploader's trust policy: only this ServiceAccount's projected token, audience STS. */
export function s3WriterTrustPolicy(d: Pick<S3Destination, "accountId" | "oidcIssuer">, serviceAccount: { namespace: string; name: string }): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "VaultRaftSnapshotsServiceAccount",
        Effect: "Allow",
        Principal: { Federated: `arn:aws:iam::${d.accountId}:oidc-provider/${d.oidcIssuer}` },
        Action: "sts:AssumeRoleWithWebIdentity",
        Condition: {
          StringEquals: {
            [`${d.oidcIssuer}:sub`]: `system:serviceaccount:${serviceAccount.namespace}:${serviceAccount.name}`,
            [`${d.oidcIssuer}:aud`]: "sts.amazonaws.com",
          },
        },
      },
    ],
  };
}

/** The S3 uploader's permissions: `PutObject` under the prefix, and the key's data keys only through S3. Nothing reads, lists or deletes. */
export function s3WriterPolicy(d: Pick<S3Destination, "bucketName" | "prefix" | "region">, kmsKeyArn: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      { Sid: "PutSnapshotsUnderPrefix", Effect: "Allow", Action: "s3:PutObject", Resource: `arn:aws:s3:::${d.bucketName}/${d.prefix}*` },
      {
        Sid: "EncryptThroughS3",
        Effect: "Allow",
        Action: "kms:GenerateDataKey",
        Resource: kmsKeyArn,
        Condition: { StringEquals: { "kms:ViaService": `s3.${d.region}.amazonaws.com` } },
      },
    ],
  };
}

/** The bucket policy: refuse every request over plain HTTP. */
export function s3TlsOnlyPolicy(bucketName: string): Record<string, unknown> {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "TlsOnly",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: [`arn:aws:s3:::${bucketName}`, `arn:aws:s3:::${bucketName}/*`],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
    ],
  };
}

const DIGEST = /@sha256:[0-9a-f]{64}$/;
const PREFIX = /^([A-Za-z0-9_.-]+\/)+$/;
const S3_BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** Problems with the args, each naming the argument and the fix. Empty: valid. */
export function raftSnapshotsErrors(args: RaftSnapshotsArgs): string[] {
  const errors: string[] = [];
  const d = args.destination;
  const cron = cronProblem(args.schedule, "kubernetes");
  if (cron) errors.push(`[schedule] ${cronMessage(cron, "kubernetes")}; got "${args.schedule}".`);
  if (!Number.isInteger(args.retentionDays) || args.retentionDays < 1 || args.retentionDays > 3650)
    errors.push(`[retentionDays] must be a whole number of days from 1 to 3650; got ${args.retentionDays}.`);
  if (!DIGEST.test(args.image)) errors.push(`[image] must be pinned by digest, such as "hashicorp/vault:2.0.4@sha256:<64 hex>"; got "${args.image}".`);
  if (d.kind === "pvc") {
    if (args.uploaderImage !== undefined) errors.push(`[uploaderImage] is only used with a cloud destination; remove it for "pvc".`);
    if (!DNS_SUBDOMAIN.test(d.claimName)) errors.push(`[destination.claimName] must be a DNS subdomain such as "vault-snapshots"; got "${d.claimName}".`);
    if (!QUANTITY.test(d.size)) errors.push(`[destination.size] must be a Kubernetes quantity such as "10Gi"; got "${d.size}".`);
  } else {
    if (args.uploaderImage === undefined) errors.push(`[uploaderImage] is required for "${d.kind}": an image with the cloud's CLI, pinned by digest.`);
    else if (!DIGEST.test(args.uploaderImage))
      errors.push(`[uploaderImage] must be pinned by digest, such as "amazon/aws-cli:2.27.0@sha256:<64 hex>"; got "${args.uploaderImage}".`);
    if (!PREFIX.test(d.prefix)) errors.push(`[destination.prefix] must be path segments each ending in "/", such as "vault/production/"; got "${d.prefix}".`);
  }
  if (d.kind === "s3") {
    if (!S3_BUCKET.test(d.bucketName)) errors.push(`[destination.bucketName] must be 3-63 lowercase letters, digits, "." or "-"; got "${d.bucketName}".`);
    for (const field of ["region", "accountId", "oidcIssuer"] as const) {
      const rule = AWS_RULES[field];
      if (!rule.pattern.test(d[field])) errors.push(`[destination.${field}] ${rule.hint}; got "${d[field]}".`);
    }
  }
  const jobName = args.jobName ?? "vault-raft-snapshots";
  if (!DNS_LABEL.test(jobName) || jobName.length > 52)
    errors.push(`[jobName] must be a DNS label of at most 52 characters (a CronJob's limit); got "${jobName}".`);
  const vaultName = args.vaultName ?? "vault-raft-snapshots";
  if (!VAULT_NAME.test(vaultName)) errors.push(`[vaultName] must be lowercase letters, digits, "_" or "-"; got "${vaultName}".`);
  const authPath = args.authPath ?? "kubernetes";
  if (!VAULT_PATH.test(authPath)) errors.push(`[authPath] must be a Vault mount path such as "kubernetes"; got "${authPath}".`);
  return errors;
}

/** The restricted-profile container security context, as the given user. */
function restricted(user: { runAsUser: number; runAsGroup: number }): k8sInput.core.v1.SecurityContext {
  return {
    runAsNonRoot: true,
    ...user,
    readOnlyRootFilesystem: true,
    allowPrivilegeEscalation: false,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
  };
}

/** The snapshot CronJob, its Vault identity (policy and role), and where snapshots go. */
export class RaftSnapshots extends pulumi.ComponentResource {
  /** The CronJob's name (also its ServiceAccount's). */
  public readonly cronJobName: pulumi.Output<string>;
  /** The Vault policy's name. */
  public readonly policyName: pulumi.Output<string>;
  /** The Kubernetes auth role's name. */
  public readonly roleName: pulumi.Output<string>;
  /** Labels of the Job's pods (a NetworkPolicy must let them reach Vault, and the uploader its object store). */
  public readonly podLabels: Record<string, string>;
  /** Where snapshots land: `pvc://<claim>`, `s3://<bucket>/<prefix>`, `gs://…`, `https://<account>.blob.core.windows.net/<container>/<prefix>`. */
  public readonly location: pulumi.Output<string>;
  /** `s3`: the uploader's IAM role. */
  public readonly roleArn?: pulumi.Output<string>;
  /** `s3`: the bucket's KMS key. */
  public readonly kmsKeyArn?: pulumi.Output<string>;

  constructor(name: string, args: RaftSnapshotsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("veza:vault:RaftSnapshots", name, {}, opts);
    const errors = raftSnapshotsErrors(args);
    if (errors.length > 0) throw new pulumi.ResourceError(errors.join(" "), this);
    const d = args.destination;
    const jobName = args.jobName ?? "vault-raft-snapshots";
    const vaultName = args.vaultName ?? "vault-raft-snapshots";
    const authPath = args.authPath ?? "kubernetes";
    const labels = { "app.kubernetes.io/name": jobName, "app.kubernetes.io/part-of": "vault", "app.kubernetes.io/managed-by": "pulumi", ...args.labels };
    const podLabels = { ...labels, ...(d.kind === "azure" ? { "azure.workload.identity/use": "true" } : {}) };
    const k8s: pulumi.CustomResourceOptions = { parent: this, provider: args.kubernetesProvider };
    const vaultOpts: pulumi.CustomResourceOptions = { parent: this, provider: args.vaultProvider, dependsOn: args.dependsOn };
    const aws: pulumi.CustomResourceOptions = { parent: this, provider: args.awsProvider };
    // Where snapshots are kept: deleting these loses them.
    const precious = (o: pulumi.CustomResourceOptions) => pulumi.mergeOptions(o, { protect: args.protect ?? false });
    const ns = pulumi.output(args.namespace);

    // The Vault side: one policy, one role bound to this ServiceAccount in this namespace.
    const policy = new Policy(`${name}-policy`, { name: vaultName, policy: snapshotPolicy() }, vaultOpts);
    const role = new vaultKubernetes.AuthBackendRole(
      `${name}-role`,
      {
        backend: authPath,
        roleName: vaultName,
        boundServiceAccountNames: [jobName],
        boundServiceAccountNamespaces: [args.namespace],
        audience: "vault",
        tokenPolicies: [policy.name],
        tokenType: SNAPSHOT_TOKEN.type,
        tokenTtl: SNAPSHOT_TOKEN.ttlSeconds,
        tokenMaxTtl: SNAPSHOT_TOKEN.ttlSeconds,
        tokenNoDefaultPolicy: SNAPSHOT_TOKEN.noDefaultPolicy,
      },
      vaultOpts,
    );

    // The destination's resources, the uploader's identity and how the pod reaches them.
    let saAnnotations: Record<string, pulumi.Input<string>> = {};
    let location: pulumi.Output<string>;
    const uploaderEnv: k8sInput.core.v1.EnvVar[] = [];
    const uploaderVolumes: k8sInput.core.v1.Volume[] = [];
    const uploaderMounts: k8sInput.core.v1.VolumeMount[] = [];
    let snapshotVolume: k8sInput.core.v1.Volume;
    switch (d.kind) {
      case "pvc": {
        const claim = new k8sCore.PersistentVolumeClaim(
          `${name}-pvc`,
          {
            metadata: { name: d.claimName, namespace: args.namespace, labels },
            spec: {
              accessModes: ["ReadWriteOnce"],
              resources: { requests: { storage: d.size } },
              ...(d.storageClassName ? { storageClassName: d.storageClassName } : {}),
            },
          },
          precious(k8s),
        );
        snapshotVolume = { name: "snapshots", persistentVolumeClaim: { claimName: claim.metadata.name } };
        location = pulumi.interpolate`pvc://${ns}/${claim.metadata.name}`;
        break;
      }
      case "s3": {
        const key = new kms.Key(
          `${name}-key`,
          {
            description: `Encrypts Vault's Raft snapshots in s3://${d.bucketName}/${d.prefix}`,
            enableKeyRotation: true,
            deletionWindowInDays: 30,
            policy: JSON.stringify(keyPolicy(d.accountId)),
            region: d.region,
            tags: args.tags,
          },
          precious(aws),
        );
        const bucket = new s3.Bucket(`${name}-bucket`, { bucket: d.bucketName, forceDestroy: false, region: d.region, tags: args.tags }, precious(aws));
        const onBucket = pulumi.mergeOptions(aws, { dependsOn: [bucket] });
        new s3.BucketPublicAccessBlock(
          `${name}-bucket`,
          { bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true, region: d.region },
          onBucket,
        );
        new s3.BucketVersioning(`${name}-bucket`, { bucket: bucket.id, versioningConfiguration: { status: "Enabled" }, region: d.region }, onBucket);
        new s3.BucketServerSideEncryptionConfiguration(
          `${name}-bucket`,
          {
            bucket: bucket.id,
            rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: key.arn }, bucketKeyEnabled: true }],
            region: d.region,
          },
          onBucket,
        );
        new s3.BucketLifecycleConfiguration(
          `${name}-bucket`,
          {
            bucket: bucket.id,
            rules: [
              {
                id: "snapshot-retention",
                status: "Enabled",
                filter: { prefix: d.prefix },
                // The current object expires (a delete marker), the version it leaves then goes too.
                expiration: { days: args.retentionDays },
                noncurrentVersionExpiration: { noncurrentDays: args.retentionDays },
                abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
              },
              { id: "expired-delete-markers", status: "Enabled", filter: { prefix: d.prefix }, expiration: { expiredObjectDeleteMarker: true } },
            ],
            region: d.region,
          },
          onBucket,
        );
        new s3.BucketPolicy(`${name}-bucket`, { bucket: bucket.id, policy: JSON.stringify(s3TlsOnlyPolicy(d.bucketName)), region: d.region }, onBucket);
        const writer = new iam.Role(
          `${name}-writer`,
          {
            description: `Vault's Raft snapshot Job writes under s3://${d.bucketName}/${d.prefix}`,
            assumeRolePolicy: ns.apply((namespace) => JSON.stringify(s3WriterTrustPolicy(d, { namespace, name: jobName }))),
            tags: args.tags,
          },
          aws,
        );
        new iam.RolePolicy(`${name}-writer`, { role: writer.id, policy: key.arn.apply((arn) => JSON.stringify(s3WriterPolicy(d, arn))) }, aws);
        this.roleArn = writer.arn;
        this.kmsKeyArn = key.arn;
        // The uploader's own projected token for STS (not the Vault one), and the SDK's web-identity settings.
        uploaderVolumes.push({
          name: "aws-token",
          projected: { sources: [{ serviceAccountToken: { audience: "sts.amazonaws.com", expirationSeconds: 3600, path: "token" } }] },
        });
        uploaderMounts.push({ name: "aws-token", mountPath: AWS_TOKEN_DIR, readOnly: true });
        uploaderEnv.push(
          { name: "AWS_ROLE_ARN", value: writer.arn },
          { name: "AWS_WEB_IDENTITY_TOKEN_FILE", value: `${AWS_TOKEN_DIR}/token` },
          { name: "AWS_REGION", value: d.region },
          { name: "AWS_STS_REGIONAL_ENDPOINTS", value: "regional" },
          { name: "SNAPSHOT_KMS_KEY_ARN", value: key.arn },
        );
        snapshotVolume = { name: "snapshots", emptyDir: { sizeLimit: "4Gi" } };
        location = pulumi.interpolate`s3://${bucket.bucket}/${d.prefix}`;
        break;
      }
      case "gcs":
        saAnnotations = { "iam.gke.io/gcp-service-account": d.serviceAccountEmail };
        uploaderEnv.push({ name: "CLOUDSDK_CONFIG", value: "/tmp/gcloud" });
        snapshotVolume = { name: "snapshots", emptyDir: { sizeLimit: "4Gi" } };
        location = pulumi.output(`gs://${d.bucket}/${d.prefix}`);
        break;
      case "azure":
        // The workload-identity webhook injects AZURE_CLIENT_ID, AZURE_TENANT_ID and the federated token file.
        saAnnotations = { "azure.workload.identity/client-id": d.clientId };
        uploaderEnv.push({ name: "AZURE_CONFIG_DIR", value: "/tmp/azure" });
        snapshotVolume = { name: "snapshots", emptyDir: { sizeLimit: "4Gi" } };
        location = pulumi.output(`https://${d.storageAccount}.blob.core.windows.net/${d.container}/${d.prefix}`);
        break;
    }

    const sa = new k8sCore.ServiceAccount(
      name,
      {
        metadata: { name: jobName, namespace: args.namespace, labels, ...(Object.keys(saAnnotations).length > 0 ? { annotations: saAnnotations } : {}) },
        // No API token in the pod: it needs the API server for nothing. Its Vault token is projected below.
        automountServiceAccountToken: false,
      },
      k8s,
    );

    const file = d.kind === "pvc" ? `${SNAPSHOT_DIR}/vault-raft-$stamp.snap` : `${SNAPSHOT_DIR}/vault-raft.snap`;
    const tmp = { name: "tmp", mountPath: "/tmp" };
    const snapshotContainer: k8sInput.core.v1.Container = {
      name: "snapshot",
      image: args.image,
      command: ["/bin/sh", "-c", snapshotScript({ file, ...(d.kind === "pvc" ? { pruneDays: args.retentionDays } : {}) })],
      env: [
        { name: "VAULT_ADDR", value: args.vaultAddress },
        { name: "VAULT_CACERT", value: `${VAULT_CREDENTIALS_DIR}/ca.crt` },
        { name: "VAULT_AUTH_PATH", value: authPath },
        { name: "VAULT_ROLE", value: vaultName },
        // The whole save, however large, within the Job's deadline.
        { name: "VAULT_CLIENT_TIMEOUT", value: `${SNAPSHOT_JOB_LIMITS.activeDeadlineSeconds}s` },
        { name: "HOME", value: "/tmp" },
      ],
      volumeMounts: [{ name: "vault", mountPath: VAULT_CREDENTIALS_DIR, readOnly: true }, { name: "snapshots", mountPath: SNAPSHOT_DIR }, tmp],
      securityContext: restricted(VAULT_USER),
      resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "500m", memory: "256Mi" } },
    };
    const uploader: k8sInput.core.v1.Container | undefined =
      d.kind === "pvc"
        ? undefined
        : {
            name: "upload",
            image: args.uploaderImage as string,
            command: ["/bin/sh", "-c", uploadScript(d, file)],
            env: [...uploaderEnv, { name: "HOME", value: "/tmp" }],
            volumeMounts: [{ name: "snapshots", mountPath: SNAPSHOT_DIR, readOnly: true }, tmp, ...uploaderMounts],
            securityContext: restricted({ runAsUser: 65532, runAsGroup: 65532 }),
            resources: { requests: { cpu: "50m", memory: "128Mi" }, limits: { cpu: "1", memory: "512Mi" } },
          };

    const cron = new k8sBatch.CronJob(
      name,
      {
        metadata: { name: jobName, namespace: args.namespace, labels },
        spec: {
          schedule: args.schedule,
          concurrencyPolicy: "Forbid",
          startingDeadlineSeconds: SNAPSHOT_JOB_LIMITS.startingDeadlineSeconds,
          successfulJobsHistoryLimit: 3,
          failedJobsHistoryLimit: 3,
          jobTemplate: {
            metadata: { labels },
            spec: {
              backoffLimit: SNAPSHOT_JOB_LIMITS.backoffLimit,
              activeDeadlineSeconds: SNAPSHOT_JOB_LIMITS.activeDeadlineSeconds,
              // A day, so a failed Job is still there when someone looks at the alert.
              ttlSecondsAfterFinished: 86400,
              template: {
                metadata: { labels: podLabels },
                spec: {
                  serviceAccountName: sa.metadata.name,
                  automountServiceAccountToken: false,
                  restartPolicy: "Never",
                  securityContext: { runAsNonRoot: true, fsGroup: VAULT_USER.runAsGroup, seccompProfile: { type: "RuntimeDefault" } },
                  volumes: [
                    {
                      name: "vault",
                      projected: {
                        sources: [
                          // A token only Vault accepts (audience `vault`), ten minutes, the kubelet's minimum.
                          { serviceAccountToken: { audience: "vault", expirationSeconds: 600, path: "token" } },
                          { secret: { name: args.vaultCaSecretName, items: [{ key: "ca.crt", path: "ca.crt" }] } },
                        ],
                      },
                    },
                    snapshotVolume,
                    { name: "tmp", emptyDir: { sizeLimit: "64Mi" } },
                    ...uploaderVolumes,
                  ],
                  // Cloud: the snapshot first, then the upload, both in one pod (the emptyDir between them).
                  ...(uploader ? { initContainers: [snapshotContainer], containers: [uploader] } : { containers: [snapshotContainer] }),
                },
              },
            },
          },
        },
      },
      pulumi.mergeOptions(k8s, { dependsOn: [role, ...(args.dependsOn ?? [])] }),
    );

    this.cronJobName = cron.metadata.name;
    this.policyName = policy.name;
    this.roleName = role.roleName;
    this.podLabels = podLabels;
    this.location = location;
    this.registerOutputs({
      cronJobName: this.cronJobName,
      policyName: this.policyName,
      roleName: this.roleName,
      podLabels: this.podLabels,
      location: this.location,
      ...(this.roleArn ? { roleArn: this.roleArn, kmsKeyArn: this.kmsKeyArn } : {}),
    });
  }
}
