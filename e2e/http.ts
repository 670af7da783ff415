/** One HTTPS (or HTTP) request with an optional CA and headers; JSON in and out. Bounded in time. */
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";

export interface HttpAnswer {
  status: number;
  json: Record<string, unknown>;
  text: string;
}

export async function httpJson(
  url: string,
  method: string,
  opts: { ca?: string; servername?: string; headers?: Record<string, string>; body?: unknown; contentType?: string; timeoutMs?: number } = {},
): Promise<HttpAnswer> {
  const u = new URL(url);
  const payload = opts.body === undefined ? undefined : typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body);
  const send = u.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      u,
      {
        method,
        headers: {
          Accept: "application/json",
          ...opts.headers,
          ...(payload !== undefined ? { "Content-Type": opts.contentType ?? "application/json", "Content-Length": String(Buffer.byteLength(payload)) } : {}),
        },
        ...(opts.ca ? { ca: opts.ca } : {}),
        // The name the certificate is checked against, when the URL holds an address.
        ...(opts.servername ? { servername: opts.servername } : {}),
        timeout: opts.timeoutMs ?? 30_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (d: Buffer) => chunks.push(d));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let json: Record<string, unknown>;
          try {
            const parsed: unknown = text ? JSON.parse(text) : {};
            json = parsed !== null && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : { value: parsed };
          } catch {
            json = {};
          }
          resolve({ status: res.statusCode ?? 0, json, text });
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error(`${method} ${url}: timed out`)));
    req.on("error", reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}
