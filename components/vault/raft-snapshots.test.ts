/**
 * RaftSnapshots (components/vault/raft-snapshots.ts) under the mock engine: the Vault policy
 * (one path, `read`), the Kubernetes auth role bound to the Job's ServiceAccount only, no
 * Kubernetes RBAC at all, a CronJob in the restricted profile with a digest-pinned image and
 * the empty-snapshot guard, each destination's resources, and the refused arguments. The
 * scripts are also parsed by `sh -n`. `npm run e2e:raft` runs the save step for real.
 */
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as pulumi from "@pulumi/pulumi";
import { Provider as AwsProvider } from "@pulumi/aws/provider";
import { Provider as VaultProvider } from "@pulumi/vault/provider";
import { findResource, resourcesOfType, runProgram, type ProgramRun, type RecordedResource } from "../../harness";
import { policyPaths } from "./policy-hcl";
import {
  RaftSnapshots,
  type RaftSnapshotsArgs,
  SNAPSHOT_JOB_LIMITS,
  SNAPSHOT_TOKEN,
  type SnapshotDestination,
  s3WriterPolicy,
  s3WriterTrustPolicy,
  snapshotPolicy,
  snapshotSaveStep,
  snapshotScript,
  uploadScript,
} from "./raft-snapshots";

const CONFIG = { "veza-secrets:environment": "production", "veza-secrets:providers": ["vault"] };
const VAULT_IMAGE = "hashicorp/vault:2.0.4@sha256:5be49781ecf78bfe775c5309c6a4d9f4e9e040b6c885c99eb2b12fb69855e1a2";
const AWS_CLI = "amazon/aws-cli:2.27.0@sha256:1111111111111111111111111111111111111111111111111111111111111111";
const T = {
  component: "veza:vault:RaftSnapshots",
  policy: "vault:index/policy:Policy",
  role: "vault:kubernetes/authBackendRole:AuthBackendRole",
  sa: "kubernetes:core/v1:ServiceAccount",
  pvc: "kubernetes:core/v1:PersistentVolumeClaim",
  cron: "kubernetes:batch/v1:CronJob",
};
const S3: SnapshotDestination = {
  kind: "s3",
  bucketName: "veza-production-vault-snapshots",
  prefix: "vault/production/",
  region: "eu-west-1",
  accountId: "123456789012",
  oidcIssuer: "oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE",
};

function args(vaultProvider: pulumi.ProviderResource, extra: Partial<RaftSnapshotsArgs> = {}): RaftSnapshotsArgs {
  return {
    namespace: "vault",
    vaultAddress: "https://vault-active.vault.svc:8200",
    vaultCaSecretName: "vault-tls",
    schedule: "15 2 * * *",
    retentionDays: 14,
    image: VAULT_IMAGE,
    destination: { kind: "pvc", claimName: "vault-snapshots", size: "10Gi" },
    vaultProvider,
    ...extra,
  };
}

const vaultProvider = () => new VaultProvider("vault", { address: "https://vault.example:8200", token: pulumi.secret("t") });

function build(extra: (p: pulumi.ProviderResource) => Partial<RaftSnapshotsArgs> = () => ({})): Promise<ProgramRun> {
  return runProgram({
    stack: "test",
    config: CONFIG,
    program: () => {
      const p = vaultProvider();
      new RaftSnapshots("snapshots", args(p, extra(p)));
    },
  });
}

interface Container {
  name: string;
  image: string;
  command: string[];
  env: { name: string; value?: string }[];
  volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[];
  securityContext: Record<string, unknown>;
}
interface CronSpec {
  schedule: string;
  concurrencyPolicy: string;
  startingDeadlineSeconds: number;
  jobTemplate: {
    spec: {
      backoffLimit: number;
      activeDeadlineSeconds: number;
      template: {
        metadata: { labels: Record<string, string> };
        spec: {
          serviceAccountName: string;
          automountServiceAccountToken: boolean;
          securityContext: Record<string, unknown>;
          volumes: Record<string, unknown>[];
          initContainers?: Container[];
          containers: Container[];
        };
      };
    };
  };
}
const cronSpec = (r: ProgramRun) => findResource(r, T.cron, "snapshots").inputs.spec as CronSpec;
const custom = (r: ProgramRun) => r.resources.filter((x) => x.custom && !x.type.startsWith("pulumi:providers:"));
const typesAndNames = (rs: RecordedResource[]) => rs.map((x) => `${x.type} ${x.name}`).sort();

