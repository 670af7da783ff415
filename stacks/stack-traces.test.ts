/**
 * stacks/stack-traces.ts against the real SDK module that records the stacks
 * (`@pulumi/pulumi/runtime/debuggable`) and Node's real source maps from tsx. The whole
 * path (cmd/run, source-map-support, resource source positions) runs in
 * test/language-host.test.ts.
 */
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as debuggable from "@pulumi/pulumi/runtime/debuggable";
import { ROOT } from "../harness";
import { SKIPPED_STACK, isSdkPromiseStack, mapCompiledFrames, nodeSourceMap, skipSdkPromiseStacks } from "./stack-traces";

/** The SDK's recorder: `@internal`, so its declaration is not published. */
const { debuggablePromise } = debuggable as unknown as { debuggablePromise: <T>(p: Promise<T>, ctx: string) => Promise<T> };

/** Hand a promise to the SDK's recorder; the stack it stored on it, once settled. */
async function recorded(): Promise<unknown> {
  const input = Promise.resolve(1);
  await debuggablePromise(input, "test");
  return (input as unknown as { _debugStackTrace: unknown })._debugStackTrace;
}

describe("stacks/stack-traces: the SDK's per-promise stacks", () => {
  let saved: typeof Error.prepareStackTrace;
  let formatted: string[];
  beforeEach(() => {
    saved = Error.prepareStackTrace;
    formatted = [];
    // Stands for source-map-support's formatter: records which stacks it was asked for.
    Error.prepareStackTrace = (error, sites) => {
      formatted.push(sites[0]?.getFunctionName() ?? "");
      return `formatted: ${String(error)}`;
    };
  });
  afterEach(() => {
    Error.prepareStackTrace = saved;
  });

  it("the SDK's debuggablePromise stores the note, and the formatter is never asked for it", async () => {
    skipSdkPromiseStacks({});
    assert.equal(await recorded(), SKIPPED_STACK);
    assert.deepEqual(formatted, []);
  });

  it("every other stack still goes through the formatter it had", () => {
    skipSdkPromiseStacks({});
    function programCode(): string | undefined {
      return new Error("boom").stack;
    }
    assert.equal(programCode(), "formatted: Error: boom");
    assert.deepEqual(formatted, ["programCode"]);
  });

  it("with PULUMI_DEBUG_PROMISE_LEAKS set, the SDK's stacks are formatted as before", async () => {
    skipSdkPromiseStacks({ PULUMI_DEBUG_PROMISE_LEAKS: "1" });
    assert.equal(await recorded(), "formatted: Error");
    assert.deepEqual(formatted, ["debuggablePromise"]);
  });

  it("wraps once however often it is called, and leaves Node's own formatter alone", () => {
    skipSdkPromiseStacks({});
    const once = Error.prepareStackTrace;
    skipSdkPromiseStacks({});
    assert.equal(Error.prepareStackTrace, once);
    (Error as { prepareStackTrace?: unknown }).prepareStackTrace = undefined;
    skipSdkPromiseStacks({});
    assert.equal(Error.prepareStackTrace, undefined);
  });

  it("recognises the SDK's recorder by function and file, nothing else of that name", () => {
    const site = (fn: string, file: string) => ({ getFunctionName: () => fn, getFileName: () => file }) as unknown as NodeJS.CallSite;
    const sdk = path.join("x", "node_modules", "@pulumi", "pulumi", "runtime", "debuggable.js");
    assert.equal(isSdkPromiseStack([site("debuggablePromise", sdk)]), true);
    assert.equal(isSdkPromiseStack([site("debuggablePromise", path.join("x", "components", "debuggable.js"))]), false);
    assert.equal(isSdkPromiseStack([site("other", sdk)]), false);
    assert.equal(isSdkPromiseStack([]), false);
  });
});

