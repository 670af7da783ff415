/**
 * Stack config mistakes in the database logins and their rotation (database, rotation): each
 * rejected with the key, the reason and the exact fix, by the loader and the whole program, and
 * the fix applied with the CLI's rules.
 */
import * as assert from "node:assert/strict";
import { P, itRejectsAndFixes, validatedConfig, type ConfigMistake } from "./config-fixtures";

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
      message:
        'must be a cron schedule a Kubernetes CronJob accepts, such as "0 3 * * *"; has 1 field; a schedule has five: minute hour day-of-month month day-of-week; got "daily"',
      fix: "pulumi config set --path 'rotation.schedule' '0 3 * * *' --stack development",
    },
    // Five fields are not yet a schedule: the parser's reason, naming the field (issue 30 #6).
    {
      name: "an hour that does not exist",
      stack: "staging",
      overrides: { [`${P}:rotation`]: { schedule: "0 25 * * 0" } },
      key: "rotation.schedule",
      message:
        'must be a cron schedule a Kubernetes CronJob accepts, such as "0 3 * * *"; hour "25": Constraint error, got value 25 expected range 0-23; got "0 25 * * 0"',
      fix: "pulumi config set --path 'rotation.schedule' '0 3 * * *' --stack staging",
    },
    {
      name: "a schedule in words",
      stack: "staging",
      overrides: { [`${P}:database`]: { host: "db", rotationSchedule: "every sunday at 4 am" } },
      key: "database.rotationSchedule",
      message:
        'must be a cron schedule Vault\'s rotation_schedule accepts, such as "0 4 * * 0"; minute "every": Invalid characters, got value: every; got "every sunday at 4 am"',
      fix: "pulumi config set --path 'database.rotationSchedule' '0 4 * * 0' --stack staging",
    },
    {
      name: "a descriptor Vault's rotation_schedule does not read (the fix is the same time in five fields)",
      stack: "staging",
      overrides: { [`${P}:database`]: { host: "db", rotationSchedule: "@daily" } },
      key: "database.rotationSchedule",
      message: 'must be a cron schedule Vault\'s rotation_schedule accepts, such as "0 4 * * 0"; five fields only, no descriptor (@daily); got "@daily"',
      fix: "pulumi config set --path 'database.rotationSchedule' '0 0 * * *' --stack staging",
    },
    {
      name: "Sunday as 7, which robfig/cron refuses (the fix keeps the time, Sunday as 0)",
      stack: "production",
      overrides: { [`${P}:rotation`]: { schedule: "30 2 * * 7" } },
      key: "rotation.schedule",
      message:
        'must be a cron schedule a Kubernetes CronJob accepts, such as "0 3 * * *"; day of week "7": values run 0-6 (Sunday is 0 or SUN; robfig/cron refuses 7); got "30 2 * * 7"',
      fix: "pulumi config set --path 'rotation.schedule' '30 2 * * 0' --stack production",
    },
    {
      name: "a time zone prefix, which kube-apiserver refuses in a CronJob's schedule",
      stack: "staging",
      overrides: { [`${P}:rotation`]: { schedule: "CRON_TZ=Europe/Paris 0 3 * * *" } },
      key: "rotation.schedule",
      message:
        'must be a cron schedule a Kubernetes CronJob accepts, such as "0 3 * * *"; a time zone prefix (TZ=, CRON_TZ=) is refused in a CronJob\'s schedule; got "CRON_TZ=Europe/Paris 0 3 * * *"',
      fix: "pulumi config set --path 'rotation.schedule' '0 3 * * *' --stack staging",
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

  it("accepts what each consumer parses: a descriptor for the CronJob, names and steps for both (issue 30 #6)", () => {
    const { config } = validatedConfig("staging", {
      [`${P}:rotation`]: { schedule: "@daily" },
      [`${P}:database`]: { host: "db", rotationSchedule: "30 4 1-7 * SUN" },
    });
    assert.deepEqual([config.rotation.schedule, config.database?.rotationSchedule], ["@daily", "30 4 1-7 * SUN"]);
    assert.equal(
      validatedConfig("staging", { [`${P}:rotation`]: { schedule: "*/30 9-17 * JAN-MAR mon-fri" } }).config.rotation.schedule,
      "*/30 9-17 * JAN-MAR mon-fri",
    );
  });
});
