/**
 * A stand-in for the kubelet, for the Raft rehearsal's snapshot Job: it runs a Pod the real Job
 * controller created, as a node would, and reports the outcome through the Pod's status so the
 * Job controller decides Complete or Failed. No container runtime runs here, so each container
 * runs in a private mount namespace with a root of its own: this machine's `/usr` read-only in
 * place of the image (with the `vault` binary `npm run e2e:tools` built on its PATH), every
 * volume bound at its `mountPath` (read-only where the mount says so), the root file system
 * read-only when `readOnlyRootFilesystem` is set, the container's user and group with the
 * pod's `fsGroup` as a supplementary group, no capabilities, `no_new_privs`, and only the
 * container's environment (values with `$(VAR)` expanded, fields of the pod). Volumes as the
 * kubelet fills them: projected tokens by a TokenRequest bound to the Pod, Secret and
 * ConfigMap items from the API server, downward-API files, emptyDirs fresh per pod,
 * PersistentVolumeClaims as a directory that outlives the pod, group-owned by `fsGroup` with
 * the set-group-ID bit. Names the pod resolves come from `hosts` or a shared hosts file
 * (cluster DNS's stand-in); a trust store can replace the image's CA bundle.
 *
 * `startServerPod` runs a long-lived pod's container instead, in a network namespace of its
 * own, for `./node.ts` (the Vault pods of `npm run e2e:raft`'s roll).
 *
 * Needs root and `unshare`, `chroot`, `setpriv` (util-linux); `kubeletSupport()` says why not.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { chmodSync, chownSync, closeSync, existsSync, mkdirSync, openSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Kube } from "./kube";

/** An env var: a value (with `$(VAR)` references to earlier ones), or one of the pod's fields. */
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { fieldPath: string } };
}
/** The subset of a Pod the stand-in runs. Anything else in a volume or env is refused. */
export interface Container {
  name: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
  securityContext?: { runAsUser?: number; runAsGroup?: number; readOnlyRootFilesystem?: boolean };
  workingDir?: string;
  readinessProbe?: {
    httpGet?: { path: string; port: number | string; scheme?: string };
    initialDelaySeconds?: number;
    periodSeconds?: number;
    failureThreshold?: number;
    timeoutSeconds?: number;
  };
}
type Items = { key: string; path: string }[];
interface Volume {
  name: string;
  emptyDir?: unknown;
  persistentVolumeClaim?: { claimName: string };
  secret?: { secretName: string; defaultMode?: number; items?: Items };
  configMap?: { name: string; defaultMode?: number; items?: Items };
  projected?: {
    defaultMode?: number;
    sources: {
      serviceAccountToken?: { audience?: string; expirationSeconds?: number; path: string };
      secret?: { name: string; items?: Items };
      configMap?: { name: string; items?: Items };
      downwardAPI?: { items: { path: string; fieldRef: { fieldPath: string } }[] };
    }[];
  };
}
export interface PodObject {
  metadata: { name: string; namespace: string; uid: string; labels?: Record<string, string>; deletionTimestamp?: string };
  spec: {
    serviceAccountName: string;
    nodeName?: string;
    hostname?: string;
    subdomain?: string;
    terminationGracePeriodSeconds?: number;
    securityContext?: { runAsUser?: number; runAsGroup?: number; fsGroup?: number; supplementalGroups?: number[] };
    initContainers?: Container[];
    containers: Container[];
    volumes?: Volume[];
  };
  status?: { phase?: string; podIP?: string; hostIP?: string };
}

/** Where a pod runs: its own network namespace and address (`./node.ts`), or the host's network. */
export interface PodNetwork {
  /** `ip netns` name the containers run in. */
  netns: string;
  podIP: string;
  hostIP: string;
}

/** The image's PATH (hashicorp/vault's). */
const IMAGE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** Why the stand-in cannot run here, or undefined when it can. */
export function kubeletSupport(): string | undefined {
  if (process.getuid?.() !== 0) return "runs containers with unshare and chroot, which need root";
  if (!existsSync("/usr/local/bin")) return "/usr/local/bin does not exist (the container's vault is mounted there)";
  for (const cmd of ["unshare", "chroot", "setpriv"]) {
    if (spawnSync("sh", ["-c", `command -v ${cmd}`]).status !== 0) return `${cmd} (util-linux, coreutils) not found`;
  }
  const probe = spawnSync("unshare", ["--mount", "--propagation", "private", "true"]);
  if (probe.status !== 0) return `unshare --mount refused: ${probe.stderr.toString().trim()}`;
  return undefined;
}

