/**
 * `npm run readme`: regenerate what derives from the catalog and the program: the README's
 * generated blocks (the secrets table, the development and production diagrams) and
 * Pulumi.yaml's declarations of the supplied secrets. `--check` exits 1 when a file is
 * stale; `test/readme.test.ts` runs the same check.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { CATALOG, SERVICES, type SecretSpec, serviceSecrets, suppliedSecrets } from "../components/catalog";
import { ROOT, runProgram } from "../harness";
import { callsPerMonth, databaseLeasesTable, freshnessTable, PRICE_PER_10K } from "../harness/freshness";
import { renderMermaid } from "../harness/plan-render";
import { defaultsTable } from "../stacks/defaults";
import { ENVIRONMENTS } from "../stacks/schema";
import { layoutFiles, layoutSummary } from "../harness/layout";
import { secretConfigList } from "../harness/secret-config-doc";

const README = path.join(ROOT, "README.md");
const PROJECT_FILE = path.join(ROOT, "Pulumi.yaml");

/**
 * Pulumi.yaml's declarations of the catalog's supplied secrets: `type: string`, `secret: true`,
 * no default, so the CLI itself refuses a stack that lacks one or stores it in plain text,
 * before the program runs (pulumi/pulumi pkg/workspace/config.go, mergeConfig and
 * validateStackConfigValue).
 */
export function projectSecretDeclarations(catalog: readonly SecretSpec[] = CATALOG): string {
  return suppliedSecrets(catalog)
    .flatMap((s) => {
      const services = s.services === "all" ? "every service" : s.services.join(", ");
      return [
        `  veza-secrets:${s.source.configKey}:`,
        "    type: string",
        "    secret: true",
        `    description: ${JSON.stringify(`${s.key} for ${services}${s.source.patternHint ? ` (${s.source.patternHint})` : ""}. Set with pulumi config set --secret.`)}`,
      ];
    })
    .join("\n");
}

/** A YAML document with the `# generated:<name>` block replaced; throws if a marker is missing. */
export function applyYamlBlock(doc: string, name: string, content: string, file = "Pulumi.yaml"): string {
  const re = new RegExp(`(# generated:${name}[^\\n]*\\n)[\\s\\S]*?(\\n *# /generated:${name})`);
  if (!re.test(doc)) throw new Error(`${file} has no # generated:${name} block`);
  return doc.replace(re, (_m, open: string, close: string) => `${open}${content}${close}`);
}

/** The README's secrets table, one row per catalog key. */
export function secretsTable(catalog: readonly SecretSpec[] = CATALOG): string {
  const secrets = serviceSecrets(catalog);
  const rows = catalog.map((s) => {
    const services = s.services === "all" ? "all" : s.services.join(", ");
    const inSecrets = secrets
      .filter((k) => k.keys.includes(s.key))
      .map((k) => `\`${k.name}\``)
      .join(", ");
    let source: string;
    switch (s.source.kind) {
      case "generated":
        source = `generated, ${s.source.length} chars (min ${s.source.minLength}), rotated every ${s.source.rotationDays} days${s.source.keepPrevious ? `; previous value kept as \`${s.key}-previous\`` : ""}`;
        break;
      case "supplied":
        source = `supplied: \`pulumi config set --secret ${s.source.configKey}\` (prompts for the value)`;
        break;
      case "database":
        source = `rotated by Vault's database engine where the stack sets \`database\`; else supplied: \`pulumi config set --secret ${s.source.configKey}\``;
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

/**
 * What the README's "verify it worked" command prints for the shared Secret: its keys as the
 * go-template ranges over them (sorted), from the catalog.
 */
export function verifySecretBlock(catalog: readonly SecretSpec[] = CATALOG): string {
  const shared = serviceSecrets(catalog).find((s) => s.service === undefined);
  return ["```text", ...[...(shared?.keys ?? [])].sort(), "```"].join("\n");
}

/** Each generated block's content, by marker name. */
export async function generatedBlocks(): Promise<Record<string, string>> {
  const blocks: Record<string, string> = {
    "secrets-table": secretsTable(),
    "verify-secret": verifySecretBlock(),
    defaults: defaultsTable(ENVIRONMENTS),
    layout: layoutSummary(),
    "layout-files": layoutFiles(),
    "secret-config": secretConfigList(),
  };
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

/** The Markdown files that may hold generated blocks: the README and docs/*.md (not docs/delivery.md, see delivery-doc.ts). */
export function markdownFiles(): string[] {
  const docs = path.join(ROOT, "docs");
  const inDocs = fs.existsSync(docs)
    ? fs
        .readdirSync(docs)
        .filter((f) => f.endsWith(".md") && f !== "delivery.md")
        .sort()
        .map((f) => path.join(docs, f))
    : [];
  return [README, ...inDocs];
}

/**
 * Each generated file's current and regenerated text. A block is regenerated in whichever
 * Markdown file holds its markers (so a section can move from the README to docs/), and
 * each block must be in exactly one file.
 */
export async function generatedFiles(): Promise<{ file: string; current: string; next: string }[]> {
  const blocks = await generatedBlocks();
  const placed = new Map<string, string>();
  const out: { file: string; current: string; next: string }[] = [];
  for (const file of markdownFiles()) {
    const current = fs.readFileSync(file, "utf8");
    const here = Object.fromEntries(Object.entries(blocks).filter(([name]) => current.includes(`<!-- generated:${name} -->`)));
    for (const name of Object.keys(here)) {
      const other = placed.get(name);
      if (other) throw new Error(`<!-- generated:${name} --> is in both ${path.relative(ROOT, other)} and ${path.relative(ROOT, file)}`);
      placed.set(name, file);
    }
    out.push({ file, current, next: applyBlocks(current, here, path.relative(ROOT, file)) });
  }
  const lost = Object.keys(blocks).filter((name) => !placed.has(name));
  if (lost.length) throw new Error(`no Markdown file holds <!-- generated:${lost.join(" -->, <!-- generated:")} -->`);
  const project = fs.readFileSync(PROJECT_FILE, "utf8");
  out.push({ file: PROJECT_FILE, current: project, next: applyYamlBlock(project, "catalog-secrets", projectSecretDeclarations()) });
  return out;
}

async function main(): Promise<void> {
  const check = process.argv.includes("--check");
  let stale = false;
  for (const { file, current, next } of await generatedFiles()) {
    const name = path.relative(ROOT, file);
    if (next === current) {
      console.log(`${name} is up to date`);
    } else if (check) {
      console.error(`${name} is stale: run \`npm run readme\``);
      stale = true;
    } else {
      fs.writeFileSync(file, next);
      console.log(`${name} updated`);
    }
  }
  if (stale) process.exit(1);
}

if (require.main === module) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
