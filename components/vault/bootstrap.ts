/**
 * The operator's part of Vault's bootstrap, as a script of `vault` CLI commands run once with
 * an admin token (`npm run vault-bootstrap -- production` prints production's): everything that decides who
 * the program is and who watches it, which the program itself must never be able to change.
 *
 * - the audit devices, first, so every later request is logged;
 * - the deployer's and the previews' policies (deployer-policy.ts);
 * - the jwt auth methods `pulumi up` logs in through, their issuer config, and the deploy and
 *   preview roles with bound claims and tokens of at most an hour.
 *
 * Pure: the stack layer (stacks/vault.ts) gives the names and values. Each command is safe to
 * run again: methods and devices are enabled only when missing, everything else is a write.
 */

export const GITHUB_OIDC_ISSUER = "https://token.actions.githubusercontent.com";
/** Pulumi Cloud's OIDC issuer for ESC's `vault-login` provider (and Deployments' cloud logins). */
export const PULUMI_OIDC_ISSUER = "https://api.pulumi.com/oidc";

/** A jwt role: who may log in (audience and exact claims) and the one policy the token gets. */
export interface JwtRole {
  name: string;
  policy: string;
  boundAudiences: string[];
  /** Exact claim values (`bound_claims_type: string`); a list accepts any of its values. */
  boundClaims: Record<string, string | string[]>;
}

/** A jwt auth method and its roles. */
export interface JwtLogin {
  path: string;
  description: string;
  /** The issuer whose discovery document holds its signing keys. */
  issuer: string;
  roles: JwtRole[];
}

export interface BootstrapOptions {
  /** File audit devices, by device path; `filePath` `stdout` writes to the server's log. */
  auditDevices: { path: string; filePath: string; description: string }[];
  /** Policies the operator writes: the deployer's and the previews'. */
  policies: { name: string; document: string }[];
  jwt: JwtLogin[];
  /** Token TTL of every jwt role, seconds; 60 to 3600. */
  tokenTtlSeconds: number;
  /**
   * An HA Vault's Raft autopilot: remove a server that has been out of contact for the
   * threshold (a pod replaced with a new node id, a lost node), never below `minQuorum` voters.
   * Without it a dead server stays a voter and counts against quorum. None: left as Vault has it.
   */
  autopilot?: { deadServerLastContactThreshold: string; minQuorum: number };
}

/** Quote a word for a POSIX shell: bare when safe, else single-quoted. */
function sh(word: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Problems with the options, each naming the field. Empty: valid. */
export function bootstrapErrors(o: BootstrapOptions): string[] {
  const errors: string[] = [];
  if (!Number.isInteger(o.tokenTtlSeconds) || o.tokenTtlSeconds < 60 || o.tokenTtlSeconds > 3600)
    errors.push(`[tokenTtlSeconds] must be a whole number from 60 to 3600 (one hour at most); got ${o.tokenTtlSeconds}.`);
  for (const j of o.jwt)
    for (const r of j.roles) {
      if (r.boundAudiences.length === 0) errors.push(`[jwt.${j.path}.${r.name}] needs a bound audience: a token minted for another service must not log in.`);
      if (Object.keys(r.boundClaims).length === 0) errors.push(`[jwt.${j.path}.${r.name}] needs bound claims: any token of the issuer would log in.`);
    }
  for (const p of o.policies) if (p.document.includes("\nVEZA_EOF\n")) errors.push(`[policies.${p.name}] contains the heredoc delimiter.`);
  if (o.autopilot) {
    if (!Number.isInteger(o.autopilot.minQuorum) || o.autopilot.minQuorum < 3)
      errors.push(`[autopilot.minQuorum] must be a whole number of at least 3 (Raft's smallest fault-tolerant cluster); got ${o.autopilot.minQuorum}.`);
    if (!/^\d+[smh]$/.test(o.autopilot.deadServerLastContactThreshold))
      errors.push(`[autopilot.deadServerLastContactThreshold] must be a duration such as "10m"; got "${o.autopilot.deadServerLastContactThreshold}".`);
  }
  return errors;
}

/** The role's request body (`vault write auth/<path>/role/<name> -`), as JSON. */
export function jwtRoleBody(r: JwtRole, tokenTtlSeconds: number): Record<string, unknown> {
  return {
    role_type: "jwt",
    user_claim: "sub",
    bound_audiences: r.boundAudiences,
    bound_claims_type: "string",
    bound_claims: r.boundClaims,
    token_policies: [r.policy],
    token_ttl: tokenTtlSeconds,
    token_max_ttl: tokenTtlSeconds,
    token_explicit_max_ttl: tokenTtlSeconds,
    token_type: "service",
    // The default policy lets the token look itself up (the provider's first request) and revoke itself.
    token_no_default_policy: false,
  };
}

/** The bootstrap script (bash): needs `vault`, `VAULT_ADDR` and an admin `VAULT_TOKEN`. */
export function bootstrapScript(o: BootstrapOptions): string {
  const errors = bootstrapErrors(o);
  if (errors.length > 0) throw new Error(errors.join(" "));
  const heredoc = (command: string, body: string) => `${command} - <<'VEZA_EOF'\n${body.endsWith("\n") ? body : `${body}\n`}VEZA_EOF`;
  const lines: string[] = [
    "#!/usr/bin/env bash",
    "# Vault bootstrap, run once by an operator with an admin token (docs/vault-bootstrap.md).",
    "set -euo pipefail",
    "",
  ];
  if (o.auditDevices.length > 0) {
    lines.push("# 1. Audit devices first: every request after them is logged.");
    for (const a of o.auditDevices)
      lines.push(
        `vault audit list -format=json | grep -q ${sh(`"${a.path}/"`)} || vault audit enable -path=${sh(a.path)} -description=${sh(a.description)} file file_path=${sh(a.filePath)}`,
      );
    lines.push("");
  }
  lines.push("# 2. The program's own policies: the deployer's (pinned values) and the previews' (read only).");
  for (const p of o.policies) lines.push(heredoc(`vault policy write ${sh(p.name)}`, p.document));
  lines.push("");
  if (o.jwt.length > 0) lines.push("# 3. How pulumi up logs in: a CI system's OIDC token on a role with bound claims, tokens of at most an hour.");
  for (const j of o.jwt) {
    lines.push(
      `vault auth list -format=json | grep -q ${sh(`"${j.path}/"`)} || vault auth enable -path=${sh(j.path)} -description=${sh(j.description)} jwt`,
      `vault write auth/${j.path}/config oidc_discovery_url=${sh(j.issuer)} bound_issuer=${sh(j.issuer)}`,
    );
    for (const r of j.roles) lines.push(heredoc(`vault write auth/${j.path}/role/${sh(r.name)}`, JSON.stringify(jwtRoleBody(r, o.tokenTtlSeconds), null, 2)));
  }
  if (o.autopilot) {
    lines.push(
      "",
      "# 4. Raft autopilot: a server out of contact that long is removed, never below the quorum (vault-helm pods that come back get new node ids).",
      `vault operator raft autopilot set-config -cleanup-dead-servers=true -dead-server-last-contact-threshold=${sh(o.autopilot.deadServerLastContactThreshold)} -min-quorum=${o.autopilot.minQuorum}`,
    );
  }
  return `${lines.join("\n")}\n`;
}
