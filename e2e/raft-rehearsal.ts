/**
 * `npm run e2e:raft`: Vault's day-2 operations rehearsed on three real Raft nodes with TLS on
 * 127.0.0.1 (the `vault` that `npm run e2e:tools` builds): the cluster is initialised,
 * unsealed, joined and given dead-server cleanup; the staging stack's Vault content is written
 * from the program's own documents; a token of the snapshot policy takes a snapshot (and is
 * refused everything else); the cluster is wiped, rebuilt and restored from it with the
 * restore script's command; then its nodes are restarted one at a time in `vault-roll`'s
 * order while a client writes and reads every 100 ms, twice: the leader's turn by its graceful
 * shutdown (HashiCorp's guide), then after a step-down (`--step-down`); the snapshot CronJob runs
 * on a real API server (`./raft-cronjob.ts`), and production's with an S3 upload by the AWS CLI
 * (`./raft-upload.ts`); the Shamir keys are migrated to an auto-unseal seal by the runbook's
 * steps (`./raft-seal.ts`, a transit key for the KMS); `npm run vault-roll` itself rolls a
 * StatefulSet's Vault pods with kubectl (`./raft-pods.ts`). Figures and checks go to
 * `.e2e/raft-summary.json`. Exit 0 green, 1 a check failed, 3 skipped (no `vault`).
 *
 * Only one Vault version is available here, so the roll restarts each node on the same
 * binary: it rehearses the upgrade procedure (order, step-down, unseal, autopilot), not a
 * version change.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { SNAPSHOT_TOKEN, snapshotPolicy, snapshotSaveStep } from "../components/vault/raft-snapshots";
import { restoreArgs } from "../scripts/vault-restore";
import {
  AUTOPILOT_READ_ARGS,
  type AutopilotState,
  autopilotConfiguration,
  autopilotVerdict,
  leaderIndex,
  parseAutopilotRead,
  rollOrder,
} from "../scripts/vault-roll";
import { type Ca, makeCa } from "./pki";
import { cronJobRehearsal, documentedVaultSans } from "./raft-cronjob";
import { podsRollRehearsal } from "./raft-pods";
import { sealMigrationRehearsal } from "./raft-seal";
import { startLeaseRehearsal } from "./raft-leases";
import { deployerPolicyOptions } from "../stacks/vault";
import { secondsSince, stopAll, waitFor } from "./processes";
import { type RaftNode, client, health, initNode, leaderOf, raftNodes, sealed, startNode, stopNode, unsealNode } from "./raft-cluster";
import { vaultBytes } from "./raft-http";
import { type LoadStats, loadFigures, monitorLeader, startLoad } from "./raft-load";
import { type ReadBack, SNAPSHOT_NAMES, readAll, seed, stagingConfig } from "./raft-seed";
import { versionOf } from "./servers";
import { type Summary, emptySummary, printSummary } from "./summary";
import { findTool, tool } from "./tools";
import type { VaultClient } from "./vault-client";

const PROJECT_DIR = join(__dirname, "..");
const IDS = ["node1", "node2", "node3"];
const VOTERS = IDS.length;

/** The summary of `npm run e2e`, plus the rehearsal's figures and what it does not show. */
export interface RaftSummary extends Summary {
  figures: Record<string, number | string | boolean>;
  notes: string[];
}

