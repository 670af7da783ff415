/**
 * VaultCluster (components/vault/cluster.ts) as registered: the component and its one Release,
 * the pinned chart installed atomically, the dev root token only as a secret, the outputs,
 * protection, ha mode through the given provider, and refused arguments.
 */
import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { Provider } from "@pulumi/kubernetes/provider";
import { findResource, isSecret, plaintextOccurrences, runProgram, unwrapSecrets, type ProgramRun, type RecordedResource } from "../../harness";
import { chartVersion } from "../../test/schemas";
import { VaultCluster } from "./cluster";
import { type VaultClusterArgs } from "./cluster-args";
import { vaultValues } from "./cluster-values";
import { SEALS, TOKEN } from "./cluster-fixtures";

const COMPONENT = "veza:cluster:VaultCluster";
const RELEASE = "kubernetes:helm.sh/v3:Release";
const CONFIG = { "veza-secrets:environment": "development", "veza-secrets:providers": ["vault"] };

function run(args: VaultClusterArgs, opts?: { provider?: boolean }): Promise<ProgramRun> {
  return runProgram({
    stack: "test",
    config: CONFIG,
    program: () => {
      const provider = opts?.provider ? new Provider("cluster", {}) : undefined;
      new VaultCluster("vault", { ...args, provider });
    },
  });
}

describe("components/vault/cluster: resources", () => {
  let dev: ProgramRun;
  let component: RecordedResource;
  let release: RecordedResource;

  beforeEach(async () => {
    dev = await run({ namespace: "vault-system", mode: "dev", devRootToken: TOKEN });
    component = findResource(dev, COMPONENT, "vault");
    release = findResource(dev, RELEASE, "vault");
  });

  it("registers exactly the component and one Release, its child", async () => {
    const mine = dev.resources
      .filter((r) => r.type !== "pulumi:pulumi:Stack")
      .map((r) => `${r.type}::${r.name}`)
      .sort();
    assert.deepEqual(mine, [`${RELEASE}::vault`, `${COMPONENT}::vault`]);
    assert.equal(release.parent, component.urn);
  });

  it("installs the pinned chart from HashiCorp's repository, atomically, into the caller's namespace", async () => {
    const i = unwrapSecrets(release.inputs) as Record<string, unknown>;
    assert.deepEqual(
      {
        name: i.name,
        chart: i.chart,
        version: i.version,
        repositoryOpts: i.repositoryOpts,
        namespace: i.namespace,
        createNamespace: i.createNamespace,
        atomic: i.atomic,
        cleanupOnFail: i.cleanupOnFail,
        timeout: i.timeout,
        maxHistory: i.maxHistory,
      },
      {
        name: "vault",
        chart: "vault",
        version: chartVersion("vault"),
        repositoryOpts: { repo: "https://helm.releases.hashicorp.com" },
        namespace: "vault-system",
        createNamespace: false,
        atomic: true,
        cleanupOnFail: true,
        timeout: 600,
        maxHistory: 10,
      },
    );
    assert.deepEqual(i.values, vaultValues({ mode: "dev", devRootToken: TOKEN }));
  });

  it("passes the dev root token only as a secret", async () => {
    const values = release.inputs.values as { server: { dev: { devRootToken: unknown } } };
    assert.equal(isSecret(values.server.dev.devRootToken), true);
    assert.deepEqual(plaintextOccurrences(dev.resources, TOKEN), []);
    assert.deepEqual(plaintextOccurrences([...dev.componentOutputs.values()], TOKEN), []);
  });

  it("registers exactly address, releaseName and serviceAccountName as outputs", async () => {
    assert.deepEqual(dev.componentOutputs.get(component.urn), {
      address: "http://vault.vault-system.svc:8200",
      releaseName: "vault",
      serviceAccountName: "vault",
    });
  });

  it("does not protect anything by default", async () => {
    assert.deepEqual(
      dev.resources.filter((r) => r.protect).map((r) => r.type),
      [],
    );
  });

  for (const { seal } of [{ seal: undefined }, ...Object.values(SEALS)]) {
    it(`installs ha mode${seal ? ` with the ${seal.type} seal` : ""}, protected when asked, through the given provider`, async () => {
      const args = { namespace: "vault", mode: "ha" as const, replicas: 5, seal, protect: true, labels: { team: "platform" } };
      const r = await run(args, { provider: true });
      const rel = findResource(r, RELEASE, "vault");
      const comp = findResource(r, COMPONENT, "vault");
      assert.deepEqual(
        r.resources.filter((x) => x.protect).map((x) => x.type),
        [RELEASE],
      );
      assert.equal(rel.parent, comp.urn);
      assert.deepEqual(unwrapSecrets(rel.inputs.values), vaultValues({ mode: "ha", replicas: 5, seal, labels: { team: "platform" } }));
      const provider = findResource(r, "pulumi:providers:kubernetes", "cluster");
      assert.ok(rel.provider.startsWith(`${provider.urn}::`), rel.provider);
      assert.deepEqual(r.componentOutputs.get(comp.urn), {
        address: "https://vault.vault.svc:8200",
        releaseName: "vault",
        serviceAccountName: "vault",
      });
    });
  }

  const refused: [string, VaultClusterArgs, string][] = [
    [
      "a seal in dev mode",
      { namespace: "v", mode: "dev", devRootToken: TOKEN, seal: SEALS.gcpckms.seal },
      '[seal] applies to ha mode only: a dev server starts unsealed, in memory. Remove seal, or set mode to "ha".',
    ],
    [
      "even replicas in ha mode",
      { namespace: "v", mode: "ha", replicas: 2 },
      "[replicas] must be an odd whole number from 3 to 7 in ha mode (Raft needs a majority: 3 survive one lost pod, 5 two); got 2.",
    ],
    [
      "a seal and 3 replicas in dev mode, both at once",
      { namespace: "v", mode: "dev", devRootToken: TOKEN, replicas: 3, seal: SEALS.gcpckms.seal },
      [
        '[replicas] must be 1 or unset in dev mode: a dev server keeps its data in memory and cannot be replicated; got 3. Set mode to "ha" for more pods.',
        '[seal] applies to ha mode only: a dev server starts unsealed, in memory. Remove seal, or set mode to "ha".',
      ].join(" "),
    ],
  ];
  for (const [label, args, message] of refused) {
    it(`refuses ${label} with a ResourceError naming the argument`, async () => {
      // The component's own ResourceError (the CLI names the resource), not the values builder's Error.
      await assert.rejects(run(args), (e: unknown) => e instanceof pulumi.ResourceError && e.message === message);
    });
  }
});
