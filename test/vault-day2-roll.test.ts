/**
 * `npm run vault-roll` (scripts/vault-roll.ts): the order (standbys, then the leader after a
 * step-down), autopilot's verdict on states shaped as Vault 1.21 answers them (captured from
 * the e2e's build), the plan it prints, and the dry run of the committed stacks. The same
 * `rollOrder` and `autopilotVerdict` drive `npm run e2e:raft` on three real nodes.
 */
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import {
  AUTOPILOT_READ_ARGS,
  type AutopilotState,
  autopilotConfiguration,
  autopilotVerdict,
  describeAction,
  leaderIndex,
  parseAutopilotRead,
  rollOrder,
  rollPlan,
  rollPolicy,
} from "../scripts/vault-roll";
import { policyPaths } from "../components/vault/policy-hcl";

const server = (id: string, status: string, o: { healthy?: boolean; index?: number; contact?: string } = {}) => ({
  address: `127.0.0.1:${8201 + Number(id.slice(-1))}`,
  healthy: o.healthy ?? true,
  id,
  last_contact: o.contact ?? (status === "leader" ? "0s" : "1.3s"),
  last_index: o.index ?? 41,
  last_term: 3,
  name: id,
  node_status: o.healthy === false ? "left" : "alive",
  node_type: "voter",
  stable_since: "2026-12-06T04:05:27.456914971Z",
  status,
  version: "1.21.4",
});

/** `vault read -format=json sys/storage/raft/autopilot/state` of Vault 1.21.4, 15 s after two nodes joined: healthy, yet one voter. */
const JOINING = JSON.stringify({
  request_id: "d2550ee6-1382-0de3-22d5-5e255f02c4b8",
  lease_id: "",
  lease_duration: 0,
  renewable: false,
  data: {
    failure_tolerance: 0,
    healthy: true,
    leader: "vault-0",
    servers: { "vault-0": server("vault-0", "leader"), "vault-1": server("vault-1", "non-voter"), "vault-2": server("vault-2", "non-voter") },
    voters: ["vault-0"],
  },
  warnings: null,
  mount_type: "system",
});

const HEALTHY: AutopilotState = {
  failure_tolerance: 1,
  healthy: true,
  leader: "vault-1",
  servers: { "vault-0": server("vault-0", "voter"), "vault-1": server("vault-1", "leader", { index: 57 }), "vault-2": server("vault-2", "voter") },
  voters: ["vault-0", "vault-1", "vault-2"],
};

