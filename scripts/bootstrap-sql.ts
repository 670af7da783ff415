/**
 * `npm run bootstrap-sql -- production` (any committed stack, or any stack with `--from-cli`): print the one-time SQL a DBA runs as a superuser on
 * the stack's PostgreSQL before Vault manages its credentials (roles, schema, grants, one role
 * per service). With `--audit`: the read-only query that lists every login with the
 * application's privileges and no expiry (expected: none), for monitoring.
 * It needs no secret: the stack file's plain config is validated with secrets not required
 * (a secret stored in plain text is still refused). The same `bootstrapSql` is executed
 * against a real PostgreSQL in the tests.
 */
import { SERVICES } from "../components/catalog";
import { auditSql, bootstrapSql } from "../components/vault/database-sql";
import { stackFromArgs } from "./stack-source";

const argv = process.argv.slice(2);
// --audit: the read-only query that lists logins with the application's privileges and no expiry.
const audit = argv.includes("--audit");
const config = stackFromArgs(
  argv.filter((a) => a !== "--audit"),
  "npm run bootstrap-sql",
  { requireSecrets: false },
);
const db = config.database;
if (!db) {
  console.error(`stack ${config.stack} has no veza-secrets:database: its database-url is supplied, nothing to bootstrap`);
  process.exit(1);
}
const options = {
  appSchema: db.appSchema,
  appGroupRole: db.appGroupRole,
  staticUsername: db.appUsername,
  database: db.name,
  vaultAdminUser: db.adminUsername,
  services: SERVICES,
};
console.log(audit ? auditSql(options) : bootstrapSql(options));
