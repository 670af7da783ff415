/**
 * Step f of `npm run e2e:raft`: docs/vault-operations.md's seal migration (staging's Shamir keys
 * to an auto-unseal seal), on the restored three-node cluster, while a client writes and reads
 * every 100 ms. There is no cloud KMS here: a fourth Vault (dev mode) and its transit engine
 * stand in for the KMS key and its IAM role (a token that may only encrypt and decrypt with that
 * key), and the nodes get a `seal "transit"` stanza where staging's would get `seal "awskms"`.
 * The steps are the runbook's, in its order:
 *   1. a snapshot first;
 *   4. each standby restarted with the new stanza: it must enter seal migration mode and stay
 *      sealed until unsealed with `-migrate` and the Shamir key; autopilot healthy before the next;
 *   5. the active node stepped down: a migrated standby becomes active and performs the migration
 *      (seal type transit, the Shamir key now a recovery key);
 *   6. the old active node restarted with the new stanza: it unseals itself.
 * Then what the runbook promises afterwards: every node restarts and unseals with no key, the old
 * Shamir key is the recovery key (it completes a root-token generation), the data is intact; and
 * what it warns about: with the KMS unreachable, a restarting node cannot unseal.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Ca } from "./pki";
import { secondsSince, waitFor } from "./processes";
import { type RaftNode, type SealStatus, client, leaderOf, raftNodes, sealStatus, sealed, startNode, stopNode, unsealNode } from "./raft-cluster";
import { vaultBytes } from "./raft-http";
import { type LoadStats, loadFigures, monitorLeader, startLoad } from "./raft-load";
import { startVaultDev } from "./servers";
import type { VaultClient } from "./vault-client";

export interface SealCtx {
  check(name: string, ok: boolean, detail: string): void;
  summary: { timings: Record<string, number>; figures: Record<string, number | string | boolean> };
}

export interface SealOptions {
  bin: string;
  root: string;
  logs: (phase: string) => string;
  ca: Ca;
  nodes: RaftNode[];
  rootToken: string;
  /** The Shamir key (1 of 1) the cluster is sealed with now. */
  unsealKey: string;
  /** Autopilot's verdict on the cluster (healthy, three voters), and given `caughtUp`, that node has reported the index (vault-roll's condition). */
  autopilot(caughtUp?: { node: string; index: number }): Promise<{ ok: boolean; reason: string }>;
  /** The leader's Raft index now, as autopilot reports it. */
  raftIndex(): Promise<number>;
  /** Reads every seeded item (from the cluster's leader, or with `reader`); ok when all read as before the migration. */
  dataIntact(reader?: VaultClient): Promise<{ ok: boolean; detail: string }>;
}

/** The transit key standing in for the KMS key, and its mount. */
const KEY = "vault-unseal";

/** The `seal "transit"` stanza of a node (the stand-in for staging's `seal "awskms"`). */
export function transitSealStanza(address: string, token: string, key = KEY): string {
  return [
    'seal "transit" {',
    `  address    = ${JSON.stringify(address)}`,
    `  token      = ${JSON.stringify(token)}`,
    `  key_name   = "${key}"`,
    '  mount_path = "transit/"',
    "}",
  ].join("\n");
}

/**
 * A transit key standing in for a KMS key, and a token that may only encrypt and decrypt with it
 * (what the seal's cloud role may do): the `seal "transit"` stanza that uses them.
 */
async function kmsKey(kms: VaultClient, key: string): Promise<string> {
  await kms.call("POST", `transit/keys/${key}`, {});
  const policy = `path "transit/encrypt/${key}" {\n  capabilities = ["update"]\n}\npath "transit/decrypt/${key}" {\n  capabilities = ["update"]\n}\n`;
  await kms.call("PUT", `sys/policies/acl/${key}`, { policy });
  const token = (await kms.call("POST", "auth/token/create", { policies: [key], period: "24h" })).auth as { client_token: string };
  return transitSealStanza(kms.address, token.client_token, key);
}

