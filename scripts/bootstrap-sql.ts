/**
 * `npm run bootstrap-sql -- production` (any committed stack): print the one-time SQL a DBA runs as a superuser on
 * the stack's PostgreSQL before Vault manages its credentials (roles, schema, grants).
 * It needs no secret: the stack file's plain config is validated with secrets not required
 * (a secret stored in plain text is still refused). The same `bootstrapSql` is executed
 * against a real PostgreSQL in the tests.
 */
import { bootstrapSql } from "../components/vault/database-sql";
import { engineConfig, stackConfig, STACKS } from "../harness";
import { loadStackConfig } from "../stacks/config";
import { CATALOG } from "../components/catalog";

const stack = process.argv[2];
if (!stack || !(STACKS as readonly string[]).includes(stack)) {
  console.error(`usage: npm run bootstrap-sql -- <${STACKS.join("|")}>`);
  process.exit(2);
}
const config = loadStackConfig({ values: engineConfig(stackConfig(stack)), secretKeys: new Set() }, stack, CATALOG, { requireSecrets: false });
const db = config.database;
if (!db) {
  console.error(`stack ${stack} has no veza-secrets:database: its database-url is supplied, nothing to bootstrap`);
  process.exit(1);
}
console.log(
  bootstrapSql({ appSchema: db.appSchema, appGroupRole: db.appGroupRole, staticUsername: db.appUsername, database: db.name, vaultAdminUser: db.adminUsername }),
);
