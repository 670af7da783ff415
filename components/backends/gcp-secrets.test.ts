import * as assert from "node:assert/strict";
import { Provider } from "@pulumi/gcp/provider";
import { findResource, isSecret, plaintextOccurrences, resourcesOfType, runProgram, unwrapSecrets, type ProgramRun } from "../../harness";
import { SPEC_CATALOG } from "../../test/catalog-fixture";
import { GcpSecrets, type GcpSecretsArgs } from "./gcp-secrets";

const AUDIT_CONFIG = "gcp:projects/iAMAuditConfig:IAMAuditConfig";
const CONFIG = { "veza-secrets:environment": "development", "veza-secrets:providers": ["vault"] };
const COMPONENT = "veza:secrets:GcpSecrets";
const SECRET = "gcp:secretmanager/secret:Secret";
const VERSION = "gcp:secretmanager/secretVersion:SecretVersion";
const ACCESSOR = "gcp:secretmanager/secretIamMember:SecretIamMember";
const ACCOUNT = "gcp:serviceaccount/account:Account";
const SA_MEMBER = "gcp:serviceaccount/iAMMember:IAMMember";
const ENVIRONMENTS = ["development", "staging", "production"] as const;

/** A three-key slice of the catalog, each with a recognisable fake value. */
const KEYS = SPEC_CATALOG.slice(0, 3).map((s) => s.key);
const fakeValue = (env: string, key: string) => `FAKE-GCP-${env}-${key}-7d1e0b`;

function argsFor(env: string, overrides: Partial<GcpSecretsArgs> = {}): GcpSecretsArgs {
  return {
    project: "veza-prod",
    namePrefix: `veza-${env}-`,
    // Plain strings on purpose: the component must make them secrets itself.
    secrets: SPEC_CATALOG.slice(0, 3).map((s) => ({ key: s.key, description: s.description, value: fakeValue(env, s.key) })),
    replicationLocations: [],
    labels: { environment: env, "managed-by": "pulumi" },
    serviceAccountId: `eso-veza-${env}`,
    kubernetesServiceAccount: { namespace: `veza-${env}`, name: "eso-gcp-store" },
    ...overrides,
  };
}

const run1 = (args: GcpSecretsArgs) => runProgram({ stack: "test", config: CONFIG, program: () => new GcpSecrets("gcp", args) });

