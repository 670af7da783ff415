/**
 * What the real servers say about what the program made: the API server (admission,
 * SubjectAccessReview, TokenRequest) and Vault (its Kubernetes auth with the API server's own
 * tokens, the program's policies on real tokens). Each check records its evidence.
 */
import { SERVICES, serviceSecretName, serviceWorkloadName } from "../components/catalog";
import { policyDocument } from "../components/vault/policy-hcl";
import { ENVIRONMENTS } from "../stacks/schema";
import { type Kube, jobFromCronJob } from "./kube";
import type { Context } from "./run";
import type { VaultClient } from "./vault-client";

/** A Pod that Pod Security "restricted" admits, running as `serviceAccount`: only the program's own admission policy may refuse it. */
export function restrictedPod(name: string, serviceAccount: string): Record<string, unknown> {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name },
    spec: {
      serviceAccountName: serviceAccount,
      securityContext: { runAsNonRoot: true, runAsUser: 65534, seccompProfile: { type: "RuntimeDefault" } },
      containers: [
        {
          name: "app",
          image: "registry.example/app@sha256:0000000000000000000000000000000000000000000000000000000000000000",
          securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
        },
      ],
    },
  };
}

/** Server-side dry run of a Pod: `{ status, message }` (201 = admitted). */
export async function dryRunPod(kube: Kube, namespace: string, pod: Record<string, unknown>): Promise<{ status: number; message: string }> {
  const a = await kube.raw("POST", `/api/v1/namespaces/${namespace}/pods?dryRun=All`, pod);
  return { status: a.status, message: String(a.json.message ?? "") };
}

/** A TokenRequest for `serviceAccount` with `audiences` (10 min). */
export async function serviceAccountToken(kube: Kube, namespace: string, serviceAccount: string, audiences: string | string[]): Promise<string> {
  const r = await kube.call("POST", `/api/v1/namespaces/${namespace}/serviceaccounts/${serviceAccount}/token`, {
    apiVersion: "authentication.k8s.io/v1",
    kind: "TokenRequest",
    spec: { audiences: typeof audiences === "string" ? [audiences] : audiences, expirationSeconds: 600 },
  });
  return String((r.status as { token: string }).token);
}

/** Whether `user` may `verb` the Secret `name` in `namespace` (SubjectAccessReview). */
export async function canGetSecret(kube: Kube, user: string, namespace: string, name: string): Promise<boolean> {
  const r = await kube.call("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", {
    apiVersion: "authorization.k8s.io/v1",
    kind: "SubjectAccessReview",
    spec: {
      user,
      groups: ["system:serviceaccounts", `system:serviceaccounts:${namespace}`],
      resourceAttributes: { namespace, verb: "get", resource: "secrets", name },
    },
  });
  return (r.status as { allowed: boolean }).allowed;
}

