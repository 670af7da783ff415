/**
 * `npm run vault-restore` (scripts/vault-restore.ts): the CLI arguments `npm run e2e:raft`
 * runs on a wiped cluster, the runbook per seal and database, and the script's refusals.
 */
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RestoreOptions, renderRunbook, restoreArgs, restoreRunbook } from "../scripts/vault-restore";

const STAGING: RestoreOptions = {
  stack: "staging",
  namespace: "vault-system",
  workloadNamespace: "veza-staging",
  file: "vault-raft-20260101T021500Z.snap",
  replicas: 3,
  force: true,
  kvPath: "secret/veza/staging",
  database: {
    mountPath: "database",
    staticRole: "veza-app",
    appGroupRole: "veza_app_group",
    leaseTtl: "1h",
    staticUsername: "veza_app",
    vaultAdminUser: "vault_admin",
  },
};

describe("scripts/vault-restore", () => {
  it("restores with the vault CLI, -force only for a rebuilt cluster", () => {
    assert.deepEqual(restoreArgs("s.snap", { force: true }), ["operator", "raft", "snapshot", "restore", "-force", "s.snap"]);
    assert.deepEqual(restoreArgs("s.snap", { force: false }), ["operator", "raft", "snapshot", "restore", "s.snap"]);
  });

  it("Shamir, rebuilt cluster, database: check, init one pod, restore, unseal with the snapshot's keys, join, verify, rewrite, ESO, credentials", () => {
    const steps = restoreRunbook(STAGING);
    assert.deepEqual(
      steps.map((s) => s.title),
      [
        "Check the snapshot before touching Vault",
        "A rebuilt cluster: initialise vault-0 alone, unseal it with the NEW keys, keep the new root token for the restore",
        "Restore on the leader (-force: the cluster's keys differ from the snapshot's)",
        "Unseal",
        "The other pods join through retry_join once unsealed (Shamir: with the snapshot's keys)",
        "Check the cluster and the data",
        "Write back what changed after the snapshot",
        "External Secrets Operator",
        "Database credentials",
      ],
    );
    assert.deepEqual(steps[0].commands, ["test -s vault-raft-20260101T021500Z.snap", "vault operator raft snapshot inspect vault-raft-20260101T021500Z.snap"]);
    assert.ok(steps[2].commands.includes("vault operator raft snapshot restore -force vault-raft-20260101T021500Z.snap"));
    assert.deepEqual(
      steps[3].commands,
      ["vault-0", "vault-1", "vault-2"].map((p) => `kubectl exec -ti -n vault-system ${p} -- vault operator unseal   # the snapshot's keys, to the threshold`),
    );
    assert.match(steps[3].note ?? "", /unseal keys of the cluster the snapshot was taken from/);
    assert.deepEqual(steps[6].commands, ["pulumi refresh --stack staging --yes && pulumi up --stack staging"]);
    assert.match(steps[7].note ?? "", /keeps the Kubernetes Secrets it already wrote/);
    const db = steps[8];
    assert.equal(db.commands[0], "vault write -f database/rotate-role/veza-app   # the restored Vault may hold a password PostgreSQL no longer accepts");
    // Run on a real PostgreSQL in components/vault/database-sql-bootstrap.test.ts and by npm run e2e:raft.
    assert.equal(
      db.commands[1],
      `psql -c "SELECT r.rolname, r.rolvaliduntil FROM pg_catalog.pg_roles r WHERE r.rolcanlogin AND NOT r.rolsuper AND r.rolname NOT IN ('veza_app', 'vault_admin') AND pg_catalog.pg_has_role(r.oid, 'veza_app_group', 'MEMBER') ORDER BY r.rolname"`,
    );
    assert.match(
      db.note ?? "",
      /unknown to the restored Vault: it will never revoke them, and they stay valid in PostgreSQL until their VALID UNTIL \(at most 1h after issue/,
    );
  });

  it("auto-unseal, same cluster, no database: no init, no -force, no unseal commands, no database step", () => {
    const steps = restoreRunbook({ ...STAGING, stack: "production", force: false, sealType: "awskms", database: undefined });
    assert.deepEqual(
      steps.map((s) => s.title),
      [
        "Check the snapshot before touching Vault",
        "Restore on the leader (same cluster)",
        "Unseal",
        "Check the cluster and the data",
        "Write back what changed after the snapshot",
        "External Secrets Operator",
      ],
    );
    assert.ok(steps[1].commands.includes("vault operator raft snapshot restore vault-raft-20260101T021500Z.snap"));
    assert.deepEqual(steps[2].commands, ["kubectl get pods -n vault-system -l vault-sealed=false"]);
    assert.match(steps[2].note ?? "", /SAME key that sealed the snapshot's cluster/);
    assert.match(renderRunbook(steps), /^1\. Check the snapshot before touching Vault\n {5}test -s /);
  });

  describe("npm run vault-restore", () => {
    const run = (args: string[]) =>
      spawnSync(process.execPath, ["--require", require.resolve("tsx/cjs"), join(__dirname, "..", "scripts", "vault-restore.ts"), ...args], {
        cwd: join(__dirname, ".."),
        env: { ...process.env, PATH: "/nonexistent", VAULT_ADDR: "", VAULT_TOKEN: "" },
        encoding: "utf8",
        timeout: 60_000,
      });

    it("prints staging's runbook; refuses an empty file before any Vault call; refuses dev mode and a missing file argument", () => {
      const printed = run(["staging", "snap.snap", "--force"]);
      assert.equal(printed.status, 0, printed.stderr);
      assert.match(printed.stdout, /^# Restore of staging's Vault from snap\.snap/);
      assert.match(printed.stdout, /vault operator raft snapshot restore -force snap\.snap/);
      assert.match(
        printed.stdout,
        /psql -c "SELECT r\.rolname, r\.rolvaliduntil FROM pg_catalog\.pg_roles r WHERE .*pg_has_role\(r\.oid, 'veza_app_group', 'MEMBER'\)/,
      );
      const empty = join(mkdtempSync(join(tmpdir(), "vault-restore-")), "empty.snap");
      writeFileSync(empty, "");
      const refused = run(["staging", empty, "--execute"]);
      assert.equal(refused.status, 1);
      assert.match(refused.stderr, /vault-restore: .*empty\.snap is missing or empty/);
      const dev = run(["development", "x.snap"]);
      assert.equal(dev.status, 1);
      assert.match(dev.stderr, /runs no HA Vault/);
      const usage = run(["staging"]);
      assert.equal(usage.status, 2);
      assert.match(usage.stderr, /usage: npm run vault-restore -- <stack> <snapshot-file>/);
    });
  });
});
