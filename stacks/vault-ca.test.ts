/**
 * `vault.caCertFile`: the CA the program's Vault provider trusts. Checked once, up front,
 * so a wrong file stops `pulumi up` before anything is registered instead of failing every
 * Vault resource with "x509: certificate signed by unknown authority".
 */
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { VAULT_APP_VERSION } from "../components/vault/cluster-args";
import { ROOT, STACKS, findResource, stackConfig, tryRunProgram, type RecordedResource } from "../harness";
import { chartAppVersion } from "../test/schemas";
import { runVaultSlice } from "../harness/vault-slice";
import { caCertProblem } from "./ca-cert";
import { ConfigError } from "./config-model";
import { validatedConfig } from "./config-fixtures";

const P = "veza-secrets";

/** The stack's Vault provider as the stack layer builds it (harness/vault-slice.ts). */
async function vaultProvider(stack: string): Promise<RecordedResource> {
  return findResource(await runVaultSlice(stack), "pulumi:providers:vault", "vault");
}

function gitTopLevel(): string | undefined {
  try {
    return fs.realpathSync(execFileSync("git", ["rev-parse", "--show-toplevel"], { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim());
  } catch {
    return undefined;
  }
}

async function problems(stack: string, caCertFile: string) {
  const { run, error } = await tryRunProgram({ stack, overrides: { [`${P}:vault`]: { caCertFile } } });
  assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
  assert.deepEqual(
    run.resources.map((r) => r.type),
    ["pulumi:pulumi:Stack"],
    "nothing may be registered",
  );
  return error.problems;
}

describe("stack config: vault.caCertFile", () => {
  it("staging and production give the Vault provider the CA file as configured, relative to the project: the same input from every checkout", async () => {
    for (const stack of ["staging", "production"]) {
      const provider = await vaultProvider(stack);
      const configured = (stackConfig(stack)[`${P}:vault`] as { caCertFile: string }).caCertFile;
      // An absolute path would change with the checkout, and every preview would show the
      // provider (and so every Vault resource) as changed.
      assert.equal(provider.inputs.caCertFile, configured, stack);
      assert.equal(path.isAbsolute(configured), false, stack);
      // The provider runs in the project directory (the engine starts it there), where the file is a CA.
      assert.equal(caCertProblem(path.join(ROOT, configured)), undefined, stack);
    }
  });

  it("checks a relative file from the project directory, and registers it relative all the same", () => {
    const { config } = validatedConfig("staging", { [`${P}:vault`]: { caCertFile: "./certs/../certs/vault-ca.pem" } });
    assert.equal(config.vault?.caCertFile, "./certs/../certs/vault-ca.pem");
    // An absolute path is the user's choice, kept as given.
    const absolute = path.join(ROOT, "certs", "vault-ca.pem");
    assert.equal(validatedConfig("staging", { [`${P}:vault`]: { caCertFile: absolute } }).config.vault?.caCertFile, absolute);
  });

  it("every committed stack that needs a CA names one that Git tracks, so workflows and Pulumi Deployments check it out", function () {
    // A copy that is not its own Git checkout (Stryker's sandbox) has nothing to ask Git.
    if (gitTopLevel() !== fs.realpathSync(ROOT)) this.skip();
    for (const stack of STACKS) {
      const vault = stackConfig(stack)[`${P}:vault`] as { mode?: string; bootstrapped?: boolean; address?: string; caCertFile?: string } | undefined;
      if (!vault?.bootstrapped || !vault.address?.startsWith("https://")) continue;
      assert.ok(vault.caCertFile, `${stack}: vault.caCertFile`);
      const tracked = execFileSync("git", ["ls-files", "--error-unmatch", vault.caCertFile], { cwd: ROOT, encoding: "utf8" }).trim();
      assert.equal(tracked, vault.caCertFile);
    }
  });

  it("the provider needs no version probe and retries past a Vault that has just turned Ready", async () => {
    for (const stack of ["development", "production"]) {
      const provider = await vaultProvider(stack);
      assert.equal(provider.inputs.vaultVersionOverride, VAULT_APP_VERSION);
      assert.equal(VAULT_APP_VERSION, chartAppVersion("vault"), "the override is the version the chart installs");
      // Provider inputs travel JSON-encoded on the wire.
      assert.equal(Number(provider.inputs.maxRetries), 10);
    }
  });

  it("a missing file is named with where it was looked for, and the fix", async () => {
    assert.deepEqual(await problems("production", "certs/nope.pem"), [
      {
        key: "vault.caCertFile",
        message: `"certs/nope.pem" cannot be read (looked for ${path.join(ROOT, "certs", "nope.pem")}; a relative path is relative to the project folder)`,
        fix: "pulumi config set --path 'vault.caCertFile' '<vault-ca-file>' --stack production",
      },
    ]);
  });

  it("a file with no certificate, a server certificate instead of its CA, or a private key next to the CA is refused", async () => {
    const [none] = await problems("staging", "README.md");
    assert.equal(none.message, '"README.md" holds no PEM certificate (-----BEGIN CERTIFICATE-----)');
    const [leaf] = await problems("staging", "test/fixtures/certs/server-not-ca.pem");
    assert.match(leaf.message, /holds no CA certificate \(basicConstraints CA:TRUE\)/);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "veza-ca-"));
    const key = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    const withKey = path.join(dir, "ca-and-key.pem");
    fs.writeFileSync(withKey, fs.readFileSync(path.join(ROOT, "certs", "vault-ca.pem"), "utf8") + key);
    const [keyed] = await problems("staging", withKey);
    assert.match(keyed.message, /also holds a private key/);
    assert.ok(!keyed.message.includes("PRIVATE KEY-----\n"), "the key must not be printed");
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("a chain file (Vault's certificate, then its CA) is accepted; a block that does not parse is named with the parser's reason", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "veza-ca-"));
    try {
      const chain = path.join(dir, "chain.pem");
      const ca = fs.readFileSync(path.join(ROOT, "certs", "vault-ca.pem"), "utf8");
      fs.writeFileSync(chain, fs.readFileSync(path.join(ROOT, "test", "fixtures", "certs", "server-not-ca.pem"), "utf8") + ca);
      assert.equal(caCertProblem(chain), undefined);
      const broken = path.join(dir, "broken.pem");
      fs.writeFileSync(broken, `-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n${ca}`);
      assert.match(caCertProblem(broken) ?? "", /^holds a certificate that does not parse \(.+\)$/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("without it, a bootstrapped HA stack on https is warned that a private CA will fail", async () => {
    const warned: string[] = [];
    const warn = pulumi.log.warn;
    pulumi.log.warn = async (msg: string) => void warned.push(msg);
    try {
      const { run, error } = await tryRunProgram({ stack: "staging", overrides: { [`${P}:vault`]: { caCertFile: undefined } } });
      assert.equal(error, undefined);
      assert.equal(findResource(run, "pulumi:providers:vault", "vault").inputs.caCertFile, undefined);
    } finally {
      pulumi.log.warn = warn;
    }
    assert.ok(
      warned.some((w) => w.startsWith(`${P}:vault.caCertFile is not set`) && w.includes("x509: certificate signed by unknown authority")),
      `warnings: ${warned.join(" | ")}`,
    );
  });
});
