/**
 * Builds the arguments the policy framework passes to `validateResource` and `validateStack`
 * (@pulumi/policy 1.21, server.js), so tests call the policies exactly as the engine would:
 * props behind the framework's own unknown-checking proxy, options as `getResourceOptions`
 * builds them, `isType`/`asType` by `__pulumiType`, `notApplicable` throwing.
 *
 * What this cannot show: the engine's own choice of what to send (e.g. whether component
 * resources reach stack policies, and that stack policies see outputs, not inputs). The
 * whole-program test feeds inputs, which for these resources the outputs echo.
 */
import type {
  PolicyResource,
  PolicyResourceOptions,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import * as path from "node:path";
import { UnknownValueError } from "../policy/props";

/**
 * The framework's internal proxy module (not in its typings), from the same @pulumi/policy the
 * policies load (policy/node_modules once `npm ci --prefix policy` ran), so that its
 * UnknownValueError is the class the policies catch.
 */
const proxy = require(require.resolve("@pulumi/policy/proxy", { paths: [path.join(__dirname, "..", "policy")] })) as {
  unknownCheckingProxy<T extends object>(props: T): T;
  unknownStringValue: string;
  unknownObjectValue: string;
  unknownArrayValue: string;
};

/** What preview sends for a string computed from another resource's output. */
export const UNKNOWN_STRING = proxy.unknownStringValue;
export const UNKNOWN_OBJECT = proxy.unknownObjectValue;

/** A resource as a test describes it. */
export interface FakeResource {
  type: string;
  name: string;
  props: Record<string, unknown>;
  protect?: boolean;
  urn?: string;
  parent?: string;
  dependencies?: string[];
}

export function urnOf(type: string, name: string): string {
  return `urn:pulumi:test::veza-secrets::${type}::${name}`;
}

function options(r: FakeResource): PolicyResourceOptions {
  return {
    protect: r.protect ?? false,
    ignoreChanges: [],
    aliases: [],
    customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
    additionalSecretOutputs: [],
    ...(r.parent ? { parent: r.parent } : {}),
  };
}

class NotApplicable extends Error {}

function isTypeOf(type: string, resourceClass: unknown): boolean {
  const pulumiType = (resourceClass as { __pulumiType?: unknown }).__pulumiType;
  return typeof pulumiType === "string" && pulumiType === type;
}

export function resourceArgs(r: FakeResource): ResourceValidationArgs {
  const props = proxy.unknownCheckingProxy({ ...r.props });
  return {
    type: r.type,
    props,
    urn: r.urn ?? urnOf(r.type, r.name),
    name: r.name,
    opts: options(r),
    stackTags: new Map(),
    isType: (cls) => isTypeOf(r.type, cls),
    asType: ((cls: unknown) => (isTypeOf(r.type, cls) ? props : undefined)) as ResourceValidationArgs["asType"],
    getConfig: <T extends object>() => ({}) as T,
    notApplicable: (reason?: string): never => {
      throw new NotApplicable(reason);
    },
  };
}

export function stackArgs(resources: FakeResource[]): StackValidationArgs {
  const built: PolicyResource[] = resources.map((r) => {
    const props = proxy.unknownCheckingProxy({ ...r.props });
    return {
      type: r.type,
      props,
      urn: r.urn ?? urnOf(r.type, r.name),
      name: r.name,
      opts: options(r),
      dependencies: [],
      propertyDependencies: {},
      isType: (cls) => isTypeOf(r.type, cls),
      asType: ((cls: unknown) => (isTypeOf(r.type, cls) ? props : undefined)) as PolicyResource["asType"],
    };
  });
  const byUrn = new Map(built.map((b) => [b.urn, b]));
  resources.forEach((r, i) => {
    if (r.parent && byUrn.has(r.parent)) built[i].parent = byUrn.get(r.parent);
    built[i].dependencies = (r.dependencies ?? []).map((d) => byUrn.get(d)).filter((d): d is PolicyResource => d !== undefined);
  });
  return {
    resources: built,
    stackTags: new Map(),
    getConfig: <T extends object>() => ({}) as T,
    notApplicable: (reason?: string): never => {
      throw new NotApplicable(reason);
    },
  };
}

/** What one policy reported: violations (message and URN), and whether it could not run during preview. */
export interface PolicyOutcome {
  messages: string[];
  urns: (string | undefined)[];
  /** The framework would add "can't run policy … during preview: <this>" as an advisory note. */
  cannotRunInPreview?: string;
  notApplicable?: boolean;
}

async function collect(run: (report: (message: string, urn?: string) => void) => Promise<void> | void): Promise<PolicyOutcome> {
  const out: PolicyOutcome = { messages: [], urns: [] };
  try {
    await run((message, urn) => {
      out.messages.push(message);
      out.urns.push(urn);
    });
  } catch (e) {
    // The framework's own handling (server.js): unknown values downgrade to an advisory note.
    if (e instanceof UnknownValueError) out.cannotRunInPreview = e.message;
    else if (e instanceof NotApplicable) out.notApplicable = true;
    else throw e;
  }
  return out;
}

/** Run every validation of a resource policy on one resource. */
export async function validateResource(policy: ResourceValidationPolicy, r: FakeResource): Promise<PolicyOutcome> {
  const validations = policy.validateResource === undefined ? [] : Array.isArray(policy.validateResource) ? policy.validateResource : [policy.validateResource];
  return collect(async (report) => {
    for (const v of validations) await v(resourceArgs(r), report);
  });
}

export async function validateStack(policy: StackValidationPolicy, resources: FakeResource[]): Promise<PolicyOutcome> {
  return collect((report) => policy.validateStack(stackArgs(resources), report));
}

export function isStackPolicy(p: ResourceValidationPolicy | StackValidationPolicy): p is StackValidationPolicy {
  return "validateStack" in p && typeof p.validateStack === "function";
}
