/**
 * The config rules the mistake tables (stacks/config-{providers,vault,database,cluster,
 * secrets}.test.ts) do not reach, one row each, and the catalog's own validation: each rule
 * switched off alone must turn a test red. Every row also runs the whole program, which must
 * stop before registering anything.
 */
import * as assert from "node:assert/strict";
import { CATALOG, generatedSecrets, type SecretSpec } from "../components/catalog";
import { engineConfig, fakeSecrets, stackConfig, tryRunProgram } from "../harness";
import { loadStackConfig } from "./config";
import { ConfigError } from "./config-model";
import { run as runStack } from "./program";
import { problemsAfterFix } from "../test/fix-check";
import { withoutSecrets } from "./config-fixtures";

const P = "veza-secrets";
type Problem = { key: string; message: string; fix: string };

function source(stack: string, overrides: Record<string, unknown>, secrets: Record<string, string>) {
  const merged: Record<string, unknown> = { ...stackConfig(stack) };
  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined) delete merged[k];
    else merged[k] = v;
  }
  return { config: merged, engine: { values: { ...engineConfig(merged), ...secrets }, secretKeys: new Set(Object.keys(secrets)) } };
}

function problemsOf(fn: () => unknown): Problem[] {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    return e.problems;
  }
  assert.fail("expected the config to be rejected");
}

const ROWS: { name: string; stack: string; overrides: Record<string, unknown>; secrets?: Record<string, string>; problem: Problem }[] = [
  {
    name: "a provider listed twice",
    stack: "development",
    overrides: { [`${P}:providers`]: ["vault", "vault"] },
    problem: {
      key: "providers[1]",
      message: 'lists "vault" twice',
      fix: "pulumi config rm providers --stack development && pulumi config set --path 'providers[0]' vault --stack development",
    },
  },
  {
    name: "a bootstrapped HA Vault without its address",
    stack: "staging",
    overrides: { [`${P}:vault`]: { mode: "ha", replicas: 3, bootstrapped: true, login: { githubRepository: "veza/veza-secrets" } } },
    problem: {
      key: "vault.address",
      message: "is required once Vault is bootstrapped: the address this program's Vault provider uses",
      fix: "pulumi config set --path 'vault.address' 'https://<vault-host>:8200' --stack staging",
    },
  },
  {
    name: "a single ESO replica in production",
    stack: "production",
    overrides: { [`${P}:eso`]: { replicas: 1, refreshInterval: "1h" } },
    problem: {
      key: "eso.replicas",
      message: "production runs at least 2 replicas with leader election; got 1",
      fix: "pulumi config set --path 'eso.replicas' 2 --stack production",
    },
  },
  {
    name: "a refresh interval under a minute",
    stack: "staging",
    overrides: { [`${P}:eso`]: { refreshInterval: "59s" } },
    problem: {
      key: "eso.refreshInterval",
      message: 'must be at least 1m (each refresh is a provider API call); got "59s"',
      fix: "pulumi config set --path 'eso.refreshInterval' 1h --stack staging",
    },
  },
  {
    name: "a database lease shorter than a pod rollout",
    stack: "staging",
    overrides: { [`${P}:database`]: { host: "db", defaultTtl: "9m" } },
    problem: {
      key: "database.defaultTtl",
      message: 'must be at least 10m (each login must outlive a pod rollout); got "9m"',
      fix: "pulumi config set --path 'database.defaultTtl' 4h --stack staging",
    },
  },
  {
    name: "a bootstrapped Vault without the token to configure it",
    stack: "staging",
    overrides: { [`${P}:vault`]: { ...(stackConfig("staging")[`${P}:vault`] as object), login: { method: "token" } } },
    secrets: withoutSecrets("vaultToken"),
    problem: {
      key: "vaultToken",
      message:
        "is required once vault.bootstrapped is true with vault.login.method token: the token `pulumi up` configures Vault with (or log in with jwt: pulumi config set --path 'vault.login.method' jwt --stack staging)",
      fix: "pulumi config set --secret vaultToken --stack staging",
    },
  },
  {
    name: "dev Vault without its root token",
    stack: "development",
    overrides: {},
    secrets: withoutSecrets("vaultDevRootToken"),
    problem: {
      key: "vaultDevRootToken",
      message: "is required: the dev server's root token",
      fix: `pulumi config set --secret vaultDevRootToken "dev-$(openssl rand -hex 24)" --stack development`,
    },
  },
  {
    name: "rotated database credentials without the admin password",
    stack: "production",
    overrides: {},
    secrets: withoutSecrets("databaseAdminPassword"),
    problem: {
      key: "databaseAdminPassword",
      message: "is required once vault.bootstrapped is true: the password of database.adminUsername, which Vault rotates after first use",
      fix: "pulumi config set --secret databaseAdminPassword --stack production",
    },
  },
  {
    name: "a generated-key override for a key the catalog does not generate",
    stack: "development",
    overrides: { [`${P}:generatedKeys`]: { "stripe-api-key": { length: 64 } } },
    problem: {
      key: 'generatedKeys["stripe-api-key"]',
      message: `is not a generated key; generated keys are ${generatedSecrets(CATALOG)
        .map((g) => g.key)
        .join(", ")}`,
      fix: `pulumi config rm --path 'generatedKeys["stripe-api-key"]' --stack development`,
    },
  },
  {
    name: "a Raft cluster of one",
    stack: "staging",
    overrides: { [`${P}:vault`]: { mode: "ha", replicas: 1, bootstrapped: true, address: "https://v:8200", login: { githubRepository: "veza/veza-secrets" } } },
    problem: {
      key: "vault.replicas",
      message: "Raft needs an odd number of at least 3 voters; got 1",
      fix: "pulumi config set --path 'vault.replicas' 3 --stack staging",
    },
  },
];

