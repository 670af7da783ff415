/**
 * Runs the real program offline, under Pulumi mocks, with a stack's real config file,
 * and records everything it registers. Used by the tests, `npm run plan` and
 * `npm run bench`; needs no Pulumi CLI, cluster, cloud account or credentials.
 *
 * What the mocks cannot show (pulumi/pulumi#XXXX-style limits, measured here):
 * `additionalSecretOutputs` is recorded but not applied, `transforms` are rejected,
 * and providers compute nothing: outputs are the inputs plus the fakes in `FAKES`, which
 * derive every identity from the inputs the program passed (region, account, names) and
 * differ per resource, so a fake can never make a wrong ARN or a shared identity look right.
 */
import { createHash } from "node:crypto";
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
  /** The id the mocks gave a custom resource (see `FAKES`); undefined for components. */
  id?: string;
  /** The outputs the mocks gave a custom resource: its inputs plus the computed fakes. */
  outputs?: Record<string, unknown>;
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
 * `<secret>`) and `SECRET_KEYS`, but not `vaultToken`: the committed stacks log in with jwt,
 * which refuses a stored token next to it (a test that needs one sets it). Tests search what
 * was registered for these strings to prove no secret leaks in clear text.
 */
export function fakeSecrets(project = "veza-secrets", catalog: readonly SecretSpec[] = CATALOG): Record<string, string> {
  const examples = new Map(catalog.flatMap((s) => (s.source.kind !== "generated" && s.source.example ? [[s.source.configKey, s.source.example] as const] : [])));
  const values: Record<string, string> = {};
  for (const k of secretConfigKeys(catalog)) {
    if (k === "vaultToken") continue;
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

/**
 * The account and subscription of the credentials the engine runs with: the program cannot
 * choose them, so they are values no stack file uses. A resource whose identity should carry
 * the stack's account gets it from the inputs the program passes (a key policy, a trust
 * policy, a KMS key ARN); if the program forgets it, the fake shows this one instead.
 */
export const FAKE_CALLER_ACCOUNT = "999999999999";
export const FAKE_SUBSCRIPTION = "22222222-2222-2222-2222-222222222222";
/** What a regional AWS resource gets when neither it nor its provider names a region. */
export const FAKE_UNSET_REGION = "region-not-set";

/** A stable hex digest of a resource's identity (type and name): distinct per resource. */
function digest(...parts: string[]): string {
  return createHash("sha256").update(parts.join("\u0000")).digest("hex");
}
/** A UUID-shaped value, stable per resource and purpose, distinct across resources. */
export function fakeUuid(...parts: string[]): string {
  const h = digest(...parts);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** What a fake may read besides the resource's own inputs: its provider's inputs. */
interface FakeContext {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
  provider: Record<string, unknown>;
}

/** The AWS account the inputs name (`arn:aws:<service>:<region>:<account>:`), else the caller's. */
function awsAccount(c: FakeContext): string {
  const m = /arn:aws:[a-z0-9-]+:[a-z0-9-]*:(\d{12}):/.exec(JSON.stringify(c.inputs));
  // Providers receive non-string settings JSON-encoded, as the engine passes them.
  const raw = c.provider.allowedAccountIds;
  const allowed: unknown = typeof raw === "string" ? JSON.parse(raw) : raw;
  return m?.[1] ?? (Array.isArray(allowed) && typeof allowed[0] === "string" ? allowed[0] : FAKE_CALLER_ACCOUNT);
}
/** The region the resource is created in: its own `region`, else its provider's. */
function awsRegion(c: FakeContext): string {
  return String(c.inputs.region ?? c.provider.region ?? FAKE_UNSET_REGION);
}

/**
 * Identities and outputs the mocks compute, by type, from what the program passed: ARNs from
 * the region and account in the inputs, ids and client ids distinct per resource. Returns the
 * id and the outputs added on top of the inputs.
 */
const FAKES: Record<string, (c: FakeContext) => { id: string; outputs?: Record<string, unknown> }> = {
  // The random provider's own id for every password.
  "random:index/randomPassword:RandomPassword": (c) => ({ id: "none", outputs: { result: `FAKE-GENERATED-${c.name}-0000000000000000000000000000000000000000000000` } }),
  "aws:kms/key:Key": (c) => {
    const keyId = fakeUuid(c.type, c.name);
    return { id: keyId, outputs: { keyId, arn: `arn:aws:kms:${awsRegion(c)}:${awsAccount(c)}:key/${keyId}` } };
  },
  "aws:secretsmanager/secret:Secret": (c) => {
    // AWS appends six random characters to the name; the id is the ARN.
    const arn = `arn:aws:secretsmanager:${awsRegion(c)}:${awsAccount(c)}:secret:${String(c.inputs.name ?? c.name)}-${digest(c.type, c.name).slice(0, 6)}`;
    return { id: arn, outputs: { arn } };
  },
  "aws:iam/role:Role": (c) => {
    const roleName = String(c.inputs.name ?? c.name);
    return { id: roleName, outputs: { arn: `arn:aws:iam::${awsAccount(c)}:role/${roleName}`, uniqueId: `AROA${digest(c.type, c.name).slice(0, 17).toUpperCase()}` } };
  },
  "gcp:serviceaccount/account:Account": (c) => {
    const project = String(c.inputs.project ?? c.provider.project ?? "project-not-set");
    const email = `${String(c.inputs.accountId ?? c.name)}@${project}.iam.gserviceaccount.com`;
    return { id: `projects/${project}/serviceAccounts/${email}`, outputs: { email, uniqueId: String(BigInt(`0x${digest(c.type, c.name).slice(0, 15)}`)) } };
  },
  "gcp:secretmanager/secret:Secret": (c) => {
    const project = String(c.inputs.project ?? c.provider.project ?? "project-not-set");
    return { id: `projects/${project}/secrets/${String(c.inputs.secretId)}` };
  },
  "azure-native:managedidentity:UserAssignedIdentity": (c) => ({
    id: `/subscriptions/${FAKE_SUBSCRIPTION}/resourceGroups/${String(c.inputs.resourceGroupName)}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${String(c.inputs.resourceName ?? c.name)}`,
    outputs: { clientId: fakeUuid(c.type, c.name, "client"), principalId: fakeUuid(c.type, c.name, "principal") },
  }),
  "azure-native:keyvault:Vault": (c) => {
    const vaultName = String(c.inputs.vaultName ?? c.name);
    return {
      id: `/subscriptions/${FAKE_SUBSCRIPTION}/resourceGroups/${String(c.inputs.resourceGroupName)}/providers/Microsoft.KeyVault/vaults/${vaultName}`,
      outputs: { properties: { ...(c.inputs.properties as object), vaultUri: `https://${vaultName}.vault.azure.net/` } },
    };
  },
};

/** The engine's marker for a value unknown during preview, as recorded inputs show it. */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** `inputs` with every value `outputs` would add or change replaced by an unknown, nested objects merged. */
function withUnknownOutputs(inputs: Record<string, unknown>, outputs: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...inputs };
  for (const [k, v] of Object.entries(outputs)) {
    out[k] = isPlainObject(v) && isPlainObject(inputs[k]) ? withUnknownOutputs(inputs[k] as Record<string, unknown>, Object.fromEntries(Object.entries(v).filter(([kk, vv]) => (inputs[k] as Record<string, unknown>)[kk] !== vv))) : UNKNOWN;
  }
  return out;
}

function fakeId(c: FakeContext): string {
  const meta = c.inputs.metadata as { name?: string; namespace?: string } | undefined;
  // The Kubernetes provider's ids: `namespace/name`, or `name` for cluster-scoped objects.
  if (c.type.startsWith("kubernetes:") && meta?.name) return meta.namespace ? `${meta.namespace}/${meta.name}` : meta.name;
  return `${c.name}-${digest(c.type, c.name).slice(0, 8)}`;
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
  const providerInputs = new Map<string, Record<string, unknown>>();
  const states = new Map<string, { id: string; state: Record<string, unknown> }>();

  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        const inputs = args.inputs as Record<string, unknown>;
        // A provider reference is `<urn>::<id>`; the provider's own inputs are kept by id.
        const provider = (args.provider && providerInputs.get(args.provider.split("::").pop() ?? "")) || {};
        const c: FakeContext = { type: args.type, name: args.name, inputs, provider };
        const fake = FAKES[args.type]?.(c);
        const id = fake?.id ?? fakeId(c);
        if (args.type.startsWith("pulumi:providers:")) providerInputs.set(id, inputs);
        // As `pulumi preview` shows a resource to be created: its inputs as given, every
        // computed output and the id unknown (providers' ids are known: the engine makes them).
        const preview = opts.preview === true && !args.type.startsWith("pulumi:providers:");
        const state = preview ? withUnknownOutputs(inputs, fake?.outputs ?? {}) : { ...inputs, ...fake?.outputs };
        states.set(`${args.type}::${args.name}`, { id: preview ? UNKNOWN : id, state });
        return { id: preview ? undefined : id, state };
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
          id: req.getCustom() ? states.get(`${req.getType()}::${req.getName()}`)?.id : undefined,
          outputs: req.getCustom() ? states.get(`${req.getType()}::${req.getName()}`)?.state : undefined,
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
