/**
 * Whole-program tests: the real index.ts, per committed stack and per example fragment,
 * under Pulumi mocks (harness/index.ts), asserting on what it registers.
 */
import * as assert from "node:assert/strict";
import { serviceSecrets, CATALOG, SERVICES } from "../components/catalog";
import {
  exampleFragments,
  fakeSecrets,
  mergeConfig,
  plaintextOccurrences,
  resourcesOfType,
  runProgram,
  stackConfig,
  STACKS,
  tryRunProgram,
  unwrapSecrets,
  type ProgramRun,
} from "../harness";
import { ConfigError } from "../stacks/config-model";
import { validateExternalSecretWebhook } from "./eso-webhook";
import { chartVersion, validateCustomResource, validateHelmValues } from "./schemas";

const runs = new Map<string, ProgramRun>();
async function stackRun(stack: string, fragment?: string): Promise<ProgramRun> {
  const key = `${stack}+${fragment ?? ""}`;
  if (!runs.has(key)) {
    const overrides = fragment ? exampleFragments()[fragment] : undefined;
    const secrets = fakeSecrets();
    runs.set(key, await runProgram({ stack, overrides, secrets }));
  }
  return runs.get(key) as ProgramRun;
}

/** Does this stack (with this fragment) give each service its own Vault database login? */
function perServiceDatabase(stack: string, fragment?: string): boolean {
  const config = mergeConfig(stackConfig(stack), fragment ? exampleFragments()[fragment] : {});
  return config["veza-secrets:database"] !== undefined && (config["veza-secrets:providers"] as string[]).includes("vault");
}
/** The Secrets the services read in this stack: database-url only in each service's own where logins are per service. */
const expectedSecrets = (stack: string, fragment?: string) => serviceSecrets(CATALOG, { databasePerService: perServiceDatabase(stack, fragment) });

const fragments = Object.keys(exampleFragments());
/** The spec's option 1 (plain Secrets) is development-only: config rejects it elsewhere (tested below). */
const fragmentsFor = (stack: string): (string | undefined)[] => [undefined, ...fragments.filter((f) => f !== "kubernetes" || stack === "development")];

describe("the whole program", () => {
  it("has an example fragment per backend choice", () => {
    assert.deepEqual(fragments, ["aws", "azure", "gcp", "kubernetes"]);
  });

  for (const stack of STACKS) {
    for (const fragment of fragmentsFor(stack)) {
      const label = `${stack}${fragment ? ` + stacks/examples/${fragment}.yaml` : ""}`;

      it(`${label}: never registers or exports a secret value in clear text`, async () => {
        const run = await stackRun(stack, fragment);
        const needles = [...Object.values(fakeSecrets()).map((v) => (v.match(/FAKE-SECRET-\w+-5f3c9a/) ?? [v])[0]), "FAKE-GENERATED-"];
        for (const needle of needles) {
          assert.deepEqual(
            plaintextOccurrences(
              run.resources.map((r) => r.inputs),
              needle,
            ),
            [],
            `${needle} in resource inputs`,
          );
          assert.deepEqual(plaintextOccurrences(run.outputs, needle), [], `${needle} in stack outputs`);
          assert.deepEqual(plaintextOccurrences([...run.componentOutputs.values()], needle), [], `${needle} in component outputs`);
        }
      });

      it(`${label}: exports the Kubernetes Secret names and keys of the catalog`, async () => {
        const run = await stackRun(stack, fragment);
        assert.deepEqual(
          run.outputs.kubernetesSecrets,
          expectedSecrets(stack, fragment).map((s) => ({ name: s.name, keys: s.keys })),
        );
      });
    }
  }
});

