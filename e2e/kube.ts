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
