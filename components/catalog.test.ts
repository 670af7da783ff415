/**
 * The catalog's helpers (components/catalog.ts) on small hand-made catalogs, so each rule is
 * seen on its own: which service needs which key, the Secrets the services read, the keys a
 * rotated key publishes, and the invariants `validateCatalog` enforces, with exact messages.
 */
import * as assert from "node:assert/strict";
import {
  CATALOG,
  type SecretSpec,
  generatedSecrets,
  needs,
  publishedKeys,
  serviceSecretName,
  serviceSecrets,
  serviceWorkloadName,
  suppliedSecrets,
  validateCatalog,
} from "./catalog";
import { SPEC_SERVICES } from "../test/catalog-fixture";

const generated = (key: string, services: SecretSpec["services"], keepPrevious = false): SecretSpec => ({
  key,
  description: key,
  services,
  source: { kind: "generated", length: 48, minLength: 32, rotationDays: 30, keepPrevious },
});
const supplied = (
  key: string,
  configKey: string,
  services: SecretSpec["services"] = "all",
  extra: { pattern?: RegExp; example?: string } = {},
): SecretSpec => ({
  key,
  description: key,
  services,
  source: { kind: "supplied", configKey, ...extra },
});
const database: SecretSpec = {
  key: "database-url",
  description: "db",
  services: "all",
  source: { kind: "database", configKey: "databaseUrl", pattern: /^postgresql:\/\/.+/, patternHint: "a URL", example: "postgresql://u:<secret>@h/d" },
};

/** Shared keys (one rotated), one key per service, and one key two services share. */
const SMALL: SecretSpec[] = [
  database,
  generated("jwt-secret", "all", true),
  supplied("stripe-api-key", "stripeApiKey", ["backend-api"]),
  generated("chat-server-secret", ["chat-server"]),
  supplied("media-key", "mediaKey", ["chat-server", "stream-server"]),
];

