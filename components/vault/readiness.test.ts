/**
 * When may `pulumi up` talk to the Vault it has just installed? Helm's wait, vault-helm's
 * StatefulSet and Vault's health endpoint decide; test/helm-ready.ts models each from its
 * upstream source, and these tests run the values the program passes through them.
 */
import * as assert from "node:assert/strict";
import { findResource, unwrapSecrets } from "../../harness";
import { runVaultSlice } from "../../harness/vault-slice";
import { helmStatefulSetReady, probePasses, vaultHealthStatus, vaultStatefulSet, type StatefulSetForWait, type VaultState } from "../../test/helm-ready";
import { mergedHelmValues } from "../../test/schemas";
import { type VaultValuesArgs } from "./cluster-args";
import { vaultValues } from "./cluster-values";

const TOKEN = "devroot-0123456789";
const STATES: VaultState[] = ["uninitialised", "sealed", "standby", "active"];

/** A StatefulSet just created by `helm install`: the controller has seen it, no pod is Ready yet. */
function justCreated(replicas: number, updateStrategy: string, ready = 0): StatefulSetForWait {
  return {
    generation: 1,
    spec: { replicas, updateStrategy: { type: updateStrategy } },
    status: { observedGeneration: 1, updatedReplicas: replicas, readyReplicas: ready, currentRevision: "vault-1", updateRevision: "vault-1" },
  };
}

function rendered(args: VaultValuesArgs) {
  return vaultStatefulSet(mergedHelmValues("vault", vaultValues(args)));
}

/** The states in which a pod with this readiness path counts as Ready. */
function readyStates(path: string | undefined): VaultState[] {
  assert.ok(path, "the readiness probe must be an httpGet of sys/health");
  return STATES.filter((s) => probePasses(vaultHealthStatus(path, s)));
}

describe("components/vault/cluster: readiness (Helm's wait, vault-helm, sys/health)", () => {
  it("the model reproduces the bug: with vault-helm's default OnDelete, Helm's wait returns before any pod is Ready", () => {
    const chartDefault = vaultStatefulSet(mergedHelmValues("vault", { server: { dev: { enabled: true } } }));
    assert.equal(chartDefault.updateStrategy, "OnDelete");
    assert.equal(helmStatefulSetReady(justCreated(chartDefault.replicas, chartDefault.updateStrategy)), true);
  });

  it("dev: Helm's wait returns only once the pod is Ready, and Ready means the dev server answers as active", () => {
    const sts = rendered({ mode: "dev", devRootToken: TOKEN });
    assert.equal(sts.replicas, 1);
    assert.equal(helmStatefulSetReady(justCreated(1, sts.updateStrategy)), false, "image still pulling: Helm must keep waiting");
    assert.equal(helmStatefulSetReady(justCreated(1, sts.updateStrategy, 1)), true, "pod Ready: Helm returns");
    // The dev server is initialised and unsealed from its first answer: Ready = serving.
    assert.deepEqual(readyStates(sts.readinessPath), ["standby", "active"]);
  });

  it("ha, first install (acceptSealedAsReady): uninitialised and sealed pods are Ready, so the install completes before vault operator init", () => {
    const sts = rendered({ mode: "ha", acceptSealedAsReady: true });
    assert.deepEqual(readyStates(sts.readinessPath), STATES);
    const values = vaultValues({ mode: "ha", acceptSealedAsReady: true }) as { server: { service: Record<string, unknown> } };
    assert.deepEqual(values.server.service, { publishNotReadyAddresses: true });
  });

  for (const seal of [undefined, { type: "awskms" as const, region: "eu-west-1", kmsKeyId: "alias/k", roleArn: "arn:aws:iam::123456789012:role/r" }]) {
    it(`ha, initialised${seal ? `, ${seal.type}` : ", Shamir"}: a sealed pod is not Ready and leaves the vault Service; OnDelete stays (operator-paced restarts)`, () => {
      const sts = rendered({ mode: "ha", seal });
      assert.deepEqual(readyStates(sts.readinessPath), ["standby", "active"]);
      assert.equal(sts.updateStrategy, "OnDelete");
      const values = vaultValues({ mode: "ha", seal }) as { server: { service: Record<string, unknown> } };
      assert.deepEqual(values.server.service, { publishNotReadyAddresses: false });
    });
  }

  for (const [stack, bootstrapped, expected] of [
    ["development", undefined, ["standby", "active"]],
    ["staging", true, ["standby", "active"]],
    ["staging", false, STATES],
    ["production", true, ["standby", "active"]],
    ["production", false, STATES],
  ] as const) {
    it(`${stack}${bootstrapped === undefined ? "" : `, vault.bootstrapped ${String(bootstrapped)}`}: the release's readiness counts ${expected.join(", ")} as Ready`, async () => {
      const overrides = bootstrapped === undefined ? {} : { "veza-secrets:vault": { bootstrapped } };
      const run = await runVaultSlice(stack, overrides);
      const release = findResource(run, "kubernetes:helm.sh/v3:Release", "vault");
      const sts = vaultStatefulSet(mergedHelmValues("vault", unwrapSecrets(release.inputs.values)));
      assert.deepEqual(readyStates(sts.readinessPath), expected);
      assert.equal(sts.updateStrategy, stack === "development" ? "RollingUpdate" : "OnDelete");
    });
  }
});
