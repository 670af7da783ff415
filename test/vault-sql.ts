/**
 * Test helpers: run SQL the way Vault's postgresql-database-plugin (Vault 2.x) does, and make
 * credentials shaped like Vault's. Shared by the database tests that use a real PostgreSQL.
 */
import * as assert from "node:assert/strict";
import { createHash, createHmac, pbkdf2Sync, randomBytes, randomInt } from "node:crypto";
import { renderVaultTemplate, type VaultTemplateValues } from "../components/vault/database-sql";
import type { PgConnection } from "./postgres";

// ---------------------------------------------------------------------------------------------
// How Vault's postgresql-database-plugin (Vault 2.x) runs statements, reproduced for the tests.
// ---------------------------------------------------------------------------------------------

export type VaultOperation = "creation" | "revocation" | "renew" | "rotation";

/** Vault's containsMultilineStatement: the word END outside quoted strings and identifiers. */
export function vaultKeepsWhole(statement: string): boolean {
  return /\bEND\b/.test(statement.replace(/'.*?'/g, "").replace(/".*?"/g, ""));
}

/**
 * The queries Vault executes for one statement: creation and revocation statements containing
 * END are kept whole; everything else is split on ";" and trimmed, empty pieces dropped.
 */
export function vaultQueries(statement: string, operation: VaultOperation): string[] {
  if ((operation === "creation" || operation === "revocation") && vaultKeepsWhole(statement)) return [statement];
  return statement
    .split(";")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/**
 * Runs statements as Vault does: one transaction, each query rendered and executed on its own
 * (extended protocol, so a query holding two statements fails as it would in Vault).
 */
export async function runAsVault(conn: PgConnection, operation: VaultOperation, statements: string[], values: VaultTemplateValues): Promise<void> {
  await conn.query("BEGIN");
  try {
    for (const statement of statements) {
      for (const query of vaultQueries(statement, operation)) {
        await conn.query({ text: renderVaultTemplate(query, values), queryMode: "extended" });
      }
    }
    await conn.query("COMMIT");
  } catch (error) {
    await conn.query("ROLLBACK").catch(() => undefined);
    throw error;
  }
}

/** Vault's expiration format, Go layout "2006-01-02 15:04:05-0700", in UTC. */
export function vaultExpiration(date: Date): string {
  const p = (n: number): string => String(n).padStart(2, "0");
  return `${date.getUTCFullYear()}-${p(date.getUTCMonth() + 1)}-${p(date.getUTCDate())} ${p(date.getUTCHours())}:${p(date.getUTCMinutes())}:${p(date.getUTCSeconds())}+0000`;
}

/** A whole-second instant `seconds` from now. */
export function inSeconds(seconds: number): Date {
  return new Date(Math.floor(Date.now() / 1000) * 1000 + seconds * 1000);
}

const ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
export const randomAlphanumeric = (length: number): string => Array.from({ length }, () => ALPHANUMERIC[randomInt(ALPHANUMERIC.length)]).join("");

/**
 * A username shaped like Vault's default template, `v-<display name, 8>-<role, 8>-<random 20>-<unix
 * time>` (at most 63): `v-kubernet-veza-bac-…` for a kubernetes-auth login to `veza-backend-api`.
 */
export const vaultUsername = (role = "veza-role", displayName = "token"): string =>
  `v-${displayName.slice(0, 8)}-${role.slice(0, 8)}-${randomAlphanumeric(20)}-${Math.floor(Date.now() / 1000)}`.slice(0, 63);
/** A password shaped like Vault's default policy (20 characters, letters, digits, "-"). */
export const vaultPassword = (): string => `A1a-${randomAlphanumeric(16)}`;

/** The SCRAM-SHA-256 verifier Vault sends instead of the password with password_authentication=scram-sha-256. */
export function scramVerifier(password: string): string {
  const salt = randomBytes(16);
  const iterations = 4096;
  const salted = pbkdf2Sync(password, salt, iterations, 32, "sha256");
  const clientKey = createHmac("sha256", salted).update("Client Key").digest();
  const storedKey = createHash("sha256").update(clientKey).digest();
  const serverKey = createHmac("sha256", salted).update("Server Key").digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString("base64")}$${storedKey.toString("base64")}:${serverKey.toString("base64")}`;
}

/** Asserts a promise rejects with a PostgreSQL error of this SQLSTATE and a matching message. */
export async function rejectsWithSqlState(promise: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof Error, `expected an Error, got ${String(error)}`);
    assert.equal((error as Error & { code?: string }).code, code, `SQLSTATE of: ${error.message}`);
    assert.match(error.message, message);
    return true;
  });
}
