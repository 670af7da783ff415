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
 * It runs outside the cluster as the platform's install would inside it, with the stack's (admin)
 * kubeconfig (the chart's own RBAC is the platform's, not the program's), watching the stack's
 * namespace only. Its admission webhook (the same binary's `webhook` command) is registered
 * before `up` with the chart's ValidatingWebhookConfigurations, pointed at 127.0.0.1 instead of
 * the chart's Service, so every ExternalSecret and SecretStore the program writes passes it.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { load } from "js-yaml";
import type { ApiServer } from "./servers";
import { type Ca, makeServerCert } from "./pki";
import { type Started, freePort, secondsSince, start, waitFor } from "./processes";
import type { Context } from "./run";
import { applyCrd } from "./crds";
import type { StackEnv } from "./stack";

/** The CRD the controller needs besides the program's: its GeneratorState controller always runs. */
export const ESO_EXTRA_CRD = "generators.external-secrets.io_generatorstates.yaml";

/** Start ESO's controller for `namespace`; resolves once it has started its informers. */
export async function startEso(bin: string, api: ApiServer, kc: string, logDir: string, namespace: string): Promise<Started> {
  const extra = join(dirname(bin), ESO_EXTRA_CRD);
  if (!existsSync(extra)) throw new Error(`${extra} is missing: rebuild with npm run e2e:tools -- external-secrets`);
  await applyCrd(api.admin, load(readFileSync(extra, "utf8")) as { metadata: { name: string } });
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

/** The chart's two ValidatingWebhookConfigurations (validatingwebhook.yaml), with a URL where it has its Service. */
export function webhookConfigurations(url: string, caPem: string): Record<string, unknown>[] {
  const hook = (name: string, resources: string, scope: string, path: string) => ({
    name,
    rules: [{ apiGroups: ["external-secrets.io"], apiVersions: ["v1"], operations: ["CREATE", "UPDATE", "DELETE"], resources: [resources], scope }],
    clientConfig: { url: `${url}${path}`, caBundle: Buffer.from(caPem).toString("base64") },
    admissionReviewVersions: ["v1", "v1beta1"],
    sideEffects: "None",
    timeoutSeconds: 5,
    failurePolicy: "Fail",
  });
  return [
    {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingWebhookConfiguration",
      metadata: { name: "secretstore-validate" },
      webhooks: [
        hook("validate.secretstore.external-secrets.io", "secretstores", "Namespaced", "/validate-external-secrets-io-v1-secretstore"),
        hook("validate.clustersecretstore.external-secrets.io", "clustersecretstores", "Cluster", "/validate-external-secrets-io-v1-clustersecretstore"),
      ],
    },
    {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingWebhookConfiguration",
      metadata: { name: "externalsecret-validate" },
      webhooks: [hook("validate.externalsecret.external-secrets.io", "externalsecrets", "Namespaced", "/validate-external-secrets-io-v1-externalsecret")],
    },
  ];
}

/**
 * Start ESO's webhook (TLS from the e2e's CA, for localhost and 127.0.0.1) and register it as the
 * chart does; resolves once the API server refuses an ExternalSecret the webhook forbids.
 */
export async function startEsoWebhook(bin: string, api: ApiServer, kc: string, ca: Ca, dir: string, logDir: string): Promise<Started> {
  const certDir = join(dir, "eso-webhook-certs");
  mkdirSync(certDir, { recursive: true });
  const tls = makeServerCert(ca, "eso-webhook");
  copyFileSync(tls.cert, join(certDir, "tls.crt"));
  copyFileSync(tls.key, join(certDir, "tls.key"));
  copyFileSync(ca.cert, join(certDir, "ca.crt"));
  const port = await freePort();
  const p = start(
    "external-secrets-webhook",
    bin,
    [
      "webhook",
      `--port=${port}`,
      "--dns-name=localhost",
      `--cert-dir=${certDir}`,
      `--metrics-addr=127.0.0.1:${await freePort()}`,
      `--healthz-addr=127.0.0.1:${await freePort()}`,
      "--zap-time-encoding=iso8601",
    ],
    logDir,
    { ...process.env, KUBECONFIG: kc },
  );
  for (const c of webhookConfigurations(`https://127.0.0.1:${port}`, ca.pem)) {
    const name = (c.metadata as { name: string }).name;
    await api.admin.raw("DELETE", `/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/${name}`);
    await api.admin.call("POST", "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations", c);
  }
  // In force once the API server sends it a request and it answers (any namespace will do).
  await waitFor(
    "ESO's webhook in the API server's path",
    async () => /admission webhook "validate\.externalsecret/.test((await forbiddenExternalSecret(api, "default")).message),
    60_000,
    500,
    p,
  );
  return p;
}

/** A dry-run ExternalSecret ESO's webhook forbids (creationPolicy Merge with deletionPolicy Delete): the API server's answer. */
export async function forbiddenExternalSecret(api: ApiServer, namespace: string): Promise<{ status: number; message: string }> {
  const a = await api.admin.raw("POST", `/apis/external-secrets.io/v1/namespaces/${namespace}/externalsecrets?dryRun=All`, {
    apiVersion: "external-secrets.io/v1",
    kind: "ExternalSecret",
    metadata: { name: "e2e-merge-delete" },
    spec: {
      secretStoreRef: { name: "vault-store", kind: "SecretStore" },
      target: { name: "x", creationPolicy: "Merge", deletionPolicy: "Delete" },
      data: [{ secretKey: "k", remoteRef: { key: "k" } }],
    },
  });
  return { status: a.status, message: String(a.json.message ?? "") };
}

/** A condition of an ESO object's status. */
export interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

/** The `Ready` condition of an object's status, if any. */
export function readyCondition(obj: { status?: { conditions?: Condition[] } }): Condition | undefined {
  return obj.status?.conditions?.find((c) => c.type === "Ready");
}

/**
 * ESO for one stack's checks: started after `up`, kept through `destroy` (it removes what it
 * wrote), then stopped. Both processes use the stack's own kubeconfig (`s.env.KUBECONFIG`, the admin's).
 */
export function withEso(
  ctx: Context,
  api: ApiServer,
  ca: Ca,
  s: StackEnv,
  namespace: string,
): { webhook(): Promise<void>; start(): Promise<void>; running(): boolean; stop(): Promise<void> } {
  let p: Started | undefined;
  let hook: Started | undefined;
  return {
    /** Before `up`: the webhook, so every object the program writes passes it (after the CRDs). */
    async webhook() {
      const bin = ctx.tools["external-secrets"];
      if (!bin) return;
      const t0 = Date.now();
      hook = await startEsoWebhook(bin, api, String(s.env.KUBECONFIG), ca, s.dir, ctx.logDir);
      ctx.summary.timings[`${namespace}: ESO's webhook registered`] = secondsSince(t0);
      const refused = await forbiddenExternalSecret(api, "default");
      ctx.check(
        `${namespace}: ESO's webhook is in the API server's path before up (it refuses an ExternalSecret with creationPolicy Merge and deletionPolicy Delete)`,
        refused.status >= 400 && /admission webhook "validate\.externalsecret/.test(refused.message),
        `${refused.status} ${refused.message.slice(0, 200)}`,
      );
    },
    async start() {
      const bin = ctx.tools["external-secrets"];
      if (!bin) {
        ctx.summary.skipped.push({ what: `ESO's reconciliation in ${namespace}`, reason: "needs external-secrets (npm run e2e:tools -- external-secrets)" });
        return;
      }
      const t0 = Date.now();
      p = await startEso(bin, api, String(s.env.KUBECONFIG), ctx.logDir, namespace);
      ctx.summary.timings[`${namespace}: ESO started`] = secondsSince(t0);
    },
    running: () => p !== undefined && p.child.exitCode === null && p.child.signalCode === null,
    async stop() {
      await p?.stop();
      // The webhook's configurations go with it, or the API server would refuse every change to ESO's objects.
      for (const name of ["secretstore-validate", "externalsecret-validate"])
        if (hook) await api.admin.raw("DELETE", `/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/${name}`);
      await hook?.stop();
    },
  };
}
