/**
 * `npm run vault-roll -- staging` itself, as an operator runs it: kubectl (built from the Go
 * module proxy) against a real API server, whose real StatefulSet controller recreates each
 * deleted Vault pod, and the real `vault` CLI through a Service, while Vault's own Kubernetes
 * service registration sets the `vault-sealed` and `vault-active` labels the script waits on.
 *
 * - **From the program**: the staging stack's vault-helm values (server config HCL, api_addr,
 *   node ids, TLS volume and mount, environment, security contexts, readiness probe path,
 *   `publishNotReadyAddresses`, update strategy) and its Vault Namespace (Pod Security
 *   `restricted`, enforced on the pods).
 * - **Written here after vault-helm 0.34.1's templates** (the chart is not in reach): the
 *   StatefulSet, both Services, the ConfigMap, the ServiceAccount and the service registration's
 *   Role. Two differences: the container's script ends with `exec vault server` instead of the
 *   image's entrypoint (not here), and the pre-stop hook (`sleep 5`, then SIGTERM to vault) is
 *   not run: the stand-in node SIGTERMs at once, which gives clients less warning.
 * - **Stand-ins** (`./node.ts`): the scheduler, the kubelet (network namespace per pod, this
 *   machine's `/usr` and the built `vault` in place of the image), cluster DNS and kube-proxy;
 *   the operator who unseals each restarted pod (`vault operator unseal` through the pod's own
 *   address, where the runbook has `kubectl exec`).
 *
 * Then: Vault initialised and unsealed, three voters; a roll by the script with a token of
 * exactly `rollPolicy()`, and a roll with `--step-down` and `rollPolicy({ stepDown: true })`,
 * each under a client writing and reading KV every 100 ms through the `vault` Service.
 */
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { delimiter, dirname, join } from "node:path";
import { runProgram } from "../harness";
import { VAULT_API_PORT, VAULT_RELEASE_NAME, VAULT_SERVICE_ACCOUNT } from "../components/vault/cluster-args";
import { SERVER_PODS, autopilotConfiguration, autopilotVerdict, type AutopilotState, rollPolicy } from "../scripts/vault-roll";
import { httpJson } from "./http";
import { type Kube, kubeconfig } from "./kube";
import type { PodObject } from "./kubelet";
import { nodeSupport, serviceForwarder, startNode } from "./node";
import { type Ca, makeServerCert } from "./pki";
import { secondsSince, waitFor } from "./processes";
import { type CronJobCtx, documentedVaultSans } from "./raft-cronjob";
import { loadFigures, monitorLeader, startLoad } from "./raft-load";
import { E2E_NODE_USER, startApiServer, startControllerManager, startEtcd } from "./servers";
import { findTool, tool } from "./tools";
import { vaultClient } from "./vault-client";