describe("components/backends/gcp-secrets", () => {
  let run: ProgramRun;
  beforeEach(async () => {
    run = await run1(argsFor("production"));
  });

  it("registers exactly three secrets, three versions, three accessor bindings, one account and one Workload Identity binding", () => {
    const counts: Record<string, number> = {};
    for (const r of run.resources) counts[r.type] = (counts[r.type] ?? 0) + 1;
    assert.deepEqual(counts, {
      "pulumi:pulumi:Stack": 1,
      [COMPONENT]: 1,
      [SECRET]: 3,
      [VERSION]: 3,
      [ACCESSOR]: 3,
      [ACCOUNT]: 1,
      [SA_MEMBER]: 1,
      [AUDIT_CONFIG]: 1,
    });
    const component = findResource(run, COMPONENT, "gcp");
    for (const r of run.resources.filter((x) => x.custom)) assert.equal(r.parent, component.urn, r.name);
  });

  it("names the secrets prefix + key, with automatic replication, labels and a description annotation", () => {
    assert.deepEqual(
      resourcesOfType(run, SECRET)
        .map((r) => r.inputs.secretId)
        .sort(),
      ["veza-production-database-url", "veza-production-jwt-secret", "veza-production-redis-url"],
    );
    assert.deepEqual(findResource(run, SECRET, "gcp-redis-url").inputs, {
      project: "veza-prod",
      secretId: "veza-production-redis-url",
      replication: { auto: {} },
      labels: { environment: "production", "managed-by": "pulumi" },
      annotations: { description: "Redis connection string" },
      deletionProtection: false,
    });
    for (const key of KEYS) {
      const version = findResource(run, VERSION, `gcp-${key}-version`);
      assert.equal(version.inputs.secret, findResource(run, SECRET, `gcp-${key}`).id);
      assert.ok(version.dependencies.includes(findResource(run, SECRET, `gcp-${key}`).urn));
    }
  });

  it("replicates to exactly the given locations when there are some", async () => {
    const r = await run1(argsFor("production", { replicationLocations: ["europe-west1", "europe-west4"] }));
    for (const s of resourcesOfType(r, SECRET)) {
      assert.deepEqual(s.inputs.replication, { userManaged: { replicas: [{ location: "europe-west1" }, { location: "europe-west4" }] } });
    }
  });

  it("stores every value as a secret and never in clear text, in inputs or outputs", () => {
    for (const key of KEYS) {
      const data = findResource(run, VERSION, `gcp-${key}-version`).inputs.secretData;
      assert.ok(isSecret(data), key);
      assert.equal(unwrapSecrets(data), fakeValue("production", key));
    }
    for (const key of KEYS) {
      const needle = fakeValue("production", key);
      assert.deepEqual(
        run.resources.flatMap((r) => plaintextOccurrences(r.inputs, needle, r.name)),
        [],
      );
      assert.deepEqual(
        [...run.componentOutputs.values()].flatMap((o) => plaintextOccurrences(o, needle)),
        [],
      );
    }
  });

  it("grants secretAccessor once per secret to the ESO account, on those secrets only, and nothing project-wide", () => {
    const member = "serviceAccount:eso-veza-production@veza-prod.iam.gserviceaccount.com";
    const bindings = resourcesOfType(run, ACCESSOR)
      .map((r) => r.inputs)
      .sort((a, b) => String(a.secretId).localeCompare(String(b.secretId)));
    assert.deepEqual(bindings, [
      { project: "veza-prod", secretId: "veza-production-database-url", role: "roles/secretmanager.secretAccessor", member },
      { project: "veza-prod", secretId: "veza-production-jwt-secret", role: "roles/secretmanager.secretAccessor", member },
      { project: "veza-prod", secretId: "veza-production-redis-url", role: "roles/secretmanager.secretAccessor", member },
    ]);
    // Project-, folder- and organization-level IAM would reach every secret in the project.
    // (The project's audit-log config grants nothing: it only turns logging on.)
    assert.deepEqual(
      run.resources.filter((r) => /^gcp:(projects|folder|organizations)\//.test(r.type) && r.type !== AUDIT_CONFIG).map((r) => r.type),
      [],
    );
  });

  it("creates the account and lets exactly the store's Kubernetes ServiceAccount impersonate it", () => {
    assert.deepEqual(findResource(run, ACCOUNT, "gcp-eso").inputs, {
      project: "veza-prod",
      accountId: "eso-veza-production",
      displayName: "External Secrets Operator (veza-production-*)",
      description: "Read by ESO through Workload Identity; may read the veza-production-* secrets only.",
    });
    assert.deepEqual(findResource(run, SA_MEMBER, "gcp-eso-workload-identity").inputs, {
      serviceAccountId: "projects/veza-prod/serviceAccounts/eso-veza-production@veza-prod.iam.gserviceaccount.com",
      role: "roles/iam.workloadIdentityUser",
      member: "serviceAccount:veza-prod.svc.id.goog[veza-production/eso-gcp-store]",
    });
  });

  it("turns on Secret Manager's Data Access audit logs in the project (off by default in Google Cloud), unless told not to", async () => {
    const audit = resourcesOfType(run, AUDIT_CONFIG);
    assert.deepEqual(
      audit.map((a) => unwrapSecrets(a.inputs)),
      [
        {
          project: "veza-prod",
          service: "secretmanager.googleapis.com",
          auditLogConfigs: [{ logType: "ADMIN_READ" }, { logType: "DATA_READ" }, { logType: "DATA_WRITE" }],
        },
      ],
    );
    // A project whose audit config is managed elsewhere (it is authoritative per service).
    assert.deepEqual(resourcesOfType(await run1({ ...argsFor("production"), dataAccessAuditLogs: false }), AUDIT_CONFIG), []);
  });

  it("registers exactly its public outputs", () => {
    assert.deepEqual(run.componentOutputs.get(findResource(run, COMPONENT, "gcp").urn), {
      serviceAccountEmail: "eso-veza-production@veza-prod.iam.gserviceaccount.com",
      secretIds: { "database-url": "veza-production-database-url", "redis-url": "veza-production-redis-url", "jwt-secret": "veza-production-jwt-secret" },
      project: "veza-prod",
    });
  });

  it("grants each environment's identity its own secrets and no other environment's (3×3)", async () => {
    const r = await runProgram({ stack: "test", config: CONFIG, program: () => ENVIRONMENTS.map((env) => new GcpSecrets(`gcp-${env}`, argsFor(env))) });
    const envOfMember = (m: unknown) => ENVIRONMENTS.find((env) => m === `serviceAccount:eso-veza-${env}@veza-prod.iam.gserviceaccount.com`);
    const envOfSecret = (id: unknown) => ENVIRONMENTS.find((env) => String(id).startsWith(`veza-${env}-`));
    const matrix = ENVIRONMENTS.map(() => ENVIRONMENTS.map(() => 0));
    for (const b of resourcesOfType(r, ACCESSOR)) {
      const who = envOfMember(b.inputs.member);
      const what = envOfSecret(b.inputs.secretId);
      assert.ok(who && what, `unexpected binding ${JSON.stringify(b.inputs)}`);
      matrix[ENVIRONMENTS.indexOf(who)][ENVIRONMENTS.indexOf(what)] += 1;
    }
    assert.deepEqual(matrix, [
      [3, 0, 0],
      [0, 3, 0],
      [0, 0, 3],
    ]);
    // And each environment's Kubernetes ServiceAccount may impersonate only its own account.
    const wi = resourcesOfType(r, SA_MEMBER).map((m) => [m.inputs.serviceAccountId, m.inputs.member]);
    assert.deepEqual(
      wi,
      ENVIRONMENTS.map((env) => [
        `projects/veza-prod/serviceAccounts/eso-veza-${env}@veza-prod.iam.gserviceaccount.com`,
        `serviceAccount:veza-prod.svc.id.goog[veza-${env}/eso-gcp-store]`,
      ]),
    );
  });

  it("protects the secrets, and only them, iff asked", async () => {
    assert.deepEqual(
      run.resources.filter((r) => r.protect).map((r) => r.name),
      [],
    );
    const r = await run1(argsFor("production", { protect: true }));
    assert.deepEqual(
      r.resources
        .filter((x) => x.protect)
        .map((x) => x.name)
        .sort(),
      KEYS.map((k) => `gcp-${k}`).sort(),
    );
    for (const s of resourcesOfType(r, SECRET)) assert.equal(s.inputs.deletionProtection, true);
  });

  it("uses the given provider for every child", async () => {
    const r = await runProgram({
      stack: "test",
      config: CONFIG,
      program: () => new GcpSecrets("gcp", { ...argsFor("production"), provider: new Provider("gcp-prod", { project: "veza-prod" }) }),
    });
    const provider = findResource(r, "pulumi:providers:gcp", "gcp-prod").urn;
    for (const c of r.resources.filter((x) => x.custom && !x.type.startsWith("pulumi:providers:"))) assert.ok(c.provider.startsWith(`${provider}::`), c.name);
  });

  const BAD: [string, Partial<GcpSecretsArgs>, string][] = [
    ["bad prefix", { namePrefix: "veza/production-" }, `[namePrefix] must be letters, digits, '-' or '_' such as "veza-production-"; got "veza/production-".`],
    ["empty prefix", { namePrefix: "" }, `[namePrefix] must be letters, digits, '-' or '_' such as "veza-production-"; got "".`],
    [
      "account id too long",
      { serviceAccountId: "eso-veza-production-secrets-reader" },
      `[serviceAccountId] must be 6-30 lowercase letters, digits or '-', starting with a letter and not ending with '-', such as "eso-veza-production"; got "eso-veza-production-secrets-reader" (34 characters).`,
    ],
    [
      "bad project",
      { project: "Veza" },
      `[project] must be a Google Cloud project id (6-30 lowercase letters, digits, '-', starting with a letter); got "Veza".`,
    ],
    [
      "duplicate key",
      {
        secrets: [
          { key: "jwt-secret", description: "a", value: "x" },
          { key: "jwt-secret", description: "b", value: "y" },
        ],
      },
      `[secrets] lists key "jwt-secret" twice; give each secret its own key.`,
    ],
    [
      "bad label",
      { labels: { Env: "prod" } },
      `[labels] key "Env" must start with a lowercase letter and be at most 63 lowercase letters, digits, '-' or '_'.`,
    ],
    ["bad location", { replicationLocations: ["europe"] }, `[replicationLocations] must list Google Cloud regions such as "europe-west1"; got "europe".`],
    [
      "a secret id over 255 characters",
      { namePrefix: "p".repeat(250) },
      `[secrets] key "database-url" makes secret id "${"p".repeat(250)}database-url", which must be 1-255 letters, digits, '-' or '_'; shorten or rename the key.`,
    ],
    [
      "a location listed twice",
      { replicationLocations: ["europe-west1", "europe-west1"] },
      `[replicationLocations] lists "europe-west1" twice; list each location once.`,
    ],
    ["a bad label value", { labels: { env: "Prod" } }, `[labels] value "Prod" of "env" must be at most 63 lowercase letters, digits, '-' or '_'.`],
    [
      "a ServiceAccount name that is no DNS subdomain",
      { kubernetesServiceAccount: { namespace: "veza-production", name: "ESO store" } },
      `[kubernetesServiceAccount.name] must be a Kubernetes ServiceAccount name (DNS subdomain); got "ESO store".`,
    ],
    [
      "bad namespace",
      { kubernetesServiceAccount: { namespace: "Veza", name: "eso" } },
      `[kubernetesServiceAccount.namespace] must be a Kubernetes namespace name (DNS label); got "Veza".`,
    ],
  ];
  for (const [what, overrides, message] of BAD) {
    it(`refuses ${what} with an exact message`, async () => {
      await assert.rejects(run1(argsFor("production", overrides)), { message });
    });
  }
});
