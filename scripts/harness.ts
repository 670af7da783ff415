/**
 * Runs the real program offline, under Pulumi mocks, with a stack's real config file,
 * and records everything it registers. Used by the tests, `npm run plan` and
 * `npm run bench`; needs no Pulumi CLI, cluster, cloud account or credentials.
 *
 * What the mocks cannot show (pulumi/pulumi#XXXX-style limits, measured here):
 * `additionalSecretOutputs` is recorded but not applied, `transforms` are rejected,
 * and providers compute nothing: outputs are the inputs plus the fakes in `FAKE_OUTPUTS`.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as yaml from "js-yaml";
import { CATALOG, SECRET_PLACEHOLDER, type SecretSpec } from "../components/catalog";
import { secretConfigKeys } from "../stacks/config";

/** The repository: the nearest folder above this file with a Pulumi.yaml (also when compiled elsewhere). */
export const ROOT = ((): string => {
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, "Pulumi.yaml")) && fs.existsSync(path.join(dir, "package.json"))) return dir;
  }
  return path.resolve(__dirname, "..");
})();
export const STACKS = ["development", "staging", "production"] as const;
export type StackName = (typeof STACKS)[number];

/** Pulumi's marker for a secret value on the wire. */
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const SIG_KEY = "4dabf18193072939515e22adb298388d";

/** One resource the program registered, as the engine would have seen it. */
export interface RecordedResource {
  type: string;
  name: string;
  urn: string;
  /** Custom resource (false: a component). */
  custom: boolean;
  /** URN of the parent; the stack's URN for top-level resources. */
  parent: string;
  /** Inputs as sent to the engine; secrets stay wrapped (see `isSecret`). */
  inputs: Record<string, unknown>;
  /** URNs from `dependsOn` and from the outputs the inputs were built from. */
  dependencies: string[];
  protect: boolean;
  retainOnDelete: boolean;
  ignoreChanges: string[];
  additionalSecretOutputs: string[];
  /** Provider reference (`urn::id`), empty for the default provider. */
  provider: string;
}

export interface ProgramRun {
  stack: string;
  resources: RecordedResource[];
  /** Stack outputs, secrets still wrapped. */
  outputs: Record<string, unknown>;
  /** Outputs registered by each component, by URN. */
  componentOutputs: Map<string, Record<string, unknown>>;
  /** Provider function calls the program made (token and inputs). */
  calls: { token: string; inputs: Record<string, unknown> }[];
}

/** Config as in a stack file's `config:` map (`veza-secrets:key` → YAML value). */
export type StackConfigValues = Record<string, unknown>;

export interface RunOptions {
  /** Stack name; also picks `Pulumi.<stack>.yaml` unless `config` is given. */
  stack: string;
  /** Replaces the stack file's config. */
  config?: StackConfigValues;
  /** Merged over the config (deep for objects), e.g. an example fragment. */
  overrides?: StackConfigValues;
  /**
   * Secret config values, by full key (`veza-secrets:stripeApiKey`). Default: `fakeSecrets()`
   * for each secret key the config does not set; a value the config sets is never replaced,
   * so a secret pasted in clear text reaches the program as plain text and is refused there.
   */
  secrets?: Record<string, string>;
  /** Run as `pulumi preview` (dry run). Default false. */
  preview?: boolean;
  /**
   * The program: a module path (default: the repo's `index.ts`), or a function that
   * creates resources directly (component tests).
   */
  program?: string | (() => unknown);
  /** Answers to provider function calls, by token. Unknown tokens throw. */
  calls?: Record<string, (inputs: Record<string, unknown>) => Record<string, unknown>>;
}

export function isSecret(value: unknown): value is { [SIG_KEY]: string; value: unknown } {
  return typeof value === "object" && value !== null && (value as Record<string, unknown>)[SIG_KEY] === SECRET_SIG;
}

/** Read a stack file's `config:` map. Encrypted (`secure:`) values are left out. */
export function readStackFile(file: string): StackConfigValues {
  const doc = yaml.load(fs.readFileSync(file, "utf8")) as { config?: StackConfigValues } | undefined;
  const out: StackConfigValues = {};
  for (const [k, v] of Object.entries(doc?.config ?? {})) {
    if (v && typeof v === "object" && !Array.isArray(v) && "secure" in v) continue;
    out[k] = v;
  }
  return out;
}

export function stackConfig(stack: string): StackConfigValues {
  return readStackFile(path.join(ROOT, `Pulumi.${stack}.yaml`));
}

