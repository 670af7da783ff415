/**
 * Support for the whole-program tests (test/program-*.test.ts): the real index.ts run once per
 * stack and example fragment under Pulumi mocks (harness/index.ts), cached at module level for
 * every file of a mocha run, with what each stack's services should read and the resource types
 * the tests look for.
 */
import { serviceSecrets, CATALOG } from "../components/catalog";
import { exampleFragments, fakeSecrets, mergeConfig, runProgram, stackConfig, type ProgramRun } from "../harness";

const runs = new Map<string, ProgramRun>();
/** The program's run for this stack (with this example fragment), made once and shared by every test file. */
export async function stackRun(stack: string, fragment?: string): Promise<ProgramRun> {
  const key = `${stack}+${fragment ?? ""}`;
  if (!runs.has(key)) {
    const overrides = fragment ? exampleFragments()[fragment] : undefined;
    const secrets = fakeSecrets();
    runs.set(key, await runProgram({ stack, overrides, secrets }));
  }
  return runs.get(key) as ProgramRun;
}

/** Does this stack (with this fragment) give each service its own Vault database login? */
export function perServiceDatabase(stack: string, fragment?: string): boolean {
  const config = mergeConfig(stackConfig(stack), fragment ? exampleFragments()[fragment] : {});
  return config["veza-secrets:database"] !== undefined && (config["veza-secrets:providers"] as string[]).includes("vault");
}
/** The Secrets the services read in this stack: database-url only in each service's own where logins are per service. */
export const expectedSecrets = (stack: string, fragment?: string) => serviceSecrets(CATALOG, { databasePerService: perServiceDatabase(stack, fragment) });

export const fragments = Object.keys(exampleFragments());
/** The spec's option 1 (plain Secrets) is development-only: config rejects it elsewhere (test/program-environment-backends.test.ts). */
export const fragmentsFor = (stack: string): (string | undefined)[] => [undefined, ...fragments.filter((f) => f !== "kubernetes" || stack === "development")];

export const ES = "kubernetes:external-secrets.io/v1:ExternalSecret";
export const STORE = "kubernetes:external-secrets.io/v1:SecretStore";
export const GENERATOR = "kubernetes:generators.external-secrets.io/v1alpha1:VaultDynamicSecret";
export const RELEASE = "kubernetes:helm.sh/v3:Release";
export const meta = (r: { inputs: Record<string, unknown> }) => r.inputs.metadata as { name: string; namespace?: string };
