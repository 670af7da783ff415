// The Veza secrets platform: one stack per environment. See README.md.
import { run } from "./stacks/program";
import { mapCompiledFrames, skipSdkPromiseStacks } from "./stacks/stack-traces";

// Before any resource: stack traces name TypeScript lines, and the SDK's per-promise stacks
// are not formatted (stacks/stack-traces.ts).
mapCompiledFrames();
skipSdkPromiseStacks();

const outputs = run();
// @pulumi/pulumi/cmd/run awaits the exported promise only after an fs call, so a config error
// (rejected at once) would first count as unhandled and then end every failed run with Node's
// PromiseRejectionHandledWarning. Marking it handled here changes nothing else: cmd/run still
// awaits it and reports the error (test/plan-program-entry.test.ts).
outputs.catch(() => undefined);
export = outputs;
