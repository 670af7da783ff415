/**
 * A node for server pods, for the rehearsal of `npm run vault-roll` (`./raft-pods.ts`): what a
 * scheduler, a kubelet, cluster DNS and kube-proxy do for a StatefulSet's pods, kept to what the
 * roll depends on, around the real API server and controllers.
 *
 * - **Scheduler**: a pod of the selector without a node is bound to this node (Binding
 *   subresource). Every pod lands on the one node: anti-affinity is not judged.
 * - **Kubelet**: each pod bound here runs its one container through `./kubelet.ts` (mount
 *   namespace, chroot, the pod's user, volumes, environment) in a network namespace of its own
 *   with a fresh address on a bridge, so the program's `[::]:8200` listener is the pod's own.
 *   Status `Running` with the pod's IP; its HTTP readiness probe (no certificate check, as the
 *   kubelet) sets `Ready`. When the API server marks the pod for deletion, SIGTERM to the
 *   container's processes, SIGKILL after `terminationGracePeriodSeconds`, then the final
 *   delete, as the kubelet does; the StatefulSet controller recreates it. A container that exits
 *   on its own is started again (`restartPolicy: Always`). Lifecycle hooks are not run.
 * - **Cluster DNS**: one hosts file, bound at every container's `/etc/hosts` and rewritten in
 *   place: `<hostname>.<subdomain>` (the headless Service's names) of every running pod, and
 *   `kubernetes.default.svc`.
 * - **kube-proxy**: `10.96.0.1:443` (the `kubernetes` Service, in the API server's certificate)
 *   on the bridge, forwarded to the API server; `serviceForwarder` sends each connection to a
 *   ready endpoint of a Service's EndpointSlices, as the real EndpointSlice controller writes them.
 *
 * Needs root and `ip` (iproute2) besides `./kubelet.ts`'s tools; `nodeSupport()` says why not.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { type Server, type Socket, createConnection, createServer } from "node:net";
import { join } from "node:path";
import type { Kube } from "./kube";
import { type KubeletOptions, type PodNetwork, type PodObject, type RunningContainer, kubeletSupport, startServerPod } from "./kubelet";

const BRIDGE = "vzbr0";
const SUBNET = "10.200.0";
const GATEWAY = `${SUBNET}.1`;
/** The `kubernetes` Service's address (the first of the API server's --service-cluster-ip-range). */
export const KUBERNETES_SERVICE_IP = "10.96.0.1";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function ip(args: string[]): void {
  const r = spawnSync("ip", args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`ip ${args.join(" ")}: ${r.stderr.trim()}`);
}

/** Why the node cannot run here, or undefined when it can. */
export function nodeSupport(): string | undefined {
  const why = kubeletSupport();
  if (why) return why;
  if (spawnSync("sh", ["-c", "command -v ip"]).status !== 0) return "ip (iproute2) not found";
  const probe = spawnSync("ip", ["link", "add", "vzprobe0", "type", "bridge"], { encoding: "utf8" });
  if (probe.status !== 0) return `ip link add … type bridge refused: ${probe.stderr.trim()}`;
  spawnSync("ip", ["link", "del", "vzprobe0"]);
  return undefined;
}

/** Where a forwarded connection goes. */
type Target = { host: string; port: number } | undefined;

/**
 * A TCP forwarder on `host:port` (0: a free port) to what `target()` names for each connection
 * (undefined: refuse it): kube-proxy's stand-in for a Service.
 */
