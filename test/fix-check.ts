/**
 * Apply a printed config fix the way a person would (pasted into a shell, run by the Pulumi
 * CLI: test/pulumi-cli.ts), then validate again: the CLI's own check before the program runs,
 * and the program's. Shared by the config tables (stacks/config-*.test.ts), so every rule's fix
 * is tested the same way.
 */
import * as assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { ROOT, fakeSecrets, stackConfig } from "../harness";
import { loadStackConfig } from "../stacks/config";
import { ConfigError, type ConfigProblem } from "../stacks/config-model";
import { fillPlaceholders, placeholderNames } from "../stacks/fixes";
import { applyLine, type StackFileConfig } from "./pulumi-cli";
import { PROJECT_FILE, engineView, preRunErrors } from "./pulumi-project";

const P = "veza-secrets";

/**
 * What the shell prints for the command substitutions a fix may use: random bytes as
 * `openssl rand -hex` prints them, a digest of `crane digest`'s shape (the model has no
 * registry), the committed example CA for `cat <file>.crt` and a kubeconfig's CA, and an API
 * server address for a kubeconfig's.
 */
export function substitute(command: string): string {
  let m = /^openssl rand -hex (\d+)$/.exec(command);
  if (m) return randomBytes(Number(m[1])).toString("hex");
  m = /^crane digest (\S+)$/.exec(command);
  if (m) return `sha256:${createHash("sha256").update(m[1]).digest("hex")}`;
  m = /^cat '?[^'\s]+\.(crt|pem)'?$/.exec(command);
  if (m) return fs.readFileSync(path.join(ROOT, "certs", "vault-ca.pem"), "utf8").trimEnd();
  // The API server's endpoint as pods reach it, as a CIDR (the jsonpath appends /32).
  if (command.startsWith("kubectl get endpointslices -n default -l kubernetes.io/service-name=kubernetes -o jsonpath=")) return "172.20.0.1/32";
  // A kubeconfig's API server address and CA, as kubectl prints them.
  if (command.startsWith("kubectl config view --minify -o jsonpath=")) return "https://203.0.113.10:6443";
  if (command.startsWith("kubectl config view --raw --minify -o jsonpath=") && command.endsWith("| base64 -d"))
    return fs.readFileSync(path.join(ROOT, "certs", "vault-ca.pem"), "utf8").trimEnd();
  throw new Error(`no stand-in for $(${command}): add one to test/fix-check.ts`);
}

/**
 * What a person types in place of each `<placeholder>` of a printed fix (stacks/fixes.ts,
 * `Placeholder`): values of the right shape, as the committed stacks and the README use them.
 * A fix with a placeholder cannot run as printed; the checks run it as a person would, filled.
 */
export const STAND_INS: Record<string, string> = {
  "vault-host": "vault.veza.internal",
  "aws-region": "eu-west-1",
  "aws-account-id": "123456789012",
  "kms-key-id": "alias/veza-production-vault-unseal",
  "vault-unseal-role": "veza-production-vault-unseal",
  "eks-oidc-id": "EXAMPLED539D4633E53DE1B71EXAMPLE",
  "gcp-project-id": "veza-prod",
  "gcp-region": "europe-west1",
  "gke-cluster-name": "veza",
  "gke-cluster-location": "europe-west1",
  "key-ring": "veza-vault",
  "crypto-key": "vault-unseal",
  "vault-service-account": "veza-vault",
  "azure-tenant-id": "00000000-0000-0000-0000-000000000000",
  "azure-client-id": "00000000-0000-0000-0000-000000000000",
  "azure-subscription-id": "00000000-0000-0000-0000-000000000000",
  "azure-location": "westeurope",
  "resource-group": "veza",
  "log-analytics-workspace": "veza-audit",
  "aks-oidc-issuer-url": "https://westeurope.oic.prod-aks.azure.com/00000000-0000-0000-0000-000000000000/00000000-0000-0000-0000-000000000000/",
  "allowed-ip-range": "203.0.113.0/24",
  "key-vault-name": "veza-unseal-kv",
  "key-name": "vault-unseal",
  "github-repository-id": "123456789",
  "deployer-cidr": "10.20.0.0/24",
  "deployer-namespace": "ingress-nginx",
  "vault-ca-file": "certs/vault-ca.pem",
  "api-server-issuer": "https://kubernetes.default.svc.cluster.local",
  "issuer-name": "veza-webhook-ca",
  "registry-host": "registry.example.com",
  path: "helm",
  "vault-chart-dir": "charts/vault",
  "external-secrets-chart-dir": "charts/external-secrets",
  "reloader-chart-dir": "charts/reloader",
  "postgres-host": "postgres.veza.internal",
  "postgres-ca-file": "postgres-ca.crt",
  "ca-file-in-pods": "/etc/veza/postgres/ca.crt",
  provider: "vault",
  "storage-class": "gp3",
  "snapshot-bucket": "veza-vault-snapshots",
  image: "amazon/aws-cli:2.27.0",
  digest: "0000000000000000000000000000000000000000000000000000000000000000",
  "service-account": "veza-snapshots",
  project: "veza-prod",
  "storage-account": "vezasnapshots",
  container: "vault-snapshots",
  "managed-identity-client-id": "00000000-0000-0000-0000-000000000000",
};

