/**
 * What the real ESO controller (e2e/eso.ts) makes of the program's objects, judged by the API
 * server, Vault and PostgreSQL: every SecretStore validated, every ExternalSecret synced, each
 * Secret holding exactly its catalog keys with Vault's values (and, in staging, a working
 * per-service database login), a changed value picked up on the rotation job's `force-sync`,
 * and, on a Raft Vault, what a snapshot restore does to the Secrets ESO already wrote.
 */
import { SERVICES, serviceSecretName } from "../components/catalog";
import { applicationLoginsSql, serviceGroupRole } from "../components/vault/database-sql";
import { MIGRATIONS } from "../stacks/database";
import { STACK_DEFAULTS } from "../stacks/defaults";
import type { RunningPostgres } from "../test/postgres";
import { serviceAccountToken } from "./checks";
import { loginError } from "./checks-database";
import { type Condition, readyCondition } from "./eso";
import type { Kube } from "./kube";
import { secondsSince } from "./processes";
import { vaultBytes } from "./raft-http";
import type { Context } from "./run";
import type { VaultClient } from "./vault-client";

const ES_API = "/apis/external-secrets.io/v1";

interface Listed {
  metadata: { name: string };
  status?: { conditions?: Condition[] };
}

async function list(kube: Kube, ns: string, plural: string): Promise<Listed[]> {
  return ((await kube.call("GET", `${ES_API}/namespaces/${ns}/${plural}`)).items ?? []) as Listed[];
}

