/**
 * stacks/stack-traces.ts against the real SDK module that records the stacks
 * (`@pulumi/pulumi/runtime/debuggable`) and Node's real source maps from tsx. The whole
 * path (cmd/run, source-map-support, resource source positions) runs in
 * test/language-host.test.ts.
 */
import * as assert from "node:assert/strict";
import * as path from "node:path";
import * as debuggable from "@pulumi/pulumi/runtime/debuggable";
import { SKIPPED_STACK, isSdkPromiseStack, nodeSourceMap, skipSdkPromiseStacks } from "./stack-traces";

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
});