const logOf = (node: RaftNode): string => (node.process && existsSync(node.process.log) ? readFileSync(node.process.log, "utf8") : "");

/** The rehearsal step: see the file's comment. */
export async function sealMigrationRehearsal(ctx: SealCtx, o: SealOptions): Promise<void> {
  const { ca, nodes } = o;
  const t0 = Date.now();
  const kms = await startVaultDev(o.bin, join(o.root, "kms"), o.logs("kms"));
  await kms.root.call("POST", "sys/mounts/transit", { type: "transit" });
  const stanza = await kmsKey(kms.root, KEY);

  // 1. The snapshot first (it still needs the Shamir key to restore).
  const leader0 = (await leaderOf(nodes, ca)) as RaftNode;
  const before = await vaultBytes(leader0.address, ca.pem, o.rootToken, "GET", "sys/storage/raft/snapshot");
  ctx.check(
    "seal migration: a snapshot first (runbook step 1)",
    before.status === 200 && before.body.length > 0,
    `HTTP ${before.status}, ${before.body.length} bytes`,
  );

  const addresses = nodes.map((n) => n.address);
  const load = startLoad(addresses, ca.pem, o.rootToken, "secret", "rehearsal/seal-migration");
  const monitor = monitorLeader(addresses, ca.pem);
  let stats: LoadStats | undefined;
  try {
    // 4. Each standby: the new stanza, migration mode, unseal -migrate with the Shamir key, autopilot healthy.
    const standbys = nodes.filter((n) => n !== leader0);
    for (const n of standbys) {
      const ts = Date.now();
      // As vault-roll waits: the restarted node must report the index the leader had before.
      const index = await o.raftIndex();
      await stopNode(n);
      n.spec.seal = stanza;
      await startNode(o.bin, n, ca, o.logs(`seal-${n.spec.id}`), true);
      let status: SealStatus | undefined;
      await waitFor(`${n.spec.id} in seal migration mode`, async () => (status = await sealStatus(n, ca))?.migration === true, 60_000, 250, n.process);
      const refusedPlain = await client(n, ca).raw("PUT", "sys/unseal", { key: o.unsealKey });
      ctx.check(
        `seal migration: ${n.spec.id} (standby) restarted with the seal stanza enters migration mode, stays sealed, and refuses a plain unseal (runbook step 4)`,
        status?.sealed === true && status.migration === true && /entering seal migration mode/i.test(logOf(n)) && refusedPlain.status >= 400,
        `seal-status sealed ${String(status?.sealed)}, migration ${String(status?.migration)}, type ${String(status?.type)}; plain unseal: HTTP ${refusedPlain.status} ${String((refusedPlain.json.errors as string[] | undefined)?.[0] ?? "").slice(0, 160)}`,
      );
      await unsealNode(n, ca, o.unsealKey, { migrate: true });
      await waitFor(`${n.spec.id}: autopilot healthy, caught up`, async () => (await o.autopilot({ node: n.spec.id, index })).ok, 120_000, 500);
      ctx.summary.timings[`seal migration: ${n.spec.id} (standby): restart with the seal, unseal -migrate, autopilot healthy and caught up`] = secondsSince(ts);
    }

    // 5. The active node steps down; a migrated standby becomes active and migrates the seal.
    const tm = Date.now();
    await client(leader0, ca, o.rootToken).call("PUT", "sys/step-down");
    let leader: RaftNode | undefined;
    await waitFor("a migrated standby leads", async () => (leader = await leaderOf(nodes, ca)) !== undefined && leader !== leader0, 60_000, 200);
    const newLeader = leader as RaftNode;
    let migrated: SealStatus | undefined;
    await waitFor(
      `${newLeader.spec.id}: seal type transit`,
      async () => (migrated = await sealStatus(newLeader, ca))?.type === "transit" && migrated?.recovery_seal === true,
      120_000,
      500,
    ).catch(() => undefined);
    ctx.summary.timings["seal migration: step-down until the new active node has migrated the seal"] = secondsSince(tm);
    ctx.check(
      `seal migration: after the step-down, ${newLeader.spec.id} (migrated standby) leads and performs the migration: seal type transit, the Shamir key a recovery key (runbook step 5)`,
      migrated?.type === "transit" && migrated.recovery_seal === true && /seal migration complete/i.test(logOf(newLeader)),
      `seal-status type ${String(migrated?.type)}, recovery_seal ${String(migrated?.recovery_seal)}; log: ${(/.*seal migration complete.*/i.exec(logOf(newLeader))?.[0] ?? "no 'seal migration complete' line").slice(0, 200)}`,
    );

    // 6. The old active node: restarted with the stanza, it unseals itself.
    const t6 = Date.now();
    await stopNode(leader0);
    leader0.spec.seal = stanza;
    await startNode(o.bin, leader0, ca, o.logs(`seal-${leader0.spec.id}`), true);
    await waitFor(`${leader0.spec.id} unseals itself`, async () => (await sealed(leader0, ca)) === false, 90_000, 250, leader0.process).catch(() => undefined);
    const self = await sealStatus(leader0, ca);
    ctx.check(
      `seal migration: ${leader0.spec.id} (the old active node) restarted with the stanza unseals itself, no key sent (runbook step 6)`,
      self?.sealed === false && self.type === "transit",
      `sealed ${String(self?.sealed)}, type ${String(self?.type)}, ${secondsSince(t6)} s`,
    );
    await waitFor("autopilot healthy after the migration", async () => (await o.autopilot()).ok, 120_000, 500);
    ctx.summary.timings["seal migration: old active restarted, unsealed by the seal, autopilot healthy"] = secondsSince(t6);
  } finally {
    await new Promise((r) => setTimeout(r, 2000));
    stats = await load.stop();
    const leaders = await monitor.stop();
    const ids = Object.fromEntries(nodes.map((n) => [n.address, n.spec.id]));
    Object.assign(ctx.summary.figures, loadFigures("sealMigration", stats, leaders, ids));
    ctx.check(
      `seal migration: no write or read failed through the client's failover (${stats.writes} writes, ${stats.reads} reads; ${stats.failedRequests} single requests failed and were served by another node)`,
      stats.writes > 0 && stats.failedWrites === 0 && stats.failedReads === 0 && stats.staleReads === 0,
      `failed writes ${stats.failedWrites}, failed reads ${stats.failedReads}, stale reads ${stats.staleReads}, slowest operation ${stats.maxOperationMs} ms, ${String(ctx.summary.figures["sealMigration.failedRequestReasons"])}`,
    );
  }

  // Afterwards: restarts need no key; the Shamir key is the recovery key; the data is intact.
  const tr = Date.now();
  const selfUnsealed: string[] = [];
  for (const n of nodes) {
    await stopNode(n);
    await startNode(o.bin, n, ca, o.logs(`sealed-restart-${n.spec.id}`), true);
    await waitFor(`${n.spec.id} unseals itself`, async () => (await sealed(n, ca)) === false, 90_000, 250, n.process).catch(() => undefined);
    selfUnsealed.push(`${n.spec.id}: ${(await sealed(n, ca)) === false ? "unsealed" : "sealed"}`);
    await waitFor(`${n.spec.id}: autopilot healthy`, async () => (await o.autopilot()).ok, 120_000, 500).catch(() => undefined);
  }
  ctx.summary.timings["seal migration: each node restarted once more, unsealed by the seal alone"] = secondsSince(tr);
  const ap = await o.autopilot();
  ctx.check(
    "seal migration: afterwards every node restarts and unseals itself with no key (runbook step 7), autopilot healthy",
    selfUnsealed.every((s) => s.endsWith(": unsealed")) && ap.ok,
    `${selfUnsealed.join(", ")}; ${ap.reason}`,
  );
  const leader = ((await leaderOf(nodes, ca)) ?? nodes[0]) as RaftNode;
  const anon = client(leader, ca);
  const attempt = await anon.call("PUT", "sys/generate-root/attempt", {});
  const update = await anon.raw("PUT", "sys/generate-root/update", { key: o.unsealKey, nonce: attempt.nonce });
  ctx.check(
    "seal migration: the old Shamir key is now the recovery key (it completes a root-token generation): keep it",
    update.status === 200 && update.json.complete === true && typeof update.json.encoded_token === "string",
    `HTTP ${update.status}, complete ${String(update.json.complete)}`,
  );
  const intact = await o.dataIntact();
  ctx.check("seal migration: every seeded item reads as it did before the migration", intact.ok, intact.detail);

  await restorePreMigration(ctx, o, before.body);

  await restoreIntoNewCluster(ctx, o, kms.root, stanza);

  // What the runbook warns about: the KMS is needed at every start.
  await kms.started[0].stop();
  const serving = ((await leaderOf(nodes, ca)) ?? leader) as RaftNode;
  const standby = nodes.find((n) => n !== serving) as RaftNode;
  await stopNode(standby);
  await startNode(o.bin, standby, ca, o.logs(`kms-down-${standby.spec.id}`), true).catch(() => undefined);
  await new Promise((r) => setTimeout(r, 15_000));
  const down = await sealStatus(standby, ca);
  const exited = standby.process?.child.exitCode !== null && standby.process?.child.exitCode !== undefined;
  ctx.check(
    `seal migration: with the KMS unreachable, a restarting node cannot unseal (${exited ? "the server exits" : "it stays sealed"}) while the two others serve`,
    (exited || down?.sealed === true || down === undefined) &&
      (await client(serving, ca, o.rootToken).raw("GET", "sys/storage/raft/autopilot/state")).status === 200,
    `${standby.spec.id}: ${exited ? `exited ${String(standby.process?.child.exitCode)}` : `sealed ${String(down?.sealed)}`}; ${(/.*error parsing seal configuration.*|.*(transit|seal).*(error|fail).*/i.exec(logOf(standby))?.[0] ?? "").slice(0, 240)}`,
  );
  ctx.summary.timings["seal migration: whole step"] = secondsSince(t0);
}

