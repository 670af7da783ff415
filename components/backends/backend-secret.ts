/**
 * One secret as every cloud backend takes it (AWS Secrets Manager, Google Secret Manager,
 * Azure Key Vault): the catalog key, what it is, and its value.
 */
import type * as pulumi from "@pulumi/pulumi";

/** One secret to store in a backend. */
export interface BackendSecret {
  /** Catalog key (kebab-case); the backend's name for it is `namePrefix + key`. */
  key: string;
  /** What the secret is, stored as the backend's description (tag, annotation). Never a value: it is shown in clear text. */
  description: string;
  /** The value, as a Pulumi secret; each backend wraps it in `pulumi.secret` again, so a plain string never reaches state in clear. */
  value: pulumi.Input<string>;
}
