/**
 * The commands the stack config's fixes print: every example a fix may print is accepted by the
 * schema and stored with the right type, and the model of `pulumi config set` they are applied
 * with (test/pulumi-cli.ts) stores and refuses what the CLI does.
 */
import * as assert from "node:assert/strict";
import { z } from "zod";
import { ENVIRONMENTS, EXAMPLES, configSchema } from "./schema";
import { Computed, setCommands } from "./fixes";
import { substitute } from "../test/fix-check";
import { applyLine, type StackFileConfig } from "../test/pulumi-cli";
import { PROJECT_FILE, preRunErrors } from "../test/pulumi-project";
import { P } from "./config-fixtures";

describe("stack config", () => {
  it("has examples the schema accepts, for every path a fix may print", () => {
    const unwrap = (t: z.ZodType): z.ZodType => (t instanceof z.ZodOptional ? unwrap(t.unwrap() as z.ZodType) : t);
    const at = (t: z.ZodType, parts: string[]): z.ZodType[] => {
      const u = unwrap(t);
      if (parts.length === 0) return [u];
      const [head, ...rest] = parts;
      if (u instanceof z.ZodDiscriminatedUnion) return (u.options as z.ZodType[]).flatMap((o) => at(o, parts));
      if (head === "[]" && u instanceof z.ZodArray) return at(u.element as z.ZodType, rest);
      if (head === "*" && u instanceof z.ZodRecord) return at(u.valueType as z.ZodType, rest);
      if (u instanceof z.ZodObject) {
        const child = (u.shape as Record<string, z.ZodType | undefined>)[head];
        return child ? at(child, rest) : [];
      }
      return [];
    };
    for (const [key, example] of Object.entries(EXAMPLES)) {
      const parts = key.replace(/\[\]/g, ".[]").split(".");
      const schemas = at(configSchema, parts);
      assert.ok(schemas.length > 0, `${key} is not a path of the schema`);
      // A computed example is checked with what its command prints (test/fix-check.ts).
      for (const env of ENVIRONMENTS) {
        const plain: unknown = typeof example === "function" ? (example as (e: string) => unknown)(env) : example;
        const value = plain instanceof Computed ? substitute(plain.command) : plain;
        assert.ok(
          schemas.some((sch) => sch.safeParse(value).success),
          `${key} (${env}): the schema refuses its example ${JSON.stringify(value)}`,
        );
      }
    }
    // Every example has the type the CLI will store from the printed command.
    assert.equal(
      setCommands("s", ["aws", "accountId"], EXAMPLES["aws.accountId"])[0],
      "pulumi config set --type string --path 'aws.accountId' 123456789012 --stack s",
    );
    assert.equal(
      setCommands("s", ["vault", "resources", "limits", "cpu"], "1")[0],
      "pulumi config set --type string --path 'vault.resources.limits.cpu' 1 --stack s",
    );
  });

  describe("the model of pulumi config set (test/pulumi-cli.ts)", () => {
    const apply = (line: string, start: StackFileConfig = {}): StackFileConfig => {
      const config = structuredClone(start);
      applyLine(config, line, { project: P });
      return config;
    };
    it("stores top-level values as strings, --path 'values' typed, and --type as asked", () => {
      assert.deepEqual(apply("pulumi config set providers '[\"vault\"]' --stack s"), { [`${P}:providers`]: '["vault"]' });
      assert.deepEqual(
        apply("pulumi config set --path 'a.n' 3 --stack s && pulumi config set --path 'a.b' true --stack s && pulumi config set --path 'a.z' 0123 --stack s"),
        { [`${P}:a`]: { n: 3, b: true, z: "0123" } },
      );
      assert.deepEqual(apply("pulumi config set --path 'aws.accountId' 123456789012 --stack s"), { [`${P}:aws`]: { accountId: 123456789012 } });
      assert.deepEqual(apply("pulumi config set --type string --path 'aws.accountId' 123456789012 --stack s"), { [`${P}:aws`]: { accountId: "123456789012" } });
      assert.deepEqual(apply("pulumi config set --path 'vault.seal' '{\"type\":\"awskms\"}' --stack s"), { [`${P}:vault`]: { seal: '{"type":"awskms"}' } });
      assert.deepEqual(apply("pulumi config set --path 'g[\"jwt-secret\"].length' 64 --stack s"), { [`${P}:g`]: { "jwt-secret": { length: 64 } } });
      assert.deepEqual(apply("pulumi config set --path 'p[0]' vault --stack s", { [`${P}:p`]: ["kubernetes", "vault"] }), { [`${P}:p`]: ["vault", "vault"] });
    });
    it("refuses what the CLI refuses", () => {
      assert.throws(() => apply("pulumi config set --path 'p[2]' x --stack s", { [`${P}:p`]: ["a"] }), /array index out of range/);
      assert.throws(() => apply("pulumi config set --secret --type string k v --stack s"), /none of the others can be/);
      assert.throws(() => apply("pulumi config set --secret k < value --stack s"), /the shell would not run this as typed/);
      assert.throws(() => apply("pulumi config set k v"), /no --stack/);
      assert.throws(() => apply("pulumi config set --path 'a.[0]' v --stack s"), /expected property name after '\.'/);
      assert.throws(() => apply("pulumi config set smtpPassword 'Xk9#mQ2$vL7@pR4!' --stack s"), /looks like a secret/);
      assert.deepEqual(preRunErrors("s", { [`${P}:environment`]: "development", [`${P}:providers`]: '["vault"]' }, PROJECT_FILE).slice(1), [
        "Stack 's' with configuration key 'veza-secrets:providers' must be of type 'array<string>'",
      ]);
    });
  });
});