export interface PodsRollOptions {
  /** The built `vault` binary. */
  bin: string;
  root: string;
  logDir: string;
  ca: Ca;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The staging program's vault-helm values and its Vault Namespace. */
async function render(): Promise<{ values: ChartValues; namespace: Record<string, unknown>; ns: string }> {
  const run = await runProgram({ stack: "staging" });
  const release = run.resources.find((r) => r.type === "kubernetes:helm.sh/v3:Release" && r.inputs.chart === "vault");
  if (!release) throw new Error("the staging program installs no vault chart");
  const ns = String(release.inputs.namespace);
  const namespace = run.resources.find((r) => r.type === "kubernetes:core/v1:Namespace" && (r.inputs.metadata as { name?: string }).name === ns);
  if (!namespace) throw new Error(`the staging program registers no Namespace ${ns}`);
  return { values: release.inputs.values as ChartValues, namespace: namespace.inputs, ns };
}

/** The parts of the program's vault-helm values the objects below read. */
interface ChartValues {
  server: {
    image: { repository: string; tag: string };
    updateStrategyType: string;
    readinessProbe: { enabled: boolean; path: string };
    statefulSet: { securityContext: { pod: Record<string, unknown>; container: Record<string, unknown> } };
    service: { publishNotReadyAddresses: boolean };
    ha: { enabled: boolean; replicas: number; apiAddr: string; raft: { enabled: boolean; setNodeId: boolean; config: string } };
    volumes: Record<string, unknown>[];
    volumeMounts: Record<string, unknown>[];
    extraEnvironmentVars: Record<string, string>;
    extraLabels?: Record<string, string>;
  };
}

const SELECTOR = { "app.kubernetes.io/name": "vault", "app.kubernetes.io/instance": VAULT_RELEASE_NAME, component: "server" };

/** vault-helm's server script (server-statefulset.yaml), its last line exec'ing vault (see the file's comment). */
const SERVER_SCRIPT = [
  "cp /vault/config/extraconfig-from-values.hcl /tmp/storageconfig.hcl;",
  ...["HOST_IP", "POD_IP", "HOSTNAME", "API_ADDR", "TRANSIT_ADDR", "RAFT_ADDR"].map(
    (v) => `[ -n "\${${v}}" ] && sed -Ei "s|${v}|\${${v}?}|g" /tmp/storageconfig.hcl;`,
  ),
  "exec vault server -config=/tmp/storageconfig.hcl",
].join("\n");

/** The chart's objects for an HA Raft release with `values`, in namespace `ns` (vault-helm 0.34.1, see the file's comment). */
export function chartObjects(values: ChartValues, ns: string): { path: string; body: Record<string, unknown> }[] {
  const s = values.server;
  const labels = { ...SELECTOR, ...(s.extraLabels ?? {}) };
  const ports = [
    { name: "http", port: VAULT_API_PORT, targetPort: VAULT_API_PORT },
    { name: "https-internal", port: 8201, targetPort: 8201 },
  ];
  const field = (fieldPath: string) => ({ valueFrom: { fieldRef: { fieldPath } } });
  const env = [
    { name: "HOST_IP", ...field("status.hostIP") },
    { name: "POD_IP", ...field("status.podIP") },
    { name: "VAULT_K8S_POD_NAME", ...field("metadata.name") },
    { name: "VAULT_K8S_NAMESPACE", ...field("metadata.namespace") },
    { name: "VAULT_ADDR", value: `https://127.0.0.1:${VAULT_API_PORT}` },
    { name: "VAULT_API_ADDR", value: s.ha.apiAddr },
    { name: "SKIP_CHOWN", value: "true" },
    { name: "SKIP_SETCAP", value: "true" },
    { name: "HOSTNAME", ...field("metadata.name") },
    { name: "VAULT_CLUSTER_ADDR", value: `https://$(HOSTNAME).${VAULT_RELEASE_NAME}-internal:8201` },
    ...(s.ha.raft.setNodeId ? [{ name: "VAULT_RAFT_NODE_ID", ...field("metadata.name") }] : []),
    { name: "HOME", value: "/home/vault" },
    ...Object.entries(s.extraEnvironmentVars).map(([name, value]) => ({ name, value })),
  ];
  const [repo, tag] = [s.image.repository, s.image.tag];
  return [
    {
      path: `/api/v1/namespaces/${ns}/serviceaccounts`,
      body: { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: VAULT_SERVICE_ACCOUNT, namespace: ns } },
    },
    {
      path: `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/roles`,
      body: {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "Role",
        metadata: { name: `${VAULT_RELEASE_NAME}-discovery-role`, namespace: ns },
        rules: [{ apiGroups: [""], resources: ["pods"], verbs: ["get", "watch", "list", "update", "patch"] }],
      },
    },
    {
      path: `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/rolebindings`,
      body: {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "RoleBinding",
        metadata: { name: `${VAULT_RELEASE_NAME}-discovery-rolebinding`, namespace: ns },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: `${VAULT_RELEASE_NAME}-discovery-role` },
        subjects: [{ kind: "ServiceAccount", name: VAULT_SERVICE_ACCOUNT, namespace: ns }],
      },
    },
    {
      path: `/api/v1/namespaces/${ns}/configmaps`,
      body: {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: `${VAULT_RELEASE_NAME}-config`, namespace: ns },
        data: { "extraconfig-from-values.hcl": s.ha.raft.config },
      },
    },
    {
      path: `/api/v1/namespaces/${ns}/services`,
      body: {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: `${VAULT_RELEASE_NAME}-internal`, namespace: ns },
        spec: { clusterIP: "None", publishNotReadyAddresses: true, ports, selector: SELECTOR },
      },
    },
    {
      path: `/api/v1/namespaces/${ns}/services`,
      body: {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: VAULT_RELEASE_NAME, namespace: ns },
        spec: { publishNotReadyAddresses: s.service.publishNotReadyAddresses, ports, selector: SELECTOR },
      },
    },
    {
      path: `/apis/apps/v1/namespaces/${ns}/statefulsets`,
      body: {
        apiVersion: "apps/v1",
        kind: "StatefulSet",
        metadata: { name: VAULT_RELEASE_NAME, namespace: ns, labels: { "app.kubernetes.io/name": "vault", "app.kubernetes.io/instance": VAULT_RELEASE_NAME } },
        spec: {
          serviceName: `${VAULT_RELEASE_NAME}-internal`,
          podManagementPolicy: "Parallel",
          replicas: s.ha.replicas,
          updateStrategy: { type: s.updateStrategyType },
          selector: { matchLabels: SELECTOR },
          template: {
            metadata: { labels },
            spec: {
              terminationGracePeriodSeconds: 10,
              serviceAccountName: VAULT_SERVICE_ACCOUNT,
              securityContext: s.statefulSet.securityContext.pod,
              volumes: [{ name: "config", configMap: { name: `${VAULT_RELEASE_NAME}-config` } }, ...s.volumes, { name: "home", emptyDir: {} }],
              containers: [
                {
                  name: "vault",
                  image: `${repo}:${tag}`,
                  command: ["/bin/sh", "-ec"],
                  args: [SERVER_SCRIPT],
                  securityContext: s.statefulSet.securityContext.container,
                  env,
                  volumeMounts: [
                    { name: "data", mountPath: "/vault/data" },
                    { name: "audit", mountPath: "/vault/audit" },
                    { name: "config", mountPath: "/vault/config" },
                    ...s.volumeMounts,
                    { name: "home", mountPath: "/home/vault" },
                  ],
                  ports: [
                    { containerPort: VAULT_API_PORT, name: "http" },
                    { containerPort: 8201, name: "https-internal" },
                  ],
                  readinessProbe: {
                    httpGet: { path: s.readinessProbe.path, port: VAULT_API_PORT, scheme: "HTTPS" },
                    failureThreshold: 2,
                    initialDelaySeconds: 5,
                    periodSeconds: 5,
                    successThreshold: 1,
                    timeoutSeconds: 3,
                  },
                },
              ],
            },
          },
          volumeClaimTemplates: ["data", "audit"].map((name) => ({
            metadata: { name },
            spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "10Gi" } } },
          })),
        },
      },
    },
  ];
}

