/**
 * The cost of freshness: provider API calls per month that a stack's ExternalSecrets
 * cause (calls per refresh × refreshes per month), and what that costs at each cloud's
 * published per-call price. Read off the registered ExternalSecrets and SecretStores.
 */
import { durationSeconds } from "../stacks/schema";
import type { ProgramRun } from ".";

/** USD per 10,000 API calls (published list prices: AWS Secrets Manager, GCP Secret Manager access, Azure Key Vault standard). */
export const PRICE_PER_10K: Record<string, number> = { aws: 0.05, gcpsm: 0.03, azurekv: 0.03, vault: 0 };
const LABEL: Record<string, string> = {
  aws: "AWS Secrets Manager",
  gcpsm: "Google Secret Manager",
  azurekv: "Azure Key Vault",
  vault: "Vault (self-hosted, no per-call price)",
};
const MONTH_SECONDS = 30 * 24 * 3600;

export interface FreshnessRow {
  externalSecret: string;
  provider: string;
  callsPerRefresh: number;
  refreshInterval: string;
  callsPerMonth: number;
}

interface EsSpec {
  refreshInterval?: string;
  secretStoreRef?: { name?: string };
  data?: unknown[];
  dataFrom?: { sourceRef?: { storeRef?: { name?: string }; generatorRef?: { kind?: string; name?: string } } }[];
}

const GENERATOR = "kubernetes:generators.external-secrets.io/v1alpha1:VaultDynamicSecret";
const ES_TYPE = "kubernetes:external-secrets.io/v1:ExternalSecret";
const DB_ROLE = "vault:database/secretBackendRole:SecretBackendRole";

/** One row per (ExternalSecret, provider it reads). */
export function freshness(run: ProgramRun): FreshnessRow[] {
  const storeProvider = new Map<string, string>();
  for (const r of run.resources.filter((x) => x.type === "kubernetes:external-secrets.io/v1:SecretStore")) {
    const name = (r.inputs.metadata as { name: string }).name;
    storeProvider.set(name, Object.keys((r.inputs.spec as { provider: Record<string, unknown> }).provider)[0]);
  }
  const rows: FreshnessRow[] = [];
  for (const r of run.resources.filter((x) => x.type === "kubernetes:external-secrets.io/v1:ExternalSecret")) {
    const spec = r.inputs.spec as EsSpec;
    const interval = spec.refreshInterval ?? "1h";
    const refreshes = MONTH_SECONDS / durationSeconds(interval);
    const calls = new Map<string, number>();
    const count = (store: string | undefined): void => {
      const provider = storeProvider.get(store ?? spec.secretStoreRef?.name ?? "") ?? "unknown";
      calls.set(provider, (calls.get(provider) ?? 0) + 1);
    };
    for (let i = 0; i < (spec.data?.length ?? 0); i++) count(undefined);
    for (const d of spec.dataFrom ?? []) {
      // A VaultDynamicSecret generator reads Vault itself (one `creds` read per refresh).
      if (d.sourceRef?.generatorRef?.kind === "VaultDynamicSecret") calls.set("vault", (calls.get("vault") ?? 0) + 1);
      else count(d.sourceRef?.storeRef?.name);
    }
    for (const [provider, n] of calls) {
      rows.push({
        externalSecret: (r.inputs.metadata as { name: string }).name,
        provider,
        callsPerRefresh: n,
        refreshInterval: interval,
        callsPerMonth: Math.round(n * refreshes),
      });
    }
  }
  return rows;
}

function usd(n: number): string {
  return `$${n.toFixed(n < 1 ? 4 : 2)}`;
}

/** A Markdown table for one stack: calls and cost per month per provider. */
export function freshnessTable(run: ProgramRun): string {
  const rows = freshness(run);
  const byProvider = new Map<string, { es: Set<string>; perRefresh: number; perMonth: number; interval: string }>();
  // One row per backend and refresh interval: ExternalSecrets of one backend may refresh at different rates.
  for (const r of rows) {
    const key = `${r.provider}\u0000${r.refreshInterval}`;
    const p = byProvider.get(key) ?? { es: new Set<string>(), perRefresh: 0, perMonth: 0, interval: r.refreshInterval };
    p.es.add(r.externalSecret);
    p.perRefresh += r.callsPerRefresh;
    p.perMonth += r.callsPerMonth;
    byProvider.set(key, p);
  }
  if (!byProvider.size) return `${run.stack}: no ExternalSecrets (no provider calls).`;
  const lines = ["| backend | ExternalSecrets | calls per refresh | refresh | calls per month | cost per month |", "|---|---|---|---|---|---|"];
  for (const [key, p] of byProvider) {
    const provider = key.split("\u0000")[0];
    const cost = (p.perMonth / 10_000) * (PRICE_PER_10K[provider] ?? 0);
    lines.push(`| ${LABEL[provider] ?? provider} | ${p.es.size} | ${p.perRefresh} | ${p.interval} | ${p.perMonth.toLocaleString("en-US")} | ${usd(cost)} |`);
  }
  return lines.join("\n");
}