/** Example fragments under `stacks/examples/`, by name (`aws`, `gcp`, ...). */
export function exampleFragments(): Record<string, StackConfigValues> {
  const dir = path.join(ROOT, "stacks", "examples");
  const out: Record<string, StackConfigValues> = {};
  for (const f of fs.readdirSync(dir).filter((f) => f.endsWith(".yaml")).sort()) {
    out[path.basename(f, ".yaml")] = readStackFile(path.join(dir, f));
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Deep-merge config values: objects merge, lists and scalars replace. */
export function mergeConfig(base: StackConfigValues, over: StackConfigValues): StackConfigValues {
  const out: StackConfigValues = { ...base };
  for (const [k, v] of Object.entries(over)) {
    out[k] = isPlainObject(v) && isPlainObject(out[k]) ? mergeConfig(out[k] as StackConfigValues, v) : v;
  }
  return out;
}

/**
 * Recognisable fake values for every secret key a stack may need, derived from the
 * catalog (a supplied key with a shape gets its catalog example, the fake in place of
 * `<secret>`) and `SECRET_KEYS`. Tests search what was registered for these strings to
 * prove no secret leaks in clear text.
 */
export function fakeSecrets(project = "veza-secrets", catalog: readonly SecretSpec[] = CATALOG): Record<string, string> {
  const examples = new Map(catalog.flatMap((s) => (s.source.kind !== "generated" && s.source.example ? [[s.source.configKey, s.source.example] as const] : [])));
  const values: Record<string, string> = {};
  for (const k of secretConfigKeys(catalog)) {
    const fake = `FAKE-SECRET-${k}-5f3c9a`;
    values[`${project}:${k}`] = examples.get(k)?.replace(SECRET_PLACEHOLDER, fake) ?? fake;
  }
  return values;
}

/**
 * The fakes for the secret keys `values` does not set. A fake never stands in for a value
 * the stack file has: a secret pasted there in clear text must reach the program as such.
 */
export function fakesForMissing(values: StackConfigValues): Record<string, string> {
  return Object.fromEntries(Object.entries(fakeSecrets()).filter(([k]) => !(k in values)));
}

/** Outputs the mocks add on top of a resource's inputs, by type. */
const FAKE_OUTPUTS: Record<string, (name: string, inputs: Record<string, unknown>) => Record<string, unknown>> = {
  "random:index/randomPassword:RandomPassword": (name) => ({ result: `FAKE-GENERATED-${name}-0000000000000000000000000000000000000000000000` }),
  "aws:kms/key:Key": (name) => ({ arn: `arn:aws:kms:eu-west-1:123456789012:key/${name}`, keyId: name }),
  "aws:secretsmanager/secret:Secret": (name, i) => ({ arn: `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${String(i.name ?? name)}-AbCdEf` }),
  "aws:iam/role:Role": (name) => ({ arn: `arn:aws:iam::123456789012:role/${name}` }),
  "gcp:serviceaccount/account:Account": (name, i) => ({ email: `${String(i.accountId ?? name)}@${String(i.project ?? "project")}.iam.gserviceaccount.com` }),
  "azure-native:managedidentity:UserAssignedIdentity": (name) => ({ clientId: "11111111-1111-1111-1111-111111111111", principalId: `principal-${name}` }),
  "azure-native:keyvault:Vault": (name, i) => ({ properties: { ...(i.properties as object), vaultUri: `https://${String(i.vaultName ?? name)}.vault.azure.net/` } }),
};

function fakeId(type: string, name: string, inputs: Record<string, unknown>): string {
  const meta = inputs.metadata as { name?: string; namespace?: string } | undefined;
  if (type.startsWith("kubernetes:") && meta?.name) return meta.namespace ? `${meta.namespace}/${meta.name}` : meta.name;
  if (type === "azure-native:keyvault:Vault") {
    return `/subscriptions/22222222-2222-2222-2222-222222222222/resourceGroups/${String(inputs.resourceGroupName)}/providers/Microsoft.KeyVault/vaults/${String(inputs.vaultName ?? name)}`;
  }
  return `${name}-id`;
}

interface MonitorRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getCustom(): boolean;
  getDependenciesList(): string[];
  getProtect(): boolean;
  getRetainondelete(): boolean;
  getIgnorechangesList(): string[];
  getAdditionalsecretoutputsList(): string[];
  getProvider(): string;
  getObject(): { toJavaScript(): Record<string, unknown> };
}
interface Monitor {
  registerResource(req: MonitorRequest, cb: (err: unknown, resp?: { getUrn(): string }) => void): Promise<void>;
  registerResourceOutputs(req: { getUrn(): string; getOutputs(): { toJavaScript(): Record<string, unknown> } }, cb: (err: unknown, resp?: unknown) => void): void;
}

/** Turn a stack file's values into the `project:key` → string map the engine passes. */
export function engineConfig(values: StackConfigValues): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(values)) if (v !== undefined) out[k] = typeof v === "string" ? v : JSON.stringify(v);
  return out;
}

/**
 * Run the program for a stack under mocks and return what it registered. Rejects with
 * the program's own error (e.g. a `ConfigError`) if it fails.
 */
export async function runProgram(opts: RunOptions): Promise<ProgramRun> {
  const { run, error } = await tryRunProgram(opts);
  if (error) throw error;
  return run;
}