/** The Kubernetes side, judged by the API server. */
export async function kubernetesChecks(ctx: Context, kube: Kube, node: Kube, env: string, ns: string, storeAccount: string): Promise<void> {
  const stack = `${env}:`;
  // Admission: the program's ValidatingAdmissionPolicy refuses a pod on the store's identity.
  const denied = await dryRunPod(kube, ns, restrictedPod("e2e-store-borrower", storeAccount));
  ctx.check(
    `${stack} admission refuses a pod running as ${storeAccount}`,
    denied.status >= 400 && denied.message.includes("ValidatingAdmissionPolicy"),
    `${denied.status} ${denied.message.slice(0, 240)}`,
  );
  const admitted = await dryRunPod(kube, ns, restrictedPod("e2e-service", serviceWorkloadName(SERVICES[0])));
  ctx.check(
    `${stack} admission admits a pod running as ${serviceWorkloadName(SERVICES[0])}`,
    admitted.status === 201,
    `${admitted.status} ${admitted.message.slice(0, 240)}`,
  );

  // Admission: a pod may mount a service's Secret (volume and envFrom) only as that service.
  const mounts: string[] = [];
  for (const service of SERVICES) {
    for (const other of SERVICES) {
      const p = restrictedPod(`e2e-mount-${service}-${other}`.slice(0, 63), serviceWorkloadName(service));
      const spec = p.spec as { volumes?: unknown[]; containers: Record<string, unknown>[] };
      spec.volumes = [{ name: "s", secret: { secretName: serviceSecretName(other) } }];
      spec.containers[0].envFrom = [{ secretRef: { name: serviceSecretName(other) } }];
      const a = await dryRunPod(kube, ns, p);
      const admitted = a.status === 201;
      if (admitted !== (other === service)) mounts.push(`${service} mounting ${serviceSecretName(other)}: ${a.status} ${a.message.slice(0, 160)}`);
    }
  }
  ctx.check(
    `${stack} admission: each service's pods mount its own Secret only (${SERVICES.length}×${SERVICES.length}, volume and envFrom)`,
    mounts.length === 0,
    mounts.join("; ") || "as designed",
  );

  // RBAC: each service may get its own Secret and no other service's.
  const wrong: string[] = [];
  for (const service of SERVICES) {
    const user = `system:serviceaccount:${ns}:${serviceWorkloadName(service)}`;
    for (const other of SERVICES) {
      const allowed = await canGetSecret(kube, user, ns, serviceSecretName(other));
      if (allowed !== (other === service)) wrong.push(`${service} → ${serviceSecretName(other)}: ${allowed ? "allowed" : "denied"}`);
    }
  }
  ctx.check(
    `${stack} SubjectAccessReview: each service reads its own Secret only (${SERVICES.length}×${SERVICES.length})`,
    wrong.length === 0,
    wrong.join("; ") || "as designed",
  );

  // Only a kubelet may mint the rotation job's token (the program's token guard): a person's
  // `kubectl create token secrets-rotation` is refused, a node's TokenRequest is not.
  const minted = await kube.raw("POST", `/api/v1/namespaces/${ns}/serviceaccounts/secrets-rotation/token`, {
    apiVersion: "authentication.k8s.io/v1",
    kind: "TokenRequest",
    spec: { audiences: [] },
  });
  ctx.check(
    `${stack} admission refuses a person's TokenRequest for secrets-rotation (only kubelets mint it)`,
    minted.status >= 400 && String(minted.json.message ?? "").includes("veza-job-token-guard"),
    `${minted.status} ${String(minted.json.message ?? "").slice(0, 240)}`,
  );
  // The rotation CronJob's pods, as the Job controller creates them, pass the pod guard (no
  // kubelet here: the pod is created and left Pending; the Job is then deleted).
  const cron = await kube.call("GET", `/apis/batch/v1/namespaces/${ns}/cronjobs/secrets-rotation`);
  const jobName = `secrets-rotation-e2e-${Date.now()}`;
  await kube.call("POST", `/apis/batch/v1/namespaces/${ns}/jobs`, jobFromCronJob(cron, jobName));
  let podNames: string[] = [];
  for (let i = 0; i < 40 && podNames.length === 0; i++) {
    const pods = await kube.call("GET", `/api/v1/namespaces/${ns}/pods?labelSelector=${encodeURIComponent(`batch.kubernetes.io/job-name=${jobName}`)}`);
    podNames = (pods.items as { metadata: { name: string } }[]).map((p) => p.metadata.name);
    if (podNames.length === 0) await new Promise((r) => setTimeout(r, 500));
  }
  const created = await kube.raw("GET", `/apis/batch/v1/namespaces/${ns}/jobs/${jobName}`);
  await kube.raw("DELETE", `/apis/batch/v1/namespaces/${ns}/jobs/${jobName}`, { propagationPolicy: "Background" });
  ctx.check(
    `${stack} the Job controller creates the rotation CronJob's pod (admitted by the pod guard as the Job controller)`,
    podNames.length > 0,
    podNames.join(", ") || `no pod within 20 s; Job status ${JSON.stringify(created.json.status ?? {}).slice(0, 200)}`,
  );

  // The rotation job's identity may set force-sync and change nothing else (admission policy).
  const rotationToken = await serviceAccountToken(node, ns, "secrets-rotation", []).catch((e: Error) => e.message);
  const es = `/apis/external-secrets.io/v1/namespaces/${ns}/externalsecrets/${serviceSecretName(SERVICES[0])}`;
  const asJob = kube.withToken(rotationToken);
  const annotate = await asJob.raw("PATCH", es, { metadata: { annotations: { "force-sync": `e2e-${Date.now()}` } } }, "application/merge-patch+json");
  ctx.check(
    `${stack} the rotation job's identity sets force-sync on ${serviceSecretName(SERVICES[0])}`,
    annotate.status === 200,
    `${annotate.status} ${String(annotate.json.message ?? "")}`,
  );
  const widen = await asJob.raw("PATCH", es, { spec: { refreshInterval: "1s" } }, "application/merge-patch+json");
  const relabel = await asJob.raw("PATCH", es, { metadata: { labels: { "e2e-relabel": "x" } } }, "application/merge-patch+json");
  ctx.check(
    `${stack} the rotation job's identity cannot change an ExternalSecret's spec or labels (admission policy)`,
    [widen, relabel].every((a) => a.status === 422 && String(a.json.message ?? "").includes("ValidatingAdmissionPolicy")),
    `spec: ${widen.status} ${String(widen.json.message ?? "").slice(0, 160)}; labels: ${relabel.status}`,
  );

  // TokenRequest: ESO's way of logging in as the store account.
  const token = await serviceAccountToken(kube, ns, storeAccount, "vault").catch((e: Error) => e.message);
  ctx.check(`${stack} TokenRequest for ${storeAccount} with audience vault`, token.split(".").length === 3, token.includes(".") ? "a JWT" : token);
}

