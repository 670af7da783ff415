/**
 * `npm run vault-roll -- production [--dry-run] [--step-down] [--print-policy] [--from-cli]` (any stack): restart (or, after a
 * chart or image bump, upgrade) an HA Vault's pods one at a time, in the order Vault's HA
 * upgrade guide asks for: every standby first, the leader last. vault-helm's StatefulSet uses
 * `OnDelete` (vault-helm#81), so a new image runs only once each pod is deleted; this script
 * deletes them, and before the next one waits until the new pod is unsealed (its
 * `vault-sealed` label, set by Vault's Kubernetes service registration), Raft autopilot
 * reports the cluster healthy, every voter back and the restarted one caught up, and the pod is
 * Ready (back in the `vault` Service).
 *
 * The leader: by default its pod is deleted like the others, and its graceful shutdown
 * (SIGTERM) hands leadership to an already restarted standby. That is HashiCorp's guide, which
 * since vault#24457 says not to issue a step-down during an upgrade. `--step-down` runs
 * `vault operator step-down` first and waits for another pod to lead (what issue 31 asked for);
 * `npm run e2e:raft` rehearses both and reports the failed requests of each.
 *
 * Needs `kubectl` (context of the stack's cluster) and `vault` on PATH, and `VAULT_ADDR`,
 * `VAULT_TOKEN` (and `VAULT_CACERT`) for an address that survives any one pod going away (the
 * stack's `vault.address`, not a port-forward to one pod). The token needs `read` on
 * `sys/storage/raft/autopilot/state` (and, with `--step-down`, `update` and `sudo` on
 * `sys/step-down`): `rollPolicy`, printed by `--print-policy`.
 * With Shamir keys (no `seal` in the stack), each restarted pod waits for an operator to unseal it.
 *
 * The ordering (`rollOrder`) is the same function `npm run e2e:raft` rehearses on three real
 * Raft nodes.
 */
import { execFileSync } from "node:child_process";
import { VAULT_RELEASE_NAME } from "../components/vault/cluster-args";
import { stackFromArgs } from "./stack-source";

/** One restart: whether the node is the leader, and whether to step it down first. */
export interface RollStep {
  node: string;
  leader: boolean;
  stepDown: boolean;
}

/**
 * The order to restart `nodes` in: the standbys in the order given, then the leader, so that
 * leadership moves once, to a node already restarted (upgraded). `stepDown` steps the leader
 * down before its restart instead of relying on its graceful shutdown. Throws when the leader
 * is not one of the nodes or a node appears twice.
 */
export function rollOrder(nodes: readonly string[], leader: string, o: { stepDown?: boolean } = {}): RollStep[] {
  if (nodes.length === 0) throw new Error("rollOrder: no nodes to roll");
  const seen = new Set<string>();
  for (const n of nodes) {
    if (seen.has(n)) throw new Error(`rollOrder: node "${n}" appears twice`);
    seen.add(n);
  }
  if (!seen.has(leader)) throw new Error(`rollOrder: the leader "${leader}" is not one of ${nodes.join(", ")}`);
  return [
    ...nodes.filter((n) => n !== leader).map((node) => ({ node, leader: false, stepDown: false })),
    { node: leader, leader: true, stepDown: o.stepDown ?? false },
  ];
}

/** Raft autopilot's state as Vault answers `GET sys/storage/raft/autopilot/state` (the `data` object). */
export interface AutopilotState {
  healthy?: boolean;
  failure_tolerance?: number;
  leader?: string;
  voters?: string[];
  servers?: Record<string, { healthy?: boolean; status?: string; node_status?: string; last_contact?: string; last_index?: number }>;
}

/** The leader's last Raft index in `state` (0 when unknown). */
export function leaderIndex(state: AutopilotState): number {
  return (state.leader && state.servers?.[state.leader]?.last_index) || 0;
}

/**
 * Whether the cluster may lose its next node: autopilot healthy, `voters` voters, every server
 * healthy and a voter or the leader, exactly one leader; and, given `caughtUp`, that node has
 * reported a Raft index at least the leader's from before its restart. Without that, a node
 * restarted faster than autopilot's contact threshold could look healthy on its old report.
 * `reason` says what is missing.
 */
