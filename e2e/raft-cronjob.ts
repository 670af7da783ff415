/**
 * The Raft rehearsal's snapshot CronJob, run as a cluster runs it, against the restored cluster:
 * the staging program's own objects (rendered under the test mocks: its Namespace, the
 * CronJob's ServiceAccount, PVC and CronJob, the Vault policy and Kubernetes auth role) are
 * applied to a real API server (etcd, kube-apiserver, kube-controller-manager from the tool
 * cache), Vault's Kubernetes auth is pointed at that API server, a Job is made from the CronJob
 * as `kubectl create job --from=cronjob/…` does, and the real Job controller's pods (admitted
 * by Pod Security `restricted` in the program's namespace) are run by `./kubelet.ts`'s stand-in,
 * acting as a node. The program's guard on the CronJob's account is applied too: a person's pod
 * as that account, and a person's TokenRequest for it, must be refused.
 * The Job must complete with a snapshot on the claim (group-readable only, pruned by age), and
 * fail (BackoffLimitExceeded, the alertable state) when Vault refuses the login.
 *
 * Two stand-ins besides the kubelet: this machine's `/usr` and the built `vault` in place of
 * the image, and `vault-active.<namespace>.svc:8200` resolving to 127.0.0.1, where a TCP
 * forwarder sends each connection to the current leader (kube-proxy and the `vault-active`
 * Service's stand-in). The nodes' certificates carry docs/vault-bootstrap.md's names.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, utimesSync, writeFileSync } from "node:fs";
import type { Server } from "node:net";
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { type RecordedResource, runProgram } from "../harness";
import { dryRunPod, restrictedPod, serviceAccountToken } from "./checks";
import { type Kube, jobFromCronJob } from "./kube";
import { type PodObject, claimDir, kubeletSupport, runPod } from "./kubelet";
import { forwarder } from "./node";
import type { Ca } from "./pki";
import { secondsSince } from "./processes";
import { type RaftNode, leaderOf } from "./raft-cluster";
import { s3UploadRehearsal } from "./raft-upload";
import { snake } from "./providers/vault";
import { startApiServer, startControllerManager, startEtcd } from "./servers";
import { findTool, tool } from "./tools";
import type { VaultClient } from "./vault-client";

export interface CronJobCtx {
  check(name: string, ok: boolean, detail: string): void;
  summary: { timings: Record<string, number>; figures: Record<string, number | string | boolean>; skipped: { what: string; reason: string }[] };
}

export interface CronJobOptions {
  /** The built `vault` binary. */
  bin: string;
  /** Work directory of the rehearsal. */
  root: string;
  logDir: string;
  ca: Ca;
  nodes: RaftNode[];
  /** A root token's client on the cluster. */
  vaultRoot: VaultClient;
}

