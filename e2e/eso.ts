/**
 * The External Secrets Operator's controller, for real, against the e2e's API server and Vault:
 * it reconciles the SecretStores, ExternalSecrets and VaultDynamicSecret generators the program
 * made, and writes the Kubernetes Secrets the services mount.
 *
 * Built by `npm run e2e:tools` from `github.com/external-secrets/external-secrets` v0.16.2, the
 * only release the Go module proxy serves whole. The program pins chart 2.9.0, whose CRDs (the
 * vendored copies) are the ones applied; v0.16.2 reads the same `external-secrets.io/v1` and
 * `generators.external-secrets.io/v1alpha1` objects. Its GeneratorState CRD, which the
 * vendored set lacks, comes from the same module (copied next to the binary by the build).
 * It runs outside the cluster as the platform's install would inside it, with the admin's
 * kubeconfig (the chart's own RBAC is the platform's, not the program's), watching the stack's
 * namespace only. Its admission webhook is not run.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { load } from "js-yaml";
import type { ApiServer } from "./servers";
import { kubeconfig } from "./kube";
import { type Started, freePort, secondsSince, start, waitFor } from "./processes";
import type { Context } from "./run";
import { applyCrd } from "./crds";

/** The CRD the controller needs besides the program's: its GeneratorState controller always runs. */
export const ESO_EXTRA_CRD = "generators.external-secrets.io_generatorstates.yaml";

/** Start ESO's controller for `namespace`; resolves once it has started its informers. */
export async function startEso(bin: string, api: ApiServer, dir: string, logDir: string, namespace: string): Promise<Started> {
  const extra = join(dirname(bin), ESO_EXTRA_CRD);
  if (!existsSync(extra)) throw new Error(`${extra} is missing: rebuild with npm run e2e:tools -- external-secrets`);
  await applyCrd(api.admin, load(readFileSync(extra, "utf8")) as { metadata: { name: string } });
  const kc = join(dir, "eso.kubeconfig");
  writeFileSync(kc, kubeconfig("eso", api.url, api.caPem, api.adminToken), { mode: 0o600 });
  const p = start(
    `external-secrets-${namespace}`,
    bin,
    [
      `--namespace=${namespace}`,
      `--metrics-addr=127.0.0.1:${await freePort()}`,
      "--enable-cluster-store-reconciler=false",
      "--enable-cluster-external-secret-reconciler=false",
      "--enable-push-secret-reconciler=false",
      "--enable-cluster-push-secret-reconciler=false",
      "--concurrent=2",
      "--loglevel=info",
      "--zap-time-encoding=iso8601",
    ],
    logDir,
    { ...process.env, KUBECONFIG: kc },
  );
  await waitFor(
    "external-secrets controller started",
    async () => /Starting workers.*ExternalSecret|"controller":"externalsecret".*Starting workers/i.test(readFileSync(p.log, "utf8")),
    60_000,
    500,
    p,
  );
  return p;
}

/** A condition of an ESO object's status. */
export interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

/** The `Ready` condition of an object's status, if any. */
export function readyCondition(obj: Record<string, unknown>): Condition | undefined {
  const conditions = ((obj.status as { conditions?: Condition[] } | undefined)?.conditions ?? []) as Condition[];
  return conditions.find((c) => c.type === "Ready");
}

/** ESO for one stack's checks: started after `up`, kept through `destroy` (it removes what it wrote), then stopped. */
export function withEso(ctx: Context, api: ApiServer, dir: string, namespace: string): { start(): Promise<void>; running(): boolean; stop(): Promise<void> } {
  let p: Started | undefined;
  return {
    async start() {
      const bin = ctx.tools["external-secrets"];
      if (!bin) {
        ctx.summary.skipped.push({ what: `ESO's reconciliation in ${namespace}`, reason: "needs external-secrets (npm run e2e:tools -- external-secrets)" });
        return;
      }
      const t0 = Date.now();
      p = await startEso(bin, api, dir, ctx.logDir, namespace);
      ctx.summary.timings[`${namespace}: ESO started`] = secondsSince(t0);
    },
    running: () => p !== undefined && p.child.exitCode === null && p.child.signalCode === null,
    async stop() {
      await p?.stop();
    },
  };
}
