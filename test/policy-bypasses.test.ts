/**
 * Issue #29, finding 5: the ways past the policy pack that the review found, each closed. Every
 * case shows the bypass reported (exact message) and the program's own form passing:
 * - Vault policy documents Vault's HCL1 parser reads a grant from that the pack missed (a second
 *   JSON "path" key, `"path" "sys/*" {…}`, a repeated `capabilities`, `policy = "write"`, ...);
 * - a jwt role's glob claim (`repository: "org/*"` under boundClaimsType glob);
 * - a login role's token policies: root, another environment's, the deployer's, one nobody judged;
 * - the ESO chart referenced another way (`oci://…/external-secrets`, a path, an archive, the repo);
 * - `helm.sh/v4:Chart`, judged like a `helm.sh/v3:Release`.
 */
import * as assert from "node:assert/strict";
import * as P from "../policy/policies";
import { helmChartNames } from "../policy/resources";
import { parseVaultPolicy } from "../policy/vault-acl";
import { policyDocument } from "../components/vault/policy-hcl";
import { migrationCredsPolicy, serviceCredsPolicy } from "../components/vault/database-access";
import { type FakeResource, UNKNOWN_STRING, validateResource, validateStack } from "./policy-args";
import { messages, namespace, stackMessages } from "./policy-fixtures";

const READ = 'path "secret/data/veza/production" {\n  capabilities = ["read"]\n}\n';
/** What a document that cannot be read reports, after "cannot be checked: it <why>". */
const UNREADABLE_TAIL =
  'The pack reads only HCL blocks path "<path>" { capabilities = [...] } (with allowed_parameters, denied_parameters), as the program\'s generators write them; write it that way.';