/**
 * Runbook step 1's snapshot, restored into the migrated cluster (docs/vault-operations.md): a
 * plain restore is refused (the snapshot's barrier was sealed by Shamir, not by the new seal),
 * `-force` installs it; then every node, restarted, is back in seal migration mode, and the
 * migration is done again with the old Shamir key (`unseal -migrate` on each node). Afterwards
 * the data is the snapshot's, and a restart unseals itself.
 */
async function restorePreMigration(ctx: SealCtx, o: SealOptions, snapshot: Buffer): Promise<void> {
  const { ca, nodes } = o;
  const t0 = Date.now();
  const leader = ((await leaderOf(nodes, ca)) ?? nodes[0]) as RaftNode;
  await client(leader, ca, o.rootToken).call("POST", "secret/data/rehearsal/after-migration", { data: { v: "written after the migration" } });
  const plain = await vaultBytes(leader.address, ca.pem, o.rootToken, "POST", "sys/storage/raft/snapshot", snapshot);
  const forced = await vaultBytes(leader.address, ca.pem, o.rootToken, "POST", "sys/storage/raft/snapshot-force", snapshot);
  const refusal = plain.body.toString();
  ctx.check(
    "pre-migration snapshot: restoring it into the migrated cluster is refused without -force (it names the seal), and installed with -force",
    plain.status === 400 && /snapshot-force/.test(refusal) && forced.status === 204,
    `plain: HTTP ${plain.status} ${refusal.replace(/\s+/g, " ").slice(0, 200)}; -force: HTTP ${forced.status} ${forced.body.toString().slice(0, 120)}`,
  );
  // Every node restarted: the restored barrier is Shamir's again, so each waits for a migration.
  for (const n of nodes) await stopNode(n);
  for (const n of nodes) await startNode(o.bin, n, ca, o.logs(`premigration-${n.spec.id}`), true);
  const modes: string[] = [];
  for (const n of nodes) {
    let status: SealStatus | undefined;
    await waitFor(`${n.spec.id} in seal migration mode`, async () => (status = await sealStatus(n, ca))?.migration === true, 60_000, 250, n.process).catch(
      () => undefined,
    );
    modes.push(`${n.spec.id}: sealed ${String(status?.sealed)}, migration ${String(status?.migration)}`);
  }
  ctx.check(
    "pre-migration snapshot: after -force, every restarted node is back in seal migration mode and stays sealed (the Shamir key is needed again)",
    modes.every((m) => m.endsWith("sealed true, migration true")),
    modes.join("; "),
  );
  for (const n of nodes) await unsealNode(n, ca, o.unsealKey, { migrate: true });
  let active: RaftNode | undefined;
  let migrated: SealStatus | undefined;
  await waitFor(
    "the active node migrates the seal again",
    async () =>
      (active = await leaderOf(nodes, ca)) !== undefined && (migrated = await sealStatus(active, ca))?.type === "transit" && migrated?.recovery_seal === true,
    120_000,
    500,
  ).catch(() => undefined);
  await waitFor("autopilot healthy after the second migration", async () => (await o.autopilot()).ok, 120_000, 500).catch(() => undefined);
  const ap = await o.autopilot();
  const marker = active ? (await client(active, ca, o.rootToken).raw("GET", "secret/data/rehearsal/after-migration")).status : 0;
  const intact = await o.dataIntact();
  ctx.check(
    "pre-migration snapshot: unseal -migrate with the old Shamir key on each node, the active node migrates again; the data is the snapshot's (written after it: 404), autopilot healthy",
    migrated?.type === "transit" && migrated.recovery_seal === true && ap.ok && marker === 404 && intact.ok,
    `active ${active?.spec.id ?? "none"}: seal type ${String(migrated?.type)}, recovery_seal ${String(migrated?.recovery_seal)}; ${ap.reason}; written after the migration: HTTP ${marker}; ${intact.detail}`,
  );
  // And from then on a restart unseals itself again.
  const standby = nodes.find((n) => n !== active) as RaftNode;
  await stopNode(standby);
  await startNode(o.bin, standby, ca, o.logs(`premigration-restart-${standby.spec.id}`), true);
  await waitFor(`${standby.spec.id} unseals itself`, async () => (await sealed(standby, ca)) === false, 90_000, 250, standby.process).catch(() => undefined);
  const again = await sealStatus(standby, ca);
  await waitFor("autopilot healthy", async () => (await o.autopilot()).ok, 120_000, 500).catch(() => undefined);
  ctx.summary.timings["seal migration: pre-migration snapshot restored with -force and migrated again"] = secondsSince(t0);
  ctx.check(
    `pre-migration snapshot: afterwards ${standby.spec.id} restarts and unseals itself (type transit)`,
    again?.sealed === false && again.type === "transit",
    `sealed ${String(again?.sealed)}, type ${String(again?.type)}`,
  );
}

