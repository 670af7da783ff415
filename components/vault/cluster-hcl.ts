/**
 * Vault's server configuration in HCL for HA mode (TLS listener, Raft with a retry_join per
 * pod, Kubernetes service registration, the seal stanza) and what the seal's cloud identity
 * needs on the ServiceAccount and pods. Pure functions of the args.
 */
import { VAULT_API_PORT, VAULT_RELEASE_NAME, VAULT_TLS_DIR, VaultSeal } from "./cluster-args";

/** An HCL block with aligned `key = "value"` lines, indented by `indent`. */
function hclBlock(header: string, entries: [string, string][], indent = ""): string {
  const width = Math.max(...entries.map(([k]) => k.length));
  const lines = entries.map(([k, v]) => `${indent}  ${k.padEnd(width)} = ${JSON.stringify(v)}`);
  return [`${indent}${header} {`, ...lines, `${indent}}`].join("\n");
}

/** The `seal` stanza of Vault's config: key location only, never credentials. */
export function sealStanza(seal: VaultSeal): string {
  switch (seal.type) {
    case "awskms":
      return hclBlock('seal "awskms"', [
        ["region", seal.region],
        ["kms_key_id", seal.kmsKeyId],
      ]);
    case "gcpckms":
      return hclBlock('seal "gcpckms"', [
        ["project", seal.project],
        ["region", seal.region],
        ["key_ring", seal.keyRing],
        ["crypto_key", seal.cryptoKey],
      ]);
    case "azurekeyvault":
      // No client_id here: the workload-identity webhook injects AZURE_CLIENT_ID and the
      // federated token file, which the seal's default Azure credential picks up.
      return hclBlock('seal "azurekeyvault"', [
        ["tenant_id", seal.tenantId],
        ["vault_name", seal.vaultName],
        ["key_name", seal.keyName],
      ]);
  }
}

/** Annotations on Vault's ServiceAccount that bind it to the seal's cloud identity. */
export function sealServiceAccountAnnotations(seal: VaultSeal | undefined): Record<string, string> {
  switch (seal?.type) {
    case "awskms":
      return { "eks.amazonaws.com/role-arn": seal.roleArn };
    case "gcpckms":
      return { "iam.gke.io/gcp-service-account": seal.serviceAccountEmail };
    case "azurekeyvault":
      return { "azure.workload.identity/client-id": seal.clientId };
    default:
      return {};
  }
}

/** Pod labels the seal's identity needs (Azure's webhook only mutates labelled pods). */
export function sealPodLabels(seal: VaultSeal | undefined): Record<string, string> {
  return seal?.type === "azurekeyvault" ? { "azure.workload.identity/use": "true" } : {};
}

/** Vault's HA config (HCL): TLS listener, Raft with a retry_join per pod, Kubernetes service registration, seal. */
export function vaultHaConfig(args: { replicas: number; seal?: VaultSeal; ui?: boolean }): string {
  const tls = (file: string) => `${VAULT_TLS_DIR}/${file}`;
  const retryJoins = Array.from({ length: args.replicas }, (_, i) =>
    hclBlock(
      "retry_join",
      [
        ["leader_api_addr", `https://${VAULT_RELEASE_NAME}-${i}.${VAULT_RELEASE_NAME}-internal:${VAULT_API_PORT}`],
        ["leader_ca_cert_file", tls("ca.crt")],
      ],
      "  ",
    ),
  );
  const sections = [
    // `disable_mlock = true` at the start of a line, so the chart does not append a second one
    // (vault-helm#1153); Raft's memory-mapped BoltDB is why HashiCorp recommends it.
    `ui = ${args.ui ?? false}\ndisable_mlock = true`,
    [
      'listener "tcp" {',
      '  address            = "[::]:8200"',
      '  cluster_address    = "[::]:8201"',
      "  tls_disable        = false",
      `  tls_cert_file      = "${tls("tls.crt")}"`,
      `  tls_key_file       = "${tls("tls.key")}"`,
      `  tls_client_ca_file = "${tls("ca.crt")}"`,
      "}",
    ].join("\n"),
    ['storage "raft" {', '  path = "/vault/data"', "", retryJoins.join("\n\n"), "}"].join("\n"),
    'service_registration "kubernetes" {}',
  ];
  if (args.seal) sections.push(sealStanza(args.seal));
  return `${sections.join("\n\n")}\n`;
}
