/**
 * What the docs say about the tree, checked against it, so a rename or a moved section shows up
 * here rather than in a reader's dead end: every section another file points to exists, every
 * repository path the docs and config files name exists, every relative link resolves and every
 * page of docs/ is linked, every Markdown table row has its header's cells, the secret config
 * keys docs/configuration.md lists are the catalog's, every file of the layout is described by a
 * whole sentence, and the benchmark's targets are the ones docs/testing.md states. (The generated blocks themselves are test/readme.test.ts's.)
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { ROOT } from "../harness";
import { layoutFiles } from "../harness/layout";
import { secretConfigList } from "../harness/secret-config-doc";
import { BENCH_TARGETS } from "../scripts/bench-targets";

/** Folders that hold no text of this project's (dependencies, outputs, upstream copies). */
const SKIP_DIRS = new Set([".git", "node_modules", "bin", "dist", ".bench", ".e2e", ".stryker-tmp", "reports", ".pulumi"]);
const SKIP_FILES = new Set(["test/docs-facts.test.ts"]); // this file's own examples
const TEXT = /\.(ts|js|mjs|cjs|md|yaml|yml|sh|json)$/;

function projectFiles(dir = ""): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const rel = dir ? `${dir}/${e.name}` : e.name;
    if (e.isDirectory()) {
      if (!SKIP_DIRS.has(e.name) && rel !== "test/upstream" && rel !== "test/fixtures") out.push(...projectFiles(rel));
    } else if (TEXT.test(e.name) && !SKIP_FILES.has(rel) && e.name !== "package-lock.json") out.push(rel);
  }
  return out;
}

const read = (rel: string): string => fs.readFileSync(path.join(ROOT, rel), "utf8");
const docs = (): string[] =>
  fs
    .readdirSync(path.join(ROOT, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`);
/** The project's Markdown pages. */
const markdown = (): string[] => ["README.md", ...docs(), ...["e2e/README.md", "certs/README.md"].filter((f) => fs.existsSync(path.join(ROOT, f)))];

/** Lines outside fenced code blocks, with their line numbers. */
function prose(text: string): { n: number; line: string }[] {
  let fenced = false;
  return text
    .split("\n")
    .map((line, i) => ({ n: i + 1, line }))
    .filter(({ line }) => {
      if (/^\s*```/.test(line)) {
        fenced = !fenced;
        return false;
      }
      return !fenced;
    });
}

/** A page's section names: its headings and the bold lead of a paragraph (`**Runners.** …`). */
function sections(rel: string): string[] {
  return prose(read(rel)).flatMap(({ line: l }) => {
    const heading = /^#{1,6} (.+?)\s*$/.exec(l);
    if (heading) return [heading[1]];
    const lead = /^\*\*([^*]+?)\.?\*\*/.exec(l);
    return lead ? [lead[1]] : [];
  });
}