const ES = "kubernetes:external-secrets.io/v1:ExternalSecret";
const STORE = "kubernetes:external-secrets.io/v1:SecretStore";
const GENERATOR = "kubernetes:generators.external-secrets.io/v1alpha1:VaultDynamicSecret";
const RELEASE = "kubernetes:helm.sh/v3:Release";
const meta = (r: { inputs: Record<string, unknown> }) => r.inputs.metadata as { name: string; namespace?: string };

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
    // Outside dev mode the program configures its own jwt login to Vault,
    // and NetworkPolicies around Vault and ESO.
    const login = "veza:vault:VaultDeployerLogin vault-deployer-login";
    const network = "veza:cluster:NetworkPolicies network-policies";
    assert.deepEqual(await components("staging"), [...common, ...database, login, network].sort());
    assert.deepEqual(await components("production"), [...common, ...database, "veza:secrets:AwsSecrets aws-secrets", login, network].sort());
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

describe("the whole program, per environment", () => {
  const storedKeys = (database: boolean) =>
    serviceSecrets(CATALOG)
      .flatMap((s) => s.keys)
      .filter((k, i, all) => all.indexOf(k) === i)
      .filter((k) => !(database && k === "database-url"))
      .sort();

  it("protects exactly production's stateful resources, and nothing elsewhere", async () => {
    const prot = async (stack: string) =>
      (await stackRun(stack)).resources
        .filter((r) => r.protect)
        .map((r) => `${r.type} ${r.name}`)
        .sort();
    assert.deepEqual(await prot("development"), []);
    assert.deepEqual(await prot("staging"), []);
    const prod = await prot("production");
    assert.deepEqual(
      prod.filter((p) => !p.startsWith("aws:secretsmanager/secret:Secret ")),
      [
        "aws:kms/key:Key aws-secrets-key",
        "kubernetes:core/v1:Namespace namespaces-vault",
        "kubernetes:core/v1:Namespace namespaces-workloads",
        "kubernetes:helm.sh/v3:Release external-secrets",
        "kubernetes:helm.sh/v3:Release vault",
        "vault:database/secretBackendConnection:SecretBackendConnection vault-config-database-connection",
        "vault:index/mount:Mount vault-config-database-mount",
        "vault:index/mount:Mount vault-config-kv-mount",
        "vault:kv/secretV2:SecretV2 vault-config-secrets",
      ],
    );
    assert.deepEqual(
      prod.filter((p) => p.startsWith("aws:secretsmanager/secret:Secret ")).map((p) => p.split(" ")[1]),
      storedKeys(true)
        .map((k) => `aws-secrets-${k}`)
        .sort(),
    );
  });

  it("scopes ESO to the workload namespace and lets it mint tokens only for that stack's store ServiceAccounts", async () => {
    for (const [stack, fragment, accounts] of [
      ["development", undefined, ["eso-vault-store"]],
      // With database: the migration store's account and each service's generator account too.
      ["production", undefined, ["eso-aws-store", ...SERVICES.map((s) => `eso-db-${s}`), "eso-vault-migrations-store", "eso-vault-store"].sort()],
      ["staging", "gcp", [...SERVICES.map((s) => `eso-db-${s}`), "eso-gcp-store", "eso-vault-migrations-store", "eso-vault-store"].sort()],
    ] as const) {
      const run = await stackRun(stack, fragment);
      const eso = run.resources.find((r) => r.type === RELEASE && r.inputs.chart === "external-secrets");
      const values = unwrapSecrets(eso?.inputs.values) as { scopedNamespace: string; scopedRBAC: boolean; rbac: unknown };
      assert.deepEqual([values.scopedNamespace, values.scopedRBAC, values.rbac], [`veza-${stack}`, true, { serviceAccountTokenCreate: false }], stack);
      const role = run.resources.find((r) => r.type === "kubernetes:rbac.authorization.k8s.io/v1:Role" && r.name === "external-secrets-token-create");
      assert.deepEqual(
        unwrapSecrets(role?.inputs.rules),
        [{ apiGroups: [""], resources: ["serviceaccounts/token"], resourceNames: accounts, verbs: ["create"] }],
        `${stack} ${fragment ?? ""}`,
      );
      assert.equal(meta(role as { inputs: Record<string, unknown> }).namespace, `veza-${stack}`);
    }
  });

  it("labels every namespace it creates for Pod Security Admission (restricted: enforce, audit, warn)", async () => {
    const restricted = Object.fromEntries(
      ["enforce", "audit", "warn"].flatMap((m) => [
        [`pod-security.kubernetes.io/${m}`, "restricted"],
        [`pod-security.kubernetes.io/${m}-version`, "latest"],
      ]),
    );
    for (const [stack, fragment] of [
      ["development", undefined],
      ["development", "kubernetes"],
      ["production", undefined],
    ] as const) {
      const namespaces = resourcesOfType(await stackRun(stack, fragment), "kubernetes:core/v1:Namespace");
      assert.ok(namespaces.length >= 1);
      for (const ns of namespaces) {
        const labels = (ns.inputs.metadata as { labels: Record<string, string> }).labels;
        assert.deepEqual(Object.fromEntries(Object.entries(labels).filter(([k]) => k.startsWith("pod-security."))), restricted, `${stack} ${meta(ns).name}`);
      }
    }
  });

  it("closes Vault's API to all but ESO, its peers and the stack's deployer range; ESO reaches HTTPS anywhere only with a cloud backend", async () => {
    const np = async (stack: string, fragment?: string) => {
      const run = await stackRun(stack, fragment);
      return Object.fromEntries(
        run.resources
          .filter((r) => r.type === "kubernetes:networking.k8s.io/v1:NetworkPolicy")
          .map((r) => [meta(r).name, r.inputs.spec as { ingress?: { from: unknown[] }[]; egress?: unknown[] }]),
      );
    };
    const prod = await np("production");
    assert.deepEqual(Object.keys(prod).sort(), ["eso-controller-egress", "vault-ingress"]);
    assert.deepEqual(prod["vault-ingress"].ingress?.[2].from, [{ ipBlock: { cidr: "10.20.0.0/24" } }]);
    // Production mirrors to AWS Secrets Manager: HTTPS egress; staging reads Vault only.
    assert.equal(prod["eso-controller-egress"].egress?.length, 4);
    assert.equal((await np("staging"))["eso-controller-egress"].egress?.length, 3);
    assert.deepEqual(await np("development"), {}, "dev mode's Vault is reached through a NodePort: off by default");
  });

  it("audits HA Vault to its volume and to stdout for the log pipeline; dev mode to stdout once", async () => {
    const audits = async (stack: string) =>
      (await stackRun(stack)).resources
        .filter((r) => r.type === "vault:index/audit:Audit")
        .map((r) => [r.inputs.path, (r.inputs.options as { file_path: string }).file_path]);
    assert.deepEqual(await audits("production"), [
      ["file", "/vault/audit/vault_audit.log"],
      ["stdout", "stdout"],
    ]);
    assert.deepEqual(await audits("staging"), [
      ["file", "/vault/audit/vault_audit.log"],
      ["stdout", "stdout"],
    ]);
    assert.deepEqual(await audits("development"), [["file", "stdout"]]);
  });

  it("keeps pods off the store ServiceAccounts and the rotation account, in the workload namespace", async () => {
    for (const [stack, accounts] of [
      ["development", ["eso-vault-store"]],
      ["production", ["eso-vault-store", "eso-aws-store"]],
    ] as const) {
      const run = await stackRun(stack);
      const vap = run.resources.find((r) => r.type === "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy");
      const text = JSON.stringify((vap?.inputs.spec as { validations: unknown }).validations);
      for (const a of [...accounts, "secrets-rotation"]) assert.ok(text.includes(`'${a}'`), `${stack}: ${a}`);
      const binding = run.resources.find((r) => r.type === "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding");
      assert.deepEqual((binding?.inputs.spec as { matchResources: unknown }).matchResources, {
        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": `veza-${stack}` } },
      });
    }
    // Option 1 has no store and no rotation job: nothing to guard.
    assert.equal(
      (await stackRun("development", "kubernetes")).resources.some((r) => r.type.includes("ValidatingAdmissionPolicy")),
      false,
    );
  });

  it("logs in to staging's and production's Vault with a jwt role, never a stored token; dev mode with its root token", async () => {
    for (const stack of ["staging", "production"]) {
      const run = await stackRun(stack);
      const provider = run.resources.find((r) => r.type === "pulumi:providers:vault");
      const inputs = unwrapSecrets(provider?.inputs) as Record<string, unknown>;
      assert.equal(inputs.token, undefined, stack);
      assert.equal(inputs.authLoginJwt, JSON.stringify({ mount: "jwt-github", role: `pulumi-${stack}` }), stack);
      // The program configures its own jwt logins (the bootstrap only writes the deployer policy).
      const roles = run.resources
        .filter((r) => r.type === "vault:jwt/authBackendRole:AuthBackendRole")
        .map((r) => [r.inputs.roleName, r.inputs.boundClaims, r.inputs.tokenTtl]);
      assert.deepEqual(roles, [
        [`pulumi-${stack}`, { repository: "veza/veza-secrets", environment: stack, ref: "refs/heads/main" }, 3600],
        [`pulumi-${stack}-preview`, { repository: "veza/veza-secrets", environment: `${stack}-preview` }, 3600],
      ]);
      // No policy the program writes is its own.
      const policies = run.resources.filter((r) => r.type === "vault:index/policy:Policy").map((r) => r.inputs.name);
      const dbPolicies = [...SERVICES, "migrations"].sort().map((i) => `veza-${stack}-db-${i}`);
      assert.deepEqual(policies.sort(), [...dbPolicies, `veza-${stack}-pulumi-preview`, `veza-${stack}-read`], stack);
    }
    const dev = unwrapSecrets((await stackRun("development")).resources.find((r) => r.type === "pulumi:providers:vault")?.inputs) as Record<string, unknown>;
    assert.equal(dev.token, "FAKE-SECRET-vaultDevRootToken-5f3c9a");
    assert.equal(dev.authLoginJwt, undefined);
  });

  it("writes every stored catalog key to each backend, under the environment's names", async () => {
    for (const stack of STACKS) {
      const database = stack !== "development";
      const kv = (await stackRun(stack)).resources.find((r) => r.type === "vault:kv/secretV2:SecretV2");
      assert.ok(kv);
      assert.equal(kv.inputs.name, `veza/${stack}`);
      assert.equal(kv.inputs.mount, "secret");
      assert.deepEqual(Object.keys(JSON.parse(String(unwrapSecrets(kv.inputs.dataJson)))).sort(), storedKeys(database), stack);
      const aws = resourcesOfType(await stackRun(stack, "aws"), "aws:secretsmanager/secret:Secret");
      assert.deepEqual(
        aws.map((s) => s.inputs.name).sort(),
        storedKeys(database).map((k) => `veza/${stack}/${k}`),
        stack,
      );
      const gcp = resourcesOfType(await stackRun(stack, "gcp"), "gcp:secretmanager/secret:Secret");
      assert.deepEqual(
        gcp.map((s) => s.inputs.secretId).sort(),
        storedKeys(database).map((k) => `veza-${stack}-${k}`),
        stack,
      );
      const azure = resourcesOfType(await stackRun(stack, "azure"), "azure-native:keyvault:Secret");
      assert.deepEqual(
        azure.map((s) => s.inputs.secretName).sort(),
        storedKeys(database).map((k) => `veza-${stack}-${k}`),
        stack,
      );
    }
  });

  it("grants each environment's identities only that environment's paths (3×3)", async () => {
    for (const stack of STACKS) {
      const others = STACKS.filter((s) => s !== stack);
      const policy = (await stackRun(stack)).resources.find((r) => r.type === "vault:index/policy:Policy");
      assert.ok(policy);
      const hcl = String(policy.inputs.policy);
      assert.ok(hcl.includes(`secret/data/veza/${stack}"`), `${stack} policy reads its own path`);
      for (const other of others) assert.ok(!hcl.includes(`veza/${other}`), `${stack}'s Vault policy names ${other}`);
      assert.ok(!/\*|sudo/.test(hcl), `${stack}'s Vault policy has a wildcard or sudo`);
      const role = (await stackRun(stack)).resources.find((r) => r.type === "vault:kubernetes/authBackendRole:AuthBackendRole");
      assert.deepEqual(
        [role?.inputs.boundServiceAccountNames, role?.inputs.boundServiceAccountNamespaces, role?.inputs.audience],
        [["eso-vault-store"], [`veza-${stack}`], "vault"],
      );

      const awsPolicy = resourcesOfType(await stackRun(stack, "aws"), "aws:iam/rolePolicy:RolePolicy").map((r) => String(unwrapSecrets(r.inputs.policy)));
      assert.equal(awsPolicy.length, 1);
      assert.ok(awsPolicy[0].includes(`:secret:veza/${stack}/*`));
      for (const other of others) assert.ok(!awsPolicy[0].includes(`veza/${other}/`), `${stack}'s AWS policy names ${other}`);

      const gcpGrants = resourcesOfType(await stackRun(stack, "gcp"), "gcp:secretmanager/secretIamMember:SecretIamMember");
      assert.ok(gcpGrants.length > 0);
      for (const g of gcpGrants) assert.match(String(g.inputs.secretId), new RegExp(`^veza-${stack}-`));

      const azureGrants = resourcesOfType(await stackRun(stack, "azure"), "azure-native:authorization:RoleAssignment");
      assert.deepEqual(
        azureGrants.map((g) => String(g.inputs.scope).split("/").pop()),
        [`veza-${stack}-kv`],
      );
    }
  });

  it("builds each service's database-url from its own generated login outside development, with TLS required; the owner's only for migrations", async () => {
    const shape = { staging: { ttl: 3600, refresh: "30m" }, production: { ttl: 14400, refresh: "2h" } };
    for (const stack of ["staging", "production"] as const) {
      const run = await stackRun(stack);
      type Spec = {
        refreshInterval: string;
        target: { template: { data: Record<string, string> } };
        dataFrom: { extract?: { key: string }; sourceRef?: { generatorRef: { name: string } } }[];
      };
      const specOf = (name: string) => resourcesOfType(run, ES).find((e) => meta(e).name === name)?.inputs.spec as Spec;
      assert.equal(specOf("veza-secrets").target.template.data["database-url"], undefined, "the shared Secret carries no login");
      for (const service of ["backend-api", "chat-server", "stream-server"]) {
        const spec = specOf(`veza-${service}-secrets`);
        assert.match(
          spec.target.template.data["database-url"],
          /^postgresql:\/\/\{\{ index \. "db_username" \}\}:\{\{ index \. "db_password" \}\}@postgres\.[a-z.]+\.internal:5432\/veza\?sslmode=verify-full$/,
        );
        assert.deepEqual(
          spec.dataFrom.map((d) => d.extract?.key ?? d.sourceRef?.generatorRef.name),
          [`veza/${stack}`, `veza-${service}-database`],
        );
        assert.equal(spec.refreshInterval, shape[stack].refresh);
        const generator = resourcesOfType(run, GENERATOR).find((g) => meta(g).name === `veza-${service}-database`);
        const g = generator?.inputs.spec as { path: string; provider: { auth: { kubernetes: { role: string; serviceAccountRef: { name: string } } } } };
        assert.deepEqual(
          [g.path, g.provider.auth.kubernetes.role, g.provider.auth.kubernetes.serviceAccountRef.name],
          [`database/creds/veza-${service}`, `eso-veza-${stack}-db-${service}`, `eso-db-${service}`],
        );
        const role = run.resources.find((r) => r.type === "vault:database/secretBackendRole:SecretBackendRole" && r.inputs.name === `veza-${service}`);
        assert.deepEqual([role?.inputs.defaultTtl, role?.inputs.maxTtl], [shape[stack].ttl, shape[stack].ttl]);
      }
      const migrations = specOf("veza-migrations-secrets");
      assert.deepEqual(migrations.dataFrom, [{ extract: { key: "database/static-creds/veza-app" } }]);
      const staticRole = run.resources.find((r) => r.type === "vault:database/secretBackendStaticRole:SecretBackendStaticRole");
      assert.deepEqual(
        [staticRole?.inputs.name, staticRole?.inputs.username, staticRole?.inputs.rotationSchedule, staticRole?.inputs.rotationPeriod],
        ["veza-app", "veza_app", "0 4 * * 0", undefined],
      );
      // No policy but the migrations' names the static role; every other database policy names exactly one creds path.
      for (const p of run.resources.filter((r) => r.type === "vault:index/policy:Policy")) {
        const hcl = String(p.inputs.policy);
        assert.equal(hcl.includes("static-creds"), p.inputs.name === `veza-${stack}-db-migrations`, String(p.inputs.name));
      }
      const outputs = run.outputs.rotation as { database: Record<string, unknown> };
      assert.deepEqual(outputs.database, {
        connection: "veza",
        migrationRole: "veza-app",
        migrationRoleUser: "veza_app",
        rotationSchedule: "0 4 * * 0",
        serviceRoles: Object.fromEntries(SERVICES.map((s) => [s, `veza-${s}`])),
        leaseTtl: stack === "production" ? "4h" : "1h",
        refreshInterval: shape[stack].refresh,
      });
    }
  });

  it("installs Vault but skips its configuration, with a clear warning, until production is bootstrapped", async () => {
    const run = await runProgram({ stack: "production", overrides: { "veza-secrets:vault": { bootstrapped: false } } });
    assert.deepEqual(
      run.resources.filter((r) => r.type.startsWith("vault:") || r.type === "pulumi:providers:vault"),
      [],
    );
    assert.ok(run.resources.some((r) => r.type === RELEASE && r.inputs.chart === "vault"));
    // No Vault store yet, and no ExternalSecrets: database-url can only come from Vault.
    assert.deepEqual(
      resourcesOfType(run, STORE).map((s) => meta(s).name),
      ["aws-store"],
    );
    assert.deepEqual(resourcesOfType(run, ES), []);
  });

  it("serves the ExternalSecrets from the next backend while Vault awaits bootstrap, where database-url is supplied", async () => {
    const config = stackConfig("production");
    delete config["veza-secrets:database"];
    const run = await runProgram({ stack: "production", config, overrides: { "veza-secrets:vault": { bootstrapped: false } } });
    // One ExternalSecret per Kubernetes Secret the catalog defines (shared + one per service).
    assert.equal(resourcesOfType(run, ES).length, serviceSecrets(CATALOG).length);
    assert.ok(resourcesOfType(run, ES).every((e) => (e.inputs.spec as { secretStoreRef: { name: string } }).secretStoreRef.name === "aws-store"));
  });

  it("refuses plain Kubernetes Secrets (stacks/examples/kubernetes.yaml) in staging and production", async () => {
    for (const stack of ["staging", "production"]) {
      const { run, error } = await tryRunProgram({ stack, overrides: exampleFragments().kubernetes });
      assert.ok(error instanceof ConfigError, stack);
      assert.deepEqual(
        error.problems.map((p) => p.key),
        ["providers"],
      );
      assert.deepEqual(
        run.resources.map((r) => r.type),
        ["pulumi:pulumi:Stack"],
      );
    }
  });

  it("installs no operator and writes the Secrets itself for providers [kubernetes]", async () => {
    const run = await stackRun("development", "kubernetes");
    // Only Reloader, which restarts pods when the program rewrites a Secret.
    assert.deepEqual(
      run.resources.filter((r) => r.type === RELEASE).map((r) => r.inputs.chart),
      ["reloader"],
    );
    assert.deepEqual(
      resourcesOfType(run, "kubernetes:core/v1:Secret")
        .map((r) => meta(r).name)
        .sort(),
      serviceSecrets(CATALOG)
        .map((s) => s.name)
        .sort(),
    );
  });
});

