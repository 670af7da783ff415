/**
 * The commands the stack config's fixes print: every example a fix may print is accepted by the
 * schema and stored with the right type, and the model of `pulumi config set` they are applied
 * with (test/pulumi-cli.ts) stores and refuses what the CLI does.
 */
import * as assert from "node:assert/strict";
import { z } from "zod";
import { ENVIRONMENTS, EXAMPLES, configSchema } from "./schema";
import { Computed, Placeholder, cliCoerce, distance, formatPath, nearest, placeholderNames, replaceCommands, setCommands, setLeaf, shellWord } from "./fixes";
import { fill, substitute } from "../test/fix-check";
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
      // A computed example is checked with what its command prints, a placeholder with what a
      // person types in its place (test/fix-check.ts), as the CLI stores it.
      const filled = (v: unknown): unknown =>
        v instanceof Computed
          ? substitute(fill(v.command))
          : v instanceof Placeholder
            ? v.type === "number"
              ? Number(fill(v.text))
              : fill(v.text)
            : v !== null && typeof v === "object" && !Array.isArray(v)
              ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, filled(x)]))
              : v;
      for (const env of ENVIRONMENTS) {
        const plain: unknown = typeof example === "function" ? (example as (e: string) => unknown)(env) : example;
        const value = filled(plain);
        assert.ok(
          schemas.some((sch) => sch.safeParse(value).success),
          `${key} (${env}): the schema refuses its example ${JSON.stringify(value)}`,
        );
      }
    }
    // Every example has the type the CLI will store from the printed command.
    assert.equal(
      setCommands("s", ["aws", "accountId"], EXAMPLES["aws.accountId"])[0],
      "pulumi config set --type string --path 'aws.accountId' '<aws-account-id>' --stack s",
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
  it("marks every value a person must replace, and no real default or computed value (issue 30 #5)", () => {
    const marked = Object.entries(EXAMPLES)
      .filter(([, e]) => String(JSON.stringify(e instanceof Computed ? e.command : e)).includes("<"))
      .map(([k]) => k)
      .sort();
    // The committed example values that used to pass for real ones: each now a placeholder.
    for (const key of ["vault.address", "vault.seal", "vault.caCertFile", "aws.accountId", "aws.oidcIssuer", "network.deployerCidrs[]", "database.host"])
      assert.ok(marked.includes(key), `${key} is not marked`);
    const plain = JSON.stringify(EXAMPLES, (_, v: unknown) => (v instanceof Placeholder || v instanceof Computed ? undefined : v));
    for (const example of ["vault.example.com", "alias/veza-vault-unseal", "123456789012", "/id/EXAMPLE", "certs/vault-ca.pem", "00000000-0000"])
      assert.ok(!plain.includes(example), `${example} is printed as if it were the user's`);
    // A database CA read from a file only the user has: the file name is marked inside the command.
    assert.deepEqual(placeholderNames((EXAMPLES["database.caCert"] as Computed).command), ["postgres-ca-file"]);
  });

  describe("fix command building blocks (stacks/fixes.ts)", () => {
    it("renders config paths as --path reads them", () => {
      assert.equal(formatPath(["vault", "login", "method"]), "vault.login.method");
      assert.equal(formatPath(["providers", 0]), "providers[0]");
      assert.equal(formatPath(["generatedKeys", "jwt-secret", "length"]), 'generatedKeys["jwt-secret"].length');
      assert.equal(formatPath(['a"b']), '["a\\"b"]');
      assert.equal(formatPath([0, "x"]), "[0].x");
    });

    it("quotes shell words only when needed, and single quotes inside them", () => {
      assert.equal(shellWord("eu-west-1"), "eu-west-1");
      assert.equal(shellWord("arn:aws:iam::1:role/a@b%c+d=e,f"), "arn:aws:iam::1:role/a@b%c+d=e,f");
      assert.equal(shellWord(""), "''");
      assert.equal(shellWord("a b"), "'a b'");
      assert.equal(shellWord("it's"), "'it'\\''s'");
    });

    it("models what the CLI stores for an untyped --path value", () => {
      assert.equal(cliCoerce("true"), true);
      assert.equal(cliCoerce("false"), false);
      assert.equal(cliCoerce("0"), 0);
      assert.equal(cliCoerce("7"), 7);
      assert.equal(cliCoerce("-12"), -12);
      assert.equal(cliCoerce("012"), "012");
      assert.equal(cliCoerce("1.5"), "1.5");
      assert.equal(cliCoerce("True"), "True");
      assert.equal(cliCoerce("1h"), "1h");
    });

    it("types a leaf wherever the CLI would store another type", () => {
      assert.equal(setLeaf("s", ["environment"], "staging"), "pulumi config set environment staging --stack s");
      assert.equal(setLeaf("s", ["count"], 3), "pulumi config set --type int count 3 --stack s");
      assert.equal(setLeaf("s", ["ratio"], 0.5), "pulumi config set --type float ratio 0.5 --stack s");
      assert.equal(setLeaf("s", ["flag"], true), "pulumi config set --type bool flag true --stack s");
      assert.equal(setLeaf("s", [0], "x"), "pulumi config set --path '[0]' x --stack s");
      assert.equal(setLeaf("s", ["eso", "replicas"], 2), "pulumi config set --path 'eso.replicas' 2 --stack s");
      assert.equal(setLeaf("s", ["eso", "serviceMonitor"], false), "pulumi config set --path 'eso.serviceMonitor' false --stack s");
      assert.equal(setLeaf("s", ["aws", "accountId"], "012345678901"), "pulumi config set --path 'aws.accountId' 012345678901 --stack s");
      assert.equal(setLeaf("s", ["aws", "accountId"], "123456789012"), "pulumi config set --type string --path 'aws.accountId' 123456789012 --stack s");
      assert.equal(setLeaf("s", ["a", "b"], "true"), "pulumi config set --type string --path 'a.b' true --stack s");
      assert.equal(setLeaf("s", ["a", "b"], 1.5), "pulumi config set --type float --path 'a.b' 1.5 --stack s");
      assert.equal(setLeaf("s", ["a", "it's"], "v"), `pulumi config set --path 'a["it'\\''s"]' v --stack s`);
    });

    it("sets one leaf per value, nothing for empty containers, and removes before replacing a container", () => {
      assert.deepEqual(setCommands("s", ["x"], { a: [1, "b"], c: {} }), [
        "pulumi config set --path 'x.a[0]' 1 --stack s",
        "pulumi config set --path 'x.a[1]' b --stack s",
      ]);
      assert.deepEqual(setCommands("s", ["x"], []), []);
      assert.deepEqual(setCommands("s", ["x"], null), []);
      assert.deepEqual(setCommands("s", ["x"], undefined), []);
      assert.deepEqual(setCommands("s", ["x", "y"], new Computed("cat ca.pem")), ["pulumi config set --path 'x.y' --stack s -- \"$(cat ca.pem)\""]);
      assert.deepEqual(replaceCommands("s", ["p"], ["vault"], ["valut"]), ["pulumi config rm p --stack s", "pulumi config set --path 'p[0]' vault --stack s"]);
      assert.deepEqual(replaceCommands("s", ["p"], ["vault"]), ["pulumi config set --path 'p[0]' vault --stack s"]);
      assert.deepEqual(replaceCommands("s", ["p"], "v", "old"), ["pulumi config set p v --stack s"]);
      assert.deepEqual(replaceCommands("s", ["p", "q"], new Computed("date"), "old"), ["pulumi config set --path 'p.q' --stack s -- \"$(date)\""]);
      assert.throws(() => new Computed('echo "$HOME"'), { message: `a computed value's command must not need quoting inside "$(...)": echo "$HOME"` });
    });

    it("prints a placeholder quoted (no redirection), typed for the value that replaces it", () => {
      assert.deepEqual(setCommands("s", ["vault", "seal", "kmsKeyId"], new Placeholder("<kms-key-id>")), [
        "pulumi config set --path 'vault.seal.kmsKeyId' '<kms-key-id>' --stack s",
      ]);
      // Digits stay text below the top level; a number is stored as one from --path, and needs --type int at the top.
      assert.deepEqual(setCommands("s", ["aws", "accountId"], new Placeholder("<aws-account-id>", "digits")), [
        "pulumi config set --type string --path 'aws.accountId' '<aws-account-id>' --stack s",
      ]);
      assert.deepEqual(setCommands("s", ["a", "id"], new Placeholder("<id>", "number")), ["pulumi config set --path 'a.id' '<id>' --stack s"]);
      assert.deepEqual(setCommands("s", ["count"], new Placeholder("<count>", "number")), ["pulumi config set --type int count '<count>' --stack s"]);
      assert.deepEqual(replaceCommands("s", ["p", "q"], new Placeholder("x-<y>"), "old"), ["pulumi config set --path 'p.q' 'x-<y>' --stack s"]);
      assert.throws(() => new Placeholder("no marker"), { message: "a placeholder must mark what to replace as <name>: no marker" });
      // Pasted unreplaced into bash, the CLI stores the text; at the top level with --type int it refuses it.
      const apply = (line: string): StackFileConfig => {
        const config: StackFileConfig = {};
        applyLine(config, line, { project: P });
        return config;
      };
      const config = apply("pulumi config set --path 'aws.accountId' '<aws-account-id>' --stack s");
      assert.deepEqual(config, { [`${P}:aws`]: { accountId: "<aws-account-id>" } });
      assert.throws(() => apply("pulumi config set --type int count '<count>' --stack s"), /invalid syntax/);
      assert.throws(() => apply("pulumi config set count <count> --stack s"), /the shell would not run this as typed/);
    });

    it("suggests the nearest candidate only when it is near enough to be a typo", () => {
      assert.equal(distance("vault", "vault"), 0);
      assert.equal(distance("Vault", "vault"), 0);
      assert.equal(distance("valut", "vault"), 2);
      assert.equal(distance("", "abc"), 3);
      assert.equal(distance("abc", ""), 3);
      assert.equal(distance("kitten", "sitting"), 3);
      assert.equal(nearest("valut", ["aws", "vault", "gcp"]), "vault");
      // Ties go to the first candidate.
      assert.equal(nearest("ab", ["ax", "ay"]), "ax");
      // At most max(2, a third of the candidate's length) off.
      assert.equal(nearest("xy", ["ab"]), "ab");
      assert.equal(nearest("xyz", ["abc"]), undefined);
      assert.equal(nearest("abcdefg", ["abcxyz"]), undefined);
      assert.equal(nearest("abcdefxyz", ["abcdefghi"]), "abcdefghi");
      assert.equal(nearest("x", []), undefined);
    });
  });
});