/** Does a section of this name answer a reference to `ref`? Case aside, the same name, or one that goes on ("Bootstrapping Vault (staging, production)"). */
function names(section: string, ref: string): boolean {
  const [s, r] = [section.toLowerCase(), ref.toLowerCase()];
  return s === r || (s.startsWith(r) && /^[ :(]/.test(s.slice(r.length)));
}

/** GitHub's anchor for a heading, as far as this project's headings need. */
const anchor = (heading: string): string =>
  heading
    .toLowerCase()
    .replace(/[^a-z0-9 _-]/g, "")
    .replace(/ /g, "-");

describe("what the docs say about the tree", () => {
  it('every section a file points to (README, "Recipes"; docs/testing.md ("Performance")) exists', () => {
    const refs = /\b(README(?:\.md)?|(?:docs|e2e|certs)\/[A-Za-z0-9-]+\.md|docs\/README\.md)(?:'s)?(?:,|:)? \(?"([^"\n]{3,80})"/g;
    const missing: string[] = [];
    let count = 0;
    for (const file of projectFiles()) {
      for (const m of read(file).matchAll(refs)) {
        const target = m[1] === "README" ? "README.md" : m[1];
        count++;
        if (!fs.existsSync(path.join(ROOT, target))) missing.push(`${file}: ${target} does not exist`);
        else if (!sections(target).some((s) => names(s, m[2]))) missing.push(`${file}: ${target} has no section "${m[2]}"`);
      }
    }
    assert.ok(count > 10, `${count} section references found`);
    assert.deepEqual(missing, []);
  });

  it("every repository path the docs, the project and stack files and the workflows name exists", () => {
    const files = [...markdown(), ...fs.readdirSync(ROOT).filter((f) => /^Pulumi\..*ya?ml$/.test(f) || f === "Pulumi.yaml")];
    const workflows = path.join(ROOT, ".github", "workflows");
    if (fs.existsSync(workflows)) files.push(...fs.readdirSync(workflows).map((f) => `.github/workflows/${f}`));
    const paths =
      /(?<![\w./$-])((?:components|stacks|harness|scripts|test|policy|deployments|e2e|docs|certs|\.github)\/[\w./-]*\w\.(?:ts|js|mjs|md|ya?ml|json|pem|sh))\b/g;
    const missing: string[] = [];
    for (const file of files) for (const m of read(file).matchAll(paths)) if (!fs.existsSync(path.join(ROOT, m[1]))) missing.push(`${file}: ${m[1]}`);
    assert.deepEqual([...new Set(missing)], []);
  });

  it("every relative link in the Markdown pages resolves, to the heading where it names one", () => {
    const broken: string[] = [];
    for (const page of markdown()) {
      for (const { line } of prose(read(page)))
        for (const m of line.matchAll(/\]\(([^)\s]+)\)/g)) {
          const link = m[1];
          if (/^[a-z]+:/.test(link)) continue; // https:, mailto:
          const [file, hash] = link.split("#");
          const target = file ? path.normalize(path.join(path.dirname(page), file)) : page;
          if (!fs.existsSync(path.join(ROOT, target))) broken.push(`${page}: ${link}`);
          else if (hash && target.endsWith(".md") && !sections(target).map(anchor).includes(hash)) broken.push(`${page}: ${link} (no such heading)`);
        }
    }
    assert.deepEqual(broken, []);
  });

  it("every page of docs/ is linked from the README or another page", () => {
    const unlinked = docs().filter((page) =>
      markdown()
        .filter((other) => other !== page)
        .every((other) => [...read(other).matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)].every((m) => path.normalize(path.join(path.dirname(other), m[1])) !== page)),
    );
    assert.deepEqual(unlinked, []);
  });

  it("every Markdown table row has as many cells as its header", () => {
    const cells = (row: string): number =>
      row
        .replace(/\\\|/g, "")
        .replace(/^\s*\|/, "")
        .replace(/\|\s*$/, "")
        .split("|").length;
    const bad: string[] = [];
    for (const page of markdown()) {
      let header: number | undefined;
      for (const { n, line } of prose(read(page))) {
        if (!line.startsWith("|")) header = undefined;
        else if (header === undefined) header = cells(line);
        else if (cells(line) !== header) bad.push(`${page}:${n}: ${cells(line)} cells, the header has ${header}: ${line.slice(0, 80)}`);
      }
    }
    assert.deepEqual(bad, []);
  });

  it("describes each source file in docs/architecture.md's layout with a whole sentence of its header", () => {
    // A sentence ends with its full stop, or is cut at 180 characters with "…" on purpose.
    const cut = layoutFiles()
      .split("\n")
      .filter((l) => l.startsWith("- `") && !/(\.|…|\(no header comment\))$/.test(l));
    assert.deepEqual(cut, []);
  });

  it("docs/configuration.md lists the catalog's secret config keys (run `npm run readme`)", () => {
    const text = read("docs/configuration.md");
    const block = /<!-- generated:secret-config -->\n([\s\S]*?)\n<!-- \/generated:secret-config -->/.exec(text);
    assert.ok(block, "docs/configuration.md has the secret-config block");
    assert.equal(block[1], secretConfigList());
  });

  it("docs/testing.md states the targets npm run bench checks", () => {
    const text = read("docs/testing.md").replace(/\s+/g, " ");
    const { ratio, rssMb, testQuickSeconds, testSeconds, testPeakMb } = BENCH_TARGETS;
    assert.ok(text.includes(`Targets: ratio ≤ ${ratio} and peak RSS ≤ ${rssMb} MB per stack`), `ratio ≤ ${ratio}, RSS ≤ ${rssMb} MB`);
    assert.ok(text.includes(`\`npm run test:quick\` under ${testQuickSeconds} s`), `test:quick under ${testQuickSeconds} s`);
    const minutes = `${Math.floor(testSeconds / 60)} min ${testSeconds % 60} s`;
    assert.ok(text.includes(`\`npm test\` under ${minutes} and ${testPeakMb.toLocaleString("en-US")} MB`), `npm test under ${minutes}, ${testPeakMb} MB`);
  });

  it("no page states how many tests pass or a mutation score in the README: figures that go stale with the next test", () => {
    for (const page of markdown()) assert.doesNotMatch(read(page), /\b\d[\d,]* passing\b/, page);
    assert.doesNotMatch(read("README.md"), /\d+(\.\d+)? ?%/, "mutation scores belong in docs/testing.md");
  });
});
