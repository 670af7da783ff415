import * as assert from "node:assert/strict";
import { serviceSecrets, CATALOG, SERVICES, serviceWorkloadName } from "../components/catalog";
import { runProgram, type ProgramRun } from "../scripts/harness";
import { leaves, renderMermaid, renderPlan } from "../scripts/plan";

describe("npm run plan", () => {
  let production: ProgramRun;
  before(async () => {
    production = await runProgram({ stack: "production" });
  });

  it("prints every resource once, secrets as [secret] and never their values", () => {
    const text = renderPlan(production);
    const custom = production.resources.filter((r) => r.custom).length;
    assert.ok(custom > 60, `production registers ${custom} custom resources`);
    assert.equal(text.split("\n")[0], `# stack production: ${production.resources.length} resources (${custom} custom, 11 components), offline plan under Pulumi mocks`);
    for (const r of production.resources) assert.ok(text.includes(` ${r.name}`), r.name);
    assert.ok(text.includes("=[secret]"));
    assert.ok(!/FAKE-SECRET|FAKE-GENERATED/.test(text));
    assert.deepEqual(leaves({ a: { b: 1, c: [1, 2] } }), ["a.b=1", "a.c=[1,2]"]);
  });

  it("draws the flow backend → SecretStore → ExternalSecret → Secret → service", () => {
    const m = renderMermaid(production);
    assert.match(m, /^flowchart LR/);
    for (const backend of ["Vault KV", "Vault database engine", "AWS Secrets Manager"]) assert.ok(m.includes(`"${backend}"`), backend);
    for (const s of serviceSecrets(CATALOG)) assert.match(m, new RegExp(`--> k8s_${s.name.replace(/-/g, "_")}\\[\\("Secret ${s.name}"\\)\\]`), s.name);
    for (const svc of SERVICES) {
      const id = `svc_${serviceWorkloadName(svc).replace(/-/g, "_")}`;
      assert.ok(m.includes(`k8s_veza_secrets --> ${id}`), `${svc} reads veza-secrets`);
      assert.ok(m.includes(`k8s_veza_${svc.replace(/-/g, "_")}_secrets --> ${id}`), `${svc} reads its own Secret`);
    }
    // Each ExternalSecret (one per Kubernetes Secret) is fed by the KV store and the database store.
    const storeEdges = m.split("\n").filter((l) => /^ {2}n\d+ --> n\d+$/.test(l));
    assert.equal(storeEdges.length, 2 * serviceSecrets(CATALOG).length);
  });
});
