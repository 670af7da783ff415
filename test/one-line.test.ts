/**
 * "Adding a secret is one line": append a supplied secret, a generated secret and a new
 * service to the live catalog (as a one-line edit of components/catalog.ts would), run the
 * real program for every committed stack, and check that every derived artefact follows:
 * the exported Kubernetes Secrets, each backend, the plan, the README table and Pulumi.yaml.
 * The catalog is restored afterwards. (The same edit made in the file, with `npm run readme`,
 * was measured to keep `npm test` green; see README "Add a secret".)
 */
import * as assert from "node:assert/strict";
import { CATALOG, SERVICES, type SecretSpec, type Service, serviceSecrets, serviceSecretName } from "../components/catalog";
import { fakeSecrets, resourcesOfType, runProgram, STACKS, stackConfig, unwrapSecrets } from "../harness";
import { renderPlan } from "../harness/plan-render";
import { projectSecretDeclarations, secretsTable } from "../scripts/readme";

const NEW_SERVICE = "payments-worker" as Service;
const ADDED: SecretSpec[] = [
  { key: "sentry-dsn", description: "Sentry DSN for error reports", services: "all", source: { kind: "supplied", configKey: "sentryDsn" } },
  {
    key: "payments-signing-key",
    description: "Payments request signing key",
    services: [NEW_SERVICE],
    source: { kind: "generated", length: 48, minLength: 32, rotationDays: 30, keepPrevious: false },
  },
];

describe("adding a secret or a service is one catalog line", () => {
  const catalog = CATALOG as SecretSpec[];
  const services = SERVICES as unknown as Service[];
  before(() => {
    services.push(NEW_SERVICE);
    catalog.push(...ADDED);
  });
  after(() => {
    catalog.splice(catalog.length - ADDED.length, ADDED.length);
    services.splice(services.indexOf(NEW_SERVICE), 1);
  });

  it("the fakes and Pulumi.yaml's declarations pick the new supplied secret up", () => {
    assert.equal(fakeSecrets()["veza-secrets:sentryDsn"], "FAKE-SECRET-sentryDsn-5f3c9a");
    assert.match(projectSecretDeclarations(), /^ {2}veza-secrets:sentryDsn:\n {4}type: string\n {4}secret: true\n/m);
    const rows = secretsTable()
      .split("\n")
      .filter((l) => l.startsWith("| `"));
    assert.deepEqual(
      rows.slice(-2).map((r) => r.split("|")[1].trim()),
      ["`sentry-dsn`", "`payments-signing-key`"],
    );
  });

  for (const stack of STACKS) {
    it(`${stack}: publishes both keys in the right Secrets, writes them to every backend, and shows them in the plan`, async () => {
      const run = await runProgram({ stack });
      const secrets = run.outputs.kubernetesSecrets as { name: string; keys: string[] }[];
      const own = secrets.find((s) => s.name === serviceSecretName(NEW_SERVICE));
      assert.ok(own, "the new service gets its own Secret");
      const database = stackConfig(stack)["veza-secrets:database"] !== undefined;
      assert.deepEqual(
        secrets,
        serviceSecrets(CATALOG, { databasePerService: database }).map((s) => ({ name: s.name, keys: s.keys })),
      );
      if (database) {
        // Where Vault issues the database logins, the new service gets its own, as the others do.
        assert.ok(own?.keys.includes("database-url"), "the new service's Secret carries its own database-url");
        const generators = resourcesOfType(run, "kubernetes:generators.external-secrets.io/v1alpha1:VaultDynamicSecret");
        assert.equal(generators.length, SERVICES.length);
        assert.ok(
          generators.some((g) => g.name.includes(NEW_SERVICE)),
          generators.map((g) => g.name).join(", "),
        );
      }
      assert.ok(own.keys.includes("sentry-dsn") && own.keys.includes("payments-signing-key"), own.keys.join(","));
      for (const s of secrets) assert.ok(s.keys.includes("sentry-dsn"), `${s.name} has sentry-dsn`);
      assert.ok(!secrets.find((s) => s.name === "veza-secrets")?.keys.includes("payments-signing-key"));

      // The generated key is made by the program; the Vault KV document carries both keys.
      assert.ok(resourcesOfType(run, "random:index/randomPassword:RandomPassword").some((r) => r.name.includes("payments-signing-key")));
      const kv = resourcesOfType(run, "vault:kv/secretV2:SecretV2");
      assert.equal(kv.length, 1, "every committed stack writes one Vault KV document");
      const data = Object.keys(JSON.parse(String(unwrapSecrets(kv[0].inputs.dataJson))) as object);
      assert.ok(data.includes("sentry-dsn") && data.includes("payments-signing-key"), data.join(","));
      if (stack === "production") {
        const names = resourcesOfType(run, "aws:secretsmanager/secret:Secret").map((r) => r.inputs.name);
        assert.ok(names.includes("veza/production/sentry-dsn") && names.includes("veza/production/payments-signing-key"), names.join(","));
      }
      const plan = renderPlan(run);
      assert.ok(plan.includes("sentry-dsn") && plan.includes("payments-signing-key"));
    });
  }
});