export function autopilotVerdict(state: AutopilotState, voters: number, caughtUp?: { node: string; index: number }): { ok: boolean; reason: string } {
  const problems: string[] = [];
  if (caughtUp) {
    const at = state.servers?.[caughtUp.node]?.last_index ?? 0;
    if (at < caughtUp.index) problems.push(`${caughtUp.node} at index ${at}, not yet at ${caughtUp.index} (the leader's before its restart)`);
  }
  if (state.healthy !== true) problems.push("autopilot does not report the cluster healthy");
  const servers = Object.entries(state.servers ?? {});
  const voterCount = (state.voters ?? []).length;
  if (voterCount < voters) problems.push(`${voterCount} voters of ${voters}`);
  for (const [id, s] of servers) {
    if (s.healthy !== true) problems.push(`${id} unhealthy (${s.node_status ?? "?"}, last contact ${s.last_contact ?? "?"})`);
    else if (s.status !== "leader" && s.status !== "voter") problems.push(`${id} is a ${s.status ?? "?"}, not a voter`);
  }
  const leaders = servers.filter(([, s]) => s.status === "leader").length;
  if (leaders !== 1) problems.push(`${leaders} leaders`);
  return problems.length === 0
    ? { ok: true, reason: `healthy: ${voterCount} voters, leader ${state.leader ?? "?"}, failure tolerance ${state.failure_tolerance ?? "?"}` }
    : { ok: false, reason: problems.join("; ") };
}

/**
 * Raft autopilot's settings for a cluster of `voters` voters: a server out of contact for ten
 * minutes is removed (a pod that keeps its node id, as vault-helm's do, rejoins as itself), but
 * never below `min_quorum`, so a three-voter cluster is never pruned to two by a slow restart.
 * `POST sys/storage/raft/autopilot/configuration`, or `vault operator raft autopilot set-config`.
 */
export function autopilotConfiguration(voters: number): { cleanup_dead_servers: boolean; dead_server_last_contact_threshold: string; min_quorum: number } {
  return { cleanup_dead_servers: true, dead_server_last_contact_threshold: "10m", min_quorum: voters };
}

/**
 * The policy (HCL) of the roll's token, and all it needs: autopilot's state; with `--step-down`,
 * the step-down too (`update` and `sudo`). `npm run vault-roll -- <stack> --print-policy [--step-down]`
 * prints it; `npm run e2e:raft` runs the roll with a token of exactly this policy.
 */
export function rollPolicy(o: { stepDown?: boolean } = {}): string {
  const blocks = ['path "sys/storage/raft/autopilot/state" {\n  capabilities = ["read"]\n}'];
  if (o.stepDown) blocks.push('path "sys/step-down" {\n  capabilities = ["update", "sudo"]\n}');
  return `${blocks.join("\n\n")}\n`;
}

/** How the roll asks for autopilot's state: `vault <args>` with VAULT_ADDR and VAULT_TOKEN. */
export const AUTOPILOT_READ_ARGS = ["read", "-format=json", "sys/storage/raft/autopilot/state"] as const;

/** Autopilot's state out of `vault read -format=json sys/storage/raft/autopilot/state`. */
export function parseAutopilotRead(stdout: string): AutopilotState {
  const parsed = JSON.parse(stdout) as { data?: AutopilotState };
  if (!parsed.data) throw new Error("vault read answered without data");
  return parsed.data;
}

/** What the roll does, step by step, for printing and for running. */
export type RollAction =
  | { kind: "preflight"; voters: number }
  | { kind: "step-down"; pod: string }
  | { kind: "delete-pod"; pod: string; leader: boolean }
  | { kind: "wait-unsealed"; pod: string; shamir: boolean }
  | { kind: "wait-autopilot"; voters: number; pod: string }
  | { kind: "wait-ready"; pod: string };

/**
 * The roll of an installed HA Vault: preflight, then per pod (standbys first) delete, unsealed,
 * autopilot healthy, Ready. Ready comes last because the readiness probe runs every 5 s: in
 * `npm run e2e:raft` the roll deleted the leader 1.5 s before the restarted standby was back in
 * the `vault` Service, which left one of three pods serving.
 */
