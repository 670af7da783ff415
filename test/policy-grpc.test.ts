/**
 * The policy pack as the Pulumi CLI runs it: policy/index.ts in its own process (constructing
 * the PolicyPack starts @pulumi/policy's gRPC analyzer server, which never exits on its own,
 * so it is never imported here), driven over gRPC with the engine's own messages. This checks
 * what the table tests cannot: that the pack loads, lists its policies with their levels, and
 * that the framework's deserialisation (secrets as the engine sends them, unknowns at preview)
 * reaches the policies as they expect.
 *
 * What it cannot show: the CLI's own steps (installing the pack, ts-node, which resources it
 * sends, when it runs stack policies). No Pulumi CLI here.
 */
import * as assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as analyzer from "@pulumi/pulumi/proto/analyzer_pb";
import { AnalyzerClient } from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import { POLICIES } from "../policy/policies";
import { ROOT, runProgram } from "../harness";
import { UNKNOWN_STRING } from "./policy-args";

type JsonObject = Parameters<typeof Struct.fromJavaScript>[0];

function resource(type: string, name: string, props: Record<string, unknown>, protect = false): analyzer.AnalyzerResource {
  return new analyzer.AnalyzerResource()
    .setType(type)
    .setName(name)
    .setUrn(`urn:pulumi:production::veza-secrets::${type}::${name}`)
    .setProperties(Struct.fromJavaScript(props as JsonObject))
    .setOptions(new analyzer.AnalyzerResourceOptions().setProtect(protect));
}

function done<T>(resolve: (v: T) => void, reject: (e: Error) => void): (err: grpc.ServiceError | null, res: T) => void {
  return (err, res) => (err ? reject(err) : resolve(res));
}

const SIG = "4dabf18193072939515e22adb298388d";
const RESOURCE_REF = "5cf8f73096256a8f31e491e813e4eb8e";

/**
 * The engine sends analyzers properties without resource references (it marshals them as the
 * resource's id, or URN for a component); the harness records references. Convert them.
 */
function withoutResourceRefs(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutResourceRefs);
  if (v === null || typeof v !== "object") return v;
  const o = v as Record<string, unknown>;
  if (o[SIG] === RESOURCE_REF) return typeof o.id === "string" && o.id !== "" ? o.id : o.urn;
  return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, withoutResourceRefs(x)]));
}

/**
 * The port a plugin announces. The CLI reads the first line of the plugin's stdout as its port
 * and gives up if it is not a number, so anything printed before the port is a failure, named
 * here at once; so are an exit, and silence past `limitMs`.
 */
export function announcedPort(child: ChildProcess, limitMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    const fail = (why: string) => {
      clearTimeout(timer);
      reject(new Error(`${why}\n--- stdout ---\n${out.slice(0, 2000)}\n--- stderr ---\n${err.slice(-2000)}`));
    };
    const timer = setTimeout(() => fail(`the policy pack announced no port within ${limitMs} ms`), limitMs);
    child.stdout?.on("data", (b: Buffer) => {
      out += b.toString();
      const newline = out.indexOf("\n");
      if (newline < 0) return;
      const first = out.slice(0, newline).trim();
      if (/^\d+$/.test(first)) {
        clearTimeout(timer);
        resolve(Number(first));
      } else {
        fail(
          `the policy pack printed ${JSON.stringify(first.slice(0, 200))} before its port: the Pulumi CLI reads the first line of stdout as the port and would fail to load it`,
        );
      }
    });
    child.stderr?.on("data", (b: Buffer) => (err += b.toString()));
    // close, not exit: by then everything it wrote has been read.
    child.on("close", (code, signal) => fail(`the policy pack exited (${code ?? signal}) before announcing a port`));
  });
}

const LEVEL = { [analyzer.EnforcementLevel.ADVISORY]: "advisory", [analyzer.EnforcementLevel.MANDATORY]: "mandatory" } as Record<number, string>;

function diagnostics(res: analyzer.AnalyzeResponse): { policy: string; level: string; message: string; urn: string }[] {
  return res.getDiagnosticsList().map((d) => ({ policy: d.getPolicyname(), level: LEVEL[d.getEnforcementlevel()], message: d.getMessage(), urn: d.getUrn() }));
}

