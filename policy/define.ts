/**
 * How a policy of this pack is built: plain data in (`plain`, unknowns marked), violations
 * reported, unknowns it needed rethrown last (`Findings`). Every rule file uses these.
 */
import type {
  PolicyResource,
  ReportViolation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import { Findings, type Plain, at, plain, str } from "./props";
import { type Environment, type StackResource, stackEnvironment } from "./resources";

/** The one resource a resource policy judges, as plain data. */
export interface CheckedResource {
  type: string;
  name: string;
  urn: string;
  props: Plain;
  protect: boolean;
}

export type ResourceCheck = (r: CheckedResource, f: Findings) => void;
export type StackCheck = (resources: StackResource[], f: Findings, env: Environment | undefined) => void;

export interface PolicyInfo {
  name: string;
  description: string;
  enforcementLevel: "mandatory" | "advisory";
}

/** A resource policy that judges resources whose type `applies`. */
export function resourcePolicy(info: PolicyInfo, applies: (type: string) => boolean, check: ResourceCheck): ResourceValidationPolicy {
  return {
    ...info,
    validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
      if (!applies(args.type)) return;
      const f = new Findings(report);
      check({ type: args.type, name: args.name, urn: args.urn, props: plain(args.props), protect: args.opts.protect }, f);
      f.finish();
    },
  };
}

/** A stack policy; `env` is the stack's environment from its Namespaces' label, if known. */
export function stackPolicy(info: PolicyInfo, check: StackCheck): StackValidationPolicy {
  return {
    ...info,
    validateStack: (args: StackValidationArgs, report: ReportViolation) => {
      const resources = args.resources.map((r: PolicyResource) => ({ type: r.type, urn: r.urn, name: r.name, props: plain(r.props), protect: r.opts.protect }));
      const f = new Findings(report);
      check(resources, f, stackEnvironment(resources).env);
      f.finish();
    },
  };
}

/** `metadata.name` of a Kubernetes object, else the Pulumi resource name. */
export function objectName(r: { name: string; props: Plain }): string {
  return str(at(r.props, "metadata", "name")) ?? r.name;
}
