import * as assert from "node:assert/strict";
import { findResource, runProgram, unwrapSecrets, type ProgramRun } from "../../harness";
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
    const r = await run({
      vaultNamespace: "vault-system",
      esoNamespace: "external-secrets-system",
      deployerCidrs: ["10.20.0.0/24"],
      deployerNamespaces: ["ingress-nginx"],
      cloudApis: false,
    });
    const spec = (unwrapSecrets(findResource(r, NP, "np-vault-ingress").inputs) as { spec: unknown }).spec;
    assert.deepEqual(spec, {
      podSelector: { matchLabels: VAULT_PODS },
      policyTypes: ["Ingress"],
      ingress: [
        { from: [{ namespaceSelector: ns("external-secrets-system"), podSelector: { matchLabels: ESO_PODS } }], ports: [{ protocol: "TCP", port: 8200 }] },
        {
          from: [{ podSelector: { matchLabels: VAULT_PODS } }],
          ports: [
            { protocol: "TCP", port: 8200 },
            { protocol: "TCP", port: 8201 },
          ],
        },
        { from: [{ ipBlock: { cidr: "10.20.0.0/24" } }, { namespaceSelector: ns("ingress-nginx") }], ports: [{ protocol: "TCP", port: 8200 }] },
      ],
    });
  });

  it("lets ESO's controller reach DNS, the API server and Vault only; HTTPS anywhere only for cloud secret managers", async () => {
    const egress = async (cloudApis: boolean) =>
      (
        unwrapSecrets(
          findResource(await run({ vaultNamespace: "vault-system", esoNamespace: "eso", apiServerCidrs: ["172.20.0.1/32"], cloudApis }), NP, "np-eso-egress")
            .inputs,
        ) as { spec: { podSelector: unknown; egress: unknown[] } }
      ).spec;
    const vaultOnly = await egress(false);
    assert.deepEqual(vaultOnly.podSelector, { matchLabels: ESO_PODS });
    assert.deepEqual(vaultOnly.egress, [
      {
        to: [{ namespaceSelector: ns("kube-system"), podSelector: { matchLabels: { "k8s-app": "kube-dns" } } }],
        ports: [
          { protocol: "UDP", port: 53 },
          { protocol: "TCP", port: 53 },
        ],
      },
      {
        to: [{ ipBlock: { cidr: "172.20.0.1/32" } }],
        ports: [
          { protocol: "TCP", port: 443 },
          { protocol: "TCP", port: 6443 },
        ],
      },
      { to: [{ namespaceSelector: ns("vault-system"), podSelector: { matchLabels: VAULT_PODS } }], ports: [{ protocol: "TCP", port: 8200 }] },
    ]);
    const withCloud = await egress(true);
    assert.deepEqual(withCloud.egress.slice(3), [{ to: [{ ipBlock: { cidr: "0.0.0.0/0" } }], ports: [{ protocol: "TCP", port: 443 }] }]);
  });

  it("admits the deployer by CIDR alone or by namespace alone, and adds no deployer rule when neither is given", async () => {
    const ingress = async (deployer: Pick<NetworkPoliciesArgs, "deployerCidrs" | "deployerNamespaces">) =>
      (
        unwrapSecrets(
          findResource(await run({ vaultNamespace: "vault-system", esoNamespace: "eso", cloudApis: false, ...deployer }), NP, "np-vault-ingress").inputs,
        ) as { spec: { ingress: unknown[] } }
      ).spec.ingress;
    const deployerRule = (from: unknown[]) => ({ from, ports: [{ protocol: "TCP", port: 8200 }] });
    assert.deepEqual((await ingress({ deployerCidrs: ["10.20.0.0/24", "fd00::/8"] })).slice(2), [
      deployerRule([{ ipBlock: { cidr: "10.20.0.0/24" } }, { ipBlock: { cidr: "fd00::/8" } }]),
    ]);
    assert.deepEqual((await ingress({ deployerNamespaces: ["ingress-nginx"] })).slice(2), [deployerRule([{ namespaceSelector: ns("ingress-nginx") }])]);
    assert.equal((await ingress({})).length, 2);
    assert.equal((await ingress({ deployerCidrs: [], deployerNamespaces: [] })).length, 2);
  });

  it("without a Vault namespace: no ingress policy, no egress to Vault, the API server anywhere by default; labels and names exported", async () => {
    const r = await run({ esoNamespace: "eso", cloudApis: false, labels: { "veza.io/environment": "production" } });
    const policies = r.resources.filter((x) => x.type === NP);
    assert.deepEqual(policies.map((p) => p.name).sort(), ["np-eso-cert-controller", "np-eso-default-deny", "np-eso-egress", "np-eso-webhook"]);
    const egress = unwrapSecrets(findResource(r, NP, "np-eso-egress").inputs) as { metadata: unknown; spec: { policyTypes: unknown; egress: unknown[] } };
    assert.deepEqual(egress.metadata, {
      name: "eso-controller-egress",
      namespace: "eso",
      labels: { "app.kubernetes.io/part-of": "veza", "app.kubernetes.io/managed-by": "pulumi", "veza.io/environment": "production" },
    });
    assert.deepEqual(egress.spec.policyTypes, ["Egress"]);
    assert.deepEqual(egress.spec.egress.slice(1), [
      {
        to: [{ ipBlock: { cidr: "0.0.0.0/0" } }],
        ports: [
          { protocol: "TCP", port: 443 },
          { protocol: "TCP", port: 6443 },
        ],
      },
    ]);
    const component = findResource(r, "veza:cluster:NetworkPolicies", "np");
    for (const p of policies) assert.equal(p.parent, component.urn);
    assert.deepEqual(r.componentOutputs.get(component.urn), {
      policyNames: {
        esoEgress: "eso-controller-egress",
        esoDefaultDeny: "eso-default-deny",
        esoWebhook: "eso-webhook",
        esoCertController: "eso-cert-controller-egress",
      },
    });

    const withVault = await run({ vaultNamespace: "vault-system", esoNamespace: "eso", cloudApis: false, labels: { "veza.io/environment": "production" } });
    const vaultIngress = unwrapSecrets(findResource(withVault, NP, "np-vault-ingress").inputs) as { metadata: unknown };
    assert.deepEqual(vaultIngress.metadata, {
      name: "vault-ingress",
      namespace: "vault-system",
      labels: { "app.kubernetes.io/part-of": "veza", "app.kubernetes.io/managed-by": "pulumi", "veza.io/environment": "production" },
    });
    const c2 = findResource(withVault, "veza:cluster:NetworkPolicies", "np");
    assert.deepEqual((withVault.componentOutputs.get(c2.urn) as { policyNames: Record<string, string> }).policyNames.vaultIngress, "vault-ingress");
  });

  it("denies everything else in ESO's namespace (issue 29 #11): the webhook takes the API server's calls on 10250 and, like the cert controller, reaches only DNS and the API server", async () => {
    const r = await run({ esoNamespace: "eso", apiServerCidrs: ["172.20.0.1/32"], cloudApis: true });
    const spec = (n: string) => (unwrapSecrets(findResource(r, NP, n).inputs) as { spec: Record<string, unknown> }).spec;
    const dns = {
      to: [{ namespaceSelector: ns("kube-system"), podSelector: { matchLabels: { "k8s-app": "kube-dns" } } }],
      ports: [
        { protocol: "UDP", port: 53 },
        { protocol: "TCP", port: 53 },
      ],
    };
    const api = {
      to: [{ ipBlock: { cidr: "172.20.0.1/32" } }],
      ports: [
        { protocol: "TCP", port: 443 },
        { protocol: "TCP", port: 6443 },
      ],
    };
    // No rules at all: with both policy types, a pod selected only by it can neither send nor receive.
    assert.deepEqual(spec("np-eso-default-deny"), { podSelector: {}, policyTypes: ["Ingress", "Egress"] });
    assert.deepEqual(spec("np-eso-webhook"), {
      podSelector: { matchLabels: { "app.kubernetes.io/name": "external-secrets-webhook", "app.kubernetes.io/instance": "external-secrets" } },
      policyTypes: ["Ingress", "Egress"],
      ingress: [{ ports: [{ protocol: "TCP", port: 10250 }] }],
      egress: [dns, api],
    });
    assert.deepEqual(spec("np-eso-cert-controller"), {
      podSelector: { matchLabels: { "app.kubernetes.io/name": "external-secrets-cert-controller", "app.kubernetes.io/instance": "external-secrets" } },
      policyTypes: ["Egress"],
      egress: [dns, api],
    });
    // Cloud APIs widen the controller's egress only, never the webhook's or the cert controller's.
    assert.equal(JSON.stringify(spec("np-eso-webhook")).includes("0.0.0.0/0"), false);
    // Metrics: opened on the default deny (every ESO pod) only when asked.
    const metrics = await run({ esoNamespace: "eso", cloudApis: false, esoMetrics: true });
    assert.deepEqual((unwrapSecrets(findResource(metrics, NP, "np-eso-default-deny").inputs) as { spec: unknown }).spec, {
      podSelector: {},
      policyTypes: ["Ingress", "Egress"],
      ingress: [{ ports: [{ protocol: "TCP", port: 8080 }] }],
    });
  });

  it("polices neither ESO's namespace when the platform runs ESO, and confines the rotation job to DNS and the API server, with no ingress", async () => {
    const r = await run({
      esoNamespace: "eso",
      esoEgress: false,
      cloudApis: false,
      apiServerCidrs: ["10.0.0.1/32"],
      rotationJob: { namespace: "veza-staging", podLabels: { "app.kubernetes.io/name": "secrets-rotation" } },
    });
    const policies = r.resources.filter((x) => x.type === NP);
    assert.deepEqual(
      policies.map((p) => p.name),
      ["np-rotation-job"],
    );
    const job = unwrapSecrets(policies[0].inputs) as { metadata: { name: string; namespace: string }; spec: Record<string, unknown> };
    assert.deepEqual([job.metadata.name, job.metadata.namespace], ["rotation-job", "veza-staging"]);
    assert.deepEqual(job.spec.podSelector, { matchLabels: { "app.kubernetes.io/name": "secrets-rotation" } });
    assert.deepEqual(job.spec.policyTypes, ["Ingress", "Egress"]);
    assert.equal("ingress" in job.spec, false);
    assert.deepEqual(
      (job.spec.egress as { to: unknown[] }[]).map((e) => e.to),
      [[{ namespaceSelector: ns("kube-system"), podSelector: { matchLabels: { "k8s-app": "kube-dns" } } }], [{ ipBlock: { cidr: "10.0.0.1/32" } }]],
    );
  });

  it("confines Reloader's pods (its chart's selector labels) to DNS and the API server, with no ingress", async () => {
    const r = await run({ esoNamespace: "eso", esoEgress: false, cloudApis: false, apiServerCidrs: ["10.0.0.1/32"], reloader: { namespace: "veza-staging" } });
    const p = unwrapSecrets(findResource(r, NP, "np-reloader").inputs) as { metadata: { name: string; namespace: string }; spec: Record<string, unknown> };
    assert.deepEqual([p.metadata.name, p.metadata.namespace], ["reloader", "veza-staging"]);
    assert.deepEqual(p.spec.podSelector, { matchLabels: { app: "reloader-reloader", release: "reloader" } });
    assert.deepEqual(p.spec.policyTypes, ["Ingress", "Egress"]);
    assert.equal("ingress" in p.spec, false);
    assert.deepEqual(
      (p.spec.egress as { to: unknown[] }[]).map((e) => e.to),
      [[{ namespaceSelector: ns("kube-system"), podSelector: { matchLabels: { "k8s-app": "kube-dns" } } }], [{ ipBlock: { cidr: "10.0.0.1/32" } }]],
    );
  });

  it("accepts IPv4 and IPv6 CIDRs and refuses anything else, for both CIDR arguments", () => {
    const accepted = ["10.0.0.0/16", "0.0.0.0/0", "255.255.255.255/32", "1.2.3.4/8", "fd00::/8", "2001:db8::/128", "::/0", "FD00:AB::1/64"];
    for (const c of accepted) {
      assert.deepEqual(networkPoliciesErrors({ deployerCidrs: [c], apiServerCidrs: [c] }), [], c);
    }
    const refused = [
      "10.0.0.0",
      "x10.0.0.0/16",
      "10.0.0.0/16x",
      "10.0.0/16",
      "10.0.0.0.0/16",
      "1000.0.0.0/8",
      "10.0.0.0/123",
      "10.0.0.0/",
      "a.b.c.d/8",
      "fd00::",
      "zz::/64",
      "fd00::/64x",
      "fd00::/1234",
      "fd00::/",
      "/64",
      "",
    ];
    for (const c of refused) {
      assert.deepEqual(
        networkPoliciesErrors({ deployerCidrs: [c], apiServerCidrs: [c] }),
        [
          `[deployerCidrs] must list CIDRs such as "10.0.0.0/16"; got ${JSON.stringify(c)}.`,
          `[apiServerCidrs] must list CIDRs such as "10.0.0.0/16"; got ${JSON.stringify(c)}.`,
        ],
        c,
      );
    }
  });

  it("refuses bad arguments as one ResourceError listing every problem, and builds with good ones", async () => {
    await assert.rejects(run({ esoNamespace: "eso", cloudApis: false, apiServerCidrs: ["10.0.0.1"], deployerNamespaces: ["Ingress"] }), {
      message: '[apiServerCidrs] must list CIDRs such as "10.0.0.0/16"; got "10.0.0.1". [deployerNamespaces] must list namespace names; got "Ingress".',
    });
    const ok = await run({ esoNamespace: "eso", cloudApis: false, apiServerCidrs: ["10.0.0.1/32"], deployerNamespaces: ["ingress-nginx"] });
    assert.equal(ok.resources.filter((x) => x.type === NP).length, 4);
    assert.deepEqual(networkPoliciesErrors({ deployerNamespaces: ["ingress-nginx"] }), []);
  });

  it("rejects malformed CIDRs and namespaces with exact messages", () => {
    assert.deepEqual(networkPoliciesErrors({ deployerCidrs: ["10.0.0.0"], deployerNamespaces: ["Ingress"] }), [
      '[deployerCidrs] must list CIDRs such as "10.0.0.0/16"; got "10.0.0.0".',
      '[deployerNamespaces] must list namespace names; got "Ingress".',
    ]);
  });
});
