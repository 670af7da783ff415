/**
 * VaultCluster's HA server config (components/vault/cluster-hcl.ts, through the Helm values):
 * Raft joins through every pod over TLS, disable_mlock once, and cloud auto-unseal through
 * workload identity with no credentials in the config.
 */
import * as assert from "node:assert/strict";
import { sealPodLabels, sealServiceAccountAnnotations, sealStanza, vaultHaConfig } from "./cluster-hcl";
import { vaultValues } from "./cluster-values";
import { HA_CONFIG_3, SEALS, VARIANTS, type Values } from "./cluster-fixtures";

describe("components/vault/cluster: Helm values", () => {
  for (const replicas of [3, 5, 7]) {
    it(`joins Raft through every one of ${replicas} pods, over TLS with the mounted CA`, async () => {
      const hcl = vaultHaConfig({ replicas });
      const joins = [...hcl.matchAll(/retry_join \{\n {4}leader_api_addr {5}= "([^"]+)"\n {4}leader_ca_cert_file = "([^"]+)"\n {2}\}/g)];
      assert.deepEqual(
        joins.map((m) => [m[1], m[2]]),
        Array.from({ length: replicas }, (_, i) => [`https://vault-${i}.vault-internal:8200`, "/vault/userconfig/tls/ca.crt"]),
      );
      assert.equal(hcl.match(/retry_join/g)?.length, replicas);
    });
  }

  it("sets disable_mlock once, in the form the chart detects, so it appends no duplicate (vault-helm#1153)", async () => {
    for (const [label, args] of VARIANTS.filter(([, a]) => a.mode === "ha")) {
      const hcl = (vaultValues(args) as Values).server.ha.raft.config;
      // The chart's own test (templates/_helpers.tpl, vault.config) and Vault 1.21+'s duplicate check.
      assert.match(hcl, /^\s*disable_mlock\s*=\s*(true|false)/m, label);
      assert.equal(hcl.match(/disable_mlock/g)?.length, 1, label);
      // Words the chart's startup script replaces with sed, and Helm template markers.
      assert.doesNotMatch(hcl, /HOST_IP|POD_IP|HOSTNAME|API_ADDR|TRANSIT_ADDR|RAFT_ADDR|\{\{/, label);
    }
  });

  for (const { seal, stanza, annotations, podLabels } of Object.values(SEALS)) {
    it(`auto-unseals with ${seal.type} through workload identity, no credentials in the config`, async () => {
      assert.equal(sealStanza(seal), stanza);
      assert.deepEqual(sealServiceAccountAnnotations(seal), annotations);
      assert.deepEqual(sealPodLabels(seal), podLabels);
      const v = vaultValues({ mode: "ha", seal, labels: { team: "platform" } }) as Values;
      assert.equal(v.server.ha.raft.config, `${HA_CONFIG_3}\n${stanza}\n`);
      assert.deepEqual(v.server.serviceAccount, { create: true, name: "vault", annotations, extraLabels: { team: "platform" } });
      assert.deepEqual(v.server.extraLabels, { team: "platform", ...podLabels });
      assert.doesNotMatch(v.server.ha.raft.config, /access_key|secret_key|client_secret|credentials|client_id/);
      assert.equal("extraSecretEnvironmentVars" in v.server, false);
      assert.deepEqual(v.server.extraEnvironmentVars, { VAULT_CACERT: "/vault/userconfig/tls/ca.crt" });
    });
  }

  it("serves no web UI unless asked (issue 29 #13): one surface less on the server that holds every secret", async () => {
    assert.match(vaultHaConfig({ replicas: 3 }), /^ui = false$/m);
    assert.match(vaultHaConfig({ replicas: 3, ui: true }), /^ui = true$/m);
    for (const [label, args] of VARIANTS.filter(([, a]) => a.mode === "ha")) {
      assert.match((vaultValues(args) as Values).server.ha.raft.config, /^ui = false$/m, label);
    }
    assert.match((vaultValues({ mode: "ha", ui: true }) as Values).server.ha.raft.config, /^ui = true$/m);
  });

  it("has no seal, annotations or cloud labels without a seal", async () => {
    assert.deepEqual([sealServiceAccountAnnotations(undefined), sealPodLabels(undefined)], [{}, {}]);
    assert.doesNotMatch(vaultHaConfig({ replicas: 3 }), /seal/);
  });
});