describe("policy pack: issue #29's bypasses (finding 5), each reported, the program's form passing", () => {
  describe("Vault policy documents: read as Vault's HCL1 parser reads them, or refused", () => {
    /** Each document hides a grant from a reader that is not HCL1's; the reader refuses it, and says why and where. */
    const refused: [string, string, string][] = [
      [
        'a second "path" key in JSON (JSON.parse keeps the last; HCL1 keeps both)',
        '{"path": {"secret/data/veza/production": {"capabilities": ["read"]}}, "path": {"sys/*": {"capabilities": ["sudo"]}}}',
        'is JSON, which Vault reads with HCL1\'s JSON rules (a second "path" key adds rules)',
      ],
      [
        "a list of path objects in JSON",
        '  {"path": [{"sys/*": {"capabilities": ["sudo"]}}]}',
        'is JSON, which Vault reads with HCL1\'s JSON rules (a second "path" key adds rules)',
      ],
      [
        "capabilities set twice (HCL1 appends both lists)",
        'path "secret/data/veza/production" {\n  capabilities = ["read"]\n  capabilities = ["sudo"]\n}',
        'sets capabilities twice in path "secret/data/veza/production" (Vault\'s HCL1 decoder keeps both) (line 3, column 3)',
      ],
      [
        'the legacy policy = "write" (Vault expands it to create, read, update, delete, list)',
        'path "secret/data/veza/production" {\n  capabilities = ["read"]\n  policy = "write"\n}',
        'sets "policy" in path "secret/data/veza/production" (only capabilities, allowed_parameters, denied_parameters are read) (line 3, column 3)',
      ],
      [
        "one path in two blocks (Vault merges their capabilities)",
        `${READ}path "secret/data/veza/production" { capabilities = ["update"] }`,
        'names path "secret/data/veza/production" twice (Vault applies both blocks) (line 4, column 6)',
      ],
      [
        "a second label (HCL1 takes the first as the path)",
        'path "secret/data/veza/production" "ignored" { capabilities = ["read"] }',
        'gives path "secret/data/veza/production" a second label (line 1, column 6)',
      ],
      [
        "${…} in a string (HCL1 reads it as an expression, quotes and all)",
        'path "secret/data/veza/production" { capabilities = ["read", "${"}"] }\npath "sys/*" { capabilities = ["sudo"] }',
        "interpolates ${…} in a string, which HCL1 reads as an expression (line 1, column 63)",
      ],
      ["a heredoc", 'path "sys/*" {\n  capabilities = [<<EOF\nsudo\nEOF\n  ]\n}', "has a heredoc (<<) (line 2, column 19)"],
      ["an unterminated block comment", `${READ}/* path "sys/*" { capabilities = ["sudo"] }`, "has an unterminated /* comment (line 4, column 1)"],
      [
        "a capability Vault does not know",
        'path "secret/data/veza/production" { capabilities = ["Sudo"] }',
        'grants "Sudo" on path "secret/data/veza/production", not a capability Vault knows (line 1, column 54)',
      ],
      [
        "a templated path (what it grants depends on the token's identity)",
        'path "secret/data/veza/{{identity.entity.metadata.env}}" { capabilities = ["read"] }',
        'has path "secret/data/veza/{{identity.entity.metadata.env}}", templated: what it grants depends on the token\'s identity (line 1, column 6)',
      ],
      [
        'a leading "/" (Vault strips it)',
        'path "/sys/*" { capabilities = ["sudo"] }',
        'has path "/sys/*" with a leading "/", which Vault strips (line 1, column 6)',
      ],
      [
        'another top-level key (name = "…")',
        `name = "x"\n${READ}`,
        'has "name" where a path block should start (only path blocks are read) (line 1, column 1)',
      ],
      ["a block left open", 'path "sys/*" { capabilities = ["sudo"]', 'ends where an attribute of path "sys/*" should follow'],
      ["a string left open", 'path "sys/*\n" { capabilities = ["sudo"] }', "has an unterminated string (line 1, column 6)"],
      ["a number", 'path "sys/*" { capabilities = [1] }', 'has "1" where HCL path blocks hold none (line 1, column 32)'],
    ];
    for (const [what, document, why] of refused) {
      it(`refuses ${what}`, () => {
        assert.throws(
          () => parseVaultPolicy(document),
          (e: Error) => e.message === why,
        );
      });
    }

    it('reads `"path" "sys/*" {…}` (a quoted block key) as Vault does, so its grant is judged', () => {
      assert.deepEqual(parseVaultPolicy(`${READ}"path" "sys/*" { capabilities = ["read", "sudo"] }`), [
        { path: "secret/data/veza/production", capabilities: ["read"] },
        { path: "sys/*", capabilities: ["read", "sudo"] },
      ]);
    });

    it("reads comments of every kind, escapes, commas HCL1 allows, and the deployer's parameters", () => {
      const doc = [
        '# a "quoted" comment with a { brace',
        'path "secret/data/veza/production" { // path "sys/*" {',
        '  /* capabilities = ["sudo"] */ capabilities = ["read", "list",],',
        '  allowed_parameters = { "*" = [], "policy" = ["path \\"x\\" {\\n  capabilities = [\\"read\\"]\\n}\\n"] }',
        "  denied_parameters = { token_policies = [] }",
        "}",
        'path "secret/metadata/veza/\\u0070roduction" { capabilities = ["read"] }',
      ].join("\n");
      assert.deepEqual(parseVaultPolicy(doc), [
        { path: "secret/data/veza/production", capabilities: ["read", "list"] },
        { path: "secret/metadata/veza/production", capabilities: ["read"] },
      ]);
    });

    it("reads every document the program's generators write", () => {
      assert.deepEqual(parseVaultPolicy(policyDocument({ kvMount: "secret", secretPath: "veza/production" })), [
        { path: "secret/data/veza/production", capabilities: ["read"] },
        { path: "secret/metadata/veza/production", capabilities: ["read"] },
      ]);
      assert.deepEqual(parseVaultPolicy(serviceCredsPolicy("database", "veza-api")), [{ path: "database/creds/veza-api", capabilities: ["read"] }]);
      assert.deepEqual(parseVaultPolicy(migrationCredsPolicy("database", "veza-app")), [{ path: "database/static-creds/veza-app", capabilities: ["read"] }]);
      // The bootstrap's deployer policy (every managed document as an allowed_parameters value)
      // is read for each committed stack in components/vault/deployer-policy.test.ts.
    });

    const vaultPolicy = (document: string): FakeResource => ({
      type: "vault:index/policy:Policy",
      name: "p",
      props: { name: "veza-production-read", policy: document },
    });
    const hidden = `${READ}"path" "sys/*" { capabilities = ["read", "sudo"] }`;
    const duplicateJson = '{"path": {"secret/data/veza/production": {"capabilities": ["read"]}}, "path": {"sys/*": {"capabilities": ["sudo"]}}}';

    it("vault-policy-read-only reports the grant a quoted block key hid, and a document it cannot read, before the change", async () => {
      assert.deepEqual(await messages(P.vaultPolicyReadOnly, vaultPolicy(hidden)), [
        'Vault policy "veza-production-read" grants "sudo" on "sys/*", which covers its own policy: a holder can rewrite it to grant itself everything (a self-promotion to root). The program\'s own policy is written by the bootstrap, never by the program.',
      ]);
      assert.deepEqual(await messages(P.vaultPolicyReadOnly, vaultPolicy(duplicateJson)), [
        `Vault policy "veza-production-read" cannot be checked: it is JSON, which Vault reads with HCL1's JSON rules (a second "path" key adds rules). ${UNREADABLE_TAIL}`,
      ]);
      assert.deepEqual(await messages(P.vaultPolicyReadOnly, vaultPolicy(policyDocument({ kvMount: "secret", secretPath: "veza/production" }))), []);
    });

    it("vault-policy-environment-scope reports the same at stack level", async () => {
      const tail = "production policies may grant only veza/production/ paths (and this Vault's own engines), without sudo.";
      assert.deepEqual(await stackMessages(P.vaultPolicyEnvironmentScope, [namespace("production"), vaultPolicy(hidden)]), [
        `Vault policy "veza-production-read" grants "sudo" on "sys/*": ${tail}`,
      ]);
      assert.deepEqual(await stackMessages(P.vaultPolicyEnvironmentScope, [namespace("production"), vaultPolicy(`${READ}${READ}`)]), [
        `Vault policy "veza-production-read" cannot be checked: it names path "secret/data/veza/production" twice (Vault applies both blocks) (line 4, column 6). ${UNREADABLE_TAIL}`,
      ]);
      assert.deepEqual(
        await stackMessages(P.vaultPolicyEnvironmentScope, [
          namespace("production"),
          vaultPolicy(policyDocument({ kvMount: "secret", secretPath: "veza/production" })),
        ]),
        [],
      );
    });
  });

  describe("vault-jwt-role-bound: a pattern in a bound claim", () => {
    const role = (boundClaims: Record<string, string>, boundClaimsType?: string): FakeResource => ({
      type: "vault:jwt/authBackendRole:AuthBackendRole",
      name: "r",
      props: {
        roleName: "pulumi-production",
        boundAudiences: ["vault"],
        boundClaims,
        ...(boundClaimsType ? { boundClaimsType } : {}),
        tokenTtl: 3600,
        tokenMaxTtl: 3600,
      },
    });

    it("reports a glob repository claim (boundClaimsType glob)", async () => {
      assert.deepEqual(await messages(P.vaultJwtRoleBound, role({ repository: "veza/*", environment: "production" }, "glob")), [
        'Vault jwt role "pulumi-production" binds repository to the glob "veza/*" (boundClaimsType glob): a token of every repository it matches (e.g. any repository of the organisation, any branch) could log in; bind the exact value with boundClaimsType "string".',
      ]);
      assert.deepEqual(await messages(P.vaultJwtRoleBound, role({ repository: "veza/veza-secrets", ref: "refs/heads/*" }, "glob")), [
        'Vault jwt role "pulumi-production" binds ref to the glob "refs/heads/*" (boundClaimsType glob): a token of every ref it matches (e.g. any repository of the organisation, any branch) could log in; bind the exact value with boundClaimsType "string".',
      ]);
    });

    it("reports a pattern under boundClaimsType string too (literal today, a wildcard once the type turns glob)", async () => {
      assert.deepEqual(await messages(P.vaultJwtRoleBound, role({ repository: "veza/*" })), [
        'Vault jwt role "pulumi-production" binds repository to "veza/*", a pattern: matched literally under boundClaimsType "string", it admits every repository it matches once the type is glob; bind the exact value.',
      ]);
    });

    it("passes exact claims, under either type", async () => {
      assert.deepEqual(await messages(P.vaultJwtRoleBound, role({ repository: "veza/veza-secrets", environment: "production" }, "string")), []);
      assert.deepEqual(await messages(P.vaultJwtRoleBound, role({ repository: "veza/veza-secrets", environment: "production" }, "glob")), []);
    });
  });

  describe("vault-role-token-policies: the policies a login role hands out", () => {
    const policy = (name: string): FakeResource => ({
      type: "vault:index/policy:Policy",
      name: `policy-${name}`,
      props: { name, policy: policyDocument({ kvMount: "secret", secretPath: "veza/production" }) },
    });
    const kubernetesRole = (tokenPolicies: string[]): FakeResource => ({
      type: "vault:kubernetes/authBackendRole:AuthBackendRole",
      name: "eso-role",
      props: { roleName: "eso-veza-production", boundServiceAccountNames: ["eso-vault-store"], tokenPolicies },
    });
    const jwtRole = (tokenPolicies: string[]): FakeResource => ({
      type: "vault:jwt/authBackendRole:AuthBackendRole",
      name: "ci-role",
      props: { roleName: "ci", tokenPolicies },
    });
    const stack = (...roles: FakeResource[]) => [namespace("production"), policy("veza-production-read"), ...roles];

    it("reports root, another environment's policy, the deployer's, one this stack does not write, and none", async () => {
      assert.deepEqual(
        await stackMessages(
          P.vaultRoleTokenPolicies,
          stack(
            kubernetesRole(["default", "root"]),
            kubernetesRole(["veza-production-read", "veza-staging-read"]),
            kubernetesRole(["default", "admin"]),
            jwtRole(["veza-production-pulumi"]),
            jwtRole([]),
          ),
        ),
        [
          'Vault kubernetes role "eso-veza-production" hands out "root": every token it issues can do anything in Vault.',
          'Vault kubernetes role "eso-veza-production" hands out "veza-staging-read", a policy of the staging environment: a production role gets production policies only.',
          'Vault kubernetes role "eso-veza-production" hands out "admin", which this stack does not write: no rule of the pack has judged what it grants; attach a policy this stack writes (vault.Policy).',
          "Vault jwt role \"ci\" hands out \"veza-production-pulumi\", the program's own policy: the deployer's logins are the operator's bootstrap's (npm run vault-bootstrap), and a role the program writes must never grant the program's rights.",
          'Vault jwt role "ci" names no tokenPolicies: set the one policy this stack writes for what the role reads.',
        ],
      );
    });

    it("passes a role handing out a policy this stack writes (with Vault's default)", async () => {
      assert.deepEqual(
        await stackMessages(P.vaultRoleTokenPolicies, stack(kubernetesRole(["veza-production-read"]), jwtRole(["default", "veza-production-read"]))),
        [],
      );
    });

    it("defers to pulumi up when a policy's name is unknown at preview", async () => {
      const out = await validateStack(P.vaultRoleTokenPolicies, [
        namespace("production"),
        { ...policy("x"), props: { name: UNKNOWN_STRING, policy: READ } },
        kubernetesRole(["veza-production-read"]),
      ]);
      assert.deepEqual(out.messages, []);
      assert.ok(out.cannotRunInPreview);
    });
  });

  describe("Helm charts: identified however referenced, in a helm.sh/v3 Release or a helm.sh/v4 Chart", () => {
    it("names the chart of every reference form", () => {
      const table: [Record<string, unknown>, string[]][] = [
        [{ chart: "external-secrets" }, ["external-secrets"]],
        [{ chart: "external-secrets/external-secrets" }, ["external-secrets"]],
        [{ chart: "oci://ghcr.io/external-secrets/charts/external-secrets" }, ["external-secrets"]],
        [{ chart: "oci://registry.example:5000/mirror/External-Secrets:2.9.0" }, ["external-secrets"]],
        [{ chart: "oci://ghcr.io/external-secrets/charts/external-secrets@sha256:abc123" }, ["external-secrets"]],
        [{ chart: "./vendor/charts/external-secrets/" }, ["external-secrets"]],
        [{ chart: "vendor\\charts\\external-secrets" }, ["external-secrets"]],
        [{ chart: "./external-secrets-2.9.0.tgz" }, ["external-secrets"]],
        [{ chart: "https://example.com/dl/external-secrets-v2.9.0.tgz?token=x" }, ["external-secrets"]],
        [{ chart: "", repositoryOpts: { repo: "oci://ghcr.io/external-secrets/charts/external-secrets" } }, ["external-secrets"]],
        [{ chart: "external-secrets", repositoryOpts: { repo: "https://charts.external-secrets.io" } }, ["external-secrets", "charts.external-secrets.io"]],
        [{ chart: "hashicorp/vault" }, ["vault"]],
        [{}, []],
      ];
      assert.deepEqual(
        table.map(([props]) => [props, helmChartNames(props as Parameters<typeof helmChartNames>[0])]),
        table,
      );
    });

    const unscoped = [
      'Helm release "eso" leaves scopedNamespace empty: the controller reconciles, and reads and writes Secrets in, every namespace; set it to the workload namespace.',
      'Helm release "eso" leaves scopedRBAC off: the controller\'s Secrets access is a ClusterRole; set scopedRBAC: true.',
      "Helm release \"eso\" keeps rbac.serviceAccountTokenCreate (the chart's default): the controller can mint a token for any ServiceAccount; set it false and grant the stores' accounts by name.",
    ];
    const scoped = { scopedNamespace: "veza-production", scopedRBAC: true, rbac: { serviceAccountTokenCreate: false } };
    const refs: Record<string, unknown>[] = [
      { chart: "oci://ghcr.io/external-secrets/charts/external-secrets" },
      { chart: "./charts/external-secrets" },
      { chart: "https://github.com/external-secrets/external-secrets/releases/download/helm-chart-2.9.0/external-secrets-2.9.0.tgz" },
      { repositoryOpts: { repo: "oci://ghcr.io/external-secrets/charts/external-secrets" } },
    ];
    for (const type of ["kubernetes:helm.sh/v3:Release", "kubernetes:helm.sh/v4:Chart"]) {
      for (const ref of refs) {
        it(`eso-controller-scoped judges ${type.split(":")[1]} ${JSON.stringify(ref)}`, async () => {
          const install = (values: object): FakeResource => ({ type, name: "eso", props: { ...ref, version: "2.9.0", values } });
          assert.deepEqual(await messages(P.esoControllerScoped, install({})), unscoped);
          assert.deepEqual(await messages(P.esoControllerScoped, install(scoped)), []);
        });
      }
    }

    it("eso-controller-scoped defers to pulumi up when the chart reference is unknown at preview", async () => {
      const out = await validateResource(P.esoControllerScoped, {
        type: "kubernetes:helm.sh/v4:Chart",
        name: "eso",
        props: { chart: UNKNOWN_STRING, values: {} },
      });
      assert.deepEqual(out.messages, []);
      assert.ok(out.cannotRunInPreview);
    });

    it("images-pinned-by-digest judges a helm.sh/v4 Chart (it judged only v3 Releases)", async () => {
      const digest = "sha256:5be49781ecf78bfe775c5309c6a4d9f4e9e040b6c885c99eb2b12fb69855e1a2";
      const chart = (values: object): FakeResource => ({
        type: "kubernetes:helm.sh/v4:Chart",
        name: "eso",
        props: { chart: "oci://ghcr.io/external-secrets/charts/external-secrets", version: "2.9.0", values },
      });
      assert.deepEqual(await messages(P.imagesPinnedByDigest, chart({ image: { tag: "v2.9.0" } })), [
        'Helm release "eso" sets no webhook.image: the chart\'s default image runs, pinned by tag only. Set it with a digest.',
        'Helm release "eso" sets no certController.image: the chart\'s default image runs, pinned by tag only. Set it with a digest.',
        'Helm release "eso" value image.tag "v2.9.0" is pinned by tag only: append @sha256:<digest> (keep the tag for readers).',
      ]);
      const pinned = { tag: `v2.9.0@${digest}` };
      assert.deepEqual(await messages(P.imagesPinnedByDigest, chart({ image: pinned, webhook: { image: pinned }, certController: { image: pinned } })), []);
    });

    it("the Vault chart's stack rules see it in a helm.sh/v4 Chart referenced by OCI", async () => {
      const vault: FakeResource = {
        type: "kubernetes:helm.sh/v4:Chart",
        name: "vault",
        props: {
          chart: "oci://registry.example/hashicorp/vault",
          version: "0.34.1",
          namespace: "vault-system",
          values: { server: { dev: { enabled: true } } },
        },
      };
      assert.deepEqual(await stackMessages(P.vaultDevModeDevelopmentOnly, [namespace("staging"), vault]), [
        'Vault release "vault" runs in dev mode (in memory, unsealed, root token) in staging: dev mode is for development only; use ha mode.',
      ]);
      assert.deepEqual(await stackMessages(P.vaultDevModeDevelopmentOnly, [namespace("development"), vault]), []);
    });
  });
});
