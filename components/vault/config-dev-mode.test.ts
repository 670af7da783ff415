/**
 * VaultConfig (components/vault/config.ts) on dev-mode Vault (development): no mounts or
 * database resources, the existing secret/ mount, stdout audit, no protection, the given TTLs,
 * a KV-only policy and no database outputs.
 */
import * as assert from "node:assert/strict";
import { findResource, resourcesOfType, type ProgramRun } from "../../harness";
import { policyPaths } from "./policy-hcl";
import { T, args, children, names, outputsOf, run } from "./config-fixtures";

describe("components/vault/config", () => {
  describe("dev-mode Vault (development)", () => {
    let dev: ProgramRun;
    beforeEach(async () => {
      dev = await run((p) =>
        args(p, "development", {
          createKvMount: false,
          audit: { type: "file", path: "stdout" },
          database: undefined,
          createDatabaseMount: false,
          protect: false,
          kubernetesAuth: {
            audience: "vault",
            roleName: "veza-development-eso",
            boundServiceAccount: { namespace: "veza-development", name: "eso-vault-store" },
            tokenTtlSeconds: 300,
            tokenMaxTtlSeconds: 900,
          },
        }),
      );
    });

    it("creates no Mount (dev mounts secret/ already) and no database resources", () => {
      assert.deepEqual(
        names(dev),
        [
          `${T.audit} vault-config-audit`,
          `${T.authBackend} vault-config-k8s-auth`,
          `${T.policy} vault-config-policy`,
          `${T.authConfig} vault-config-k8s-auth-config`,
          `${T.role} vault-config-k8s-role`,
          `${T.secret} vault-config-secrets`,
        ].sort(),
      );
      assert.equal(resourcesOfType(dev, T.mount).length, 0);
    });

    it("writes into the existing secret/ mount, audits to stdout, protects nothing, honours the TTLs", () => {
      const secret = findResource(dev, T.secret, "vault-config-secrets");
      assert.equal(secret.inputs.mount, "secret");
      assert.equal(secret.inputs.name, "veza/development");
      assert.deepEqual(secret.dependencies, [findResource(dev, T.audit, "vault-config-audit").urn]);
      assert.deepEqual(findResource(dev, T.audit, "vault-config-audit").inputs.options, { file_path: "stdout" });
      assert.ok(children(dev).every((r) => !r.protect));
      const role = findResource(dev, T.role, "vault-config-k8s-role");
      assert.equal(role.inputs.tokenTtl, 300);
      assert.equal(role.inputs.tokenMaxTtl, 900);
    });

    it("grants only KV read in the policy, and outputs no database names", () => {
      assert.deepEqual(policyPaths(String(findResource(dev, T.policy, "vault-config-policy").inputs.policy)), [
        { path: "secret/data/veza/development", capabilities: ["read"] },
        { path: "secret/metadata/veza/development", capabilities: ["read"] },
      ]);
      assert.deepEqual(outputsOf(dev), {
        policyName: "veza-development-read",
        authRole: "veza-development-eso",
        authPath: "kubernetes",
        kvMount: "secret",
        secretPath: "veza/development",
      });
    });
  });
});
