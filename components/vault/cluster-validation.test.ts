/**
 * VaultCluster's argument validation (components/vault/cluster-args.ts): each bad argument
 * rejected with exact messages, by vaultArgsErrors and by the values builder, and the dev root
 * token rule described without echoing the token.
 */
import * as assert from "node:assert/strict";
import { devRootTokenError, vaultArgsErrors, type VaultSeal, type VaultValuesArgs } from "./cluster-args";
import { vaultValues } from "./cluster-values";
import { SEALS, TOKEN } from "./cluster-fixtures";

describe("components/vault/cluster: Helm values", () => {
  const badArgs: [string, VaultValuesArgs, string[]][] = [
    ["an unknown mode", { mode: "prod" as "ha" }, ['[mode] must be "dev" or "ha"; got "prod".']],
    [
      "dev without a root token",
      { mode: "dev" },
      ['[devRootToken] is required in dev mode: pass a Pulumi secret rather than rely on the chart\'s well-known default "root".'],
    ],
    [
      "a seal in dev mode",
      { mode: "dev", devRootToken: TOKEN, seal: SEALS.awskms.seal },
      ['[seal] applies to ha mode only: a dev server starts unsealed, in memory. Remove seal, or set mode to "ha".'],
    ],
    [
      "3 replicas in dev mode",
      { mode: "dev", devRootToken: TOKEN, replicas: 3 },
      ['[replicas] must be 1 or unset in dev mode: a dev server keeps its data in memory and cannot be replicated; got 3. Set mode to "ha" for more pods.'],
    ],
    [
      "a NodePort outside the range",
      { mode: "dev", devRootToken: TOKEN, devNodePort: 8200 },
      ["[devNodePort] must be a whole number from 30000 to 32767 (the default NodePort range); got 8200."],
    ],
    [
      "a root token the chart cannot render",
      { mode: "dev", devRootToken: "12345678" },
      [
        "[devRootToken] must start with a letter and use only letters, digits, '.', '_' or '-', 8 to 128 characters (the chart writes it into the pod spec unquoted); the value given does not.",
      ],
    ],
    [
      "even replicas in ha mode",
      { mode: "ha", replicas: 4 },
      ["[replicas] must be an odd whole number from 3 to 7 in ha mode (Raft needs a majority: 3 survive one lost pod, 5 two); got 4."],
    ],
    [
      "one replica in ha mode",
      { mode: "ha", replicas: 1 },
      ["[replicas] must be an odd whole number from 3 to 7 in ha mode (Raft needs a majority: 3 survive one lost pod, 5 two); got 1."],
    ],
    [
      "a dev root token and NodePort in ha mode",
      { mode: "ha", devRootToken: TOKEN, devNodePort: 30820 },
      [
        '[devRootToken] applies to dev mode only: an ha cluster\'s root token comes from "vault operator init". Remove devRootToken, or set mode to "dev".',
        '[devNodePort] applies to dev mode only: an ha cluster serves TLS inside the cluster (use kubectl port-forward svc/vault 8200). Remove devNodePort, or set mode to "dev".',
      ],
    ],
    [
      "bad names and sizes in ha mode",
      { mode: "ha", tlsSecretName: "Vault_TLS", storageSize: "10GB", auditStorageSize: "" },
      [
        "[tlsSecretName] must be a Secret name (lowercase letters, digits, '-' and '.'); got \"Vault_TLS\".",
        '[storageSize] must be a Kubernetes quantity such as "10Gi"; got "10GB".',
        '[auditStorageSize] must be a Kubernetes quantity such as "10Gi"; got "".',
      ],
    ],
    [
      "bad resources",
      { mode: "ha", resources: { requests: { cpu: "lots", memory: "256Mi" }, limits: { cpu: "1", memory: "1 GB" } } },
      [
        '[resources.requests.cpu] must be a Kubernetes quantity such as "250m"; got "lots".',
        '[resources.limits.memory] must be a Kubernetes quantity such as "256Mi"; got "1 GB".',
      ],
    ],
    [
      "a seal field that would break the config, and a credential",
      {
        mode: "ha",
        seal: { type: "awskms", region: "eu-west-1", kmsKeyId: 'alias/x" }', roleArn: "arn:aws:iam::123456789012:role/r", secretKey: "AKIA..." } as VaultSeal,
      },
      [
        '[seal.kmsKeyId] must be a non-empty string of letters, digits and . _ : / @ + = - (it goes into Vault\'s config); got "alias/x\\" }".',
        "[seal.secretKey] is not a awskms seal field (credentials never go into the seal: use workload identity); remove it.",
      ],
    ],
    [
      "a NodePort above the range",
      { mode: "dev", devRootToken: TOKEN, devNodePort: 32768 },
      ["[devNodePort] must be a whole number from 30000 to 32767 (the default NodePort range); got 32768."],
    ],
    [
      "9 replicas in ha mode",
      { mode: "ha", replicas: 9 },
      ["[replicas] must be an odd whole number from 3 to 7 in ha mode (Raft needs a majority: 3 survive one lost pod, 5 two); got 9."],
    ],
    [
      "resources without limits",
      { mode: "ha", resources: { requests: { cpu: "250m", memory: "256Mi" } } as VaultValuesArgs["resources"] },
      [
        '[resources.limits.cpu] must be a Kubernetes quantity such as "250m"; got undefined.',
        '[resources.limits.memory] must be a Kubernetes quantity such as "256Mi"; got undefined.',
      ],
    ],
    [
      "credentials in a seal, named in order",
      { mode: "ha", seal: { ...SEALS.awskms.seal, secretKey: "x", accessKey: "y" } as unknown as VaultSeal },
      [
        "[seal.accessKey] is not a awskms seal field (credentials never go into the seal: use workload identity); remove it.",
        "[seal.secretKey] is not a awskms seal field (credentials never go into the seal: use workload identity); remove it.",
      ],
    ],
    [
      "an unknown seal type",
      { mode: "ha", seal: { type: "transit" } as unknown as VaultSeal },
      ['[seal.type] must be "awskms", "gcpckms" or "azurekeyvault"; got "transit".'],
    ],
  ];
  for (const [label, args, messages] of badArgs) {
    it(`rejects ${label} with exact messages`, async () => {
      assert.deepEqual(vaultArgsErrors(args), messages);
      assert.throws(() => vaultValues(args), { message: messages.join(" ") });
    });
  }

  it("accepts the edges of the NodePort range and of Raft's cluster sizes", () => {
    for (const devNodePort of [30000, 32767]) assert.deepEqual(vaultArgsErrors({ mode: "dev", devRootToken: TOKEN, devNodePort }), [], String(devNodePort));
    for (const replicas of [3, 5, 7]) assert.deepEqual(vaultArgsErrors({ mode: "ha", replicas }), [], String(replicas));
  });

  // A token given as a secret Output is checked inside an apply: under the engine a bad one fails
  // the Release's registration ("error serializing property values: [devRootToken] ..."). The
  // mocks surface that as an unhandled rejection rather than a program error, so the check is
  // tested here through the pure function, and a plain-string token through vaultArgsErrors above.
  it("accepts the root tokens the chart can render and describes the others without echoing them", async () => {
    for (const ok of [TOKEN, "hvs.abcdefgh", "root-token_1.2"]) assert.equal(devRootTokenError(ok), undefined, ok);
    for (const bad of ["root", "true", "1e100000", "-leading", "has space in it", 'quote"d-token', "x".repeat(129)]) {
      const message = devRootTokenError(bad);
      assert.ok(message?.startsWith("[devRootToken] must start with a letter"), bad);
      assert.equal(message?.includes(bad), false, bad);
    }
  });
});