export interface ContainerRun {
  name: string;
  exitCode: number;
  output: string;
  startedAt: string;
  finishedAt: string;
}

export interface KubeletOptions {
  kube: Kube;
  /** Work directory: one folder per pod, one per PersistentVolumeClaim. */
  dir: string;
  /** The `vault` binary, at `/bin/vault` in the container. */
  vaultBin: string;
  /** Host names the pod resolves, and to what (`/etc/hosts`). */
  hosts: Record<string, string>;
  /**
   * Instead of `hosts`: a file bound read-only at every container's `/etc/hosts`, which the
   * caller rewrites in place as pods come and go (cluster DNS's stand-in for a headless Service).
   */
  hostsFile?: string;
  /** Variables every container gets before its own (the kubelet's `KUBERNETES_SERVICE_HOST` and `_PORT`). */
  serviceEnv?: Record<string, string>;
  /**
   * The image's trust store: `pem` bound read-only over each of `files` (paths in the container,
   * e.g. botocore's bundled `cacert.pem` under /usr, which the AWS CLI reads).
   */
  trustStore?: { pem: string; files: string[] };
}

/** The host directory that stands for a PersistentVolumeClaim (kept across pods). */
export function claimDir(o: Pick<KubeletOptions, "dir">, namespace: string, claim: string): string {
  return join(o.dir, "volumes", namespace, claim);
}

const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** A field of the pod, as a `fieldRef` names it (downward API). */
export function podField(pod: PodObject, net: PodNetwork | undefined, path: string): string {
  const fields: Record<string, string | undefined> = {
    "metadata.name": pod.metadata.name,
    "metadata.namespace": pod.metadata.namespace,
    "metadata.uid": pod.metadata.uid,
    "spec.serviceAccountName": pod.spec.serviceAccountName,
    "spec.nodeName": pod.spec.nodeName,
    "status.podIP": net?.podIP,
    "status.hostIP": net?.hostIP,
  };
  const v = fields[path];
  if (v === undefined) throw new Error(`fieldRef ${path}: not a field the stand-in knows (or the pod has no network of its own)`);
  return v;
}

/**
 * The container's environment as the kubelet builds it: `serviceEnv` first, then the container's
 * variables in order, each `$(NAME)` replaced by an earlier variable's value (`$$` is a `$`; an
 * unknown name stays as written), `fieldRef`s from the pod.
 */
export function containerEnv(pod: PodObject, c: Container, net: PodNetwork | undefined, serviceEnv: Record<string, string> = {}): [string, string][] {
  const env = new Map<string, string>(Object.entries(serviceEnv));
  for (const e of c.env ?? []) {
    if (e.valueFrom?.fieldRef) env.set(e.name, podField(pod, net, e.valueFrom.fieldRef.fieldPath));
    else if (e.valueFrom !== undefined || e.value === undefined) throw new Error(`container ${c.name}: env ${e.name} is neither a value nor a fieldRef`);
    else
      env.set(
        e.name,
        e.value.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (m, name?: string) => (name === undefined ? "$" : (env.get(name) ?? m))),
      );
  }
  return [...env.entries()];
}

/** Write `items` of `data` (all keys when no items) into `dir` with `mode`, group-owned by `fsGroup`. */
function writeItems(dir: string, what: string, data: Record<string, Buffer>, items: Items | undefined, mode: number, fsGroup: number | undefined): void {
  mkdirSync(dir, { recursive: true });
  for (const it of items ?? Object.keys(data).map((key) => ({ key, path: key }))) {
    if (!(it.key in data)) throw new Error(`${what} has no key ${it.key}`);
    const file = join(dir, it.path);
    writeFileSync(file, data[it.key], { mode });
    chmodSync(file, mode);
    if (fsGroup !== undefined) chownSync(file, 0, fsGroup);
  }
}

/** A Secret's or ConfigMap's data from the API server, as bytes. */
async function objectData(o: KubeletOptions, ns: string, kind: "Secret" | "ConfigMap", name: string): Promise<Record<string, Buffer>> {
  const obj = await o.kube.call("GET", `/api/v1/namespaces/${ns}/${kind === "Secret" ? "secrets" : "configmaps"}/${name}`);
  const encoding = kind === "Secret" ? "base64" : "utf8";
  return Object.fromEntries(Object.entries((obj.data ?? {}) as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, encoding)]));
}