export function rollPlan(pods: readonly string[], leader: string, o: { shamir: boolean; voters: number; stepDown?: boolean }): RollAction[] {
  const actions: RollAction[] = [{ kind: "preflight", voters: o.voters }];
  for (const step of rollOrder(pods, leader, { stepDown: o.stepDown })) {
    if (step.stepDown) actions.push({ kind: "step-down", pod: step.node });
    actions.push(
      { kind: "delete-pod", pod: step.node, leader: step.leader },
      { kind: "wait-unsealed", pod: step.node, shamir: o.shamir },
      { kind: "wait-autopilot", voters: o.voters, pod: step.node },
      { kind: "wait-ready", pod: step.node },
    );
  }
  return actions;
}

/** The label selector of the release's server pods. */
export const SERVER_PODS = `app.kubernetes.io/name=vault,app.kubernetes.io/instance=${VAULT_RELEASE_NAME},component=server`;

/** One action as the operator would type it. */
export function describeAction(a: RollAction, namespace: string): string {
  switch (a.kind) {
    case "preflight":
      return `check: every pod unsealed (kubectl get pods -n ${namespace} -l ${SERVER_PODS} -L vault-sealed,vault-active), and vault operator raft autopilot state: healthy, ${a.voters} voters`;
    case "step-down":
      return `vault operator step-down   # ${a.pod} is the leader; wait until another pod carries vault-active=true`;
    case "delete-pod":
      return `kubectl delete pod -n ${namespace} ${a.pod} --wait=true   # OnDelete: the StatefulSet recreates it with the current spec${a.leader ? "; the leader goes last, its graceful shutdown hands leadership to a restarted standby" : ""}`;
    case "wait-unsealed":
      return a.shamir
        ? `kubectl exec -ti -n ${namespace} ${a.pod} -- vault operator unseal   # Shamir: repeat to the threshold; then wait for vault-sealed=false on ${a.pod}`
        : `wait for vault-sealed=false on ${a.pod} (auto-unseal)`;
    case "wait-autopilot":
      return `vault operator raft autopilot state   # wait for Healthy: true with ${a.voters} voters, ${a.pod} caught up to the leader's index from before its restart`;
    case "wait-ready":
      return `kubectl wait pod -n ${namespace} ${a.pod} --for=condition=Ready --timeout=300s   # back in the vault Service before the next pod goes`;
  }
}

interface Pod {
  name: string;
  uid: string;
  labels: Record<string, string>;
}

function kubectl(args: string[]): string {
  return execFileSync("kubectl", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 330_000 });
}

function serverPods(namespace: string): Pod[] {
  const list = JSON.parse(kubectl(["get", "pods", "-n", namespace, "-l", SERVER_PODS, "-o", "json"])) as {
    items: { metadata: { name: string; uid: string; labels?: Record<string, string> } }[];
  };
  return list.items.map((p) => ({ name: p.metadata.name, uid: p.metadata.uid, labels: p.metadata.labels ?? {} })).sort((a, b) => a.name.localeCompare(b.name));
}

function autopilot(): AutopilotState {
  return parseAutopilotRead(execFileSync("vault", [...AUTOPILOT_READ_ARGS], { encoding: "utf8", timeout: 30_000 }));
}

async function until(what: string, probe: () => boolean | string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    try {
      const r = probe();
      if (r === true) return;
      last = typeof r === "string" ? r : "";
    } catch (e) {
      last = (e as Error).message.split("\n")[0];
    }
    await new Promise((r) => setTimeout(r, 3000));
  }
  throw new Error(`${what}: not done after ${timeoutMs / 1000} s${last ? ` (last: ${last})` : ""}`);
}

/** What the roll remembers of each pod before deleting it: its uid and the leader's Raft index. */
interface Before {
  uid: string;
  index: number;
}

