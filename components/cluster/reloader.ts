/**
 * Stakater Reloader in the workload namespace: restarts a Deployment once ESO has written a
 * changed Secret it reads (opt-in per Deployment), watching Secrets only.
 */
import { Release } from "@pulumi/kubernetes/helm/v3/release";
import { Provider } from "@pulumi/kubernetes/provider";
import * as pulumi from "@pulumi/pulumi";
import { type ChartSource, releaseChart } from "../helm-chart";

/**
 * Stakater Reloader chart, pinned. It restarts pods when a Secret they use changes. 2.2.16,
 * not the newer 2.2.17: its image (v1.4.21, the chart's `appVersion`) is the newest whose
 * digest could be pinned (see `RELOADER_IMAGE`).
 */
export const RELOADER_CHART_VERSION = "2.2.16";
export const RELOADER_CHART_REPO = "https://stakater.github.io/stakater-charts";

/**
 * Reloader's image, by tag and digest (the multi-architecture index), so a re-pushed tag cannot
 * change what runs. Not fetched from a registry here (none is reachable from this machine): one
 * public project records it as read from ghcr.io's registry API. A wrong digest fails closed
 * (the pod cannot pull). Check it when bumping: `crane digest ghcr.io/stakater/reloader:<tag>`.
 * With `digest` set, the chart renders `<repository>@<digest>`.
 */
export const RELOADER_IMAGE = {
  repository: "ghcr.io/stakater/reloader",
  tag: "v1.4.21",
  digest: "sha256:b253579350a835082cdad8d8736671cedaa0f8309437c894bd1bf1c2f0e0d45e",
} as const;

/** Annotation on a managed Secret: Reloader restarts workloads annotated `reloader.stakater.com/search: "true"` that use it. */
export const RELOADER_SECRET_ANNOTATIONS = { "reloader.stakater.com/match": "true" } as const;

export interface ReloaderArgs {
  /** Namespace to install into and to watch (only this one: namespaced RBAC). Created by the caller. */
  namespace: pulumi.Input<string>;
  /** Labels on the chart's objects. */
  labels?: Record<string, string>;
  /** Where the pinned chart comes from: a mirror or a local directory. Default: the chart's own repository (`RELOADER_CHART_REPO`). */
  chart?: ChartSource;
  provider?: Provider;
}

/** Helm values: the pinned image, watch only the release's namespace, Secrets only, non-root. Pure, for tests. */
export function reloaderValues(labels: Record<string, string> = {}): Record<string, unknown> {
  return {
    image: { ...RELOADER_IMAGE },
    reloader: {
      // Namespaced Role instead of a ClusterRole: it sees only the workload namespace.
      watchGlobally: false,
      ignoreConfigMaps: true,
      reloadOnCreate: false,
      deployment: {
        labels,
        resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { cpu: "100m", memory: "128Mi" } },
        // Pod Security "restricted", which the workload namespace enforces.
        securityContext: { runAsNonRoot: true, runAsUser: 65534, seccompProfile: { type: "RuntimeDefault" } },
        containerSecurityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, readOnlyRootFilesystem: true, runAsNonRoot: true },
      },
    },
  };
}

/**
 * Stakater Reloader: ESO updates Secrets but does not restart pods (external-secrets#3218);
 * Reloader rolls the workloads that opted in when a Secret they read changes.
 */
export class Reloader extends pulumi.ComponentResource {
  public readonly release: Release;

  constructor(name: string, args: ReloaderArgs, opts?: pulumi.ComponentResourceOptions) {
    super("veza:cluster:Reloader", name, {}, opts);
    this.release = new Release(
      name,
      {
        name: "reloader",
        ...releaseChart({ name: "reloader", version: RELOADER_CHART_VERSION, repository: RELOADER_CHART_REPO }, args.chart),
        namespace: args.namespace,
        createNamespace: false,
        maxHistory: 10,
        values: reloaderValues(args.labels),
      },
      { parent: this, provider: args.provider },
    );
    this.registerOutputs({ release: this.release });
  }
}
