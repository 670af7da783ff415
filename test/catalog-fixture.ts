/**
 * A frozen copy of the spec's "Secret Structure" tables, for component tests that assert
 * exact names and keys. Component tests use this, not `CATALOG`, so that adding a line to
 * the real catalog changes no hand-written expectation; whole-program tests derive theirs
 * from `CATALOG` instead.
 */
import type { SecretSpec, Service } from "../components/catalog";

/** The spec's services. */
export const SPEC_SERVICES: readonly Service[] = ["backend-api", "chat-server", "stream-server"];

export const SPEC_CATALOG: readonly SecretSpec[] = [
  {
    key: "database-url",
    description: "PostgreSQL connection string",
    services: "all",
    source: {
      kind: "database",
      configKey: "databaseUrl",
      pattern: /^postgres(ql)?:\/\/.+/,
      patternHint: "a postgresql:// URL",
      example: "postgresql://veza:<secret>@postgres.example:5432/veza",
    },
  },
  {
    key: "redis-url",
    description: "Redis connection string",
    services: "all",
    source: {
      kind: "supplied",
      configKey: "redisUrl",
      pattern: /^rediss?:\/\/.+/,
      patternHint: "a redis:// or rediss:// URL",
      example: "rediss://:<secret>@redis.example:6380/0",
    },
  },
  {
    key: "jwt-secret",
    description: "JWT signing secret (min 32 chars)",
    services: "all",
    source: { kind: "generated", length: 64, minLength: 32, rotationDays: 90, keepPrevious: true },
  },
  { key: "stripe-api-key", description: "Stripe API key for payments", services: ["backend-api"], source: { kind: "supplied", configKey: "stripeApiKey" } },
  {
    key: "stripe-webhook-secret",
    description: "Stripe webhook signing secret",
    services: ["backend-api"],
    source: { kind: "supplied", configKey: "stripeWebhookSecret" },
  },
  { key: "smtp-password", description: "SMTP password for emails", services: ["backend-api"], source: { kind: "supplied", configKey: "smtpPassword" } },
  { key: "s3-access-key", description: "AWS S3 access key", services: ["backend-api"], source: { kind: "supplied", configKey: "s3AccessKey" } },
  { key: "s3-secret-key", description: "AWS S3 secret key", services: ["backend-api"], source: { kind: "supplied", configKey: "s3SecretKey" } },
  {
    key: "chat-server-secret",
    description: "Secret for chat server authentication",
    services: ["chat-server"],
    source: { kind: "generated", length: 48, minLength: 32, rotationDays: 90, keepPrevious: false },
  },
  {
    key: "stream-server-secret",
    description: "Secret for stream server authentication",
    services: ["stream-server"],
    source: { kind: "generated", length: 48, minLength: 32, rotationDays: 90, keepPrevious: false },
  },
];