/** Like `runProgram`, but also returns what was registered when the program fails. */
export async function tryRunProgram(opts: RunOptions): Promise<{ run: ProgramRun; error?: Error }> {
  const values = mergeConfig(opts.config ?? stackConfig(opts.stack), opts.overrides ?? {});
  const secrets = opts.secrets ?? fakesForMissing(values);
  pulumi.runtime.setAllConfig({ ...engineConfig(values), ...secrets }, Object.keys(secrets));

  const resources: RecordedResource[] = [];
  const componentOutputs = new Map<string, Record<string, unknown>>();
  const calls: ProgramRun["calls"] = [];
  const answers = opts.calls ?? {};

  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        const extra = FAKE_OUTPUTS[args.type]?.(args.name, args.inputs) ?? {};
        return { id: fakeId(args.type, args.name, args.inputs), state: { ...args.inputs, ...extra } };
      },
      call: (args) => {
        calls.push({ token: args.token, inputs: args.inputs });
        const answer = answers[args.token];
        if (!answer) throw new Error(`unexpected provider function call ${args.token}: add it to the harness if the program should make it`);
        return answer(args.inputs);
      },
    },
    "veza-secrets",
    opts.stack,
    opts.preview ?? false,
  );

  // Record what the engine would receive: the mock monitor passes only type, name and
  // inputs on to `newResource`, so read parent, dependencies and options off the request.
  const monitor = pulumi.runtime.getMonitor() as unknown as Monitor;
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, cb) =>
    register(req, (err, resp) => {
      if (!err && resp) {
        resources.push({
          type: req.getType(),
          name: req.getName(),
          urn: resp.getUrn(),
          custom: req.getCustom(),
          parent: req.getParent(),
          inputs: req.getObject().toJavaScript(),
          dependencies: req.getDependenciesList(),
          protect: req.getProtect(),
          retainOnDelete: req.getRetainondelete(),
          ignoreChanges: req.getIgnorechangesList(),
          additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
          provider: req.getProvider(),
        });
      }
      cb(err, resp);
    });
  const registerOutputs = monitor.registerResourceOutputs.bind(monitor);
  monitor.registerResourceOutputs = (req, cb) => {
    componentOutputs.set(req.getUrn(), req.getOutputs()?.toJavaScript() ?? {});
    registerOutputs(req, cb);
  };

  // index.ts under tsx, index.js when the harness itself was compiled (the benchmark).
  const program = opts.program ?? require.resolve(path.join(__dirname, "..", "index"));
  let error: Error | undefined;
  // The program's error is caught inside the stack's init, as the language host reports it,
  // so that the stack resource itself completes and leaves no rejected promise behind.
  await pulumi.runtime.runInPulumiStack(async () => {
    try {
      if (typeof program === "function") return ((await Promise.resolve(program())) ?? {}) as Record<string, unknown>;
      delete require.cache[require.resolve(program)];
      return ((await Promise.resolve(require(program))) ?? {}) as Record<string, unknown>;
    } catch (e: unknown) {
      error = e instanceof Error ? e : new Error(String(e));
      return {};
    }
  });
  // Wait for registrations still in flight (exported by the SDK runtime, not in its typings).
  await (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();

  const stackUrn = resources.find((r) => r.type === "pulumi:pulumi:Stack")?.urn ?? "";
  const outputs = (stackUrn && componentOutputs.get(stackUrn)) || {};
  return { run: { stack: opts.stack, resources, outputs, componentOutputs, calls }, error };
}

/** The resource of `type` named `name`; throws listing what exists otherwise. */
export function findResource(run: ProgramRun, type: string, name: string): RecordedResource {
  const r = run.resources.find((x) => x.type === type && x.name === name);
  if (!r) {
    const same = run.resources.filter((x) => x.type === type).map((x) => x.name);
    throw new Error(`no ${type} named "${name}" (registered: ${same.join(", ") || "none"})`);
  }
  return r;
}

export function resourcesOfType(run: ProgramRun, type: string): RecordedResource[] {
  return run.resources.filter((r) => r.type === type);
}

/** Remove secret wrappers, e.g. to compare inputs to plain expected values. */
export function unwrapSecrets(value: unknown): unknown {
  if (isSecret(value)) return unwrapSecrets(value.value);
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrapSecrets(v)]));
  return value;
}

/**
 * Every place where `needle` occurs outside a secret wrapper, as `path` strings.
 * Empty means the value only ever travels as a Pulumi secret.
 */
export function plaintextOccurrences(value: unknown, needle: string, at = "$"): string[] {
  if (isSecret(value)) return [];
  if (typeof value === "string") return value.includes(needle) ? [at] : [];
  if (Array.isArray(value)) return value.flatMap((v, i) => plaintextOccurrences(v, needle, `${at}[${i}]`));
  if (isPlainObject(value)) return Object.entries(value).flatMap(([k, v]) => plaintextOccurrences(v, needle, `${at}.${k}`));
  return [];
}

/** A bare custom resource (type `test:index:Bare`), for tests and the benchmark's floor. */
export class BareResource extends pulumi.CustomResource {
  constructor(name: string, props: Record<string, unknown> = {}) {
    super("test:index:Bare", name, props);
  }
}
