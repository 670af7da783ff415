/**
 * The real servers of the e2e, each on 127.0.0.1 with free ports and its own temporary
 * directory: etcd and kube-apiserver (RBAC, service-account issuer and signing key; admission,
 * CEL and TokenRequest real, but no node runs a pod), HashiCorp Vault in dev mode or as Raft
 * nodes with TLS (initialised and unsealed through its API).
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Ca, makeServerCert, makeSigningKey } from "./pki";
import { type Started, freePort, start, waitFor } from "./processes";
import { type Kube, kubeClient, kubeconfig } from "./kube";
import { type VaultClient, vaultClient } from "./vault-client";

export interface Server {
  name: string;
  version: string;
  started: Started[];
}

/** The first line of `<bin> <args>` (a version banner). */
export function versionOf(bin: string, args: string[]): string {
  if (args.length === 0) return "";
  try {
    return execFileSync(bin, args, { encoding: "utf8", timeout: 20_000 }).split("\n")[0].trim();
  } catch (e) {
    return `unknown (${(e as Error).message.split("\n")[0]})`;
  }
}

export interface Etcd extends Server {
  url: string;
}

export async function startEtcd(bin: string, dir: string, logDir: string): Promise<Etcd> {
  const [client, peer] = [await freePort(), await freePort()];
  const url = `http://127.0.0.1:${client}`;
  const p = start(
    "etcd",
    bin,
    [
      "--data-dir",
      join(dir, "etcd"),
      "--listen-client-urls",
      url,
      "--advertise-client-urls",
      url,
      "--listen-peer-urls",
      `http://127.0.0.1:${peer}`,
      "--initial-advertise-peer-urls",
      `http://127.0.0.1:${peer}`,
      "--initial-cluster",
      `default=http://127.0.0.1:${peer}`,
      "--log-level",
      "warn",
    ],
    logDir,
  );
  await waitFor("etcd", async () => (await fetch(`${url}/health`)).ok, 30_000, 200, p);
  return { name: "etcd", version: versionOf(bin, ["--version"]), started: [p], url };
}

/** The stand-in kubelet's user name. */
export const E2E_NODE_USER = "system:node:e2e-node";

export interface ApiServer extends Server {
  /** https://127.0.0.1:<port> */
  url: string;
  /** PEM CA of its serving certificate. */
  caPem: string;
  /** A client with the static admin token (system:masters), and the token. */
  admin: Kube;
  adminToken: string;
  /**
   * A kubelet's identity (`system:node:e2e-node` in `system:nodes`, with the `system:node`
   * ClusterRole; no Node authorizer here): what the stand-in kubelet uses, and the only kind of
   * user the program's token guard lets request a CronJob account's token.
   */
  node: Kube;
  /** The issuer of its ServiceAccount tokens (and so the audience it accepts). */
  issuer: string;
  /** Its service-account signing key (the controller manager's token controller signs with it too). */
  signingKey: string;
}