describe("scripts/vault-roll", () => {
  describe("rollOrder", () => {
    const show = (order: ReturnType<typeof rollOrder>) =>
      order.map((s) => `${s.node}${s.leader ? (s.stepDown ? " (leader, step-down)" : " (leader)") : ""}`).join(", ");
    for (const [nodes, leader, expected] of [
      [["vault-0", "vault-1", "vault-2"], "vault-0", "vault-1, vault-2, vault-0 (leader)"],
      [["vault-0", "vault-1", "vault-2"], "vault-1", "vault-0, vault-2, vault-1 (leader)"],
      [["vault-0", "vault-1", "vault-2"], "vault-2", "vault-0, vault-1, vault-2 (leader)"],
      [["node3", "node1", "node2", "node4", "node5"], "node4", "node3, node1, node2, node5, node4 (leader)"],
      [["solo"], "solo", "solo (leader)"],
    ] as [string[], string, string][]) {
      it(`rolls ${nodes.join(", ")} with leader ${leader}: ${expected}`, () => {
        const order = rollOrder(nodes, leader);
        assert.equal(show(order), expected);
        // Every node exactly once; the leader once, last, and no step-down unless asked for.
        assert.deepEqual(order.map((s) => s.node).sort(), [...nodes].sort());
        assert.deepEqual(
          order.filter((s) => s.leader),
          [{ node: leader, leader: true, stepDown: false }],
        );
        assert.equal(order.at(-1)?.node, leader);
        const stepped = rollOrder(nodes, leader, { stepDown: true });
        assert.equal(show(stepped), expected.replace("(leader)", "(leader, step-down)"));
        assert.deepEqual(
          stepped.filter((s) => s.stepDown),
          [{ node: leader, leader: true, stepDown: true }],
        );
      });
    }

    for (const [nodes, leader, message] of [
      [["vault-0", "vault-1"], "vault-9", 'rollOrder: the leader "vault-9" is not one of vault-0, vault-1'],
      [["vault-0", "vault-0", "vault-1"], "vault-1", 'rollOrder: node "vault-0" appears twice'],
      [[], "vault-0", "rollOrder: no nodes to roll"],
    ] as [string[], string, string][]) {
      it(`refuses ${JSON.stringify(nodes)} with leader ${leader}`, () => {
        assert.throws(() => rollOrder(nodes, leader), { message });
      });
    }
  });

  describe("autopilotVerdict", () => {
    it("reads the CLI's JSON and refuses a cluster autopilot calls healthy while two servers are still non-voters", () => {
      const state = parseAutopilotRead(JOINING);
      assert.equal(state.healthy, true);
      assert.deepEqual(autopilotVerdict(state, 3), {
        ok: false,
        reason: "1 voters of 3; vault-1 is a non-voter, not a voter; vault-2 is a non-voter, not a voter",
      });
      assert.deepEqual(AUTOPILOT_READ_ARGS, ["read", "-format=json", "sys/storage/raft/autopilot/state"]);
      assert.throws(() => parseAutopilotRead('{"errors":["permission denied"]}'), { message: "vault read answered without data" });
    });

    it("passes three healthy voters with one leader", () => {
      assert.deepEqual(autopilotVerdict(HEALTHY, 3), { ok: true, reason: "healthy: 3 voters, leader vault-1, failure tolerance 1" });
    });

    it("refuses an unhealthy server, no leader, or a restarted node that has not reported the leader's index from before its restart", () => {
      const down: AutopilotState = {
        ...HEALTHY,
        healthy: false,
        servers: { ...HEALTHY.servers, "vault-0": server("vault-0", "voter", { healthy: false, contact: "12s" }) },
      };
      assert.deepEqual(autopilotVerdict(down, 3), {
        ok: false,
        reason: "autopilot does not report the cluster healthy; vault-0 unhealthy (left, last contact 12s)",
      });
      const leaderless: AutopilotState = { ...HEALTHY, servers: { ...HEALTHY.servers, "vault-1": server("vault-1", "voter") } };
      assert.deepEqual(autopilotVerdict(leaderless, 3), { ok: false, reason: "0 leaders" });
      assert.equal(leaderIndex(HEALTHY), 57);
      assert.equal(leaderIndex({}), 0);
      assert.deepEqual(autopilotVerdict(HEALTHY, 3, { node: "vault-0", index: 50 }), {
        ok: false,
        reason: "vault-0 at index 41, not yet at 50 (the leader's before its restart)",
      });
      assert.equal(autopilotVerdict(HEALTHY, 3, { node: "vault-0", index: 41 }).ok, true);
      assert.equal(autopilotVerdict(HEALTHY, 3, { node: "vault-9", index: 1 }).ok, false);
    });

    it("sets dead-server cleanup that never prunes below the voters", () => {
      assert.deepEqual(autopilotConfiguration(3), { cleanup_dead_servers: true, dead_server_last_contact_threshold: "10m", min_quorum: 3 });
    });
  });

  describe("rollPlan", () => {
    const kinds = (plan: ReturnType<typeof rollPlan>) => plan.map((a) => `${a.kind}${"pod" in a ? ` ${a.pod}` : ""}`);
    it("checks first, then per pod: delete, unsealed, autopilot caught up, Ready; the leader last, by its graceful shutdown", () => {
      const plan = rollPlan(["vault-0", "vault-1", "vault-2"], "vault-1", { shamir: true, voters: 3 });
      assert.deepEqual(kinds(plan), [
        "preflight",
        "delete-pod vault-0",
        "wait-unsealed vault-0",
        "wait-autopilot vault-0",
        "wait-ready vault-0",
        "delete-pod vault-2",
        "wait-unsealed vault-2",
        "wait-autopilot vault-2",
        "wait-ready vault-2",
        "delete-pod vault-1",
        "wait-unsealed vault-1",
        "wait-autopilot vault-1",
        "wait-ready vault-1",
      ]);
      assert.equal(
        describeAction(plan[1], "vault"),
        "kubectl delete pod -n vault vault-0 --wait=true   # OnDelete: the StatefulSet recreates it with the current spec",
      );
      assert.match(describeAction(plan[9], "vault"), /the leader goes last, its graceful shutdown hands leadership to a restarted standby$/);
      assert.match(describeAction(plan[2], "vault"), /^kubectl exec -ti -n vault vault-0 -- vault operator unseal/);
      assert.equal(describeAction({ kind: "wait-unsealed", pod: "vault-0", shamir: false }, "vault"), "wait for vault-sealed=false on vault-0 (auto-unseal)");
      assert.equal(
        describeAction(plan[4], "vault"),
        "kubectl wait pod -n vault vault-0 --for=condition=Ready --timeout=300s   # back in the vault Service before the next pod goes",
      );
    });

    it("with stepDown, steps the leader down just before deleting it", () => {
      const plan = rollPlan(["vault-0", "vault-1", "vault-2"], "vault-1", { shamir: false, voters: 3, stepDown: true });
      assert.deepEqual(kinds(plan).slice(-5), [
        "step-down vault-1",
        "delete-pod vault-1",
        "wait-unsealed vault-1",
        "wait-autopilot vault-1",
        "wait-ready vault-1",
      ]);
      assert.equal(plan.filter((a) => a.kind === "step-down").length, 1);
    });
  });

  describe("npm run vault-roll", () => {
    const run = (args: string[]) =>
      spawnSync(process.execPath, ["--require", require.resolve("tsx/cjs"), join(__dirname, "..", "scripts", "vault-roll.ts"), ...args], {
        cwd: join(__dirname, ".."),
        // No kubectl on this PATH: the dry run plans from the stack alone.
        env: { ...process.env, PATH: "/nonexistent" },
        encoding: "utf8",
        timeout: 60_000,
      });

    it("dry run of staging (Shamir) and production (AWS KMS) without a cluster: the order and the unseal step", () => {
      const staging = run(["staging", "--dry-run", "--leader=vault-2"]);
      assert.equal(staging.status, 0, staging.stderr);
      const lines = staging.stdout.trim().split("\n");
      assert.equal(lines[0], "# vault-roll staging: vault-system, leader vault-2, Shamir (unseal each restarted pod)");
      assert.deepEqual(
        lines.filter((l) => /kubectl delete pod|step-down/.test(l)).map((l) => l.replace(/\s+#.*$/, "").trim()),
        [
          "2. kubectl delete pod -n vault-system vault-0 --wait=true",
          "6. kubectl delete pod -n vault-system vault-1 --wait=true",
          "10. kubectl delete pod -n vault-system vault-2 --wait=true",
        ],
      );
      const stepped = run(["staging", "--dry-run", "--leader=vault-2", "--step-down"]);
      assert.match(stepped.stdout, /^# vault-roll staging: vault-system, leader vault-2, Shamir \(unseal each restarted pod\), leader stepped down first$/m);
      assert.match(stepped.stdout, /^10\. vault operator step-down/m);
      const production = run(["production", "--dry-run"]);
      assert.equal(production.status, 0, production.stderr);
      assert.match(production.stdout, /^# vault-roll production: vault-system, leader vault-0, awskms auto-unseal$/m);
      assert.match(production.stdout, /wait for vault-sealed=false on vault-1 \(auto-unseal\)/);
    });

    it("prints the roll token's policy: autopilot's state only; with --step-down, the step-down too", () => {
      const plain = run(["staging", "--print-policy"]);
      assert.equal(plain.status, 0, plain.stderr);
      assert.equal(plain.stdout, rollPolicy());
      assert.deepEqual(policyPaths(plain.stdout), [{ path: "sys/storage/raft/autopilot/state", capabilities: ["read"] }]);
      const stepDown = run(["staging", "--print-policy", "--step-down"]);
      assert.deepEqual(policyPaths(stepDown.stdout), [
        { path: "sys/storage/raft/autopilot/state", capabilities: ["read"] },
        { path: "sys/step-down", capabilities: ["update", "sudo"] },
      ]);
    });

    it("refuses a stack without an installed HA Vault, and a real run without the cluster", () => {
      const dev = run(["development", "--dry-run"]);
      assert.equal(dev.status, 1);
      assert.match(dev.stderr, /stack development has no HA Vault installed by this program: nothing to roll/);
      const real = run(["staging"]);
      assert.equal(real.status, 1);
      assert.match(real.stderr, /^vault-roll: /m);
    });
  });
});
