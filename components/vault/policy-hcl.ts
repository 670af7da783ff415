/**
 * The environment's read-only Vault policy as HCL, and a strict parser of the `path` stanzas
 * it writes (tests and the policy pack read policies back with it).
 */
/** What `policyDocument` grants: one environment's KV path. */
export interface PolicyDocumentOptions {
  kvMount: string;
  secretPath: string;
}

/**
 * The environment's Vault policy (HCL): `read` on its KV v2 data and metadata. Nothing else: no
 * `list`, no glob, no `sudo`, no other path, and no database path (each service reads only its
 * own `creds` path, with its own identity: `database-access.ts`).
 */
export function policyDocument(o: PolicyDocumentOptions): string {
  const block = (comment: string, path: string) => `# ${comment}\npath "${path}" {\n  capabilities = ["read"]\n}\n`;
  const blocks = [
    block("KV v2 data: this environment's secret values, as External Secrets Operator reads them.", `${o.kvMount}/data/${o.secretPath}`),
    // ESO reads metadata for remoteRef.metadataPolicy: Fetch (versions, timestamps, custom
    // metadata); it holds no values. No `list`: ESO's dataFrom.find is not used.
    block("KV v2 metadata of the same secret (versions and custom metadata, no values).", `${o.kvMount}/metadata/${o.secretPath}`),
  ];
  return blocks.join("\n");
}

/** One `path` stanza of a policy. */
export interface PolicyPath {
  path: string;
  capabilities: string[];
}

/**
 * Parse the `path "..." { capabilities = [...] }` stanzas of a policy written by
 * `policyDocument`. Throws on anything else (another attribute, a stray token), so a test
 * cannot pass over text it did not read.
 */
export function policyPaths(hcl: string): PolicyPath[] {
  const body = hcl.replace(/^\s*#.*$/gm, "");
  const stanza = /path\s+"([^"]*)"\s*\{\s*capabilities\s*=\s*\[([^\]]*)\]\s*\}/g;
  const result: PolicyPath[] = [];
  let last = 0;
  for (let m = stanza.exec(body); m; m = stanza.exec(body)) {
    if (body.slice(last, m.index).trim() !== "") throw new Error(`policyPaths: cannot parse ${JSON.stringify(body.slice(last, m.index).trim())}`);
    const [, path, list] = m;
    const capabilities = list
      .split(",")
      .map((c) => c.trim())
      .filter((c) => c !== "")
      .map((c) => {
        if (!/^"[a-z]+"$/.test(c)) throw new Error(`policyPaths: capability ${c} in path "${path}" is not a quoted word`);
        return c.slice(1, -1);
      });
    result.push({ path, capabilities });
    last = m.index + m[0].length;
  }
  if (body.slice(last).trim() !== "") throw new Error(`policyPaths: cannot parse ${JSON.stringify(body.slice(last).trim())}`);
  return result;
}