/** Vault's Kubernetes auth, as ESO's store uses it, judged by Vault and the API server together. */
export async function vaultLoginChecks(
  ctx: Context,
  kube: Kube,
  vault: VaultClient,
  env: string,
  ns: string,
  storeAccount: string,
  keys: string[],
  reviewAudience?: string,
): Promise<void> {
  const stack = `${env}:`;
  const role = `eso-veza-${env}`;
  const login = async (jwt: string) => vault.withToken("").raw("POST", "auth/kubernetes/login", { role, jwt });
  // The audiences the program's SecretStore asks ESO for.
  const audiences = (first: string) => [first, ...(reviewAudience ? [reviewAudience] : [])];
  const good = await login(await serviceAccountToken(kube, ns, storeAccount, audiences("vault")));
  const clientToken = (good.json.auth as { client_token?: string } | undefined)?.client_token;
  ctx.check(
    `${stack} Vault logs ${storeAccount} in (token of audience vault, role ${role})`,
    good.status === 200 && !!clientToken,
    `${good.status} ${JSON.stringify(good.json.errors ?? (good.json.auth as { policies?: string[] })?.policies)}`,
  );
  if (clientToken) {
    const read = await vault.withToken(clientToken).raw("GET", `secret/data/veza/${env}`);
    const got = Object.keys(((read.json.data as { data?: Record<string, unknown> })?.data ?? {}) as object).sort();
    ctx.check(
      `${stack} the store's token reads veza/${env} with every stored key`,
      read.status === 200 && JSON.stringify(got) === JSON.stringify([...keys].sort()),
      `${read.status}: ${got.join(", ")}`,
    );
    const write = await vault.withToken(clientToken).raw("POST", `secret/data/veza/${env}`, { data: { x: "y" } });
    ctx.check(`${stack} the store's token cannot write veza/${env}`, write.status === 403, String(write.status));
  }
  if (reviewAudience) {
    // Why the program adds the API server's audience: without it the review, and so the login, fails.
    const vaultOnly = await login(await serviceAccountToken(kube, ns, storeAccount, ["vault"]));
    ctx.check(
      `${stack} an external Vault refuses a token of audience vault alone (its TokenReview needs the API server's audience)`,
      vaultOnly.status >= 400,
      `${vaultOnly.status} ${JSON.stringify(vaultOnly.json.errors)}`,
    );
  }
  const otherAudience = await login(await serviceAccountToken(kube, ns, storeAccount, audiences("not-vault")));
  ctx.check(
    `${stack} Vault refuses ${storeAccount}'s token of another audience`,
    otherAudience.status >= 400,
    `${otherAudience.status} ${JSON.stringify(otherAudience.json.errors)}`,
  );
  const other = serviceWorkloadName(SERVICES[0]);
  const otherAccount = await login(await serviceAccountToken(kube, ns, other, audiences("vault")));
  ctx.check(
    `${stack} Vault refuses another ServiceAccount (${other}) on ${role}`,
    otherAccount.status >= 400,
    `${otherAccount.status} ${JSON.stringify(otherAccount.json.errors)}`,
  );
}

