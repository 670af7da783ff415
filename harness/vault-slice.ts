/**
 * One stack's Vault part alone: its config through the stack layer, then `buildVault`
 * (the Helm release, the provider, VaultConfig, the database identities), without the rest
 * of the program. For tests of that part: they run in a fraction of the whole program's time,
 * and under mutation testing a mutant of another component does not run them.
 */
import * as pulumi from "@pulumi/pulumi";
import { CATALOG } from "../components/catalog";
import { loadStackConfig } from "../stacks/config";
import { runtimeConfigSource } from "../stacks/config-model";
import { buildVault } from "../stacks/vault";
import { runProgram, type ProgramRun, type RunOptions } from "./mock-engine";

/** Run `stack`'s Vault part under mocks (`overrides` and `secrets` as for `runProgram`). */
export function runVaultSlice(stack: string, overrides?: RunOptions["overrides"], secrets?: RunOptions["secrets"]): Promise<ProgramRun> {
  return runProgram({
    stack,
    overrides,
    secrets,
    program: () => {
      const config = loadStackConfig(runtimeConfigSource(), stack, CATALOG);
      const workloads = config.namespaces.workloads;
      buildVault(config, {
        namespace: pulumi.output(config.namespaces.vault),
        workloadNamespace: pulumi.output(workloads),
        storeServiceAccount: { namespace: workloads, name: "eso-vault-store" },
        values: { "jwt-secret": pulumi.secret("slice") },
      });
      return {};
    },
  });
}