/** Calls per month for `count` ExternalSecrets of one read each at `interval`. */
export function callsPerMonth(count: number, interval: string): number {
  return Math.round((count * MONTH_SECONDS) / durationSeconds(interval));
}

const DAY_SECONDS = 24 * 3600;

/** One service's database logins: what its generator's refresh schedule costs. */
export interface LeaseRow {
  generator: string;
  /** Vault role the generator reads (`<mount>/creds/<role>`). */
  role: string;
  ttlSeconds: number;
  refreshInterval: string;
  /** Leases made every `refresh` living `ttl`: floor(ttl / refresh) + 1 at the instant a new one is made as the oldest ends. */
  maxAlive: number;
  leasesPerDay: number;
  /** Per lease: ESO's login and its `creds` read (revocation runs inside Vault). */
  vaultCallsPerDay: number;
  /** Per lease: the role's creation and revocation statements, one transaction each. */
  sqlStatementsPerDay: number;
}

/**
 * Per VaultDynamicSecret generator: the lease TTL of the Vault role it reads, the refresh of
 * the ExternalSecrets that use it, and what that schedule costs Vault and PostgreSQL per day.
 * Read off the registered generators, ExternalSecrets and Vault roles.
 */
export function databaseLeases(run: ProgramRun): LeaseRow[] {
  const roles = new Map(run.resources.filter((r) => r.type === DB_ROLE).map((r) => [String(r.inputs.name), r.inputs]));
  const rows: LeaseRow[] = [];
  for (const g of run.resources.filter((r) => r.type === GENERATOR)) {
    const name = (g.inputs.metadata as { name: string }).name;
    const path = String((g.inputs.spec as { path: string }).path);
    const roleName = path.split("/creds/")[1] ?? "";
    const role = roles.get(roleName);
    if (!role) throw new Error(`generator ${name} reads ${path}, which no registered Vault role serves`);
    const users = run.resources.filter(
      (r) => r.type === ES_TYPE && ((r.inputs.spec as EsSpec).dataFrom ?? []).some((d) => d.sourceRef?.generatorRef?.name === name),
    );
    for (const es of users) {
      const interval = (es.inputs.spec as EsSpec).refreshInterval ?? "1h";
      const refresh = durationSeconds(interval);
      const ttl = Number(role.defaultTtl);
      const leasesPerDay = DAY_SECONDS / refresh;
      const statements = (role.creationStatements as string[]).length + (role.revocationStatements as string[]).length;
      rows.push({
        generator: name,
        role: roleName,
        ttlSeconds: ttl,
        refreshInterval: interval,
        maxAlive: Math.floor(ttl / refresh) + 1,
        leasesPerDay,
        vaultCallsPerDay: Math.round(2 * leasesPerDay),
        sqlStatementsPerDay: Math.round(statements * leasesPerDay),
      });
    }
  }
  return rows;
}

/** A Markdown table of `databaseLeases`, with a total row; a sentence where there are none. */
export function databaseLeasesTable(run: ProgramRun): string {
  const rows = databaseLeases(run);
  if (!rows.length) return `${run.stack}: no generated database logins (database-url is supplied).`;
  const hours = (s: number): string => (s % 3600 === 0 ? `${s / 3600}h` : `${s / 60}m`);
  const n = (x: number): string => x.toLocaleString("en-US");
  const lines = [
    "| Vault role (generator) | lease TTL | refresh | most leases alive | leases per day | Vault calls per day | SQL statements per day |",
    "|---|---|---|---|---|---|---|",
    ...rows.map(
      (r) =>
        `| \`${r.role}\` (\`${r.generator}\`) | ${hours(r.ttlSeconds)} | ${r.refreshInterval} | ${r.maxAlive} | ${n(r.leasesPerDay)} | ${n(r.vaultCallsPerDay)} | ${n(r.sqlStatementsPerDay)} |`,
    ),
  ];
  const sum = (f: (r: LeaseRow) => number): string => n(rows.reduce((a, r) => a + f(r), 0));
  lines.push(
    `| all ${rows.length} services | | | ${sum((r) => r.maxAlive)} | ${sum((r) => r.leasesPerDay)} | ${sum((r) => r.vaultCallsPerDay)} | ${sum((r) => r.sqlStatementsPerDay)} |`,
  );
  return lines.join("\n");
}