/**
 * The 3×3 matrix: each environment's read policy, as the program writes it (`policyDocument`),
 * on a real token, reads its own path and neither of the other two. The probes live under
 * `e2e-matrix/`, beside the stack's own secret, which ESO is syncing meanwhile.
 */
export async function policyMatrixCheck(ctx: Context, root: VaultClient, label: string): Promise<void> {
  const wrong: string[] = [];
  for (const env of ENVIRONMENTS) {
    await root.call("POST", `secret/data/e2e-matrix/veza/${env}`, { data: { probe: env } });
    await root.call("PUT", `sys/policies/acl/e2e-matrix-${env}`, { policy: policyDocument({ kvMount: "secret", secretPath: `e2e-matrix/veza/${env}` }) });
  }
  for (const env of ENVIRONMENTS) {
    const t = await root.call("POST", "auth/token/create", { policies: [`e2e-matrix-${env}`], ttl: "10m", no_default_policy: true });
    const token = root.withToken(String((t.auth as { client_token: string }).client_token));
    for (const target of ENVIRONMENTS) {
      const status = (await token.raw("GET", `secret/data/e2e-matrix/veza/${target}`)).status;
      if ((status === 200) !== (env === target)) wrong.push(`${env} → ${target}: ${status}`);
    }
  }
  ctx.check(
    `${label}: each environment's read policy reads its own path only (3×3, real tokens)`,
    wrong.length === 0,
    wrong.join("; ") || "own 200, others 403",
  );
}

/** The program's `kubernetesSecrets` output: each Secret and its keys. */
export function kubernetesSecrets(outputs: Record<string, { value: unknown }>): { name: string; keys: string[] }[] {
  return (outputs.kubernetesSecrets?.value ?? []) as { name: string; keys: string[] }[];
}

/** What the ESO checks compare with: the program's Secrets, SecretStores and ExternalSecrets. */
export function esoOutputs(outputs: Record<string, { value: unknown }>): {
  secrets: { name: string; keys: string[] }[];
  secretStores: string[];
  externalSecrets: string[];
} {
  return {
    secrets: kubernetesSecrets(outputs),
    secretStores: (outputs.secretStores?.value ?? []) as string[],
    externalSecrets: (outputs.externalSecrets?.value ?? []) as string[],
  };
}

/** Every key the stack's Kubernetes Secrets carry (its `kubernetesSecrets` output), but those `except` (built by generators). */
export function externalSecretKeys(outputs: Record<string, { value: unknown }>, except: string[] = []): string[] {
  return [...new Set(kubernetesSecrets(outputs).flatMap((x) => x.keys))].filter((k) => !except.includes(k)).sort();
}
