import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { CRON_DESCRIPTORS, type CronConsumer, cronMessage, cronProblem, cronRepairs } from "./cron";

/** robfig/cron v3's verdicts, as Kubernetes and Vault parse (test/fixtures/robfig-cron/main.go). */
function robfigVerdicts(): { schedule: string; kubernetes: string; vault: string }[] {
  const file = path.join(__dirname, "..", "test", "fixtures", "robfig-cron", "verdicts.tsv");
  return fs
    .readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => {
      const [schedule, kubernetes, vault] = l.split("\t");
      return { schedule, kubernetes, vault };
    });
}

/**
 * What robfig/cron reads and this check refuses on purpose: an interval (`@every`, not a time of
 * day), a date that never comes (31 February), and syntax nobody means (`+5`, `*-5`, `1,,2`);
 * for Vault, a time zone prefix (its schedules are UTC here).
 */
function refusedOnPurpose(schedule: string, consumer: CronConsumer): boolean {
  if (consumer === "kubernetes" && schedule.startsWith("@every")) return true;
  if (consumer === "vault" && /^(CRON_)?TZ=/.test(schedule)) return true;
  return /(^|[\s,-])\+\d|\*-|,,|never fires/.test(`${schedule} ${cronProblem(schedule, consumer) ?? ""}`);
}

describe("components/cron: schedules as Kubernetes and Vault parse them", () => {
  it("accepts nothing robfig/cron refuses, and refuses only on purpose what it accepts (1,000 schedules, both consumers)", () => {
    const rows = robfigVerdicts();
    assert.ok(rows.length >= 1000 && rows.filter((r) => r.kubernetes === "ok").length > 300, "the fixture covers both verdicts");
    for (const row of rows)
      for (const consumer of ["kubernetes", "vault"] as const) {
        const robfig = row[consumer];
        const ours = cronProblem(row.schedule, consumer);
        if (robfig !== "ok") assert.notEqual(ours, undefined, `${consumer} refuses ${JSON.stringify(row.schedule)} (${robfig}); this check accepted it`);
        else if (ours !== undefined)
          assert.ok(refusedOnPurpose(row.schedule, consumer), `${consumer} accepts ${JSON.stringify(row.schedule)}; refused: ${ours}`);
      }
  });

  const table: [string, CronConsumer, string | undefined][] = [
    ["0 3 * * *", "kubernetes", undefined],
    ["*/15 9-17 * JAN-MAR mon-fri", "kubernetes", undefined],
    ["5/15 0 1,15 * ?", "vault", undefined],
    ["@daily", "kubernetes", undefined],
    ["@midnight", "kubernetes", undefined],
    ["@daily", "vault", "five fields only, no descriptor (@daily)"],
    [
      "@every 1h",
      "kubernetes",
      '"@every 1h" is not one of @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly (@every is an interval, not a time of day)',
    ],
    ["@Daily", "kubernetes", '"@Daily" is not one of @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly'],
    ["0 25 * * 0", "vault", 'hour "25": Constraint error, got value 25 expected range 0-23'],
    ["every sunday at 4 am", "vault", 'minute "every": Invalid characters, got value: every'],
    ["0 3 * *", "kubernetes", "has 4 fields; a schedule has five: minute hour day-of-month month day-of-week"],
    ["0 0 3 * * *", "kubernetes", "has 6 fields; a schedule has five: minute hour day-of-month month day-of-week (no seconds)"],
    ["0 4 * * 7", "vault", 'day of week "7": values run 0-6 (Sunday is 0 or SUN; robfig/cron refuses 7)'],
    ["0 4 * * 0-6/7", "vault", undefined],
    ["0 4 L * *", "kubernetes", 'day of month "L": "L" (last day) is a Quartz extension that robfig/cron (Kubernetes, Vault) does not read'],
    ["0 4 * * 5#2", "kubernetes", 'day of week "5#2": "#" (nth weekday of the month) is a Quartz extension that robfig/cron (Kubernetes, Vault) does not read'],
    ["0 4 15W * *", "vault", 'day of month "15W": "W" (nearest weekday) is a Quartz extension that robfig/cron (Kubernetes, Vault) does not read'],
    ["H 4 * * *", "kubernetes", 'minute "H": "H" (hashed value) is a Quartz extension that robfig/cron (Kubernetes, Vault) does not read'],
    ["0 4 * * JULY", "kubernetes", 'day of week "JULY": Validation error, cannot resolve alias "jul"'],
    ["0 0 31 2 *", "kubernetes", "Invalid explicit day of month definition (the schedule never fires)"],
    ["CRON_TZ=Europe/Paris 0 3 * * *", "kubernetes", "a time zone prefix (TZ=, CRON_TZ=) is refused in a CronJob's schedule"],
    ["TZ=UTC 0 4 * * 0", "vault", "a time zone prefix (TZ=, CRON_TZ=) is not used here: the schedule is UTC"],
  ];
  for (const [schedule, consumer, problem] of table)
    it(`${consumer}: ${JSON.stringify(schedule)} ${problem === undefined ? "is accepted" : "is refused, with its reason"}`, () => {
      assert.equal(cronProblem(schedule, consumer), problem);
    });

  it("words a refusal with what takes the schedule and one that works", () => {
    assert.equal(
      cronMessage('hour "25": Constraint error, got value 25 expected range 0-23', "kubernetes"),
      'must be a cron schedule a Kubernetes CronJob accepts, such as "0 3 * * *"; hour "25": Constraint error, got value 25 expected range 0-23',
    );
    assert.equal(
      cronMessage("five fields only, no descriptor (@daily)", "vault"),
      'must be a cron schedule Vault\'s rotation_schedule accepts, such as "0 4 * * 0"; five fields only, no descriptor (@daily)',
    );
  });

  it("offers what a refused schedule may have meant: a descriptor's five fields, Sunday as 0, no seconds", () => {
    for (const [descriptor, fields] of Object.entries(CRON_DESCRIPTORS)) {
      assert.deepEqual(cronRepairs(descriptor), [fields]);
      assert.equal(cronProblem(fields, "vault"), undefined, fields);
    }
    assert.deepEqual(cronRepairs("0 4 * * 7"), ["0 4 * * 0"]);
    assert.deepEqual(cronRepairs("0 0 4 * * 0"), ["0 4 * * 0"]);
    assert.deepEqual(cronRepairs("30 0 4 * * 0"), []);
    assert.deepEqual(cronRepairs("every sunday"), []);
  });
});
