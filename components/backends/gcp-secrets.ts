/**
 * Google Cloud Secret Manager as an ESO backend: one secret per catalog key, and one
 * Google service account that ESO impersonates through GKE Workload Identity and that may
 * read those secrets and nothing else (no project-wide role).
 */
import { IAMAuditConfig } from "@pulumi/gcp/projects";
import * as secretmanager from "@pulumi/gcp/secretmanager";
import * as serviceaccount from "@pulumi/gcp/serviceaccount";
import * as pulumi from "@pulumi/pulumi";
import { GCP_PROJECT_ID, GCP_REGION, GCP_SERVICE_ACCOUNT_ID } from "../rules";
import { serviceAccountRefError } from "./service-account-ref";
import type { BackendSecret } from "./backend-secret";

/** The only role the ESO service account gets, and only on this component's secrets. */
export const SECRET_ACCESSOR_ROLE = "roles/secretmanager.secretAccessor";
/** Lets a Kubernetes ServiceAccount act as the Google service account. */
export const WORKLOAD_IDENTITY_USER_ROLE = "roles/iam.workloadIdentityUser";

export interface GcpSecretsArgs {
  /** Google Cloud project that holds the secrets and the service account, and whose GKE Workload Identity pool (`<project>.svc.id.goog`) ESO's cluster uses. */
  project: string;
  /**
   * Prepended to each key to make the secret id, e.g. `veza-production-`. Letters, digits,
   * `-` and `_` only; it is what keeps environments sharing a project apart, so give each
   * environment its own. Changing it replaces every secret.
   */
  namePrefix: string;
  /** The secrets, one per catalog key. Keys must be unique. */
  secrets: BackendSecret[];
  /**
   * Empty: automatic replication (Google picks the locations). Otherwise user-managed
   * replicas in exactly these locations, e.g. `["europe-west1", "europe-west4"]`. Changing
   * it replaces every secret (Secret Manager cannot change replication in place).
   */
  replicationLocations: string[];
  /** Labels on every secret. GCP rules: lowercase keys starting with a letter, keys and values at most 63 characters. Default: none. */
  labels?: Record<string, string>;
  /** Account id of the Google service account ESO impersonates, 6-30 characters, e.g. `eso-veza-production`. Unique within the project. */
  serviceAccountId: string;
  /**
   * The Kubernetes ServiceAccount ESO uses for this store. The caller creates it and
   * annotates it with `iam.gke.io/gcp-service-account: <serviceAccountEmail>`.
   */
  kubernetesServiceAccount: { namespace: string; name: string };
  /** Protect the secrets (`protect` and Secret Manager deletion protection). Default: `false`; set in production. */
  protect?: boolean;
  /**
   * Turn on Secret Manager's Data Access audit logs (ADMIN_READ, DATA_READ, DATA_WRITE) in the
   * project, so every secret read is in Cloud Audit Logs (they are off by default; only admin
   * writes are logged). Default: `true`. Hazard: an IAMAuditConfig is authoritative for its
   * service in the project; a second one for secretmanager.googleapis.com elsewhere would fight it.
   */
  dataAccessAuditLogs?: boolean;
  /** Google provider for every child. Default: the provider inherited from the parent. */
  provider?: pulumi.ProviderResource;
}

/** The Secret Manager id for `key`. */
export function gcpSecretId(namePrefix: string, key: string): string {
  return `${namePrefix}${key}`;
}

/** The IAM member for a Kubernetes ServiceAccount in the project's Workload Identity pool. */
export function workloadIdentityMember(project: string, ksa: { namespace: string; name: string }): string {
  return `serviceAccount:${project}.svc.id.goog[${ksa.namespace}/${ksa.name}]`;
}

const SECRET_ID = /^[a-zA-Z0-9_-]{1,255}$/;
const LABEL_KEY = /^[a-z][a-z0-9_-]{0,62}$/;
const LABEL_VALUE = /^[a-z0-9_-]{0,63}$/;

