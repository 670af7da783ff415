/**
 * `npm run vault-policy -- production` (any committed stack, or any stack with `--from-cli`):
 * print the Vault policy of the program's own identity (`veza-<env>-pulumi`), which the
 * bootstrap writes (`npm run vault-bootstrap`): the program never writes it, so it cannot widen
 * its rights.
 */
import { deployerPolicyHcl } from "../stacks/vault";
import { stackFromArgs } from "./stack-source";

const config = stackFromArgs(process.argv.slice(2), "npm run vault-policy");
if (!config.vault || config.vault.mode === "dev") {
  console.error(`stack ${config.stack} runs no HA Vault: the program logs in with dev mode's root token, there is no deployer policy`);
  process.exit(1);
}
process.stdout.write(deployerPolicyHcl(config));
