/**
 * `loadStackConfig(..., { requireSecrets: false })`: what `npm run bootstrap-sql` uses, so
 * printing SQL never needs a secret (and never needs a fake one).
 */
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { CATALOG } from "../components/catalog";
import { ROOT, engineConfig, stackConfig } from "../harness";
import { loadStackConfig } from "./config";
import { ConfigError } from "./config-model";

const P = "veza-secrets";
const plain = (stack: string) => ({ values: engineConfig(stackConfig(stack)), secretKeys: new Set<string>() });

describe("stack config: loading without secrets (bootstrap-sql)", () => {
  it("by default every missing supplied secret is a problem", () => {
    assert.throws(
      () => loadStackConfig(plain("production"), "production", CATALOG),
      (e: unknown) => e instanceof ConfigError && e.problems.some((p) => p.key === "redisUrl" && p.message.startsWith("is required")),
    );
  });

  it("with requireSecrets false the committed stacks load, database settings included", () => {
    const config = loadStackConfig(plain("production"), "production", CATALOG, { requireSecrets: false });
    assert.equal(config.database?.appSchema, "veza");
    assert.deepEqual(config.supplied, {});
  });

  it("with requireSecrets false a secret stored in plain text is still refused, naming the key and not the value", () => {
    const values = { ...engineConfig(stackConfig("production")), [`${P}:redisUrl`]: "rediss://:leaked-value@redis:6380/0" };
    assert.throws(
      () => loadStackConfig({ values, secretKeys: new Set() }, "production", CATALOG, { requireSecrets: false }),
      (e: unknown) =>
        e instanceof ConfigError && e.problems.some((p) => p.key === "redisUrl" && p.message.includes("plain text")) && !e.message.includes("leaked-value"),
    );
  });

  it("npm run bootstrap-sql prints the SQL from the stack file alone, with no secret in its environment", () => {
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("PULUMI_")));
    const out = execFileSync(process.execPath, ["--import", "tsx", "scripts/bootstrap-sql.ts", "production"], { cwd: ROOT, encoding: "utf8", env });
    assert.match(out, /CREATE ROLE|create role/i);
    assert.doesNotMatch(out, /FAKE-SECRET/);
  });
});
