/** A small Vault HTTP API client for the e2e's checks (the stand-in provider has its own). */
import { type HttpAnswer, httpJson } from "./http";

export interface VaultClient {
  address: string;
  token: string;
  raw(method: string, path: string, body?: unknown): Promise<HttpAnswer>;
  /** The answer's body when 2xx; throws with Vault's errors otherwise. */
  call(method: string, path: string, body?: unknown): Promise<Record<string, unknown>>;
  withToken(token: string): VaultClient;
}

export function vaultClient(address: string, token: string, ca?: string): VaultClient {
  const raw = (method: string, path: string, body?: unknown) =>
    httpJson(`${address}/v1/${path}`, method, { ca, body, headers: token ? { "X-Vault-Token": token } : {} });
  return {
    address,
    token,
    raw,
    async call(method, path, body) {
      const a = await raw(method, path, body);
      if (a.status >= 400) throw new Error(`Vault ${method} ${path}: ${a.status} ${JSON.stringify(a.json.errors ?? a.text)}`);
      return a.json;
    },
    withToken: (t) => vaultClient(address, t, ca),
  };
}
