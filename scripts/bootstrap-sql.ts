/**
 * `npm run bootstrap-sql -- <stack>`: print the one-time SQL a DBA runs as a superuser on
 * the stack's PostgreSQL before Vault manages its credentials (roles, schema, grants).
 * The same `bootstrapSql` is executed against a real PostgreSQL in the tests.
 */
import { bootstrapSql } from "../components/vault/database-sql";
import { loadStackConfig } from "../stacks/config";
import { engineConfig, fakeSecrets, stackConfig, STACKS } from "../harness";

const stack = process.argv[2];
if (!stack || !(STACKS as readonly string[]).includes(stack)) {
  console.error(`usage: npm run bootstrap-sql -- <${STACKS.join("|")}>`);
  process.exit(2);
}
const values = engineConfig(stackConfig(stack));
// Secrets are not needed for the SQL; fakes satisfy the validation and are never printed.
const secrets = fakeSecrets();
const config = loadStackConfig({ values: { ...values, ...secrets }, secretKeys: new Set(Object.keys(secrets)) }, stack);
const db = config.database;
if (!db) {
  console.error(`stack ${stack} has no veza-secrets:database: its database-url is supplied, nothing to bootstrap`);
  process.exit(1);
}
console.log(bootstrapSql({ appSchema: db.appSchema, appGroupRole: db.appGroupRole, staticUsername: db.appUsername, database: db.name, vaultAdminUser: db.adminUsername }));
