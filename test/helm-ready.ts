/**
 * Models of what decides when `pulumi up` may talk to the Vault it just installed, each
 * transcribed from its upstream source, so a test can ask "does Helm's wait return before
 * Vault serves?" without a cluster:
 * - Helm's `--wait` for a StatefulSet: helm pkg/kube/ready.go, `statefulSetReady` (Helm 3,
 *   which pulumi-kubernetes' helm.v3.Release embeds).
 * - the StatefulSet fields vault-helm renders that this reads: templates/server-statefulset.yaml
 *   (`updateStrategy.type: {{ .Values.server.updateStrategyType }}`, `replicas: {{ template
 *   "vault.replicas" }}`: 1 unless ha, then `server.ha.replicas`; the readiness probe is an
 *   httpGet of `server.readinessProbe.path` when set, else `vault status`).
 * - Vault's `GET /v1/sys/health` status codes (Vault API docs, sys/health): 200 active,
 *   429 standby (200 with `standbyok=true`), 501 not initialised (`uninitcode`), 503 sealed
 *   (`sealedcode`); Kubernetes counts an httpGet probe as passed for 200 ≤ code < 400.
 */

export interface StatefulSetForWait {
  generation: number;
  spec: { replicas?: number; updateStrategy: { type: string; rollingUpdate?: { partition?: number } } };
  status: { observedGeneration: number; updatedReplicas: number; readyReplicas: number; currentRevision: string; updateRevision: string };
}

/** helm pkg/kube/ready.go `statefulSetReady`, line for line. */
export function helmStatefulSetReady(sts: StatefulSetForWait): boolean {
  if (sts.status.observedGeneration !== sts.generation) return false;
  // "If the update strategy is not a rolling update, there will be nothing to wait for"
  if (sts.spec.updateStrategy.type !== "RollingUpdate") return true;
  const partition = sts.spec.updateStrategy.rollingUpdate?.partition ?? 0;
  const replicas = sts.spec.replicas ?? 1;
  if (sts.status.updatedReplicas < replicas - partition) return false;
  if (sts.status.readyReplicas !== replicas) return false;
  if (partition === 0 && sts.status.currentRevision !== sts.status.updateRevision) return false;
  return true;
}

interface VaultHelmValues {
  server: {
    updateStrategyType: string;
    ha: { enabled: boolean; replicas: number };
    readinessProbe: { enabled: boolean; path?: string };
  };
}

/** The part of vault-helm's StatefulSet that Helm's wait and the kubelet read, from merged values. */
export function vaultStatefulSet(merged: Record<string, unknown>): { replicas: number; updateStrategy: string; readinessPath?: string } {
  const v = merged as unknown as VaultHelmValues;
  return {
    replicas: v.server.ha.enabled ? v.server.ha.replicas : 1,
    updateStrategy: v.server.updateStrategyType,
    readinessPath: v.server.readinessProbe.enabled ? v.server.readinessProbe.path : undefined,
  };
}

export type VaultState = "active" | "standby" | "sealed" | "uninitialised";

/** Vault's sys/health answer for a state and a request path with its query parameters. */
export function vaultHealthStatus(pathWithQuery: string, state: VaultState): number {
  const query = new URL(pathWithQuery, "http://vault").searchParams;
  const code = (name: string, dflt: number) => (query.has(name) ? Number(query.get(name)) : dflt);
  switch (state) {
    case "uninitialised":
      return code("uninitcode", 501);
    case "sealed":
      return code("sealedcode", 503);
    case "standby":
      return query.get("standbyok") === "true" ? code("activecode", 200) : code("standbycode", 429);
    case "active":
      return code("activecode", 200);
  }
}

/** Kubernetes httpGet probe outcome for a status code. */
export function probePasses(status: number): boolean {
  return status >= 200 && status < 400;
}