/** Fill the pod's volumes on the host: name → host directory. */
async function volumes(o: KubeletOptions, pod: PodObject, podDir: string, net: PodNetwork | undefined): Promise<Map<string, string>> {
  const fsGroup = pod.spec.securityContext?.fsGroup;
  const ns = pod.metadata.namespace;
  const out = new Map<string, string>();
  const groupOwned = (dir: string): void => {
    if (fsGroup === undefined) return;
    chownSync(dir, 0, fsGroup);
    chmodSync(dir, 0o2775);
  };
  for (const v of pod.spec.volumes ?? []) {
    const dir = join(podDir, "volumes", v.name);
    if (v.emptyDir !== undefined) {
      mkdirSync(dir, { recursive: true });
      chmodSync(dir, 0o777);
      groupOwned(dir);
    } else if (v.persistentVolumeClaim) {
      const claim = claimDir(o, ns, v.persistentVolumeClaim.claimName);
      const pvc = await o.kube.raw("GET", `/api/v1/namespaces/${ns}/persistentvolumeclaims/${v.persistentVolumeClaim.claimName}`);
      if (pvc.status !== 200) throw new Error(`volume ${v.name}: PersistentVolumeClaim ${v.persistentVolumeClaim.claimName}: HTTP ${pvc.status}`);
      mkdirSync(claim, { recursive: true });
      groupOwned(claim);
      out.set(v.name, claim);
      continue;
    } else if (v.secret || v.configMap) {
      const [kind, name, src] = v.secret
        ? (["Secret", v.secret.secretName, v.secret] as const)
        : (["ConfigMap", v.configMap?.name ?? "", v.configMap] as const);
      writeItems(dir, `volume ${v.name}: ${kind} ${name}`, await objectData(o, ns, kind, name), src?.items, src?.defaultMode ?? 0o644, fsGroup);
    } else if (v.projected) {
      mkdirSync(dir, { recursive: true });
      const mode = v.projected.defaultMode ?? 0o640;
      for (const s of v.projected.sources) {
        if (s.serviceAccountToken) {
          // As the kubelet asks: bound to this pod, for the audience and lifetime the volume names.
          const r = await o.kube.call("POST", `/api/v1/namespaces/${ns}/serviceaccounts/${pod.spec.serviceAccountName}/token`, {
            apiVersion: "authentication.k8s.io/v1",
            kind: "TokenRequest",
            spec: {
              ...(s.serviceAccountToken.audience ? { audiences: [s.serviceAccountToken.audience] } : {}),
              expirationSeconds: s.serviceAccountToken.expirationSeconds ?? 3600,
              boundObjectRef: { apiVersion: "v1", kind: "Pod", name: pod.metadata.name, uid: pod.metadata.uid },
            },
          });
          const token = { [s.serviceAccountToken.path]: Buffer.from(String((r.status as { token: string }).token)) };
          // Readable by the pod's group (0640), as the other files of the volume.
          writeItems(dir, `volume ${v.name}`, token, undefined, 0o640, fsGroup);
        } else if (s.secret) {
          writeItems(dir, `volume ${v.name}: Secret ${s.secret.name}`, await objectData(o, ns, "Secret", s.secret.name), s.secret.items, 0o640, fsGroup);
        } else if (s.configMap) {
          writeItems(
            dir,
            `volume ${v.name}: ConfigMap ${s.configMap.name}`,
            await objectData(o, ns, "ConfigMap", s.configMap.name),
            s.configMap.items,
            mode,
            fsGroup,
          );
        } else if (s.downwardAPI) {
          const data = Object.fromEntries(s.downwardAPI.items.map((i) => [i.path, Buffer.from(podField(pod, net, i.fieldRef.fieldPath))]));
          writeItems(dir, `volume ${v.name}`, data, undefined, mode, fsGroup);
        } else throw new Error(`volume ${v.name}: a projected source the stand-in does not fill: ${JSON.stringify(s)}`);
      }
    } else throw new Error(`volume ${v.name}: a kind the stand-in does not fill: ${JSON.stringify(v)}`);
    out.set(v.name, dir);
  }
  return out;
}

