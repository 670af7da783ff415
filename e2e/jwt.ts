/**
 * A stand-in OIDC issuer for the deploy job's token: an RSA key whose public half the bootstrap
 * gives Vault's jwt method (`jwt_validation_pubkeys`, in place of GitHub's discovery document,
 * which this machine cannot reach), and RS256 tokens with GitHub Actions' claims.
 */
import { createSign, generateKeyPairSync } from "node:crypto";

export interface Issuer {
  publicPem: string;
  sign(claims: Record<string, unknown>, ttlSeconds?: number): string;
}

export function makeIssuer(): Issuer {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
  return {
    publicPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
    sign(claims, ttlSeconds = 600) {
      const now = Math.floor(Date.now() / 1000);
      const body = `${b64({ alg: "RS256", typ: "JWT", kid: "e2e" })}.${b64({ iat: now, nbf: now - 5, exp: now + ttlSeconds, ...claims })}`;
      const signature = createSign("RSA-SHA256").update(body).sign(privateKey).toString("base64url");
      return `${body}.${signature}`;
    },
  };
}

/** The claims of a GitHub Actions job's OIDC token (the ones Vault's roles bind). */
export function githubClaims(o: { repository: string; repositoryId?: string; environment: string; ref: string; audience: string }): Record<string, unknown> {
  return {
    iss: "https://token.actions.githubusercontent.com",
    aud: o.audience,
    sub: `repo:${o.repository}:environment:${o.environment}`,
    repository: o.repository,
    ...(o.repositoryId ? { repository_id: o.repositoryId } : {}),
    environment: o.environment,
    ref: o.ref,
  };
}
