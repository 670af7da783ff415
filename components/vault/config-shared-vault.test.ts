/**
 * VaultConfig (components/vault/config.ts) for three environments in one Vault: only the first
 * owns the shared objects (KV mount, auth method and its config, audit device), and each
 * environment's policy reads only its own path.
 */
import * as assert from "node:assert/strict";
import { findResource, resourcesOfType, runProgram, type ProgramRun } from "../../harness";
import { VaultConfig } from "./config";
import { policyPaths } from "./policy-hcl";
import { CONFIG, ENVS, T, args, database, vaultProvider } from "./config-fixtures";

describe("components/vault/config", () => {
  describe("three environments in one Vault: only the first owns the shared objects", () => {
    let shared: ProgramRun;
    beforeEach(async () => {
      shared = await runProgram({
        stack: "test",
        config: CONFIG,
        program: () => {
          const p = vaultProvider();
          return ENVS.map(
            (env, i) =>
              new VaultConfig(
                env,
                args(p, env, {
                  createKvMount: i === 0,
                  createAuthBackend: i === 0,
                  createAudit: i === 0,
                  createDatabaseMount: false,
                  database: database({ mountPath: `database-${env}` }),
                  protect: false,
                }),
              ),
          );
        },
      });
    });

    it("deletes each connection on its own when the mount is not the program's (no deletedWith)", () => {
      const connections = resourcesOfType(shared, T.connection);
      assert.equal(connections.length, ENVS.length);
      for (const c of connections) assert.equal(c.deletedWith, "", c.name);
    });

    it("creates the KV mount, auth method, its config and the audit device once", () => {
      assert.deepEqual(
        resourcesOfType(shared, T.mount).map((r) => r.name),
        ["development-kv-mount"],
      );
      assert.deepEqual(
        resourcesOfType(shared, T.authBackend).map((r) => r.name),
        ["development-k8s-auth"],
      );
      assert.deepEqual(
        resourcesOfType(shared, T.authConfig).map((r) => r.name),
        ["development-k8s-auth-config"],
      );
      assert.deepEqual(
        resourcesOfType(shared, T.audit).map((r) => r.name),
        ["development-audit"],
      );
      assert.equal(resourcesOfType(shared, T.role).length, 3);
      assert.equal(resourcesOfType(shared, T.policy).length, 3);
      // The others' roles point at the shared method by path; their secrets at the shared mount.
      const stagingRole = findResource(shared, T.role, "staging-k8s-role");
      assert.equal(stagingRole.inputs.backend, "kubernetes");
      assert.ok(!stagingRole.dependencies.includes(findResource(shared, T.authConfig, "development-k8s-auth-config").urn));
      assert.equal(findResource(shared, T.secret, "staging-secrets").inputs.mount, "secret");
      assert.equal(findResource(shared, T.connection, "staging-database-connection").inputs.backend, "database-staging");
    });

    for (const own of ENVS) {
      it(`${own}'s policy reads only veza/${own}, no database path, never "*" or sudo`, () => {
        const paths = policyPaths(String(findResource(shared, T.policy, `${own}-policy`).inputs.policy));
        assert.deepEqual(paths, [
          { path: `secret/data/veza/${own}`, capabilities: ["read"] },
          { path: `secret/metadata/veza/${own}`, capabilities: ["read"] },
        ]);
        for (const other of ENVS.filter((e) => e !== own)) {
          assert.ok(
            paths.every((p) => !p.path.includes(other)),
            `${own} names ${other}`,
          );
        }
        assert.ok(paths.every((p) => !p.path.includes("*") && !p.path.includes("+") && !p.capabilities.includes("sudo")));
      });
    }
  });
});
