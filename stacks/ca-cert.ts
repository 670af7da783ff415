/** The check behind `vault.caCertFile`: a readable PEM file of CA certificates and nothing else. */
import { X509Certificate } from "node:crypto";
import * as fs from "node:fs";

/**
 * Why a CA file cannot serve the Vault provider, or undefined. Read once, up front, so a bad
 * path stops the program before anything is registered rather than inside the provider.
 */
export function caCertProblem(file: string): string | undefined {
  let pem: string;
  try {
    pem = fs.readFileSync(file, "utf8");
  } catch {
    return `cannot be read (looked for ${file}; a relative path is relative to the project folder)`;
  }
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) return "holds no PEM certificate (-----BEGIN CERTIFICATE-----)";
  let certs: X509Certificate[];
  try {
    certs = blocks.map((b) => new X509Certificate(b));
  } catch (e) {
    return `holds a certificate that does not parse (${e instanceof Error ? e.message : String(e)})`;
  }
  if (!certs.some((c) => c.ca))
    return "holds no CA certificate (basicConstraints CA:TRUE): give the CA that signed Vault's certificate, not the certificate itself";
  if (/PRIVATE KEY-----/.test(pem)) return "also holds a private key: keep only the CA certificate in this file (and the key out of Git)";
  return undefined;
}
