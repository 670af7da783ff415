import * as assert from "node:assert/strict";
import { findResource, resourcesOfType, runProgram, type ProgramRun } from "../../harness";
import { readableSecrets } from "../../test/rbac";
import { Namespaces, type PodSecurityLevel, podSecurityLabels } from "./namespaces";
import { ServiceAccess, type ServiceAccessArgs } from "./service-access";

const CONFIG = { "veza-secrets:environment": "development", "veza-secrets:providers": ["vault"] };
const SA = "kubernetes:core/v1:ServiceAccount";
const ROLE = "kubernetes:rbac.authorization.k8s.io/v1:Role";
const BINDING = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding";

const meta = (r: { inputs: Record<string, unknown> }) => r.inputs.metadata as { name: string; namespace?: string; labels?: Record<string, string> };

const ARGS: ServiceAccessArgs = {
  namespace: "veza-staging",
  sharedSecret: "shared",
  services: [
    { name: "api", serviceAccount: "sa-api", secrets: ["shared", "api-own"] },
    { name: "chat", serviceAccount: "sa-chat", secrets: ["shared", "chat-own", "chat-extra"] },
    { name: "stream", serviceAccount: "sa-stream", secrets: ["shared"] },
  ],
  labels: { "veza.io/environment": "staging" },
};

describe("components/cluster/service-access", () => {
  let run: ProgramRun;
  beforeEach(async () => {
    run = await runProgram({ stack: "test", config: CONFIG, program: () => new ServiceAccess("access", ARGS) });
  });

  it("creates one ServiceAccount per service, labelled, that mounts no API token", () => {
    assert.deepEqual(
      resourcesOfType(run, SA).map((s) => [s.name, s.inputs]),
      ARGS.services.map((svc) => [
        `access-${svc.name}`,
        {
          apiVersion: "v1",
          kind: "ServiceAccount",
          metadata: {
            name: svc.serviceAccount,
            namespace: "veza-staging",
            labels: {
              "app.kubernetes.io/part-of": "veza",
              "app.kubernetes.io/managed-by": "pulumi",
              "veza.io/environment": "staging",
              "app.kubernetes.io/name": svc.serviceAccount,
            },
          },
          automountServiceAccountToken: false,
        },
      ]),
    );
  });

  it("grants exactly get and list on the named Secrets: the shared one to all, each service's own to it alone", () => {
    const rules = Object.fromEntries(resourcesOfType(run, ROLE).map((r) => [meta(r).name, r.inputs.rules]));
    assert.deepEqual(rules, {
      "secrets-reader": [{ apiGroups: [""], resources: ["secrets"], resourceNames: ["shared"], verbs: ["get", "list"] }],
      "secrets-reader-api": [{ apiGroups: [""], resources: ["secrets"], resourceNames: ["api-own"], verbs: ["get", "list"] }],
      "secrets-reader-chat": [{ apiGroups: [""], resources: ["secrets"], resourceNames: ["chat-own", "chat-extra"], verbs: ["get", "list"] }],
    });
    const bindings = Object.fromEntries(resourcesOfType(run, BINDING).map((b) => [meta(b).name, [b.inputs.roleRef, b.inputs.subjects]]));
    const sa = (name: string) => ({ kind: "ServiceAccount", name, namespace: "veza-staging" });
    const ref = (name: string) => ({ apiGroup: "rbac.authorization.k8s.io", kind: "Role", name });
    assert.deepEqual(bindings, {
      "secrets-reader": [ref("secrets-reader"), [sa("sa-api"), sa("sa-chat"), sa("sa-stream")]],
      "secrets-reader-api": [ref("secrets-reader-api"), [sa("sa-api")]],
      "secrets-reader-chat": [ref("secrets-reader-chat"), [sa("sa-chat")]],
    });
    // Their Pulumi names (and so URNs), sorted (bindings register as outputs resolve).
    for (const type of [ROLE, BINDING])
      assert.deepEqual(
        resourcesOfType(run, type)
          .map((r) => r.name)
          .sort(),
        ["access-secrets-reader", "access-secrets-reader-api", "access-secrets-reader-chat"],
      );
    for (const r of [...resourcesOfType(run, ROLE), ...resourcesOfType(run, BINDING)]) {
      assert.equal(meta(r).namespace, "veza-staging");
      assert.deepEqual(meta(r).labels, { "app.kubernetes.io/part-of": "veza", "app.kubernetes.io/managed-by": "pulumi", "veza.io/environment": "staging" });
    }
  });

  it("lets each service read exactly its own Secrets and the shared one (the authoriser's view)", () => {
    assert.deepEqual(readableSecrets(run, "veza-staging"), {
      "sa-api": ["api-own", "shared"],
      "sa-chat": ["chat-extra", "chat-own", "shared"],
      "sa-stream": ["shared"],
    });
  });

  it("parents everything to the component and exports the ServiceAccount names", () => {
    const component = findResource(run, "veza:cluster:ServiceAccess", "access");
    for (const r of run.resources.filter((x) => x.custom)) assert.equal(r.parent, component.urn, `${r.type} ${r.name}`);
    assert.deepEqual(run.componentOutputs.get(component.urn), { serviceAccounts: { api: "sa-api", chat: "sa-chat", stream: "sa-stream" } });
  });
});

