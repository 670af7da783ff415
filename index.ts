// The Veza secrets platform: one stack per environment. See README.md.
import { run } from "./stacks/program";
import { mapCompiledFrames, skipSdkPromiseStacks } from "./stacks/stack-traces";

// Before any resource: stack traces name TypeScript lines, and the SDK's per-promise stacks
// are not formatted (stacks/stack-traces.ts).
mapCompiledFrames();
skipSdkPromiseStacks();

export = run();
