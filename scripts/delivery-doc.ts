/**
 * `npx tsx scripts/delivery-doc.ts`: regenerate the policy table in docs/delivery.md from
 * policy/policies.ts. `--check` exits 1 when the document is stale; test/policy-pack.test.ts runs
 * the same check.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { POLICIES } from "../policy/policies";
import { ROOT } from "../harness";
import { applyBlocks } from "./readme";

export const DELIVERY_DOC = path.join(ROOT, "docs", "delivery.md");
const MARKER = "policies";

/** One row per policy: name, enforcement, what it sees, what it checks. */
export function policyTable(): string {
  const rows = POLICIES.map((p) => {
    const kind = "validateStack" in p ? "stack" : "resource";
    return `| \`${p.name}\` | ${p.enforcementLevel} | ${kind} | ${p.description.replace(/\|/g, "\\|")} |`;
  });
  return ["| Policy | Enforcement | Sees | What it checks |", "|---|---|---|---|", ...rows].join("\n");
}

/** The document with its generated block replaced; throws if the markers are missing. */
export function applyPolicyTable(doc: string, table = policyTable()): string {
  return applyBlocks(doc, { [MARKER]: table }, "docs/delivery.md");
}

function main(): void {
  const current = fs.readFileSync(DELIVERY_DOC, "utf8");
  const next = applyPolicyTable(current);
  if (process.argv.includes("--check")) {
    if (next !== current) {
      console.error("docs/delivery.md is stale: run `npx tsx scripts/delivery-doc.ts`");
      process.exit(1);
    }
    console.log("docs/delivery.md is up to date");
    return;
  }
  fs.writeFileSync(DELIVERY_DOC, next);
  console.log(next === current ? "docs/delivery.md unchanged" : "docs/delivery.md updated");
}

if (require.main === module) main();