describe("components/cluster/namespaces", () => {
  const NS = "kubernetes:core/v1:Namespace";
  const names = { workloads: "veza-production", vault: "vault", externalSecrets: "external-secrets" };
  const build = (protect?: boolean) =>
    runProgram({
      stack: "test",
      config: CONFIG,
      program: () =>
        new Namespaces("namespaces", {
          names,
          holdSecrets: ["workloads", "vault"],
          podSecurity: { workloads: "restricted", vault: "restricted", externalSecrets: "restricted" },
          labels: { "veza.io/environment": "production" },
          protect,
        }),
    });

  it("creates each namespace with the recommended labels and the caller's, parented to the component", async () => {
    const run = await build(true);
    const component = findResource(run, "veza:cluster:Namespaces", "namespaces");
    assert.deepEqual(
      resourcesOfType(run, NS).map((n) => [n.name, n.inputs, n.parent]),
      Object.entries(names).map(([role, name]) => [
        { workloads: "namespaces-workloads", vault: "namespaces-vault", externalSecrets: "namespaces-external-secrets" }[role],
        {
          apiVersion: "v1",
          kind: "Namespace",
          metadata: {
            name,
            labels: {
              "app.kubernetes.io/name": name,
              "app.kubernetes.io/part-of": "veza",
              "app.kubernetes.io/managed-by": "pulumi",
              "veza.io/environment": "production",
              ...podSecurityLabels("restricted"),
            },
          },
        },
        component.urn,
      ]),
    );
    assert.deepEqual(run.componentOutputs.get(component.urn), { names });
  });

  it("protects only the namespaces that hold secrets, and only when asked", async () => {
    const protectedOnes = async (protect?: boolean) =>
      resourcesOfType(await build(protect), NS)
        .filter((n) => n.protect)
        .map((n) => n.name);
    assert.deepEqual(await protectedOnes(true), ["namespaces-workloads", "namespaces-vault"]);
    assert.deepEqual(await protectedOnes(false), []);
    assert.deepEqual(await protectedOnes(undefined), []);
  });

  it("labels a namespace to enforce, audit and warn at its own level, against the latest standard", async () => {
    assert.deepEqual(podSecurityLabels("baseline"), {
      "pod-security.kubernetes.io/enforce": "baseline",
      "pod-security.kubernetes.io/enforce-version": "latest",
      "pod-security.kubernetes.io/audit": "baseline",
      "pod-security.kubernetes.io/audit-version": "latest",
      "pod-security.kubernetes.io/warn": "baseline",
      "pod-security.kubernetes.io/warn-version": "latest",
    });
    const run = await runProgram({
      stack: "test",
      config: CONFIG,
      program: () =>
        new Namespaces("ns", { names: { workloads: "w", vault: "v" }, holdSecrets: [], podSecurity: { workloads: "restricted", vault: "privileged" } }),
    });
    const labels = Object.fromEntries(resourcesOfType(run, NS).map((n) => [meta(n).name, meta(n).labels]));
    assert.deepEqual(labels.v, {
      "app.kubernetes.io/name": "v",
      "app.kubernetes.io/part-of": "veza",
      "app.kubernetes.io/managed-by": "pulumi",
      "pod-security.kubernetes.io/enforce": "privileged",
      "pod-security.kubernetes.io/enforce-version": "latest",
      "pod-security.kubernetes.io/audit": "privileged",
      "pod-security.kubernetes.io/audit-version": "latest",
      "pod-security.kubernetes.io/warn": "privileged",
      "pod-security.kubernetes.io/warn-version": "latest",
    });
    assert.equal(labels.w?.["pod-security.kubernetes.io/enforce"], "restricted");
  });

  it("keeps a camelCase role's old child name as an alias, and gives a one-word role none", async () => {
    const run = await runProgram({
      stack: "test",
      config: CONFIG,
      program: () =>
        new Namespaces("namespaces", {
          names: { vault: "vault", externalSecrets: "external-secrets" },
          holdSecrets: [],
          podSecurity: { vault: "restricted", externalSecrets: "restricted" },
        }),
    });
    const component = findResource(run, "veza:cluster:Namespaces", "namespaces");
    assert.deepEqual(
      resourcesOfType(run, NS).map((n) => [n.name, n.aliases]),
      [
        ["namespaces-vault", []],
        ["namespaces-external-secrets", [{ spec: { name: "namespaces-externalSecrets", type: "", stack: "", project: "", parenturn: component.urn } }]],
      ],
    );
  });

  it("refuses a namespace without a Pod Security level, naming each role, and accepts one with a level for every role", async () => {
    const build = (podSecurity: Record<string, PodSecurityLevel>) =>
      runProgram({
        stack: "test",
        config: CONFIG,
        program: () => new Namespaces("ns", { names: { workloads: "w", vault: "v", externalSecrets: "e" }, holdSecrets: [], podSecurity }),
      });
    await assert.rejects(build({ vault: "restricted" }), {
      message: '[podSecurity] has no level for workloads, externalSecrets: give each namespace "restricted", "baseline" or "privileged".',
    });
    const ok = await build({ workloads: "restricted", vault: "restricted", externalSecrets: "baseline" });
    assert.deepEqual(
      resourcesOfType(ok, NS).map((n) => meta(n).name),
      ["w", "v", "e"],
    );
  });
});