/** Poll until every object of `plural` is Ready=True (or `timeoutMs`); their names, and the ones that are not, with their reasons. */
async function untilAllReady(kube: Kube, ns: string, plural: string, timeoutMs: number): Promise<{ names: string[]; notReady: string[]; seconds: number }> {
  const t0 = Date.now();
  for (;;) {
    const items = await list(kube, ns, plural);
    const names = items.map((o) => o.metadata.name).sort();
    const notReady = items
      .filter((o) => readyCondition(o)?.status !== "True")
      .map((o) => {
        const c = readyCondition(o);
        return `${o.metadata.name}: ${c ? `${c.reason ?? ""} ${c.message ?? ""}`.trim() : "no Ready condition yet"}`;
      });
    if ((items.length > 0 && notReady.length === 0) || Date.now() - t0 > timeoutMs) return { names, notReady, seconds: secondsSince(t0) };
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function secretData(kube: Kube, ns: string, name: string): Promise<{ data: Record<string, string>; owner?: string } | undefined> {
  const a = await kube.raw("GET", `/api/v1/namespaces/${ns}/secrets/${name}`);
  if (a.status !== 200) return undefined;
  const data = Object.fromEntries(
    Object.entries((a.json.data ?? {}) as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")]),
  );
  const owners = ((a.json.metadata as { ownerReferences?: { kind: string; name: string; controller?: boolean }[] }).ownerReferences ?? []).filter(
    (o) => o.controller,
  );
  return { data, owner: owners.map((o) => `${o.kind}/${o.name}`).join(",") || undefined };
}

/** Poll a Secret's key until it equals `want` (or `timeoutMs`); seconds taken, or undefined when it never did. */
async function untilValue(kube: Kube, ns: string, name: string, key: string, want: string, timeoutMs: number): Promise<number | undefined> {
  return (await untilSecret(kube, ns, name, key, async (v) => v === want, timeoutMs))?.seconds;
}

export interface EsoCheckOptions {
  /** The stack's Kubernetes Secrets and their keys (the program's `kubernetesSecrets` output). */
  secrets: { name: string; keys: string[] }[];
  /** The program's `secretStores` and `externalSecrets` outputs. */
  secretStores: string[];
  externalSecrets: string[];
  /** The node client: only a kubelet may mint the rotation job's token. */
  node: Kube;
  /** Staging: the PostgreSQL the database URLs point at. */
  pg?: RunningPostgres;
  /** Staging: the Raft node's CA, for the snapshot and restore. */
  raftCa?: string;
}

/** The key of `secrets` whose value the ESO checks change in Vault and expect back in the Secret. */
function rotatedKey(secrets: EsoCheckOptions["secrets"], stored: Record<string, unknown>): { secret: string; key: string } {
  const name = serviceSecretName(SERVICES[0]);
  const key = secrets.find((s) => s.name === name)?.keys.find((k) => typeof stored[k] === "string");
  if (!key) throw new Error(`${name} has no key stored in Vault's KV`);
  return { secret: name, key };
}

/** The database logins ESO wrote into Secrets: all of them, and those the restore made Vault forget. */
export interface EsoLogins {
  seen: string[];
  orphans: string[];
}

/** The login names in the database URLs of every Secret. */
async function loginsInSecrets(kube: Kube, ns: string, secrets: EsoCheckOptions["secrets"]): Promise<string[]> {
  const names: string[] = [];
  for (const s of secrets)
    for (const v of Object.values((await secretData(kube, ns, s.name))?.data ?? {}))
      if (v.startsWith("postgresql://")) names.push(decodeURIComponent(new URL(v).username));
  return names;
}

export async function esoChecks(ctx: Context, kube: Kube, root: VaultClient, env: string, ns: string, o: EsoCheckOptions): Promise<EsoLogins> {
  const logins: EsoLogins = { seen: [], orphans: [] };
  const stack = `${env}:`;
  const same = (a: string[], b: string[]) => JSON.stringify(a) === JSON.stringify([...b].sort());
  const stores = await untilAllReady(kube, ns, "secretstores", 60_000);
  ctx.check(
    `${stack} ESO validates every SecretStore (${stores.names.length - stores.notReady.length} of ${stores.names.length} Ready)`,
    o.secretStores.length > 0 && same(stores.names, o.secretStores) && stores.notReady.length === 0,
    stores.notReady.join("; ") || `${stores.names.join(", ")} in ${stores.seconds} s (the program's: ${o.secretStores.join(", ")})`,
  );
  const synced = await untilAllReady(kube, ns, "externalsecrets", 120_000);
  ctx.summary.timings[`${env}: ESO syncs every ExternalSecret`] = synced.seconds;
  ctx.check(
    `${stack} ESO syncs every ExternalSecret (${synced.names.length - synced.notReady.length} of ${synced.names.length} SecretSynced)`,
    o.externalSecrets.length > 0 && same(synced.names, o.externalSecrets) && synced.notReady.length === 0,
    synced.notReady.join("; ").slice(0, 600) || `${synced.names.length} in ${synced.seconds} s (the program's: ${o.externalSecrets.length})`,
  );

  // Each Secret: exactly its keys, Vault's values, owned by its ExternalSecret.
  const stored = ((await root.call("GET", `secret/data/veza/${env}`)).data as { data: Record<string, unknown> }).data;
  const wrong: string[] = [];
  const urls: DatabaseUrl[] = [];
  for (const s of o.secrets) {
    const got = await secretData(kube, ns, s.name);
    if (!got) {
      wrong.push(`${s.name}: no Secret`);
      continue;
    }
    const keys = Object.keys(got.data).sort();
    if (JSON.stringify(keys) !== JSON.stringify([...s.keys].sort())) wrong.push(`${s.name}: keys ${keys.join(",")} (want ${[...s.keys].sort().join(",")})`);
    if (got.owner !== `ExternalSecret/${s.name}`) wrong.push(`${s.name}: controller ${got.owner ?? "none"}`);
    for (const k of s.keys) {
      if (typeof stored[k] === "string") {
        if (got.data[k] !== stored[k]) wrong.push(`${s.name}.${k}: differs from Vault's`);
      } else if (/^postgresql:\/\//.test(got.data[k] ?? "")) urls.push({ secret: s.name, key: k, url: got.data[k] });
      else wrong.push(`${s.name}.${k}: neither in Vault's KV nor a database URL`);
    }
  }
  ctx.check(
    `${stack} each Secret ESO wrote holds exactly its catalog keys, with Vault's values, owned by its ExternalSecret (${o.secrets.length} Secrets)`,
    o.secrets.length > 0 && wrong.length === 0,
    wrong.slice(0, 6).join("; ") || `${o.secrets.reduce((n, s) => n + s.keys.length, 0)} keys`,
  );

  logins.seen.push(...urls.map((u) => decodeURIComponent(new URL(u.url).username)));
  if (o.pg) {
    await databaseUrlCheck(ctx, o.pg, stack, urls);
    await databaseRotationChecks(ctx, kube, root, ns, env, o, o.pg, urls);
    logins.seen.push(...(await loginsInSecrets(kube, ns, o.secrets)));
  }
  const scene: SyncScene = { ctx, kube, root, env, ns, o, stored };
  if (o.raftCa) logins.orphans.push(...(await restoreCheck(scene, o.raftCa)));
  else await forceSyncCheck(scene);
  logins.seen.push(...(await loginsInSecrets(kube, ns, o.secrets)));
  return { seen: [...new Set(logins.seen)].sort(), orphans: [...new Set(logins.orphans)].sort() };
}

/** A database URL ESO templated into a Secret. */
interface DatabaseUrl {
  secret: string;
  key: string;
  url: string;
}

/** Log in with a URL's user and password; the error, or "" when it worked. */
async function urlLoginError(pg: RunningPostgres, url: string): Promise<string> {
  const u = new URL(url);
  return loginError(pg, decodeURIComponent(u.username), decodeURIComponent(u.password), u.pathname.slice(1));
}

/** Staging: every Secret's database URL (a VaultDynamicSecret login, templated by ESO) logs in, as its own service's login. */
async function databaseUrlCheck(ctx: Context, pg: RunningPostgres, stack: string, urls: DatabaseUrl[]): Promise<void> {
  const problems: string[] = [];
  const users = new Map<string, string>();
  for (const { secret, url } of urls) {
    const u = new URL(url);
    const user = decodeURIComponent(u.username);
    const service = SERVICES.find((s) => serviceSecretName(s) === secret);
    if (u.port !== String(pg.port)) problems.push(`${secret}: port ${u.port}, the server's is ${pg.port}`);
    try {
      const c = await pg.connect({ user, password: decodeURIComponent(u.password), database: u.pathname.slice(1) });
      const r = await c.query<{ me: string; own: boolean }>({
        text: "SELECT current_user AS me, pg_has_role(current_user, $1, 'MEMBER') AS own",
        values: [service ? serviceGroupRole(STACK_DEFAULTS.database.appGroupRole, service) : ""],
        queryMode: "extended",
      });
      await c.end();
      if (!r.rows[0].own) problems.push(`${secret}: ${user} is not a member of its service's role`);
      users.set(secret, r.rows[0].me);
    } catch (e) {
      problems.push(`${secret}: ${(e as Error).message}`);
    }
  }
  const distinct = new Set(users.values()).size;
  ctx.check(
    `${stack} each service's DATABASE URL, as ESO templated it from its VaultDynamicSecret, logs in to PostgreSQL as a login of that service's role (${users.size} of ${urls.length}, ${distinct} distinct)`,
    urls.length === SERVICES.length && problems.length === 0 && distinct === urls.length,
    problems.join("; ") || [...users.entries()].map(([s, u]) => `${s}: ${u}`).join(", "),
  );
}

/** Poll a Secret's `key` until `ok(value)` (or `timeoutMs`); the value and the seconds taken, or undefined. */
async function untilSecret(
  kube: Kube,
  ns: string,
  name: string,
  key: string,
  ok: (v: string) => Promise<boolean>,
  timeoutMs: number,
): Promise<{ value: string; seconds: number } | undefined> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    const v = (await secretData(kube, ns, name))?.data[key];
    if (v !== undefined && (await ok(v))) return { value: v, seconds: secondsSince(t0) };
    await new Promise((r) => setTimeout(r, 250));
  }
  return undefined;
}

/**
 * Staging, the README's rotations as ESO performs them: a service's login by force-syncing its
 * ExternalSecret (a new login; the old one lives out its lease), and the schema owner's password
 * by `rotate-role` then force-syncing `veza-migrations-secrets` (the old URL stops at once).
 */
async function databaseRotationChecks(
  ctx: Context,
  kube: Kube,
  root: VaultClient,
  ns: string,
  env: string,
  o: EsoCheckOptions,
  pg: RunningPostgres,
  urls: DatabaseUrl[],
): Promise<void> {
  const stack = `${env}:`;
  const first = urls.find((u) => u.secret === serviceSecretName(SERVICES[0]));
  if (first) {
    const before = await applicationLogins(pg);
    const status = await forceSync(kube, o.node, ns, first.secret);
    const next = await untilSecret(kube, ns, first.secret, first.key, async (v) => v !== first.url, 30_000);
    const [oldLogin, newLogin] = [await urlLoginError(pg, first.url), next ? await urlLoginError(pg, next.value) : "no new URL"];
    // How many logins one force-sync costs (docs/database.md counts one lease per force-sync).
    await new Promise((r) => setTimeout(r, 3000));
    const made = (await applicationLogins(pg)).filter((l) => !before.includes(l));
    ctx.summary.timings[`${env}: database logins made by one force-sync`] = made.length;
    ctx.check(
      `${stack} force-syncing ${first.secret} gives it a new database login, and the old one lives out its lease (README)`,
      status === 200 && !!next && newLogin === "" && oldLogin === "",
      `annotate ${status}; ${next ? `new login ${decodeURIComponent(new URL(next.value).username)} in ${next.seconds} s: ${newLogin || "logs in"}` : "no new URL within 30 s"}; old: ${oldLogin || "still logs in"}; logins created in PostgreSQL: ${made.length}`,
    );
  }
  // The schema owner. A person's `kubectl annotate` (the admin), as the README shows it.
  const name = MIGRATIONS.secretName;
  const key = Object.keys((await secretData(kube, ns, name))?.data ?? {})[0];
  if (!key) {
    ctx.check(`${stack} ESO wrote ${name}`, false, "no Secret or no key");
    return;
  }
  const fresh = () => annotateForceSync(kube, ns, name);
  // From a Secret that logs in (the database checks rotated the password since ESO's first sync).
  await fresh();
  const before = await untilSecret(kube, ns, name, key, async (v) => (await urlLoginError(pg, v)) === "", 30_000);
  await root.call("POST", "database/rotate-role/veza-app");
  const stale = before ? await urlLoginError(pg, before.value) : "no URL that logs in";
  await fresh();
  const after = await untilSecret(kube, ns, name, key, async (v) => v !== before?.value && (await urlLoginError(pg, v)) === "", 30_000);
  ctx.check(
    `${stack} after rotate-role the schema owner's URL in ${name} stops at once, and a force-sync brings one that logs in (README)`,
    !!before && stale !== "" && !!after,
    `before: ${before ? "logs in" : "never logged in"}; after rotate-role: ${stale || "still logs in"}; after force-sync: ${after ? `logs in (${after.seconds} s)` : "no working URL within 30 s"}`,
  );
}

/** Write `value` for `key` into the stack's KV secret (a new version; the other keys as they were). */
async function writeKv(root: VaultClient, env: string, stored: Record<string, unknown>, key: string, value: string): Promise<void> {
  await root.call("POST", `secret/data/veza/${env}`, { data: { ...stored, [key]: value } });
}

/** `kubectl annotate externalsecret NAME force-sync=… --overwrite` as `kube`; the HTTP status. */
async function annotateForceSync(kube: Kube, ns: string, name: string): Promise<number> {
  const patch = { metadata: { annotations: { "force-sync": `e2e-${Date.now()}` } } };
  return (await kube.raw("PATCH", `${ES_API}/namespaces/${ns}/externalsecrets/${name}`, patch, "application/merge-patch+json")).status;
}

/** Set `force-sync` on the ExternalSecret as the rotation CronJob does, with its own (kubelet-minted) token. */
async function forceSync(kube: Kube, node: Kube, ns: string, name: string): Promise<number> {
  return annotateForceSync(kube.withToken(await serviceAccountToken(node, ns, "secrets-rotation", [])), ns, name);
}

/** What the sync checks share: the clients, the stack, and its KV secret as the program wrote it. */
interface SyncScene {
  ctx: Context;
  kube: Kube;
  root: VaultClient;
  env: string;
  ns: string;
  o: EsoCheckOptions;
  stored: Record<string, unknown>;
}

/** A value changed in Vault reaches the Secret on the rotation job's force-sync, not before; then the old value is put back. */
async function forceSyncCheck({ ctx, kube, root, env, ns, o, stored }: SyncScene): Promise<void> {
  const stack = `${env}:`;
  const { secret, key } = rotatedKey(o.secrets, stored);
  const before = String(stored[key]);
  const next = `e2e-rotated-${Date.now()}`;
  await writeKv(root, env, stored, key, next);
  // ESO refreshes on its interval (1 h here): without force-sync the Secret keeps the old value.
  const early = await untilValue(kube, ns, secret, key, next, 3_000);
  const status = await forceSync(kube, o.node, ns, secret);
  const seconds = await untilValue(kube, ns, secret, key, next, 30_000);
  ctx.summary.timings[`${env}: force-sync to Secret updated`] = seconds ?? -1;
  ctx.check(
    `${stack} a value changed in Vault reaches ${secret} on the rotation job's force-sync (and not before)`,
    early === undefined && status === 200 && seconds !== undefined,
    `before force-sync: ${early === undefined ? "old value kept" : "already changed"}; annotate ${status}; ${seconds === undefined ? "never updated within 30 s" : `updated ${seconds} s after`}`,
  );
  await writeKv(root, env, stored, key, before);
  await forceSync(kube, o.node, ns, secret);
  const back = await untilValue(kube, ns, secret, key, before, 30_000);
  ctx.check(
    `${stack} the original value is back in ${secret} after the next force-sync`,
    back !== undefined,
    back === undefined ? "not within 30 s" : `${back} s`,
  );
}

/**
 * Staging (a Raft node): a snapshot, a value changed and synced, then the snapshot restored.
 * ESO keeps the value it wrote until the next sync, then writes the snapshot's value back, as
 * docs/vault-operations.md says. Returns the database logins ESO was issued between the
 * snapshot and the restore: the restored Vault does not know them.
 */
async function restoreCheck({ ctx, kube, root, env, ns, o, stored }: SyncScene, ca: string): Promise<string[]> {
  const stack = `${env}:`;
  const { secret, key } = rotatedKey(o.secrets, stored);
  const before = String(stored[key]);
  const known = await loginsInSecrets(kube, ns, o.secrets);
  const snap = await vaultBytes(root.address, ca, root.token, "GET", "sys/storage/raft/snapshot");
  if (snap.status !== 200) throw new Error(`snapshot: ${snap.status} ${snap.body.toString().slice(0, 200)}`);
  const next = `e2e-after-snapshot-${Date.now()}`;
  await writeKv(root, env, stored, key, next);
  await forceSync(kube, o.node, ns, secret);
  const synced = await untilValue(kube, ns, secret, key, next, 30_000);
  ctx.check(
    `${stack} a value written after the snapshot reaches ${secret} on force-sync`,
    synced !== undefined,
    synced === undefined ? "not within 30 s" : `${synced} s`,
  );
  const orphans = (await loginsInSecrets(kube, ns, o.secrets)).filter((l) => !known.includes(l));
  const restored = await vaultBytes(root.address, ca, root.token, "POST", "sys/storage/raft/snapshot", snap.body);
  const inVault = ((await root.call("GET", `secret/data/veza/${env}`)).data as { data: Record<string, unknown> }).data[key];
  const kept = (await secretData(kube, ns, secret))?.data[key];
  ctx.check(
    `${stack} after a restore Vault has the snapshot's value and ESO keeps the Secret it wrote until the next sync`,
    restored.status === 204 && inVault === before && kept === next,
    `restore ${restored.status}; Vault ${inVault === before ? "the snapshot's value" : "another value"}; Secret ${kept === next ? "the value written after the snapshot" : "changed"}`,
  );
  const t0 = Date.now();
  const status = await forceSync(kube, o.node, ns, secret);
  const back = await untilValue(kube, ns, secret, key, before, 60_000);
  ctx.summary.timings[`${env}: force-sync after restore to Secret restored`] = back === undefined ? -1 : secondsSince(t0);
  ctx.check(
    `${stack} after the restore, the runbook's force-sync brings the snapshot's value into ${secret} (ESO logs in to the restored Vault again)`,
    status === 200 && back !== undefined,
    `annotate ${status}; ${back === undefined ? "not within 60 s" : `${back} s`}`,
  );
  return orphans;
}

/** The logins holding the application's roles (the restore runbook's query), as the superuser. */
async function applicationLogins(pg: RunningPostgres): Promise<string[]> {
  const db = STACK_DEFAULTS.database;
  const su = await pg.connect({ ...pg.superuser, database: "veza" });
  try {
    const sql = applicationLoginsSql({ appGroupRole: db.appGroupRole, staticUsername: db.appUsername, vaultAdminUser: db.adminUsername });
    return (await su.query<{ rolname: string }>(sql)).rows.map((r) => r.rolname);
  } finally {
    await su.end();
  }
}

/**
 * After `pulumi destroy` (staging): unmounting the database engine revoked every lease Vault
 * knew, so PostgreSQL dropped those logins; the ones the restore made Vault forget are left,
 * for the runbook's query and `DROP ROLE`.
 */
export async function destroyedLoginsCheck(ctx: Context, pg: RunningPostgres, env: string, logins: EsoLogins): Promise<void> {
  const left = await applicationLogins(pg);
  const known = logins.seen.filter((l) => !logins.orphans.includes(l));
  const kept = known.filter((l) => left.includes(l));
  const lost = logins.orphans.filter((l) => !left.includes(l));
  ctx.check(
    `${env}: destroy drops every database login ESO was issued that Vault knew (${known.length - kept.length} of ${known.length}); the ${logins.orphans.length} the restore made Vault forget are left for the runbook's query`,
    known.length > 0 && kept.length === 0 && lost.length === 0 && logins.orphans.length > 0,
    `still in PostgreSQL: ${kept.join(", ") || "none"}; listed by the query: ${left.join(", ") || "none"}`,
  );
}
