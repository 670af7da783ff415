/**
 * `npm run bootstrap-sql -- production` (any committed stack, or any stack with `--from-cli`): print the one-time SQL a DBA runs as a superuser on
 * the stack's PostgreSQL before Vault manages its credentials (roles, schema, grants).
 * It needs no secret: the stack file's plain config is validated with secrets not required
 * (a secret stored in plain text is still refused). The same `bootstrapSql` is executed
 * against a real PostgreSQL in the tests.
 */
import { bootstrapSql } from "../components/vault/database-sql";
import { stackFromArgs } from "./stack-source";

const config = stackFromArgs(process.argv.slice(2), "npm run bootstrap-sql", { requireSecrets: false });
const db = config.database;
if (!db) {
  console.error(`stack ${config.stack} has no veza-secrets:database: its database-url is supplied, nothing to bootstrap`);
  process.exit(1);
}
console.log(
  bootstrapSql({ appSchema: db.appSchema, appGroupRole: db.appGroupRole, staticUsername: db.appUsername, database: db.name, vaultAdminUser: db.adminUsername }),
);