describe("stacks/stack-traces: Node's source maps for source-map-support", () => {
  it("gives the map tsx registered for a loaded file, with sources as paths (not file:// URLs)", () => {
    const file = require.resolve("./stack-traces");
    const found = nodeSourceMap(file);
    assert.ok(found, `no source map for ${file}: is the test not running under tsx?`);
    const map = JSON.parse(found.map) as { sources: string[]; mappings: string };
    assert.equal(found.url, file);
    assert.deepEqual(map.sources, [file]);
    assert.ok(map.mappings.length > 0);
  });

  it("gives nothing for a file Node has no map of", () => {
    assert.equal(nodeSourceMap(path.join(__dirname, "no-such-file.ts")), null);
  });

  it("leaves a source that is not a file: URL as it is", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "veza-map-"));
    try {
      const file = path.join(dir, "bundled.js");
      const map = { version: 3, sources: ["webpack:///src/bundled.ts"], names: [], mappings: "AAAA" };
      fs.writeFileSync(file, `module.exports = 1;\n//# sourceMappingURL=data:application/json;base64,${Buffer.from(JSON.stringify(map)).toString("base64")}\n`);
      require(file);
      const found = nodeSourceMap(file);
      assert.ok(found, "Node keeps the map of a loaded file");
      assert.deepEqual((JSON.parse(found.map) as { sources: string[] }).sources, ["webpack:///src/bundled.ts"]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("stacks/stack-traces: mapCompiledFrames", () => {
  /**
   * A program compiled by tsx, run in a child: "map" and "plain" install the SDK's
   * source-map-support as `cmd/run` does, map the frames ("map") or not, and print the frame
   * of an error thrown at line 16; "unset" removes every formatter, maps, and prints the
   * formatter's type.
   */
  const FIXTURE = (root: string) => `import { createRequire } from "node:module";
import { mapCompiledFrames } from ${JSON.stringify(path.join(root, "stacks", "stack-traces"))};

/** Type-only lines, which the compiler drops: compiled and source lines differ. */
interface Dropped {
  a: number;
  b: string;
  c: boolean;
}
const sdkRequire = createRequire(createRequire(${JSON.stringify(path.join(root, "package.json"))}).resolve("@pulumi/pulumi"));
const mode = process.argv[2];
if (mode !== "unset") (sdkRequire("source-map-support") as { install(options?: object): void }).install({ environment: "node" });
else Reflect.deleteProperty(Error, "prepareStackTrace");
if (mode !== "plain") mapCompiledFrames();
function thrower(d?: Dropped): never {
  throw new Error(String(d));
}
if (mode === "unset") console.log(typeof Error.prepareStackTrace);
else {
  try {
    thrower();
  } catch (e) {
    console.log((e as Error).stack?.split("\\n")[1]);
  }
}
`;

  let dir: string;
  let file: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "veza-frames-"));
    file = path.join(dir, "frames.ts");
    fs.writeFileSync(file, FIXTURE(ROOT));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** What the child prints. Mutation testing switches a mutant on in this process only; the child gets it through the variable the instrumented code reads. */
  const run = (mode: "map" | "plain" | "unset"): string => {
    const mutant = (globalThis as { __stryker__?: { activeMutant?: string } }).__stryker__?.activeMutant;
    const env = { ...process.env, ...(mutant === undefined ? {} : { __STRYKER_ACTIVE_MUTANT__: mutant }) };
    return execFileSync(process.execPath, ["--import", "tsx", file, mode], { cwd: ROOT, encoding: "utf8", env }).trim();
  };

  it("with the SDK's source-map-support in charge, a frame names the TypeScript line, which it does not without", function () {
    this.timeout(60_000);
    // Here too (as index.ts does), so mutation testing's per-test coverage counts this test for the code the child runs.
    mapCompiledFrames();
    assert.match(run("map"), new RegExp(`^at thrower \\(${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:16:\\d+\\)$`));
    assert.doesNotMatch(run("plain"), /frames\.ts:16:/);
  });

  it("installs no formatter where there is none (Node's own then reads its maps)", function () {
    this.timeout(60_000);
    mapCompiledFrames();
    assert.equal(run("unset"), "undefined");
  });
});