/** The shell script that builds the container's root and runs it (in `unshare --mount`). */
function containerScript(o: KubeletOptions, pod: PodObject, c: Container, rootDir: string, vols: Map<string, string>, net?: PodNetwork): string {
  const sc = { ...pod.spec.securityContext, ...c.securityContext };
  if (sc.runAsUser === undefined || sc.runAsGroup === undefined)
    throw new Error(`container ${c.name}: no runAsUser/runAsGroup (the image's user is not known here)`);
  const groups = [
    ...new Set([
      sc.runAsGroup,
      ...(pod.spec.securityContext?.fsGroup !== undefined ? [pod.spec.securityContext.fsGroup] : []),
      ...(pod.spec.securityContext?.supplementalGroups ?? []),
    ]),
  ];
  const env: string[] = [`PATH=${IMAGE_PATH}`, ...containerEnv(pod, c, net, o.serviceEnv).map(([k, v]) => `${k}=${v}`)];
  const argv = [...(c.command ?? []), ...(c.args ?? [])];
  if (argv.length === 0) throw new Error(`container ${c.name}: no command (the image's entrypoint is not known here)`);
  const r = rootDir;
  const lines = [
    "set -eu",
    `mkdir -p ${q(r)}`,
    // The root becomes a mount point, so it can be made read-only once everything is under it.
    `mount --bind ${q(r)} ${q(r)}`,
    `mkdir -p ${q(`${r}/usr`)} ${q(`${r}/dev`)} ${q(`${r}/etc`)} ${q(`${r}/tmp`)}`,
    // The image's /tmp: anyone may write, only the owner removes.
    `chmod 1777 ${q(`${r}/tmp`)}`,
    `mount --bind -o ro /usr ${q(`${r}/usr`)}`,
    `mount -o remount,bind,ro ${q(`${r}/usr`)}`,
    `mount --bind /dev ${q(`${r}/dev`)}`,
    ...["bin", "sbin", "lib", "lib64"].map((d) => `[ -e ${q(`${r}/${d}`)} ] || ln -s usr/${d} ${q(`${r}/${d}`)}`),
    // The image's `vault` on its PATH: the built binary in a tmpfs over /usr/local/bin (this
    // machine's /usr is read-only in the container).
    `mount -t tmpfs -o size=1m tmpfs ${q(`${r}/usr/local/bin`)}`,
    `touch ${q(`${r}/usr/local/bin/vault`)}`,
    `mount --bind -o ro ${q(o.vaultBin)} ${q(`${r}/usr/local/bin/vault`)}`,
    ...(o.hostsFile
      ? [`touch ${q(`${r}/etc/hosts`)}`, `mount --bind -o ro ${q(o.hostsFile)} ${q(`${r}/etc/hosts`)}`]
      : [
          `printf '%s\\n' ${q(
            Object.entries(o.hosts)
              .map(([h, ip]) => `${ip} ${h}`)
              .join("\n"),
          )} > ${q(`${r}/etc/hosts`)}`,
        ]),
    `printf 'hosts: files\\n' > ${q(`${r}/etc/nsswitch.conf`)}`,
    ...(o.trustStore
      ? [
          `printf '%s' ${q(o.trustStore.pem)} > ${q(`${r}.trust.pem`)}`,
          ...o.trustStore.files.map((f) => `mount --bind -o ro ${q(`${r}.trust.pem`)} ${q(`${r}${f}`)}`),
        ]
      : []),
    `printf 'root:x:0:0::/:/bin/sh\\n' > ${q(`${r}/etc/passwd`)}`,
  ];
  for (const m of c.volumeMounts ?? []) {
    const host = vols.get(m.name);
    if (!host) throw new Error(`container ${c.name}: mount of unknown volume ${m.name}`);
    const at = `${r}${m.mountPath}`;
    lines.push(`mkdir -p ${q(at)}`, `mount --bind ${q(host)} ${q(at)}`);
    if (m.readOnly) lines.push(`mount -o remount,bind,ro ${q(at)}`);
  }
  if (sc.readOnlyRootFilesystem) lines.push(`mount -o remount,bind,ro ${q(r)}`);
  lines.push(
    `cd ${q(r)}`,
    `exec chroot ${q(r)} /usr/bin/setpriv --reuid=${sc.runAsUser} --regid=${sc.runAsGroup} --groups=${groups.join(",")} --no-new-privs --inh-caps=-all --bounding-set=-all -- /usr/bin/env -i ${env.map(q).join(" ")} /bin/sh -c ${q(`cd ${c.workingDir ?? "/"} && exec "$@"`)} sh ${argv.map(q).join(" ")}`,
  );
  return lines.join("\n");
}

/**
 * Run `pod` as a node would (init containers in order, then the containers; one failing init
 * container fails the pod), then write its phase and container states through the status
 * subresource. Returns each container's exit code and output.
 */
