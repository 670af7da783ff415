/**
 * The e2e's own judges, offline: the CLI-agreement comparison and the stand-in providers'
 * pure parts must fail where they should, so a green e2e means something.
 */
import * as assert from "node:assert/strict";
import { disagreements } from "../e2e/cli-agreement";
import { password } from "../e2e/providers/random";
import { hasUnknown, typeOfUrn, unwrap, SECRET_SIG, SECRET_SIG_KEY, UNKNOWN } from "../e2e/providers/serve";
import { snake } from "../e2e/providers/vault";
import { containerEnv, type PodObject } from "../e2e/kubelet";

describe("e2e helpers", () => {
  it("the CLI agreement reports every kind of difference, and none when the CLI holds what the model holds", () => {
    const model = { "p:a": "x", "p:b": { secure: "s" }, "p:c": { k: [1, "2"] }, "p:n": 5 };
    const cli = {
      "p:a": { value: "x", secret: false },
      "p:b": { value: "s", secret: true },
      "p:c": { value: '{"k":[1,"2"]}', objectValue: { k: [1, "2"] }, secret: false },
      "p:n": { value: "5", secret: false },
    };
    assert.deepEqual(disagreements(model, cli), []);
    assert.deepEqual(disagreements(model, { ...cli, "p:a": { value: "y", secret: false } }), ['p:a: model "x", CLI "y"']);
    assert.deepEqual(disagreements(model, { ...cli, "p:b": { value: "s", secret: false } }), ["p:b: the model has a secret, the CLI a plain value"]);
    assert.deepEqual(disagreements(model, { ...cli, "p:c": { value: "", objectValue: { k: [1, 2] }, secret: false } }), [
      'p:c: model {"k":[1,"2"]}, CLI {"k":[1,2]}',
    ]);
    assert.deepEqual(disagreements({ ...model, "p:x": "1" }, cli), ["p:x: only the model has it"]);
    const { "p:n": _n, ...fewer } = cli;
    void _n;
    assert.deepEqual(disagreements(model, fewer), ["p:n: only the model has it"]);
  });

  it("the stand-ins unwrap the engine's secrets, see unknowns, and name a URN's type", () => {
    assert.deepEqual(unwrap({ a: { [SECRET_SIG_KEY]: SECRET_SIG, value: "s" }, b: [{ [SECRET_SIG_KEY]: SECRET_SIG, value: 1 }] }), { a: "s", b: [1] });
    assert.equal(hasUnknown({ a: [1, { b: UNKNOWN }] }), true);
    assert.equal(hasUnknown({ a: [1, { b: "x" }] }), false);
    assert.equal(typeOfUrn("urn:pulumi:s::p::veza:vault:VaultConfig$vault:index/policy:Policy::n"), "vault:index/policy:Policy");
    assert.equal(snake("boundServiceAccountNames"), "bound_service_account_names");
  });

  it("the random stand-in draws the length asked from the classes left on", () => {
    const p = password({ length: 64, special: false });
    assert.equal(p.length, 64);
    assert.match(p, /^[A-Za-z0-9]+$/);
    assert.notEqual(password({ length: 64, special: false }), p);
    assert.match(password({ length: 20, upper: false, lower: false, special: false }), /^[0-9]{20}$/);
    assert.throws(() => password({ length: 0 }), /length must be a positive whole number/);
  });

  it("the stand-in kubelet builds a container's environment as the kubelet does: service variables first, $(VAR) of earlier ones only, $$ escaped, fields of the pod", () => {
    const pod: PodObject = {
      metadata: { name: "vault-1", namespace: "vault-system", uid: "u-1" },
      spec: { serviceAccountName: "vault", containers: [] },
    };
    const c = {
      name: "vault",
      env: [
        { name: "API", value: "https://$(VAULT_K8S_POD_NAME).vault-internal:8200" },
        { name: "VAULT_K8S_POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
        { name: "CLUSTER", value: "https://$(VAULT_K8S_POD_NAME).vault-internal:8201" },
        { name: "IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
        { name: "LITERAL", value: "$$(VAULT_K8S_POD_NAME) costs $$5 at $(KUBERNETES_SERVICE_HOST)" },
      ],
    };
    const env = Object.fromEntries(containerEnv(pod, c, { netns: "n", podIP: "10.200.0.12", hostIP: "10.200.0.1" }, { KUBERNETES_SERVICE_HOST: "10.96.0.1" }));
    assert.deepEqual(env, {
      KUBERNETES_SERVICE_HOST: "10.96.0.1",
      // Defined after it: not expanded, as Kubernetes leaves it.
      API: "https://$(VAULT_K8S_POD_NAME).vault-internal:8200",
      VAULT_K8S_POD_NAME: "vault-1",
      CLUSTER: "https://vault-1.vault-internal:8201",
      IP: "10.200.0.12",
      LITERAL: "$(VAULT_K8S_POD_NAME) costs $5 at 10.96.0.1",
    });
    assert.throws(
      () => containerEnv(pod, { name: "x", env: [{ name: "IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } }] }, undefined),
      /status\.podIP/,
    );
    assert.throws(
      () => containerEnv(pod, { name: "x", env: [{ name: "N", valueFrom: { fieldRef: { fieldPath: "metadata.labels" } } }] }, undefined),
      /metadata\.labels/,
    );
  });
});