/** `text` with each placeholder replaced by its stand-in; an unknown placeholder is a gap in `STAND_INS`. */
export function fill(text: string): string {
  return fillPlaceholders(text, (name) => {
    if (!(name in STAND_INS)) throw new Error(`no stand-in for <${name}>: add one to STAND_INS in test/fix-check.ts`);
    return STAND_INS[name];
  });
}

/** The CLI's prompt, answered with a value of the right shape (the catalog's fake; for `vaultToken`, which has none, a token's). */
export const prompt = (key: string, secret: boolean): string | undefined =>
  secret ? (fakeSecrets()[key] ?? `FAKE-SECRET-${key.replace(/^.*:/, "")}-5f3c9a`) : undefined;

/**
 * One fix as the model applied it: the stack file before and after, what the shell and the
 * prompt answered. `fix` is what ran: the printed fix with its placeholders filled (`printed`).
 */
export interface FixRecord {
  stack: string;
  before: StackFileConfig;
  fix: string;
  printed: string;
  after: StackFileConfig;
  substitutions: Record<string, string>;
  prompts: Record<string, string>;
}

export interface FixRow {
  stack: string;
  /** Config keys over the committed stack file; undefined removes one. */
  overrides: Record<string, unknown>;
  /** Secrets, by full key; default the fakes. */
  secrets?: Record<string, string>;
}

/** The stack file a row describes, as the CLI holds it (secrets as `{ secure }`). */
export function stackFile(row: FixRow): StackFileConfig {
  const config: StackFileConfig = structuredClone(stackConfig(row.stack));
  for (const [k, v] of Object.entries(row.overrides)) {
    if (v === undefined) delete config[k];
    else config[k] = structuredClone(v);
  }
  for (const [k, v] of Object.entries(row.secrets ?? fakeSecrets())) config[k] = { secure: v };
  return config;
}

/** Apply `line` to `file` with the CLI's rules; the stacks it names. */
function apply(file: StackFileConfig, line: string, substitutions: Record<string, string>, prompts: Record<string, string>): string[] {
  return applyLine(file, line, {
    project: P,
    prompt: (key, secret) => {
      const answer = prompt(key, secret);
      if (answer !== undefined) prompts[key] = answer;
      return answer;
    },
    substitute: (command) => (substitutions[command] = substitute(command)),
  });
}

/** The program's problems with a stack file, or the CLI's refusal to run it. */
function validate(stack: string, file: StackFileConfig): { cli: string[]; problems: ConfigProblem[] } {
  const cli = preRunErrors(stack, file, PROJECT_FILE);
  try {
    loadStackConfig(engineView(file), stack);
    return { cli, problems: [] };
  } catch (e) {
    if (e instanceof ConfigError) return { cli, problems: e.problems };
    throw e;
  }
}

/**
 * A fix pasted without filling its placeholders must not pass for a fix: the CLI refuses it,
 * or the program does (naming the placeholder, or refusing what a command of the fix printed
 * for a file that is not there).
 */
function assertRefusedUnfilled(row: FixRow, fix: string): void {
  const file = stackFile(row);
  try {
    // A command substitution that reads a placeholder's file prints nothing (cat fails).
    applyLine(file, fix, { project: P, prompt, substitute: (command) => (placeholderNames(command).length ? "" : substitute(command)) });
  } catch {
    return; // the CLI refuses the marked value (e.g. --type int '<...>')
  }
  const { cli, problems } = validate(row.stack, file);
  assert.ok(cli.length + problems.length > 0, `pasted with its placeholders, the fix passes for a real one: ${fix}`);
}

/** The problems left once `fix` is applied (its placeholders filled as a person would); asserts the CLI accepts it. */
export function problemsAfterFix(row: FixRow, printed: string): ConfigProblem[] {
  if (placeholderNames(printed).length) assertRefusedUnfilled(row, printed);
  const fix = fill(printed);
  const file = stackFile(row);
  const before = structuredClone(file);
  const substitutions: Record<string, string> = {};
  const prompts: Record<string, string> = {};
  const stacks = apply(file, fix, substitutions, prompts);
  // `npm run e2e` replays every fix the tests apply with the real CLI (e2e/cli-agreement.ts).
  if (process.env.VEZA_RECORD_FIXES)
    fs.appendFileSync(
      process.env.VEZA_RECORD_FIXES,
      `${JSON.stringify({ stack: row.stack, before, fix, printed, after: file, substitutions, prompts } satisfies FixRecord)}\n`,
    );
  assert.deepEqual([...new Set(stacks)], [row.stack], "every command names the stack");
  const { cli, problems } = validate(row.stack, file);
  assert.deepEqual(cli, [], "the CLI's own check before the program runs");
  return problems;
}
