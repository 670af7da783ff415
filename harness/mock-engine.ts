/**
 * Runs the real program offline, under Pulumi mocks, with a stack's real config file,
 * and records everything it registers. Used by the tests, `npm run plan` and
 * `npm run bench`; needs no Pulumi CLI, cluster, cloud account or credentials.
 *
 * What the mocks cannot show (measured here):
 * `additionalSecretOutputs` is recorded but not applied, `transforms` are rejected,
 * and providers compute nothing: outputs are the inputs plus the fakes in `FAKES`, which
 * derive every identity from the inputs the program passed (region, account, names) and
 * differ per resource, so a fake can never make a wrong ARN or a shared identity look right.
 *
 * SDK internals used here, and why (none is in the SDK's typings): the mock monitor returned
 * by `pulumi.runtime.getMonitor()` is wrapped to read parent, dependencies and options off
 * each request (the mocks pass only type, name and inputs to `newResource`), and
 * `pulumi.runtime.waitForRPCs()` waits for registrations still in flight. An SDK upgrade
 * that changes either fails every test at once, not silently.
 */
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { FAKES, type FakeContext, fakeId, withUnknownOutputs } from "./fakes";
import { type StackConfigValues, engineConfig, fakesForMissing, mergeConfig, stackConfig } from "./stack-files";
import { UNKNOWN } from "./wire";

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
  /** Aliases as sent (alias specs: `{ urn }` or `{ spec: { name, type, ... } }`, as protobuf objects). */
  aliases: Record<string, unknown>[];
  retainOnDelete: boolean;
  /** URN of the resource whose deletion makes this one's unnecessary (`deletedWith`), or "". */
  deletedWith: string;
  ignoreChanges: string[];
  additionalSecretOutputs: string[];
  /** Provider reference (`urn::id`), empty for the default provider. */
  provider: string;
  /** The id the mocks gave a custom resource (see `FAKES`); undefined for components. */
  id?: string;
  /** The outputs the mocks gave a custom resource: its inputs plus the computed fakes. */
  outputs?: Record<string, unknown>;
  /** A resource the program read (`.get`), not one it manages. */
  read?: boolean;
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
  /**
   * The warnings the program logged with `pulumi.log.warn`, in order. Without an engine the
   * SDK writes them to `console.warn` with a `warning: [runtime] ` prefix; the run takes them
   * from there, so a test can assert what `pulumi up` would show.
   */
  warnings: string[];
}

const WARNING_PREFIX = "warning: [runtime] ";

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

interface MonitorRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getCustom(): boolean;
  getDependenciesList(): string[];
  getProtect(): boolean;
  getAliasesList(): { toObject(): unknown }[];
  getRetainondelete(): boolean;
  getDeletedwith(): string;
  getIgnorechangesList(): string[];
  getAdditionalsecretoutputsList(): string[];
  getProvider(): string;
  getObject(): { toJavaScript(): Record<string, unknown> };
}
interface ReadRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getId(): string;
  getDependenciesList(): string[];
  getAdditionalsecretoutputsList(): string[];
  getProvider(): string;
}

interface Monitor {
  registerResource(req: MonitorRequest, cb: (err: unknown, resp?: { getUrn(): string }) => void): Promise<void>;
  readResource(req: ReadRequest, cb: (err: unknown, resp?: { getUrn(): string }) => void): Promise<void>;
  registerResourceOutputs(
    req: { getUrn(): string; getOutputs(): { toJavaScript(): Record<string, unknown> } },
    cb: (err: unknown, resp?: unknown) => void,
  ): void;
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
        const c: FakeContext = { type: args.type, name: args.name, inputs, provider, ...(args.id ? { id: args.id } : {}) };
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
          aliases: req.getAliasesList().map((a) => JSON.parse(JSON.stringify(a.toObject())) as Record<string, unknown>),
          retainOnDelete: req.getRetainondelete(),
          deletedWith: req.getDeletedwith(),
          ignoreChanges: req.getIgnorechangesList(),
          additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
          provider: req.getProvider(),
          id: req.getCustom() ? states.get(`${req.getType()}::${req.getName()}`)?.id : undefined,
          outputs: req.getCustom() ? states.get(`${req.getType()}::${req.getName()}`)?.state : undefined,
        });
      }
      cb(err, resp);
    });
  // Reads (`.get`) too, marked as such: the program depends on what it reads.
  const read = monitor.readResource.bind(monitor);
  monitor.readResource = (req, cb) =>
    read(req, (err, resp) => {
      if (!err && resp)
        resources.push({
          type: req.getType(),
          name: req.getName(),
          urn: resp.getUrn(),
          custom: true,
          read: true,
          parent: req.getParent(),
          inputs: {},
          dependencies: req.getDependenciesList(),
          protect: false,
          aliases: [],
          retainOnDelete: false,
          deletedWith: "",
          ignoreChanges: [],
          additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
          provider: req.getProvider(),
          id: req.getId(),
          outputs: states.get(`${req.getType()}::${req.getName()}`)?.state,
        });
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
  const warnings: string[] = [];
  const consoleWarn = console.warn;
  console.warn = (...args: unknown[]) => {
    const text = args.map(String).join(" ");
    if (text.startsWith(WARNING_PREFIX)) warnings.push(text.slice(WARNING_PREFIX.length));
    else consoleWarn(...args);
  };
  try {
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
  } finally {
    console.warn = consoleWarn;
  }

  const stackUrn = resources.find((r) => r.type === "pulumi:pulumi:Stack")?.urn ?? "";
  const outputs = (stackUrn && componentOutputs.get(stackUrn)) || {};
  return { run: { stack: opts.stack, resources, outputs, componentOutputs, calls, warnings }, error };
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

/** A bare custom resource (type `test:index:Bare`), for tests and the benchmark's floor. */
export class BareResource extends pulumi.CustomResource {
  constructor(name: string, props: Record<string, unknown> = {}) {
    super("test:index:Bare", name, props);
  }
}
