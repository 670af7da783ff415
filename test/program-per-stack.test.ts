/**
 * Whole-program tests per committed stack and per example fragment: the real index.ts under
 * Pulumi mocks (harness/index.ts) registers exactly its components, validates against the
 * pinned upstream schemas, orders custom resources after their CRDs, stores and namespaces, and
 * produces exactly the catalog's Secrets from its own environment's paths.
 */
import * as assert from "node:assert/strict";
import { resourcesOfType, STACKS, unwrapSecrets } from "../harness";
import { validateExternalSecretWebhook } from "./eso-webhook";
import { chartVersion, validateCustomResource, validateHelmValues } from "./schemas";
import { ES, GENERATOR, RELEASE, STORE, expectedSecrets, fragmentsFor, meta, perServiceDatabase, stackRun } from "./program-fixtures";

describe("the whole program, per stack", () => {
  it("registers exactly these components per committed stack", async () => {
    const components = async (stack: string) =>
      (await stackRun(stack)).resources
        .filter((r) => r.type.startsWith("veza:"))
        .map((r) => `${r.type} ${r.name}`)
        .sort();
    const common = [
      "veza:cluster:ExternalSecretsOperator external-secrets",
      "veza:cluster:Namespaces namespaces",
      "veza:cluster:Reloader reloader",
      "veza:cluster:ServiceAccess service-access",
      "veza:cluster:ServiceAccountGuard service-account-guard",
      "veza:cluster:VaultCluster vault",
      "veza:eso:RotationJob secrets-rotation",
      "veza:eso:SecretStores secret-stores",
      "veza:eso:ServiceSecrets service-secrets",
      "veza:secrets:GeneratedKeys generated-keys",
      "veza:vault:VaultConfig vault-config",
    ];
    // Where Vault issues the database logins: the per-service identities, in Vault and in the cluster.
    const database = ["veza:eso:DatabaseCredentials database-credentials", "veza:vault:DatabaseAccess database-access"];
    assert.deepEqual(await components("development"), common);
    // Outside dev mode, NetworkPolicies around Vault and ESO. The program's own jwt login to
    // Vault is the operator's bootstrap (npm run vault-bootstrap), never the program's.
    const network = "veza:cluster:NetworkPolicies network-policies";
    // An HA Vault's Raft snapshots (issue 31); a dev server has none.
    // Its account guarded in Vault's namespace (pods from its Jobs only, tokens for kubelets only, Jobs with its template only).
    const snapshots = [
      "veza:vault:RaftSnapshots vault-raft-snapshots",
      "veza:cluster:ServiceAccountGuard vault-service-account-guard",
      "veza:cluster:CronJobTemplateGuard vault-snapshot-template-guard",
    ];
    assert.deepEqual(await components("staging"), [...common, ...database, network, ...snapshots].sort());
    assert.deepEqual(await components("production"), [...common, ...database, "veza:secrets:AwsSecrets aws-secrets", network, ...snapshots].sort());
  });

  for (const stack of STACKS) {
    for (const fragment of fragmentsFor(stack)) {
      const label = `${stack}${fragment ? ` + ${fragment}` : ""}`;

      it(`${label}: every custom resource and Helm values object validates against the pinned upstream schemas, closed`, async () => {
        const run = await stackRun(stack, fragment);
        for (const r of run.resources.filter(
          (x) => x.type.startsWith("kubernetes:external-secrets.io/") || x.type.startsWith("kubernetes:generators.external-secrets.io/"),
        )) {
          assert.deepEqual(validateCustomResource(unwrapSecrets(r.inputs)), [], `${r.type} ${r.name}`);
          if (r.type === ES) assert.deepEqual(validateExternalSecretWebhook(unwrapSecrets(r.inputs)), [], `${r.name}: ESO's webhook`);
        }
        for (const r of resourcesOfType(run, RELEASE)) {
          const chart = r.inputs.chart as string;
          if (chart === "vault" || chart === "external-secrets") {
            assert.deepEqual(validateHelmValues(chart, unwrapSecrets(r.inputs.values)), [], `${chart} values`);
            assert.equal(r.inputs.version, chartVersion(chart), `${chart} version`);
          } else {
            assert.match(String(r.inputs.version), /^\d+\.\d+\.\d+$/, `${chart} is pinned`);
          }
        }
      });

      it(`${label}: creates custom resources only after what installs their CRDs, and ExternalSecrets after their stores`, async () => {
        const run = await stackRun(stack, fragment);
        const eso = run.resources.find((r) => r.type === RELEASE && r.inputs.chart === "external-secrets");
        const crs = run.resources.filter(
          (x) => x.type.startsWith("kubernetes:external-secrets.io/") || x.type.startsWith("kubernetes:generators.external-secrets.io/"),
        );
        if (fragment === "kubernetes") {
          assert.equal(eso, undefined);
          assert.equal(crs.length, 0);
          return;
        }
        assert.ok(eso);
        for (const cr of crs) assert.ok(cr.dependencies.includes(eso.urn), `${cr.name} does not depend on the ESO release`);
        const stores = resourcesOfType(run, STORE);
        const generators = resourcesOfType(run, GENERATOR);
        for (const es of resourcesOfType(run, ES)) {
          const spec = es.inputs.spec as {
            secretStoreRef: { name: string };
            dataFrom?: { sourceRef?: { storeRef?: { name: string }; generatorRef?: { name: string } } }[];
          };
          const used = [spec.secretStoreRef.name, ...(spec.dataFrom ?? []).flatMap((d) => (d.sourceRef?.storeRef ? [d.sourceRef.storeRef.name] : []))];
          for (const name of (spec.dataFrom ?? []).flatMap((d) => (d.sourceRef?.generatorRef ? [d.sourceRef.generatorRef.name] : []))) {
            const generator = generators.find((g) => meta(g).name === name);
            assert.ok(generator, `${es.name} reads missing generator ${name}`);
            assert.ok(es.dependencies.includes(generator.urn), `${es.name} does not depend on ${name}`);
            assert.equal(meta(generator).namespace, meta(es).namespace, "generators are in the ExternalSecret's own namespace");
          }
          for (const name of used) {
            const store = stores.find((s) => meta(s).name === name);
            assert.ok(store, `${es.name} reads missing store ${name}`);
            assert.ok(es.dependencies.includes(store.urn), `${es.name} does not depend on ${name}`);
            assert.equal(meta(store).namespace, meta(es).namespace, "stores are in the ExternalSecret's own namespace");
          }
        }
      });

      it(`${label}: puts every namespaced object in a namespace the program created first`, async () => {
        const run = await stackRun(stack, fragment);
        const namespaces = resourcesOfType(run, "kubernetes:core/v1:Namespace");
        for (const r of run.resources.filter(
          (x) => x.type.startsWith("kubernetes:") && x.type !== "kubernetes:core/v1:Namespace" && !x.type.startsWith("pulumi:"),
        )) {
          const ns = (r.type === RELEASE ? r.inputs.namespace : meta(r).namespace) as string | undefined;
          if (!ns) continue;
          const owner = namespaces.find((n) => meta(n).name === ns);
          assert.ok(owner, `${r.name} is in ${ns}, which the program does not create`);
          assert.ok(r.dependencies.includes(owner.urn), `${r.type} ${r.name} does not wait for namespace ${ns}`);
        }
      });

      it(`${label}: produces exactly the catalog's Secrets with the catalog's keys, from this environment's paths only`, async () => {
        const run = await stackRun(stack, fragment);
        const expected = [
          ...expectedSecrets(stack, fragment).map((s) => [s.name, [...s.keys].sort()]),
          // The migration Job's own Secret: the schema owner's URL, where Vault issues the logins.
          ...(perServiceDatabase(stack, fragment) ? [["veza-migrations-secrets", ["database-url"]]] : []),
        ];
        const others = STACKS.filter((s) => s !== stack);
        if (fragment === "kubernetes") {
          const secrets = resourcesOfType(run, "kubernetes:core/v1:Secret");
          assert.deepEqual(secrets.map((s) => [meta(s).name, Object.keys(unwrapSecrets(s.inputs.stringData) as object).sort()]).sort(), [...expected].sort());
          return;
        }
        const ess = resourcesOfType(run, ES);
        assert.deepEqual(
          ess
            .map((e) => [
              (e.inputs.spec as { target: { name: string } }).target.name,
              Object.keys((e.inputs.spec as { target: { template: { data: object } } }).target.template.data).sort(),
            ])
            .sort(),
          [...expected].sort(),
        );
        const text = JSON.stringify(ess.map((e) => e.inputs.spec));
        for (const other of others) assert.ok(!text.includes(`veza/${other}`) && !text.includes(`veza-${other}-`), `${stack} reads ${other}'s paths`);
      });
    }
  }
});
