/**
 * Issue 30 #9: a config error under the real CLI ended with Node's
 * `PromiseRejectionHandledWarning`. index.ts exports the program's promise; cmd/run awaits it
 * only after an fs call, so a promise rejected at once (bad config) counted as unhandled first
 * and handled later. The program run as the language host runs it (harness/language-host.ts)
 * must report the config error once, exit as the host expects, and print no such warning.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ROOT, engineConfig, fakesForMissing, stackConfig } from "../harness";
import { runLikeLanguageHost } from "../harness/language-host";

describe("the program's entry under the language host (issue 30 #9)", function () {
  this.timeout(300_000);

  it("a config error is reported once, with the host's exit code, and no PromiseRejectionHandledWarning", async () => {
    const values = { ...stackConfig("development"), "veza-secrets:eso": { replicas: "many" } };
    const fakes = fakesForMissing(values);
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "veza-entry-"));
    const run = await runLikeLanguageHost({
      projectDir: ROOT,
      project: "veza-secrets",
      stack: "development",
      config: { ...engineConfig(values), ...fakes },
      secretKeys: Object.keys(fakes),
      env: { TMPDIR: tmp },
      timeoutMs: 240_000,
    });
    fs.rmSync(tmp, { recursive: true, force: true });
    assert.doesNotMatch(run.stderr, /PromiseRejectionHandledWarning|rejection was handled asynchronously/);
    // 32: cmd/run's "error already shown to the user" exit, after which the host prints nothing more.
    assert.equal(run.exitCode, 32, run.stderr);
    const errors = run.logs.filter((l) => l.severity >= 3).map((l) => l.message);
    assert.equal(errors.length, 1, errors.join("\n---\n"));
    assert.match(
      errors[0],
      /^Stack "development" has a config problem \(Pulumi\.development\.yaml\); nothing was created:\n {2}- veza-secrets:eso\.replicas: /,
    );
    // Nothing but the stack itself was registered.
    assert.deepEqual(
      run.resources.map((r) => r.type),
      ["pulumi:pulumi:Stack"],
    );
  });
});
