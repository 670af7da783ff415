/**
 * `npm run vault-bootstrap -- production` (any committed stack, or any stack with
 * `--from-cli`): print the operator's bootstrap script for the stack's Vault (bash; run it once
 * with an admin token, docs/vault-bootstrap.md): the audit devices, the deployer's and the
 * previews' policies, and the jwt logins `pulumi up` uses. The program manages none of these.
 */
import { bootstrapScript } from "../components/vault/bootstrap";
import { bootstrapOptions } from "../stacks/vault";
import { stackFromArgs } from "./stack-source";

const config = stackFromArgs(process.argv.slice(2), "npm run vault-bootstrap");
if (!config.vault || config.vault.mode === "dev") {
  console.error(`stack ${config.stack} runs no HA Vault: dev mode's root token configures everything, there is nothing to bootstrap`);
  process.exit(1);
}
process.stdout.write(bootstrapScript(bootstrapOptions(config)));
