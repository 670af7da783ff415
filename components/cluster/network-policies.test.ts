import * as assert from "node:assert/strict";
import { findResource, runProgram, unwrapSecrets, type ProgramRun } from "../../scripts/harness";
import { NetworkPolicies, type NetworkPoliciesArgs, networkPoliciesErrors } from "./network-policies";

const NP = "kubernetes:networking.k8s.io/v1:NetworkPolicy";
const VAULT_PODS = { "app.kubernetes.io/name": "vault", "app.kubernetes.io/instance": "vault", component: "server" };
const ESO_PODS = { "app.kubernetes.io/name": "external-secrets", "app.kubernetes.io/instance": "external-secrets" };
const ns = (n: string) => ({ matchLabels: { "kubernetes.io/metadata.name": n } });

function run(args: NetworkPoliciesArgs): Promise<ProgramRun> {
  return runProgram({
    stack: "test",
    config: { "veza-secrets:environment": "production", "veza-secrets:providers": ["vault"] },
    program: () => {
      new NetworkPolicies("np", args);
    },
  });
}

describe("components/cluster/network-policies", () => {
  it("admits to Vault's API only ESO's controller, Vault's peers (8200, 8201) and the deployer", async () => {
    const r = await run({ vaultNamespace: "vault-system", esoNamespace: "external-secrets-system", deployerCidrs: ["10.20.0.0/24"], deployerNamespaces: ["ingress-nginx"], cloudApis: false });
    const spec = (unwrapSecrets(findResource(r, NP, "np-vault-ingress").inputs) as { spec: unknown }).spec;
    assert.deepEqual(spec, {
      podSelector: { matchLabels: VAULT_PODS },
      policyTypes: ["Ingress"],
      ingress: [
        { from: [{ namespaceSelector: ns("external-secrets-system"), podSelector: { matchLabels: ESO_PODS } }], ports: [{ protocol: "TCP", port: 8200 }] },
        { from: [{ podSelector: { matchLabels: VAULT_PODS } }], ports: [{ protocol: "TCP", port: 8200 }, { protocol: "TCP", port: 8201 }] },
        { from: [{ ipBlock: { cidr: "10.20.0.0/24" } }, { namespaceSelector: ns("ingress-nginx") }], ports: [{ protocol: "TCP", port: 8200 }] },
      ],
    });
  });

  it("lets ESO's controller reach DNS, the API server and Vault only; HTTPS anywhere only for cloud secret managers", async () => {
    const egress = async (cloudApis: boolean) =>
      ((unwrapSecrets(findResource(await run({ vaultNamespace: "vault-system", esoNamespace: "eso", apiServerCidrs: ["172.20.0.1/32"], cloudApis }), NP, "np-eso-egress").inputs) as { spec: { podSelector: unknown; egress: unknown[] } }).spec);
    const vaultOnly = await egress(false);
    assert.deepEqual(vaultOnly.podSelector, { matchLabels: ESO_PODS });
    assert.deepEqual(vaultOnly.egress, [
      { to: [{ namespaceSelector: ns("kube-system"), podSelector: { matchLabels: { "k8s-app": "kube-dns" } } }], ports: [{ protocol: "UDP", port: 53 }, { protocol: "TCP", port: 53 }] },
      { to: [{ ipBlock: { cidr: "172.20.0.1/32" } }], ports: [{ protocol: "TCP", port: 443 }, { protocol: "TCP", port: 6443 }] },
      { to: [{ namespaceSelector: ns("vault-system"), podSelector: { matchLabels: VAULT_PODS } }], ports: [{ protocol: "TCP", port: 8200 }] },
    ]);
    const withCloud = await egress(true);
    assert.deepEqual(withCloud.egress.slice(3), [{ to: [{ ipBlock: { cidr: "0.0.0.0/0" } }], ports: [{ protocol: "TCP", port: 443 }] }]);
  });

  it("rejects malformed CIDRs and namespaces with exact messages", () => {
    assert.deepEqual(networkPoliciesErrors({ deployerCidrs: ["10.0.0.0"], deployerNamespaces: ["Ingress"] }), [
      '[deployerCidrs] must list CIDRs such as "10.0.0.0/16"; got "10.0.0.0".',
      '[deployerNamespaces] must list namespace names; got "Ingress".',
    ]);
  });
});
