/**
 * `npm run readme`: regenerate the README's generated blocks (the secrets table from the
 * catalog, the development and production diagrams from the program). `--check` exits 1
 * when the README is stale; `test/readme.test.ts` runs the same check.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { CATALOG, SERVICES, type SecretSpec, serviceSecrets } from "../components/catalog";
import { ROOT, runProgram } from "../harness";
import { callsPerMonth, databaseLeasesTable, freshnessTable, PRICE_PER_10K } from "../harness/freshness";
import { renderMermaid } from "./plan";

const README = path.join(ROOT, "README.md");

/** The README's secrets table, one row per catalog key. */
export function secretsTable(catalog: readonly SecretSpec[] = CATALOG): string {
  const secrets = serviceSecrets(catalog);
  const rows = catalog.map((s) => {
    const services = s.services === "all" ? "all" : s.services.join(", ");
    const inSecrets = secrets.filter((k) => k.keys.includes(s.key)).map((k) => `\`${k.name}\``).join(", ");
    let source: string;
    switch (s.source.kind) {
      case "generated":
        source = `generated, ${s.source.length} chars (min ${s.source.minLength}), rotated every ${s.source.rotationDays} days${s.source.keepPrevious ? `; previous value kept as \`${s.key}-previous\`` : ""}`;
        break;
      case "supplied":
        source = `supplied: \`pulumi config set --secret ${s.source.configKey} …\``;
        break;
      case "database":
        source = `rotated by Vault's database engine where the stack sets \`database\`; else supplied: \`pulumi config set --secret ${s.source.configKey} …\``;
        break;
    }
    return `| \`${s.key}\` | ${s.description} | ${services} | ${inSecrets} | ${source} |`;
  });
  return [
    `Services: ${SERVICES.map((s) => `\`${s}\``).join(", ")}.`,
    "",
    "| Key | Description | Services | Kubernetes Secrets | Source |",
    "|---|---|---|---|---|",
    ...rows,
  ].join("\n");
}

/** Each generated block's content, by marker name. */
export async function generatedBlocks(): Promise<Record<string, string>> {
  const blocks: Record<string, string> = { "secrets-table": secretsTable() };
  const freshness: string[] = [];
  for (const stack of ["development", "staging", "production"]) {
    const run = await runProgram({ stack });
    if (stack !== "staging") blocks[`diagram-${stack}`] = ["```mermaid", renderMermaid(run), "```"].join("\n");
    freshness.push(`**${stack}**`, "", freshnessTable(run), "", "Database logins (one per service, `VaultDynamicSecret`):", "", databaseLeasesTable(run), "");
  }
  const scale = (interval: string): string => {
    const calls = callsPerMonth(1000, interval);
    return `${calls.toLocaleString("en-US")} calls, $${((calls / 10_000) * PRICE_PER_10K.aws).toFixed(2)} on AWS`;
  };
  freshness.push(`For scale: 1,000 ExternalSecrets of one read each cost ${scale("1m")} a month at \`refreshInterval: 1m\`, and ${scale("1h")} at \`1h\`.`);
  blocks.freshness = freshness.join("\n");
  return blocks;
}

/** A document with every generated block replaced; throws if a marker is missing. */
export function applyBlocks(doc: string, blocks: Record<string, string>, file = "README.md"): string {
  let out = doc;
  for (const [name, content] of Object.entries(blocks)) {
    const re = new RegExp(`(<!-- generated:${name} -->\\n)[\\s\\S]*?(<!-- /generated:${name} -->)`);
    if (!re.test(out)) throw new Error(`${file} has no <!-- generated:${name} --> block`);
    out = out.replace(re, (_m, open: string, close: string) => `${open}${content}\n${close}`);
  }
  return out;
}

async function main(): Promise<void> {
  const current = fs.readFileSync(README, "utf8");
  const next = applyBlocks(current, await generatedBlocks());
  if (process.argv.includes("--check")) {
    if (next !== current) {
      console.error("README.md is stale: run `npm run readme`");
      process.exit(1);
    }
    console.log("README.md is up to date");
    return;
  }
  fs.writeFileSync(README, next);
  console.log(next === current ? "README.md unchanged" : "README.md updated");
}

if (require.main === module) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
