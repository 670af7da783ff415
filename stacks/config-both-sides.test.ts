/**
 * The cross-key rules of the config layer from the side the mistake tables do not show: what
 * each rule lets through next to what it refuses, the settings passed on unchanged, the
 * defaults that depend on another key, and the warnings `pulumi up` prints (asserted, with the
 * SDK's logger replaced while the config is loaded).
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { CATALOG, type SecretSpec } from "../components/catalog";
import { ROOT, engineConfig, exampleFragments, fakeSecrets, stackConfig } from "../harness";
import { loadStackConfig, secretConfigKeys } from "./config";
import { ConfigError, type ConfigProblem, type ConfigSource, type StackConfig } from "./config-model";
import { problemsOf, source, withoutSecrets } from "./config-fixtures";
import { STACK_DEFAULTS } from "./defaults";
import { SPEC_CATALOG } from "../test/catalog-fixture";

const P = "veza-secrets";

interface Loaded {
  config?: StackConfig;
  problems: ConfigProblem[];
  warnings: string[];
}

/**
 * Load `stack`'s committed config with `overrides` (top-level keys; undefined removes one),
 * `secrets` set as secrets and `plain` set in clear text, recording what is logged as a warning.
 */
function load(
  stack: string,
  overrides: Record<string, unknown> = {},
  secrets: Record<string, string> = fakeSecrets(),
  plain: Record<string, string> = {},
  catalog: readonly SecretSpec[] = CATALOG,
): Loaded {
  const { values, secretKeys } = source(stack, overrides, secrets);
  const warnings: string[] = [];
  const warn = pulumi.log.warn;
  pulumi.log.warn = async (msg: string) => void warnings.push(msg);
  try {
    return { config: loadStackConfig({ values: { ...values, ...plain }, secretKeys }, stack, catalog), problems: [], warnings };
  } catch (e) {
    if (e instanceof ConfigError) return { problems: e.problems, warnings };
    throw e;
  } finally {
    pulumi.log.warn = warn;
  }
}

/** The config of a stack that must load, with no problem. */
function accepted(...args: Parameters<typeof load>): StackConfig & { warnings: string[] } {
  const { config, problems, warnings } = load(...args);
  assert.deepEqual(problems, [], "expected the config to be accepted");
  assert.ok(config);
  return { ...config, warnings };
}

/** A stack's committed Vault settings with `over` on top (one level deep). */
const vaultOf = (stack: string, over: Record<string, unknown>): Record<string, unknown> => ({ ...(stackConfig(stack)[`${P}:vault`] as object), ...over });

/** The value an output resolves to, and whether it is a secret. */
async function resolved(o: pulumi.Output<string> | undefined): Promise<[string, boolean]> {
  assert.ok(o, "expected an output");
  const value = await new Promise<string>((resolve) => o.apply((v) => (resolve(v), v)));
  return [value, await (o as unknown as { isSecret: Promise<boolean> }).isSecret];
}

/** The problems of a config source loaded as `stack`, which must be refused. */
const loadProblemsOf = (from: ConfigSource, stack: string): ConfigProblem[] => problemsOf(() => loadStackConfig(from, stack));

const PLAIN_TEXT =
  "holds a secret but is stored in plain text in the stack file (value not shown). If that file was ever committed, the value is in Git history: rotate it at its source, then remove the plain entry and set the new value as a secret";

const fragments = exampleFragments();
const AWS = stackConfig("production")[`${P}:aws`] as Record<string, unknown>;
const GCP = fragments.gcp[`${P}:gcp`] as Record<string, unknown>;
const AZURE = fragments.azure[`${P}:azure`] as Record<string, unknown>;

