// npm run mutation:rules / npm run mutation:config: parts of the program measured against
// their own tests only, picked by STRYKER_PART. The whole run (stryker.config.json) would
// run, for each of these mutants, every test that covers it, and the stack layer's program
// runs cover all of the config code: on 2 cores that is hours. Here a mutant that only
// another test notices counts as surviving, so these figures can only understate.
// - rules: components/rules.ts, whose mutants are all static (module-level patterns, built
//   once at import), so Stryker cannot tell which test covers them.
// - config: the stack config layer (read, schema, cross-key rules, fix commands, defaults).
import { readFileSync } from "node:fs";
import process from "node:process";
import { URL } from "node:url";

const base = JSON.parse(readFileSync(new URL("./stryker.config.json", import.meta.url), "utf8"));

const PARTS = {
  rules: { mutate: ["components/rules.ts"], spec: ["components/rules.test.ts"], ignoreStatic: false },
  config: {
    mutate: [
      "stacks/config.ts",
      "stacks/config-checks.ts",
      "stacks/config-sections.ts",
      "stacks/config-model.ts",
      "stacks/schema.ts",
      "stacks/fixes.ts",
      "stacks/problems.ts",
      "stacks/defaults.ts",
      "stacks/ca-cert.ts",
      "stacks/stack-traces.ts",
    ],
    spec: ["stacks/config-*.test.ts", "stacks/defaults.test.ts", "stacks/load-options.test.ts", "stacks/stack-traces.test.ts", "stacks/vault-ca.test.ts"],
    ignoreStatic: true,
  },
};

const name = process.env.STRYKER_PART ?? "";
const part = PARTS[name];
if (!part) throw new Error(`STRYKER_PART must be one of ${Object.keys(PARTS).join(", ")}; got ${JSON.stringify(name)}`);

export default {
  ...base,
  _comment: `the ${name} part against its own tests; see the comment at the top of stryker.parts.config.mjs.`,
  mutate: part.mutate,
  mochaOptions: { ...base.mochaOptions, spec: part.spec },
  ignoreStatic: part.ignoreStatic,
  incrementalFile: `reports/stryker-incremental-${name}.json`,
  htmlReporter: { fileName: `reports/mutation-${name}/mutation.html` },
  jsonReporter: { fileName: `reports/mutation-${name}/mutation.json` },
};
