/**
 * Binary requests to Vault for the Raft rehearsal: a snapshot is a gzipped archive, which
 * `http.ts` (JSON and UTF-8 text) would corrupt. Bounded in time like every e2e request.
 */
import { request as httpsRequest } from "node:https";

export interface BytesAnswer {
  status: number;
  body: Buffer;
}

/** One HTTPS request to `<address>/v1/<path>` with a Vault token; body and answer as bytes. */
export async function vaultBytes(
  address: string,
  ca: string,
  token: string,
  method: string,
  path: string,
  body?: Buffer,
  timeoutMs = 60_000,
): Promise<BytesAnswer> {
  const u = new URL(`${address}/v1/${path}`);
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      u,
      {
        method,
        ca,
        timeout: timeoutMs,
        headers: {
          ...(token ? { "X-Vault-Token": token } : {}),
          ...(body ? { "Content-Type": "application/octet-stream", "Content-Length": String(body.length) } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (d: Buffer) => chunks.push(d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`${method} ${u.href}: timed out after ${timeoutMs / 1000} s`)));
    req.on("error", reject);
    if (body) req.write(body);
    req.end();
  });
}
