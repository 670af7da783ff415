/**
 * The snapshot CronJob's S3 upload, run as the cluster runs it, with the real AWS CLI v2 (Debian's
 * `awscli` package at /usr/bin/aws, in place of the uploader image `amazon/aws-cli`): the
 * production program with `vault.snapshots.destination.kind: s3` is rendered, its CronJob
 * replaces the staging one on the rehearsal's API server (same name, account and guards), and a
 * Job from it runs through the real Job controller and the stand-in kubelet: the save step
 * against the Raft cluster, then the uploader with its own projected token (audience STS).
 *
 * AWS is not reachable, so STS and S3 are answered by a recorder on 127.0.0.1:443 that the pod's
 * `/etc/hosts` names for `sts.<region>.amazonaws.com` and the bucket's endpoints, with a
 * certificate of the rehearsal's CA in the container's trust store. The recorder grants
 * whatever is asked; the checks judge what the CLI sent against the program's own IAM
 * documents: the web-identity call (role ARN, token audience and subject against the trust
 * policy's conditions), and the PutObject (key under the writer policy's prefix, SSE-KMS with
 * the program's key, signed with the credentials STS returned, in the policy's region, the body
 * a snapshot Vault reads back). IAM's and KMS's own evaluation, and the EKS issuer, are not
 * exercised.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import type { IncomingMessage } from "node:http";
import { createServer } from "node:https";
import { join } from "node:path";
import { runProgram } from "../harness";
import type { Kube } from "./kube";
import type { KubeletOptions } from "./kubelet";
import { type Ca, makeServerCert } from "./pki";
import { secondsSince } from "./processes";
import { type CronJobCtx, authRoleBody } from "./raft-cronjob";
import type { VaultClient } from "./vault-client";

/** Where the uploader's CLI must be: a container's root has this machine's /usr. */
export const AWS_CLI = "/usr/bin/aws";
/** The CA bundle Debian's awscli reads (botocore's own, as in the amazon/aws-cli image): the recorder's CA is put in its place. */
const AWS_CLI_CA_BUNDLE = "/usr/lib/python3/dist-packages/awscli/botocore/cacert.pem";

interface Recorded {
  method: string;
  host: string;
  path: string;
  headers: IncomingMessage["headers"];
  body: Buffer;
}

