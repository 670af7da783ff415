/**
 * Runs a Pulumi program the way `pulumi up` does, minus the providers: the same node
 * process the Node.js language host (`pulumi-language-nodejs`) starts, with the project's
 * own `Pulumi.yaml` runtime options, talking real gRPC to a fake engine and resource
 * monitor in this process. The mock engine (`mock-engine.ts`) swaps the SDK's monitor for a mock
 * inside the program's own process and loads it with tsx; this does neither, so it sees
 * what the mocks cannot: how TypeScript is loaded, what the loader costs, what the program
 * sends over the wire.
 *
 * What the language host does, from pulumi-language-nodejs (sdk/nodejs/cmd/pulumi-language-nodejs)
 * and @pulumi/pulumi/cmd/run: it runs
 * `node <nodeargs> node_modules/@pulumi/pulumi/cmd/run --monitor … --engine … --project …
 * --stack … --root-directory … --pwd … [--dry-run] <main or ".">` in the project folder, with
 * `PULUMI_NODEJS_TYPESCRIPT` from the `typescript` option (default true), `PULUMI_CONFIG`
 * (every config value as a string, secrets decrypted) and `PULUMI_CONFIG_SECRET_KEYS`.
 * The fake monitor answers like the engine: URNs with the parent's qualified type chain,
 * inputs echoed back as outputs, ids for custom resources.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as yaml from "js-yaml";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import * as engrpc from "@pulumi/pulumi/proto/engine_grpc_pb";
import * as engproto from "@pulumi/pulumi/proto/engine_pb";
import * as resrpc from "@pulumi/pulumi/proto/resource_grpc_pb";
import * as resproto from "@pulumi/pulumi/proto/resource_pb";

/** The runtime options of a project's `Pulumi.yaml` that decide how node loads the program. */
export interface RuntimeOptions {
  typescript: boolean;
  nodeargs: string[];
  main?: string;
}

export function runtimeOptions(projectDir: string): RuntimeOptions {
  const doc = yaml.load(fs.readFileSync(path.join(projectDir, "Pulumi.yaml"), "utf8")) as {
    main?: string;
    runtime?: string | { name: string; options?: { typescript?: boolean; nodeargs?: string } };
  };
  const options = typeof doc.runtime === "object" ? (doc.runtime.options ?? {}) : {};
  return {
    // The host's default is true: TypeScript through ts-node.
    typescript: options.typescript ?? true,
    nodeargs: (options.nodeargs ?? "").split(/\s+/).filter(Boolean),
    main: doc.main,
  };
}

/** One RegisterResource the monitor received. */
export interface WireResource {
  type: string;
  name: string;
  urn: string;
  parent: string;
  custom: boolean;
  /** Inputs as sent; secrets keep the SDK's wire marker. */
  inputs: Record<string, unknown>;
  /**
   * Alias URNs as the SDK computed them (only when the run says `aliasSpecs: false`: the
   * SDK then resolves every alias, inherited parent aliases included, to URNs itself).
   */
  aliasUrns: string[];
  /** Where the SDK says the resource was created (`file://…` URI and line), as the engine shows it. */
  sourcePosition?: { uri: string; line: number };
}

export interface HostRun {
  exitCode: number | null;
  ms: number;
  /** Peak resident set of the program's process (its `process.resourceUsage().maxRSS`). */
  rssMb: number;
  /** CPU time (user + system) of the program's process: steadier than `ms` on a shared machine. */
  cpuMs: number;
  resources: WireResource[];
  /** `registerResourceOutputs` by URN (the stack's are the stack outputs). */
  outputs: Map<string, Record<string, unknown>>;
  /** Engine log messages (`pulumi.log`, errors the program reports), and the process's output. */
  logs: { severity: number; message: string }[];
  stdout: string;
  stderr: string;
  /** Absolute paths of every file the process loaded through `require`. */
  loadedFiles: string[];
}