const RESTRICTED_VAULT = {
  runAsNonRoot: true,
  runAsUser: 100,
  runAsGroup: 1000,
  readOnlyRootFilesystem: true,
  allowPrivilegeEscalation: false,
  capabilities: { drop: ["ALL"] },
  seccompProfile: { type: "RuntimeDefault" },
};

describe("components/vault/raft-snapshots", () => {
  describe("with a PVC", () => {
    let run: ProgramRun;
    before(async () => {
      run = await build();
    });

    it("creates exactly the policy, the role, the PVC, the ServiceAccount and the CronJob, all children of the component", () => {
      assert.deepEqual(typesAndNames(custom(run)), [
        `${T.cron} snapshots`,
        `${T.pvc} snapshots-pvc`,
        `${T.sa} snapshots`,
        `${T.policy} snapshots-policy`,
        `${T.role} snapshots-role`,
      ]);
      const component = findResource(run, T.component, "snapshots");
      for (const r of custom(run)) assert.equal(r.parent, component.urn, r.name);
      assert.deepEqual(run.componentOutputs.get(component.urn), {
        cronJobName: "vault-raft-snapshots",
        policyName: "vault-raft-snapshots",
        roleName: "vault-raft-snapshots",
        podLabels: { "app.kubernetes.io/name": "vault-raft-snapshots", "app.kubernetes.io/part-of": "vault", "app.kubernetes.io/managed-by": "pulumi" },
        location: "pvc://vault/vault-snapshots",
      });
    });

    it("grants exactly read on sys/storage/raft/snapshot, through the given Vault provider", () => {
      const policy = findResource(run, T.policy, "snapshots-policy");
      assert.deepEqual(policy.inputs, { name: "vault-raft-snapshots", policy: snapshotPolicy() });
      assert.deepEqual(policyPaths(snapshotPolicy()), [{ path: "sys/storage/raft/snapshot", capabilities: ["read"] }]);
      assert.match(policy.provider, /\$pulumi:providers:vault::vault::/);
      assert.equal(findResource(run, T.role, "snapshots-role").provider, policy.provider);
    });

    it("binds the role to the Job's ServiceAccount in Vault's namespace, audience vault, that policy only, a 5-minute batch token", () => {
      assert.deepEqual(findResource(run, T.role, "snapshots-role").inputs, {
        backend: "kubernetes",
        roleName: "vault-raft-snapshots",
        boundServiceAccountNames: ["vault-raft-snapshots"],
        boundServiceAccountNamespaces: ["vault"],
        audience: "vault",
        tokenPolicies: ["vault-raft-snapshots"],
        tokenType: "batch",
        tokenTtl: 300,
        tokenMaxTtl: 300,
        tokenNoDefaultPolicy: true,
      });
      assert.deepEqual(SNAPSHOT_TOKEN, { type: "batch", ttlSeconds: 300, noDefaultPolicy: true });
    });

    it("gives the ServiceAccount no Kubernetes rights and no automounted API token", () => {
      assert.equal(run.resources.filter((r) => /rbac\.authorization\.k8s\.io/.test(r.type)).length, 0);
      assert.deepEqual(findResource(run, T.sa, "snapshots").inputs, {
        apiVersion: "v1",
        kind: "ServiceAccount",
        metadata: {
          name: "vault-raft-snapshots",
          namespace: "vault",
          labels: { "app.kubernetes.io/name": "vault-raft-snapshots", "app.kubernetes.io/part-of": "vault", "app.kubernetes.io/managed-by": "pulumi" },
        },
        automountServiceAccountToken: false,
      });
      assert.equal(cronSpec(run).jobTemplate.spec.template.spec.automountServiceAccountToken, false);
    });

    it("schedules a bounded, non-overlapping Job, ordered after the role", () => {
      const spec = cronSpec(run);
      assert.equal(spec.schedule, "15 2 * * *");
      assert.equal(spec.concurrencyPolicy, "Forbid");
      assert.equal(spec.startingDeadlineSeconds, 3600);
      assert.deepEqual([spec.jobTemplate.spec.backoffLimit, spec.jobTemplate.spec.activeDeadlineSeconds], [2, 900]);
      assert.deepEqual(SNAPSHOT_JOB_LIMITS, { backoffLimit: 2, activeDeadlineSeconds: 900, startingDeadlineSeconds: 3600 });
      assert.ok(findResource(run, T.cron, "snapshots").dependencies.includes(findResource(run, T.role, "snapshots-role").urn));
    });

    it("runs the digest-pinned image in the restricted profile, with a projected token for audience vault and only ca.crt of the TLS Secret", () => {
      const pod = cronSpec(run).jobTemplate.spec.template.spec;
      assert.equal(pod.serviceAccountName, "vault-raft-snapshots");
      assert.deepEqual(pod.securityContext, { runAsNonRoot: true, fsGroup: 1000, seccompProfile: { type: "RuntimeDefault" } });
      assert.equal(pod.initContainers, undefined);
      assert.equal(pod.containers.length, 1);
      const c = pod.containers[0];
      assert.equal(c.image, VAULT_IMAGE);
      assert.deepEqual(c.securityContext, RESTRICTED_VAULT);
      assert.deepEqual(pod.volumes, [
        {
          name: "vault",
          projected: {
            sources: [
              { serviceAccountToken: { audience: "vault", expirationSeconds: 600, path: "token" } },
              { secret: { name: "vault-tls", items: [{ key: "ca.crt", path: "ca.crt" }] } },
            ],
          },
        },
        { name: "snapshots", persistentVolumeClaim: { claimName: "vault-snapshots" } },
        { name: "tmp", emptyDir: { sizeLimit: "64Mi" } },
      ]);
      assert.deepEqual(c.env, [
        { name: "VAULT_ADDR", value: "https://vault-active.vault.svc:8200" },
        { name: "VAULT_CACERT", value: "/var/run/secrets/vault/ca.crt" },
        { name: "VAULT_AUTH_PATH", value: "kubernetes" },
        { name: "VAULT_ROLE", value: "vault-raft-snapshots" },
        { name: "VAULT_CLIENT_TIMEOUT", value: "900s" },
        { name: "HOME", value: "/tmp" },
      ]);
    });

    it("logs in, saves, refuses an empty or unreadable snapshot, then prunes by retention: set -eu, one script", () => {
      const c = cronSpec(run).jobTemplate.spec.template.spec.containers[0];
      assert.deepEqual(c.command.slice(0, 2), ["/bin/sh", "-c"]);
      const script = c.command[2];
      assert.equal(script, snapshotScript({ file: "/snapshots/vault-raft-$stamp.snap", pruneDays: 14 }));
      const lines = script.split("\n");
      assert.equal(lines[0], "set -eu");
      const order = [
        "umask 027",
        'VAULT_TOKEN="$(vault write -field=token "auth/$VAULT_AUTH_PATH/login" role="$VAULT_ROLE" jwt=@/var/run/secrets/vault/token)"',
        "trap 'rm -f \"$file.partial\"' EXIT",
        'vault operator raft snapshot save "$file.partial"',
        'if [ ! -s "$file.partial" ]; then echo "vault-raft-snapshot: the snapshot is empty; failing the Job" >&2; exit 1; fi',
        'vault operator raft snapshot inspect "$file.partial" >/dev/null',
        'chmod 0640 "$file.partial"',
        'mv "$file.partial" "$file"',
        "find /snapshots -maxdepth 1 -type f -name 'vault-raft-*.snap' -mtime +14 -print -delete",
      ].map((l) => lines.indexOf(l));
      assert.ok(
        order.every((i, k) => i > 0 && (k === 0 || i > order[k - 1])),
        `steps in order: ${JSON.stringify(order)}`,
      );
      execFileSync("sh", ["-n", "-c", script]);
    });
  });

  describe("with S3", () => {
    let run: ProgramRun;
    before(async () => {
      run = await runProgram({
        stack: "test",
        config: CONFIG,
        program: () => {
          const p = vaultProvider();
          const aws = new AwsProvider("aws", { region: "eu-west-1" });
          new RaftSnapshots(
            "snapshots",
            args(p, { destination: S3, uploaderImage: AWS_CLI, awsProvider: aws, retentionDays: 30, protect: true, tags: { team: "platform" } }),
          );
        },
      });
    });

    it("creates the bucket with versioning, its KMS key, lifecycle retention, no public access, TLS only, and the writer role", () => {
      assert.deepEqual(typesAndNames(custom(run)), [
        "aws:iam/role:Role snapshots-writer",
        "aws:iam/rolePolicy:RolePolicy snapshots-writer",
        "aws:kms/key:Key snapshots-key",
        "aws:s3/bucket:Bucket snapshots-bucket",
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration snapshots-bucket",
        "aws:s3/bucketPolicy:BucketPolicy snapshots-bucket",
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock snapshots-bucket",
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration snapshots-bucket",
        "aws:s3/bucketVersioning:BucketVersioning snapshots-bucket",
        `${T.cron} snapshots`,
        `${T.sa} snapshots`,
        `${T.policy} snapshots-policy`,
        `${T.role} snapshots-role`,
      ]);
      const key = findResource(run, "aws:kms/key:Key", "snapshots-key");
      const keyArn = String(key.outputs?.arn);
      assert.match(keyArn, /^arn:aws:kms:eu-west-1:123456789012:key\//);
      assert.equal(key.inputs.enableKeyRotation, true);
      const bucket = findResource(run, "aws:s3/bucket:Bucket", "snapshots-bucket");
      assert.deepEqual([bucket.inputs.bucket, bucket.inputs.forceDestroy, bucket.inputs.region], ["veza-production-vault-snapshots", false, "eu-west-1"]);
      // What holds snapshots is protected; the rest can be replaced.
      assert.deepEqual(
        custom(run)
          .filter((r) => r.protect)
          .map((r) => `${r.type} ${r.name}`)
          .sort(),
        ["aws:kms/key:Key snapshots-key", "aws:s3/bucket:Bucket snapshots-bucket"],
      );
      assert.deepEqual(findResource(run, "aws:s3/bucketVersioning:BucketVersioning", "snapshots-bucket").inputs.versioningConfiguration, { status: "Enabled" });
      assert.deepEqual(
        findResource(run, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "snapshots-bucket").inputs.rules,
        [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: keyArn }, bucketKeyEnabled: true }],
      );
      assert.deepEqual(findResource(run, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "snapshots-bucket").inputs.rules, [
        {
          id: "snapshot-retention",
          status: "Enabled",
          filter: { prefix: "vault/production/" },
          expiration: { days: 30 },
          noncurrentVersionExpiration: { noncurrentDays: 30 },
          abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
        },
        { id: "expired-delete-markers", status: "Enabled", filter: { prefix: "vault/production/" }, expiration: { expiredObjectDeleteMarker: true } },
      ]);
      const pab = findResource(run, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "snapshots-bucket").inputs;
      assert.deepEqual([pab.blockPublicAcls, pab.blockPublicPolicy, pab.ignorePublicAcls, pab.restrictPublicBuckets], [true, true, true, true]);
      assert.match(String(findResource(run, "aws:s3/bucketPolicy:BucketPolicy", "snapshots-bucket").inputs.policy), /"aws:SecureTransport":"false"/);
    });

    it("lets the writer role only PutObject under the prefix (and make data keys through S3), assumed only by the Job's ServiceAccount", () => {
      const role = findResource(run, "aws:iam/role:Role", "snapshots-writer");
      assert.deepEqual(
        JSON.parse(String(role.inputs.assumeRolePolicy)),
        s3WriterTrustPolicy(S3 as Extract<SnapshotDestination, { kind: "s3" }>, { namespace: "vault", name: "vault-raft-snapshots" }),
      );
      assert.deepEqual(JSON.parse(String(role.inputs.assumeRolePolicy)).Statement[0].Condition.StringEquals, {
        "oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE:sub": "system:serviceaccount:vault:vault-raft-snapshots",
        "oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE:aud": "sts.amazonaws.com",
      });
      const keyArn = String(findResource(run, "aws:kms/key:Key", "snapshots-key").outputs?.arn);
      const policy = JSON.parse(String(findResource(run, "aws:iam/rolePolicy:RolePolicy", "snapshots-writer").inputs.policy)) as unknown;
      assert.deepEqual(policy, {
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "PutSnapshotsUnderPrefix",
            Effect: "Allow",
            Action: "s3:PutObject",
            Resource: "arn:aws:s3:::veza-production-vault-snapshots/vault/production/*",
          },
          {
            Sid: "EncryptThroughS3",
            Effect: "Allow",
            Action: "kms:GenerateDataKey",
            Resource: keyArn,
            Condition: { StringEquals: { "kms:ViaService": "s3.eu-west-1.amazonaws.com" } },
          },
        ],
      });
      assert.deepEqual(policy, s3WriterPolicy(S3 as Extract<SnapshotDestination, { kind: "s3" }>, keyArn));
    });

    it("saves in an init container and uploads from a second, digest-pinned one with its own STS token", () => {
      const pod = cronSpec(run).jobTemplate.spec.template.spec;
      assert.deepEqual(
        pod.initContainers?.map((c) => [c.name, c.image]),
        [["snapshot", VAULT_IMAGE]],
      );
      assert.deepEqual(
        pod.containers.map((c) => [c.name, c.image]),
        [["upload", AWS_CLI]],
      );
      const up = pod.containers[0];
      assert.deepEqual(up.securityContext, { ...RESTRICTED_VAULT, runAsUser: 65532, runAsGroup: 65532 });
      const roleArn = String(findResource(run, "aws:iam/role:Role", "snapshots-writer").outputs?.arn);
      assert.deepEqual(
        up.env.filter((e) => e.name.startsWith("AWS_")),
        [
          { name: "AWS_ROLE_ARN", value: roleArn },
          { name: "AWS_WEB_IDENTITY_TOKEN_FILE", value: "/var/run/secrets/aws/token" },
          { name: "AWS_REGION", value: "eu-west-1" },
          { name: "AWS_STS_REGIONAL_ENDPOINTS", value: "regional" },
        ],
      );
      assert.deepEqual(
        pod.volumes.find((v) => v.name === "aws-token"),
        { name: "aws-token", projected: { sources: [{ serviceAccountToken: { audience: "sts.amazonaws.com", expirationSeconds: 3600, path: "token" } }] } },
      );
      // Only the uploader mounts the STS token, read-only; it reads the snapshot read-only.
      assert.deepEqual(
        pod.initContainers?.[0].volumeMounts.map((m) => m.name),
        ["vault", "snapshots", "tmp"],
      );
      assert.deepEqual(up.volumeMounts, [
        { name: "snapshots", mountPath: "/snapshots", readOnly: true },
        { name: "tmp", mountPath: "/tmp" },
        { name: "aws-token", mountPath: "/var/run/secrets/aws", readOnly: true },
      ]);
      assert.equal(up.command[2], uploadScript(S3 as Extract<SnapshotDestination, { kind: "s3" }>, "/snapshots/vault-raft.snap"));
      assert.match(up.command[2], /^set -eu\n/);
      assert.match(up.command[2], /if \[ ! -s "\$file" \]; then .*exit 1; fi/);
      // The save step keeps the file in the emptyDir, no prune there (the bucket's lifecycle rule keeps time).
      assert.equal(pod.initContainers?.[0].command[2], snapshotScript({ file: "/snapshots/vault-raft.snap" }));
      assert.doesNotMatch(pod.initContainers?.[0].command[2] ?? "", /find /);
      for (const c of [...(pod.initContainers ?? []), ...pod.containers]) execFileSync("sh", ["-n", "-c", c.command[2]]);
    });
  });

  it("GCS and Azure: existing bucket and identity, annotated ServiceAccount (and labelled pods for Azure), no cloud resource", async () => {
    const gcs = await build(() => ({
      destination: {
        kind: "gcs",
        bucket: "veza-vault-snapshots",
        prefix: "vault/staging/",
        serviceAccountEmail: "vault-snapshots@veza-staging.iam.gserviceaccount.com",
      },
      uploaderImage: AWS_CLI.replace("amazon/aws-cli", "google/cloud-sdk"),
    }));
    assert.deepEqual(typesAndNames(custom(gcs)), [`${T.cron} snapshots`, `${T.sa} snapshots`, `${T.policy} snapshots-policy`, `${T.role} snapshots-role`]);
    assert.deepEqual((findResource(gcs, T.sa, "snapshots").inputs.metadata as { annotations: unknown }).annotations, {
      "iam.gke.io/gcp-service-account": "vault-snapshots@veza-staging.iam.gserviceaccount.com",
    });
    assert.match(cronSpec(gcs).jobTemplate.spec.template.spec.containers[0].command[2], /gcloud storage cp "\$file" "gs:\/\/veza-vault-snapshots\/\$name"/);
    const azure = await build(() => ({
      destination: { kind: "azure", storageAccount: "vezasnapshots", container: "vault", prefix: "staging/", clientId: "11111111-2222-3333-4444-555555555555" },
      uploaderImage: AWS_CLI.replace("amazon/aws-cli", "mcr.microsoft.com/azure-cli"),
    }));
    assert.deepEqual((findResource(azure, T.sa, "snapshots").inputs.metadata as { annotations: unknown }).annotations, {
      "azure.workload.identity/client-id": "11111111-2222-3333-4444-555555555555",
    });
    assert.equal(cronSpec(azure).jobTemplate.spec.template.metadata.labels["azure.workload.identity/use"], "true");
    for (const r of [gcs, azure]) for (const c of cronSpec(r).jobTemplate.spec.template.spec.containers) execFileSync("sh", ["-n", "-c", c.command[2]]);
    assert.equal(resourcesOfType(azure, T.pvc).length, 0);
  });

  it("takes names, an auth path and labels", async () => {
    const r = await build(() => ({ jobName: "raft-backup", vaultName: "raft-backup", authPath: "k8s", labels: { team: "platform" } }));
    const role = findResource(r, T.role, "snapshots-role").inputs;
    assert.deepEqual(
      [role.backend, role.roleName, role.boundServiceAccountNames, role.tokenPolicies],
      ["k8s", "raft-backup", ["raft-backup"], ["raft-backup"]],
    );
    const pod = cronSpec(r).jobTemplate.spec.template;
    assert.equal(pod.spec.serviceAccountName, "raft-backup");
    assert.equal(pod.metadata.labels.team, "platform");
    assert.ok(pod.spec.containers[0].env.some((e) => e.name === "VAULT_AUTH_PATH" && e.value === "k8s"));
  });

  it("the save step alone is what the e2e runs: no login, the same guard", () => {
    const step = snapshotSaveStep({ file: "/x/vault-raft.snap" });
    assert.ok(snapshotScript({ file: "/x/vault-raft.snap" }).endsWith(step));
    assert.doesNotMatch(step, /login/);
  });

  const tagOnly = "hashicorp/vault:2.0.4";
  for (const [what, extra, message] of [
    ["a tag-only image", { image: tagOnly }, `[image] must be pinned by digest, such as "hashicorp/vault:2.0.4@sha256:<64 hex>"; got "hashicorp/vault:2.0.4".`],
    [
      "a latest image",
      { image: "hashicorp/vault:latest" },
      `[image] must be pinned by digest, such as "hashicorp/vault:2.0.4@sha256:<64 hex>"; got "hashicorp/vault:latest".`,
    ],
    [
      "a short digest",
      { image: "hashicorp/vault@sha256:abc" },
      `[image] must be pinned by digest, such as "hashicorp/vault:2.0.4@sha256:<64 hex>"; got "hashicorp/vault@sha256:abc".`,
    ],
    [
      "a four-field schedule",
      { schedule: "15 2 * *" },
      `[schedule] must be a cron schedule a Kubernetes CronJob accepts, such as "0 3 * * *"; has 4 fields; a schedule has five: minute hour day-of-month month day-of-week; got "15 2 * *".`,
    ],
    [
      "an hour that does not exist (the shared validator, components/cron.ts)",
      { schedule: "15 25 * * *" },
      `[schedule] must be a cron schedule a Kubernetes CronJob accepts, such as "0 3 * * *"; hour "25": Constraint error, got value 25 expected range 0-23; got "15 25 * * *".`,
    ],
    ["no retention", { retentionDays: 0 }, "[retentionDays] must be a whole number of days from 1 to 3650; got 0."],
    ["a fractional retention", { retentionDays: 1.5 }, "[retentionDays] must be a whole number of days from 1 to 3650; got 1.5."],
    ["an uploader with a PVC", { uploaderImage: AWS_CLI }, `[uploaderImage] is only used with a cloud destination; remove it for "pvc".`],
    ["S3 without an uploader", { destination: S3 }, `[uploaderImage] is required for "s3": an image with the cloud's CLI, pinned by digest.`],
    [
      "a tag-only uploader",
      { destination: S3, uploaderImage: "amazon/aws-cli:2.27.0" },
      `[uploaderImage] must be pinned by digest, such as "amazon/aws-cli:2.27.0@sha256:<64 hex>"; got "amazon/aws-cli:2.27.0".`,
    ],
    [
      "a prefix without a trailing slash",
      { destination: { ...S3, prefix: "vault/production" }, uploaderImage: AWS_CLI },
      `[destination.prefix] must be path segments each ending in "/", such as "vault/production/"; got "vault/production".`,
    ],
    [
      "an S3 bucket with capitals",
      { destination: { ...S3, bucketName: "Veza-Snapshots" }, uploaderImage: AWS_CLI },
      `[destination.bucketName] must be 3-63 lowercase letters, digits, "." or "-"; got "Veza-Snapshots".`,
    ],
    [
      "an S3 region",
      { destination: { ...S3, region: "europe" }, uploaderImage: AWS_CLI },
      `[destination.region] must be an AWS region such as "eu-west-1"; got "europe".`,
    ],
    [
      "a PVC size",
      { destination: { kind: "pvc", claimName: "vault-snapshots", size: "ten" } },
      `[destination.size] must be a Kubernetes quantity such as "10Gi"; got "ten".`,
    ],
    ["a long job name", { jobName: "x".repeat(53) }, `[jobName] must be a DNS label of at most 52 characters (a CronJob's limit); got "${"x".repeat(53)}".`],
  ] as [string, Partial<RaftSnapshotsArgs>, string][]) {
    it(`refuses ${what}`, async () => {
      await assert.rejects(
        build(() => extra),
        (e: Error) => e.message === message,
      );
    });
  }

  it("names every problem at once", async () => {
    await assert.rejects(
      build(() => ({ image: tagOnly, schedule: "daily" })),
      (e: Error) =>
        e.message ===
        `[schedule] must be a cron schedule a Kubernetes CronJob accepts, such as "0 3 * * *"; has 1 field; a schedule has five: minute hour day-of-month month day-of-week; got "daily". [image] must be pinned by digest, such as "hashicorp/vault:2.0.4@sha256:<64 hex>"; got "hashicorp/vault:2.0.4".`,
    );
  });
});