/** The SANs docs/vault-bootstrap.md has the operator put in Vault's certificate, for `namespace`. */
export function documentedVaultSans(namespace: string): string[] {
  const doc = readFileSync(join(__dirname, "..", "docs", "vault-bootstrap.md"), "utf8");
  const m = /subjectAltName=([^\\"]+)/.exec(doc);
  if (!m) throw new Error("docs/vault-bootstrap.md: no subjectAltName line");
  return m[1].split(",").map((s) => s.replace(/\$NS/g, namespace));
}

const meta = (r: RecordedResource): { name: string; namespace?: string } => r.inputs.metadata as { name: string; namespace?: string };

/** An AuthBackendRole's inputs as the body of `POST auth/<backend>/role/<name>`: the provider's arguments as the API's fields, the path's two aside. */
export function authRoleBody(inputs: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(inputs)
      .filter(([k]) => k !== "backend" && k !== "roleName")
      .map(([k, v]) => [snake(k), v]),
  );
}

interface Rendered {
  namespace: RecordedResource;
  serviceAccount: RecordedResource;
  claim?: RecordedResource;
  cronJob: RecordedResource;
  policy: RecordedResource;
  role: RecordedResource;
  /** The ServiceAccountGuard and CronJobTemplateGuard in Vault's namespace: their policies, then their bindings. */
  guard: RecordedResource[];
}

/** The staging program's snapshot objects, as the program registers them. */
async function render(): Promise<Rendered> {
  const run = await runProgram({ stack: "staging" });
  const find = (type: string, pick: (r: RecordedResource) => boolean): RecordedResource => {
    const found = run.resources.filter((r) => r.type === type && pick(r));
    if (found.length !== 1) throw new Error(`the staging program registers ${found.length} ${type} matching (expected 1)`);
    return found[0];
  };
  const cronJob = find("kubernetes:batch/v1:CronJob", (r) => /raft-snapshots/.test(meta(r).name));
  const ns = meta(cronJob).namespace as string;
  const podSpec = (cronJob.inputs as { spec: { jobTemplate: { spec: { template: { spec: PodObject["spec"] } } } } }).spec.jobTemplate.spec.template.spec;
  const env = [...(podSpec.initContainers ?? []), ...podSpec.containers].flatMap((c) => c.env ?? []);
  const roleName = env.find((e) => e.name === "VAULT_ROLE")?.value;
  const claimName = (podSpec.volumes ?? []).find((v) => v.persistentVolumeClaim)?.persistentVolumeClaim?.claimName;
  const role = find("vault:kubernetes/authBackendRole:AuthBackendRole", (r) => r.inputs.roleName === roleName);
  return {
    cronJob,
    namespace: find("kubernetes:core/v1:Namespace", (r) => meta(r).name === ns),
    serviceAccount: find("kubernetes:core/v1:ServiceAccount", (r) => meta(r).name === podSpec.serviceAccountName && meta(r).namespace === ns),
    claim: claimName ? find("kubernetes:core/v1:PersistentVolumeClaim", (r) => meta(r).name === claimName && meta(r).namespace === ns) : undefined,
    role,
    policy: find("vault:index/policy:Policy", (r) => (role.inputs.tokenPolicies as string[]).includes(String(r.inputs.name))),
    guard: ["ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"].flatMap((kind) =>
      run.resources.filter(
        (x) =>
          x.type === `kubernetes:admissionregistration.k8s.io/v1:${kind}` &&
          (x.name.startsWith("vault-service-account-guard") || x.name === "vault-snapshot-template-guard"),
      ),
    ),
  };
}

/** kube-proxy's stand-in for the Service: each connection to 127.0.0.1:`port` goes to the current leader. */
function forwardToLeader(port: number, nodes: RaftNode[], ca: Ca): Promise<Server> {
  return forwarder("127.0.0.1", port, async () => {
    const leader = await leaderOf(nodes, ca);
    return leader ? { host: "127.0.0.1", port: Number(new URL(leader.address).port) } : undefined;
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface JobCondition {
  type: string;
  status: string;
  reason?: string;
}

/**
 * Make a Job from the CronJob, run every pod the Job controller creates for it until the Job
 * has a Complete or Failed condition. Returns the condition and each pod's container runs.
 */
export async function runJob(
  kube: Kube,
  kubelet: Parameters<typeof runPod>[0],
  ns: string,
  cron: Record<string, unknown>,
  jobName: string,
): Promise<{ condition?: JobCondition; pods: { name: string; runs: Awaited<ReturnType<typeof runPod>> }[] }> {
  await kube.call("POST", `/apis/batch/v1/namespaces/${ns}/jobs`, jobFromCronJob(cron, jobName));
  return runJobPods(kube, kubelet, ns, jobName);
}

/** Run every pod the Job controller creates for `jobName` until the Job has a Complete or Failed condition. */
async function runJobPods(
  kube: Kube,
  kubelet: Parameters<typeof runPod>[0],
  ns: string,
  jobName: string,
): Promise<{ condition?: JobCondition; pods: { name: string; runs: Awaited<ReturnType<typeof runPod>> }[] }> {
  const ran = new Set<string>();
  const pods: { name: string; runs: Awaited<ReturnType<typeof runPod>> }[] = [];
  const deadline = Date.now() + 240_000;
  while (Date.now() < deadline) {
    const job = await kube.call("GET", `/apis/batch/v1/namespaces/${ns}/jobs/${jobName}`);
    const condition = ((job.status as { conditions?: JobCondition[] }).conditions ?? []).find(
      (c) => (c.type === "Complete" || c.type === "Failed") && c.status === "True",
    );
    if (condition) return { condition, pods };
    const list = await kube.call("GET", `/api/v1/namespaces/${ns}/pods?labelSelector=${encodeURIComponent(`batch.kubernetes.io/job-name=${jobName}`)}`);
    for (const p of list.items as (PodObject & { status?: { phase?: string } })[]) {
      if (ran.has(p.metadata.uid) || (p.status?.phase && p.status.phase !== "Pending")) continue;
      ran.add(p.metadata.uid);
      pods.push({ name: p.metadata.name, runs: await runPod(kubelet, p) });
    }
    await sleep(500);
  }
  return { pods };
}

/** The rehearsal step: see the file's comment. Records checks, timings and figures in `ctx`. */
export async function cronJobRehearsal(ctx: CronJobCtx, o: CronJobOptions): Promise<void> {
  const why = kubeletSupport();
  const missing = (["etcd", "kube-apiserver", "kube-controller-manager"] as const).filter((t) => !findTool(tool(t)));
  if (why || missing.length > 0) {
    const reason = why ?? `${missing.join(", ")} not built (npm run e2e:tools)`;
    console.error(`e2e:raft: skipped: the snapshot CronJob's run: ${reason}`);
    ctx.summary.skipped.push({ what: "the snapshot CronJob run by a real Job controller", reason });
    return;
  }
  const t0 = Date.now();
  const r = await render();
  const ns = meta(r.cronJob).namespace as string;
  const dir = join(o.root, "kube");
  mkdirSync(dir, { recursive: true });
  const etcd = await startEtcd(findTool(tool("etcd"))?.path as string, join(dir, "etcd"), o.logDir);
  const api = await startApiServer(findTool(tool("kube-apiserver"))?.path as string, etcd, o.ca, dir, o.logDir);
  await startControllerManager(findTool(tool("kube-controller-manager"))?.path as string, api, o.ca, dir, o.logDir);
  ctx.summary.timings["cronjob: program rendered; etcd, kube-apiserver, kube-controller-manager ready"] = secondsSince(t0);
  const kube = api.admin;

  // The program's objects, as the Kubernetes provider would create them (server-side validation).
  await kube.call("POST", "/api/v1/namespaces", r.namespace.inputs);
  await kube.call("POST", `/api/v1/namespaces/${ns}/serviceaccounts`, r.serviceAccount.inputs);
  if (r.claim) await kube.call("POST", `/api/v1/namespaces/${ns}/persistentvolumeclaims`, r.claim.inputs);
  const cron = await kube.call("POST", `/apis/batch/v1/namespaces/${ns}/cronjobs`, r.cronJob.inputs);
  // The guard on its account: pods from its Jobs only, tokens for kubelets only.
  for (const g of r.guard) {
    const plural = g.type.endsWith("Binding") ? "validatingadmissionpolicybindings" : "validatingadmissionpolicies";
    await kube.call("POST", `/apis/admissionregistration.k8s.io/v1/${plural}`, g.inputs);
  }
  // The operator's TLS Secret (docs/vault-bootstrap.md), with this rehearsal's CA.
  const podSpec = (cron.spec as { jobTemplate: { spec: { template: { spec: PodObject["spec"] } } } }).jobTemplate.spec.template.spec;
  const caSecret = (podSpec.volumes ?? []).flatMap((v) => v.projected?.sources ?? []).find((s) => s.secret)?.secret?.name as string;
  await kube.call("POST", `/api/v1/namespaces/${ns}/secrets`, {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: caSecret, namespace: ns },
    data: { "ca.crt": Buffer.from(o.ca.pem).toString("base64") },
  });
  // Vault's own identity reviews the Job's token (vault-helm's server.authDelegator).
  await kube.call("POST", `/api/v1/namespaces/${ns}/serviceaccounts`, { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "vault", namespace: ns } });
  await kube.call("POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRoleBinding",
    metadata: { name: "vault-server-binding" },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "system:auth-delegator" },
    subjects: [{ kind: "ServiceAccount", name: "vault", namespace: ns }],
  });
  const reviewer = await serviceAccountToken(kube, ns, "vault", api.issuer);

  // Vault: the auth method pointed at this API server (an installed Vault reads its pod's own
  // host, CA and token); the role and policy the program writes, compared with the restored ones.
  const auth = String(r.role.inputs.backend);
  const roleName = String(r.role.inputs.roleName);
  await o.vaultRoot.call("POST", `auth/${auth}/config`, {
    kubernetes_host: api.url,
    kubernetes_ca_cert: api.caPem,
    token_reviewer_jwt: reviewer,
    disable_local_ca_jwt: true,
  });
  const restoredRole = (await o.vaultRoot.call("GET", `auth/${auth}/role/${roleName}`)).data;
  const roleBody = authRoleBody(r.role.inputs);
  await o.vaultRoot.call("POST", `auth/${auth}/role/${roleName}`, roleBody);
  const programRole = (await o.vaultRoot.call("GET", `auth/${auth}/role/${roleName}`)).data;
  const restoredPolicy = (await o.vaultRoot.call("GET", `sys/policies/acl/${String(r.policy.inputs.name)}`)).data as { policy: string };
  ctx.check(
    "cronjob: the restored snapshot role and policy are the program's (AuthBackendRole and Policy inputs)",
    isDeepStrictEqual(restoredRole, programRole) && restoredPolicy.policy === r.policy.inputs.policy,
    `role ${JSON.stringify(roleBody)}`,
  );

  // Who may run as the CronJob's account, and mint its token: the guard, judged by the API server.
  const saName = podSpec.serviceAccountName;
  const borrow = restrictedPod("e2e-snapshot-borrower", saName);
  let podRefusal = { status: 0, message: "" };
  const tg = Date.now();
  // A policy takes effect once the API server's informer has it: a few seconds at most.
  while (Date.now() - tg < 30_000) {
    podRefusal = await dryRunPod(kube, ns, borrow);
    if (podRefusal.status >= 400) break;
    await sleep(500);
  }
  const mintAsAdmin = await kube.raw("POST", `/api/v1/namespaces/${ns}/serviceaccounts/${saName}/token`, {
    apiVersion: "authentication.k8s.io/v1",
    kind: "TokenRequest",
    spec: { audiences: ["vault"] },
  });
  ctx.check(
    `cronjob: admission refuses a person's pod as ${saName} and a person's TokenRequest for it (the program's guards, ${r.guard.length} objects; only the Job controller's pods, only kubelets' tokens)`,
    r.guard.length === 6 &&
      podRefusal.status >= 400 &&
      podRefusal.message.includes("veza-service-account-guard-") &&
      mintAsAdmin.status >= 400 &&
      String(mintAsAdmin.json.message ?? "").includes("veza-job-token-guard-"),
    `pod: ${podRefusal.status} ${podRefusal.message.slice(0, 200)}; TokenRequest: ${mintAsAdmin.status} ${String(mintAsAdmin.json.message ?? "").slice(0, 200)}`,
  );

  // A Job as the account must carry the CronJob's pod template (the CronJob is the policy's parameter).
  const cronTemplate = (cron.spec as { jobTemplate: { spec: { template: { spec: PodObject["spec"] } } } }).jobTemplate.spec;
  /** A dry-run Job from a copy of the CronJob's template, changed by `change`. */
  const dryRunJob = async (name: string, change: (t: typeof cronTemplate) => void) => {
    const t = JSON.parse(JSON.stringify(cronTemplate)) as typeof cronTemplate;
    change(t);
    return kube.raw("POST", `/apis/batch/v1/namespaces/${ns}/jobs?dryRun=All`, {
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name, namespace: ns },
      spec: t,
    });
  };
  // As for the pod guard: the policy, its binding and its parameter reach the API server's informers within seconds.
  const ownCommand = (t: typeof cronTemplate) => {
    t.template.spec.containers[0].command = ["/bin/sh", "-c", "cat /var/run/secrets/vault/token"];
  };
  let ownJob = await dryRunJob("e2e-own-template", ownCommand);
  for (const t0 = Date.now(); ownJob.status < 400 && Date.now() - t0 < 30_000;) {
    await sleep(500);
    ownJob = await dryRunJob("e2e-own-template", ownCommand);
  }
  const otherJob = await dryRunJob("e2e-other-account", (t) => {
    t.template.spec.serviceAccountName = "default";
    t.template.spec.containers[0].command = ["/bin/sh", "-c", "true"];
  });
  ctx.check(
    `cronjob: admission refuses a Job as ${saName} with a command of its own, and admits one as another account (CronJobTemplateGuard)`,
    ownJob.status >= 400 && String(ownJob.json.message ?? "").includes("veza-cronjob-template-guard-") && otherJob.status === 201,
    `own template: ${ownJob.status} ${String(ownJob.json.message ?? "").slice(0, 200)}; other account: ${otherJob.status} ${String(otherJob.json.message ?? "").slice(0, 120)}`,
  );

  // Who may log in: only the CronJob's ServiceAccount, only with a token for Vault.
  const login = async (jwt: string) => (await o.vaultRoot.withToken("").raw("POST", `auth/${auth}/login`, { role: roleName, jwt })).status;
  const refused = [
    ["the namespace's default ServiceAccount, audience vault", await login(await serviceAccountToken(kube, ns, "default", "vault"))],
    [`${saName} with the API server's audience (minted as a kubelet would)`, await login(await serviceAccountToken(api.node, ns, saName, api.issuer))],
  ] as const;
  ctx.check(
    `cronjob: Vault refuses the login of ${refused.map(([w]) => w).join(" and of ")}`,
    refused.every(([, s]) => s === 400 || s === 403),
    refused.map(([w, s]) => `${w}: HTTP ${s}`).join("; "),
  );

  // kube-proxy and cluster DNS for the Job's VAULT_ADDR.
  const addr = new URL(
    String([...(podSpec.initContainers ?? []), ...podSpec.containers].flatMap((c) => c.env ?? []).find((e) => e.name === "VAULT_ADDR")?.value),
  );
  let forwarder: Server;
  try {
    forwarder = await forwardToLeader(Number(addr.port || 443), o.nodes, o.ca);
  } catch (e) {
    ctx.check(`cronjob: ${addr.host} forwarded to the leader`, false, `127.0.0.1:${addr.port} is taken here: ${(e as Error).message}`);
    return;
  }
  // The stand-in kubelet acts as a node: the token guard admits its TokenRequests, bound to the pod.
  const kubelet = { kube: api.node, dir: join(o.root, "kubelet"), vaultBin: o.bin, hosts: { [addr.hostname]: "127.0.0.1" } };

  try {
    // The claim holds an old snapshot past retention and an unrelated file.
    const claimName = (podSpec.volumes ?? []).find((v) => v.persistentVolumeClaim)?.persistentVolumeClaim?.claimName;
    const claim = claimName ? claimDir(kubelet, ns, claimName) : undefined;
    const retention = /-mtime \+(\d+)/.exec(
      String(
        podSpec.containers
          .concat(podSpec.initContainers ?? [])
          .flatMap((c) => c.command ?? [])
          .join("\n"),
      ),
    )?.[1];
    const oldSnap = "vault-raft-20200101T000000Z.snap";
    if (claim) {
      mkdirSync(claim, { recursive: true });
      const longAgo = new Date(Date.now() - (Number(retention ?? 0) + 2) * 86_400_000);
      for (const f of [oldSnap, "operator-notes.txt"]) {
        writeFileSync(join(claim, f), "old");
        utimesSync(join(claim, f), longAgo, longAgo);
      }
    }

    // A run that succeeds.
    const t1 = Date.now();
    const ok = await runJob(kube, kubelet, ns, cron, `${meta(r.cronJob).name}-manual-1`);
    ctx.summary.timings["cronjob: a Job from the CronJob, Complete (controller, pod, login, save, inspect)"] = secondsSince(t1);
    const outputs = ok.pods.flatMap((p) => p.runs.map((x) => `${p.name}/${x.name} exit ${x.exitCode}: ${x.output.trim()}`)).join("; ");
    ctx.check(
      `cronjob: the Job made from the CronJob completes (${ok.pods.length} pod)`,
      ok.condition?.type === "Complete" && ok.pods.length === 1,
      `${JSON.stringify(ok.condition)}; ${outputs.slice(0, 600)}`,
    );
    const fsGroup = podSpec.securityContext?.fsGroup;
    const snaps = claim ? readdirSync(claim).filter((f) => /^vault-raft-\d{8}T\d{6}Z\.snap$/.test(f) && f !== oldSnap) : [];
    const file = claim && snaps.length === 1 ? join(claim, snaps[0]) : undefined;
    const st = file ? statSync(file) : undefined;
    ctx.summary.figures.cronJobSnapshotBytes = st?.size ?? 0;
    ctx.check(
      "cronjob: one new snapshot on the claim, non-empty, mode 0640 and group fsGroup (umask 027), no .partial",
      Boolean(st && st.size > 0 && (st.mode & 0o777) === 0o640 && st.gid === fsGroup) && !readdirSync(claim as string).some((f) => f.endsWith(".partial")),
      `files ${claim ? readdirSync(claim).join(", ") : "(no claim)"}; ${st ? `${st.size} bytes, mode ${(st.mode & 0o777).toString(8)}, gid ${st.gid} (fsGroup ${String(fsGroup)})` : "no new snapshot"}`,
    );
    const inspect = file ? spawnSync(o.bin, ["operator", "raft", "snapshot", "inspect", file], { encoding: "utf8" }) : undefined;
    ctx.check(
      "cronjob: its snapshot reads back (vault operator raft snapshot inspect)",
      inspect?.status === 0,
      (inspect?.stdout ?? "").trim().split("\n").slice(0, 4).join(" | "),
    );
    ctx.check(
      `cronjob: pruning kept the unrelated file and removed the snapshot older than ${retention ?? "?"} days`,
      Boolean(claim && existsSync(join(claim, "operator-notes.txt")) && !existsSync(join(claim, oldSnap))),
      claim ? readdirSync(claim).join(", ") : "(no claim)",
    );
    ctx.check(
      "cronjob: no Vault token in the Job's output",
      ok.pods.length > 0 && !/hv[sbr]\.[A-Za-z0-9_-]{10,}/.test(outputs),
      outputs.replace(/hv[sbr]\.[A-Za-z0-9_-]+/g, "<token>").slice(0, 300),
    );

    // A run Vault refuses (the role is gone): every pod fails, the Job fails, nothing is written.
    const before = claim ? readdirSync(claim).sort() : [];
    await o.vaultRoot.call("DELETE", `auth/${auth}/role/${roleName}`);
    const t2 = Date.now();
    const bad = await runJob(kube, kubelet, ns, cron, `${meta(r.cronJob).name}-manual-2`);
    ctx.summary.timings["cronjob: a Job whose login Vault refuses, until Failed"] = secondsSince(t2);
    await o.vaultRoot.call("POST", `auth/${auth}/role/${roleName}`, roleBody);
    // The Job's backoffLimit as the API server stored it (6 when unset).
    const limit = (cron.spec as { jobTemplate: { spec: { backoffLimit?: number } } }).jobTemplate.spec.backoffLimit ?? 6;
    ctx.check(
      `cronjob: when Vault refuses the login the Job fails (${bad.pods.length} pods, backoffLimit ${limit}) and writes nothing`,
      bad.condition?.type === "Failed" &&
        bad.condition.reason === "BackoffLimitExceeded" &&
        bad.pods.length === limit + 1 &&
        bad.pods.every((p) => p.runs.some((x) => x.exitCode !== 0)) &&
        isDeepStrictEqual(claim ? readdirSync(claim).sort() : [], before),
      `${JSON.stringify(bad.condition)}; ${bad.pods
        .map((p) => p.runs.map((x) => `${x.name} exit ${x.exitCode}: ${x.output.trim().split("\n").slice(-1)[0] ?? ""}`).join(", "))
        .join("; ")
        .slice(0, 500)}`,
    );

    // The CronJob controller's own Job: the schedule set to every minute, the first Job it creates
    // (through the template guard, as any scheduled run) run to completion, then the CronJob suspended.
    const cronPath = `/apis/batch/v1/namespaces/${ns}/cronjobs/${meta(r.cronJob).name}`;
    const programSchedule = String((cron.spec as { schedule: string }).schedule);
    const successBefore = ((await kube.call("GET", cronPath)).status as { lastSuccessfulTime?: string }).lastSuccessfulTime;
    const tf = Date.now();
    await kube.call("PATCH", cronPath, { spec: { schedule: "* * * * *" } }, "application/merge-patch+json");
    let scheduled: string | undefined;
    while (!scheduled && Date.now() - tf < 90_000) {
      const jobs = await kube.call("GET", `/apis/batch/v1/namespaces/${ns}/jobs`);
      scheduled = (jobs.items as { metadata: { name: string; annotations?: Record<string, string> } }[]).find(
        (j) => j.metadata.annotations?.["cronjob.kubernetes.io/instantiate"] !== "manual" && j.metadata.name.startsWith(`${meta(r.cronJob).name}-`),
      )?.metadata.name;
      if (!scheduled) await sleep(1000);
    }
    await kube.call("PATCH", cronPath, { spec: { suspend: true, schedule: programSchedule } }, "application/merge-patch+json");
    const fired = scheduled ? await runJobPods(kube, kubelet, ns, scheduled) : { pods: [] };
    ctx.summary.timings["cronjob: the CronJob controller's scheduled Job, from the schedule change to Complete"] = secondsSince(tf);
    let status: { lastScheduleTime?: string; lastSuccessfulTime?: string } = {};
    for (let i = 0; i < 30; i++) {
      status = (await kube.call("GET", cronPath)).status as typeof status;
      if (status.lastSuccessfulTime && status.lastSuccessfulTime !== successBefore) break;
      await sleep(1000);
    }
    ctx.check(
      "cronjob: the CronJob controller fires on the schedule (set to every minute): its Job passes the template guard and completes; the CronJob records lastSuccessfulTime (what the runbook's alert reads)",
      scheduled !== undefined && fired.condition?.type === "Complete" && Boolean(status.lastSuccessfulTime) && status.lastSuccessfulTime !== successBefore,
      `${scheduled ?? "no scheduled Job within 90 s"}: ${JSON.stringify(fired.condition)}; lastScheduleTime ${String(status.lastScheduleTime)}, lastSuccessfulTime ${String(successBefore)} → ${String(status.lastSuccessfulTime)}`,
    );

    // The same CronJob of the production program with S3 snapshots: the upload with the AWS CLI.
    await s3UploadRehearsal(ctx, { kube, kubelet, ns, ca: o.ca, bin: o.bin, vaultRoot: o.vaultRoot, runJob, dir });
  } finally {
    forwarder.close();
  }
}
