/**
 * The spec's rotation CronJob (`secrets-rotation`): on a schedule, force-sync the
 * environment's ExternalSecrets (the `force-sync` annotation), so every Secret is re-read
 * from its backend at a known time. It restarts nothing: ESO does not restart pods
 * (external-secrets#3218), Stakater Reloader does, once ESO has written a changed Secret, and
 * only the Deployments that exist and opted in. A restart from this Job would race ESO (the
 * annotation returns before ESO re-reads anything, so pods could restart onto stale values),
 * fail every night on a fresh cluster whose services are not deployed yet, and need `patch`
 * on Deployments, which is control of their image, command and ServiceAccount. Its
 * ServiceAccount may only get and patch the named ExternalSecrets in its own namespace, and a
 * ValidatingAdmissionPolicy narrows `patch` to what the Job does: as that ServiceAccount, an
 * update may change the `force-sync` annotation and nothing else (not the spec, which says
 * which backend key lands in which Secret; not labels, other annotations, finalizers or
 * owners). RBAC cannot say that; without the policy, whoever holds the Job's token could point
 * an ExternalSecret at another path.
 */
import * as k8sCore from "@pulumi/kubernetes/core/v1";
import * as k8sRbac from "@pulumi/kubernetes/rbac/v1";
import * as k8sBatch from "@pulumi/kubernetes/batch/v1";
import * as k8sAdmission from "@pulumi/kubernetes/admissionregistration/v1";
import type * as k8sInput from "@pulumi/kubernetes/types/input";
import { Provider } from "@pulumi/kubernetes/provider";
import * as pulumi from "@pulumi/pulumi";
import { cronMessage, cronProblem } from "../cron";
import { namespaceBinding } from "../cluster/admission-binding";

/**
 * Official kubectl image, pinned by tag and digest (the multi-architecture index). Distroless:
 * no shell, so commands are plain argv. Not fetched from a registry here (none is reachable
 * from this machine): it is the digest five independent public projects pin for this tag.
 * Check it when bumping: `crane digest registry.k8s.io/kubectl:<tag>`.
 */
export const KUBECTL_IMAGE = "registry.k8s.io/kubectl:v1.34.1@sha256:59bafa07ff3a6d4b417e7633ddb9d79a9606ca98bf64bac080b3e65748669250";

export interface RotationJobArgs {
  /** Namespace of the ExternalSecrets and deployments. Created by the caller. */
  namespace: pulumi.Input<string>;
  /**
   * The CronJob's schedule as Kubernetes parses it (components/cron.ts): five fields such as
   * `0 3 * * *`, or a descriptor such as `@daily`; no `TZ=` prefix, no seconds.
   */
  schedule: string;
  /** ExternalSecrets to force-sync, all created by the caller in `namespace`. */
  externalSecrets: string[];
  /** CronJob, ServiceAccount, Role and RoleBinding name. Default `secrets-rotation`. */
  jobName?: string;
  /** Image with kubectl. Default `KUBECTL_IMAGE`; pin a version, never `latest`. */
  image?: string;
  labels?: Record<string, string>;
  /** What must exist first (the ESO release, for the ExternalSecret kind). */
  dependsOn?: pulumi.Input<pulumi.Resource>[];
  provider?: Provider;
}

/** The Role's rules: get/patch (what `kubectl annotate` does) on the named ExternalSecrets, nothing else. */
export function rotationRules(args: Pick<RotationJobArgs, "externalSecrets">): k8sInput.rbac.v1.PolicyRule[] {
  return [{ apiGroups: ["external-secrets.io"], resources: ["externalsecrets"], resourceNames: [...args.externalSecrets], verbs: ["get", "patch"] }];
}

/** The annotation the Job sets to make ESO re-read an ExternalSecret's backend. */
export const FORCE_SYNC_ANNOTATION = "force-sync";

/**
 * The admission policy's validations (CEL, true = allowed): an update may differ from the
 * stored object in the `force-sync` annotation only. Pure, for tests.
 */
export function forceSyncOnlyValidations(): { expression: string; message: string }[] {
  const field = (o: string, f: string, empty: string) => `(has(${o}.metadata.${f}) ? ${o}.metadata.${f} : ${empty})`;
  const ann = (o: string) => field(o, "annotations", "{}");
  const same = (f: string, empty: string) => `${field("object", f, empty)} == ${field("oldObject", f, empty)}`;
  const k = `'${FORCE_SYNC_ANNOTATION}'`;
  return [
    {
      expression: "object.spec == oldObject.spec",
      message: "the rotation job may not change an ExternalSecret's spec; it may only set the force-sync annotation.",
    },
    {
      expression: `${same("labels", "{}")} && ${same("finalizers", "[]")} && ${same("ownerReferences", "[]")}`,
      message: "the rotation job may not change an ExternalSecret's labels, finalizers or owners; it may only set the force-sync annotation.",
    },
    {
      expression:
        `${ann("object")}.all(k, k == ${k} || (k in ${ann("oldObject")} && ${ann("oldObject")}[k] == ${ann("object")}[k])) && ` +
        `${ann("oldObject")}.all(k, k == ${k} || k in ${ann("object")})`,
      message: "the rotation job may change no annotation of an ExternalSecret but force-sync.",
    },
  ];
}

