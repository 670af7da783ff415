/**
 * `npm run vault-restore -- production vault.snap [--execute] [--force] [--from-cli]` (any stack and snapshot file): the
 * restore runbook of a stack's HA Vault (docs/vault-operations.md), printed step by step; with
 * `--execute`, it also runs the part that is safe to automate: check the file (non-empty,
 * `vault operator raft snapshot inspect` reads it), `vault operator raft snapshot restore`
 * against `VAULT_ADDR` with `VAULT_TOKEN`, and wait until Vault answers again. Unsealing,
 * rejoining pods and the database clean-up stay with the operator: they need keys or judgement.
 *
 * `--force` restores into a cluster that was initialised anew (other keys than the snapshot's):
 * Vault refuses such a snapshot without it. Never use it to "make an error go away" on a live
 * cluster: it would also accept another environment's snapshot.
 *
 * `npm run e2e:raft` runs the same `restoreArgs` with the real `vault` CLI on a wiped cluster.
 */
import { execFileSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { VAULT_RELEASE_NAME } from "../components/vault/cluster-args";
import { applicationLoginsSql } from "../components/vault/database-sql";
import { DATABASE_ENGINE, staticRoleName } from "../stacks/database";
import { stackFromArgs } from "./stack-source";

/** The `vault` CLI arguments of the restore. */
export function restoreArgs(file: string, o: { force: boolean }): string[] {
  return ["operator", "raft", "snapshot", "restore", ...(o.force ? ["-force"] : []), file];
}

export interface RestoreOptions {
  stack: string;
  namespace: string;
  file: string;
  replicas: number;
  /** The stack's seal: undefined for Shamir keys. */
  sealType?: string;
  /** The Raft cluster was initialised anew (restore with `-force`). */
  force: boolean;
  /** The stack has the database engine (dynamic logins, static role). */
  database?: { mountPath: string; staticRole: string; appGroupRole: string; leaseTtl: string; staticUsername: string; vaultAdminUser: string };
  /** KV path of the environment's secret, e.g. `secret/veza/staging`. */
  kvPath: string;
  workloadNamespace: string;
}

export interface RunbookStep {
  title: string;
  commands: string[];
  note?: string;
}

/** The restore runbook of one stack, in order. */
export function restoreRunbook(o: RestoreOptions): RunbookStep[] {
  const pods = Array.from({ length: o.replicas }, (_, i) => `${VAULT_RELEASE_NAME}-${i}`);
  const leader = pods[0];
  const unseal = o.sealType
    ? `auto-unseal (${o.sealType}): the pods unseal themselves, with the SAME key that sealed the snapshot's cluster; a different key cannot decrypt the restored keyring.`
    : "Shamir: when vault status shows Sealed: true (it does after a -force restore, as npm run e2e:raft rehearses), unseal with the unseal keys of the cluster the snapshot was taken from (the snapshot carries its keyring), not the new cluster's.";
  const steps: RunbookStep[] = [
    {
      title: "Check the snapshot before touching Vault",
      commands: [`test -s ${o.file}`, `vault operator raft snapshot inspect ${o.file}`],
      note: "An empty or unreadable file stops here.",
    },
  ];
  if (o.force)
    steps.push({
      title: `A rebuilt cluster: initialise ${leader} alone, unseal it with the NEW keys, keep the new root token for the restore`,
      commands: [
        `kubectl exec -n ${o.namespace} ${leader} -- vault operator init -key-shares=5 -key-threshold=3   # keep this output: it is only needed until the restore`,
        ...(o.sealType ? [] : [`kubectl exec -ti -n ${o.namespace} ${leader} -- vault operator unseal   # the NEW keys, to the threshold`]),
      ],
      note: "Only the first pod: the others join after the restore (their data directories must be empty).",
    });
  steps.push(
    {
      title: `Restore on the leader (${o.force ? "-force: the cluster's keys differ from the snapshot's" : "same cluster"})`,
      commands: [
        `export VAULT_ADDR=https://127.0.0.1:8200 VAULT_CACERT=ca.crt   # e.g. kubectl port-forward -n ${o.namespace} ${leader} 8200`,
        `export VAULT_TOKEN=...   # ${o.force ? "the new cluster's root token" : "a token with update on sys/storage/raft/snapshot"}`,
        `vault ${restoreArgs(o.file, { force: o.force }).join(" ")}`,
      ],
      note: "Every token issued after the snapshot is gone; the snapshot's own tokens (including its root token, if one was kept) are valid again.",
    },
    {
      title: "Unseal",
      commands: o.sealType
        ? [`kubectl get pods -n ${o.namespace} -l vault-sealed=false`]
        : pods.map((p) => `kubectl exec -ti -n ${o.namespace} ${p} -- vault operator unseal   # the snapshot's keys, to the threshold`),
      note: unseal,
    },
  );
  if (o.force)
    steps.push({
      title: "The other pods join through retry_join once unsealed (Shamir: with the snapshot's keys)",
      commands: pods
        .slice(1)
        .map(
          (p) =>
            `kubectl delete pvc -n ${o.namespace} data-${p} --wait=false && kubectl delete pod -n ${o.namespace} ${p}   # only if ${p} holds data from before the restore`,
        ),
      note: "A pod with an empty data directory joins as a new peer and receives the restored data from the leader.",
    });
  steps.push(
    {
      title: "Check the cluster and the data",
      commands: [
        "vault operator raft list-peers",
        "vault operator raft autopilot state   # Healthy: true, every voter",
        `vault kv metadata get ${o.kvPath}   # versions and times, no values`,
        "vault policy list && vault auth list",
      ],
    },
    {
      title: "Write back what changed after the snapshot",
      commands: [`pulumi refresh --stack ${o.stack} --yes && pulumi up --stack ${o.stack}`],
      note: "KV writes, policies and roles made after the snapshot are gone; the program rewrites its own. Anything written by hand since is lost.",
    },
    {
      title: "External Secrets Operator",
      commands: [
        `kubectl annotate externalsecret -n ${o.workloadNamespace} --all force-sync=$(date +%s) --overwrite   # or wait for the next refresh`,
        `kubectl get externalsecret -n ${o.workloadNamespace}`,
      ],
      note: "ESO keeps the Kubernetes Secrets it already wrote (pods keep working) and logs in again with its ServiceAccount at the next sync: its old Vault tokens may be gone.",
    },
  );
  if (o.database)
    steps.push({
      title: "Database credentials",
      commands: [
        `vault write -f ${o.database.mountPath}/rotate-role/${o.database.staticRole}   # the restored Vault may hold a password PostgreSQL no longer accepts`,
        `psql -c "${applicationLoginsSql(o.database)}"`,
      ],
      note:
        `Dynamic logins issued after the snapshot are unknown to the restored Vault: it will never revoke them, and they stay valid in PostgreSQL until their VALID UNTIL (at most ${o.database.leaseTtl} after issue, or later if renewed). ` +
        "The query lists every login holding the application's roles (through a service's role too), with its VALID UNTIL. " +
        "Once ESO has given every service a new login (force-sync above, Reloader restarts the pods), DROP ROLE those created after the snapshot (Vault's default username ends with its unix creation time). " +
        "Leases revoked after the snapshot are back and will be revoked again at expiry; the revocation SQL is idempotent. " +
        `If the connection's root password was rotated after the snapshot, the DBA sets a new one and it is written with vault write ${o.database.mountPath}/config/<connection> password=..., then rotate-root.`,
    });
  return steps;
}

/** The runbook as text. */
export function renderRunbook(steps: RunbookStep[]): string {
  return steps.map((s, i) => [`${i + 1}. ${s.title}`, ...s.commands.map((c) => `     ${c}`), ...(s.note ? [`   ${s.note}`] : [])].join("\n")).join("\n\n");
}

async function main(argv: string[]): Promise<void> {
  const config = stackFromArgs(argv, "npm run vault-restore");
  const file = argv.filter((a) => !a.startsWith("--"))[1];
  if (!file) {
    console.error("usage: npm run vault-restore -- <stack> <snapshot-file> [--execute] [--force] [--from-cli]");
    process.exit(2);
  }
  const v = config.vault;
  if (!v || v.mode !== "ha") {
    console.error(`stack ${config.stack} runs no HA Vault (dev mode keeps everything in memory): there is nothing to restore`);
    process.exit(1);
  }
  const force = argv.includes("--force");
  const db = config.database;
  const steps = restoreRunbook({
    stack: config.stack,
    namespace: config.namespaces.vault,
    workloadNamespace: config.namespaces.workloads,
    file,
    replicas: v.replicas,
    ...(v.seal ? { sealType: v.seal.type } : {}),
    force,
    kvPath: `secret/veza/${config.environment}`,
    ...(db
      ? {
          database: {
            mountPath: DATABASE_ENGINE.mountPath,
            staticRole: staticRoleName(db.appUsername),
            appGroupRole: db.appGroupRole,
            leaseTtl: db.defaultTtl,
            staticUsername: db.appUsername,
            vaultAdminUser: db.adminUsername,
          },
        }
      : {}),
  });
  console.log(`# Restore of ${config.stack}'s Vault from ${file} (docs/vault-operations.md)\n`);
  console.log(renderRunbook(steps));
  if (!argv.includes("--execute")) return;

  console.log("\n# --execute: checking the file, restoring, waiting for Vault");
  if (!existsSync(file) || statSync(file).size === 0) throw new Error(`${file} is missing or empty`);
  for (const name of ["VAULT_ADDR", "VAULT_TOKEN"]) if (!process.env[name]) throw new Error(`${name} is not set (step 3 of the runbook)`);
  execFileSync("vault", ["operator", "raft", "snapshot", "inspect", file], { stdio: ["ignore", "ignore", "inherit"], timeout: 120_000 });
  execFileSync("vault", restoreArgs(file, { force }), { stdio: "inherit", timeout: 600_000 });
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      // Exit 0 unsealed, 2 sealed: both mean Vault answers.
      execFileSync("vault", ["status"], { stdio: "inherit", timeout: 10_000 });
      console.log("restored; Vault is unsealed: continue with step 'Check the cluster and the data'");
      return;
    } catch (e) {
      if ((e as { status?: number }).status === 2) {
        console.log("restored; Vault is sealed: continue with step 'Unseal'");
        return;
      }
      if (Date.now() > deadline) throw new Error("Vault did not answer within 120 s of the restore; check the pods' logs", { cause: e });
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    console.error(`vault-restore: ${(e as Error).message}`);
    process.exit(1);
  });
}