export async function runPod(o: KubeletOptions, pod: PodObject): Promise<ContainerRun[]> {
  const podDir = join(o.dir, "pods", pod.metadata.uid);
  mkdirSync(podDir, { recursive: true });
  const startTime = new Date().toISOString();
  const vols = await volumes(o, pod, podDir, undefined);
  const runs: ContainerRun[] = [];
  const all = [...(pod.spec.initContainers ?? []).map((c) => ({ c, init: true })), ...pod.spec.containers.map((c) => ({ c, init: false }))];
  for (const { c } of all) {
    const startedAt = new Date().toISOString();
    const script = join(podDir, `${c.name}.sh`);
    writeFileSync(script, containerScript(o, pod, c, join(podDir, "rootfs", c.name), vols), { mode: 0o700 });
    // Asynchronously: the caller's event loop may serve the container (the rehearsal's forwarder).
    const res = await new Promise<{ status: number; output: string }>((resolve) => {
      const child = spawn("unshare", ["--mount", "--propagation", "private", "sh", script], { stdio: ["ignore", "pipe", "pipe"] });
      let output = "";
      child.stdout.on("data", (d: Buffer) => (output += d.toString("utf8")));
      child.stderr.on("data", (d: Buffer) => (output += d.toString("utf8")));
      const timer = setTimeout(() => child.kill("SIGKILL"), 300_000);
      child.on("close", (code) => {
        clearTimeout(timer);
        resolve({ status: code ?? 137, output });
      });
    });
    runs.push({ name: c.name, exitCode: res.status, output: res.output, startedAt, finishedAt: new Date().toISOString() });
    if (res.status !== 0) break;
  }
  const failed = runs.some((r) => r.exitCode !== 0);
  const state = (name: string) => {
    const r = runs.find((x) => x.name === name);
    return r
      ? { terminated: { exitCode: r.exitCode, reason: r.exitCode === 0 ? "Completed" : "Error", startedAt: r.startedAt, finishedAt: r.finishedAt } }
      : { waiting: { reason: "PodInitializing" } };
  };
  const status = (c: Container) => ({ name: c.name, image: "stand-in", imageID: "", ready: false, restartCount: 0, state: state(c.name) });
  await o.kube.call(
    "PATCH",
    `/api/v1/namespaces/${pod.metadata.namespace}/pods/${pod.metadata.name}/status`,
    {
      status: {
        phase: failed ? "Failed" : "Succeeded",
        startTime,
        conditions: [{ type: "Ready", status: "False", reason: "PodCompleted", lastTransitionTime: new Date().toISOString() }],
        ...(pod.spec.initContainers ? { initContainerStatuses: pod.spec.initContainers.map(status) } : {}),
        containerStatuses: pod.spec.containers.map(status),
      },
    },
    "application/merge-patch+json",
  );
  return runs;
}

/** A server pod's container, running: its process (the container's `exec`), and its output so far. */
export interface RunningContainer {
  name: string;
  process: ChildProcess;
  /** Exit code once it has ended (137 when killed). */
  exited: Promise<number>;
}

/**
 * Start a long-running pod (one container, no init containers: a server's) in its own network
 * namespace `net`, as a node would: volumes filled, the container's root built, the command
 * run in a process group of its own, which the caller signals (`./node.ts`), as a runtime signals
 * every process of a container. Its output goes to `logFile`.
 */
export async function startServerPod(o: KubeletOptions, pod: PodObject, net: PodNetwork, logFile: string): Promise<RunningContainer> {
  if ((pod.spec.initContainers ?? []).length > 0 || pod.spec.containers.length !== 1)
    throw new Error(`pod ${pod.metadata.name}: the stand-in runs server pods of exactly one container and no init containers`);
  const c = pod.spec.containers[0];
  const podDir = join(o.dir, "pods", pod.metadata.uid);
  mkdirSync(podDir, { recursive: true });
  const vols = await volumes(o, pod, podDir, net);
  const script = join(podDir, `${c.name}.sh`);
  writeFileSync(script, containerScript(o, pod, c, join(podDir, "rootfs", c.name), vols, net), { mode: 0o700 });
  const log = openSync(logFile, "a");
  const child = spawn("ip", ["netns", "exec", net.netns, "unshare", "--mount", "--propagation", "private", "sh", script], {
    stdio: ["ignore", log, log],
    detached: true,
  });
  closeSync(log);
  const exited = new Promise<number>((resolve) => child.on("close", (code, signal) => resolve(code ?? (signal ? 128 + (signal === "SIGKILL" ? 9 : 15) : 1))));
  return { name: c.name, process: child, exited };
}
