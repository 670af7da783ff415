/**
 * The naming and format rules every layer checks with: the components' own validation, the
 * stack-config schema (stacks/schema.ts) and the fix commands read the same patterns, so a
 * value the config accepts is one the components accept. Each rule is the upstream system's
 * own (Kubernetes, PostgreSQL, Vault, AWS, Google Cloud), written once.
 */

/** A Kubernetes DNS-1123 label: namespace names, label-like names (≤ 63 characters). */
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** A Kubernetes DNS-1123 subdomain: Secret, ServiceAccount and most object names (≤ 253). */
export const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** A non-negative Kubernetes quantity such as `10Gi`, `250m` or `1.5` (stricter than the API: no sign, no exponent). */
export const QUANTITY = /^[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;

/** A lowercase PostgreSQL identifier that needs no quoting (≤ 63 bytes). */
export const PG_IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/** A Vault object name as this program writes them: policies, roles, connections. */
export const VAULT_NAME = /^[a-z0-9][a-z0-9_-]*$/;

/** A Vault path as templated into policies: `/`-separated segments, no glob, no `..`. */
export const VAULT_PATH = /^[A-Za-z0-9_-][A-Za-z0-9._-]*(\/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$/;

/** A catalog key (`jwt-secret`): lowercase words joined by `-`, also a Kubernetes Secret key. */
export const CATALOG_KEY = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/** An AWS region such as `eu-west-1` or `us-gov-west-1`. */
export const AWS_REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;

/** A 12-digit AWS account id (a string: leading zeros are significant). */
export const AWS_ACCOUNT_ID = /^\d{12}$/;

/**
 * An EKS OIDC issuer as IAM names it: host and path, without `https://` and without a
 * trailing `/` (`oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE`).
 */
export const AWS_OIDC_ISSUER = /^[a-z0-9.-]+(\/[A-Za-z0-9._-]+)*$/;

/** A Google Cloud project id (6–30 characters). */
export const GCP_PROJECT_ID = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/;

/** A Google Cloud service account id, the part before `@` (6–30 characters). */
export const GCP_SERVICE_ACCOUNT_ID = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/;

/** A Google Cloud region such as `europe-west1` or `europe-west12`: geography, one `-`, area and number, as every region is named. */
export const GCP_REGION = /^[a-z]+-[a-z]+[0-9]+$/;

/** An Azure Key Vault name: 3–24 letters, digits and `-`, starting with a letter, no `--`. */
export const AZURE_KEY_VAULT_NAME = /^[a-zA-Z](?!.*--)[a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$/;

const IPV4 = "(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)";
/** An IPv4 address or CIDR range (`203.0.113.0/24`), as Key Vault's firewall takes them. */
export const IPV4_RANGE = new RegExp(`^${IPV4}(\\.${IPV4}){3}(/(3[0-2]|[12]?\\d))?$`);