export interface HostRunOptions {
  /** The project folder (with Pulumi.yaml and node_modules). */
  projectDir: string;
  project: string;
  stack: string;
  /** `project:key` → value, as the engine passes it (values are strings). */
  config: Record<string, string>;
  secretKeys: string[];
  preview?: boolean;
  /** Program path relative to the project (default: `main`, else "."). */
  program?: string;
  /** Extra environment (e.g. `PULUMI_NODEJS_TRANSPILE_ONLY`, `TMPDIR` for a cold cache). */
  env?: Record<string, string>;
  /** Kill the program after this long (default 5 minutes). */
  timeoutMs?: number;
  /**
   * Whether the fake monitor supports structured alias specs (default true, as today's
   * engine). With false the SDK computes alias URNs itself and sends them as strings, which
   * lets a test compare URNs without re-implementing the engine's alias rules.
   */
  aliasSpecs?: boolean;
}

const SUPPORTED = new Set(["secrets", "resourceReferences", "aliasSpecs", "deletedWith", "outputValues"]);

/** Qualified type of a URN: everything between the project and the name. */
function qualifiedType(urn: string): string {
  return urn.split("::")[2] ?? "";
}

/**
 * Start the fake engine, run the program in a child process as the language host would,
 * and return what it registered with time and peak RSS.
 */