/** The first problem with `args`, as a message naming the argument and the fix; `undefined` if none. */
export function validateGcpSecretsArgs(args: GcpSecretsArgs): string | undefined {
  if (!GCP_PROJECT_ID.test(args.project)) {
    return `[project] must be a Google Cloud project id (6-30 lowercase letters, digits, '-', starting with a letter); got "${args.project}".`;
  }
  if (!/^[a-zA-Z0-9_-]+$/.test(args.namePrefix)) {
    return `[namePrefix] must be letters, digits, '-' or '_' such as "veza-production-"; got "${args.namePrefix}".`;
  }
  const seen = new Set<string>();
  for (const s of args.secrets) {
    if (seen.has(s.key)) return `[secrets] lists key "${s.key}" twice; give each secret its own key.`;
    seen.add(s.key);
    const id = gcpSecretId(args.namePrefix, s.key);
    if (!SECRET_ID.test(id)) {
      return `[secrets] key "${s.key}" makes secret id "${id}", which must be 1-255 letters, digits, '-' or '_'; shorten or rename the key.`;
    }
  }
  const locations = new Set<string>();
  for (const loc of args.replicationLocations) {
    if (!GCP_REGION.test(loc)) return `[replicationLocations] must list Google Cloud regions such as "europe-west1"; got "${loc}".`;
    if (locations.has(loc)) return `[replicationLocations] lists "${loc}" twice; list each location once.`;
    locations.add(loc);
  }
  for (const [k, v] of Object.entries(args.labels ?? {})) {
    if (!LABEL_KEY.test(k)) return `[labels] key "${k}" must start with a lowercase letter and be at most 63 lowercase letters, digits, '-' or '_'.`;
    if (!LABEL_VALUE.test(v)) return `[labels] value "${v}" of "${k}" must be at most 63 lowercase letters, digits, '-' or '_'.`;
  }
  if (!GCP_SERVICE_ACCOUNT_ID.test(args.serviceAccountId)) {
    return `[serviceAccountId] must be 6-30 lowercase letters, digits or '-', starting with a letter and not ending with '-', such as "eso-veza-production"; got "${args.serviceAccountId}" (${args.serviceAccountId.length} characters).`;
  }
  return serviceAccountRefError("kubernetesServiceAccount", args.kubernetesServiceAccount);
}

/** Secret Manager secrets for one environment, readable only by that environment's ESO identity. */
export class GcpSecrets extends pulumi.ComponentResource {
  /** Email of the Google service account ESO impersonates; annotate the Kubernetes ServiceAccount with it. */
  public readonly serviceAccountEmail: pulumi.Output<string>;
  /** Secret id by catalog key, known once that secret's value is stored (use as a dependency). */
  public readonly secretIds: Record<string, pulumi.Output<string>>;
  /** The project holding the secrets. */
  public readonly project: string;

  constructor(name: string, args: GcpSecretsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("veza:secrets:GcpSecrets", name, {}, opts);
    const problem = validateGcpSecretsArgs(args);
    if (problem) throw new pulumi.ResourceError(problem, this);

    const childOpts: pulumi.CustomResourceOptions = { parent: this, provider: args.provider };
    const replication: secretmanager.SecretArgs["replication"] =
      args.replicationLocations.length === 0 ? { auto: {} } : { userManaged: { replicas: args.replicationLocations.map((location) => ({ location })) } };

    const account = new serviceaccount.Account(
      `${name}-eso`,
      {
        project: args.project,
        accountId: args.serviceAccountId,
        displayName: `External Secrets Operator (${args.namePrefix}*)`,
        description: `Read by ESO through Workload Identity; may read the ${args.namePrefix}* secrets only.`,
      },
      childOpts,
    );
    const member = pulumi.interpolate`serviceAccount:${account.email}`;

    new serviceaccount.IAMMember(
      `${name}-eso-workload-identity`,
      {
        serviceAccountId: pulumi.interpolate`projects/${args.project}/serviceAccounts/${account.email}`,
        role: WORKLOAD_IDENTITY_USER_ROLE,
        member: workloadIdentityMember(args.project, args.kubernetesServiceAccount),
      },
      childOpts,
    );

    this.secretIds = {};
    for (const entry of args.secrets) {
      const secretId = gcpSecretId(args.namePrefix, entry.key);
      const secret = new secretmanager.Secret(
        `${name}-${entry.key}`,
        {
          project: args.project,
          secretId,
          replication,
          labels: args.labels,
          annotations: { description: entry.description },
          deletionProtection: args.protect ?? false,
        },
        // protect: losing a secret loses its value and every version; the caller turns it on in production.
        pulumi.mergeOptions(childOpts, { protect: args.protect ?? false }),
      );
      // Not protected: a new value replaces the version (create, then destroy the old one).
      // The SDK marks secretData secret too; wrapping here does not depend on that.
      const version = new secretmanager.SecretVersion(`${name}-${entry.key}-version`, { secret: secret.id, secretData: pulumi.secret(entry.value) }, childOpts);
      new secretmanager.SecretIamMember(
        `${name}-${entry.key}-accessor`,
        { project: args.project, secretId: secret.secretId, role: SECRET_ACCESSOR_ROLE, member },
        childOpts,
      );
      this.secretIds[entry.key] = version.id.apply(() => secretId);
    }

    if (args.dataAccessAuditLogs ?? true) {
      new IAMAuditConfig(
        `${name}-data-access-audit`,
        {
          project: args.project,
          service: "secretmanager.googleapis.com",
          auditLogConfigs: [{ logType: "ADMIN_READ" }, { logType: "DATA_READ" }, { logType: "DATA_WRITE" }],
        },
        childOpts,
      );
    }

    this.serviceAccountEmail = account.email;
    this.project = args.project;
    this.registerOutputs({ serviceAccountEmail: this.serviceAccountEmail, secretIds: this.secretIds, project: this.project });
  }
}