interface Ctx {
  bin: string;
  root: string;
  summary: RaftSummary;
  check(name: string, ok: boolean, detail: string): void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Stops the rehearsal's PostgreSQL, once started. */
let stopLeases: (() => Promise<void>) | undefined;

async function timed<T>(ctx: Ctx, name: string, fn: () => Promise<T>): Promise<T> {
  const t0 = Date.now();
  try {
    return await fn();
  } finally {
    ctx.summary.timings[name] = secondsSince(t0);
  }
}

/** Autopilot's verdict through the HTTP API. */
async function autopilotHttp(root: VaultClient, caughtUp?: { node: string; index: number }): Promise<{ ok: boolean; reason: string }> {
  const a = await root.raw("GET", "sys/storage/raft/autopilot/state");
  if (a.status !== 200) return { ok: false, reason: `HTTP ${a.status}` };
  return autopilotVerdict(a.json.data as AutopilotState, VOTERS, caughtUp);
}

/** Autopilot's verdict as `vault-roll` reads it: `vault read -format=json …` through `node`. */
function autopilotCli(bin: string, node: RaftNode, caFile: string, token: string): AutopilotState {
  const out = execFileSync(bin, [...AUTOPILOT_READ_ARGS], {
    encoding: "utf8",
    timeout: 15_000,
    env: { ...process.env, VAULT_ADDR: node.address, VAULT_CACERT: caFile, VAULT_TOKEN: token },
    stdio: ["ignore", "pipe", "pipe"],
  });
  return parseAutopilotRead(out);
}

async function waitAutopilot(what: string, root: VaultClient, timeoutMs = 120_000): Promise<void> {
  let last = "";
  await waitFor(
    `${what}: autopilot healthy with ${VOTERS} voters`,
    async () => {
      const v = await autopilotHttp(root);
      last = v.reason;
      return v.ok;
    },
    timeoutMs,
    500,
  ).catch((e: Error) => {
    throw new Error(`${e.message} (${last})`);
  });
}

/** Per kind of thing read back: how many answers are identical. */
function compare(
  reads: ReadBack[],
  before: Map<string, unknown>,
  after: Map<string, unknown>,
): Map<string, { same: number; total: number; different: string[] }> {
  const out = new Map<string, { same: number; total: number; different: string[] }>();
  for (const r of reads) {
    const e = out.get(r.kind) ?? { same: 0, total: 0, different: [] };
    e.total++;
    if (isDeepStrictEqual(before.get(r.path), after.get(r.path)) && !String(before.get(r.path)).startsWith("HTTP ")) e.same++;
    else e.different.push(`${r.path}: ${JSON.stringify(after.get(r.path)).slice(0, 160)}`);
    out.set(r.kind, e);
  }
  return out;
}

async function rehearse(ctx: Ctx): Promise<void> {
  const { bin, root, summary } = ctx;
  const ca = makeCa(root, "raft");
  const logs = (phase: string) => join(root, "logs", phase);
  // E2E_ONLY=pods: only step g (the script itself against Vault pods), which needs no other step.
  if (process.env.E2E_ONLY === "pods") return podsRollRehearsal(ctx, { bin, root, logDir: logs("pods"), ca });
  summary.servers.push({ name: `vault (${VOTERS} Raft nodes, TLS, 127.0.0.1)`, version: versionOf(bin, ["version"]) });

  // 1. Three nodes: node1 initialised and unsealed, node2 and node3 join it (retry_join) when unsealed.
  const a = await raftNodes(ca, join(root, "cluster-a"), "a", IDS);
  const { unsealKey, rootToken } = await timed(ctx, "cluster: 3 nodes started, initialised, unsealed, joined, autopilot healthy", async () => {
    await startNode(bin, a[0], ca, logs("cluster-a"), false);
    const init = await initNode(a[0], ca);
    await unsealNode(a[0], ca, init.unsealKey);
    await waitFor("node1 active", async () => (await health(a[0], ca)) === 200, 60_000, 250, a[0].process);
    for (const n of a.slice(1)) {
      await startNode(bin, n, ca, logs("cluster-a"), true);
      await unsealNode(n, ca, init.unsealKey);
    }
    await waitAutopilot("cluster a", client(a[0], ca, init.rootToken));
    return init;
  });
  const rootA = client(a[0], ca, rootToken);
  const started = await autopilotHttp(rootA);
  ctx.check(
    "cluster: three Raft nodes with TLS on distinct ports, one leader, autopilot healthy",
    new Set(a.flatMap((n) => [n.spec.port, n.spec.clusterPort])).size === 2 * VOTERS && started.ok,
    started.reason,
  );
  await rootA.call("POST", "sys/storage/raft/autopilot/configuration", autopilotConfiguration(VOTERS));
  const apConf = (await rootA.call("GET", "sys/storage/raft/autopilot/configuration")).data as Record<string, unknown>;
  ctx.check(
    "cluster: autopilot dead-server cleanup on, min_quorum 3",
    apConf.cleanup_dead_servers === true && apConf.min_quorum === VOTERS && Boolean(apConf.dead_server_last_contact_threshold),
    `cleanup_dead_servers ${String(apConf.cleanup_dead_servers)}, dead_server_last_contact_threshold ${String(apConf.dead_server_last_contact_threshold)}, min_quorum ${String(apConf.min_quorum)}`,
  );

  // a. The staging stack's Vault content, from the program's documents.
  const config = stagingConfig();
  // A real PostgreSQL behind the database engine, for the leases across the restore.
  const leases = await startLeaseRehearsal(ctx, config, String(deployerPolicyOptions(config).database?.connection.url));
  stopLeases = leases?.stop;
  const seeded = await timed(ctx, "seed: the staging stack's KV, policies, roles, jwt logins, database engine", () =>
    seed(rootA, config, join(root, "audit"), leases?.connection),
  );
  const before = await readAll(rootA, seeded.reads);
  await leases?.beforeSnapshot(rootA);
  const unread = [...before].filter(([, v]) => String(v).startsWith("HTTP "));
  ctx.check(
    `seed: ${Object.entries(seeded.counts)
      .map(([k, n]) => `${n} ${k}`)
      .join(", ")} written and read back`,
    unread.length === 0,
    unread.map(([p, v]) => `${p}: ${String(v)}`).join("; ") || `${seeded.reads.length} paths`,
  );

  // b. A snapshot with a token of the snapshot policy alone (the CronJob's: batch, no default policy).
  const leaderA = (await leaderOf(a, ca)) as RaftNode;
  const policyText = (await rootA.call("GET", `sys/policies/acl/${SNAPSHOT_NAMES.policy}`)).data as { policy: string };
  ctx.check("snapshot: the policy in Vault is snapshotPolicy() verbatim", policyText.policy === snapshotPolicy(), JSON.stringify(policyText.policy));
  const created = await rootA.call("POST", "auth/token/create", {
    policies: [SNAPSHOT_NAMES.policy],
    no_default_policy: SNAPSHOT_TOKEN.noDefaultPolicy,
    type: SNAPSHOT_TOKEN.type,
    ttl: `${SNAPSHOT_TOKEN.ttlSeconds}s`,
  });
  const snapToken = String((created.auth as { client_token: string }).client_token);
  mkdirSync(join(root, "snapshots"), { recursive: true });
  const snapFile = join(root, "snapshots", "http.snap");
  const t0 = Date.now();
  const snap = await vaultBytes(leaderA.address, ca.pem, snapToken, "GET", "sys/storage/raft/snapshot");
  summary.timings["snapshot: GET sys/storage/raft/snapshot"] = secondsSince(t0);
  summary.figures.snapshotBytes = snap.body.length;
  summary.figures.snapshotSeconds = Math.round(Date.now() - t0) / 1000;
  writeFileSync(snapFile, snap.body);
  ctx.check(
    "snapshot: GET sys/storage/raft/snapshot with the snapshot policy's token answers a gzip archive",
    snap.status === 200 && snap.body.length > 0 && snap.body[0] === 0x1f && snap.body[1] === 0x8b,
    `HTTP ${snap.status}, ${snap.body.length} bytes in ${summary.figures.snapshotSeconds} s`,
  );

  // The CronJob's own save step, with the real CLI and the same token; and its guard, with a CLI that writes nothing.
  const env = (path: string, token: string) => ({
    ...process.env,
    PATH: `${path}${delimiter}${process.env.PATH ?? ""}`,
    VAULT_ADDR: leaderA.address,
    VAULT_CACERT: ca.cert,
    VAULT_TOKEN: token,
    HOME: root,
  });
  const cronFile = join(root, "snapshots", "vault-raft-cronjob.snap");
  const t1 = Date.now();
  const step = spawnSync("sh", ["-c", `set -eu\n${snapshotSaveStep({ file: cronFile })}`], {
    env: env(dirname(bin), snapToken),
    encoding: "utf8",
    timeout: 120_000,
  });
  summary.timings["snapshot: the CronJob's save step (vault CLI, inspect)"] = secondsSince(t1);
  summary.figures.cronJobStepSnapshotBytes = existsSync(cronFile) ? statSync(cronFile).size : 0;
  ctx.check(
    "snapshot: the CronJob's save step (vault operator raft snapshot save, non-empty, inspect) succeeds with the same token",
    step.status === 0 && existsSync(cronFile) && statSync(cronFile).size > 0 && !existsSync(`${cronFile}.partial`),
    `exit ${step.status}; ${(step.stdout + step.stderr).trim().slice(0, 300)}`,
  );
  // Through a standby the snapshot is a redirect the CLI does not follow: the Job must use the active node's Service.
  const standbyA = a.find((n) => n !== leaderA) as RaftNode;
  const viaStandby = spawnSync("sh", ["-c", `set -eu\n${snapshotSaveStep({ file: join(root, "snapshots", "via-standby.snap") })}`], {
    env: { ...env(dirname(bin), snapToken), VAULT_ADDR: standbyA.address },
    encoding: "utf8",
    timeout: 120_000,
  });
  ctx.check(
    "snapshot: the save step through a standby fails the Job (no file), so the CronJob targets the active node's Service",
    viaStandby.status !== 0 && !existsSync(join(root, "snapshots", "via-standby.snap")) && !existsSync(join(root, "snapshots", "via-standby.snap.partial")),
    `exit ${viaStandby.status}; ${viaStandby.stderr.trim().split("\n").slice(-1)[0] ?? ""}`,
  );
  const fakeBin = join(root, "fake-vault");
  mkdirSync(fakeBin, { recursive: true });
  for (const [label, content] of [
    ["empty", ": >"],
    ["unreadable", "printf 'not a snapshot' >"],
  ] as const) {
    writeFileSync(
      join(fakeBin, "vault"),
      `#!/bin/sh\nif [ "$1 $2 $3 $4" = "operator raft snapshot save" ]; then ${content} "$5"; exit 0; fi\nexec '${bin}' "$@"\n`,
    );
    chmodSync(join(fakeBin, "vault"), 0o755);
    const guardFile = join(root, "snapshots", `guard-${label}.snap`);
    const g = spawnSync("sh", ["-c", `set -eu\n${snapshotSaveStep({ file: guardFile })}`], { env: env(fakeBin, snapToken), encoding: "utf8", timeout: 60_000 });
    ctx.check(
      `snapshot: the save step fails (the Job fails) when the snapshot is ${label}`,
      g.status !== 0 && !existsSync(guardFile) && !existsSync(`${guardFile}.partial`),
      `exit ${g.status}; ${g.stderr.trim().split("\n").slice(-1)[0] ?? ""}`,
    );
  }

  // The snapshot token can do nothing else.
  const snapClient = client(leaderA, ca, snapToken);
  const garbage = Buffer.from("not a snapshot");
  const attempts: [string, () => Promise<number>][] = [
    ["read the KV secret", async () => (await snapClient.raw("GET", seeded.kv.path)).status],
    ["write the KV secret", async () => (await snapClient.raw("POST", seeded.kv.path, { data: { x: "y" } })).status],
    ["read KV metadata", async () => (await snapClient.raw("GET", seeded.kv.path.replace("/data/", "/metadata/"))).status],
    ["list policies (sys/policies/acl)", async () => (await snapClient.raw("GET", "sys/policies/acl?list=true")).status],
    ["read a policy", async () => (await snapClient.raw("GET", `sys/policies/acl/${SNAPSHOT_NAMES.policy}`)).status],
    ["write a policy", async () => (await snapClient.raw("PUT", "sys/policies/acl/escalate", { policy: 'path "*" { capabilities = ["sudo"] }' })).status],
    ["list auth methods (sys/auth)", async () => (await snapClient.raw("GET", "sys/auth")).status],
    ["enable an auth method", async () => (await snapClient.raw("POST", "sys/auth/escalate", { type: "userpass" })).status],
    ["create a token", async () => (await snapClient.raw("POST", "auth/token/create", {})).status],
    ["read the Raft configuration", async () => (await snapClient.raw("GET", "sys/storage/raft/configuration")).status],
    [
      "restore (POST sys/storage/raft/snapshot)",
      async () => (await vaultBytes(leaderA.address, ca.pem, snapToken, "POST", "sys/storage/raft/snapshot", garbage)).status,
    ],
    [
      "force-restore (POST sys/storage/raft/snapshot-force)",
      async () => (await vaultBytes(leaderA.address, ca.pem, snapToken, "POST", "sys/storage/raft/snapshot-force", garbage)).status,
    ],
  ];
  const refused: string[] = [];
  for (const [what, attempt] of attempts) refused.push(`${what}: ${await attempt()}`);
  ctx.check(
    `snapshot: its token is refused everything else (${refused.filter((r) => r.endsWith(": 403")).length} of ${attempts.length} requests 403)`,
    refused.every((r) => r.endsWith(": 403")),
    refused.join("; "),
  );

  // What happens after the snapshot, and must not survive the restore.
  await rootA.call("POST", "secret/data/rehearsal/after-snapshot", { data: { written: "after the snapshot" } });
  await rootA.call("PUT", "sys/policies/acl/after-snapshot", { policy: 'path "secret/data/rehearsal/*" {\n  capabilities = ["read"]\n}\n' });
  const afterToken = String(
    ((await rootA.call("POST", "auth/token/create", { policies: ["default"], ttl: "1h" })).auth as { client_token: string }).client_token,
  );
  await leases?.afterSnapshot(rootA);

  // c. Wipe: stop every node, delete their data, build a new cluster, restore into it.
  // The new cluster's certificates carry the names docs/vault-bootstrap.md has the operator
  // issue (the snapshot Job reaches the leader as vault-active.<namespace>.svc, step e).
  const b = await raftNodes(ca, join(root, "cluster-b"), "b", IDS, documentedVaultSans(config.namespaces.vault));
  const fresh = await timed(ctx, "wipe: cluster stopped, data deleted, a new node1 initialised", async () => {
    for (const n of a) await stopNode(n);
    for (const n of a) rmSync(n.spec.dir, { recursive: true, force: true });
    await startNode(bin, b[0], ca, logs("cluster-b"), false);
    const init = await initNode(b[0], ca);
    await unsealNode(b[0], ca, init.unsealKey);
    await waitFor("new node1 active", async () => (await health(b[0], ca)) === 200, 60_000, 250, b[0].process);
    return init;
  });
  const newRoot = client(b[0], ca, fresh.rootToken);
  const emptyKv = await newRoot.raw("GET", seeded.kv.path);
  ctx.check(
    "wipe: the old data directories are gone and the new cluster has none of the data",
    a.every((n) => !existsSync(n.spec.dir)) && emptyKv.status === 404 && fresh.unsealKey !== unsealKey,
    `old dirs ${a.map((n) => (existsSync(n.spec.dir) ? "present" : "deleted")).join(", ")}; GET ${seeded.kv.path} on the new cluster: ${emptyKv.status}`,
  );

  const oldRoot = client(b[0], ca, rootToken);
  const tr = Date.now();
  // The script itself, as the runbook has the operator run it: the staging stack, --force (a
  // rebuilt cluster), --execute (inspect, restore, wait until Vault answers), this build on PATH.
  const restore = spawnSync(
    join(PROJECT_DIR, "node_modules", ".bin", "tsx"),
    [join(PROJECT_DIR, "scripts", "vault-restore.ts"), "staging", snapFile, "--force", "--execute"],
    {
      cwd: PROJECT_DIR,
      env: {
        ...process.env,
        PATH: `${dirname(bin)}${delimiter}${process.env.PATH ?? ""}`,
        VAULT_ADDR: b[0].address,
        VAULT_CACERT: ca.cert,
        VAULT_TOKEN: fresh.rootToken,
        HOME: root,
      },
      encoding: "utf8",
      timeout: 300_000,
    },
  );
  const restoreOut = `${restore.stdout}${restore.stderr}`;
  ctx.check(
    `restore: npm run vault-restore -- staging <file> --force --execute (vault ${restoreArgs("<file>", { force: true }).join(" ")}) with the new cluster's root token: exit 0, sends the operator to its Unseal step`,
    restore.status === 0 && restoreOut.includes("restored; Vault is sealed: continue with step 'Unseal'"),
    `exit ${restore.status}; ${restoreOut.trim().split("\n").slice(-3).join(" | ").slice(0, 300)}`,
  );
  // Vault then runs on the snapshot's keyring: sealed, it needs the OLD unseal key.
  let sealedAfter: boolean | undefined;
  await waitFor(
    "restored node1 sealed, or answering the old root token",
    async () => {
      sealedAfter = await sealed(b[0], ca);
      return sealedAfter === true || (sealedAfter === false && (await oldRoot.raw("GET", "auth/token/lookup-self")).status === 200);
    },
    60_000,
    250,
    b[0].process,
  );
  summary.figures.sealedAfterRestore = sealedAfter === true;
  if (sealedAfter) await unsealNode(b[0], ca, unsealKey);
  await waitFor("restored node1 active", async () => (await health(b[0], ca)) === 200, 60_000, 250, b[0].process);
  const restored = await readAll(oldRoot, seeded.reads);
  summary.figures.restoreSeconds = Math.round(Date.now() - tr) / 1000;
  summary.timings["restore: command to data readable (unseal with the old key included)"] = secondsSince(tr);
  ctx.check(
    "restore: the old unseal key unseals the restored node, the old root token works, the new one is gone",
    (await oldRoot.raw("GET", "auth/token/lookup-self")).status === 200 && (await newRoot.raw("GET", "auth/token/lookup-self")).status === 403,
    `sealed after the restore: ${String(sealedAfter)}; new root token lookup-self: ${(await newRoot.raw("GET", "auth/token/lookup-self")).status}`,
  );

  await timed(ctx, "restore: node2 and node3 joined (old key), autopilot healthy", async () => {
    for (const n of b.slice(1)) {
      await startNode(bin, n, ca, logs("cluster-b"), true);
      await unsealNode(n, ca, unsealKey);
    }
    await waitAutopilot("restored cluster", oldRoot);
  });
  summary.figures.restoreToThreeVotersSeconds = Math.round(Date.now() - tr) / 1000;

  const after = await readAll(oldRoot, seeded.reads);
  for (const [kind, r] of compare(seeded.reads, before, restored)) {
    const again = compare(
      seeded.reads.filter((x) => x.kind === kind),
      before,
      after,
    ).get(kind);
    ctx.check(
      `restore: every ${kind} is back (${r.same} of ${r.total}, still ${again?.same ?? 0} of ${r.total} on the rejoined cluster)`,
      r.same === r.total && again?.same === r.total,
      [...r.different, ...(again?.different ?? [])].join("; ").slice(0, 400) ||
        seeded.reads
          .filter((x) => x.kind === kind)
          .map((x) => x.path)
          .join(", "),
    );
  }
  const kvValues = (after.get(seeded.kv.path) ?? {}) as Record<string, string>;
  ctx.check(
    `restore: the KV values are the ones written (${Object.keys(seeded.kv.values).length} keys)`,
    isDeepStrictEqual(kvValues, seeded.kv.values),
    `${Object.keys(kvValues).length} keys read`,
  );
  const gone = [
    `KV written after the snapshot: ${(await oldRoot.raw("GET", "secret/data/rehearsal/after-snapshot")).status}`,
    `policy written after the snapshot: ${(await oldRoot.raw("GET", "sys/policies/acl/after-snapshot")).status}`,
    `token issued after the snapshot: ${(await client(b[0], ca, afterToken).raw("GET", "auth/token/lookup-self")).status}`,
  ];
  ctx.check(
    "restore: what was written after the snapshot is gone (KV 404, policy 404, token 403)",
    gone[0].endsWith(": 404") && gone[1].endsWith(": 404") && gone[2].endsWith(": 403"),
    gone.join("; "),
  );
  await leases?.afterRotations(oldRoot);
  await leases?.afterRestore(oldRoot, restoreOut);
  // What the rolls must leave as it is: the restored data, with the runbook's fixes (the static role rotated again).
  const beforeRolls = await readAll(oldRoot, seeded.reads);

  // d. Rolling restarts in vault-roll's order, under load: as HashiCorp's guide has it (the
  // leader's graceful shutdown hands over leadership), then with vault-roll --step-down.
  for (const stepDown of [false, true]) await roll(ctx, { nodes: b, ca, rootToken, unsealKey, logs, stepDown });
  const finalAp = await autopilotHttp(oldRoot.withToken(rootToken));
  const finalReads = await readAll(client((await leaderOf(b, ca)) ?? b[0], ca, rootToken), seeded.reads);
  const finalSame = compare(seeded.reads, beforeRolls, finalReads);
  const changed = [...finalSame.values()].flatMap((r) => r.different);
  ctx.check(
    "roll: afterwards autopilot is healthy and every restored item reads as before the rolls",
    finalAp.ok && changed.length === 0,
    `${finalAp.reason}${changed.length ? `; changed: ${changed.join("; ").slice(0, 300)}` : ""}`,
  );

  // e. The snapshot CronJob as a cluster runs it, against the rolled cluster.
  await cronJobRehearsal(ctx, { bin, root, logDir: logs("cronjob"), ca, nodes: b, vaultRoot: oldRoot.withToken(rootToken) });

  // f. The runbook's seal migration, Shamir to an auto-unseal seal (a transit key stands in for the KMS).
  // Compared with what the cluster answers just before it (step e pointed the Kubernetes auth at its API server).
  const beforeSeal = await readAll(client((await leaderOf(b, ca)) ?? b[0], ca, rootToken), seeded.reads);
  await sealMigrationRehearsal(ctx, {
    bin,
    root,
    logs,
    ca,
    nodes: b,
    rootToken,
    unsealKey,
    autopilot: async (caughtUp) => autopilotHttp(client((await leaderOf(b, ca)) ?? b[0], ca, rootToken), caughtUp),
    raftIndex: async () => {
      const a = await client((await leaderOf(b, ca)) ?? b[0], ca, rootToken).call("GET", "sys/storage/raft/autopilot/state");
      return leaderIndex(a.data as AutopilotState);
    },
    dataIntact: async (reader) => {
      const now = await readAll(reader ?? client((await leaderOf(b, ca)) ?? b[0], ca, rootToken), seeded.reads);
      const different = [...compare(seeded.reads, beforeSeal, now).values()].flatMap((r) => r.different);
      return { ok: different.length === 0, detail: different.join("; ").slice(0, 400) || `${seeded.reads.length} items read back` };
    },
  });

  // g. `npm run vault-roll` itself, with kubectl, on a StatefulSet's Vault pods (a cluster of its own).
  await podsRollRehearsal(ctx, { bin, root, logDir: logs("pods"), ca });
}

/** One rolling restart of `nodes` in `rollOrder`'s order while a client writes and reads every 100 ms. */
async function roll(
  ctx: Ctx,
  o: { nodes: RaftNode[]; ca: Ca; rootToken: string; unsealKey: string; logs: (phase: string) => string; stepDown: boolean },
): Promise<void> {
  const { bin, summary } = ctx;
  const { nodes: b, ca, rootToken } = o;
  const variant = o.stepDown ? "step-down" : "shutdown";
  const label = o.stepDown ? "roll with --step-down" : "roll (leader's graceful shutdown)";
  const leader = (await leaderOf(b, ca)) as RaftNode;
  const order = rollOrder(
    b.map((n) => n.spec.id),
    leader.spec.id,
    { stepDown: o.stepDown },
  );
  const figure = (name: string, value: number | string) => {
    summary.figures[`${variant}.${name}`] = value;
  };
  figure("order", order.map((s) => `${s.node}${s.leader ? (s.stepDown ? " (leader: step-down, then restart)" : " (leader: restart)") : ""}`).join(", "));
  const addresses = b.map((n) => n.address);
  const load = startLoad(addresses, ca.pem, rootToken, "secret", `rehearsal/${variant}`);
  const monitor = monitorLeader(addresses, ca.pem);
  await sleep(2000);
  const tRoll = Date.now();
  let cliProbes = 0;
  try {
    for (const s of order) {
      const node = b.find((n) => n.spec.id === s.node) as RaftNode;
      await timed(ctx, `${label}: ${s.node}${s.leader ? " (leader)" : " (standby)"}: restart, unseal, autopilot healthy and caught up`, async () => {
        // As vault-roll does: the leader's Raft index before the restart, which the node must report again.
        const via = () => b.find((n) => n !== node && n.process) ?? node;
        const index = leaderIndex(autopilotCli(bin, via(), ca.cert, rootToken));
        if (s.stepDown) {
          const t = Date.now();
          await client(node, ca, rootToken).call("PUT", "sys/step-down");
          await waitFor(`leadership leaves ${s.node}`, async () => ((await leaderOf(b, ca)) ?? node) !== node, 30_000, 100);
          summary.timings[`${label}: ${s.node} step-down until another node leads`] = secondsSince(t);
        }
        await stopNode(node);
        await startNode(bin, node, ca, o.logs(`${variant}-${s.node}`), true);
        await unsealNode(node, ca, o.unsealKey);
        // As vault-roll waits: `vault read -format=json sys/storage/raft/autopilot/state`, judged by autopilotVerdict.
        let last = "";
        await waitFor(
          `${s.node}: autopilot healthy (vault CLI)`,
          async () => {
            cliProbes++;
            const v = autopilotVerdict(autopilotCli(bin, via(), ca.cert, rootToken), VOTERS, { node: s.node, index });
            last = v.reason;
            return v.ok;
          },
          120_000,
          500,
        ).catch((e: Error) => {
          throw new Error(`${e.message} (${last})`);
        });
      });
    }
  } finally {
    await sleep(2000);
    const stats: LoadStats = await load.stop();
    const leaders = await monitor.stop();
    summary.timings[`${label}: all three nodes`] = secondsSince(tRoll);
    Object.assign(summary.figures, loadFigures(variant, stats, leaders, Object.fromEntries(b.map((n) => [n.address, n.spec.id]))));
    ctx.check(
      `${label}: no write or read failed through the client's failover (${stats.writes} writes, ${stats.reads} reads; ${stats.failedRequests} single requests failed and were served by another node)`,
      stats.writes > 0 && stats.failedWrites === 0 && stats.failedReads === 0,
      `failed writes ${stats.failedWrites}, failed reads ${stats.failedReads}, failed requests ${stats.failedRequests} ${String(summary.figures[`${variant}.failedRequestReasons`])}, slowest operation ${stats.maxOperationMs} ms`,
    );
    ctx.check(`${label}: every read returned the last acknowledged write`, stats.staleReads === 0, `${stats.staleReads} stale reads`);
    ctx.check(
      `${label}: the leader changed once, when the leader's turn came (${leaders.changes} change${leaders.changes === 1 ? "" : "s"})`,
      leaders.changes === 1,
      String(summary.figures[`${variant}.leaderHistory`]),
    );
  }
  ctx.check(
    `${label}: in vault-roll's order (standbys, then the leader), autopilot healthy and the node caught up after each (${cliProbes} CLI probes)`,
    order.at(-1)?.node === leader.spec.id && order.slice(0, -1).every((s) => !s.leader && !s.stepDown) && order.at(-1)?.stepDown === o.stepDown,
    String(summary.figures[`${variant}.order`]),
  );
}

async function main(): Promise<void> {
  const tStart = Date.now();
  const out = join(PROJECT_DIR, ".e2e");
  mkdirSync(out, { recursive: true });
  const summaryFile = join(out, "raft-summary.json");
  const root = mkdtempSync(join(tmpdir(), "veza-e2e-raft-"));
  const summary: RaftSummary = {
    ...emptySummary(root),
    figures: {},
    notes: [
      "Restart rehearsal of the upgrade procedure: one Vault build is available here, so each node restarts on the same binary (order, step-down, unseal, autopilot are real; a version change is not).",
      "Shamir keys (1 share) as in staging until step f, which migrates them to an auto-unseal seal: a fourth Vault's transit key stands in for the cloud KMS key (no cloud here), so the awskms/gcpckms/azurekeyvault stanzas and their IAM are not exercised, only the procedure.",
      "The snapshot CronJob runs from the staging program's objects on a real API server and Job controller, with a stand-in kubelet (e2e/kubelet.ts: mount namespace and chroot, this machine's /usr and the built vault in place of the image hashicorp/vault, whose version differs); the forwarder to the leader stands in for the vault-active Service. The production program's S3 upload runs with the AWS CLI v2 (Debian's awscli) against a recorder of STS and S3 on 127.0.0.1:443 (e2e/raft-upload.ts): what the CLI sends is judged against the program's IAM documents, IAM itself is not; GCS and Azure uploads are not rehearsed: no cloud here.",
      "Database: the connection and dynamic roles point at an embedded PostgreSQL bootstrapped with the staging stack's SQL; leases issued and revoked around the snapshot are checked after the restore. The static role and the root credential are rotated after the snapshot and fixed after the restore as the runbook says.",
      "The client fails over across the three node addresses as a load balancer would; standbys forward to the active node.",
      "Step g runs npm run vault-roll itself with kubectl on a StatefulSet's Vault pods: real API server, StatefulSet and EndpointSlice controllers and Vault's service registration; the chart's objects written after vault-helm's templates from the program's values (no pre-stop hook); a stand-in node (e2e/node.ts) for the scheduler, kubelet, DNS and kube-proxy; the operator's unseal through each pod's address.",
    ],
  };
  const vault = findTool(tool("vault"));
  if (!vault) {
    const reason = `e2e: skipped: vault not found (${tool("vault").install})`;
    console.error(reason);
    summary.skipped.push({ what: "the Raft rehearsal", reason });
    rmSync(root, { recursive: true, force: true });
    summary.workDir = "(none)";
    writeFileSync(summaryFile, JSON.stringify(summary, null, 2));
    process.exit(3);
  }
  summary.tools.push({ name: "vault", version: versionOf(vault.path, ["version"]), path: vault.path, from: vault.from });
  const ctx: Ctx = {
    bin: vault.path,
    root,
    summary,
    check(name, ok, detail) {
      summary.checks.push({ name, ok, detail });
      console.error(`e2e:raft: ${ok ? "ok  " : "FAIL"} ${name}${detail ? `: ${detail}` : ""}`);
    },
  };
  try {
    await rehearse(ctx);
  } catch (e) {
    ctx.check("raft rehearsal", false, (e as Error).stack ?? String(e));
  } finally {
    await stopAll();
    await stopLeases?.();
  }
  summary.timings.total = secondsSince(tStart);
  summary.figures.totalSeconds = summary.timings.total;
  const failed = summary.checks.filter((c) => !c.ok).length;
  if (failed === 0 && !process.env.E2E_KEEP) {
    rmSync(root, { recursive: true, force: true });
    summary.workDir = "(removed after a green run; E2E_KEEP=1 keeps it)";
  }
  writeFileSync(summaryFile, JSON.stringify(summary, null, 2));
  printSummary(summary);
  console.log(["  figures", ...Object.entries(summary.figures).map(([k, v]) => `    ${k}: ${String(v)}`)].join("\n"));
  console.log(["  timings (s)", ...Object.entries(summary.timings).map(([k, v]) => `    ${k}: ${v}`)].join("\n"));
  console.log(`  written ${summaryFile} (${readFileSync(summaryFile).length} bytes)`);
  process.exit(failed > 0 ? 1 : 0);
}

void main();
