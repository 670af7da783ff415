/**
 * Support for VaultCluster's tests (components/vault/cluster-*.test.ts): the dev root token, the
 * shape of the Helm values, each cloud seal with the stanza, annotations and labels it must
 * produce, the HA config in full, and every variant of the values the component can produce.
 */
import { VAULT_DEFAULT_RESOURCES, type VaultSeal, type VaultValuesArgs } from "./cluster-args";

export const TOKEN = "FAKE-SECRET-vaultDevRootToken-5f3c9a";

export type Values = {
  global: Record<string, unknown>;
  injector: Record<string, unknown>;
  server: Record<string, unknown> & {
    image: { tag: string };
    ha: Record<string, unknown> & { raft: { config: string } };
    serviceAccount: Record<string, unknown>;
  };
  ui?: Record<string, unknown>;
};

export const SEALS: Record<VaultSeal["type"], { seal: VaultSeal; stanza: string; annotations: Record<string, string>; podLabels: Record<string, string> }> = {
  awskms: {
    seal: { type: "awskms", region: "eu-west-1", kmsKeyId: "alias/veza-vault-unseal", roleArn: "arn:aws:iam::123456789012:role/veza-vault-unseal" },
    stanza: ['seal "awskms" {', '  region     = "eu-west-1"', '  kms_key_id = "alias/veza-vault-unseal"', "}"].join("\n"),
    annotations: { "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/veza-vault-unseal" },
    podLabels: {},
  },
  gcpckms: {
    seal: {
      type: "gcpckms",
      project: "veza-prod",
      region: "europe-west1",
      keyRing: "vault",
      cryptoKey: "unseal",
      serviceAccountEmail: "vault-unseal@veza-prod.iam.gserviceaccount.com",
    },
    stanza: ['seal "gcpckms" {', '  project    = "veza-prod"', '  region     = "europe-west1"', '  key_ring   = "vault"', '  crypto_key = "unseal"', "}"].join(
      "\n",
    ),
    annotations: { "iam.gke.io/gcp-service-account": "vault-unseal@veza-prod.iam.gserviceaccount.com" },
    podLabels: {},
  },
  azurekeyvault: {
    seal: {
      type: "azurekeyvault",
      tenantId: "22222222-2222-2222-2222-222222222222",
      vaultName: "veza-unseal",
      keyName: "vault-unseal",
      clientId: "11111111-1111-1111-1111-111111111111",
    },
    stanza: [
      'seal "azurekeyvault" {',
      '  tenant_id  = "22222222-2222-2222-2222-222222222222"',
      '  vault_name = "veza-unseal"',
      '  key_name   = "vault-unseal"',
      "}",
    ].join("\n"),
    annotations: { "azure.workload.identity/client-id": "11111111-1111-1111-1111-111111111111" },
    podLabels: { "azure.workload.identity/use": "true" },
  },
};

/** The HA config for 3 replicas without a seal, in full. */
export const HA_CONFIG_3 = `ui = false
disable_mlock = true

listener "tcp" {
  address            = "[::]:8200"
  cluster_address    = "[::]:8201"
  tls_disable        = false
  tls_cert_file      = "/vault/userconfig/tls/tls.crt"
  tls_key_file       = "/vault/userconfig/tls/tls.key"
  tls_client_ca_file = "/vault/userconfig/tls/ca.crt"
}

storage "raft" {
  path = "/vault/data"

  retry_join {
    leader_api_addr     = "https://vault-0.vault-internal:8200"
    leader_ca_cert_file = "/vault/userconfig/tls/ca.crt"
  }

  retry_join {
    leader_api_addr     = "https://vault-1.vault-internal:8200"
    leader_ca_cert_file = "/vault/userconfig/tls/ca.crt"
  }

  retry_join {
    leader_api_addr     = "https://vault-2.vault-internal:8200"
    leader_ca_cert_file = "/vault/userconfig/tls/ca.crt"
  }
}

service_registration "kubernetes" {}
`;

/** Every variant the component can produce, by label. */
export const VARIANTS: [string, VaultValuesArgs][] = [
  ["dev", { mode: "dev", devRootToken: TOKEN }],
  [
    "dev with port, resources and labels",
    { mode: "dev", devRootToken: TOKEN, devNodePort: 31200, labels: { team: "platform" }, resources: VAULT_DEFAULT_RESOURCES },
  ],
  ["ha without seal", { mode: "ha" }],
  ["ha, first install (sealed pods Ready)", { mode: "ha", acceptSealedAsReady: true }],
  [
    "ha, 5 replicas, sizes and labels",
    { mode: "ha", replicas: 5, storageSize: "20Gi", auditStorageSize: "5Gi", tlsSecretName: "vault-certs", labels: { team: "platform" } },
  ],
  ...Object.values(SEALS).map(({ seal }): [string, VaultValuesArgs] => [`ha with ${seal.type} seal`, { mode: "ha", seal, labels: { team: "platform" } }]),
];
