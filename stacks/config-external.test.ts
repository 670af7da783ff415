/**
 * The config of what a platform runs already: a Vault the program does not install
 * (`vault.install: false`), ESO installed by the platform team (`eso.install: false`), Reloader
 * already in the cluster, and mirrored or local charts (`charts`). Each mistake rejected with
 * the key, the reason and the fix (applied with the CLI's rules); each valid setting read into
 * the typed config.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { loadStackConfig } from "./config";
import { P, itRejectsAndFixes, source, validatedConfig, type ConfigMistake } from "./config-fixtures";

const CA = fs.readFileSync(path.join(__dirname, "..", "certs", "vault-ca.pem"), "utf8");
/** An external HA Vault, complete: what staging sets to configure a Vault it does not install. */
const EXTERNAL = {
  mode: "ha",
  install: false,
  address: "https://vault.central.example:8200",
  bootstrapped: true,
  login: { githubRepository: "veza/veza-secrets" },
  kubernetesHost: "https://203.0.113.10:6443",
  kubernetesCaCert: CA,
  kubernetesApiAudience: "https://kubernetes.default.svc.cluster.local",
};
const without = (key: keyof typeof EXTERNAL) => Object.fromEntries(Object.entries(EXTERNAL).filter(([k]) => k !== key));

