/**
 * The shared rules against examples from each upstream definition: Kubernetes'
 * IsDNS1123Label/IsDNS1123Subdomain (validation.go) and resource.Quantity, PostgreSQL's
 * unquoted identifiers (NAMEDATALEN 64), AWS and Google Cloud naming rules.
 */
import * as assert from "node:assert/strict";
import * as rules from "./rules";

const cases: [keyof typeof rules, string[], string[]][] = [
  ["DNS_LABEL", ["a", "veza-production", "0abc", "a".repeat(63)], ["", "-a", "a-", "A", "a_b", "a.b", "a".repeat(64)]],
  [
    "DNS_SUBDOMAIN",
    ["a", "eso-vault-store", "a.b.c", `${"a".repeat(63)}.${"b".repeat(63)}`, "a".repeat(253)],
    ["", "a..b", ".a", "a.", "A", "a_b", "a".repeat(254)],
  ],
  ["QUANTITY", ["10Gi", "250m", "1", "1.5", "1.25Gi", "512Mi", "2Ei"], ["", "10 Gi", "10gi", "-1", "1.", "Gi"]],
  ["PG_IDENTIFIER", ["veza_app", "_x", "a".repeat(63)], ["", "1abc", "Veza", "veza-app", "a".repeat(64), "a b"]],
  ["VAULT_NAME", ["veza-production-read", "veza_app", "0x"], ["", "-x", "Veza", "a/b", "a*"]],
  ["VAULT_PATH", ["secret", "veza/production", "database/static-creds/veza-app"], ["", "/secret", "secret/", "a//b", "a/*", "a b"]],
  ["CATALOG_KEY", ["jwt-secret", "database-url", "s3key"], ["", "Jwt", "jwt_secret", "-jwt", "jwt-", "jwt--secret", "1jwt"]],
  ["AWS_REGION", ["eu-west-1", "us-gov-west-1", "ap-southeast-12"], ["", "eu-west", "EU-west-1", "euwest1", "eu-west-1a", "1eu-west-1", "x.eu-west-1"]],
  ["AWS_ACCOUNT_ID", ["123456789012", "000000000001"], ["", "12345678901", "1234567890123", "12345678901a"]],
  [
    "AWS_OIDC_ISSUER",
    ["oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"],
    ["", "https://oidc.eks.eu-west-1.amazonaws.com/id/X", "oidc.eks.eu-west-1.amazonaws.com/id/X/", "oidc eks"],
  ],
  ["GCP_PROJECT_ID", ["veza-prod", "my-project-123456"], ["", "veza", "Veza-prod", "1veza-prod", "veza-prod-", "a".repeat(31)]],
  ["GCP_SERVICE_ACCOUNT_ID", ["eso-veza", "veza-secrets-reader"], ["", "eso", "Eso-veza", "eso_veza", "eso-veza_", "eso-veza@"]],
  ["AZURE_KEY_VAULT_NAME", ["veza-prod-kv", "abc", "Kv1"], ["", "ab", "1kv", "kv-", "veza--kv", "a".repeat(25)]],
  ["IPV4_RANGE", ["203.0.113.0/24", "10.0.0.1", "0.0.0.0/0"], ["", "256.0.0.1", "10.0.0/24", "10.0.0.1/33", "::1"]],
  [
    "GCP_REGION",
    ["europe-west1", "us-central1", "northamerica-northeast2", "europe-west12"],
    // A zone (europe-west1-b) is not a region; nor is an AWS-style name with two hyphens.
    ["", "europe-west", "europe-west1-b", "Europe-west1", "us-gov-east1", "west1"],
  ],
];

describe("components/rules: one home for naming and format rules", () => {
  for (const [name, valid, invalid] of cases) {
    it(`${name} accepts the valid examples and refuses the invalid ones`, () => {
      const re = rules[name];
      for (const v of valid) assert.ok(re.test(v), `${name} should accept ${JSON.stringify(v)}`);
      for (const v of invalid) assert.ok(!re.test(v), `${name} should refuse ${JSON.stringify(v)}`);
    });
  }

  it("covers every rule the module exports", () => {
    assert.deepEqual(cases.map(([n]) => n).sort(), Object.keys(rules).sort());
  });
});
