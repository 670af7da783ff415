/**
 * HashiCorp Vault in the cluster, installed with the official vault-helm chart: a one-pod dev
 * server for local clusters, or a Raft-backed HA cluster with TLS and optional cloud-KMS
 * auto-unseal. Only External Secrets Operator reads Vault, so the agent injector is off.
 * Args and validation: cluster-args.ts; Helm values and the chart workarounds they carry:
 * cluster-values.ts; the HA server config: cluster-hcl.ts.
 */
import { Release } from "@pulumi/kubernetes/helm/v3/release";
import * as pulumi from "@pulumi/pulumi";
import { releaseChart } from "../helm-chart";
import {
  VAULT_CHART_REPO,
  VAULT_CHART_VERSION,
  VAULT_RELEASE_NAME,
  VAULT_SERVICE_ACCOUNT,
  VaultClusterArgs,
  devRootTokenError,
  vaultArgsErrors,
} from "./cluster-args";
import { vaultAddress, vaultValues } from "./cluster-values";

/** HashiCorp Vault from the official chart, in dev or Raft HA mode (see the file header). */
export class VaultCluster extends pulumi.ComponentResource {
  /**
   * In-cluster URL of Vault's API, for ESO's SecretStore: `http://vault.<ns>.svc:8200` (dev)
   * or `https://vault.<ns>.svc:8200` (ha; verify with the TLS Secret's `ca.crt`). Not the
   * address `pulumi up` uses from outside the cluster.
   */
  public readonly address: pulumi.Output<string>;
  /** Helm release name (`vault`), known once the release is installed. */
  public readonly releaseName: pulumi.Output<string>;
  /**
   * Vault's ServiceAccount (`vault`), bound to system:auth-delegator: configure Vault's
   * Kubernetes auth method (token reviewer) and the cloud identities with it.
   */
  public readonly serviceAccountName: pulumi.Output<string>;

  constructor(name: string, args: VaultClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("veza:cluster:VaultCluster", name, {}, opts);
    const errors = vaultArgsErrors(args);
    if (errors.length > 0) throw new pulumi.ResourceError(errors.join(" "), this);

    // The token reaches the values only as a secret, checked once known (never printed).
    const devRootToken =
      args.mode === "dev"
        ? pulumi.secret(
            pulumi.output(args.devRootToken as pulumi.Input<string>).apply((token) => {
              const problem = devRootTokenError(token);
              if (problem) throw new pulumi.ResourceError(problem, this);
              return token;
            }),
          )
        : undefined;

    const release = new Release(
      name,
      {
        name: VAULT_RELEASE_NAME,
        ...releaseChart({ name: "vault", version: VAULT_CHART_VERSION, repository: VAULT_CHART_REPO }, args.chart),
        namespace: args.namespace,
        createNamespace: false,
        // Roll back a failed upgrade (and remove what it created) rather than leave Vault
        // half-configured; 10 minutes covers image pulls and PVC provisioning.
        atomic: true,
        cleanupOnFail: true,
        timeout: 600,
        maxHistory: 10,
        values: vaultValues({ ...args, devRootToken }),
      },
      // Protected in production: the release owns the StatefulSet whose PVCs hold Vault's data.
      { parent: this, provider: args.provider, protect: args.protect ?? false },
    );

    this.address = release.namespace.apply((ns) => vaultAddress(args.mode, ns));
    this.releaseName = release.name;
    this.serviceAccountName = release.name.apply(() => VAULT_SERVICE_ACCOUNT);
    this.registerOutputs({
      address: this.address,
      releaseName: this.releaseName,
      serviceAccountName: this.serviceAccountName,
    });
  }
}
