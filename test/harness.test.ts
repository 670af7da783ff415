/**
 * The harness's fakes (scripts/harness.ts): identities derived from the inputs the program
 * passes, distinct per resource, so that a fake can never make a wrong region, account or a
 * shared identity look right.
 */
import * as assert from "node:assert/strict";
import * as kms from "@pulumi/aws/kms";
import { Provider as AwsProvider } from "@pulumi/aws/provider";
import * as secretsmanager from "@pulumi/aws/secretsmanager";
import * as managedidentity from "@pulumi/azure-native/managedidentity";
import { FAKE_CALLER_ACCOUNT, FAKE_UNSET_REGION, findResource, runProgram, STACKS } from "../scripts/harness";

const CONFIG = { "veza-secrets:environment": "development", "veza-secrets:providers": ["vault"] };
const policyFor = (account: string) => JSON.stringify({ Statement: [{ Principal: { AWS: `arn:aws:iam::${account}:root` } }] });

describe("harness: fake provider outputs", () => {
  it("builds ARNs from the region and account the program passes, and shows when it passes none", async () => {
    const run = await runProgram({
      stack: "test",
      config: CONFIG,
      program: () => {
        const a = new kms.Key("a", { region: "eu-west-1", policy: policyFor("111111111111") });
        new kms.Key("b", { region: "us-east-2", policy: policyFor("222222222222") });
        new secretsmanager.Secret("with-key", { name: "veza/x", kmsKeyId: a.arn, region: "eu-west-1" });
        new secretsmanager.Secret("bare", { name: "veza/y" });
        const provider = new AwsProvider("p", { region: "ap-south-1", allowedAccountIds: ["333333333333"] });
        new secretsmanager.Secret("via-provider", { name: "veza/z" }, { provider });
      },
    });
    const arn = (type: string, name: string) => String(findResource(run, type, name).outputs?.arn);
    assert.match(arn("aws:kms/key:Key", "a"), /^arn:aws:kms:eu-west-1:111111111111:key\/[0-9a-f-]{36}$/);
    assert.match(arn("aws:kms/key:Key", "b"), /^arn:aws:kms:us-east-2:222222222222:key\/[0-9a-f-]{36}$/);
    assert.notEqual(findResource(run, "aws:kms/key:Key", "a").id, findResource(run, "aws:kms/key:Key", "b").id);
    // The secret's account comes from the key ARN it is encrypted with.
    assert.match(arn("aws:secretsmanager/secret:Secret", "with-key"), /^arn:aws:secretsmanager:eu-west-1:111111111111:secret:veza\/x-[0-9a-f]{6}$/);
    assert.equal(arn("aws:secretsmanager/secret:Secret", "bare").split(":").slice(3, 5).join(":"), `${FAKE_UNSET_REGION}:${FAKE_CALLER_ACCOUNT}`);
    assert.match(arn("aws:secretsmanager/secret:Secret", "via-provider"), /^arn:aws:secretsmanager:ap-south-1:333333333333:secret:veza\/z-/);
  });

  it("gives each identity its own client and principal ids", async () => {
    const run = await runProgram({
      stack: "test",
      config: CONFIG,
      program: () => ["one", "two"].map((n) => new managedidentity.UserAssignedIdentity(n, { resourceGroupName: "rg", resourceName: n })),
    });
    const one = findResource(run, "azure-native:managedidentity:UserAssignedIdentity", "one");
    const two = findResource(run, "azure-native:managedidentity:UserAssignedIdentity", "two");
    assert.notEqual(one.outputs?.clientId, two.outputs?.clientId);
    assert.notEqual(one.outputs?.principalId, two.outputs?.principalId);
    assert.notEqual(one.outputs?.clientId, one.outputs?.principalId);
    assert.match(String(one.id), /\/resourceGroups\/rg\/providers\/Microsoft\.ManagedIdentity\/userAssignedIdentities\/one$/);
  });

  for (const stack of STACKS) {
    it(`${stack}: no two custom resources of a type share an id`, async () => {
      const run = await runProgram({ stack });
      const seen = new Map<string, string>();
      // RandomPassword's id is "none" for every password, as the random provider makes it.
      for (const r of run.resources.filter((x) => x.custom && x.type !== "random:index/randomPassword:RandomPassword")) {
        assert.ok(r.id, `${r.type} ${r.name} has an id`);
        const k = `${r.type} ${r.id}`;
        assert.equal(seen.get(k), undefined, `${r.name} and ${seen.get(k)} share ${k}`);
        seen.set(k, r.name);
      }
    });
  }
});
