/**
 * Where a Helm release takes its chart from: the chart's own repository (the default), a
 * mirror of it (an HTTP chart repository or an OCI registry, for clusters without internet),
 * or a chart directory on the deploying machine. The version stays pinned in every case: a
 * mirror serves the pinned version or the install fails, and a local directory must hold it
 * (the stack layer reads its Chart.yaml before anything is registered).
 */

/** A chart's origin. `undefined` everywhere it is accepted means the chart's own repository. */
export type ChartSource =
  /** An HTTP(S) chart repository (`index.yaml` at its root) that mirrors the chart. */
  | { kind: "repository"; url: string }
  /** An OCI registry path holding the chart as `<url>/<chart name>`, e.g. `oci://registry.example.com/helm`. */
  | { kind: "oci"; url: string }
  /** A chart directory (or `.tgz`) on the machine that runs `pulumi up`, as a path Helm resolves from the project. */
  | { kind: "path"; path: string };

/** A pinned chart: its name, version and home repository. */
export interface PinnedChart {
  name: string;
  version: string;
  repository: string;
}

/** The `chart`, `version` and `repositoryOpts` of a `helm.v3.Release` for a pinned chart taken from `source`. */
export function releaseChart(pinned: PinnedChart, source?: ChartSource): { chart: string; version?: string; repositoryOpts?: { repo: string } } {
  if (!source) return { chart: pinned.name, version: pinned.version, repositoryOpts: { repo: pinned.repository } };
  switch (source.kind) {
    case "repository":
      return { chart: pinned.name, version: pinned.version, repositoryOpts: { repo: source.url } };
    case "oci":
      return { chart: `${source.url.replace(/\/+$/, "")}/${pinned.name}`, version: pinned.version };
    case "path":
      // Helm ignores `version` for a local chart: the stack layer checks the directory's Chart.yaml instead.
      return { chart: source.path };
  }
}
