/**
 * Evaluate ValidatingAdmissionPolicy CEL with cel-go (the implementation the API server uses)
 * through the Go helper beside this file, built once per test run.
 */
import { execFileSync } from "node:child_process";
import * as os from "node:os";
import * as path from "node:path";

let celBinary: string | undefined;

/** For each case, each expression's result (a boolean, or "error: …"); `variables` are the policy's, evaluated first. */
export function evalCel(
  expressions: string[],
  cases: { object: unknown; oldObject?: unknown; params?: unknown; request: unknown }[],
  variables: { name: string; expression: string }[] = [],
): unknown[][] {
  if (!celBinary) {
    celBinary = path.join(os.tmpdir(), `veza-cel-${process.pid}`);
    execFileSync("go", ["build", "-o", celBinary, "."], { cwd: __dirname, stdio: ["ignore", "inherit", "inherit"] });
  }
  return JSON.parse(execFileSync(celBinary, { input: JSON.stringify({ variables, expressions, cases }), encoding: "utf8" })) as unknown[][];
}