export async function startApiServer(bin: string, etcd: Etcd, ca: Ca, dir: string, logDir: string): Promise<ApiServer> {
  const port = await freePort();
  const tls = makeServerCert(ca, "kube-apiserver", ["DNS:kubernetes.default.svc", "IP:10.96.0.1"]);
  const sa = makeSigningKey(ca.dir, "service-account");
  const token = `admin-${Math.random().toString(36).slice(2)}${Date.now()}`;
  const tokens = join(dir, "tokens.csv");
  const nodeToken = `node-${Math.random().toString(36).slice(2)}${Date.now()}`;
  writeFileSync(tokens, `${token},e2e-admin,e2e-admin,"system:masters"\n${nodeToken},${E2E_NODE_USER},${E2E_NODE_USER},"system:nodes"\n`, { mode: 0o600 });
  const issuer = "https://kubernetes.default.svc.cluster.local";
  mkdirSync(join(dir, "apiserver"), { recursive: true });
  const p = start(
    "kube-apiserver",
    bin,
    [
      `--etcd-servers=${etcd.url}`,
      "--bind-address=127.0.0.1",
      "--advertise-address=127.0.0.1",
      `--secure-port=${port}`,
      `--tls-cert-file=${tls.cert}`,
      `--tls-private-key-file=${tls.key}`,
      `--cert-dir=${join(dir, "apiserver")}`,
      `--token-auth-file=${tokens}`,
      "--authorization-mode=RBAC",
      `--service-account-issuer=${issuer}`,
      `--service-account-key-file=${sa.pub}`,
      `--service-account-signing-key-file=${sa.key}`,
      "--service-cluster-ip-range=10.96.0.0/24",
      "--v=1",
    ],
    logDir,
  );
  const url = `https://127.0.0.1:${port}`;
  const admin = kubeClient(url, ca.pem, token);
  await waitFor("kube-apiserver /readyz", async () => (await admin.raw("GET", "/readyz")).status === 200, 120_000, 500, p);
  // The bootstrap RBAC (system:auth-delegator and the rest) is written by a post-start hook.
  await waitFor(
    "kube-apiserver bootstrap roles",
    async () => (await admin.raw("GET", "/apis/rbac.authorization.k8s.io/v1/clusterroles/system:auth-delegator")).status === 200,
    60_000,
  );
  // The bootstrap's system:nodes binding has no subjects (the Node authorizer grants kubelets instead).
  await admin.call("POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRoleBinding",
    metadata: { name: "e2e-nodes" },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "system:node" },
    subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: "system:nodes" }],
  });
  return {
    name: "kube-apiserver",
    version: versionOf(bin, ["--version"]),
    started: [p],
    url,
    caPem: ca.pem,
    admin,
    adminToken: token,
    node: kubeClient(url, ca.pem, nodeToken),
    issuer,
    signingKey: sa.key,
  };
}

/**
 * kube-controller-manager against the API server: the garbage collector (without it a
 * foreground deletion never completes), the token, namespace and Job controllers.
 */
export async function startControllerManager(bin: string, api: ApiServer, ca: Ca, dir: string, logDir: string): Promise<Server> {
  const kc = join(dir, "controller-manager.kubeconfig");
  writeFileSync(kc, kubeconfig("e2e", api.url, api.caPem, api.adminToken), { mode: 0o600 });
  const p = start(
    "kube-controller-manager",
    bin,
    [
      `--kubeconfig=${kc}`,
      `--authentication-kubeconfig=${kc}`,
      `--authorization-kubeconfig=${kc}`,
      `--service-account-private-key-file=${api.signingKey}`,
      `--root-ca-file=${ca.cert}`,
      // Each controller as its own ServiceAccount (kube-system:job-controller, …), as kubeadm,
      // EKS and GKE run it: the program's pod guard admits the Job controller by that name.
      "--use-service-account-credentials=true",
      "--leader-elect=false",
      "--bind-address=127.0.0.1",
      `--secure-port=${await freePort()}`,
      "--controllers=*,-nodeipam,-nodelifecycle,-cloud-node-lifecycle,-service-lb-controller,-route,-persistentvolume-binder,-attachdetach,-persistentvolume-expander,-ttl",
      "--v=1",
    ],
    logDir,
  );
  // Ready once its namespace controller has made the default ServiceAccount of a namespace.
  await waitFor(
    "kube-controller-manager",
    async () => (await api.admin.raw("GET", "/api/v1/namespaces/default/serviceaccounts/default")).status === 200,
    120_000,
    500,
    p,
  );
  return { name: "kube-controller-manager", version: versionOf(bin, ["--version"]), started: [p] };
}

export interface VaultServer extends Server {
  address: string;
  /** PEM CA of its certificate (TLS nodes), else undefined. */
  caPem?: string;
  rootToken: string;
  root: VaultClient;
  /** Raft nodes only: the unseal key (1 of 1). */
  unsealKey?: string;
}

