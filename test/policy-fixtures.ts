/**
 * Support for the policy pack's tests (test/policy-*.test.ts): a labelled Namespace, and a
 * policy's messages for one resource or one stack, failing on anything unknown at preview.
 */
import * as assert from "node:assert/strict";
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { type FakeResource, validateResource, validateStack } from "./policy-args";
export const NS = "kubernetes:core/v1:Namespace";

export function namespace(env: string, name = `veza-${env}`, protect = false): FakeResource {
  return { type: NS, name: `namespaces-${name}`, props: { metadata: { name, labels: { "veza.io/environment": env } } }, protect };
}

export async function messages(policy: ResourceValidationPolicy, r: FakeResource): Promise<string[]> {
  const out = await validateResource(policy, r);
  assert.equal(out.cannotRunInPreview, undefined, `unexpected unknown: ${out.cannotRunInPreview}`);
  return out.messages;
}

export async function stackMessages(policy: StackValidationPolicy, resources: FakeResource[]): Promise<string[]> {
  const out = await validateStack(policy, resources);
  assert.equal(out.cannotRunInPreview, undefined, `unexpected unknown: ${out.cannotRunInPreview}`);
  return out.messages;
}
