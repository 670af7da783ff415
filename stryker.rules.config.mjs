// npm run mutation:rules: components/rules.ts, whose mutants are all static (module-level
// patterns, built once at import), so Stryker cannot tell which test covers them and would run
// the whole suite for each one. Here they run against the rules' own test only: a mutant that
// only another test notices counts as surviving, so the figure can only understate.
import { readFileSync } from "node:fs";
import { URL } from "node:url";

const base = JSON.parse(readFileSync(new URL("./stryker.config.json", import.meta.url), "utf8"));

export default {
  ...base,
  _comment: "components/rules.ts against components/rules.test.ts only; see the comment at the top of this file.",
  mutate: ["components/rules.ts"],
  mochaOptions: { ...base.mochaOptions, spec: ["components/rules.test.ts"] },
  ignoreStatic: false,
  incrementalFile: "reports/stryker-incremental-rules.json",
  htmlReporter: { fileName: "reports/mutation-rules/mutation.html" },
  jsonReporter: { fileName: "reports/mutation-rules/mutation.json" },
};
