/**
 * The client of the rolling-restart rehearsal: every 100 ms it writes a KV v2 key and reads it
 * back, through whichever of the cluster's addresses answers, as a load balancer in front of
 * the pods would (standbys forward to the active node). Each operation may fail over across
 * the addresses for a bounded time; every failed HTTP request is counted, and so is every
 * operation that found no node able to serve it. A monitor counts the leader changes.
 */
import { httpJson } from "./http";

export interface LoadStats {
  /** Writes and reads attempted (operations, not HTTP requests). */
  writes: number;
  reads: number;
  /** Operations that failed on every address for the whole failover budget. */
  failedWrites: number;
  failedReads: number;
  /** HTTP requests that failed (refused, timed out, sealed, 5xx), including those another node then served. */
  failedRequests: number;
  /** Reads that returned another value than the last acknowledged write. */
  staleReads: number;
  /** Longest operation, failover included (ms). */
  maxOperationMs: number;
  /** The failed requests, counted by `<address>: <reason>`. */
  reasons: Record<string, number>;
}

export interface Load {
  stop(): Promise<LoadStats>;
}

/** How long one operation may fail over across the addresses before it counts as failed. */
const FAILOVER_BUDGET_MS = 5000;
const REQUEST_TIMEOUT_MS = 2000;

/** Write and read `<mount>/data/<path>` every `intervalMs` until stopped. */
export function startLoad(addresses: string[], ca: string, token: string, mount: string, path: string, intervalMs = 100): Load {
  const stats: LoadStats = { writes: 0, reads: 0, failedWrites: 0, failedReads: 0, failedRequests: 0, staleReads: 0, maxOperationMs: 0, reasons: {} };
  let preferred = 0;
  let stopped = false;
  const fail = (address: string, reason: string) => {
    stats.failedRequests++;
    const key = `${address}: ${reason}`;
    stats.reasons[key] = (stats.reasons[key] ?? 0) + 1;
  };
  /** One operation: the preferred address first, then the others, round after round, within the budget. */
  const operation = async (method: string, body?: unknown): Promise<Record<string, unknown> | undefined> => {
    const t0 = Date.now();
    try {
      while (Date.now() - t0 < FAILOVER_BUDGET_MS) {
        for (let i = 0; i < addresses.length; i++) {
          const at = (preferred + i) % addresses.length;
          try {
            const a = await httpJson(`${addresses[at]}/v1/${mount}/data/${path}`, method, {
              ca,
              body,
              headers: { "X-Vault-Token": token },
              timeoutMs: REQUEST_TIMEOUT_MS,
            });
            if (a.status >= 200 && a.status < 300) {
              preferred = at;
              return a.json;
            }
            // 307: a standby that cannot forward yet redirects to the active node; Vault's own clients follow it, this one fails over instead.
            fail(
              addresses[at],
              a.status === 307
                ? "HTTP 307 (redirect to the active node)"
                : `HTTP ${a.status}${Array.isArray(a.json.errors) ? `: ${String(a.json.errors[0]).slice(0, 80)}` : ""}`,
            );
          } catch (e) {
            const code = (e as { code?: string }).code;
            fail(
              addresses[at],
              code ?? (/timed out/.test((e as Error).message) ? `timed out after ${REQUEST_TIMEOUT_MS} ms` : (e as Error).message.slice(0, 80)),
            );
          }
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      return undefined;
    } finally {
      stats.maxOperationMs = Math.max(stats.maxOperationMs, Date.now() - t0);
    }
  };
  const loop = (async () => {
    let i = 0;
    let acknowledged: string | undefined;
    while (!stopped) {
      const started = Date.now();
      const value = `roll-${i++}-${started}`;
      stats.writes++;
      if (await operation("POST", { data: { value } })) acknowledged = value;
      else stats.failedWrites++;
      stats.reads++;
      const read = await operation("GET");
      if (!read) stats.failedReads++;
      else if (acknowledged !== undefined && (read.data as { data?: { value?: string } } | undefined)?.data?.value !== acknowledged) stats.staleReads++;
      await new Promise((r) => setTimeout(r, Math.max(0, intervalMs - (Date.now() - started))));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return stats;
    },
  };
}

export interface LeaderMonitor {
  stop(): Promise<{ changes: number; history: { at: number; leader: string }[] }>;
}

/** Poll `sys/leader` (first address that answers) every `intervalMs`; count changes of leader. */
export function monitorLeader(addresses: string[], ca: string, intervalMs = 200): LeaderMonitor {
  const history: { at: number; leader: string }[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      for (const address of addresses) {
        try {
          const a = await httpJson(`${address}/v1/sys/leader`, "GET", { ca, timeoutMs: 1000 });
          const leader = String(a.json.leader_address ?? "");
          if (a.status === 200 && leader) {
            if (history.at(-1)?.leader !== leader) history.push({ at: Date.now(), leader });
            break;
          }
        } catch {
          // Next address.
        }
      }
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return { changes: Math.max(0, history.length - 1), history };
    },
  };
}

/**
 * A load's and its leader monitor's figures, named `<prefix>.<figure>`, with each node's address
 * replaced by its id (`ids`: address → id) so that the summary reads `node1`, not a port.
 */
export function loadFigures(
  prefix: string,
  stats: LoadStats,
  leaders: Awaited<ReturnType<LeaderMonitor["stop"]>>,
  ids: Record<string, string>,
): Record<string, number | string> {
  const byNode = (text: string) => Object.entries(ids).reduce((t, [address, id]) => t.split(address).join(id), text);
  return {
    [`${prefix}.writes`]: stats.writes,
    [`${prefix}.reads`]: stats.reads,
    [`${prefix}.failedWrites`]: stats.failedWrites,
    [`${prefix}.failedReads`]: stats.failedReads,
    [`${prefix}.failedRequests`]: stats.failedRequests,
    [`${prefix}.failedRequestReasons`]: byNode(JSON.stringify(stats.reasons)),
    [`${prefix}.staleReads`]: stats.staleReads,
    [`${prefix}.maxOperationMs`]: stats.maxOperationMs,
    [`${prefix}.leaderChanges`]: leaders.changes,
    [`${prefix}.leaderHistory`]: leaders.history.map((h) => ids[h.leader] ?? h.leader).join(" → "),
  };
}