describe("stack config: every rule", () => {
  for (const row of ROWS) {
    it(`rejects ${row.name}: key, reason and a fix that works when pasted; the program registers nothing`, async () => {
      const { config, engine } = source(row.stack, row.overrides, row.secrets ?? fakeSecrets());
      assert.deepEqual(
        problemsOf(() => loadStackConfig(engine, row.stack)),
        [row.problem],
      );
      const { run, error } = await tryRunProgram({ stack: row.stack, config, secrets: row.secrets ?? fakeSecrets() });
      assert.ok(error instanceof ConfigError, String(error));
      assert.deepEqual(
        run.resources.map((r) => r.type),
        ["pulumi:pulumi:Stack"],
      );
    });

    it(`fixes ${row.name} when the printed command is applied with the CLI's rules`, () => {
      assert.deepEqual(problemsAfterFix(row, row.problem.fix), [], `still wrong after applying: ${row.problem.fix}`);
    });
  }

  it("accepts each rule's boundary value", () => {
    const accepted = (stack: string, overrides: Record<string, unknown>) => loadStackConfig(source(stack, overrides, fakeSecrets()).engine, stack);
    assert.equal(accepted("staging", { [`${P}:eso`]: { refreshInterval: "1m" } }).eso?.refreshInterval, "1m");
    assert.equal(accepted("staging", { [`${P}:database`]: { host: "db", defaultTtl: "10m" } }).database?.defaultTtl, "10m");
    assert.equal(accepted("production", { [`${P}:eso`]: { replicas: 2 } }).eso?.replicas, 2);
    assert.equal(
      accepted("staging", {
        [`${P}:vault`]: { mode: "ha", replicas: 5, bootstrapped: true, address: "https://v:8200", login: { githubRepository: "veza/veza-secrets" } },
      }).vault?.replicas,
      5,
    );
    // Not bootstrapped yet: neither the address nor the token is needed.
    const fresh = loadStackConfig(source("staging", { [`${P}:vault`]: { mode: "ha", bootstrapped: false } }, withoutSecrets("vaultToken")).engine, "staging");
    assert.deepEqual([fresh.vault?.bootstrapped, fresh.vault?.token], [false, undefined]);
  });
});

describe("the secret catalog's own validation, before any config is read", () => {
  const jwt = CATALOG.find((s) => s.key === "jwt-secret") as SecretSpec;
  const stripe = CATALOG.find((s) => s.key === "stripe-api-key") as SecretSpec;
  const generated = (source: Partial<{ length: number; minLength: number; rotationDays: number }>): SecretSpec => ({
    ...jwt,
    key: "extra-key",
    source: { ...(jwt.source as Extract<SecretSpec["source"], { kind: "generated" }>), ...source },
  });
  const cases: [string, SecretSpec[], string][] = [
    [
      "a key that is not kebab-case",
      [...CATALOG, { ...stripe, key: "Extra_Key", source: { kind: "supplied", configKey: "extraKey" } }],
      'catalog: key "Extra_Key" must be kebab-case, at most 63 characters',
    ],
    [
      "a key longer than 63 characters",
      [...CATALOG, { ...stripe, key: "k".repeat(64), source: { kind: "supplied", configKey: "extraKey" } }],
      `catalog: key "${"k".repeat(64)}" must be kebab-case, at most 63 characters`,
    ],
    ["a key listed twice", [...CATALOG, { ...stripe, source: { kind: "supplied", configKey: "extraKey" } }], 'catalog: key "stripe-api-key" appears twice'],
    [
      "a key no service needs",
      [...CATALOG, { ...stripe, key: "extra-key", services: [], source: { kind: "supplied", configKey: "extraKey" } }],
      'catalog: key "extra-key" is needed by no service',
    ],
    [
      "a generated key with minLength under 32",
      [...CATALOG, generated({ length: 48, minLength: 31 })],
      'catalog: key "extra-key" length 48 must be at least its minLength 31, itself at least 32',
    ],
    [
      "a generated key shorter than its minLength",
      [...CATALOG, generated({ length: 40, minLength: 48 })],
      'catalog: key "extra-key" length 40 must be at least its minLength 48, itself at least 32',
    ],
    ["a generated key that never rotates", [...CATALOG, generated({ rotationDays: 0 })], 'catalog: key "extra-key" rotationDays must be at least 1'],
    ["two keys sharing a config key", [...CATALOG, { ...stripe, key: "extra-key" }], 'catalog: config key "stripeApiKey" is used by two keys'],
  ];

  for (const [name, catalog, message] of cases) {
    it(`refuses ${name}, and the program registers nothing`, async () => {
      assert.throws(
        () => loadStackConfig(source("development", {}, fakeSecrets()).engine, "development", catalog),
        (e: unknown) => e instanceof Error && e.message === message,
      );
      const { run, error } = await tryRunProgram({ stack: "development", program: () => runStack(catalog) });
      assert.equal(error?.message, message);
      assert.deepEqual(
        run.resources.map((r) => r.type),
        ["pulumi:pulumi:Stack"],
      );
    });
  }

  it("accepts the Veza catalog and each boundary (63 characters, minLength 32, one day)", () => {
    const ok = [
      ...CATALOG,
      { ...stripe, key: "k".repeat(63), source: { kind: "supplied" as const, configKey: "extraKey" } },
      { ...generated({ length: 32, minLength: 32, rotationDays: 1 }), key: "edge-key" },
    ];
    const cfg = loadStackConfig(source("development", {}, { ...fakeSecrets(), [`${P}:extraKey`]: "x" }).engine, "development", ok);
    assert.deepEqual(cfg.generatedKeys["edge-key"], { length: 32, rotationDays: 1 });
  });
});
