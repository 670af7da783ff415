/**
 * Support for DatabaseAccess's tests (components/vault/database-access-*.test.ts): the Vault
 * resource types it registers, the services of the production stack, and a Vault provider.
 */
import * as pulumi from "@pulumi/pulumi";
import { Provider } from "@pulumi/vault/provider";

export const T = {
  role: "vault:database/secretBackendRole:SecretBackendRole",
  policy: "vault:index/policy:Policy",
  authRole: "vault:kubernetes/authBackendRole:AuthBackendRole",
};
export const SERVICES = ["backend-api", "chat-server", "stream-server"] as const;

export const provider = (): Provider => new Provider("vault", { address: "http://127.0.0.1:8200", token: pulumi.secret("t") });