/** The body of an `aws-chunked` upload (newer CLIs stream with checksums in a trailer). */
function unchunk(body: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  while (at < body.length) {
    const eol = body.indexOf("\r\n", at);
    if (eol < 0) break;
    const size = parseInt(body.subarray(at, eol).toString("latin1").split(";")[0], 16);
    if (!size) break;
    parts.push(body.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

const ISSUED = { accessKeyId: "ASIAE2ESTANDIN000001", secretAccessKey: "e2e-stand-in-secret-key-0000000000000000", sessionToken: "e2e-stand-in-session-token" };

/** The JWT's claims (not verified: the recorder stands for STS, which the EKS issuer's keys would verify). */
function claims(jwt: string): Record<string, unknown> {
  try {
    return JSON.parse(Buffer.from(jwt.split(".")[1] ?? "", "base64url").toString("utf8")) as Record<string, unknown>;
  } catch {
    return {};
  }
}

/** IAM's `*` glob of a policy's Resource against an ARN. */
function arnMatches(pattern: string, arn: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`);
  return re.test(arn);
}

export interface UploadOptions {
  kube: Kube;
  kubelet: KubeletOptions;
  ns: string;
  ca: Ca;
  bin: string;
  /** A root token's client on the cluster. */
  vaultRoot: VaultClient;
  /** Make a Job from a CronJob object and run its pods until Complete or Failed. */
  runJob: (
    kube: Kube,
    kubelet: KubeletOptions,
    ns: string,
    cron: Record<string, unknown>,
    jobName: string,
  ) => Promise<{ condition?: { type: string; reason?: string }; pods: { name: string; runs: { name: string; exitCode: number; output: string }[] }[] }>;
  dir: string;
}

/** The rehearsal step: see the file's comment. */
export async function s3UploadRehearsal(ctx: CronJobCtx, o: UploadOptions): Promise<void> {
  if (!existsSync(AWS_CLI) || !existsSync(AWS_CLI_CA_BUNDLE)) {
    const reason = `${AWS_CLI} or its ${AWS_CLI_CA_BUNDLE} not found (Debian: apt-get install awscli; .ci/run installs it)`;
    console.error(`e2e:raft: skipped: the S3 upload: ${reason}`);
    ctx.summary.skipped.push({ what: "the snapshot CronJob's S3 upload with the AWS CLI", reason });
    return;
  }
  const t0 = Date.now();
  const bucket = "veza-vault-snapshots";
  const run = await runProgram({
    stack: "production",
    overrides: {
      "veza-secrets:vault": { snapshots: { destination: { kind: "s3", bucketName: bucket, uploaderImage: `amazon/aws-cli:2.27.0@sha256:${"1".repeat(64)}` } } },
    },
  });
  const one = (type: string, pick: (i: Record<string, unknown>) => boolean) => {
    const found = run.resources.filter((r) => r.type === type && pick(r.inputs));
    if (found.length !== 1) throw new Error(`the production program with S3 snapshots registers ${found.length} ${type} (expected 1)`);
    return found[0].inputs;
  };
  const cron = one("kubernetes:batch/v1:CronJob", (i) => /raft-snapshots/.test(String((i.metadata as { name: string }).name)));
  const cronName = (cron.metadata as { name: string }).name;
  const template = (
    cron.spec as { jobTemplate: { spec: { template: { spec: { containers: { name: string; env?: { name: string; value?: string }[] }[] } } } } }
  ).jobTemplate.spec.template.spec;
  const env = Object.fromEntries((template.containers.find((c) => c.name === "upload")?.env ?? []).map((e) => [e.name, String(e.value)]));
  const region = env.AWS_REGION;
  const trust = JSON.parse(String(one("aws:iam/role:Role", (i) => String(i.description ?? "").includes("Raft snapshot")).assumeRolePolicy)) as {
    Statement: { Action: string; Condition: { StringEquals: Record<string, string> } }[];
  };
  const writer = JSON.parse(String(one("aws:iam/rolePolicy:RolePolicy", (i) => String(i.policy).includes("PutSnapshotsUnderPrefix")).policy)) as {
    Statement: { Sid: string; Action: string; Resource: string; Condition?: { StringEquals: Record<string, string> } }[];
  };
  const role = one("vault:kubernetes/authBackendRole:AuthBackendRole", (i) => i.roleName === "vault-raft-snapshots");

  // The recorder: STS answers with credentials, S3 with an ETag; every request kept.
  const names = [
    `sts.${region}.amazonaws.com`,
    "sts.amazonaws.com",
    `${bucket}.s3.${region}.amazonaws.com`,
    `${bucket}.s3.amazonaws.com`,
    `s3.${region}.amazonaws.com`,
    "s3.amazonaws.com",
  ];
  const tls = makeServerCert(
    o.ca,
    "aws-recorder",
    names.map((n) => `DNS:${n}`),
  );
  const recorded: Recorded[] = [];
  const server = createServer({ cert: readFileSync(tls.cert), key: readFileSync(tls.key) }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (d: Buffer) => chunks.push(d));
    req.on("end", () => {
      const r: Recorded = {
        method: req.method ?? "",
        host: String(req.headers.host ?? ""),
        path: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks),
      };
      recorded.push(r);
      if (r.host.startsWith("sts.")) {
        res.writeHead(200, { "Content-Type": "text/xml" });
        res.end(
          `<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>${ISSUED.accessKeyId}</AccessKeyId><SecretAccessKey>${ISSUED.secretAccessKey}</SecretAccessKey><SessionToken>${ISSUED.sessionToken}</SessionToken><Expiration>${new Date(Date.now() + 3600_000).toISOString()}</Expiration></Credentials><SubjectFromWebIdentityToken>e2e</SubjectFromWebIdentityToken><AssumedRoleUser><Arn>${env.AWS_ROLE_ARN}/e2e</Arn><AssumedRoleId>AROAE2E:e2e</AssumedRoleId></AssumedRoleUser><Audience>sts.amazonaws.com</Audience></AssumeRoleWithWebIdentityResult><ResponseMetadata><RequestId>e2e</RequestId></ResponseMetadata></AssumeRoleWithWebIdentityResponse>`,
        );
      } else {
        res.writeHead(200, { ETag: '"e2e"', "x-amz-server-side-encryption": "aws:kms" });
        res.end();
      }
    });
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(443, "127.0.0.1", () => resolve());
    });
  } catch (e) {
    ctx.check("s3 upload: the recorder listens on 127.0.0.1:443", false, (e as Error).message);
    return;
  }
  try {
    // The production CronJob in place of staging's (same name, account, guards), suspended: only the manual Job runs.
    const path = `/apis/batch/v1/namespaces/${o.ns}/cronjobs/${cronName}`;
    const current = await o.kube.call("GET", path);
    const replaced = await o.kube.call("PUT", path, {
      ...cron,
      metadata: { ...(cron.metadata as object), resourceVersion: (current.metadata as { resourceVersion: string }).resourceVersion },
      spec: { ...(cron.spec as object), suspend: true },
    });
    await o.vaultRoot.call("POST", `auth/${String(role.backend)}/role/${String(role.roleName)}`, authRoleBody(role));
    const kubelet: KubeletOptions = {
      ...o.kubelet,
      hosts: { ...o.kubelet.hosts, ...Object.fromEntries(names.map((n) => [n, "127.0.0.1"])) },
      trustStore: { pem: o.ca.pem, files: [AWS_CLI_CA_BUNDLE] },
    };
    const t1 = Date.now();
    const job = await o.runJob(o.kube, kubelet, o.ns, replaced, `${cronName}-s3-1`);
    ctx.summary.timings["s3 upload: a Job from the production CronJob, Complete (save, STS, PutObject)"] = secondsSince(t1);
    const outputs = job.pods.flatMap((p) => p.runs.map((x) => `${x.name} exit ${x.exitCode}: ${x.output.trim()}`)).join("; ");
    const prefix = /name="([^"$]*)vault-raft-/.exec(uploadCommand(template))?.[1] ?? "?";
    ctx.check(
      `s3 upload: the production CronJob's Job completes with the AWS CLI (${spawnSync(AWS_CLI, ["--version"], { encoding: "utf8" }).stdout.trim().split(" ")[0]}) as its uploader`,
      job.condition?.type === "Complete" && new RegExp(`uploaded s3://${bucket}/${prefix}vault-raft-\\d{8}T\\d{6}Z\\.snap`).test(outputs),
      `${JSON.stringify(job.condition)}; ${outputs.replace(/hv[sbr]\.[A-Za-z0-9_-]+/g, "<token>").slice(0, 500)}`,
    );

    // STS: the program's role, with the pod's own projected token, whose claims meet the trust policy.
    const sts = recorded.filter((r) => r.host.startsWith("sts."));
    const form = new URLSearchParams(sts[0]?.body.toString("utf8") ?? "");
    const token = claims(form.get("WebIdentityToken") ?? "");
    const conditions = trust.Statement[0]?.Condition.StringEquals ?? {};
    const wanted = Object.fromEntries(Object.entries(conditions).map(([k, v]) => [k.slice(k.lastIndexOf(":") + 1), v]));
    const aud = Array.isArray(token.aud) ? token.aud : [token.aud];
    ctx.check(
      "s3 upload: the CLI assumes the program's role with web identity: one AssumeRoleWithWebIdentity to the regional STS, the role ARN of AWS_ROLE_ARN, a token whose sub and aud are the trust policy's",
      sts.length === 1 &&
        sts[0].host === `sts.${region}.amazonaws.com` &&
        form.get("Action") === "AssumeRoleWithWebIdentity" &&
        form.get("RoleArn") === env.AWS_ROLE_ARN &&
        trust.Statement[0]?.Action === "sts:AssumeRoleWithWebIdentity" &&
        token.sub === wanted.sub &&
        aud.includes(wanted.aud),
      `${sts.length} STS request(s) to ${sts.map((r) => r.host).join(", ")}; Action ${form.get("Action")}, RoleArn ${form.get("RoleArn")}; token sub ${String(token.sub)}, aud ${JSON.stringify(token.aud)}; trust policy wants ${JSON.stringify(wanted)}`,
    );

    // S3: one PutObject under the writer policy's prefix, SSE-KMS with the program's key, signed with what STS issued.
    const puts = recorded.filter((r) => !r.host.startsWith("sts."));
    const put = puts[0];
    const key = put ? decodeURIComponent(put.path.split("?")[0].replace(/^\//, "")) : "";
    const objectArn = `arn:aws:s3:::${bucket}/${key}`;
    const putGrant = writer.Statement.find((s) => s.Action === "s3:PutObject");
    const kmsGrant = writer.Statement.find((s) => s.Action === "kms:GenerateDataKey");
    const auth = String(put?.headers.authorization ?? "");
    const body = put ? (String(put.headers["content-encoding"] ?? "").includes("aws-chunked") ? unchunk(put.body) : put.body) : Buffer.alloc(0);
    const file = join(o.dir, "uploaded.snap");
    writeFileSync(file, body);
    const inspect = spawnSync(o.bin, ["operator", "raft", "snapshot", "inspect", file], { encoding: "utf8" });
    ctx.summary.figures.s3UploadBytes = body.length;
    ctx.check(
      "s3 upload: one PutObject of the snapshot (Vault reads it back) to the bucket, its key within the writer policy's prefix, SSE-KMS with the program's key (the policy's kms:GenerateDataKey key, via S3 in its region), signed with the credentials STS issued",
      puts.length === 1 &&
        put.method === "PUT" &&
        put.host.startsWith(`${bucket}.s3.`) &&
        putGrant !== undefined &&
        arnMatches(putGrant.Resource, objectArn) &&
        put.headers["x-amz-server-side-encryption"] === "aws:kms" &&
        put.headers["x-amz-server-side-encryption-aws-kms-key-id"] === env.SNAPSHOT_KMS_KEY_ARN &&
        kmsGrant?.Resource === env.SNAPSHOT_KMS_KEY_ARN &&
        kmsGrant.Condition?.StringEquals["kms:ViaService"] === `s3.${region}.amazonaws.com` &&
        auth.includes(`Credential=${ISSUED.accessKeyId}/`) &&
        auth.includes(`/${region}/s3/aws4_request`) &&
        put.headers["x-amz-security-token"] === ISSUED.sessionToken &&
        body.length > 0 &&
        inspect.status === 0,
      `${puts.length} request(s): ${put ? `${put.method} ${put.host}/${key}` : "none"}; policy ${putGrant?.Resource ?? "?"}; SSE ${String(put?.headers["x-amz-server-side-encryption"])} key ${String(put?.headers["x-amz-server-side-encryption-aws-kms-key-id"])}; ${auth.replace(/Signature=\w+/, "Signature=…").slice(0, 160)}; ${body.length} bytes, inspect exit ${inspect.status}`,
    );
    ctx.summary.timings["s3 upload: render, recorder, Job"] = secondsSince(t0);
  } finally {
    server.close();
  }
}

/** The uploader's command (its `sh -c` script). */
function uploadCommand(template: { containers: { name: string; command?: string[] }[] }): string {
  return (template.containers.find((c) => c.name === "upload")?.command ?? []).join("\n");
}