describe("components/catalog", () => {
  it("names a service's Secret and its workload after the service", () => {
    assert.equal(serviceSecretName("backend-api"), "veza-backend-api-secrets");
    assert.equal(serviceWorkloadName("stream-server"), "veza-stream-server");
  });

  it("needs: a key for all services, or only for the services it lists", () => {
    const matrix = SMALL.map((s) => [s.key, SPEC_SERVICES.filter((svc) => needs(s, svc))]);
    assert.deepEqual(matrix, [
      ["database-url", ["backend-api", "chat-server", "stream-server"]],
      ["jwt-secret", ["backend-api", "chat-server", "stream-server"]],
      ["stripe-api-key", ["backend-api"]],
      ["chat-server-secret", ["chat-server"]],
      ["media-key", ["chat-server", "stream-server"]],
    ]);
  });

  it("publishes <key>-previous only for a generated key that keeps its previous value", () => {
    assert.deepEqual(publishedKeys(generated("jwt-secret", "all", true)), ["jwt-secret", "jwt-secret-previous"]);
    assert.deepEqual(publishedKeys(generated("jwt-secret", "all", false)), ["jwt-secret"]);
    assert.deepEqual(publishedKeys(supplied("redis-url", "redisUrl")), ["redis-url"]);
  });

  it("makes the shared Secret from the all-service keys and one Secret per service from the keys it needs", () => {
    assert.deepEqual(serviceSecrets(SMALL, { services: SPEC_SERVICES }), [
      { name: "veza-secrets", keys: ["database-url", "jwt-secret", "jwt-secret-previous"] },
      { name: "veza-backend-api-secrets", service: "backend-api", keys: ["database-url", "jwt-secret", "jwt-secret-previous", "stripe-api-key"] },
      {
        name: "veza-chat-server-secrets",
        service: "chat-server",
        keys: ["database-url", "jwt-secret", "jwt-secret-previous", "chat-server-secret", "media-key"],
      },
      { name: "veza-stream-server-secrets", service: "stream-server", keys: ["database-url", "jwt-secret", "jwt-secret-previous", "media-key"] },
    ]);
  });

  it("keeps a database login out of the shared Secret where each service has its own, and only then", () => {
    const perService = serviceSecrets(SMALL, { databasePerService: true });
    assert.deepEqual(perService[0], { name: "veza-secrets", keys: ["jwt-secret", "jwt-secret-previous"] });
    for (const s of perService.slice(1)) assert.equal(s.keys[0], "database-url", s.name);
    // A supplied all-service key stays shared with databasePerService on.
    assert.deepEqual(serviceSecrets([supplied("redis-url", "redisUrl")], { databasePerService: true })[0].keys, ["redis-url"]);
  });

  it("makes Secrets only for the services asked for", () => {
    assert.deepEqual(
      serviceSecrets(SMALL, { services: ["chat-server"] }).map((s) => s.name),
      ["veza-secrets", "veza-chat-server-secrets"],
    );
    assert.deepEqual(
      serviceSecrets(SMALL, { services: [] }).map((s) => s.name),
      ["veza-secrets"],
    );
  });

  it("splits the catalog into generated and supplied keys, leaving database keys to neither", () => {
    assert.deepEqual(
      generatedSecrets(SMALL).map((s) => s.key),
      ["jwt-secret", "chat-server-secret"],
    );
    assert.deepEqual(
      suppliedSecrets(SMALL).map((s) => s.key),
      ["stripe-api-key", "media-key"],
    );
  });

  it("accepts the real catalog and the small one", () => {
    assert.doesNotThrow(() => validateCatalog(CATALOG));
    assert.doesNotThrow(() => validateCatalog(SMALL));
    // A pattern with an example that matches once the placeholder is filled in.
    assert.doesNotThrow(() => validateCatalog([supplied("redis-url", "redisUrl", "all", { pattern: /^redis:\/\/x$/, example: "redis://<secret>" })]));
  });

  for (const [label, catalog, message] of [
    ["a key that is not kebab-case", [generated("JWT", "all")], 'catalog: key "JWT" must be kebab-case, at most 63 characters'],
    ["a key over 63 characters", [generated("k".repeat(64), "all")], `catalog: key "${"k".repeat(64)}" must be kebab-case, at most 63 characters`],
    ["a key listed twice", [generated("a", "all"), generated("a", ["backend-api"])], 'catalog: key "a" appears twice'],
    ["a key no service needs", [generated("a", [])], 'catalog: key "a" is needed by no service'],
    [
      "a generated key shorter than its minLength",
      [{ ...generated("a", "all"), source: { kind: "generated", length: 40, minLength: 48, rotationDays: 1, keepPrevious: false } }],
      'catalog: key "a" length 40 must be at least its minLength 48, itself at least 32',
    ],
    [
      "a minLength under 32",
      [{ ...generated("a", "all"), source: { kind: "generated", length: 40, minLength: 31, rotationDays: 1, keepPrevious: false } }],
      'catalog: key "a" length 40 must be at least its minLength 31, itself at least 32',
    ],
    [
      "a rotation under a day",
      [{ ...generated("a", "all"), source: { kind: "generated", length: 40, minLength: 32, rotationDays: 0, keepPrevious: false } }],
      'catalog: key "a" rotationDays must be at least 1',
    ],
    ["a config key with a dash", [supplied("a", "stripe-key")], 'catalog: key "a" config key "stripe-key" must be camelCase'],
    ["a config key starting with a capital", [supplied("a", "StripeKey")], 'catalog: key "a" config key "StripeKey" must be camelCase'],
    ["a config key ending in a dash", [supplied("a", "stripeKey-")], 'catalog: key "a" config key "stripeKey-" must be camelCase'],
    [
      "a pattern without an example",
      [supplied("a", "aKey", "all", { pattern: /^x/ })],
      'catalog: key "a" has a pattern, so it needs an example with <secret> where the secret goes',
    ],
    [
      "an example without the placeholder",
      [supplied("a", "aKey", "all", { pattern: /^x/, example: "xyz" })],
      'catalog: key "a" has a pattern, so it needs an example with <secret> where the secret goes',
    ],
    [
      "an example that does not match its pattern",
      [supplied("a", "aKey", "all", { pattern: /^redis:\/\/x$/, example: "redis://<secret>/0" })],
      'catalog: key "a" example "redis://<secret>/0" does not match its own pattern /^redis:\\/\\/x$/',
    ],
    ["two keys with one config key", [supplied("a", "aKey"), supplied("b", "aKey")], 'catalog: config key "aKey" is used by two keys'],
  ] as [string, SecretSpec[], string][]) {
    it(`refuses ${label}`, () => {
      assert.throws(() => validateCatalog(catalog), { message });
    });
  }
});