describe("policy pack: served over gRPC, as the CLI runs it", function () {
  this.timeout(120_000);
  let child: ChildProcess;
  let client: AnalyzerClient;
  const analyze = (req: analyzer.AnalyzeRequest) => new Promise<analyzer.AnalyzeResponse>((res, rej) => client.analyze(req, done(res, rej)));
  const analyzeStack = (resources: analyzer.AnalyzerResource[]) =>
    new Promise<analyzer.AnalyzeResponse>((res, rej) => client.analyzeStack(new analyzer.AnalyzeStackRequest().setResourcesList(resources), done(res, rej)));
  const description = (name: string) => POLICIES.find((p) => p.name === name)!.description;

  before(async function () {
    // Below the hook's own timeout, so that a pack that never announces a port fails here,
    // with its output, and is stopped, instead of mocha abandoning the hook with it running.
    const startLimitMs = 60_000;
    this.timeout(startLimitMs + 10_000);
    // The CLI starts the pack in its folder (PolicyPack reads the version from ./package.json).
    child = spawn(process.execPath, ["-r", "tsx/cjs", "index.ts"], { cwd: path.join(ROOT, "policy"), stdio: ["ignore", "pipe", "pipe"] });
    const port = await announcedPort(child, startLimitMs).catch((e: unknown) => {
      child.kill("SIGKILL");
      throw e;
    });
    client = new AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  });

  after(() => {
    client?.close();
    child?.kill("SIGKILL");
  });

  it("announces every policy with its enforcement level", async () => {
    const info = await new Promise<analyzer.AnalyzerInfo>((res, rej) => client.getAnalyzerInfo(new Empty(), done(res, rej)));
    assert.equal(info.getName(), "veza-secrets");
    assert.deepEqual(
      info.getPoliciesList().map((p) => [p.getName(), LEVEL[p.getEnforcementlevel()]]),
      POLICIES.map((p) => [p.name, p.enforcementLevel]),
    );
  });

  it("fails a ConfigMap holding a password, as a mandatory diagnostic", async () => {
    const req = new analyzer.AnalyzeRequest()
      .setType("kubernetes:core/v1:ConfigMap")
      .setName("cm")
      .setUrn("urn:pulumi:production::veza-secrets::kubernetes:core/v1:ConfigMap::cm")
      .setProperties(Struct.fromJavaScript({ metadata: { name: "app" }, data: { "smtp-password": "hunter2" } }))
      .setOptions(new analyzer.AnalyzerResourceOptions());
    // The framework prefixes each message with the policy's description; the engine adds the URN.
    assert.deepEqual(diagnostics(await analyze(req)), [
      {
        policy: "configmap-no-plaintext-secrets",
        level: "mandatory",
        message: `${description("configmap-no-plaintext-secrets")}\nConfigMap "app" key "smtp-password" holds a secret in plain text: put it in the secret backend and let an ExternalSecret produce a Kubernetes Secret instead.`,
        urn: "",
      },
    ]);
  });

  it("turns a value unknown at preview into the framework's advisory note, after the definite violations", async () => {
    const req = new analyzer.AnalyzeRequest()
      .setType("kubernetes:rbac.authorization.k8s.io/v1:Role")
      .setName("r")
      .setUrn("urn:pulumi:production::veza-secrets::kubernetes:rbac.authorization.k8s.io/v1:Role::r")
      .setProperties(
        Struct.fromJavaScript({
          metadata: { name: "reader" },
          rules: [
            { apiGroups: [""], resources: ["secrets"], verbs: ["delete"] },
            { apiGroups: [""], resources: [UNKNOWN_STRING], verbs: ["get"] },
          ],
        }),
      )
      .setOptions(new analyzer.AnalyzerResourceOptions());
    const found = diagnostics(await analyze(req)).filter((d) => d.policy === "secrets-rbac-least-privilege");
    assert.deepEqual(
      found.map((d) => [d.level, d.message]),
      [
        [
          "mandatory",
          `${description("secrets-rbac-least-privilege")}\nRole "reader" rules[0] grants delete on secrets: only get and list are allowed (ESO writes the Secrets, workloads only read them).`,
        ],
        [
          "advisory",
          "can't run policy 'secrets-rbac-least-privilege' from policy pack 'veza-secrets@v0.1.0' during preview: string value at .rules.1.resources.0 can't be known during preview",
        ],
      ],
    );
  });

  it("passes the whole production stack, secrets wrapped as the engine sends them", async () => {
    const run = await runProgram({ stack: "production" });
    const resources = run.resources
      .filter((r) => r.type !== "pulumi:pulumi:Stack" && !r.type.startsWith("pulumi:providers:"))
      // The engine sends a resource's inputs as its props, components' included.
      .map((r) => resource(r.type, r.name, withoutResourceRefs(r.inputs) as Record<string, unknown>, r.protect));
    assert.deepEqual(
      diagnostics(await analyzeStack(resources)).map((d) => `${d.level} ${d.policy}`),
      [],
    );
  });

  it("fails an unprotected production Key Vault without purge protection", async () => {
    const stack = [
      resource("kubernetes:core/v1:Namespace", "ns", { metadata: { name: "veza-production", labels: { "veza.io/environment": "production" } } }, true),
      resource("azure-native:keyvault:Vault", "azure", { vaultName: "veza-production-kv", properties: { enableSoftDelete: true } }),
    ];
    const found = diagnostics(await analyzeStack(stack));
    assert.deepEqual(
      found.map((d) => [d.policy, d.level, d.urn]),
      [
        ["azure-key-vault-protection", "mandatory", "urn:pulumi:production::veza-secrets::azure-native:keyvault:Vault::azure"],
        ["production-stateful-protected", "mandatory", "urn:pulumi:production::veza-secrets::azure-native:keyvault:Vault::azure"],
      ],
    );
  });
});

describe("policy pack: reading the port it announces, as the CLI does", () => {
  const node = (script: string) => spawn(process.execPath, ["-e", script], { stdio: ["ignore", "pipe", "pipe"] });

  it("takes a first line that is a number", async () => {
    const child = node("console.log(4321); setTimeout(() => {}, 20000)");
    try {
      assert.equal(await announcedPort(child, 20_000), 4321);
    } finally {
      child.kill("SIGKILL");
    }
  });

  it("fails at once, naming it, when something prints before the port", async () => {
    const child = node("console.log('warning: something'); console.log(4321); setTimeout(() => {}, 20000)");
    const started = Date.now();
    try {
      await assert.rejects(announcedPort(child, 20_000), /printed "warning: something" before its port/);
      assert.ok(Date.now() - started < 15_000);
    } finally {
      child.kill("SIGKILL");
    }
  });

  it("fails within its limit when nothing is announced, and when the pack exits", async () => {
    const silent = node("setTimeout(() => {}, 20000)");
    try {
      await assert.rejects(announcedPort(silent, 300), /announced no port within 300 ms/);
    } finally {
      silent.kill("SIGKILL");
    }
    await assert.rejects(announcedPort(node("console.error('boom'); process.exit(3)"), 20_000), /exited \(3\) before announcing a port[\s\S]*boom/);
  });
});