describe("stack config: what the platform runs already (vault.install, eso.install, Reloader, charts)", () => {
  const table: ConfigMistake[] = [
    {
      name: "an external Vault without its address",
      stack: "staging",
      overrides: { [`${P}:vault`]: without("address") },
      key: "vault.address",
      message: "is required with vault.install false: the address of the Vault this program configures",
      fix: "pulumi config set --path 'vault.address' 'https://<vault-host>:8200' --stack staging",
    },
    {
      name: "an external Vault without the API server it reviews tokens at",
      stack: "staging",
      overrides: { [`${P}:vault`]: without("kubernetesHost") },
      key: "vault.kubernetesHost",
      message:
        "is required with vault.install false: Vault runs outside the cluster, so its Kubernetes auth reviews tokens at this API server address (as Vault reaches it)",
      fix: "pulumi config set --path 'vault.kubernetesHost' --stack staging -- \"$(kubectl config view --minify -o jsonpath='{.clusters[0].cluster.server}')\"",
    },
    {
      name: "an external Vault without the API server's audience",
      stack: "staging",
      overrides: { [`${P}:vault`]: without("kubernetesApiAudience") },
      key: "vault.kubernetesApiAudience",
      message:
        "is required with vault.install false: Vault sends each login's own ServiceAccount token to the API server for review, and the API server accepts only tokens of its own audience (its issuer: kubectl get --raw /.well-known/openid-configuration)",
      // The API server's issuer differs per cluster (EKS, GKE, AKS): marked, not kind's default.
      fix: "pulumi config set --path 'vault.kubernetesApiAudience' '<api-server-issuer>' --stack staging",
    },
    {
      name: "an install setting on a Vault the program does not install",
      stack: "staging",
      overrides: { [`${P}:vault`]: { ...EXTERNAL, replicas: 3 } },
      key: "vault.replicas",
      message: "applies only to a Vault the program installs, and vault.install is false: remove it",
      fix: "pulumi config rm --path 'vault.replicas' --stack staging",
    },
    {
      name: "an external Vault's API server on a Vault the program installs",
      stack: "staging",
      overrides: { [`${P}:vault`]: { ...(without("install") as object), mode: "ha", kubernetesCaCert: undefined, kubernetesApiAudience: undefined } },
      key: "vault.kubernetesHost",
      message: "is only for a Vault the program does not install (vault.install false); an installed Vault reaches the API server from its own pod",
      fix: "pulumi config rm --path 'vault.kubernetesHost' --stack staging",
    },
    {
      name: "ESO's replicas when the platform runs ESO",
      stack: "staging",
      overrides: { [`${P}:eso`]: { install: false, replicas: 2 } },
      key: "eso.replicas",
      message: "applies only to an ESO the program installs, and eso.install is false: remove it",
      fix: "pulumi config rm --path 'eso.replicas' --stack staging",
    },
    {
      name: "Raft snapshots of a dev server (issue 31)",
      stack: "development",
      overrides: { [`${P}:vault`]: { snapshots: { retentionDays: 7 } } },
      key: "vault.snapshots",
      message: "applies only to an HA Vault (vault.mode ha): a dev server keeps its data in memory",
      fix: "pulumi config rm --path 'vault.snapshots' --stack development",
    },
    {
      name: "Raft snapshots to S3 without the aws section the bucket is made in",
      stack: "staging",
      overrides: {
        [`${P}:vault`]: {
          snapshots: { destination: { kind: "s3", bucketName: "veza-vault-snapshots", uploaderImage: `amazon/aws-cli:2.27.0@sha256:${"1".repeat(64)}` } },
        },
      },
      key: "vault.snapshots.destination.kind",
      message:
        "is s3, but the stack has no aws section: the bucket, its KMS key and the uploader's IRSA role are made in aws.accountId and aws.region, trusting aws.oidcIssuer (set those, or keep snapshots on a PVC in Vault's namespace)",
      fix: "pulumi config rm --path 'vault.snapshots.destination' --stack staging",
    },
    {
      name: "an uploader image pinned by tag only",
      stack: "staging",
      overrides: {
        [`${P}:vault`]: {
          snapshots: {
            destination: {
              kind: "gcs",
              bucket: "veza-vault-snapshots",
              serviceAccountEmail: "snapshots@veza-prod.iam.gserviceaccount.com",
              uploaderImage: "google/cloud-sdk:500.0.0",
            },
          },
        },
      },
      key: "vault.snapshots.destination.uploaderImage",
      message: 'must be an image pinned by digest, such as "amazon/aws-cli:<version>@sha256:<64 hex>"; got "google/cloud-sdk:500.0.0"',
      fix: "pulumi config set --path 'vault.snapshots.destination.uploaderImage' '<image>@sha256:<digest>' --stack staging",
    },
    {
      name: "a cert-manager issuer for the webhook of an ESO the platform runs",
      stack: "staging",
      overrides: { [`${P}:eso`]: { install: false, certManagerIssuer: { name: "veza-webhook-ca" } } },
      key: "eso.certManagerIssuer",
      message: "applies only to an ESO the program installs, and eso.install is false: remove it",
      fix: "pulumi config rm --path 'eso.certManagerIssuer' --stack staging",
    },
    {
      name: "a cert-manager issuer of a kind cert-manager does not have",
      stack: "staging",
      overrides: { [`${P}:eso`]: { certManagerIssuer: { kind: "Vault", name: "veza-webhook-ca" } } },
      key: "eso.certManagerIssuer.kind",
      message: 'must be one of "ClusterIssuer", "Issuer"; got "Vault"',
      fix: "pulumi config set --path 'eso.certManagerIssuer.kind' ClusterIssuer --stack staging",
    },
    {
      name: "the platform's ESO controller named for an ESO the program installs",
      stack: "staging",
      overrides: { [`${P}:eso`]: { serviceAccount: "eso-controller" } },
      key: "eso.serviceAccount",
      message: "names the controller of an ESO the program does not install (eso.install false); the installed one is external-secrets",
      fix: "pulumi config rm --path 'eso.serviceAccount' --stack staging",
    },
    {
      name: "a chart source for a chart the stack does not install",
      stack: "staging",
      overrides: { [`${P}:eso`]: { install: false }, [`${P}:charts`]: { eso: { repository: "oci://registry.example.com/helm" } } },
      key: "charts.eso",
      message: "is set but this stack does not install external-secrets: remove it",
      fix: "pulumi config rm --path 'charts.eso' --stack staging",
    },
    {
      name: "a chart from two places",
      stack: "staging",
      overrides: { [`${P}:charts`]: { vault: { repository: "https://charts.example.com", path: "charts/vault" } } },
      key: "charts.vault.path",
      message: "and charts.vault.repository are both set: a chart comes from one place",
      fix: "pulumi config rm --path 'charts.vault.path' --stack staging",
    },
    {
      name: "a mirror that is not a chart repository",
      stack: "staging",
      overrides: { [`${P}:charts`]: { repository: "registry.example.com/helm" } },
      key: "charts.repository",
      message: 'must be an http(s):// chart repository or an oci:// registry path such as "oci://registry.example.com/helm"; got "registry.example.com/helm"',
      // http(s):// or oci://: the fix cannot tell which, so it marks the mirror rather than guess a scheme.
      fix: "pulumi config set --path 'charts.repository' 'oci://<registry-host>/<path>' --stack staging",
    },
    {
      name: "Reloader both installed by the program and already there",
      stack: "staging",
      overrides: { [`${P}:rotation`]: { installReloader: true, reloaderInstalled: true } },
      key: "rotation.reloaderInstalled",
      message: "is true, and so is rotation.installReloader: a second Reloader would restart every pod twice; keep one",
      fix: "pulumi config rm --path 'rotation.installReloader' --stack staging",
    },
  ];
  itRejectsAndFixes(table);

  it("reads an external Vault: its address, API server, CA and audience; and accepts Reloader already in the cluster with database rotation", () => {
    const { config } = validatedConfig("staging", {
      [`${P}:vault`]: { ...EXTERNAL, replicas: undefined, tlsSecretName: undefined },
      [`${P}:rotation`]: { reloaderInstalled: true },
    });
    assert.equal(config.vault?.install, false);
    assert.equal(config.vault?.address, EXTERNAL.address);
    assert.equal(config.vault?.kubernetesHost, EXTERNAL.kubernetesHost);
    assert.equal(config.vault?.kubernetesCaCert, CA);
    assert.equal(config.vault?.kubernetesApiAudience, EXTERNAL.kubernetesApiAudience);
    assert.ok(config.database, "database rotation with the cluster's Reloader");
    assert.equal(config.rotation.installReloader, false, "the program installs no second Reloader");
  });

  it("reads the platform's ESO: not installed, its controller's ServiceAccount", () => {
    const { config } = validatedConfig("staging", { [`${P}:eso`]: { install: false, serviceAccount: "eso-controller" } });
    assert.equal(config.eso?.install, false);
    assert.equal(config.eso?.serviceAccount, "eso-controller");
  });

  it("takes each chart from its own entry, else the shared mirror (OCI or HTTP), else its own repository", () => {
    const oci = validatedConfig("staging", { [`${P}:charts`]: { repository: "oci://registry.example.com/helm" } }).config.charts;
    assert.deepEqual(oci, {
      vault: { kind: "oci", url: "oci://registry.example.com/helm" },
      eso: { kind: "oci", url: "oci://registry.example.com/helm" },
      reloader: { kind: "oci", url: "oci://registry.example.com/helm" },
    });
    const mixed = validatedConfig("staging", {
      [`${P}:charts`]: { repository: "https://mirror.example.com/charts", reloader: { repository: "oci://r.example.com/x" } },
    }).config.charts;
    assert.deepEqual(mixed, {
      vault: { kind: "repository", url: "https://mirror.example.com/charts" },
      eso: { kind: "repository", url: "https://mirror.example.com/charts" },
      reloader: { kind: "oci", url: "oci://r.example.com/x" },
    });
    assert.deepEqual(validatedConfig("staging").config.charts, {});
  });

  it("accepts a local chart directory only when it holds the pinned chart at the pinned version, and keeps its path relative", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "veza-chart-"));
    try {
      const rel = path.relative(process.cwd(), dir);
      const chart = (version: string) => fs.writeFileSync(path.join(dir, "Chart.yaml"), `apiVersion: v2\nname: vault\nversion: ${version}\n`);
      const load = () => loadStackConfig(source("staging", { [`${P}:charts`]: { vault: { path: rel } } }), "staging");
      chart("0.34.1");
      assert.deepEqual(load().charts.vault, { kind: "path", path: rel });
      chart("0.30.0");
      assert.throws(load, (e: Error) =>
        e.message.includes(
          `veza-secrets:charts.vault.path: must hold the pinned chart vault 0.34.1; its Chart.yaml says vault 0.30.0 (helm pull vault --version 0.34.1 --untar)`,
        ),
      );
      fs.rmSync(path.join(dir, "Chart.yaml"));
      assert.throws(load, (e: Error) => e.message.includes(`veza-secrets:charts.vault.path: "${rel}" has no Chart.yaml`));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