export async function runLikeLanguageHost(opts: HostRunOptions): Promise<HostRun> {
  const resources: WireResource[] = [];
  const outputs = new Map<string, Record<string, unknown>>();
  const logs: HostRun["logs"] = [];
  let root = "";
  let nextId = 0;

  const server = new grpc.Server();
  const monitor: resrpc.IResourceMonitorServer = {
    getDeploymentInfo: (_call, cb) => cb({ code: grpc.status.UNIMPLEMENTED, details: "not in the fake engine" }),
    supportsFeature: (call, cb) => {
      const id = call.request.getId();
      const has = SUPPORTED.has(id) && !(id === "aliasSpecs" && opts.aliasSpecs === false);
      cb(null, new resproto.SupportsFeatureResponse().setHassupport(has));
    },
    invoke: (call, cb) => cb({ code: grpc.status.UNIMPLEMENTED, details: `unexpected invoke ${call.request.getTok()}` }),
    call: (call, cb) => cb({ code: grpc.status.UNIMPLEMENTED, details: `unexpected call ${call.request.getTok()}` }),
    readResource: (call, cb) => cb({ code: grpc.status.UNIMPLEMENTED, details: `unexpected read of ${call.request.getType()}` }),
    registerResource: (call, cb) => {
      const req = call.request;
      const parent = req.getParent();
      // The engine's rule: the parent's qualified type chain, except the stack's.
      const parentType = parent && qualifiedType(parent) !== "pulumi:pulumi:Stack" ? `${qualifiedType(parent)}$` : "";
      const urn = `urn:pulumi:${opts.stack}::${opts.project}::${parentType}${req.getType()}::${req.getName()}`;
      const inputs = (req.getObject()?.toJavaScript() ?? {}) as Record<string, unknown>;
      const pos = req.getSourceposition();
      resources.push({
        type: req.getType(),
        name: req.getName(),
        urn,
        parent,
        custom: req.getCustom(),
        inputs,
        aliasUrns: req.getAliasurnsList(),
        sourcePosition: pos ? { uri: pos.getUri(), line: pos.getLine() } : undefined,
      });
      const resp = new resproto.RegisterResourceResponse().setUrn(urn).setObject(Struct.fromJavaScript(inputs as Parameters<typeof Struct.fromJavaScript>[0]));
      if (req.getCustom()) resp.setId(opts.preview ? "" : `${req.getName()}-id-${nextId++}`);
      cb(null, resp);
    },
    registerResourceOutputs: (call, cb) => {
      outputs.set(call.request.getUrn(), (call.request.getOutputs()?.toJavaScript() ?? {}) as Record<string, unknown>);
      cb(null, new Empty());
    },
    registerStackTransform: (_call, cb) => cb({ code: grpc.status.UNIMPLEMENTED }),
    registerStackInvokeTransform: (_call, cb) => cb({ code: grpc.status.UNIMPLEMENTED }),
    registerResourceHook: (_call, cb) => cb({ code: grpc.status.UNIMPLEMENTED }),
    registerErrorHook: (_call, cb) => cb({ code: grpc.status.UNIMPLEMENTED }),
    registerPackage: (_call, cb) => cb(null, new resproto.RegisterPackageResponse().setRef(`package-${nextId++}`)),
    signalAndWaitForShutdown: (_call, cb) => cb(null, new Empty()),
  };
  const engine: engrpc.IEngineServer = {
    log: (call, cb) => {
      logs.push({ severity: call.request.getSeverity(), message: call.request.getMessage() });
      cb(null, new Empty());
    },
    getRootResource: (_call, cb) => cb(null, new engproto.GetRootResourceResponse().setUrn(root)),
    setRootResource: (call, cb) => {
      root = call.request.getUrn();
      cb(null, new engproto.SetRootResourceResponse());
    },
    startDebugging: (_call, cb) => cb(null, new Empty()),
    requirePulumiVersion: (_call, cb) => cb(null, new engproto.RequirePulumiVersionResponse()),
  };
  server.addService(resrpc.ResourceMonitorService, monitor);
  server.addService(engrpc.EngineService, engine);
  // Port 0: the kernel picks a free port and the server holds it from then on (no race).
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  const address = `127.0.0.1:${port}`;

  const rt = runtimeOptions(opts.projectDir);
  const runPath = require.resolve("@pulumi/pulumi/cmd/run", { paths: [opts.projectDir] });
  const report = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "veza-host-")), "report.json");
  const args = [
    ...rt.nodeargs,
    runPath,
    `--monitor=${address}`,
    `--engine=${address}`,
    "--organization=organization",
    `--project=${opts.project}`,
    `--stack=${opts.stack}`,
    `--root-directory=${opts.projectDir}`,
    `--pwd=${opts.projectDir}`,
    ...(opts.preview ? ["--dry-run"] : []),
    "--parallel=48",
    opts.program ?? rt.main ?? ".",
  ];
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    ...opts.env,
    PULUMI_NODEJS_TYPESCRIPT: String(rt.typescript),
    PULUMI_CONFIG: JSON.stringify(opts.config),
    PULUMI_CONFIG_SECRET_KEYS: JSON.stringify(opts.secretKeys),
    // Measurement only: report peak RSS and the loaded files at exit (no effect on loading).
    NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} --require ${path.join(__dirname, "report-on-exit.js")}`.trim(),
    VEZA_REPORT_FILE: report,
  };
  // The harness's own loader must not leak into the child: the host starts plain node.
  delete env.TSX_TSCONFIG_PATH;
  env.NODE_OPTIONS = env.NODE_OPTIONS.replace(/--(require|import)[= ]tsx(\/cjs)?/g, "").trim();

  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, args, { cwd: opts.projectDir, env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 300_000);
  const exitCode = await new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  clearTimeout(timer);
  const ms = Number((process.hrtime.bigint() - started) / 1_000_000n);
  server.forceShutdown();

  let rssMb = 0;
  let cpuMs = 0;
  let loadedFiles: string[] = [];
  if (fs.existsSync(report)) {
    const r = JSON.parse(fs.readFileSync(report, "utf8")) as { maxRssKb: number; cpuMs: number; files: string[] };
    rssMb = Math.round(r.maxRssKb / 1024);
    cpuMs = r.cpuMs;
    loadedFiles = r.files;
  }
  fs.rmSync(path.dirname(report), { recursive: true, force: true });
  return { exitCode, ms, rssMb, cpuMs, resources, outputs, logs, stdout, stderr, loadedFiles };
}
