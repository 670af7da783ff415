/**
 * `npm run vault-policy -- production` (any committed stack): print the Vault policy of the program's own identity
 * (`veza-<env>-pulumi`) for the stack, which the bootstrap writes once with a privileged token
 * (README, "Bootstrapping Vault"): the program never writes it, so it cannot widen its rights.
 */
import { loadStackConfig } from "../stacks/config";
import { deployerPolicyHcl } from "../stacks/vault";
import { engineConfig, fakeSecrets, stackConfig, STACKS } from "../harness";

const stack = process.argv[2];
if (!stack || !(STACKS as readonly string[]).includes(stack)) {
  console.error(`usage: npm run vault-policy -- <${STACKS.join("|")}>`);
  process.exit(2);
}
// Secrets are not needed for the policy; fakes satisfy the validation and are never printed.
const secrets = fakeSecrets();
const config = loadStackConfig({ values: { ...engineConfig(stackConfig(stack)), ...secrets }, secretKeys: new Set(Object.keys(secrets)) }, stack);
if (!config.vault || config.vault.mode === "dev") {
  console.error(`stack ${stack} runs no HA Vault: the program logs in with dev mode's root token, there is no deployer policy`);
  process.exit(1);
}
process.stdout.write(deployerPolicyHcl(config));
