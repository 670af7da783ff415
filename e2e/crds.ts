/**
 * ESO's CRDs (the vendored copies in test/upstream, chart 2.9.0) applied to the API server, as
 * a platform team's ESO install leaves them: the stacks run with `eso.install: false`.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { load } from "js-yaml";
import type { Kube } from "./kube";
import { waitFor } from "./processes";
import { PROJECT_DIR } from "./stack";

export const ESO_CRD_FILES = [
  "external-secrets.io_externalsecrets.yaml",
  "external-secrets.io_secretstores.yaml",
  "generators.external-secrets.io_vaultdynamicsecrets.yaml",
];

/** Create a CRD (409 when it exists is fine) and wait until the API server serves it. */
export async function applyCrd(kube: Kube, crd: { metadata: { name: string } }): Promise<string> {
  const a = await kube.raw("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd);
  if (a.status >= 400 && a.status !== 409) throw new Error(`CRD ${crd.metadata.name}: ${a.status} ${String(a.json.message)}`);
  const name = crd.metadata.name;
  await waitFor(
    `CRD ${name} established`,
    async () => {
      const c = await kube.call("GET", `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`);
      const conditions = (c.status as { conditions?: { type: string; status: string }[] })?.conditions ?? [];
      return conditions.some((x) => x.type === "Established" && x.status === "True");
    },
    30_000,
  );
  return name;
}

export async function applyEsoCrds(kube: Kube): Promise<string[]> {
  const names: string[] = [];
  for (const file of ESO_CRD_FILES) {
    const crd = load(readFileSync(join(PROJECT_DIR, "test", "upstream", "external-secrets", "crds", file), "utf8")) as { metadata: { name: string } };
    names.push(await applyCrd(kube, crd));
  }
  return names;
}
