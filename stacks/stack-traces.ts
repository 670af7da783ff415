/**
 * Stack traces under the language host, where `@pulumi/pulumi/cmd/run` has installed
 * source-map-support as `Error.prepareStackTrace` and `tsx` (Pulumi.yaml's `nodeargs`)
 * compiles the TypeScript in memory. Two fixes, both made once before the first resource:
 *
 * 1. **Lines in the TypeScript files.** tsx keeps its source maps in Node's own cache
 *    (`module.findSourceMap`), which source-map-support does not read: it looks for a map next
 *    to the file on disk, finds none, and prints esbuild's output positions (`config.ts:2:852`
 *    for a line-60 error). The same text is what the SDK parses for each resource's source
 *    position. `mapCompiledFrames` gives source-map-support Node's maps through its documented
 *    `install({ retrieveSourceMap })`.
 * 2. **No work nobody reads.** For every output property of every resource,
 *    `@pulumi/pulumi/runtime/debuggable.js` (`debuggablePromise`) stores `new Error().stack`
 *    on a promise, and reading `.stack` source-maps every frame. The SDK prints that text only
 *    when `PULUMI_DEBUG_PROMISE_LEAKS` is set. Production makes about 6,000 of them, 0.8–1.2 s
 *    of a 4–6 s load (measured by timing `Error.prepareStackTrace` per caller, docs/testing.md).
 *    `skipSdkPromiseStacks` stores a short note there instead; every other stack (the
 *    program's errors, the SDK's source positions) is formatted as before.
 *
 * Both fail safe: without source-map-support or a formatter they do nothing, and if a later
 * SDK records its stacks elsewhere the program is only slower (`stacks/stack-traces.test.ts`
 * notices).
 */
import { createRequire, findSourceMap } from "node:module";
import { fileURLToPath } from "node:url";

/** The part of source-map-support's API used here (its `install`). */
interface SourceMapSupport {
  install(options: { retrieveSourceMap: (source: string) => { url: string; map: string } | null }): void;
}

/** The function of the SDK that records a stack per promise. */
const SDK_RECORDER = /[\\/]@pulumi[\\/]pulumi[\\/]runtime[\\/]debuggable\.js$/;

/** What the SDK stores instead of the skipped stack. */
export const SKIPPED_STACK = "(stack not recorded: set PULUMI_DEBUG_PROMISE_LEAKS=1 to record it)";

type PrepareStackTrace = (error: Error, sites: NodeJS.CallSite[]) => unknown;

/** True when the stack being formatted is the one `debuggablePromise` records. */
export function isSdkPromiseStack(sites: readonly NodeJS.CallSite[]): boolean {
  const top = sites[0];
  return top !== undefined && top.getFunctionName() === "debuggablePromise" && SDK_RECORDER.test(String(top.getFileName()));
}

/**
 * Wrap the current `Error.prepareStackTrace` so the SDK's promise stacks are not formatted.
 * Does nothing when `PULUMI_DEBUG_PROMISE_LEAKS` is set, when no formatter is installed (then
 * Node's own one stays in charge), or when called twice.
 */
export function skipSdkPromiseStacks(env: NodeJS.ProcessEnv = process.env): void {
  if (env.PULUMI_DEBUG_PROMISE_LEAKS) return;
  const current = Error.prepareStackTrace as (PrepareStackTrace & { skipsSdkPromiseStacks?: true }) | undefined;
  if (!current || current.skipsSdkPromiseStacks) return;
  const wrapped = (error: Error, sites: NodeJS.CallSite[]): unknown => (isSdkPromiseStack(sites) ? SKIPPED_STACK : current(error, sites));
  Error.prepareStackTrace = Object.assign(wrapped, { skipsSdkPromiseStacks: true as const });
}

/** Node's source map of a loaded file (tsx registers one per compiled file), as JSON. */
export function nodeSourceMap(file: string): { url: string; map: string } | null {
  const map = findSourceMap(file);
  if (!map) return null;
  // tsx names its sources as file:// URLs, which source-map-support would resolve as paths
  // relative to the file's folder.
  const sources = map.payload.sources.map((s) => (s.startsWith("file:") ? fileURLToPath(s) : s));
  return { url: file, map: JSON.stringify({ ...map.payload, sources }) };
}

/**
 * Let the source-map-support that `@pulumi/pulumi` registered read Node's source maps. Does
 * nothing when no formatter is installed (Node's own then reads its maps) or when the SDK's
 * copy cannot be found.
 */
export function mapCompiledFrames(): void {
  if (!Error.prepareStackTrace) return;
  let support: SourceMapSupport;
  try {
    const sdkRequire = createRequire(require.resolve("@pulumi/pulumi"));
    support = sdkRequire("source-map-support") as SourceMapSupport;
  } catch {
    return;
  }
  support.install({ retrieveSourceMap: nodeSourceMap });
}
