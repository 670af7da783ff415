/**
 * A Raft cluster of real Vault processes for `npm run e2e:raft`: nodes with TLS on 127.0.0.1
 * (distinct free ports, one certificate each from the e2e's CA), started, initialised,
 * unsealed and joined through Vault's API, restarted one at a time. Every wait is bounded.
 */
import { join } from "node:path";
import { type Ca, makeServerCert } from "./pki";
import { type Started, freePort, waitFor } from "./processes";
import { type RaftNodeSpec, startRaftNode } from "./servers";
import { type VaultClient, vaultClient } from "./vault-client";

export interface RaftNode {
  spec: RaftNodeSpec;
  /** https://127.0.0.1:<port> */
  address: string;
  /** The running process, if any. */
  process?: Started;
  /** Every API address this node retry_joins (the others'). */
  join: string[];
}

/** `ids.length` node specs under `dir`: free ports (distinct), a certificate each named `<cluster>-<id>` (for 127.0.0.1, localhost and `sans`). */
export async function raftNodes(ca: Ca, dir: string, cluster: string, ids: string[], sans: string[] = []): Promise<RaftNode[]> {
  const used = new Set<number>();
  const port = async (): Promise<number> => {
    for (let i = 0; i < 20; i++) {
      const p = await freePort();
      if (!used.has(p)) {
        used.add(p);
        return p;
      }
    }
    throw new Error("no distinct free port after 20 tries");
  };
  const nodes: RaftNode[] = [];
  for (const id of ids) {
    const spec: RaftNodeSpec = {
      id,
      dir: join(dir, id),
      port: await port(),
      clusterPort: await port(),
      tls: makeServerCert(ca, `vault-${cluster}-${id}`, sans),
    };
    nodes.push({ spec, address: `https://127.0.0.1:${spec.port}`, join: [] });
  }
  for (const n of nodes) n.join = nodes.filter((o) => o !== n).map((o) => o.address);
  return nodes;
}

export function client(node: RaftNode, ca: Ca, token = ""): VaultClient {
  return vaultClient(node.address, token, ca.pem);
}

/** Start (or restart) a node's process with its config, logs in `logDir`, and wait until its API answers. */
export async function startNode(bin: string, node: RaftNode, ca: Ca, logDir: string, join: boolean): Promise<void> {
  node.process = startRaftNode(bin, node.spec, ca.cert, logDir, join ? node.join : []);
  const anon = client(node, ca);
  await waitFor(`vault ${node.spec.id} listening`, async () => (await anon.raw("GET", "sys/health")).status > 0, 60_000, 200, node.process);
}

/** Stop a node's process (SIGTERM, then SIGKILL after 10 s). */
export async function stopNode(node: RaftNode): Promise<void> {
  await node.process?.stop();
  node.process = undefined;
}

/** `sys/init` with one key share: the unseal key and the root token. */
export async function initNode(node: RaftNode, ca: Ca): Promise<{ unsealKey: string; rootToken: string }> {
  const init = await client(node, ca).call("PUT", "sys/init", { secret_shares: 1, secret_threshold: 1 });
  return { unsealKey: (init.keys_base64 as string[])[0], rootToken: String(init.root_token) };
}

/** The fields of `sys/seal-status` the rehearsal reads. */
export interface SealStatus {
  type?: string;
  sealed?: boolean;
  /** Present (true) while the node waits for `unseal -migrate`. */
  migration?: boolean;
  recovery_seal?: boolean;
}

/** `sys/seal-status` (undefined: the node does not answer). */
export async function sealStatus(node: RaftNode, ca: Ca): Promise<SealStatus | undefined> {
  try {
    const a = await client(node, ca).raw("GET", "sys/seal-status");
    return a.status === 200 ? (a.json as SealStatus) : undefined;
  } catch {
    return undefined;
  }
}

/** Whether the node reports itself sealed (undefined: it does not answer). */
export async function sealed(node: RaftNode, ca: Ca): Promise<boolean | undefined> {
  const s = await sealStatus(node, ca);
  return s ? s.sealed === true : undefined;
}

/**
 * Unseal with `key` (a node joining through retry_join answers the leader's challenge with it)
 * and wait until it reports unsealed. The key is sent again while the node is still sealed: a
 * joining node resets its unseal progress when its join attempt restarts. `migrate`: as
 * `vault operator unseal -migrate` (a node in seal migration mode refuses a plain unseal).
 */
export async function unsealNode(node: RaftNode, ca: Ca, key: string, o: { migrate?: boolean } = {}): Promise<void> {
  const anon = client(node, ca);
  await waitFor(
    `vault ${node.spec.id} unsealed${o.migrate ? " with -migrate" : ""}`,
    async () => {
      const s = await anon.raw("GET", "sys/seal-status");
      if (s.status === 200 && s.json.sealed === false) return true;
      await anon.raw("PUT", "sys/unseal", o.migrate ? { key, migrate: true } : { key });
      return false;
    },
    90_000,
    500,
    node.process,
  );
}

/** `GET sys/health` status: 200 active, 429 standby, 503 sealed, 501 not initialised; 0 no answer. */
export async function health(node: RaftNode, ca: Ca): Promise<number> {
  try {
    return (await client(node, ca).raw("GET", "sys/health")).status;
  } catch {
    return 0;
  }
}

/** The node the cluster reports as its leader (asked of every node that answers), if any. */
export async function leaderOf(nodes: RaftNode[], ca: Ca): Promise<RaftNode | undefined> {
  for (const n of nodes) {
    try {
      const a = await client(n, ca).raw("GET", "sys/leader");
      const address = String(a.json.leader_address ?? "");
      const found = nodes.find((x) => x.address === address);
      if (a.status === 200 && found) return found;
    } catch {
      // Next node.
    }
  }
  return undefined;
}