describe("stack config: each cross-key rule from both sides", () => {
  describe("providers", () => {
    it("kubernetes alone is development's plain-Secrets option: no ESO backend or settings, no Vault, and database is ignored with a warning", () => {
      const c = accepted("development", { [`${P}:providers`]: ["kubernetes"], [`${P}:database`]: { host: "postgres.example" } });
      assert.deepEqual([c.esoProviders, c.eso, c.vault, c.database], [[], undefined, undefined, undefined]);
      assert.ok("databaseUrl" in c.supplied, "database-url is supplied when Vault does not rotate it");
      assert.deepEqual(c.warnings, [
        `${P}:database is ignored: rotated database credentials need vault in providers; database-url comes from the databaseUrl secret instead`,
      ]);
    });

    it("with vault listed, database is used and nothing is warned", () => {
      const c = accepted("development", { [`${P}:database`]: { host: "postgres.example" } });
      assert.equal(c.database?.host, "postgres.example");
      assert.deepEqual(c.warnings, []);
    });

    it("kubernetes next to two other backends is refused, naming both", () => {
      const { problems } = load("development", { [`${P}:providers`]: ["kubernetes", "vault", "aws"], [`${P}:aws`]: AWS });
      assert.deepEqual(problems, [
        {
          key: "providers",
          message: '"kubernetes" (plain Secrets written by the program) cannot be combined with vault, aws: both would own the same Secrets',
          fix: "pulumi config rm providers --stack development && pulumi config set --path 'providers[0]' vault --stack development && pulumi config set --path 'providers[1]' aws --stack development",
        },
      ]);
    });

    it("lists the ESO backends in the stack's order, not the program's or the alphabet's", () => {
      const c = accepted("production", { [`${P}:providers`]: ["azure", "aws", "vault"], [`${P}:azure`]: AZURE });
      assert.deepEqual(c.esoProviders, ["azure", "aws", "vault"]);
    });
  });

  describe("cloud settings", () => {
    it("a cloud's settings count only when providers lists it", () => {
      const c = accepted("staging", { [`${P}:aws`]: AWS, [`${P}:gcp`]: GCP, [`${P}:azure`]: AZURE });
      assert.deepEqual([c.aws, c.gcp, c.azure], [undefined, undefined, undefined]);
    });

    it("a listed cloud gets its settings as set, with the defaults for what is not", () => {
      const c = accepted("staging", {
        [`${P}:providers`]: ["vault", "aws", "gcp", "azure"],
        [`${P}:aws`]: AWS,
        [`${P}:gcp`]: GCP,
        [`${P}:azure`]: AZURE,
      });
      assert.deepEqual(c.aws, AWS);
      assert.deepEqual(c.gcp, {
        project: "veza-example-project",
        replicationLocations: ["europe-west1", "europe-west4"],
        clusterName: "veza",
        clusterLocation: "europe-west1",
        dataAccessAuditLogs: STACK_DEFAULTS.gcp.dataAccessAuditLogs,
      });
      assert.deepEqual(c.azure, { ...AZURE, keyVaultName: "veza-staging-kv", allowedIpRanges: ["203.0.113.0/24"] });
    });

    it("without the lists, Google replicates automatically and Key Vault admits no IP range", () => {
      const gcp = Object.fromEntries(Object.entries(GCP).filter(([k]) => k !== "replicationLocations"));
      const azure = Object.fromEntries(Object.entries(AZURE).filter(([k]) => k !== "allowedIpRanges"));
      const c = accepted("staging", { [`${P}:providers`]: ["vault", "gcp", "azure"], [`${P}:gcp`]: gcp, [`${P}:azure`]: azure });
      assert.deepEqual([c.gcp?.replicationLocations, c.azure?.allowedIpRanges], [[], []]);
    });
  });

  describe("generated keys", () => {
    it("a misspelt key is not moved onto a key the stack already sets", () => {
      const { problems } = load("development", {
        [`${P}:generatedKeys`]: { "chat-server-secret": { length: 48 }, "chat-server-secrte": { length: 40 } },
      });
      assert.equal(problems.length, 1);
      assert.equal(problems[0].key, 'generatedKeys["chat-server-secrte"]');
      assert.ok(!problems[0].message.includes('did you mean "chat-server-secret"'), problems[0].message);
      assert.ok(!problems[0].fix.includes('generatedKeys["chat-server-secret"]'), problems[0].fix);
    });
  });

  describe("supplied secrets", () => {
    it("a shape without a hint is named by its pattern, and the fix prompts for the secret", () => {
      const catalog = CATALOG.map((s): SecretSpec => {
        if (s.key !== "redis-url" || s.source.kind !== "supplied") return s;
        const source = { ...s.source };
        delete source.patternHint;
        return { ...s, source };
      });
      const redis = catalog.find((s) => s.key === "redis-url");
      const pattern = redis?.source.kind === "supplied" ? redis.source.pattern : undefined;
      assert.ok(pattern instanceof RegExp);
      const { problems } = load("development", {}, { ...fakeSecrets(), [`${P}:redisUrl`]: "memcached://cache:11211" }, {}, catalog);
      assert.deepEqual(problems, [
        { key: "redisUrl", message: `must be like ${String(pattern)} (value not shown)`, fix: "pulumi config set --secret redisUrl --stack development" },
      ]);
    });
  });

  describe("ESO", () => {
    it("passes an image digest on, and has none where the stack sets none", () => {
      const digest = `sha256:${"0123456789abcdef".repeat(4)}`;
      assert.equal(accepted("staging", { [`${P}:eso`]: { imageDigest: digest } }).eso?.imageDigest, digest);
      assert.ok(!("imageDigest" in (accepted("staging").eso ?? {})));
    });

    it("warns, without refusing, that nothing restarts pods when Reloader is off (no database)", () => {
      const off = accepted("staging", { [`${P}:database`]: undefined, [`${P}:rotation`]: { installReloader: false } });
      assert.deepEqual(off.warnings, [
        `${P}:rotation.installReloader is false: nothing restarts pods when ESO updates a Secret (the secrets-rotation CronJob only force-syncs); run your own Reloader or restart the services after a rotation`,
      ]);
      assert.deepEqual(accepted("staging", { [`${P}:database`]: undefined, [`${P}:rotation`]: { installReloader: true } }).warnings, []);
    });
  });

  describe("network", () => {
    const withAddress = (address: string): Loaded =>
      load("staging", { [`${P}:vault`]: vaultOf("staging", { address }), [`${P}:network`]: { policies: true, apiServerCidrs: ["172.20.0.1/32"] } });
    for (const address of ["http://127.0.0.1:8200", "https://127.0.0.1:8200/", "https://localhost", "https://localhost:8200"]) {
      it(`${address} is kubectl port-forward: no deployer range needed`, () => {
        assert.deepEqual(withAddress(address).problems, []);
      });
    }
    for (const address of ["https://localhost.example:8200", "https://vault.example/http://127.0.0.1:8200", "https://10.0.0.7:8200"]) {
      it(`${address} is reached over the network: a deployer range is required`, () => {
        assert.deepEqual(
          withAddress(address).problems.map((p) => p.key),
          ["network.deployerCidrs"],
        );
      });
    }

    it("the API server's address is required outside development, and only there (issue 29 #11)", () => {
      for (const stack of ["staging", "production"] as const) {
        const { problems } = load(stack, { [`${P}:network`]: { deployerCidrs: ["10.20.0.0/24"] } });
        assert.deepEqual(
          problems.map((p) => [p.key, p.fix]),
          // The address is the cluster's own: read from its endpoints when the fix runs, not an example's.
          [
            [
              "network.apiServerCidrs",
              `pulumi config set --path 'network.apiServerCidrs[0]' --stack ${stack} -- "$(kubectl get endpointslices -n default -l kubernetes.io/service-name=kubernetes -o jsonpath='{.items[0].endpoints[0].addresses[0]}/32')"`,
            ],
          ],
          stack,
        );
        assert.deepEqual(load(stack, { [`${P}:network`]: { deployerCidrs: ["10.20.0.0/24"], apiServerCidrs: ["10.0.0.1/32"] } }).problems, [], stack);
      }
      // Development: no NetworkPolicies by default, and none required when they are turned on.
      assert.deepEqual(accepted("development", { [`${P}:network`]: { policies: true } }).network?.apiServerCidrs, undefined);
    });

    it("one CIDR and one namespace are enough, and every list is passed on", () => {
      const network = { deployerCidrs: ["10.20.0.0/24"], deployerNamespaces: ["ingress-nginx"], apiServerCidrs: ["172.20.0.1/32"] };
      assert.deepEqual(accepted("staging", { [`${P}:network`]: network }).network, network);
    });
  });

  describe("Vault", () => {
    it("the Pulumi organization is needed only once bootstrapped, and only with jwt login", () => {
      accepted("staging", { [`${P}:vault`]: { mode: "ha", bootstrapped: false, login: { issuer: "pulumi" } } }, withoutSecrets("databaseAdminPassword"));
      accepted(
        "staging",
        { [`${P}:vault`]: vaultOf("staging", { login: { method: "token", issuer: "pulumi" } }) },
        { ...fakeSecrets(), [`${P}:vaultToken`]: "hvs.CAESIJ3f0XwYbQ" },
      );
    });

    it("token login takes a Vault token of any shape (the root-token rule is dev mode's), as a secret", async () => {
      const uuid = "8e8a3d6c-1c2b-4f5e-9a7d-3b2c1d0e9f8a"; // the token format before Vault 1.10: starts with a digit
      const c = accepted("staging", { [`${P}:vault`]: vaultOf("staging", { login: { method: "token" } }) }, { ...fakeSecrets(), [`${P}:vaultToken`]: uuid });
      assert.deepEqual(await resolved(c.vault?.token), [uuid, true]);
    });

    for (const [stack, key] of [
      ["development", "vaultDevRootToken"],
      ["staging", "databaseAdminPassword"],
    ] as const) {
      it(`${stack}: ${key} in clear text is one problem, not also "is required"`, () => {
        const { problems } = load(stack, {}, withoutSecrets(key), { [`${P}:${key}`]: "pasted-in-clear-text" });
        assert.deepEqual(problems, [{ key, message: PLAIN_TEXT, fix: `pulumi config set --secret ${key} --stack ${stack}` }]);
      });
    }

    it("warns of the CA roots for a bootstrapped HA Vault on https without a CA file, naming its address", () => {
      const warned = accepted("staging", { [`${P}:vault`]: vaultOf("staging", { caCertFile: undefined }) }).warnings;
      assert.deepEqual(warned, [
        `${P}:vault.caCertFile is not set: the Vault provider verifies https://vault.staging.veza.internal:8200 against the system's CA roots only; with a private CA (README, "Bootstrapping Vault") every Vault resource fails with "x509: certificate signed by unknown authority"`,
      ]);
    });

    it("no CA warning before the bootstrap, over http, or for dev mode", () => {
      const staging = (over: Record<string, unknown>, secrets = fakeSecrets()): string[] =>
        accepted("staging", { [`${P}:vault`]: vaultOf("staging", { caCertFile: undefined, ...over }) }, secrets).warnings;
      assert.deepEqual(staging({ bootstrapped: false }, withoutSecrets("databaseAdminPassword")), []);
      assert.deepEqual(staging({ address: "http://127.0.0.1:8200" }), []);
      assert.deepEqual(accepted("development", { [`${P}:vault`]: { address: "https://vault.dev.example:8200" } }).warnings, []);
    });

    it("an HA Vault's default address is its in-cluster service, in the namespace the stack sets", () => {
      const fresh = { mode: "ha", bootstrapped: false };
      const address = (over: Record<string, unknown>): string | undefined =>
        accepted("staging", { [`${P}:vault`]: fresh, ...over }, withoutSecrets("databaseAdminPassword")).vault?.address;
      assert.equal(address({}), "https://vault.vault-system.svc:8200");
      assert.equal(address({ [`${P}:namespaces`]: { vault: "secrets" } }), "https://vault.secrets.svc:8200");
    });

    it("passes on the login's repository or organization, and only what is set", () => {
      assert.deepEqual(accepted("staging").vault?.login, {
        method: "jwt",
        issuer: "github",
        role: "pulumi-staging",
        githubRepository: "veza/veza-secrets",
      });
      const viaPulumi = accepted("production", { [`${P}:vault`]: vaultOf("production", { login: { issuer: "pulumi", pulumiOrganization: "veza" } }) });
      assert.deepEqual(viaPulumi.vault?.login, { method: "jwt", issuer: "pulumi", role: "pulumi-production", pulumiOrganization: "veza" });
    });
  });

  describe("database", () => {
    const pem = fs.readFileSync(path.join(ROOT, "certs", "vault-ca.pem"), "utf8");

    it("a CA is accepted with either verifying sslmode, and passed on", () => {
      const ca = accepted("staging", { [`${P}:database`]: { host: "db", sslMode: "verify-ca", caCert: pem } }).database;
      assert.deepEqual([ca?.sslMode, ca?.caCert, ca && "sslRootCert" in ca], ["verify-ca", pem, false]);
      const file = accepted("staging", { [`${P}:database`]: { host: "db", sslMode: "verify-full", sslRootCert: "/etc/veza/postgres/ca.crt" } }).database;
      assert.deepEqual([file?.sslRootCert, file && "caCert" in file], ["/etc/veza/postgres/ca.crt", false]);
    });

    it("a refresh of exactly 1m is allowed", () => {
      assert.equal(accepted("staging", { [`${P}:database`]: { host: "db", defaultTtl: "10m", refreshInterval: "1m" } }).database?.refreshInterval, "1m");
    });

    it("the admin password is the secret set, or an empty secret before the bootstrap", async () => {
      assert.deepEqual(await resolved(accepted("staging").database?.adminPassword), [fakeSecrets()[`${P}:databaseAdminPassword`], true]);
      const fresh = accepted("staging", { [`${P}:vault`]: { mode: "ha", bootstrapped: false } }, withoutSecrets("databaseAdminPassword"));
      assert.deepEqual(await resolved(fresh.database?.adminPassword), ["", true]);
    });
  });

  describe("reading the engine's values", () => {
    it("every secret key: the catalog's supplied ones in order, then Vault's and the database admin's", () => {
      // The spec's catalog (frozen), exactly; then the live catalog, whatever lines it has gained.
      assert.deepEqual(secretConfigKeys(SPEC_CATALOG), [
        "databaseUrl",
        "redisUrl",
        "stripeApiKey",
        "stripeWebhookSecret",
        "smtpPassword",
        "s3AccessKey",
        "s3SecretKey",
        "vaultDevRootToken",
        "vaultToken",
        "databaseAdminPassword",
      ]);
      const supplied = CATALOG.flatMap((s) => (s.source.kind === "generated" ? [] : [s.source.configKey]));
      assert.deepEqual(secretConfigKeys(CATALOG), [...supplied, "vaultDevRootToken", "vaultToken", "databaseAdminPassword"]);
    });

    it("ignores other namespaces' keys (provider config)", () => {
      accepted("development", { "kubernetes:context": "kind-veza", "aws:region": "eu-west-1" });
    });

    it("a top-level value that reads as a number stays text", () => {
      assert.equal(accepted("production", { [`${P}:vaultLoginRole`]: "12345" }).vault?.login.role, "12345");
    });

    it("parses a list or object with whitespace around it, and names one that is not JSON", () => {
      assert.deepEqual(accepted("development", { [`${P}:providers`]: '\n ["vault"]\n' }).providers, ["vault"]);
      const { problems } = load("development", { [`${P}:vault`]: "{mode: dev}" });
      // No example for a whole object: the fix removes the text, and the next run names what is missing in it.
      assert.deepEqual(problems, [{ key: "vault", message: 'must be an object; got "{mode: dev}"', fix: "pulumi config rm vault --stack development" }]);
      assert.deepEqual(accepted("development", { [`${P}:vault`]: undefined }).vault?.mode, "dev");
    });

    it("secrets without other config are checked as config, not taken for a missing stack", () => {
      const secrets = fakeSecrets();
      const onlySecrets = loadProblemsOf({ values: secrets, secretKeys: new Set(Object.keys(secrets)) }, "staging");
      assert.ok(
        onlySecrets.some((p) => p.key === "environment" && p.message.endsWith("; got nothing")),
        JSON.stringify(onlySecrets),
      );
      const onlyPlain = loadProblemsOf({ values: { [`${P}:vaultToken`]: "pasted" }, secretKeys: new Set() }, "staging");
      assert.ok(
        onlyPlain.some((p) => p.key === "vaultToken" && p.message === PLAIN_TEXT),
        JSON.stringify(onlyPlain),
      );
      assert.ok(!onlyPlain.some((p) => p.message.startsWith("no veza-secrets config found")));
    });

    it("with no config at all, the fix sets the environment the stack's name gives, else development", () => {
      for (const [stack, env] of [
        ["staging-pr-7", "staging"],
        ["alice", "development"],
      ]) {
        assert.deepEqual(
          loadProblemsOf({ values: {}, secretKeys: new Set() }, stack).map((p) => [p.key, p.fix]),
          [["environment", `pulumi config set environment ${env} --stack ${stack}`]],
        );
      }
    });

    it("a stack named for another environment is told to set that one; a name of none, to rename the stack", () => {
      // Staging's committed config, loaded as another stack.
      const loadedAs = (stack: string): ConfigProblem[] => {
        const secrets = fakeSecrets();
        return loadProblemsOf({ values: { ...engineConfig(stackConfig("staging")), ...secrets }, secretKeys: new Set(Object.keys(secrets)) }, stack);
      };
      assert.deepEqual(loadedAs("production-eu"), [
        {
          key: "environment",
          message: `is "staging" but the stack is "production-eu"; a stack's name must be its environment or start with "<environment>-"`,
          fix: "pulumi config set environment production --stack production-eu",
        },
      ]);
      assert.deepEqual(
        loadedAs("qa").map((p) => p.fix),
        ["pulumi stack rename staging --stack qa"],
      );
    });

    it("a committed stack loads without a warning", () => {
      assert.deepEqual(accepted("staging").warnings, []);
    });
  });
});