async function run(a: RollAction, namespace: string, before: Map<string, Before>): Promise<void> {
  console.log(`==> ${describeAction(a, namespace)}`);
  switch (a.kind) {
    case "preflight": {
      const pods = serverPods(namespace);
      const sealed = pods.filter((p) => p.labels["vault-sealed"] !== "false").map((p) => p.name);
      if (sealed.length > 0) throw new Error(`preflight: ${sealed.join(", ")} not unsealed; fix that before rolling`);
      const v = autopilotVerdict(autopilot(), a.voters);
      if (!v.ok) throw new Error(`preflight: ${v.reason}`);
      console.log(`    ${v.reason}`);
      return;
    }
    case "step-down": {
      execFileSync("vault", ["operator", "step-down"], { stdio: "inherit", timeout: 60_000 });
      await until(
        `another pod than ${a.pod} becomes active`,
        () => {
          const active = serverPods(namespace).filter((p) => p.labels["vault-active"] === "true");
          return (active.length === 1 && active[0].name !== a.pod) || `active: ${active.map((p) => p.name).join(", ") || "none"}`;
        },
        120_000,
      );
      return;
    }
    case "delete-pod":
      before.set(a.pod, { uid: serverPods(namespace).find((p) => p.name === a.pod)?.uid ?? "", index: leaderIndex(autopilot()) });
      kubectl(["delete", "pod", "-n", namespace, a.pod, "--wait=true", "--timeout=300s"]);
      return;
    case "wait-unsealed":
      await until(
        `${a.pod} recreated and unsealed`,
        () => {
          const p = serverPods(namespace).find((x) => x.name === a.pod);
          if (!p || p.uid === before.get(a.pod)?.uid) return "not recreated yet";
          return (
            p.labels["vault-sealed"] === "false" ||
            `vault-sealed=${p.labels["vault-sealed"] ?? "(not yet registered)"}, version ${p.labels["vault-version"] ?? "?"}`
          );
        },
        a.shamir ? 30 * 60_000 : 10 * 60_000,
      );
      return;
    case "wait-autopilot":
      await until(
        "autopilot healthy",
        () => {
          const v = autopilotVerdict(autopilot(), a.voters, { node: a.pod, index: before.get(a.pod)?.index ?? 0 });
          return v.ok || v.reason;
        },
        10 * 60_000,
      );
      return;
    case "wait-ready":
      kubectl(["wait", "pod", "-n", namespace, a.pod, "--for=condition=Ready", "--timeout=300s"]);
      return;
  }
}

async function main(argv: string[]): Promise<void> {
  const config = stackFromArgs(argv, "npm run vault-roll");
  const v = config.vault;
  if (!v || v.mode !== "ha" || !v.install) {
    console.error(`stack ${config.stack} has no HA Vault installed by this program: nothing to roll (an external Vault is rolled by its operator)`);
    process.exit(1);
  }
  if (argv.includes("--print-policy")) {
    process.stdout.write(rollPolicy({ stepDown: argv.includes("--step-down") }));
    return;
  }
  const namespace = config.namespaces.vault;
  const dryRun = argv.includes("--dry-run");
  const leaderArg = argv.find((a) => a.startsWith("--leader="))?.slice("--leader=".length);
  let pods: string[];
  let leader: string;
  try {
    const found = serverPods(namespace);
    pods = found.map((p) => p.name);
    const active = found.filter((p) => p.labels["vault-active"] === "true");
    if (active.length !== 1) throw new Error(`${active.length} pods carry vault-active=true (expected 1)`);
    leader = active[0].name;
  } catch (e) {
    if (!dryRun) throw e;
    // A dry run without the cluster: the pods the chart makes, and the leader given (or assumed).
    pods = Array.from({ length: v.replicas }, (_, i) => `${VAULT_RELEASE_NAME}-${i}`);
    leader = leaderArg ?? pods[0];
    console.error(`(no cluster: ${(e as Error).message.split("\n")[0]}; planning for ${pods.join(", ")} with leader ${leader})`);
  }
  const stepDown = argv.includes("--step-down");
  const plan = rollPlan(pods, leader, { shamir: !v.seal, voters: v.replicas, stepDown });
  if (dryRun) {
    console.log(
      `# vault-roll ${config.stack}: ${namespace}, leader ${leader}, ${v.seal ? `${v.seal.type} auto-unseal` : "Shamir (unseal each restarted pod)"}${stepDown ? ", leader stepped down first" : ""}`,
    );
    plan.forEach((a, i) => console.log(`${String(i + 1).padStart(2)}. ${describeAction(a, namespace)}`));
    return;
  }
  for (const name of ["VAULT_ADDR", "VAULT_TOKEN"])
    if (!process.env[name]) throw new Error(`${name} is not set: the roll reads autopilot's state through Vault's API`);
  const before = new Map<string, Before>();
  for (const a of plan) await run(a, namespace, before);
  console.log(`vault-roll ${config.stack}: done; every pod restarted, autopilot healthy`);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    console.error(`vault-roll: ${(e as Error).message}`);
    process.exit(1);
  });
}
