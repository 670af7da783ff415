/**
 * Stack config mistakes in Vault's settings (mode, replicas, seal, login, CA, tokens): each
 * rejected with the key, the reason and the exact fix, by the loader and the whole program, and
 * the fix applied with the CLI's rules.
 */
import * as path from "node:path";
import { DEV_ROOT_TOKEN_RULE } from "../components/vault/cluster-args";
import { fakeSecrets, stackConfig } from "../harness";
import { P, itRejectsAndFixes, type ConfigMistake } from "./config-fixtures";

describe("stack config", () => {
  // One row per kind of mistake: the exact message and the exact command that fixes it.
  // Each fix is then applied with the CLI's own rules (test/pulumi-cli.ts) and the config
  // validated again, by the CLI's pre-run check and by the program.
  const table: ConfigMistake[] = [
    {
      name: "wrong type",
      stack: "staging",
      overrides: {
        [`${P}:vault`]: { mode: "ha", replicas: "three", bootstrapped: true, address: "https://v:8200", login: { githubRepository: "veza/veza-secrets" } },
      },
      key: "vault.replicas",
      message: 'must be a number; got "three"',
      fix: "pulumi config set --path 'vault.replicas' 3 --stack staging",
    },
    {
      name: "misspelled key (the fix moves the value to the nearest key)",
      stack: "staging",
      overrides: {
        [`${P}:vault`]: { mode: "ha", bootstrapped: true, address: "https://v:8200", replcias: 3, login: { githubRepository: "veza/veza-secrets" } },
      },
      key: "vault.replcias",
      message: 'unknown key "replcias" (check the spelling against Pulumi.yaml); did you mean "replicas"?',
      fix: "pulumi config set --path 'vault.replicas' 3 --stack staging && pulumi config rm --path 'vault.replcias' --stack staging",
    },
    {
      name: "dev-mode Vault outside development",
      stack: "staging",
      overrides: { [`${P}:vault`]: { mode: "dev" } },
      key: "vault.mode",
      message: '"dev" (in-memory, unsealed, root token) is only allowed in development; got it in staging',
      fix: "pulumi config set --path 'vault.mode' ha --stack staging",
    },
    {
      name: "production without auto-unseal (one command per leaf, not a JSON string)",
      stack: "production",
      overrides: { [`${P}:vault`]: { mode: "ha", bootstrapped: true, address: "https://v:8200", login: { githubRepository: "veza/veza-secrets" } } },
      key: "vault.seal",
      message: "production needs cloud-KMS auto-unseal (awskms, gcpckms or azurekeyvault)",
      // The key, the role and their account are the user's: each marked, never an example that would pass.
      fix: "pulumi config set --path 'vault.seal.type' awskms --stack production && pulumi config set --path 'vault.seal.region' '<aws-region>' --stack production && pulumi config set --path 'vault.seal.kmsKeyId' '<kms-key-id>' --stack production && pulumi config set --path 'vault.seal.roleArn' 'arn:aws:iam::<aws-account-id>:role/<vault-unseal-role>' --stack production",
    },
    {
      name: "even Raft replicas",
      stack: "staging",
      overrides: {
        [`${P}:vault`]: { mode: "ha", replicas: 4, bootstrapped: true, address: "https://v:8200", login: { githubRepository: "veza/veza-secrets" } },
      },
      key: "vault.replicas",
      message: "Raft needs an odd number of at least 3 voters; got 4",
      fix: "pulumi config set --path 'vault.replicas' 3 --stack staging",
    },
    {
      name: "jwt login without the repository whose jobs log in",
      stack: "staging",
      overrides: { [`${P}:vault`]: { mode: "ha", bootstrapped: true, address: "https://v:8200" } },
      key: "vault.login.githubRepository",
      message:
        "is required with vault.login.method jwt and issuer github: the repository whose deploy job (GitHub environment of the same name) logs in to Vault",
      fix: "pulumi config set --path 'vault.login.githubRepository' veza/veza-secrets --stack staging",
    },
    {
      name: "jwt login through Pulumi Deployments without the organization",
      stack: "production",
      overrides: { [`${P}:vault`]: { ...(stackConfig("production")[`${P}:vault`] as object), login: { issuer: "pulumi" } } },
      key: "vault.login.pulumiOrganization",
      message: "is required with vault.login.method jwt and issuer pulumi: the organization whose Deployments of this stack log in to Vault",
      fix: "pulumi config set --path 'vault.login.pulumiOrganization' veza --stack production",
    },
    {
      name: "a stored long-lived token next to jwt login",
      stack: "production",
      overrides: {},
      secrets: { ...fakeSecrets(), [`${P}:vaultToken`]: "hvs.FAKE" },
      key: "vaultToken",
      message:
        "is set but vault.login.method is jwt: a stored long-lived token is exactly what jwt login replaces; revoke it in Vault (vault token revoke) and remove it",
      fix: "pulumi config rm vaultToken --stack production",
    },
    {
      name: "token login once bootstrapped, without the token",
      stack: "staging",
      overrides: { [`${P}:vault`]: { ...(stackConfig("staging")[`${P}:vault`] as object), login: { method: "token" } } },
      key: "vaultToken",
      message:
        "is required once vault.bootstrapped is true with vault.login.method token: the token `pulumi up` configures Vault with (or log in with jwt: pulumi config set --path 'vault.login.method' jwt --stack staging)",
      fix: "pulumi config set --secret vaultToken --stack staging",
    },
    {
      name: "text where the login's settings belong (no example for a whole object: the fix removes it)",
      stack: "development",
      overrides: { [`${P}:vault`]: { login: "token" } },
      key: "vault.login",
      message: 'must be an object; got "token"',
      fix: "pulumi config rm --path 'vault.login' --stack development",
    },
    {
      name: "jwt login for dev mode's Vault",
      stack: "development",
      overrides: { [`${P}:vault`]: { login: { method: "jwt" } } },
      key: "vault.login.method",
      message: 'must be "token" in dev mode (the dev server\'s root token); jwt is for ha',
      fix: "pulumi config rm --path 'vault.login.method' --stack development",
    },
    // Issue 30 #5: the fix keeps the user's host (it printed vault.example.com), with the scheme it lacked.
    {
      name: "a Vault address typed without its scheme",
      stack: "staging",
      overrides: { [`${P}:vault`]: { ...(stackConfig("staging")[`${P}:vault`] as object), address: "vault.acme.io:8200" } },
      key: "vault.address",
      message: 'must be an http(s) URL; got "vault.acme.io:8200"',
      fix: "pulumi config set --path 'vault.address' https://vault.acme.io:8200 --stack staging",
    },
    {
      name: "a Vault CA file that does not exist",
      stack: "staging",
      overrides: { [`${P}:vault`]: { ...(stackConfig("staging")[`${P}:vault`] as object), caCertFile: "certs/missing-ca.pem" } },
      key: "vault.caCertFile",
      message: `"certs/missing-ca.pem" cannot be read (looked for ${path.resolve("certs/missing-ca.pem")}; a relative path is relative to the project folder)`,
      // Not the committed example CA (certs/README.md): the user's own file.
      fix: "pulumi config set --path 'vault.caCertFile' '<vault-ca-file>' --stack staging",
    },
    {
      name: "a typo in the Vault login method",
      stack: "production",
      overrides: {
        [`${P}:vault`]: {
          ...(stackConfig("production")[`${P}:vault`] as { login?: object }),
          login: { ...(stackConfig("production")[`${P}:vault`] as { login?: object }).login, method: "jwtt" },
        },
      },
      key: "vault.login.method",
      message: 'must be one of "jwt", "token"; got "jwtt"; did you mean "jwt"?',
      fix: "pulumi config set --path 'vault.login.method' jwt --stack production",
    },
    {
      name: "a preview login role that is not a Vault role name (the fix names the stack's environment)",
      stack: "production",
      overrides: { [`${P}:vaultLoginRole`]: "Pulumi Preview" },
      key: "vaultLoginRole",
      message: 'must be a Vault role name; got "Pulumi Preview"',
      fix: "pulumi config set vaultLoginRole pulumi-production --stack production",
    },
    {
      name: "a dev root token the chart would break (the fix makes a valid one every time)",
      stack: "development",
      overrides: {},
      secrets: { ...fakeSecrets(), [`${P}:vaultDevRootToken`]: "1-starts-with-a-digit" },
      key: "vaultDevRootToken",
      message: `${DEV_ROOT_TOKEN_RULE}; the value set does not`,
      fix: `pulumi config set --secret vaultDevRootToken "dev-$(openssl rand -hex 24)" --stack development`,
    },
  ];

  itRejectsAndFixes(table);
});
