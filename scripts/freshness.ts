/**
 * The cost of freshness: provider API calls per month that a stack's ExternalSecrets
 * cause (calls per refresh × refreshes per month), and what that costs at each cloud's
 * published per-call price. Read off the registered ExternalSecrets and SecretStores.
 */
import { durationSeconds } from "../stacks/schema";
import type { ProgramRun } from "./harness";

/** USD per 10,000 API calls (published list prices: AWS Secrets Manager, GCP Secret Manager access, Azure Key Vault standard). */
export const PRICE_PER_10K: Record<string, number> = { aws: 0.05, gcpsm: 0.03, azurekv: 0.03, vault: 0 };
const LABEL: Record<string, string> = { aws: "AWS Secrets Manager", gcpsm: "Google Secret Manager", azurekv: "Azure Key Vault", vault: "Vault (self-hosted, no per-call price)" };
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
  dataFrom?: { sourceRef?: { storeRef?: { name?: string } } }[];
}

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
    for (const d of spec.dataFrom ?? []) count(d.sourceRef?.storeRef?.name);
    for (const [provider, n] of calls) {
      rows.push({ externalSecret: (r.inputs.metadata as { name: string }).name, provider, callsPerRefresh: n, refreshInterval: interval, callsPerMonth: Math.round(n * refreshes) });
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
  for (const r of rows) {
    const p = byProvider.get(r.provider) ?? { es: new Set<string>(), perRefresh: 0, perMonth: 0, interval: r.refreshInterval };
    p.es.add(r.externalSecret);
    p.perRefresh += r.callsPerRefresh;
    p.perMonth += r.callsPerMonth;
    byProvider.set(r.provider, p);
  }
  if (!byProvider.size) return `${run.stack}: no ExternalSecrets (no provider calls).`;
  const lines = ["| backend | ExternalSecrets | calls per refresh | refresh | calls per month | cost per month |", "|---|---|---|---|---|---|"];
  for (const [provider, p] of byProvider) {
    const cost = (p.perMonth / 10_000) * (PRICE_PER_10K[provider] ?? 0);
    lines.push(`| ${LABEL[provider] ?? provider} | ${p.es.size} | ${p.perRefresh} | ${p.interval} | ${p.perMonth.toLocaleString("en-US")} | ${usd(cost)} |`);
  }
  return lines.join("\n");
}

/** Calls per month for `count` ExternalSecrets of one read each at `interval`. */
export function callsPerMonth(count: number, interval: string): number {
  return Math.round((count * MONTH_SECONDS) / durationSeconds(interval));
}
