/**
 * Keeps a CronJob's ServiceAccount to that CronJob's own pod template. A Job created in
 * `namespace` that runs as `serviceAccountName` must carry exactly the pod template of the
 * CronJob `cronJobName`, compared field by field as the API server stores both (defaults
 * included). The CronJob itself is the policy's parameter, so the comparison follows every
 * `pulumi up` of the CronJob.
 *
 * With ServiceAccountGuard (pods only from the Job controller, tokens only for kubelets), someone
 * allowed to create Jobs in the namespace can run the CronJob now, as
 * `kubectl create job --from=cronjob/…` does and as the runbook's manual snapshot does. They
 * cannot run a pod of their own under the CronJob's identity.
 *
 * Checked on CREATE only. A Job's template is immutable, and checking updates would refuse the
 * controllers' later updates of Jobs created before the CronJob last changed.
 *
 * `parameterNotFoundAction: Deny`: while the CronJob does not exist, the API server admits no
 * Job at all in the namespace (it looks up the parameter before any expression runs). Use it
 * only in a namespace where this CronJob is the only source of Jobs, such as Vault's.
 */
import * as k8sAdmission from "@pulumi/kubernetes/admissionregistration/v1";
import { Provider } from "@pulumi/kubernetes/provider";
import * as pulumi from "@pulumi/pulumi";
import { DNS_SUBDOMAIN } from "../rules";
import { namespaceBinding } from "./admission-binding";

export interface CronJobTemplateGuardArgs {
  /** The namespace of the CronJob and of the Jobs checked. */
  namespace: pulumi.Input<string>;
  /** The CronJob whose pod template a Job must carry (the policy's parameter). */
  cronJobName: string;
  /** The CronJob's ServiceAccount: only Jobs running as it are checked. */
  serviceAccountName: string;
  /** Labels on both objects. */
  labels?: Record<string, string>;
  provider?: Provider;
}

/** The policy's validation: a Job as `serviceAccountName` carries the CronJob's pod template. Pure, for tests. */
export function templateValidation(cronJobName: string, serviceAccountName: string): { expression: string; message: string } {
  for (const n of [cronJobName, serviceAccountName]) {
    if (!DNS_SUBDOMAIN.test(n)) throw new Error(`CronJob and ServiceAccount names must be DNS names (no quotes, no "*"); got ${JSON.stringify(n)}.`);
  }
  const spec = "object.spec.template.spec";
  return {
    expression: `!has(${spec}.serviceAccountName) || ${spec}.serviceAccountName != '${serviceAccountName}' || ${spec} == params.spec.jobTemplate.spec.template.spec`,
    message: `a Job running as ${serviceAccountName} must carry the pod template of CronJob ${cronJobName}: create it from the CronJob (kubectl create job --from=cronjob/${cronJobName} ${cronJobName}-manual-$(date +%s)).`,
  };
}

/** A ValidatingAdmissionPolicy (the CronJob as parameter) and its binding. */
export class CronJobTemplateGuard extends pulumi.ComponentResource {
  /** The policy's name (cluster-scoped). */
  public readonly policyName: pulumi.Output<string>;

  constructor(name: string, args: CronJobTemplateGuardArgs, opts?: pulumi.ComponentResourceOptions) {
    super("veza:cluster:CronJobTemplateGuard", name, {}, opts);
    let validation: { expression: string; message: string };
    try {
      validation = templateValidation(args.cronJobName, args.serviceAccountName);
    } catch (e) {
      throw new pulumi.ResourceError(`[cronJobName] ${(e as Error).message}`, this);
    }
    const labels = { "app.kubernetes.io/part-of": "veza", "app.kubernetes.io/managed-by": "pulumi", ...args.labels };
    const child = { parent: this, provider: args.provider };
    // Cluster-scoped objects: namespace and CronJob in the name keep them apart.
    const objectName = pulumi.output(args.namespace).apply((ns) => `veza-cronjob-template-guard-${ns}-${args.cronJobName}`);
    const policy = new k8sAdmission.ValidatingAdmissionPolicy(
      name,
      {
        metadata: { name: objectName, labels },
        spec: {
          failurePolicy: "Fail",
          paramKind: { apiVersion: "batch/v1", kind: "CronJob" },
          matchConstraints: {
            resourceRules: [{ apiGroups: ["batch"], apiVersions: ["v1"], operations: ["CREATE"], resources: ["jobs"] }],
          },
          validations: [validation],
        },
      },
      child,
    );
    namespaceBinding(
      name,
      {
        objectName,
        policyName: policy.metadata.name,
        namespace: args.namespace,
        labels,
        paramRef: { name: args.cronJobName, namespace: args.namespace, parameterNotFoundAction: "Deny" },
      },
      child,
    );
    this.policyName = policy.metadata.name;
    this.registerOutputs({ policyName: this.policyName });
  }
}