describe("the rotation CronJob on a fresh cluster", () => {
  for (const stack of STACKS) {
    it(`${stack}: touches only ExternalSecrets this program creates in its namespace, and no Deployment`, async () => {
      const run = await stackRun(stack);
      const cron = resourcesOfType(run, "kubernetes:batch/v1:CronJob");
      assert.equal(cron.length, 1);
      const cronMeta = meta(cron[0]);
      const pod = (cron[0].inputs.spec as { jobTemplate: { spec: { template: { spec: { containers: { args: string[] }[]; initContainers?: unknown[] } } } } })
        .jobTemplate.spec.template.spec;
      assert.equal(pod.initContainers, undefined);
      const targets = pod.containers.flatMap((c) => c.args.filter((a) => a.includes("/")));
      const created = resourcesOfType(run, ES)
        .filter((r) => meta(r).namespace === cronMeta.namespace)
        .map((r) => `externalsecret/${meta(r).name}`);
      assert.deepEqual([...targets].sort(), [...created].sort(), "every object the Job annotates exists, and it annotates all of them");
      const roles = resourcesOfType(run, "kubernetes:rbac.authorization.k8s.io/v1:Role").filter((r) => meta(r).name === "secrets-rotation");
      assert.deepEqual(
        roles.flatMap((r) => (r.inputs.rules as { apiGroups: string[] }[]).flatMap((rule) => rule.apiGroups)),
        ["external-secrets.io"],
      );
    });
  }
});