interface PodView {
  name: string;
  uid: string;
  ip?: string;
  labels: Record<string, string>;
}

async function pods(kube: Kube, ns: string): Promise<PodView[]> {
  const list = await kube.call("GET", `/api/v1/namespaces/${ns}/pods?labelSelector=${encodeURIComponent(SERVER_PODS)}`);
  return (list.items as PodObject[])
    .filter((p) => !p.metadata.deletionTimestamp)
    .map((p) => ({ name: p.metadata.name, uid: p.metadata.uid, ip: p.status?.podIP, labels: p.metadata.labels ?? {} }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** The rehearsal step: see the file's comment. */
export async function podsRollRehearsal(ctx: CronJobCtx, o: PodsRollOptions): Promise<void> {
  const why = nodeSupport();
  const missing = (["etcd", "kube-apiserver", "kube-controller-manager", "kubectl"] as const).filter((t) => !findTool(tool(t)));
  if (why || missing.length > 0) {
    const reason = why ?? `${missing.join(", ")} not built (npm run e2e:tools)`;
    console.error(`e2e:raft: skipped: npm run vault-roll against Vault pods: ${reason}`);
    ctx.summary.skipped.push({ what: "npm run vault-roll against a StatefulSet's Vault pods", reason });
    return;
  }
  const t0 = Date.now();
  const { values, namespace, ns } = await render();
  const dir = join(o.root, "kube-pods");
  mkdirSync(dir, { recursive: true });
  const etcd = await startEtcd(findTool(tool("etcd"))?.path as string, join(dir, "etcd"), o.logDir);
  const api = await startApiServer(findTool(tool("kube-apiserver"))?.path as string, etcd, o.ca, dir, o.logDir);
  await startControllerManager(findTool(tool("kube-controller-manager"))?.path as string, api, o.ca, dir, o.logDir);
  const kube = api.admin;

  // The program's Namespace, the operator's TLS Secret (docs/vault-bootstrap.md's names), the chart's objects.
  await kube.call("POST", "/api/v1/namespaces", namespace);
  const tls = makeServerCert(
    o.ca,
    "vault-pods",
    documentedVaultSans(ns).filter((s) => s !== "IP:127.0.0.1"),
  );
  const tlsSecret = String((values.server.volumes.find((v) => "secret" in v) as { secret: { secretName: string } }).secret.secretName);
  await kube.call("POST", `/api/v1/namespaces/${ns}/secrets`, {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: tlsSecret, namespace: ns },
    type: "kubernetes.io/tls",
    data: {
      "tls.crt": readFileSync(tls.cert).toString("base64"),
      "tls.key": readFileSync(tls.key).toString("base64"),
      "ca.crt": Buffer.from(o.ca.pem).toString("base64"),
    },
  });
  for (const obj of chartObjects(values, ns)) await kube.call("POST", obj.path, obj.body);
  const nodeName = E2E_NODE_USER.replace(/^system:node:/, "");
  const node = await startNode({
    kubelet: { kube: api.node, dir: join(o.root, "node"), vaultBin: o.bin },
    admin: kube,
    apiUrl: api.url,
    name: nodeName,
    namespace: ns,
    selector: SERVER_PODS,
    logDir: o.logDir,
  });
  const service = await serviceForwarder(kube, ns, VAULT_RELEASE_NAME, "http");
  const serviceAddr = `https://127.0.0.1:${service.port}`;
  let operatorStop = false;
  let operator: Promise<void> | undefined;
  try {
    // The operator: `vault operator init` on the first pod, then every sealed pod unsealed with the key.
    const atPod = (p: PodView, path: string, method = "GET", body?: unknown, timeoutMs = 3000) =>
      httpJson(`https://${p.ip}:${VAULT_API_PORT}/v1/${path}`, method, {
        ca: o.ca.pem,
        servername: `${p.name}.${VAULT_RELEASE_NAME}-internal`,
        body,
        timeoutMs,
      });
    let first: PodView | undefined;
    await waitFor(
      "vault-0 running with an address",
      async () => {
        first = (await pods(kube, ns)).find((p) => p.name === `${VAULT_RELEASE_NAME}-0` && p.ip);
        return first !== undefined && (await atPod(first, "sys/seal-status").catch(() => undefined))?.status === 200;
      },
      120_000,
      500,
    ).catch((e: Error) => {
      throw new Error(`${e.message}; node: ${node.events.slice(-6).join(" | ")}`);
    });
    // Raft's first election is part of the answer (5 s timeouts with Vault's default performance_multiplier).
    const init = await atPod(first as PodView, "sys/init", "PUT", { secret_shares: 1, secret_threshold: 1 }, 60_000);
    if (init.status !== 200) throw new Error(`vault operator init: HTTP ${init.status} ${init.text.slice(0, 200)}`);
    const unsealKey = (init.json.keys_base64 as string[])[0];
    const rootToken = String(init.json.root_token);
    const unsealed: { pod: string; uid: string; at: number }[] = [];
    operator = (async () => {
      while (!operatorStop) {
        for (const p of await pods(kube, ns).catch(() => [])) {
          if (!p.ip) continue;
          const st = await atPod(p, "sys/seal-status").catch(() => undefined);
          if (st?.status !== 200 || st.json.sealed !== true) continue;
          const r = await atPod(p, "sys/unseal", "PUT", { key: unsealKey }).catch(() => undefined);
          if (r?.status === 200 && r.json.sealed === false) unsealed.push({ pod: p.name, uid: p.uid, at: Date.now() });
        }
        await sleep(1000);
      }
    })();
    const root = vaultClient(serviceAddr, rootToken, o.ca.pem);
    const autopilot = async () => {
      const a = await root.raw("GET", "sys/storage/raft/autopilot/state");
      return a.status === 200 ? autopilotVerdict(a.json.data as AutopilotState, values.server.ha.replicas) : { ok: false, reason: `HTTP ${a.status}` };
    };
    let last = "";
    await waitFor(
      "three voters, every pod labelled unsealed by Vault's service registration",
      async () => {
        const ps = await pods(kube, ns);
        const v = await autopilot().catch((e: Error) => ({ ok: false, reason: e.message }));
        last = `${v.reason}; ${ps.map((p) => `${p.name} sealed=${p.labels["vault-sealed"] ?? "-"} active=${p.labels["vault-active"] ?? "-"}`).join(", ")}; endpoints ${service.endpoints().join(",")}`;
        return (
          v.ok && ps.length === values.server.ha.replicas && ps.every((p) => p.labels["vault-sealed"] === "false") && service.endpoints().length === ps.length
        );
      },
      180_000,
      1000,
    ).catch((e: Error) => {
      throw new Error(`${e.message} (${last}); node: ${node.events.slice(-8).join(" | ")}`);
    });
    ctx.summary.timings["pods: API server, StatefulSet of 3 Vault pods Running, initialised, unsealed, 3 voters, all Ready"] = secondsSince(t0);
    const labelled = await pods(kube, ns);
    const active = labelled.filter((p) => p.labels["vault-active"] === "true");
    ctx.check(
      "pods: Vault's Kubernetes service registration labels its pods (vault-sealed=false on 3, vault-active=true on 1, vault-version, vault-initialized): what vault-roll waits on",
      labelled.length === 3 &&
        active.length === 1 &&
        labelled.every(
          (p) => p.labels["vault-sealed"] === "false" && p.labels["vault-initialized"] === "true" && /^\d+\.\d+\.\d+/.test(p.labels["vault-version"] ?? ""),
        ),
      labelled
        .map(
          (p) =>
            `${p.name}: ${Object.entries(p.labels)
              .filter(([k]) => k.startsWith("vault-"))
              .map(([k, v]) => `${k}=${v}`)
              .join(" ")}`,
        )
        .join("; "),
    );

    // The runbook's one-time settings, KV for the client, and the roll's tokens of exactly rollPolicy.
    await root.call("POST", "sys/mounts/secret", { type: "kv", options: { version: "2" } });
    await root.call("POST", "sys/storage/raft/autopilot/configuration", autopilotConfiguration(values.server.ha.replicas));
    const kubeconfigFile = join(dir, "operator.kubeconfig");
    writeFileSync(kubeconfigFile, kubeconfig("e2e-operator", api.url, api.caPem, api.adminToken), { mode: 0o600 });
    const kubectl = findTool(tool("kubectl"))?.path as string;

    for (const stepDown of [false, true]) {
      const variant = stepDown ? "pods-step-down" : "pods";
      const label = stepDown ? "vault-roll --step-down on pods" : "vault-roll on pods";
      const policyName = stepDown ? "vault-roll-step-down" : "vault-roll";
      await root.call("PUT", `sys/policies/acl/${policyName}`, { policy: rollPolicy({ stepDown }) });
      const token = String(
        ((await root.call("POST", "auth/token/create", { policies: [policyName], no_default_policy: true, ttl: "1h" })).auth as { client_token: string })
          .client_token,
      );
      const before = await pods(kube, ns);
      const leader = before.find((p) => p.labels["vault-active"] === "true")?.name;
      await root.call("POST", `secret/data/rehearsal/${variant}-before`, { data: { value: variant } });
      const load = startLoad([serviceAddr], o.ca.pem, rootToken, "secret", `rehearsal/${variant}`);
      const monitor = monitorLeader([serviceAddr], o.ca.pem);
      await sleep(2000);
      const tRoll = Date.now();
      const unsealedBefore = unsealed.length;
      const eventsBefore = node.events.length;
      const out = await new Promise<{ code: number; output: string }>((resolve) => {
        const child = spawn(
          process.execPath,
          ["--require", require.resolve("tsx/cjs"), join(__dirname, "..", "scripts", "vault-roll.ts"), "staging", ...(stepDown ? ["--step-down"] : [])],
          {
            cwd: join(__dirname, ".."),
            env: {
              ...process.env,
              PATH: [dirname(kubectl), dirname(o.bin), process.env.PATH ?? ""].join(delimiter),
              KUBECONFIG: kubeconfigFile,
              VAULT_ADDR: serviceAddr,
              VAULT_CACERT: o.ca.cert,
              VAULT_TOKEN: token,
            },
            stdio: ["ignore", "pipe", "pipe"],
          },
        );
        let output = "";
        child.stdout.on("data", (d: Buffer) => (output += d.toString("utf8")));
        child.stderr.on("data", (d: Buffer) => (output += d.toString("utf8")));
        const timer = setTimeout(() => child.kill("SIGKILL"), 15 * 60_000);
        child.on("close", (code) => {
          clearTimeout(timer);
          resolve({ code: code ?? 137, output });
        });
      });
      ctx.summary.timings[`${label}: the script, start to done`] = secondsSince(tRoll);
      await sleep(2000);
      const stats = await load.stop();
      const leaders = await monitor.stop();
      writeFileSync(join(o.logDir, `${variant}-vault-roll.log`), out.output);
      Object.assign(ctx.summary.figures, loadFigures(variant, stats, leaders, {}));
      const deletes = [...out.output.matchAll(/^==> kubectl delete pod -n \S+ (\S+)/gm)].map((m) => m[1]);
      const after = await pods(kube, ns);
      ctx.summary.figures[`${variant}.order`] = deletes.join(", ");
      ctx.check(
        `${label}: exits 0 with a token of exactly rollPolicy(${stepDown ? "{ stepDown: true }" : ""}); deleted ${deletes.length} pods, the leader (${leader ?? "?"}) last`,
        out.code === 0 &&
          /vault-roll staging: done/.test(out.output) &&
          deletes.length === 3 &&
          deletes.at(-1) === leader &&
          new Set(deletes).size === 3 &&
          (!stepDown || /==> vault operator step-down/.test(out.output)),
        `exit ${out.code}; ${out.output
          .replace(/hv[sbr]\.[A-Za-z0-9_-]+/g, "<token>")
          .split("\n")
          .filter((l) => l.startsWith("==>") || /vault-roll|error|Error/.test(l))
          .join(" | ")
          .slice(0, 900)}`,
      );
      ctx.check(
        `${label}: the StatefulSet recreated every pod (new uids), each unsealed by the operator once (Shamir) and labelled unsealed, autopilot healthy`,
        after.length === 3 &&
          after.every((p) => !before.some((b) => b.uid === p.uid) && p.labels["vault-sealed"] === "false") &&
          unsealed.length - unsealedBefore === 3 &&
          (await autopilot()).ok,
        `${after.map((p) => `${p.name} ${p.uid.slice(0, 8)} sealed=${p.labels["vault-sealed"]}`).join(", ")}; unseals ${unsealed
          .slice(unsealedBefore)
          .map((u) => u.pod)
          .join(", ")}`,
      );
      // From the node's events: each pod deleted only once the pod restarted before it was Ready again (in the Service).
      const events = node.events.slice(eventsBefore).map((e) => {
        const [at, pod, ...what] = e.split(" ");
        return { at, pod, what: what.join(" ") };
      });
      const gaps: string[] = [];
      const deletions = events.filter((e) => e.what.startsWith("deletion seen"));
      deletions.forEach((d, i) => {
        if (i === 0) return;
        const prev = deletions[i - 1].pod;
        const ready = events.find((e) => e.pod === prev && e.what === "Ready" && e.at > deletions[i - 1].at);
        gaps.push(
          `${d.pod} deleted ${ready && ready.at < d.at ? `${((Date.parse(d.at) - Date.parse(ready.at)) / 1000).toFixed(1)} s after` : "BEFORE"} ${prev} was Ready again`,
        );
      });
      ctx.check(
        `${label}: each pod is deleted only after the pod restarted before it is Ready again (back in the vault Service)`,
        deletions.length === 3 && gaps.every((g) => !g.includes("BEFORE")),
        gaps.join("; "),
      );
      ctx.check(
        `${label}: no write or read failed through the vault Service (${stats.writes} writes, ${stats.reads} reads; ${stats.failedRequests} single requests failed and were retried)`,
        stats.writes > 0 && stats.failedWrites === 0 && stats.failedReads === 0 && stats.staleReads === 0,
        `failed writes ${stats.failedWrites}, failed reads ${stats.failedReads}, stale reads ${stats.staleReads}, failed requests ${stats.failedRequests} ${JSON.stringify(stats.reasons).slice(0, 300)}, slowest operation ${stats.maxOperationMs} ms`,
      );
      ctx.check(
        `${label}: the leader changed once (${leaders.changes}), and the data written before reads back`,
        leaders.changes === 1 &&
          ((await root.call("GET", `secret/data/rehearsal/${variant}-before`)).data as { data: { value: string } }).data.value === variant,
        leaders.history.map((h) => h.leader).join(" → "),
      );
    }
  } finally {
    operatorStop = true;
    await operator;
    service.close();
    writeFileSync(join(o.logDir, "node-events.log"), `${node.events.join("\n")}\n`);
    await node.stop();
  }
}
