/**
 * Stack config mistakes in the stack's environment and its cluster (environment, namespaces,
 * network, ESO): each rejected with the key, the reason and the exact fix, by the loader and the
 * whole program, and the fix applied with the CLI's rules.
 */
import { P, itRejectsAndFixes, type ConfigMistake } from "./config-fixtures";

describe("stack config", () => {
  // One row per kind of mistake: the exact message and the exact command that fixes it.
  // Each fix is then applied with the CLI's own rules (test/pulumi-cli.ts) and the config
  // validated again, by the CLI's pre-run check and by the program.
  const table: ConfigMistake[] = [
    {
      name: "out-of-range number",
      stack: "production",
      overrides: { [`${P}:eso`]: { replicas: 9 } },
      key: "eso.replicas",
      message: "must be at most 5; got number 9",
      fix: "pulumi config set --path 'eso.replicas' 2 --stack production",
    },
    {
      name: "environment that does not match the stack",
      stack: "production",
      overrides: { [`${P}:environment`]: "staging" },
      key: "environment",
      message: 'is "staging" but the stack is "production"; a stack\'s name must be its environment or start with "<environment>-"',
      fix: "pulumi config set environment production --stack production",
    },
    {
      name: "an environment that is not one (the fix names the stack's, not a placeholder)",
      stack: "production",
      overrides: { [`${P}:environment`]: "prod" },
      key: "environment",
      message: 'must be one of "development", "staging", "production"; got "prod"',
      fix: "pulumi config set environment production --stack production",
    },
    {
      name: "Vault reached over the network with its ingress closed and no deployer range",
      stack: "production",
      overrides: { [`${P}:network`]: { apiServerCidrs: ["172.20.0.1/32"] } },
      key: "network.deployerCidrs",
      message:
        "is required: Vault's NetworkPolicy admits only ESO, its peers and the deployer, and https://vault.veza.internal:8200 is reached over the network (name the source range where pulumi up runs, or network.deployerNamespaces for an ingress controller or in-cluster agent; kubectl port-forward to 127.0.0.1 needs neither)",
      // Where pulumi up runs is the user's to say: marked, not an example range that would pass.
      fix: "pulumi config set --path 'network.deployerCidrs[0]' '<deployer-cidr>' --stack production",
    },
    {
      name: "a deployer range that is not a CIDR",
      stack: "production",
      overrides: { [`${P}:network`]: { deployerCidrs: ["10.20.0.0/33"], apiServerCidrs: ["172.20.0.1/32"] } },
      key: "network.deployerCidrs[0]",
      message: 'must be an IPv4 CIDR; got "10.20.0.0/33"',
      fix: "pulumi config set --path 'network.deployerCidrs[0]' '<deployer-cidr>' --stack production",
    },
    {
      name: "an ESO image digest of the wrong shape (the fix looks the digest up when run)",
      stack: "staging",
      overrides: { [`${P}:eso`]: { imageDigest: "sha256:abc" } },
      key: "eso.imageDigest",
      message: 'must be "sha256:" and 64 lowercase hex digits (crane digest ghcr.io/external-secrets/external-secrets:v2.9.0); got "sha256:abc"',
      fix: `pulumi config set --path 'eso.imageDigest' --stack staging -- "$(crane digest ghcr.io/external-secrets/external-secrets:v2.9.0)"`,
    },
    {
      name: "a workload namespace that is not a DNS label (the fix names the stack's environment)",
      stack: "staging",
      overrides: { [`${P}:namespaces`]: { workloads: "Veza_Staging" } },
      key: "namespaces.workloads",
      message: "must be a DNS-1123 label (lowercase letters, digits and '-'); got \"Veza_Staging\"",
      fix: "pulumi config set --path 'namespaces.workloads' veza-staging --stack staging",
    },
  ];

  itRejectsAndFixes(table);
});