describe("migration from manually created Secrets", () => {
  for (const stack of STACKS) {
    it(`${stack}: eso.adoptExisting passes ESO's CRD schemas and its admission webhook (Merge never with deletionPolicy Delete)`, async () => {
      const run = await runProgram({ stack, overrides: { "veza-secrets:eso": { adoptExisting: true } } });
      const ess = resourcesOfType(run, ES);
      assert.ok(ess.length > 0);
      for (const r of ess) {
        assert.deepEqual(validateCustomResource(unwrapSecrets(r.inputs)), [], `${stack} ${r.name}`);
        // The migration Job's Secret was never made by hand: ESO owns it from the start.
        const policy = meta(r).name === "veza-migrations-secrets" ? "Owner" : "Merge";
        assert.deepEqual((r.inputs.spec as { target: object }).target, {
          ...(r.inputs.spec as { target: object }).target,
          creationPolicy: policy,
          deletionPolicy: "Retain",
        });
      }
    });
  }

  it("merges into existing Secrets while eso.adoptExisting is on, then owns them, keeping names and keys", async () => {
    const adopt = await runProgram({ stack: "staging", overrides: { "veza-secrets:eso": { adoptExisting: true } } });
    const own = await stackRun("staging");
    const targets = (run: ProgramRun) =>
      resourcesOfType(run, ES)
        .map((e) => e.inputs.spec as { target: { name: string; creationPolicy: string; template: { data: object } } })
        .map((s) => [s.target.name, s.target.creationPolicy, Object.keys(s.target.template.data)] as const)
        .sort();
    // The migration Job's Secret is new (never hand-made): ESO owns it from the start.
    const adopted = (run: ProgramRun) => targets(run).filter(([name]) => name !== "veza-migrations-secrets");
    assert.deepEqual(
      adopted(adopt).map(([name, policy]) => [name, policy]),
      expectedSecrets("staging")
        .map((s) => [s.name, "Merge"])
        .sort(),
    );
    assert.deepEqual(
      adopted(own).map(([name, policy]) => [name, policy]),
      expectedSecrets("staging")
        .map((s) => [s.name, "Owner"])
        .sort(),
    );
    // Same Secret names and keys in both phases: pods never see a different Secret.
    assert.deepEqual(
      targets(adopt).map(([n, , k]) => [n, k]),
      targets(own).map(([n, , k]) => [n, k]),
    );
  });
});
