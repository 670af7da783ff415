/**
 * `tsx e2e/tools-status.ts`: which of the e2e's tools are in the cache (or on PATH), one line
 * each; exit 0 when all are. `--quiet` prints nothing. `.ci/run` asks it before building.
 */
import { TOOLS, findTool } from "./tools";

const rows = TOOLS.map((t) => ({ t, found: findTool(t) }));
if (!process.argv.includes("--quiet"))
  for (const { t, found } of rows) console.log(`${t.name}\t${t.version}\t${found ? `${found.from}: ${found.path}` : `missing (${t.install})`}`);
process.exit(rows.every((r) => r.found) ? 0 : 1);
