/**
 * Loading a stack's config (stacks/config.ts): every problem listed at once, the first-run
 * guidance, review stacks, each committed stack parsed with its environment's defaults, and the
 * path and duration formats the config uses.
 */
import * as assert from "node:assert/strict";
import { CATALOG, generatedSecrets } from "../components/catalog";
import { loadStackConfig } from "./config";
import { ConfigError } from "./config-model";
import { formatPath } from "./fixes";
import { durationSeconds, secondsAsDuration } from "./schema";
import { fakeSecrets } from "../harness";
import { P, problemsOf, source } from "./config-fixtures";

describe("stack config", () => {
  it("lists every problem at once", () => {
    const problems = problemsOf(() =>
      loadStackConfig(
        source("production", { [`${P}:aws`]: undefined }, Object.fromEntries(Object.entries(fakeSecrets()).filter(([k]) => !/stripe/.test(k)))),
        "production",
      ),
    );
    assert.deepEqual(
      problems.map((p) => p.key),
      ["aws", "stripeApiKey", "stripeWebhookSecret"],
    );
  });

  it("tells a new user how to create the stack when there is no config", () => {
    const problems = problemsOf(() => loadStackConfig({ values: {}, secretKeys: new Set() }, "development"));
    assert.equal(problems.length, 1);
    assert.match(problems[0].message, /^no veza-secrets config found for stack "development"\. Create the stack from a committed stack file/);
    assert.match(
      problems[0].message,
      /pulumi login --local; export PULUMI_CONFIG_PASSPHRASE=\.\.\.; pulumi stack init development; kubectl config use-context/,
    );
  });

  it("accepts review stacks named after their environment", () => {
    const cfg = loadStackConfig(source("development"), "development-pr-42");
    assert.equal(cfg.environment, "development");
    assert.equal(cfg.namespaces.workloads, "veza-development");
  });

  it("parses each committed stack into the typed config with its environment's defaults", () => {
    const dev = loadStackConfig(source("development"), "development");
    assert.deepEqual(
      {
        providers: dev.providers,
        eso: dev.eso,
        vaultMode: dev.vault?.mode,
        replicas: dev.vault?.replicas,
        address: dev.vault?.address,
        database: dev.database,
        protect: dev.protect,
        recovery: dev.recoveryWindowDays,
      },
      {
        providers: ["vault"],
        eso: {
          install: true,
          serviceAccount: "external-secrets",
          replicas: 1,
          serviceMonitor: false,
          refreshInterval: "15m",
          creationPolicy: "Owner",
          deletionPolicy: "Delete",
        },
        vaultMode: "dev",
        replicas: 1,
        address: "http://127.0.0.1:30820",
        database: undefined,
        protect: false,
        recovery: 7,
      },
    );
    // Every non-generated catalog key is supplied in development (no database configured there).
    const nonGenerated = CATALOG.flatMap((s) => (s.source.kind === "generated" ? [] : [s.source.configKey]));
    assert.ok(nonGenerated.includes("databaseUrl") && nonGenerated.includes("redisUrl"));
    assert.deepEqual(Object.keys(dev.supplied).sort(), [...nonGenerated].sort());

    const prod = loadStackConfig(source("production"), "production");
    assert.deepEqual(prod.esoProviders, ["vault", "aws"]);
    assert.deepEqual(prod.eso, {
      install: true,
      serviceAccount: "external-secrets",
      replicas: 2,
      serviceMonitor: true,
      refreshInterval: "1h",
      creationPolicy: "Owner",
      deletionPolicy: "Retain",
    });
    assert.equal(prod.protect, true);
    assert.equal(prod.recoveryWindowDays, 30);
    assert.equal(prod.vault?.seal?.type, "awskms");
    assert.deepEqual(
      { ...prod.database, adminPassword: undefined },
      {
        host: "postgres.veza.internal",
        port: 5432,
        name: "veza",
        adminUsername: "vault_admin",
        appUsername: "veza_app",
        appGroupRole: "veza_app_group",
        appSchema: "veza",
        rotationSchedule: "0 4 * * 0",
        defaultTtl: "4h",
        defaultTtlSeconds: 14400,
        refreshInterval: "2h",
        sslMode: "verify-full",
        verifyConnection: true,
        adminPassword: undefined,
      },
    );
    // database-url is built from rotated credentials, so it is not a supplied secret here.
    assert.ok(!("databaseUrl" in prod.supplied));
    // Production overrides no generated key: each keeps the catalog's length and period.
    assert.deepEqual(
      prod.generatedKeys,
      Object.fromEntries(generatedSecrets(CATALOG).map((g) => [g.key, { length: g.source.length, rotationDays: g.source.rotationDays }])),
    );
    assert.deepEqual(prod.generatedKeys["jwt-secret"], { length: 64, rotationDays: 90 });
  });

  it("formats config paths as pulumi config set --path expects", () => {
    assert.equal(formatPath(["vault", "replicas"]), "vault.replicas");
    assert.equal(formatPath(["providers", 1]), "providers[1]");
    assert.equal(formatPath(["generatedKeys", "jwt-secret", "length"]), 'generatedKeys["jwt-secret"].length');
  });

  it("derives the database refresh as half the lease TTL where the stack sets none", () => {
    const staging = loadStackConfig(source("staging", { [`${P}:database`]: { host: "db", defaultTtl: "3h" } }), "staging");
    assert.deepEqual([staging.database?.defaultTtlSeconds, staging.database?.refreshInterval], [10800, "1h30m"]);
  });

  it("reads durations as Vault does, and writes them back", () => {
    assert.deepEqual([7200, 5400, 45, 7205, 1800].map(secondsAsDuration), ["2h", "1h30m", "45s", "2h5s", "30m"]);
    assert.deepEqual(["24h", "90m", "1h30m", "45s", "2h0m5s"].map(durationSeconds), [86400, 5400, 5400, 45, 7205]);
    assert.throws(() => durationSeconds("1d"), /not a duration: 1d/);
    assert.equal(secondsAsDuration(1), "1s");
    for (const bad of [0, -60, 1.5]) assert.throws(() => secondsAsDuration(bad), new RegExp(`not a positive whole number of seconds: ${bad}$`));
  });
  it("a ConfigError names the stack, counts its problems and lists each with its fix", () => {
    const one = new ConfigError("staging", [
      { key: "eso.replicas", message: "must be at least 1; got 0", fix: "pulumi config set --path eso.replicas 1 --stack staging" },
    ]);
    assert.equal(one.name, "ConfigError");
    assert.equal(one.stackName, "staging");
    assert.equal(
      one.message,
      'Stack "staging" has a config problem (Pulumi.staging.yaml); nothing was created:\n' +
        "  - veza-secrets:eso.replicas: must be at least 1; got 0\n    fix: pulumi config set --path eso.replicas 1 --stack staging",
    );
    const two = new ConfigError("production", [
      { key: "a", message: "m1", fix: "f1" },
      { key: "b", message: "m2", fix: "f2" },
    ]);
    assert.equal(
      two.message,
      'Stack "production" has 2 config problems (Pulumi.production.yaml); nothing was created:\n  - veza-secrets:a: m1\n    fix: f1\n  - veza-secrets:b: m2\n    fix: f2',
    );
    // A fix with a placeholder is said, once, to need the person's own value before it runs.
    const marked = new ConfigError("production", [
      { key: "a", message: "m1", fix: "pulumi config set --path 'vault.seal.kmsKeyId' '<kms-key-id>' --stack production" },
      { key: "b", message: "m2", fix: "f2" },
    ]);
    assert.equal(
      marked.message.split("\n").at(-1),
      "  <...> in a fix marks a value only you know (your host, account, key): put yours in its place, inside the quotes, before running it.",
    );
  });
});
