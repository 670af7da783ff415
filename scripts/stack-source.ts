/**
 * The config of the stack a script is asked about: a committed stack file (`production`), or,
 * with `--from-cli`, the stack as the Pulumi CLI has it in the current directory (a user's own
 * stack, or one whose config lives only in its backend). Secrets are never read: fakes stand in
 * for them, and the scripts print nothing derived from a secret.
 */
import { execFileSync } from "node:child_process";
import { engineConfig, fakeSecrets, stackConfig, STACKS } from "../harness";
import { CATALOG } from "../components/catalog";
import { loadStackConfig } from "../stacks/config";
import type { StackConfig } from "../stacks/config-model";

/** `pulumi config --json` of a stack, as the engine hands config to the program (secrets left out). */
function cliConfig(stack: string): Record<string, string> {
  const out = execFileSync("pulumi", ["config", "--json", "--stack", stack], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  const parsed = JSON.parse(out) as Record<string, { value?: string; secret?: boolean }>;
  return Object.fromEntries(
    Object.entries(parsed)
      .filter(([, v]) => !v.secret && v.value !== undefined)
      .map(([k, v]) => [k, v.value as string]),
  );
}

/** The validated config of `argv`'s stack, or a usage message and exit 2. */
export function stackFromArgs(argv: string[], usage: string, options: { requireSecrets?: boolean } = {}): StackConfig {
  const fromCli = argv.includes("--from-cli");
  const stack = argv.find((a) => !a.startsWith("--"));
  if (!stack || (!fromCli && !(STACKS as readonly string[]).includes(stack))) {
    console.error(`usage: ${usage} -- <${STACKS.join("|")}>, or <any stack> --from-cli (reads it with pulumi config, in this directory)`);
    process.exit(2);
  }
  const values = fromCli ? cliConfig(stack) : engineConfig(stackConfig(stack));
  if (options.requireSecrets === false) return loadStackConfig({ values, secretKeys: new Set() }, stack, CATALOG, { requireSecrets: false });
  const secrets = fakeSecrets();
  return loadStackConfig({ values: { ...values, ...secrets }, secretKeys: new Set(Object.keys(secrets)) }, stack);
}
