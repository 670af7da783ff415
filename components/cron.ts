/**
 * Cron schedules as the systems that run them parse them, checked before anything is
 * registered. Both consumers use robfig/cron v3:
 * - a Kubernetes CronJob's `schedule`: kube-apiserver validates it with `cron.ParseStandard`
 *   (five fields, or a descriptor) and refuses a `TZ=`/`CRON_TZ=` prefix (the CronJob's
 *   `timeZone` field sets the zone) (kubernetes `pkg/apis/batch/validation`). `@every <duration>`
 *   is not accepted here: it is an interval from the controller's start, not a time of day.
 * - Vault's database static role `rotation_schedule`: `cron.NewParser(Minute | Hour | Dom |
 *   Month | Dow)` (vault `builtin/logical/database/schedule/schedule.go`): five fields and
 *   no descriptor (`@daily` fails with "parser does not accept descriptors").
 * A field is a comma list of `*`, `?`, a value or a range `a-b`, each with an optional `/step`
 * (`a/step` is `a-max/step`); months and days of the week may be named (`JAN`, `SUN`, any case).
 * cron-parser (npm) checks values, ranges and steps and gives the reason; what it accepts and
 * robfig/cron does not (a seconds field, `L`, `W`, `#`, `H`, Sunday as 7) is refused first.
 */
import { CronExpressionParser } from "cron-parser";

/** Who runs the schedule: a Kubernetes CronJob, or Vault's database static role. */
export type CronConsumer = "kubernetes" | "vault";

/** robfig/cron v3's descriptors (`parseDescriptor`) and the five fields each stands for. */
export const CRON_DESCRIPTORS: Readonly<Record<string, string>> = {
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
  "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@hourly": "0 * * * *",
};

/** A working schedule to show next to a refusal, per consumer (their defaults in this program). */
export const CRON_EXAMPLES: Readonly<Record<CronConsumer, string>> = { kubernetes: "0 3 * * *", vault: "0 4 * * 0" };

const FIELDS = ["minute", "hour", "day of month", "month", "day of week"] as const;

/** One comma-separated item as robfig/cron reads it: `*`, `?`, a value or a range, then an optional step. */
const ITEM = (value: string) => new RegExp(`^(?:\\*|\\?|${value}(?:-${value})?)(?:/\\d+)?$`, "i");
const NUMBER_ITEM = ITEM("\\d+");
const NAMED_ITEM = ITEM("(?:\\d+|[a-z]{3})");

/** Quartz's extensions, which cron-parser reads and robfig/cron (so neither consumer) does not. */
const EXTENSIONS: readonly [RegExp, string][] = [
  [/^(\d+|[a-z]{3})?L(-\d+)?W?$/i, '"L" (last day)'],
  [/^\d+W$/i, '"W" (nearest weekday)'],
  [/^(\d+|[a-z]{3})#\d+$/i, '"#" (nth weekday of the month)'],
  [/^H(\(\d+-\d+\))?(\/\d+)?$/i, '"H" (hashed value)'],
];

/** cron-parser's reason for refusing `fields`, or undefined. */
function parserError(fields: readonly string[]): string | undefined {
  try {
    CronExpressionParser.parse(fields.join(" "));
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

/** The reason a field's text is not robfig/cron's, where cron-parser would read it anyway. */
function fieldProblem(index: number, field: string): string | undefined {
  const name = FIELDS[index];
  const named = name === "month" || name === "day of week";
  for (const item of field.split(",")) {
    if ((named ? NAMED_ITEM : NUMBER_ITEM).test(item)) continue;
    const extension = EXTENSIONS.find(([re]) => re.test(item));
    if (extension) return `${name} "${field}": ${extension[1]} is a Quartz extension that robfig/cron (Kubernetes, Vault) does not read`;
    // Not robfig's syntax: cron-parser names what it finds wrong, else say what robfig reads.
    const alone = FIELDS.map((_, i) => (i === index ? field : "*"));
    return `${name} "${field}": ${parserError(alone) ?? `"${item}" is not a value, range (a-b) or step (/n)${named ? " or a three-letter name" : ""}`}`;
  }
  const values = field.split(",").flatMap((item) => item.split("/")[0].split("-"));
  if (name === "day of week" && values.some((v) => /^\d+$/.test(v) && Number(v) > 6))
    return `day of week "${field}": values run 0-6 (Sunday is 0 or SUN; robfig/cron refuses 7)`;
  return undefined;
}

/**
 * Why `schedule` is not one `consumer` accepts, or undefined: the field and the parser's
 * reason (`hour "25": Constraint error, got value 25 expected range 0-23`).
 */
export function cronProblem(schedule: string, consumer: CronConsumer): string | undefined {
  if (/^\s*(CRON_)?TZ=/.test(schedule))
    return consumer === "kubernetes"
      ? "a time zone prefix (TZ=, CRON_TZ=) is refused in a CronJob's schedule"
      : "a time zone prefix (TZ=, CRON_TZ=) is not used here: the schedule is UTC";
  if (schedule.startsWith("@")) {
    if (consumer === "vault") return `five fields only, no descriptor (${schedule.split(/\s/)[0]})`;
    if (schedule in CRON_DESCRIPTORS) return undefined;
    return `"${schedule}" is not one of ${Object.keys(CRON_DESCRIPTORS).join(", ")}${schedule.startsWith("@every") ? " (@every is an interval, not a time of day)" : ""}`;
  }
  const fields = schedule.trim().split(/\s+/).filter(Boolean);
  if (fields.length !== 5)
    return `has ${fields.length} field${fields.length === 1 ? "" : "s"}; a schedule has five: minute hour day-of-month month day-of-week${fields.length === 6 ? " (no seconds)" : ""}`;
  for (const [i, field] of fields.entries()) {
    const problem = fieldProblem(i, field);
    if (problem) return problem;
  }
  const error = parserError(fields);
  if (error === undefined) return undefined;
  // The field the parser refuses on its own, if one is: named with the parser's reason.
  const index = fields.findIndex((field, i) => parserError(FIELDS.map((_, j) => (j === i ? field : "*"))) !== undefined);
  return index === -1 ? `${error} (the schedule never fires)` : `${FIELDS[index]} "${fields[index]}": ${error}`;
}

/**
 * Schedules that may be what a refused one meant, for the consumer to accept or not: a
 * descriptor's five fields (Vault), Sunday as 0 rather than 7, a seconds field of 0 dropped.
 */
export function cronRepairs(schedule: string): string[] {
  const out: string[] = [];
  const descriptor = CRON_DESCRIPTORS[schedule.trim()];
  if (descriptor) out.push(descriptor);
  const fields = schedule.trim().split(/\s+/);
  if (fields.length === 5 && fields[4] === "7") out.push([...fields.slice(0, 4), "0"].join(" "));
  if (fields.length === 6 && fields[0] === "0") out.push(fields.slice(1).join(" "));
  return out;
}

/** Who runs each consumer's schedules, for messages. */
const CONSUMER = { kubernetes: "a Kubernetes CronJob", vault: "Vault's rotation_schedule" } as const;

/** The sentence for a refused schedule, without the value: what takes it, one that works, and why this one does not. */
export function cronMessage(problem: string, consumer: CronConsumer): string {
  return `must be a cron schedule ${CONSUMER[consumer]} accepts, such as "${CRON_EXAMPLES[consumer]}"; ${problem}`;
}
