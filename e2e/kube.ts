/** A small Kubernetes API client for the e2e (bearer token, the API server's CA). */
import { type HttpAnswer, httpJson } from "./http";

export interface Kube {
  url: string;
  raw(method: string, path: string, body?: unknown, contentType?: string): Promise<HttpAnswer>;
  /** The object when 2xx; throws with the API server's message otherwise. */
  call(method: string, path: string, body?: unknown, contentType?: string): Promise<Record<string, unknown>>;
  withToken(token: string): Kube;
}

export function kubeClient(url: string, ca: string, token: string): Kube {
  const raw = (method: string, path: string, body?: unknown, contentType?: string) =>
    httpJson(`${url}${path}`, method, { ca, body, contentType, headers: { Authorization: `Bearer ${token}` } });
  return {
    url,
    raw,
    async call(method, path, body, contentType) {
      const a = await raw(method, path, body, contentType);
      if (a.status >= 400) throw new Error(`${method} ${path}: ${a.status} ${String(a.json.message ?? a.text)}`);
      return a.json;
    },
    withToken: (t) => kubeClient(url, ca, t),
  };
}

/** A kubeconfig (YAML is JSON) for the API server with a bearer token, as context `name`. */
export function kubeconfig(name: string, url: string, caPem: string, token: string): string {
  return JSON.stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name, cluster: { server: url, "certificate-authority-data": Buffer.from(caPem).toString("base64") } }],
    users: [{ name, user: { token } }],
    contexts: [{ name, context: { cluster: name, user: name } }],
    "current-context": name,
  });
}

/** The Job `kubectl create job --from=cronjob/<cron> <name>` posts: the CronJob's job template, its labels, owned by the CronJob. */
export function jobFromCronJob(cron: Record<string, unknown>, name: string): Record<string, unknown> {
  const m = cron.metadata as { name: string; namespace: string; uid: string };
  const template = (cron.spec as { jobTemplate: { metadata?: { labels?: Record<string, string> }; spec: unknown } }).jobTemplate;
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: {
      name,
      namespace: m.namespace,
      labels: template.metadata?.labels ?? {},
      annotations: { "cronjob.kubernetes.io/instantiate": "manual" },
      ownerReferences: [{ apiVersion: "batch/v1", kind: "CronJob", name: m.name, uid: m.uid, controller: true }],
    },
    spec: template.spec,
  };
}
