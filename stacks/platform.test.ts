/**
 * The stack layer's composition (stacks/platform.ts): which components a stack gets and the
 * args it hands them, one program run per test (so mutation testing's per-test coverage sees
 * which test runs which line; the cached whole-program runs of test/ cannot show it).
 * Expected values come from the validated config, the catalog and the naming rules, never
 * from the program's output.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { CATALOG, SERVICES, SHARED_SECRET_NAME, generatedSecrets, serviceSecretName, serviceSecrets, serviceWorkloadName } from "../components/catalog";
import { RELOADER_SECRET_ANNOTATIONS } from "../components/cluster/reloader";
import { storeServiceAccount } from "../components/eso/secret-stores";
import {
  exampleFragments,
  ROOT,
  fakesForMissing,
  findResource,
  resourcesOfType,
  runProgram,
  stackConfig,
  unwrapSecrets,
  type ProgramRun,
  type RecordedResource,
} from "../harness";
import type { StackConfig } from "./config-model";
import { buildStack, storedKeys } from "./config-fixtures";
import { MIGRATIONS, databaseGeneratorName, databaseServiceAccount } from "./database";

const NS = "kubernetes:core/v1:Namespace";
const SECRET = "kubernetes:core/v1:Secret";
const ROLE = "kubernetes:rbac.authorization.k8s.io/v1:Role";
const ES = "kubernetes:external-secrets.io/v1:ExternalSecret";
const STORE = "kubernetes:external-secrets.io/v1:SecretStore";
const RELEASE = "kubernetes:helm.sh/v3:Release";
const CRONJOB = "kubernetes:batch/v1:CronJob";
const NETPOL = "kubernetes:networking.k8s.io/v1:NetworkPolicy";
const GUARD = "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy";
const PASSWORD = "random:index/randomPassword:RandomPassword";
const P = "veza-secrets";

const build = buildStack;

const meta = (r: RecordedResource) =>
  r.inputs.metadata as { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
const named = (run: ProgramRun, type: string) => resourcesOfType(run, type).map((r) => meta(r).name);
const urnOf = (run: ProgramRun, type: string, name: string) => findResource(run, type, name).urn;
const releaseOf = (run: ProgramRun, chart: string) => resourcesOfType(run, RELEASE).find((r) => r.inputs.chart === chart);
const esSpec = (r: RecordedResource) =>
  r.inputs.spec as {
    refreshInterval: string;
    secretStoreRef: { name: string };
    target: { creationPolicy: string; deletionPolicy: string; template: { metadata?: { annotations?: Record<string, string> } } };
  };

describe("stack layer: the platform a stack gets (stacks/platform.ts)", () => {
  it("namespaces: one per part the stack runs, each enforcing Pod Security restricted; those holding secrets protected where the stack protects", async () => {
    for (const stack of ["development", "production"]) {
      const { config, run } = await build(stack);
      const namespaces = resourcesOfType(run, NS);
      assert.deepEqual(
        namespaces.map((r) => meta(r).name).sort(),
        [config.namespaces.workloads, config.namespaces.vault, config.namespaces.externalSecrets].sort(),
      );
      for (const ns of namespaces) {
        assert.equal(meta(ns).labels?.["pod-security.kubernetes.io/enforce"], "restricted", meta(ns).name);
        assert.equal(meta(ns).labels?.["veza.io/environment"], stack, meta(ns).name);
        const holdsSecrets = [config.namespaces.workloads, config.namespaces.vault].includes(meta(ns).name);
        assert.equal(ns.protect, holdsSecrets && config.protect, `${stack}: ${meta(ns).name} protect`);
      }
    }
    // Plain Kubernetes Secrets (development only): no Vault, no operator, so no namespace for them.
    const { config, run } = await build("development", exampleFragments().kubernetes);
    assert.deepEqual(named(run, NS), [config.namespaces.workloads]);
  });

  it("service access: each service's account reads the shared Secret and its own, nothing else", async () => {
    const { config, run } = await build("production");
    const secrets = serviceSecrets(CATALOG, { databasePerService: !!config.database });
    const readable = (account: string): string[] => {
      const bindings = resourcesOfType(run, "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding").filter((b) =>
        (b.inputs.subjects as { name: string }[]).some((s) => s.name === account),
      );
      return bindings
        .flatMap((b) => {
          const role = resourcesOfType(run, ROLE).find((r) => meta(r).name === (b.inputs.roleRef as { name: string }).name);
          return ((role?.inputs.rules ?? []) as { resources: string[]; resourceNames: string[] }[]).filter((rule) => rule.resources.includes("secrets"));
        })
        .flatMap((rule) => rule.resourceNames)
        .sort();
    };
    for (const service of SERVICES) {
      const expected = secrets.filter((s) => s.service === undefined || s.service === service).map((s) => s.name);
      assert.deepEqual(readable(serviceWorkloadName(service)), expected.sort(), service);
    }
  });

  it("generated keys: one password per generated catalog key (two for a key that keeps its previous value); their periods in the outputs", async () => {
    const { config, run } = await build("staging");
    const expected = generatedSecrets(CATALOG).flatMap((g) =>
      g.source.keepPrevious ? [`generated-keys-${g.key}-a`, `generated-keys-${g.key}-b`] : [`generated-keys-${g.key}`],
    );
    assert.deepEqual(
      resourcesOfType(run, PASSWORD)
        .map((r) => r.name)
        .sort(),
      expected.sort(),
    );
    const days = Object.fromEntries(Object.entries(config.generatedKeys).map(([k, v]) => [k, v.rotationDays]));
    assert.ok(Object.keys(days).length > 0);
    assert.deepEqual((unwrapSecrets(run.outputs) as { rotation: { generatedKeysDays: unknown } }).rotation.generatedKeysDays, days);
  });

  it("stored values: every catalog key reaches Vault's KV path, database-url only where Vault's database engine does not make it", async () => {
    for (const stack of ["development", "production"]) {
      const { config, run } = await build(stack);
      const kv = findResource(run, "vault:kv/secretV2:SecretV2", "vault-config-secrets");
      const stored = Object.keys(JSON.parse(unwrapSecrets(kv.inputs.dataJson) as string) as Record<string, string>).sort();
      assert.deepEqual(stored, storedKeys(config).sort(), stack);
      assert.equal(stored.includes("database-url"), !config.database, stack);
    }
  });

  it("a supplied secret reaches the backends as the value the stack sets, never a fake", async () => {
    const values = stackConfig("development");
    const secrets = { ...fakesForMissing(values), [`${P}:stripeApiKey`]: "sk_live_from_the_stack" };
    const run = await runProgram({ stack: "development", config: values, secrets });
    const kv = findResource(run, "vault:kv/secretV2:SecretV2", "vault-config-secrets");
    assert.equal((JSON.parse(unwrapSecrets(kv.inputs.dataJson) as string) as Record<string, string>)["stripe-api-key"], "sk_live_from_the_stack");
  });

  it("plain Kubernetes Secrets (development's option 1): the program writes each service's Secret with Reloader's annotation, and installs no operator", async () => {
    const { config, run } = await build("development", exampleFragments().kubernetes);
    const expected = serviceSecrets(CATALOG, { databasePerService: false });
    const written = resourcesOfType(run, SECRET);
    assert.deepEqual(written.map((r) => meta(r).name).sort(), expected.map((s) => s.name).sort());
    for (const secret of written) {
      const spec = expected.find((s) => s.name === meta(secret).name);
      assert.deepEqual(Object.keys(unwrapSecrets(secret.inputs.stringData) as Record<string, string>).sort(), [...(spec?.keys ?? [])].sort());
      assert.deepEqual(meta(secret).annotations, { ...RELOADER_SECRET_ANNOTATIONS });
      assert.equal(meta(secret).namespace, config.namespaces.workloads);
    }
    assert.equal(releaseOf(run, "external-secrets"), undefined);
    assert.equal(releaseOf(run, "vault"), undefined);
    assert.ok(releaseOf(run, "reloader"));
    assert.deepEqual(resourcesOfType(run, ES), []);
    const outputs = unwrapSecrets(run.outputs) as { backends: unknown; troubleshooting: string[]; secretStores: string[]; externalSecrets: string[] };
    assert.deepEqual([outputs.secretStores, outputs.externalSecrets], [[], []]);
    assert.deepEqual(outputs.backends, { kubernetes: { namespace: config.namespaces.workloads, secrets: expected.map((s) => s.name) } });
    assert.deepEqual(outputs.troubleshooting, [`kubectl get secret ${SHARED_SECRET_NAME} -n ${config.namespaces.workloads}`]);
  });

  it("Reloader: installed, and the Secrets annotated for it, only when rotation.installReloader is true", async () => {
    const on = await build("development");
    assert.equal(on.config.rotation.installReloader, true);
    assert.ok(releaseOf(on.run, "reloader"));
    for (const es of resourcesOfType(on.run, ES))
      assert.deepEqual(esSpec(es).target.template.metadata?.annotations, { ...RELOADER_SECRET_ANNOTATIONS }, meta(es).name);

    for (const fragment of [{}, exampleFragments().kubernetes]) {
      const off = await build("development", { ...fragment, [`${P}:rotation`]: { installReloader: false } });
      assert.equal(releaseOf(off.run, "reloader"), undefined);
      for (const es of resourcesOfType(off.run, ES)) assert.equal(esSpec(es).target.template.metadata?.annotations, undefined, meta(es).name);
      for (const secret of resourcesOfType(off.run, SECRET)) assert.equal(meta(secret).annotations, undefined, meta(secret).name);
    }
  });

  it("stores: Vault's (and the migration store with a database), one per cloud backend; the ExternalSecrets read the first provider of the stack's list", async () => {
    const { config, run } = await build("production");
    assert.deepEqual(named(run, STORE).sort(), ["vault-store", MIGRATIONS.storeName, "aws-store"].sort());
    assert.deepEqual(config.esoProviders, ["vault", "aws"]);
    for (const es of resourcesOfType(run, ES).filter((r) => meta(r).name !== MIGRATIONS.secretName))
      assert.equal(esSpec(es).secretStoreRef.name, "vault-store", meta(es).name);
    assert.deepEqual((unwrapSecrets(run.outputs) as { secretStores: string[] }).secretStores, ["vault-store", MIGRATIONS.storeName, "aws-store"]);

    // AWS first: the services read AWS Secrets Manager; Vault's store stays, ready for failover.
    const awsFirst = await build("staging", { ...exampleFragments().aws, [`${P}:providers`]: ["aws", "vault"] });
    assert.deepEqual(awsFirst.config.esoProviders, ["aws", "vault"]);
    const services = resourcesOfType(awsFirst.run, ES).filter((r) => meta(r).name !== MIGRATIONS.secretName);
    assert.ok(services.length > 0);
    for (const es of services) assert.equal(esSpec(es).secretStoreRef.name, "aws-store", meta(es).name);
    assert.ok(named(awsFirst.run, STORE).includes("vault-store"));
  });

  it("External Secrets Operator may mint tokens only for the stores' accounts and each service's database generator account", async () => {
    for (const stack of ["development", "production"]) {
      const { config, run } = await build(stack);
      const stores = named(run, STORE);
      const role = resourcesOfType(run, ROLE).find((r) => meta(r).name === "external-secrets-token-create");
      const rules = role?.inputs.rules as { resources: string[]; resourceNames: string[]; verbs: string[] }[];
      const expected = [...stores.map(storeServiceAccount), ...(config.database ? SERVICES.map(databaseServiceAccount) : [])];
      assert.deepEqual(rules, [{ apiGroups: [""], resources: ["serviceaccounts/token"], resourceNames: expected.sort(), verbs: ["create"] }], stack);
    }
  });

  it("NetworkPolicies only with network config; ESO's egress to cloud APIs only with a cloud backend", async () => {
    const dev = await build("development");
    assert.equal(dev.config.network, undefined);
    assert.deepEqual(resourcesOfType(dev.run, NETPOL), []);

    const egressTo443 = (run: ProgramRun) => {
      const egress = resourcesOfType(run, NETPOL).find((r) => meta(r).name === "eso-controller-egress");
      assert.ok(egress, "no ESO egress policy");
      return ((egress.inputs.spec as { egress: { ports: { port: number }[] }[] }).egress ?? []).filter((e) => e.ports.length === 1 && e.ports[0].port === 443)
        .length;
    };
    const staging = await build("staging");
    assert.deepEqual(
      named(staging.run, NETPOL).sort(),
      ["eso-cert-controller-egress", "eso-controller-egress", "eso-default-deny", "eso-webhook", "reloader", "rotation-job", "vault-ingress"].sort(),
    );
    // The rotation job's pods are those of the CronJob: same namespace, selected by its pods' labels.
    const rotationPolicy = resourcesOfType(staging.run, NETPOL).find((r) => meta(r).name === "rotation-job");
    const cronJob = resourcesOfType(staging.run, "kubernetes:batch/v1:CronJob")[0];
    const podLabels = (cronJob.inputs as { spec: { jobTemplate: { spec: { template: { metadata: { labels: Record<string, string> } } } } } }).spec.jobTemplate
      .spec.template.metadata.labels;
    const selector = (rotationPolicy?.inputs.spec as { podSelector: { matchLabels: Record<string, string> } }).podSelector.matchLabels;
    assert.deepEqual([meta(rotationPolicy!).namespace, Object.entries(selector).every(([k, v]) => podLabels[k] === v)], [meta(cronJob).namespace, true]);
    assert.equal(egressTo443(staging.run), 0, "staging has no cloud backend");
    const production = await build("production");
    assert.equal(egressTo443(production.run), 1, "production reads AWS Secrets Manager");
  });

  it("SecretStores wait for the operator's release and Vault's configuration; the ExternalSecrets for the stores and the database generators", async () => {
    const { run } = await build("production");
    const operator = urnOf(run, RELEASE, "external-secrets");
    const vaultConfig = run.resources.find((r) => r.name === "vault-config" && !r.custom)?.urn;
    const access = run.resources.find((r) => r.name === "database-access" && !r.custom)?.urn;
    const component = run.resources.find((r) => r.name === "secret-stores" && !r.custom);
    assert.ok(vaultConfig && access && component);
    // dependsOn on a component reaches its children: compare with the components' own children.
    const childrenOf = (urn: string) => run.resources.filter((r) => r.parent === urn && r.custom).map((r) => r.urn);
    for (const store of resourcesOfType(run, STORE)) {
      assert.ok(store.dependencies.includes(operator), `${meta(store).name} waits for the operator`);
      for (const child of [...childrenOf(vaultConfig), ...childrenOf(access)])
        assert.ok(store.dependencies.includes(child), `${meta(store).name} waits for ${child}`);
    }
    const stores = resourcesOfType(run, STORE).map((s) => s.urn);
    const generators = resourcesOfType(run, "kubernetes:generators.external-secrets.io/v1alpha1:VaultDynamicSecret").map((g) => g.urn);
    for (const generator of resourcesOfType(run, "kubernetes:generators.external-secrets.io/v1alpha1:VaultDynamicSecret")) {
      for (const dep of [operator, ...stores]) assert.ok(generator.dependencies.includes(dep), `${meta(generator).name} waits for ${dep}`);
    }
    for (const es of resourcesOfType(run, ES).filter((r) => r.parent.endsWith("service-secrets"))) {
      for (const dep of [operator, ...stores, ...generators]) assert.ok(es.dependencies.includes(dep), `${meta(es).name} waits for ${dep}`);
    }
  });

  it("the ExternalSecrets take refresh, creation and deletion policy from the stack; database-url from each service's generator", async () => {
    const { config, run } = await build("production");
    const eso = config.eso as NonNullable<StackConfig["eso"]>;
    const services = resourcesOfType(run, ES).filter((r) => r.parent.endsWith("service-secrets"));
    assert.deepEqual(
      services.map((r) => meta(r).name).sort(),
      serviceSecrets(CATALOG, { databasePerService: true })
        .map((s) => s.name)
        .sort(),
    );
    for (const es of services) {
      const spec = esSpec(es);
      const readsGenerator = JSON.stringify(es.inputs.spec).includes("generatorRef");
      assert.equal(spec.refreshInterval, readsGenerator ? config.database?.refreshInterval : eso.refreshInterval, meta(es).name);
      assert.equal(spec.target.creationPolicy, eso.creationPolicy);
      assert.equal(spec.target.deletionPolicy, eso.deletionPolicy);
    }
    const shared = services.find((r) => meta(r).name === SHARED_SECRET_NAME);
    assert.ok(shared && !JSON.stringify(shared.inputs.spec).includes("generatorRef"), "the shared Secret has no database login");
    for (const service of SERVICES) {
      const own = services.find((r) => meta(r).name === `veza-${service}-secrets`);
      assert.ok(own && JSON.stringify(own.inputs.spec).includes(`"name":"${databaseGeneratorName(service)}"`), service);
      assert.ok(
        JSON.stringify(own.inputs.spec).includes(
          `@${config.database?.host}:${config.database?.port}/${config.database?.name}?sslmode=${config.database?.sslMode}`,
        ),
        service,
      );
    }
  });

  it("TLS to PostgreSQL: Vault's connection trusts database.caCert, each service's database-url names database.sslRootCert; neither without them", async () => {
    const ca = fs.readFileSync(path.join(ROOT, "certs", "vault-ca.pem"), "utf8");
    const rootCert = "/etc/veza/postgres/ca.crt";
    const tls = { sslMode: "verify-full", caCert: ca, sslRootCert: rootCert };
    const connection = (run: ProgramRun) =>
      unwrapSecrets(
        findResource(run, "vault:database/secretBackendConnection:SecretBackendConnection", "vault-config-database-connection").inputs.postgresql,
      ) as {
        tlsCa?: string;
      };
    const urls = (run: ProgramRun) =>
      resourcesOfType(run, ES)
        .filter((r) => r.parent.endsWith("service-secrets"))
        .flatMap((r) => Object.values((r.inputs.spec as { target: { template: { data?: Record<string, string> } } }).target.template.data ?? {}))
        .filter((v) => v.startsWith("postgresql://"));
    const { run } = await build("production", { [`${P}:database`]: tls });
    assert.equal(connection(run).tlsCa, ca);
    assert.equal(urls(run).length, SERVICES.length, "one database-url per service");
    for (const url of urls(run)) assert.ok(url.endsWith(`?sslmode=verify-full&sslrootcert=${rootCert}`), url);

    const plain = (await build("production")).run;
    assert.equal(connection(plain).tlsCa, undefined);
    for (const url of urls(plain)) assert.doesNotMatch(url, /sslrootcert/);
  });

  it("the rotation job force-syncs every ExternalSecret the program makes, on the stack's schedule, after the operator", async () => {
    const { config, run } = await build("production");
    const job = findResource(run, CRONJOB, ROTATION_JOB);
    const spec = job.inputs.spec as { schedule: string; jobTemplate: { spec: { template: { spec: { containers: { args: string[] }[] } } } } };
    assert.equal(spec.schedule, config.rotation.schedule);
    const targets = spec.jobTemplate.spec.template.spec.containers[0].args
      .filter((a) => a.startsWith("externalsecret/"))
      .map((a) => a.slice("externalsecret/".length));
    assert.deepEqual(targets.sort(), named(run, ES).sort());
    assert.ok(targets.includes(MIGRATIONS.secretName));
    assert.ok(job.dependencies.includes(urnOf(run, RELEASE, "external-secrets")));
    const outputs = unwrapSecrets(run.outputs) as { rotation: { cronJob: unknown }; externalSecrets: string[] };
    assert.deepEqual(outputs.rotation.cronJob, { name: ROTATION_JOB, schedule: config.rotation.schedule });
    assert.deepEqual([...outputs.externalSecrets].sort(), named(run, ES).sort());
  });

  it("before Vault's bootstrap (no other backend): no store, no ExternalSecret, no rotation job; only the services' Secrets guarded", async () => {
    const { config, run } = await build("staging", { [`${P}:vault`]: { bootstrapped: false } });
    assert.deepEqual(resourcesOfType(run, ES), []);
    const v = config.vault as NonNullable<StackConfig["vault"]>;
    const outputs = unwrapSecrets(run.outputs) as { vault: Record<string, unknown>; rotation: Record<string, unknown>; externalSecrets: string[] };
    const { inClusterAddress, ...vaultOutputs } = outputs.vault;
    assert.ok(typeof inClusterAddress === "string" && inClusterAddress.startsWith("https://"), `Vault's in-cluster address, got ${String(inClusterAddress)}`);
    assert.deepEqual(
      vaultOutputs,
      { mode: v.mode, installed: true, address: v.address, configured: false },
      "no KV path, policy, role or login before Vault is configured",
    );
    assert.deepEqual(resourcesOfType(run, CRONJOB), []);
    assert.deepEqual(named(run, STORE), []);
    assert.deepEqual(outputs.externalSecrets, []);
    assert.equal(outputs.rotation.cronJob, undefined);
    // No store account, no job account: the guard holds only who may mount each service's Secret.
    const guard = findResource(run, GUARD, "service-account-guard").inputs.spec as { validations: { message: string }[]; variables: { expression: string }[] };
    assert.deepEqual(
      guard.validations.map((x) => x.message.split(":")[0]),
      ["volumes", "environment"],
    );
    for (const service of SERVICES)
      assert.ok(guard.variables[1].expression.includes(`'${serviceSecretName(service)}': ['${serviceWorkloadName(service)}']`), service);
    assert.ok(
      run.warnings.includes(
        `No ExternalSecrets yet: no backend is ready (vault); they are created once Vault is bootstrapped (README: "Bootstrapping Vault").`,
      ),
      `the warning pulumi up shows, got ${JSON.stringify(run.warnings)}`,
    );
  });

  it("the admission guard names every store account and database generator account, and the rotation job's as Job-only", async () => {
    for (const stack of ["development", "production"]) {
      const { config, run } = await build(stack);
      const guard = resourcesOfType(run, GUARD).filter((r) => r.name === "service-account-guard");
      assert.equal(guard.length, 1, stack);
      const [identities, jobOnly] = (guard[0].inputs.spec as { validations: { expression: string }[] }).validations.map((v) => v.expression);
      const accounts = [...named(run, STORE).map(storeServiceAccount), ...(config.database ? SERVICES.map(databaseServiceAccount) : [])];
      const listed =
        /in \[([^\]]*)\]/
          .exec(identities)?.[1]
          .split(", ")
          .map((s) => s.replace(/'/g, "")) ?? [];
      assert.deepEqual(listed.sort(), accounts.sort(), stack);
      assert.match(jobOnly, new RegExp(`in \\['${ROTATION_JOB}'\\]`));
    }
  });

  it("Vault's outputs: mode, address, KV path, read policy, store role and how pulumi up logs in; the database roles under rotation", async () => {
    for (const stack of ["development", "production"]) {
      const { config, run } = await build(stack);
      const v = config.vault as NonNullable<StackConfig["vault"]>;
      const outputs = unwrapSecrets(run.outputs) as { vault: Record<string, unknown>; rotation: { database?: unknown } };
      const { inClusterAddress, ...rest } = outputs.vault;
      assert.ok(typeof inClusterAddress === "string" && inClusterAddress.startsWith("http"));
      assert.deepEqual(rest, {
        mode: v.mode,
        installed: true,
        address: v.address,
        configured: true,
        kvPath: `secret/veza/${stack}`,
        policy: `veza-${stack}-read`,
        authRole: `eso-veza-${stack}`,
        login: stack === "development" ? "token" : `jwt: jwt-github/role/pulumi-${stack}`,
        // Raft snapshots: an HA Vault's only (the stack default: nightly, to a PVC in Vault's namespace).
        ...(stack === "development"
          ? {}
          : { snapshots: { cronJob: "vault-raft-snapshots", schedule: "15 2 * * *", retentionDays: 30, location: "pvc://vault-system/vault-raft-snapshots" } }),
      });
      const db = config.database;
      assert.deepEqual(
        outputs.rotation.database,
        db
          ? {
              connection: "veza",
              migrationRole: db.appUsername.replace(/_/g, "-"),
              migrationRoleUser: db.appUsername,
              rotationSchedule: db.rotationSchedule,
              serviceRoles: Object.fromEntries(SERVICES.map((s) => [s, `veza-${s}`])),
              leaseTtl: db.defaultTtl,
              refreshInterval: db.refreshInterval,
            }
          : undefined,
      );
    }
  });

  it("HA stores trust Vault's CA ConfigMap; the migration Secret reads the schema owner's static credentials", async () => {
    const { config, run } = await build("production");
    const vaultStore = findResource(run, STORE, "secret-stores-vault-store");
    assert.deepEqual((vaultStore.inputs.spec as { provider: { vault: { caProvider: unknown } } }).provider.vault.caProvider, {
      type: "ConfigMap",
      name: "vault-ca",
      key: "ca.crt",
    });
    const migrations = resourcesOfType(run, ES).find((r) => meta(r).name === MIGRATIONS.secretName);
    assert.ok(
      migrations && JSON.stringify(migrations.inputs.spec).includes(`database/static-creds/${(config.database?.appUsername ?? "").replace(/_/g, "-")}`),
    );
    const dev = await build("development");
    assert.equal(
      (findResource(dev.run, STORE, "secret-stores-vault-store").inputs.spec as { provider: { vault: { caProvider?: unknown } } }).provider.vault.caProvider,
      undefined,
    );
  });

  it("lets only each Secret's owner mount it: a service its own, the migration Job the schema owner's (issue 29 #8)", async () => {
    const { run } = await build("staging");
    const spec = findResource(run, GUARD, "service-account-guard").inputs.spec as { variables: { name: string; expression: string }[] };
    const owners = spec.variables.find((v) => v.name === "secretOwners")?.expression ?? "";
    const expected = [
      ...SERVICES.map((service) => `'${serviceSecretName(service)}': ['${serviceWorkloadName(service)}']`),
      `'${MIGRATIONS.secretName}': ['${MIGRATIONS.jobServiceAccount}']`,
    ];
    for (const entry of expected) assert.ok(owners.includes(entry), `${entry} in ${owners}`);
    assert.equal(owners.includes(`'${SHARED_SECRET_NAME}'`), false, "the shared Secret is every service's: RBAC decides");
    assert.equal(owners.split("': [").length - 1, expected.length);
  });

  it("eso.certManagerIssuer: the release gets cert-manager's webhook certificate (ClusterIssuer by default) and no cert controller", async () => {
    const { run } = await build("staging", { [`${P}:eso`]: { certManagerIssuer: { name: "veza-webhook-ca" } } });
    const values = releaseOf(run, "external-secrets")?.inputs.values as { webhook: { certManager: { cert: { issuerRef: unknown } } }; certController: unknown };
    assert.deepEqual(values.webhook.certManager.cert.issuerRef, { group: "cert-manager.io", kind: "ClusterIssuer", name: "veza-webhook-ca" });
    assert.deepEqual(values.certController, { create: false });
  });

  it("snapshots an HA Vault's Raft storage (issue 31): the CronJob in Vault's namespace, its login admitted by the deployer's policy and by Vault's ingress; none in development", async () => {
    const { run } = await build("staging");
    const cron = resourcesOfType(run, "kubernetes:batch/v1:CronJob").find((r) => meta(r).name === "vault-raft-snapshots");
    assert.ok(cron, "the snapshot CronJob");
    assert.equal(meta(cron).namespace, "vault-system");
    const template = (cron.inputs as { spec: { schedule: string; jobTemplate: { spec: { template: { metadata: { labels: Record<string, string> } } } } } })
      .spec;
    assert.equal(template.schedule, "15 2 * * *");
    const role = resourcesOfType(run, "vault:kubernetes/authBackendRole:AuthBackendRole").find((r) => r.inputs.roleName === "vault-raft-snapshots");
    assert.deepEqual(
      [role?.inputs.boundServiceAccountNames, role?.inputs.boundServiceAccountNamespaces, role?.inputs.tokenPolicies],
      [["vault-raft-snapshots"], ["vault-system"], ["vault-raft-snapshots"]],
    );
    // Vault's ingress admits the Job's pods on 8200, selected by the labels its pods carry.
    const ingress = resourcesOfType(run, NETPOL).find((r) => meta(r).name === "vault-ingress")?.inputs.spec as {
      ingress: { from: { podSelector?: { matchLabels: Record<string, string> } }[] }[];
    };
    const podLabels = template.jobTemplate.spec.template.metadata.labels;
    assert.ok(
      ingress.ingress.some((rule) =>
        rule.from.some(
          (f) =>
            f.podSelector &&
            Object.entries(f.podSelector.matchLabels).every(([k, v]) => podLabels[k] === v) &&
            f.podSelector.matchLabels["app.kubernetes.io/name"] === "vault-raft-snapshots",
        ),
      ),
      "vault-ingress admits the snapshot Job",
    );
    // Its account can save Vault's whole storage: only its Jobs' pods may run as it, only kubelets mint its tokens.
    const guards = resourcesOfType(run, GUARD)
      .filter((r) => r.name.startsWith("vault-service-account-guard"))
      .map((r) => {
        const spec = r.inputs.spec as { matchConstraints: { resourceRules: { resources: string[] }[] }; validations: { expression: string }[] };
        return [meta(r).name, spec.matchConstraints.resourceRules.flatMap((x) => x.resources), spec.validations.map((x) => x.expression)];
      })
      .sort((a, b) => String(b[0]).localeCompare(String(a[0])));
    assert.deepEqual(guards, [
      [
        "veza-service-account-guard-vault-system",
        ["pods", "pods/ephemeralcontainers"],
        [
          "!(variables.serviceAccount in ['vault-raft-snapshots']) || (request.operation == 'CREATE' && request.userInfo.username in ['system:serviceaccount:kube-system:job-controller', 'system:kube-controller-manager'])",
        ],
      ],
      [
        "veza-job-token-guard-vault-system",
        ["serviceaccounts/token"],
        ["!(request.name in ['vault-raft-snapshots']) || request.userInfo.username.startsWith('system:node:')"],
      ],
    ]);
    // A Job as that account carries the CronJob's own pod template: the CronJob is the policy's parameter.
    const templateBinding = resourcesOfType(run, "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding").find(
      (r) => r.name === "vault-snapshot-template-guard",
    );
    assert.deepEqual((templateBinding?.inputs.spec as { paramRef: unknown }).paramRef, {
      name: meta(cron).name,
      namespace: meta(cron).namespace,
      parameterNotFoundAction: "Deny",
    });
    const dev = await build("development");
    assert.equal(resourcesOfType(dev.run, "kubernetes:batch/v1:CronJob").filter((r) => meta(r).name === "vault-raft-snapshots").length, 0);
    assert.equal(resourcesOfType(dev.run, GUARD).filter((r) => r.name.startsWith("vault-service-account-guard")).length, 0);
    const off = await build("staging", { [`${P}:vault`]: { snapshots: { enabled: false } } });
    assert.equal(resourcesOfType(off.run, GUARD).filter((r) => r.name.startsWith("vault-service-account-guard")).length, 0);
  });

  it("vault.snapshots: off, or to S3 in the aws section's account (a bucket, its KMS key, a write-only role)", async () => {
    const off = await build("staging", { [`${P}:vault`]: { snapshots: { enabled: false } } });
    assert.equal(resourcesOfType(off.run, "veza:vault:RaftSnapshots").length, 0);
    const uploaderImage = `amazon/aws-cli:2.27.0@sha256:${"1".repeat(64)}`;
    const s3 = await build("production", { [`${P}:vault`]: { snapshots: { destination: { kind: "s3", bucketName: "veza-vault-snapshots", uploaderImage } } } });
    const bucket = resourcesOfType(s3.run, "aws:s3/bucket:Bucket").find((r) => r.inputs.bucket === "veza-vault-snapshots");
    assert.ok(bucket, "the snapshot bucket");
    assert.equal(bucket.protect, true, "production protects what holds its snapshots");
    assert.ok(resourcesOfType(s3.run, "aws:kms/key:Key").length >= 1);
  });

  it("without a database section: Vault's store only, no migration store, no generator accounts", async () => {
    const { run } = await build("staging", { [`${P}:database`]: undefined });
    assert.deepEqual(named(run, STORE), ["vault-store"]);
    const role = resourcesOfType(run, ROLE).find((r) => meta(r).name === "external-secrets-token-create");
    assert.deepEqual((role?.inputs.rules as { resourceNames: string[] }[])[0].resourceNames, [storeServiceAccount("vault-store")]);
  });

  it("a cloud backend ready before Vault's bootstrap: its store exists, but no ExternalSecret until Vault's database engine makes database-url", async () => {
    const { run } = await build("production", { [`${P}:vault`]: { bootstrapped: false } });
    assert.deepEqual(named(run, STORE), ["aws-store"]);
    assert.deepEqual(resourcesOfType(run, ES), []);
    assert.deepEqual(resourcesOfType(run, CRONJOB), []);
    const role = resourcesOfType(run, ROLE).find((r) => meta(r).name === "external-secrets-token-create");
    assert.deepEqual(
      (role?.inputs.rules as { resourceNames: string[] }[])[0].resourceNames,
      [storeServiceAccount("aws-store")],
      "no generator account before Vault has its database engine",
    );
    const [identities, ...others] = (
      findResource(run, GUARD, "service-account-guard").inputs.spec as { validations: { expression: string }[] }
    ).validations.map((v) => v.expression);
    assert.match(identities, /in \['eso-aws-store'\]/);
    assert.equal(others.length, 2, "the two Secret-owner rules");
    assert.ok(!others.some((e) => e.includes(ROTATION_JOB)), "no rotation job, so no Job-only account");
    assert.ok(
      run.warnings.includes(
        `No ExternalSecrets yet: database-url comes from Vault's database engine; they are created once Vault is bootstrapped (README: "Bootstrapping Vault").`,
      ),
      `the warning pulumi up shows, got ${JSON.stringify(run.warnings)}`,
    );
  });

  it("a bootstrapped stack with every backend ready logs no warning", async () => {
    for (const stack of ["development", "staging", "production"]) {
      const { run } = await build(stack);
      assert.deepEqual(run.warnings, [], stack);
    }
  });

  it("a stack without Vault (providers [aws]): no Vault namespace, release or store; the ExternalSecrets read AWS", async () => {
    const { config, run } = await build("production", {
      [`${P}:providers`]: ["aws"],
      [`${P}:vault`]: undefined,
      [`${P}:database`]: undefined,
      [`${P}:network`]: { apiServerCidrs: ["172.20.0.1/32"] },
    });
    assert.equal(config.vault, undefined);
    assert.deepEqual(named(run, NS).sort(), [config.namespaces.workloads, config.namespaces.externalSecrets].sort());
    assert.equal(releaseOf(run, "vault"), undefined);
    assert.deepEqual(named(run, STORE), ["aws-store"]);
    assert.deepEqual([...new Set(resourcesOfType(run, ES).map((r) => esSpec(r).secretStoreRef.name))], ["aws-store"]);
    assert.equal((unwrapSecrets(run.outputs) as { vault?: unknown }).vault, undefined);
  });

  it("development's ExternalSecrets are listed in the outputs exactly as created", async () => {
    const { run } = await build("development");
    assert.deepEqual([...(unwrapSecrets(run.outputs) as { externalSecrets: string[] }).externalSecrets].sort(), named(run, ES).sort());
  });

  it("troubleshooting commands name the stack's namespaces and stores", async () => {
    const { config, run } = await build("production");
    const ns = config.namespaces;
    const outputs = unwrapSecrets(run.outputs) as { troubleshooting: string[] };
    assert.deepEqual(outputs.troubleshooting, [
      `kubectl describe externalsecret ${SHARED_SECRET_NAME} -n ${ns.workloads}`,
      `kubectl logs -n ${ns.externalSecrets} deployment/external-secrets`,
      ...["vault-store", MIGRATIONS.storeName, "aws-store"].map((s) => `kubectl describe secretstore ${s} -n ${ns.workloads}`),
      `kubectl get secret ${SHARED_SECRET_NAME} -n ${ns.workloads}`,
      `kubectl annotate externalsecret ${SHARED_SECRET_NAME} force-sync=$(date +%s) --overwrite -n ${ns.workloads}`,
    ]);
  });
});

/** RotationJob's name in stacks/platform.ts. */
const ROTATION_JOB = "secrets-rotation";
