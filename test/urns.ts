/**
 * URN stability across refactors. A stack's URNs are its resources' identities: a URN the
 * next `pulumi up` does not find, by URN or by alias, is a delete plus a create (for a
 * protected resource, a failed update). `test/fixtures/urns/<stack>.json` holds each stack's
 * URNs as they were before the layout change of issue #15; the program must still produce
 * every one of them, or declare it as an alias of a resource it produces.
 *
 * Aliases are taken from the SDK itself: the fake monitor declines structured alias specs,
 * so the SDK resolves every alias (inherited parent aliases included) to URNs and sends them.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ROOT, engineConfig, fakesForMissing, stackConfig } from "../harness";
import { runLikeLanguageHost, type WireResource } from "../harness/language-host";

export const URN_FIXTURES = path.join(ROOT, "test", "fixtures", "urns");

/** The stack's URNs and alias URNs, from a run through the language host's loading path. */
export async function stackUrns(stack: string, projectDir = ROOT): Promise<WireResource[]> {
  const values = stackConfig(stack);
  const fakes = fakesForMissing(values);
  const run = await runLikeLanguageHost({
    projectDir,
    project: "veza-secrets",
    stack,
    config: { ...engineConfig(values), ...fakes },
    secretKeys: Object.keys(fakes),
    aliasSpecs: false,
    timeoutMs: 240_000,
  });
  if (run.exitCode !== 0) throw new Error(`${stack}: exit ${String(run.exitCode)}\n${run.stderr.slice(0, 2000)}`);
  return run.resources;
}

export interface UrnComparison {
  /** Baseline URNs that no resource has, neither as URN nor as alias. */
  lost: string[];
  /** Alias URNs claimed by more than one resource (the engine refuses that). */
  claimedTwice: string[];
  /** Baseline URNs kept only through an alias (for the report). */
  aliased: string[];
}

/** Compare a baseline URN list with what a run registered. */
export function compareUrns(baseline: string[], resources: WireResource[]): UrnComparison {
  const current = new Set(resources.map((r) => r.urn));
  const claims = new Map<string, number>();
  for (const r of resources) for (const a of new Set(r.aliasUrns)) if (a !== r.urn) claims.set(a, (claims.get(a) ?? 0) + 1);
  const lost = baseline.filter((u) => !current.has(u) && !claims.has(u));
  const aliased = baseline.filter((u) => !current.has(u) && claims.has(u));
  const claimedTwice = [...claims].filter(([, n]) => n > 1).map(([u]) => u);
  return { lost, claimedTwice, aliased };
}

export function readBaseline(stack: string): string[] {
  return (JSON.parse(fs.readFileSync(path.join(URN_FIXTURES, `${stack}.json`), "utf8")) as string[]).filter((u) => !isRetired(u));
}

/**
 * Resources the program no longer manages, on purpose, not renamed: the deployer's own jwt
 * login and HA Vault's audit devices moved to the operator's bootstrap (issue 29: the deployer
 * must not be able to change them). Existing stacks drop them from state before upgrading
 * (docs/vault-bootstrap.md, "Upgrading"); none of them may come back.
 */
export const RETIRED_URNS = [/veza:vault:VaultDeployerLogin(\$|::)/, /veza:vault:VaultConfig\$vault:index\/audit:Audit::vault-config-audit(-stdout)?$/];

export function isRetired(urn: string): boolean {
  // Development's dev-mode Vault keeps its audit device: its root token enables it.
  if (urn.startsWith("urn:pulumi:development::") && /audit:Audit::/.test(urn)) return false;
  return RETIRED_URNS.some((r) => r.test(urn));
}

/** A copy of the project (node_modules linked) that a test may edit. */
export function copyProject(): string {
  const copy = fs.mkdtempSync(path.join(os.tmpdir(), "veza-copy-"));
  for (const entry of fs.readdirSync(ROOT)) {
    if ([".git", "node_modules", ".bench", ".e2e", ".stryker-tmp", "reports"].includes(entry)) continue;
    fs.cpSync(path.join(ROOT, entry), path.join(copy, entry), { recursive: true });
  }
  fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(copy, "node_modules"), "dir");
  return copy;
}