/**
 * Production's disaster recovery (docs/vault-operations.md, Restore step 4): a snapshot of the
 * auto-unseal cluster, restored with `-force` into a new node initialised with recovery keys.
 * With the same KMS key the node serves the snapshot's data with the old root token; with
 * another key it cannot decrypt the restored keyring.
 */
async function restoreIntoNewCluster(ctx: SealCtx, o: SealOptions, kms: VaultClient, stanza: string): Promise<void> {
  const { ca, nodes } = o;
  const t0 = Date.now();
  const leader = ((await leaderOf(nodes, ca)) ?? nodes[0]) as RaftNode;
  const snap = await vaultBytes(leader.address, ca.pem, o.rootToken, "GET", "sys/storage/raft/snapshot");
  const [same, other] = await raftNodes(ca, join(o.root, "dr"), "dr", ["dr-same-key", "dr-other-key"]);
  same.spec.seal = stanza;
  // Another key, with its own limited token: a new cluster's own KMS key.
  other.spec.seal = await kmsKey(kms, `${KEY}-other`);
  const results: Record<
    string,
    { restore: number; sealed?: boolean; oldRoot: number; newRoot: number; intact?: { ok: boolean; detail: string }; log: string }
  > = {};
  try {
    for (const n of [same, other]) {
      await startNode(o.bin, n, ca, o.logs(`dr-${n.spec.id}`), false);
      const init = await client(n, ca).call("PUT", "sys/init", { recovery_shares: 1, recovery_threshold: 1 });
      const newRoot = String(init.root_token);
      await waitFor(`${n.spec.id} unsealed by its seal`, async () => (await sealed(n, ca)) === false, 60_000, 250, n.process);
      await waitFor(`${n.spec.id} active`, async () => (await client(n, ca, newRoot).raw("GET", "sys/leader")).json.is_self === true, 60_000, 250, n.process);
      const restore = await vaultBytes(n.address, ca.pem, newRoot, "POST", "sys/storage/raft/snapshot-force", snap.body);
      // Up to 30 s for the node to serve the restored data with the old cluster's root token.
      let oldRoot = 0;
      await waitFor(
        `${n.spec.id} serves the snapshot`,
        async () => (oldRoot = (await client(n, ca, o.rootToken).raw("GET", "sys/storage/raft/autopilot/state")).status) === 200,
        30_000,
        500,
      ).catch(() => undefined);
      const st = await sealStatus(n, ca);
      const newRootStatus = (await client(n, ca, newRoot).raw("GET", "auth/token/lookup-self")).status;
      results[n.spec.id] = {
        restore: restore.status,
        sealed: st?.sealed,
        oldRoot,
        newRoot: newRootStatus,
        intact: oldRoot === 200 ? await o.dataIntact(client(n, ca, o.rootToken)) : undefined,
        log: (/.*(error|failed).*(keyring|decrypt|barrier|cipher|message authentication).*/i.exec(logOf(n))?.[0] ?? "").slice(0, 200),
      };
    }
    // The node on the same key, restarted: it unseals itself with the restored keyring.
    await stopNode(same);
    await startNode(o.bin, same, ca, o.logs(`dr-restart-${same.spec.id}`), false);
    await waitFor(`${same.spec.id} unseals itself`, async () => (await sealed(same, ca)) === false, 60_000, 250, same.process).catch(() => undefined);
    let restarted = 0;
    await waitFor(
      `${same.spec.id} serves after its restart`,
      async () => (restarted = (await client(same, ca, o.rootToken).raw("GET", "sys/storage/raft/autopilot/state")).status) === 200,
      60_000,
      500,
    ).catch(() => undefined);
    ctx.summary.timings["seal migration: the auto-unseal snapshot restored into two new nodes (same key, other key)"] = secondsSince(t0);
    const a = results[same.spec.id];
    const b = results[other.spec.id];
    const show = (r: typeof a) =>
      `restore HTTP ${r.restore}, sealed ${String(r.sealed)}, old root token ${r.oldRoot}, new root token ${r.newRoot}${r.intact ? `, ${r.intact.ok ? "data as before" : r.intact.detail}` : ""}${r.log ? `; log: ${r.log}` : ""}`;
    ctx.check(
      "auto-unseal restore: a snapshot restored with -force into a new node on the same KMS key serves the snapshot's data with the old root token (the new one is gone), and unseals itself after a restart",
      a.restore === 204 && a.sealed === false && a.oldRoot === 200 && a.newRoot === 403 && a.intact?.ok === true && restarted === 200,
      `${show(a)}; after a restart: HTTP ${restarted}`,
    );
    ctx.check(
      "auto-unseal restore: into a new node on another KMS key it cannot serve the snapshot (the restored keyring was sealed by the old key)",
      b.oldRoot !== 200,
      show(b),
    );
  } finally {
    await stopNode(same);
    await stopNode(other);
  }
}