/** `vault server -dev`: in memory, unsealed, plain HTTP, `secret/` mounted as KV v2. */
export async function startVaultDev(bin: string, dir: string, logDir: string): Promise<VaultServer> {
  const port = await freePort();
  const rootToken = `dev-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`.padEnd(32, "0");
  const address = `http://127.0.0.1:${port}`;
  const p = start(
    "vault-dev",
    bin,
    ["server", "-dev", `-dev-root-token-id=${rootToken}`, `-dev-listen-address=127.0.0.1:${port}`, "-dev-no-store-token"],
    logDir,
    { ...process.env, HOME: dir, VAULT_ADDR: address },
  );
  const root = vaultClient(address, rootToken);
  await waitFor("vault (dev)", async () => (await root.raw("GET", "sys/health")).status === 200, 60_000, 250, p);
  return { name: "vault (dev)", version: versionOf(bin, ["version"]), started: [p], address, rootToken, root };
}

export interface RaftNodeSpec {
  id: string;
  dir: string;
  port: number;
  clusterPort: number;
  tls: { cert: string; key: string };
  /** A `seal` stanza (HCL) to add to the config; none: Shamir keys. */
  seal?: string;
}

/** The server config of one Raft node with TLS on 127.0.0.1; `join` lists the API addresses it joins. */
export function raftConfig(node: RaftNodeSpec, caCert: string, join: string[] = []): string {
  const retry = join.map((addr) => `  retry_join {\n    leader_api_addr = "${addr}"\n    leader_ca_cert_file = "${caCert}"\n  }\n`).join("");
  return `storage "raft" {
  path    = "${node.dir}"
  node_id = "${node.id}"
${retry}}
listener "tcp" {
  address         = "127.0.0.1:${node.port}"
  cluster_address = "127.0.0.1:${node.clusterPort}"
  tls_cert_file   = "${node.tls.cert}"
  tls_key_file    = "${node.tls.key}"
}
api_addr      = "https://127.0.0.1:${node.port}"
cluster_addr  = "https://127.0.0.1:${node.clusterPort}"
disable_mlock = true
ui            = false
${node.seal ? `${node.seal}\n` : ""}`;
}

/** Start one Raft node process from its config (not yet initialised or unsealed). */
export function startRaftNode(bin: string, node: RaftNodeSpec, caCert: string, logDir: string, join: string[] = []): Started {
  mkdirSync(node.dir, { recursive: true });
  const config = `${node.dir}.hcl`;
  writeFileSync(config, raftConfig(node, caCert, join));
  return start(`vault-${node.id}`, bin, ["server", `-config=${config}`], logDir, { ...process.env, HOME: node.dir });
}

/** A fresh single Raft node with TLS: started, initialised (1 key share) and unsealed through its API. */
export async function startVaultRaft(bin: string, ca: Ca, dir: string, logDir: string, id = "node1"): Promise<VaultServer> {
  const node: RaftNodeSpec = { id, dir: join(dir, id), port: await freePort(), clusterPort: await freePort(), tls: makeServerCert(ca, `vault-${id}`) };
  const p = startRaftNode(bin, node, ca.cert, logDir);
  const address = `https://127.0.0.1:${node.port}`;
  const anon = vaultClient(address, "", ca.pem);
  await waitFor(`vault ${id} listening`, async () => (await anon.raw("GET", "sys/health")).status > 0, 60_000, 250, p);
  const init = await anon.call("PUT", "sys/init", { secret_shares: 1, secret_threshold: 1 });
  const unsealKey = (init.keys_base64 as string[])[0];
  const rootToken = String(init.root_token);
  await anon.call("PUT", "sys/unseal", { key: unsealKey });
  const root = vaultClient(address, rootToken, ca.pem);
  await waitFor(`vault ${id} active`, async () => (await root.raw("GET", "sys/health")).status === 200, 60_000, 250, p);
  return { name: "vault (raft, TLS)", version: versionOf(bin, ["version"]), started: [p], address, caPem: ca.pem, rootToken, root, unsealKey };
}
