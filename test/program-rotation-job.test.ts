/**
 * Whole-program tests of the rotation CronJob: the real index.ts, per committed stack, under
 * Pulumi mocks (harness/index.ts), on a fresh cluster touches only the ExternalSecrets the
 * program creates in its namespace, and no Deployment.
 */
import * as assert from "node:assert/strict";
import { resourcesOfType, STACKS } from "../harness";
import { ES, meta, stackRun } from "./program-fixtures";

describe("the rotation CronJob on a fresh cluster", () => {
  for (const stack of STACKS) {
    it(`${stack}: touches only ExternalSecrets this program creates in its namespace, and no Deployment`, async () => {
      const run = await stackRun(stack);
      // The rotation job's; an HA Vault's snapshot CronJob (Vault's namespace) is another matter.
      const cron = resourcesOfType(run, "kubernetes:batch/v1:CronJob").filter((r) => meta(r).name === "secrets-rotation");
      assert.equal(cron.length, 1);
      const cronMeta = meta(cron[0]);
      const pod = (cron[0].inputs.spec as { jobTemplate: { spec: { template: { spec: { containers: { args: string[] }[]; initContainers?: unknown[] } } } } })
        .jobTemplate.spec.template.spec;
      assert.equal(pod.initContainers, undefined);
      const targets = pod.containers.flatMap((c) => c.args.filter((a) => a.includes("/")));
      const created = resourcesOfType(run, ES)
        .filter((r) => meta(r).namespace === cronMeta.namespace)
        .map((r) => `externalsecret/${meta(r).name}`);
      assert.deepEqual([...targets].sort(), [...created].sort(), "every object the Job annotates exists, and it annotates all of them");
      const roles = resourcesOfType(run, "kubernetes:rbac.authorization.k8s.io/v1:Role").filter((r) => meta(r).name === "secrets-rotation");
      assert.deepEqual(
        roles.flatMap((r) => (r.inputs.rules as { apiGroups: string[] }[]).flatMap((rule) => rule.apiGroups)),
        ["external-secrets.io"],
      );
    });
  }
});
