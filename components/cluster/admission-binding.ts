/**
 * The binding every admission guard of the program uses: its policy enforced (`Deny`) in one
 * namespace, selected by the name label the API server sets on every namespace.
 */
import * as k8sAdmission from "@pulumi/kubernetes/admissionregistration/v1";
import type * as k8sTypes from "@pulumi/kubernetes/types/input";
import * as pulumi from "@pulumi/pulumi";

export interface NamespaceBindingArgs {
  /** The binding's name (cluster-scoped; the policy's, by convention). */
  objectName: pulumi.Input<string>;
  policyName: pulumi.Input<string>;
  namespace: pulumi.Input<string>;
  labels: Record<string, string>;
  /** The policy's parameter, when it has a `paramKind`. */
  paramRef?: k8sTypes.admissionregistration.v1.ParamRef;
}

/** A ValidatingAdmissionPolicyBinding that denies what `policyName` refuses in `namespace`. */
export function namespaceBinding(name: string, args: NamespaceBindingArgs, opts: pulumi.CustomResourceOptions): k8sAdmission.ValidatingAdmissionPolicyBinding {
  return new k8sAdmission.ValidatingAdmissionPolicyBinding(
    name,
    {
      metadata: { name: args.objectName, labels: args.labels },
      spec: {
        policyName: args.policyName,
        ...(args.paramRef ? { paramRef: args.paramRef } : {}),
        validationActions: ["Deny"],
        matchResources: { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": args.namespace } } },
      },
    },
    opts,
  );
}