export async function forwarder(host: string, port: number, target: () => Target | Promise<Target>): Promise<Server> {
  const server = createServer((socket: Socket) => {
    socket.pause();
    socket.on("error", () => undefined);
    void Promise.resolve()
      .then(target)
      .then(
        (t) => {
          if (!t) return socket.destroy();
          const upstream = createConnection(t.port, t.host, () => {
            socket.pipe(upstream).pipe(socket);
            socket.resume();
          });
          upstream.on("error", () => socket.destroy());
          socket.on("error", () => upstream.destroy());
        },
        () => socket.destroy(),
      );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}

export interface ServiceForwarder {
  /** https://127.0.0.1:<port> */
  port: number;
  /** The ready endpoints seen last (pod names). */
  endpoints(): string[];
  close(): void;
}

/**
 * kube-proxy's stand-in for Service `name`: 127.0.0.1:<free port> sends each connection, round
 * robin, to an endpoint its EndpointSlices mark ready, on the slice's port named `portName`
 * (re-read every 500 ms, as kube-proxy's watch would see them).
 */
export async function serviceForwarder(kube: Kube, namespace: string, name: string, portName: string): Promise<ServiceForwarder> {
  let ready: { ip: string; pod: string; port: number }[] = [];
  let next = 0;
  let closed = false;
  const refresh = async () => {
    const list = await kube.call(
      "GET",
      `/apis/discovery.k8s.io/v1/namespaces/${namespace}/endpointslices?labelSelector=${encodeURIComponent(`kubernetes.io/service-name=${name}`)}`,
    );
    type Slice = {
      ports?: { name?: string; port?: number }[];
      endpoints?: { addresses: string[]; conditions?: { ready?: boolean }; targetRef?: { name?: string } }[];
    };
    ready = (list.items as Slice[]).flatMap((s) => {
      const port = s.ports?.find((p) => p.name === portName)?.port;
      return port === undefined
        ? []
        : (s.endpoints ?? []).filter((e) => e.conditions?.ready === true).map((e) => ({ ip: e.addresses[0], pod: e.targetRef?.name ?? "?", port }));
    });
  };
  await refresh();
  const loop = (async () => {
    while (!closed) {
      await sleep(500);
      await refresh().catch(() => undefined);
    }
  })();
  const server = await forwarder("127.0.0.1", 0, () => {
    if (ready.length === 0) return undefined;
    const e = ready[next++ % ready.length];
    return { host: e.ip, port: e.port };
  });
  return {
    port: (server.address() as { port: number }).port,
    endpoints: () => ready.map((e) => e.pod),
    close() {
      closed = true;
      server.close();
      void loop;
    },
  };
}

export interface NodeOptions {
  /** The kubelet's client (a node's identity) and the pods' tools; `hostsFile` and `serviceEnv` are set here. */
  kubelet: Omit<KubeletOptions, "hostsFile" | "serviceEnv" | "hosts">;
  /** The scheduler's client (binds pods) and the API server's address on 127.0.0.1. */
  admin: Kube;
  apiUrl: string;
  /** The node's name: the kubelet's user is `system:node:<name>`. */
  name: string;
  namespace: string;
  /** Label selector of the pods this node takes. */
  selector: string;
  logDir: string;
}

interface PodRun {
  pod: PodObject;
  net: PodNetwork;
  container?: RunningContainer;
  restarts: number;
  startedAt: string;
  ready: boolean;
  nextProbe: number;
  failures: number;
  terminating: boolean;
  veth: string;
}

export interface StandInNode {
  /** What the node did, in order: `<time> <pod> <what>`. */
  events: string[];
  stop(): Promise<void>;
}

/** Start the node: bridge, the API server's Service address, and the loop over the selector's pods. */
export async function startNode(o: NodeOptions): Promise<StandInNode> {
  // What a run that was killed left behind: its pods' namespaces (with their veths) and the bridge.
  const stale = spawnSync("ip", ["netns", "list"], { encoding: "utf8" }).stdout.match(/^vz-pod-\d+/gm) ?? [];
  for (const ns of stale) spawnSync("ip", ["netns", "del", ns]);
  spawnSync("ip", ["link", "del", BRIDGE]);
  ip(["link", "add", BRIDGE, "type", "bridge"]);
  ip(["addr", "add", `${GATEWAY}/24`, "dev", BRIDGE]);
  ip(["addr", "add", `${KUBERNETES_SERVICE_IP}/32`, "dev", BRIDGE]);
  ip(["link", "set", BRIDGE, "up"]);
  const api = new URL(o.apiUrl);
  const apiForwarder = await forwarder(KUBERNETES_SERVICE_IP, 443, () => ({ host: api.hostname, port: Number(api.port) }));
  mkdirSync(o.kubelet.dir, { recursive: true });
  const hostsFile = join(o.kubelet.dir, "hosts");
  const kubelet: KubeletOptions = {
    ...o.kubelet,
    hosts: {},
    hostsFile,
    serviceEnv: {
      KUBERNETES_SERVICE_HOST: KUBERNETES_SERVICE_IP,
      KUBERNETES_SERVICE_PORT: "443",
      KUBERNETES_SERVICE_PORT_HTTPS: "443",
      KUBERNETES_PORT: `tcp://${KUBERNETES_SERVICE_IP}:443`,
    },
  };
  const runs = new Map<string, PodRun>();
  const events: string[] = [];
  const event = (pod: string, what: string) => {
    events.push(`${new Date().toISOString()} ${pod} ${what}`);
  };
  const writeHosts = () => {
    const lines = ["127.0.0.1 localhost", `${KUBERNETES_SERVICE_IP} kubernetes kubernetes.default kubernetes.default.svc kubernetes.default.svc.cluster.local`];
    for (const r of runs.values()) {
      const { hostname, subdomain } = r.pod.spec;
      if (hostname && subdomain && !r.terminating) {
        const fqdn = `${hostname}.${subdomain}.${o.namespace}.svc`;
        lines.push(`${r.net.podIP} ${hostname}.${subdomain} ${fqdn} ${fqdn}.cluster.local`);
      }
    }
    // In place (same inode): every container's /etc/hosts is a bind mount of this file.
    writeFileSync(hostsFile, `${lines.join("\n")}\n`);
  };
  writeHosts();
  await o.admin.raw("POST", "/api/v1/nodes", {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name: o.name, labels: { "kubernetes.io/hostname": o.name } },
  });
  let lastAddress = 10;
  let stopped = false;

  const status = async (r: PodRun) => {
    const now = new Date().toISOString();
    const c = r.pod.spec.containers[0];
    const ready = r.ready ? "True" : "False";
    await o.kubelet.kube.raw(
      "PATCH",
      `/api/v1/namespaces/${o.namespace}/pods/${r.pod.metadata.name}/status`,
      {
        status: {
          phase: "Running",
          hostIP: r.net.hostIP,
          hostIPs: [{ ip: r.net.hostIP }],
          podIP: r.net.podIP,
          podIPs: [{ ip: r.net.podIP }],
          startTime: r.startedAt,
          conditions: [
            { type: "PodScheduled", status: "True", lastTransitionTime: r.startedAt },
            { type: "Initialized", status: "True", lastTransitionTime: r.startedAt },
            { type: "ContainersReady", status: ready, lastTransitionTime: now },
            { type: "Ready", status: ready, lastTransitionTime: now },
          ],
          containerStatuses: [
            {
              name: c.name,
              image: "stand-in",
              imageID: "",
              ready: r.ready,
              started: true,
              restartCount: r.restarts,
              state: { running: { startedAt: r.startedAt } },
            },
          ],
        },
      },
      "application/merge-patch+json",
    );
  };

  const runContainer = async (r: PodRun) => {
    const container = await startServerPod(kubelet, r.pod, r.net, join(o.logDir, `${r.pod.metadata.name}-${r.pod.metadata.uid.slice(0, 8)}.log`));
    r.container = container;
    void container.exited.then(async (code) => {
      if (r.terminating || stopped) return;
      // restartPolicy Always: started again, after a pause.
      event(r.pod.metadata.name, `container exited ${code}; restarting`);
      r.restarts++;
      r.ready = false;
      await status(r).catch(() => undefined);
      await sleep(1000);
      if (!r.terminating && !stopped) await runContainer(r);
    });
  };

  const start = async (pod: PodObject) => {
    const n = ++lastAddress;
    const net: PodNetwork = { netns: `vz-pod-${n}`, podIP: `${SUBNET}.${n}`, hostIP: GATEWAY };
    const veth = `vzh${n}`;
    ip(["netns", "add", net.netns]);
    ip(["link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", net.netns]);
    ip(["link", "set", veth, "master", BRIDGE, "up"]);
    ip(["-n", net.netns, "addr", "add", `${net.podIP}/24`, "dev", "eth0"]);
    ip(["-n", net.netns, "link", "set", "lo", "up"]);
    ip(["-n", net.netns, "link", "set", "eth0", "up"]);
    ip(["-n", net.netns, "route", "add", "default", "via", GATEWAY]);
    const probe = pod.spec.containers[0].readinessProbe;
    const r: PodRun = {
      pod,
      net,
      restarts: 0,
      startedAt: new Date().toISOString(),
      ready: false,
      nextProbe: Date.now() + (probe?.initialDelaySeconds ?? 0) * 1000,
      failures: 0,
      terminating: false,
      veth,
    };
    runs.set(pod.metadata.uid, r);
    writeHosts();
    await status(r);
    await runContainer(r);
    event(pod.metadata.name, `started at ${net.podIP}`);
  };

  const cleanup = (r: PodRun) => {
    spawnSync("ip", ["link", "del", r.veth]);
    spawnSync("ip", ["netns", "del", r.net.netns]);
  };

  /** SIGTERM to the container's processes, SIGKILL after the grace period, then the kubelet's final delete. */
  const terminate = async (r: PodRun) => {
    r.terminating = true;
    r.ready = false;
    writeHosts();
    event(r.pod.metadata.name, "deletion seen: SIGTERM");
    const grace = (r.pod.spec.terminationGracePeriodSeconds ?? 30) * 1000;
    const proc = r.container?.process;
    if (proc?.pid) {
      try {
        process.kill(-proc.pid, "SIGTERM");
      } catch {
        // Already gone.
      }
      const killed = await Promise.race([r.container?.exited.then(() => false), sleep(grace).then(() => true)]);
      if (killed) {
        event(r.pod.metadata.name, `still running after ${grace / 1000} s: SIGKILL`);
        if (proc.pid) process.kill(-proc.pid, "SIGKILL");
        await r.container?.exited;
      }
    }
    event(r.pod.metadata.name, "container stopped; final delete");
    cleanup(r);
    await o.kubelet.kube.raw("DELETE", `/api/v1/namespaces/${o.namespace}/pods/${r.pod.metadata.name}`, {
      apiVersion: "v1",
      kind: "DeleteOptions",
      gracePeriodSeconds: 0,
      preconditions: { uid: r.pod.metadata.uid },
    });
    runs.delete(r.pod.metadata.uid);
  };

  const probe = (r: PodRun): Promise<boolean> => {
    const p = r.pod.spec.containers[0].readinessProbe;
    if (!p?.httpGet) return Promise.resolve(true);
    const get = p.httpGet;
    return new Promise((resolve) => {
      const req = request(
        { host: r.net.podIP, port: Number(get.port), path: get.path, method: "GET", rejectUnauthorized: false, timeout: (p.timeoutSeconds ?? 1) * 1000 },
        (res) => {
          res.resume();
          resolve((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 400);
        },
      );
      req.on("timeout", () => req.destroy());
      req.on("error", () => resolve(false));
      req.end();
    });
  };

  const tick = async () => {
    const list = await o.admin.call("GET", `/api/v1/namespaces/${o.namespace}/pods?labelSelector=${encodeURIComponent(o.selector)}`);
    const pods = list.items as PodObject[];
    for (const pod of pods) {
      if (!pod.spec.nodeName && !pod.metadata.deletionTimestamp) {
        await o.admin.raw("POST", `/api/v1/namespaces/${o.namespace}/pods/${pod.metadata.name}/binding`, {
          apiVersion: "v1",
          kind: "Binding",
          metadata: { name: pod.metadata.name, namespace: o.namespace },
          target: { apiVersion: "v1", kind: "Node", name: o.name },
        });
        continue;
      }
      if (pod.spec.nodeName !== o.name) continue;
      const r = runs.get(pod.metadata.uid);
      if (!r && !pod.metadata.deletionTimestamp && pod.status?.phase !== "Succeeded" && pod.status?.phase !== "Failed") {
        await start(pod).catch((e: Error) => event(pod.metadata.name, `start failed: ${e.message}`));
      } else if (r && pod.metadata.deletionTimestamp && !r.terminating) {
        void terminate(r).catch((e: Error) => event(pod.metadata.name, `termination failed: ${e.message}`));
      }
    }
    // Deleted without a grace period: stop what still runs.
    for (const r of runs.values()) {
      if (!r.terminating && !pods.some((p) => p.metadata.uid === r.pod.metadata.uid)) void terminate(r).catch(() => undefined);
    }
    for (const r of runs.values()) {
      const p = r.pod.spec.containers[0].readinessProbe;
      if (r.terminating || Date.now() < r.nextProbe) continue;
      r.nextProbe = Date.now() + (p?.periodSeconds ?? 10) * 1000;
      const ok = await probe(r);
      r.failures = ok ? 0 : r.failures + 1;
      const ready = ok || (r.ready && r.failures < (p?.failureThreshold ?? 3));
      if (ready !== r.ready) {
        r.ready = ready;
        event(r.pod.metadata.name, ready ? "Ready" : "not Ready");
        await status(r).catch(() => undefined);
      }
    }
  };
  const loop = (async () => {
    while (!stopped) {
      await tick().catch((e: Error) => event("node", `loop: ${e.message}`));
      await sleep(250);
    }
  })();

  return {
    events,
    async stop() {
      stopped = true;
      await loop;
      for (const r of runs.values()) {
        r.terminating = true;
        const pid = r.container?.process.pid;
        if (pid) {
          try {
            process.kill(-pid, "SIGKILL");
          } catch {
            // Already gone.
          }
        }
        await r.container?.exited;
        cleanup(r);
      }
      apiForwarder.close();
      spawnSync("ip", ["link", "del", BRIDGE]);
    },
  };
}
