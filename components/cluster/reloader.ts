/**
 * Stakater Reloader in the workload namespace: restarts a Deployment once ESO has written a
 * changed Secret it reads (opt-in per Deployment), watching Secrets only.
 */
import { Release } from "@pulumi/kubernetes/helm/v3/release";
import { Provider } from "@pulumi/kubernetes/provider";
import * as pulumi from "@pulumi/pulumi";

/** Stakater Reloader chart, pinned. It restarts pods when a Secret they use changes. */
export const RELOADER_CHART_VERSION = "2.2.17";
export const RELOADER_CHART_REPO = "https://stakater.github.io/stakater-charts";

/** Annotation on a managed Secret: Reloader restarts workloads annotated `reloader.stakater.com/search: "true"` that use it. */
export const RELOADER_SECRET_ANNOTATIONS = { "reloader.stakater.com/match": "true" } as const;

export interface ReloaderArgs {
  /** Namespace to install into and to watch (only this one: namespaced RBAC). Created by the caller. */
  namespace: pulumi.Input<string>;
  /** Labels on the chart's objects. */
  labels?: Record<string, string>;
  provider?: Provider;
}

/** Helm values: watch only the release's namespace, Secrets only, non-root. Pure, for tests. */
export function reloaderValues(labels: Record<string, string> = {}): Record<string, unknown> {
  return {
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
        chart: "reloader",
        version: RELOADER_CHART_VERSION,
        repositoryOpts: { repo: RELOADER_CHART_REPO },
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
