/**
 * Stack config mistakes in the database logins and their rotation (database, rotation): each
 * rejected with the key, the reason and the exact fix, by the loader and the whole program, and
 * the fix applied with the CLI's rules.
 */
import { P, itRejectsAndFixes, type ConfigMistake } from "./config-fixtures";

describe("stack config", () => {
  // One row per kind of mistake: the exact message and the exact command that fixes it.
  // Each fix is then applied with the CLI's own rules (test/pulumi-cli.ts) and the config
  // validated again, by the CLI's pre-run check and by the program.
  const table: ConfigMistake[] = [
    {
      name: "malformed duration",
      stack: "staging",
      overrides: { [`${P}:database`]: { host: "db", defaultTtl: "soon" } },
      key: "database.defaultTtl",
      message: 'must be a duration such as "24h", "30m" or "1h30m"; got "soon"',
      fix: "pulumi config set --path 'database.defaultTtl' 4h --stack staging",
    },
    {
      name: "a typo in an enum value",
      stack: "staging",
      overrides: { [`${P}:database`]: { host: "db", sslMode: "requre" } },
      key: "database.sslMode",
      message: 'must be one of "disable", "require", "verify-ca", "verify-full"; got "requre"; did you mean "require"?',
      fix: "pulumi config set --path 'database.sslMode' require --stack staging",
    },
    {
      name: "a cron schedule with spaces (quoted for the shell)",
      stack: "development",
      overrides: { [`${P}:rotation`]: { schedule: "daily" } },
      key: "rotation.schedule",
      message: 'must be a five-field cron schedule such as "0 3 * * *"; got "daily"',
      fix: "pulumi config set --path 'rotation.schedule' '0 3 * * *' --stack development",
    },
    {
      name: "a database CA with an sslmode that verifies nothing",
      stack: "staging",
      overrides: { [`${P}:database`]: { host: "db", sslMode: "require", sslRootCert: "/etc/veza/postgres/ca.crt" } },
      key: "database.sslMode",
      message: 'is "require", which verifies no certificate, but database.sslRootCert is set: use verify-full (or verify-ca)',
      fix: "pulumi config set --path 'database.sslMode' verify-full --stack staging",
    },
    {
      name: "a database refresh above half the lease TTL",
      stack: "staging",
      overrides: { [`${P}:database`]: { host: "db", defaultTtl: "1h", refreshInterval: "45m" } },
      key: "database.refreshInterval",
      message: "(45m) must be at most half of database.defaultTtl (1h): the previous login must stay valid while the pods restart",
      fix: "pulumi config set --path 'database.refreshInterval' 30m --stack staging",
    },
    {
      name: "a lease TTL too short to roll the pods",
      stack: "staging",
      overrides: { [`${P}:database`]: { host: "db", defaultTtl: "5m", refreshInterval: "2m" } },
      key: "database.defaultTtl",
      message: 'must be at least 10m (each login must outlive a pod rollout); got "5m"',
      fix: "pulumi config set --path 'database.defaultTtl' 4h --stack staging",
    },
    {
      name: "a database refresh under a minute (the fix is half the lease TTL, the default)",
      stack: "staging",
      overrides: { [`${P}:database`]: { host: "db", defaultTtl: "10m", refreshInterval: "30s" } },
      key: "database.refreshInterval",
      message: 'must be at least 1m (each refresh makes a database login); got "30s"',
      fix: "pulumi config set --path 'database.refreshInterval' 5m --stack staging",
    },
    {
      name: "a lease TTL of a second (refused, not a crash while deriving the refresh)",
      stack: "staging",
      overrides: { [`${P}:database`]: { host: "db", defaultTtl: "1s" } },
      key: "database.defaultTtl",
      message: 'must be at least 10m (each login must outlive a pod rollout); got "1s"',
      fix: "pulumi config set --path 'database.defaultTtl' 4h --stack staging",
    },
    {
      name: "the removed database.rotationPeriod",
      stack: "staging",
      overrides: { [`${P}:database`]: { host: "db", rotationPeriod: "24h" } },
      key: "database.rotationPeriod",
      message: 'was replaced by database.rotationSchedule (cron, UTC; default "0 4 * * 0"): the migration login now rotates at a time you choose',
      fix: "pulumi config rm --path 'database.rotationPeriod' --stack staging && pulumi config set --path 'database.rotationSchedule' '0 4 * * 0' --stack staging",
    },
    {
      name: "the removed database.maxTtl",
      stack: "production",
      overrides: { [`${P}:database`]: { host: "db", maxTtl: "8h" } },
      key: "database.maxTtl",
      message: "was removed: service logins are never renewed, so each lease ends at database.defaultTtl",
      fix: "pulumi config rm --path 'database.maxTtl' --stack production",
    },
    {
      name: "Vault database logins without Reloader",
      stack: "production",
      overrides: { [`${P}:rotation`]: { installReloader: false } },
      key: "rotation.installReloader",
      message:
        "must be true with database (or rotation.reloaderInstalled, when the cluster runs Reloader already): each refresh gives every service a new login, and only Reloader moves the pods onto it before the old one expires",
      fix: "pulumi config set --path 'rotation.installReloader' true --stack production",
    },
    {
      name: "a database CA that is not PEM (the fix reads the file, after -- since PEM starts with dashes)",
      stack: "staging",
      overrides: { [`${P}:database`]: { host: "db", caCert: "postgres-ca.crt" } },
      key: "database.caCert",
      message: 'must be PEM certificate(s): -----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----; got "postgres-ca.crt"',
      fix: `pulumi config set --path 'database.caCert' --stack staging -- "$(cat postgres-ca.crt)"`,
    },
  ];

  itRejectsAndFixes(table);
});