/** The CronJob and its least-privilege identity. */
export class RotationJob extends pulumi.ComponentResource {
  /** The CronJob's name. */
  public readonly cronJobName: pulumi.Output<string>;

  constructor(name: string, args: RotationJobArgs, opts?: pulumi.ComponentResourceOptions) {
    super("veza:eso:RotationJob", name, {}, opts);
    const scheduleProblem = cronProblem(args.schedule, "kubernetes");
    if (scheduleProblem)
      throw new pulumi.ResourceError(`[schedule] ${cronMessage(scheduleProblem, "kubernetes")}; got ${JSON.stringify(args.schedule)}.`, this);
    if (!args.externalSecrets.length) throw new pulumi.ResourceError("[externalSecrets] must name at least one ExternalSecret to sync.", this);
    const image = args.image ?? KUBECTL_IMAGE;
    if (/:latest$/.test(image) || !/:[\w.-]+$/.test(image.split("/").pop() ?? "")) {
      throw new pulumi.ResourceError(`[image] must be pinned to a version tag; got "${image}".`, this);
    }
    const jobName = args.jobName ?? "secrets-rotation";
    const labels = { "app.kubernetes.io/name": jobName, "app.kubernetes.io/part-of": "veza", "app.kubernetes.io/managed-by": "pulumi", ...args.labels };
    const child = { parent: this, provider: args.provider };
    const meta = { name: jobName, namespace: args.namespace, labels };

    const sa = new k8sCore.ServiceAccount(`${name}`, { metadata: meta }, child);
    const role = new k8sRbac.Role(`${name}`, { metadata: meta, rules: rotationRules(args) }, child);
    const binding = new k8sRbac.RoleBinding(
      `${name}`,
      {
        metadata: meta,
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.metadata.name },
        subjects: [{ kind: "ServiceAccount", name: sa.metadata.name, namespace: args.namespace }],
      },
      child,
    );

    // What the Job's identity may change when it patches: the force-sync annotation alone.
    // Cluster-scoped objects, named after the namespace so environments sharing a cluster differ.
    const guardName = pulumi.output(args.namespace).apply((n) => `veza-${jobName}-force-sync-only-${n}`);
    const guard = new k8sAdmission.ValidatingAdmissionPolicy(
      `${name}-force-sync-only`,
      {
        metadata: { name: guardName, labels },
        spec: {
          failurePolicy: "Fail",
          matchConstraints: {
            resourceRules: [{ apiGroups: ["external-secrets.io"], apiVersions: ["*"], operations: ["UPDATE"], resources: ["externalsecrets"] }],
          },
          matchConditions: [
            {
              name: "rotation-job-identity",
              expression: pulumi.interpolate`request.userInfo.username == 'system:serviceaccount:${args.namespace}:${jobName}'`,
            },
          ],
          validations: forceSyncOnlyValidations(),
        },
      },
      child,
    );
    namespaceBinding(`${name}-force-sync-only`, { objectName: guardName, policyName: guard.metadata.name, namespace: args.namespace, labels }, child);

    const securityContext = {
      runAsNonRoot: true,
      runAsUser: 65532,
      runAsGroup: 65532,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
      seccompProfile: { type: "RuntimeDefault" },
    };
    const resources = { requests: { cpu: "10m", memory: "32Mi" }, limits: { cpu: "200m", memory: "128Mi" } };
    // kubectl writes its discovery cache under $HOME: a small emptyDir, the root stays read-only.
    const env = [
      { name: "HOME", value: "/tmp" },
      { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
    ];
    const volumeMounts = [{ name: "tmp", mountPath: "/tmp" }];
    const ns = pulumi.output(args.namespace);

    const cron = new k8sBatch.CronJob(
      `${name}`,
      {
        metadata: meta,
        spec: {
          schedule: args.schedule,
          concurrencyPolicy: "Forbid",
          successfulJobsHistoryLimit: 3,
          failedJobsHistoryLimit: 3,
          jobTemplate: {
            spec: {
              backoffLimit: 2,
              activeDeadlineSeconds: 600,
              ttlSecondsAfterFinished: 86400,
              template: {
                metadata: { labels },
                spec: {
                  serviceAccountName: sa.metadata.name,
                  restartPolicy: "Never",
                  securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
                  volumes: [{ name: "tmp", emptyDir: { sizeLimit: "16Mi" } }],
                  // Force ESO to re-read the backends; the pod name makes the value new each run.
                  containers: [
                    {
                      name: "force-sync",
                      image,
                      args: ns.apply((n) => [
                        "annotate",
                        "--overwrite",
                        "-n",
                        n,
                        ...args.externalSecrets.map((e) => `externalsecret/${e}`),
                        "force-sync=$(POD_NAME)",
                      ]),
                      env,
                      volumeMounts,
                      securityContext,
                      resources,
                    },
                  ],
                },
              },
            },
          },
        },
      },
      { ...child, dependsOn: [binding, ...(args.dependsOn ?? [])] },
    );
    this.cronJobName = cron.metadata.name;
    this.registerOutputs({ cronJobName: this.cronJobName });
  }
}
