/**
 * "Adding a secret is one line": put supplied and generated secrets and new services into the
 * live catalog at several places (first, in the middle, last), as one-line edits of
 * components/catalog.ts would, under names the catalog does not use yet, run the real program
 * for every committed stack, and check that every derived artefact follows: the exported
 * Kubernetes Secrets, each backend, the plan, the README table, Pulumi.yaml and the deployer
 * policy the operator's bootstrap writes. The catalog is restored afterwards. (The same kind of
 * edit made in the file, with `npm run readme`, is test/one-line-copy.test.ts; README "Add a
 * secret" and "Add a service".)
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { CATALOG, SERVICES, type SecretSpec, type Service, serviceSecrets, serviceSecretName } from "../components/catalog";
import { bootstrapScript } from "../components/vault/bootstrap";
import { bootstrapSql, serviceGroupRole } from "../components/vault/database-sql";
import { ROOT, fakeSecrets, resourcesOfType, runProgram, STACKS, stackConfig, unwrapSecrets } from "../harness";
import { renderPlan } from "../harness/plan-render";
import { projectSecretDeclarations, secretsTable } from "../scripts/readme";
import { loadStackConfig } from "../stacks/config";
import { source } from "../stacks/config-fixtures";
import { bootstrapOptions } from "../stacks/vault";
import { camelCase, unusedName } from "./catalog-edits";

const keyTaken = (name: string): boolean =>
  CATALOG.some((s) => s.key === name || s.key === `${name}-previous` || (s.source.kind !== "generated" && s.source.configKey === camelCase(name)));
const serviceTaken = (name: string): boolean => (SERVICES as readonly string[]).includes(name);

// Names picked before anything is added: none of them is in the catalog yet, whatever it holds.
const MIDDLE_SERVICE = unusedName("billing", serviceTaken) as Service;
const LAST_SERVICE = unusedName("payments-worker", serviceTaken) as Service;
const FIRST: SecretSpec = {
  key: unusedName("sentry-dsn", keyTaken),
  description: "Sentry DSN for error reports",
  services: "all",
  source: { kind: "supplied", configKey: camelCase(unusedName("sentry-dsn", keyTaken)) },
};
const MIDDLE: SecretSpec = {
  key: unusedName("payments-signing-key", keyTaken),
  description: "Payments request signing key",
  services: [LAST_SERVICE],
  source: { kind: "generated", length: 48, minLength: 32, rotationDays: 30, keepPrevious: false },
};
const LAST: SecretSpec = {
  key: unusedName("billing-api-key", keyTaken),
  description: "Billing provider API key",
  services: [MIDDLE_SERVICE],
  source: { kind: "supplied", configKey: camelCase(unusedName("billing-api-key", keyTaken)) },
};
const ADDED = [FIRST, MIDDLE, LAST];

describe("adding a secret or a service is one catalog line, wherever it goes", () => {
  const catalog = CATALOG as SecretSpec[];
  const services = SERVICES as unknown as Service[];
  const saved = { catalog: [...catalog], services: [...services] };
  /** An existing entry for some services, which the recipe extends with the new service. */
  const extended = catalog.findIndex((s) => s.services !== "all");

  before(() => {
    services.splice(Math.floor(services.length / 2), 0, MIDDLE_SERVICE);
    services.push(LAST_SERVICE);
    const existing = catalog[extended];
    if (existing.services !== "all") catalog[extended] = { ...existing, services: [...existing.services, MIDDLE_SERVICE] };
    catalog.unshift(FIRST);
    catalog.splice(Math.floor(catalog.length / 2), 0, MIDDLE);
    catalog.push(LAST);
  });
  after(() => {
    catalog.splice(0, catalog.length, ...saved.catalog);
    services.splice(0, services.length, ...saved.services);
  });

  it("the names are new, and land first, in the middle and last", () => {
    assert.deepEqual([catalog[0].key, catalog[catalog.length - 1].key], [FIRST.key, LAST.key]);
    assert.ok(catalog.indexOf(MIDDLE) > 0 && catalog.indexOf(MIDDLE) < catalog.length - 1);
    assert.ok(services.indexOf(MIDDLE_SERVICE) > 0 && services.indexOf(MIDDLE_SERVICE) < services.length - 1);
    for (const s of ADDED) assert.ok(!saved.catalog.some((c) => c.key === s.key), s.key);
    for (const s of [MIDDLE_SERVICE, LAST_SERVICE]) assert.ok(!saved.services.includes(s), s);
  });

  it("the fakes, Pulumi.yaml's declarations and the README's table pick the new secrets up, in catalog order", () => {
    const declarations = projectSecretDeclarations();
    for (const s of [FIRST, LAST]) {
      const configKey = s.source.kind === "supplied" ? s.source.configKey : "";
      assert.ok(fakeSecrets()[`veza-secrets:${configKey}`], `a fake for ${configKey}`);
      assert.match(declarations, new RegExp(`^ {2}veza-secrets:${configKey}:\\n {4}type: string\\n {4}secret: true\\n`, "m"));
    }
    const rows = secretsTable()
      .split("\n")
      .filter((l) => l.startsWith("| `"));
    assert.deepEqual(
      rows.map((r) => r.split("|")[1].trim()),
      catalog.map((s) => `\`${s.key}\``),
    );
    assert.ok(secretsTable().startsWith(`Services: ${services.map((s) => `\`${s}\``).join(", ")}.`));
  });

  for (const stack of STACKS) {
    it(`${stack}: publishes each new key in exactly the right Secrets, writes it to every backend, and shows it in the plan`, async () => {
      const run = await runProgram({ stack });
      const secrets = run.outputs.kubernetesSecrets as { name: string; keys: string[] }[];
      const database = stackConfig(stack)["veza-secrets:database"] !== undefined;
      assert.deepEqual(
        secrets,
        serviceSecrets(CATALOG, { databasePerService: database }).map((s) => ({ name: s.name, keys: s.keys })),
      );
      const holding = (key: string): string[] => secrets.filter((s) => s.keys.includes(key)).map((s) => s.name);
      assert.deepEqual(
        holding(FIRST.key),
        secrets.map((s) => s.name),
        "a key for all services is in every Secret",
      );
      assert.deepEqual(holding(MIDDLE.key), [serviceSecretName(LAST_SERVICE)]);
      assert.deepEqual(holding(LAST.key), [serviceSecretName(MIDDLE_SERVICE)]);
      assert.ok(holding(catalog[extended].key).includes(serviceSecretName(MIDDLE_SERVICE)), "the extended entry reaches the new service");
      if (database) {
        // Where Vault issues the database logins, each new service gets its own, as the others do.
        for (const service of [MIDDLE_SERVICE, LAST_SERVICE])
          assert.ok(holding("database-url").includes(serviceSecretName(service)), `${service} has its own database-url`);
        const generators = resourcesOfType(run, "kubernetes:generators.external-secrets.io/v1alpha1:VaultDynamicSecret");
        assert.deepEqual(generators.map((g) => (g.inputs.metadata as { name: string }).name).sort(), SERVICES.map((s) => `veza-${s}-database`).sort());
      }

      // The generated key is made by the program; the Vault KV document carries every new key.
      assert.ok(resourcesOfType(run, "random:index/randomPassword:RandomPassword").some((r) => r.name.includes(MIDDLE.key)));
      const kv = resourcesOfType(run, "vault:kv/secretV2:SecretV2");
      assert.equal(kv.length, 1, "every committed stack writes one Vault KV document");
      const data = Object.keys(JSON.parse(String(unwrapSecrets(kv[0].inputs.dataJson))) as object);
      for (const s of ADDED) assert.ok(data.includes(s.key), `${s.key} in ${data.join(",")}`);
      if (stack === "production") {
        const names = resourcesOfType(run, "aws:secretsmanager/secret:Secret").map((r) => r.inputs.name);
        for (const s of ADDED) assert.ok(names.includes(`veza/production/${s.key}`), names.join(","));
      }
      const plan = renderPlan(run);
      for (const s of ADDED) assert.ok(plan.includes(s.key), s.key);
    });
  }

  // README "Add a service": the deployer may only write what its policy names, and that policy is
  // the operator's (the program cannot widen it); a new service's database identity is new paths.
  for (const stack of STACKS.filter((s) => stackConfig(s)["veza-secrets:database"] !== undefined)) {
    it(`${stack}: the DBA's SQL and the operator's Vault bootstrap name each new service, as the recipe says to rerun them`, () => {
      const config = loadStackConfig(source(stack), stack);
      const db = config.database as NonNullable<typeof config.database>;
      // What `npm run bootstrap-sql` prints: a group role per service, which its logins join.
      const sql = bootstrapSql({
        appSchema: db.appSchema,
        appGroupRole: db.appGroupRole,
        staticUsername: db.appUsername,
        database: db.name,
        vaultAdminUser: db.adminUsername,
        services: SERVICES,
      });
      for (const service of [MIDDLE_SERVICE, LAST_SERVICE])
        assert.ok(sql.includes(`CREATE ROLE "${serviceGroupRole(db.appGroupRole, service)}"`), `${stack}: the ${service} group role`);
      const script = bootstrapScript(bootstrapOptions(config));
      for (const service of [MIDDLE_SERVICE, LAST_SERVICE]) {
        assert.ok(script.includes(`path "database/roles/veza-${service}"`), `${stack}: database/roles/veza-${service}`);
        assert.ok(script.includes(`path "sys/policies/acl/veza-${stack}-db-${service}"`), `${stack}: the ${service} policy`);
        assert.ok(script.includes(`path "auth/kubernetes/role/eso-veza-${stack}-db-${service}"`), `${stack}: the ${service} login role`);
      }
    });
  }

  it("the README's recipe tells the DBA and the operator to rerun their bootstraps before the deploy", () => {
    const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
    const recipe = readme.slice(readme.indexOf("### Add a service"), readme.indexOf("\n### ", readme.indexOf("### Add a service") + 1));
    assert.match(recipe, /`npm run bootstrap-sql -- [a-z]+`/);
    assert.match(recipe, /`npm run vault-bootstrap -- [a-z]+`/);
  });
});
