import {
  type ContentSchedule,
  type CreateContentScheduleBody,
  isTimeZone,
  type ScheduleRuns,
  type ScheduleRunsQuery,
  toSeedTime,
  type UpdateContentScheduleBody,
} from "@tidings/contracts";
import { found, type PageParams } from "@tidings/service-kit";
import { CronExpressionParser } from "cron-parser";
import type { Db, Tx } from "../db.ts";
import {
  invalidCron,
  invalidTimezone,
  runsWindowReversed,
  runsWindowTooLong,
  scheduleInUse,
  scheduleNotFound,
} from "../errors.ts";
import type { Schedule as ScheduleRow } from "../generated/prisma/client.ts";
import {
  type Listed,
  listInIdOrder,
  type RequestContext,
  referringIds,
  timestamps,
  type WriteErrors,
  write,
  writeDeletion,
} from "./support.ts";

/** The cron fields in cron's order: "minute hour day_of_month month_of_year day_of_week". */
const CRON_FIELDS = ["minute", "hour", "day_of_month", "month_of_year", "day_of_week"] as const;
type CronField = (typeof CRON_FIELDS)[number];

/**
 * Standard cron syntax only (numbers or names, `*`, ranges, steps, lists), which every cron implementation
 * reads the same way: the scheduler evaluates these expressions too. No `L`, `W`, `#`, `?` or `H`.
 */
const CRON_TOKEN = /^(\*|\d+|[a-z]{3})(-(\d+|[a-z]{3}))?(\/\d+)?$/i;

/** A field as it goes into the expression: spaces removed, empty meaning `*` (Seed's `cron_string`). */
const normalise = (value: string) => value.replace(/\s+/g, "") || "*";

type CronFields = Record<CronField, string>;

const cronFieldsOf = (row: ScheduleRow): CronFields => ({
  minute: row.minute,
  hour: row.hour,
  day_of_month: row.dayOfMonth,
  month_of_year: row.monthOfYear,
  day_of_week: row.dayOfWeek,
});

/** Seed's `cron_string`: "minute hour day_of_month month_of_year day_of_week". */
const cronDefinition = (fields: CronFields) => CRON_FIELDS.map((f) => normalise(fields[f])).join(" ");

const cronError = (expression: string): string | undefined => {
  try {
    CronExpressionParser.parse(expression, { strict: false });
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
};

/** Why one field is not valid cron, checked alone (the other fields `*`), or undefined when it is. */
function cronFieldError(field: CronField, value: string): string | undefined {
  if (!value.split(",").every((token) => CRON_TOKEN.test(token))) {
    return `"${value}" is not standard cron: use numbers or names, *, ranges (a-b), steps (/n) and lists (a,b)`;
  }
  return cronError(CRON_FIELDS.map((f) => (f === field ? value : "*")).join(" "));
}

function assertValidSchedule(row: ScheduleRow): void {
  const fields = cronFieldsOf(row);
  const details = CRON_FIELDS.flatMap((field) => {
    const message = cronFieldError(field, normalise(fields[field]));
    return message ? [{ field: `body.${field}`, message }] : [];
  });
  if (details.length === 0 && cronError(cronDefinition(fields))) {
    // Each field is valid alone, but the days never occur in those months (31 in February).
    const message = `day_of_month "${fields.day_of_month}" never occurs in month_of_year "${fields.month_of_year}"`;
    details.push({ field: "body.day_of_month", message }, { field: "body.month_of_year", message });
  }
  if (details.length > 0) {
    throw invalidCron(details);
  }
  if (!isTimeZone(row.timezone)) {
    throw invalidTimezone(row.timezone);
  }
}

function toSchedule(row: ScheduleRow): ContentSchedule {
  return {
    id: row.id,
    minute: row.minute,
    hour: row.hour,
    day_of_week: row.dayOfWeek,
    day_of_month: row.dayOfMonth,
    month_of_year: row.monthOfYear,
    timezone: row.timezone,
    cron_definition: cronDefinition(cronFieldsOf(row)),
    ...timestamps(row),
  };
}

const toColumns = (input: UpdateContentScheduleBody) => ({
  minute: input.minute,
  hour: input.hour,
  dayOfWeek: input.day_of_week,
  dayOfMonth: input.day_of_month,
  monthOfYear: input.month_of_year,
  timezone: input.timezone,
});

/** Writes a schedule, validates the result (so a PATCH is checked merged) and announces it. */
const saveSchedule = (
  db: Db,
  context: RequestContext,
  save: (tx: Tx) => Promise<ScheduleRow>,
  errors?: WriteErrors,
) =>
  write(
    db,
    context,
    async (tx) => {
      const row = await save(tx);
      assertValidSchedule(row);
      const schedule = toSchedule(row);
      return { result: schedule, events: [{ name: "content.schedule.changed", payload: schedule }] };
    },
    errors,
  );

export const createSchedule = (db: Db, input: CreateContentScheduleBody, context: RequestContext) =>
  saveSchedule(db, context, (tx) => tx.schedule.create({ data: toColumns(input) }));

export const updateSchedule = (
  db: Db,
  id: number,
  input: UpdateContentScheduleBody,
  context: RequestContext,
) =>
  saveSchedule(db, context, (tx) => tx.schedule.update({ where: { id }, data: toColumns(input) }), {
    notFound: () => scheduleNotFound(id),
  });

/** Deletes a schedule that no message set has as its default_schedule (409 otherwise) and announces it. */
export const deleteSchedule = (db: Db, id: number, context: RequestContext) =>
  writeDeletion(db, context, "content.schedule.deleted", id, (tx) => tx.schedule.delete({ where: { id } }), {
    notFound: () => scheduleNotFound(id),
    violations: {
      messageset_default_schedule_fkey: async () =>
        scheduleInUse(id, await referringIds(db.messageSet, { defaultScheduleId: id })),
    },
  });

export async function getSchedule(db: Db, id: number): Promise<ContentSchedule> {
  return toSchedule(found(await db.schedule.findUnique({ where: { id } }), () => scheduleNotFound(id)));
}

export async function listSchedules(db: Db, page: PageParams): Promise<Listed<ContentSchedule>> {
  return listInIdOrder(db, db.schedule, {}, page, toSchedule);
}

/** The longest window `runs` accepts: a year (with a leap day) and a day. */
const MAX_RUNS_WINDOW_MS = 367 * 24 * 3600_000;

/**
 * The schedule's run times in [from, to] (both inclusive), computed in its time zone (so 08:00 stays 08:00
 * local across daylight-saving changes), at most `limit` of them.
 */
export async function scheduleRuns(db: Db, id: number, query: ScheduleRunsQuery): Promise<ScheduleRuns> {
  const from = new Date(query.from);
  const to = new Date(query.to);
  if (!(from.getTime() <= to.getTime())) {
    throw runsWindowReversed();
  }
  if (to.getTime() - from.getTime() > MAX_RUNS_WINDOW_MS) {
    throw runsWindowTooLong();
  }
  const schedule = await getSchedule(db, id);
  const limit = query.limit ?? 100;
  const interval = CronExpressionParser.parse(schedule.cron_definition, {
    strict: false,
    tz: schedule.timezone,
    // One millisecond before `from`, so that a run exactly at `from` is listed.
    currentDate: new Date(from.getTime() - 1),
    endDate: to,
  });
  const runs: string[] = [];
  let truncated = false;
  while (interval.hasNext()) {
    const next = interval.next().toDate();
    if (runs.length === limit) {
      truncated = true;
      break;
    }
    runs.push(toSeedTime(next));
  }
  return {
    schedule: id,
    timezone: schedule.timezone,
    cron_definition: schedule.cron_definition,
    from: toSeedTime(from),
    to: toSeedTime(to),
    runs,
    truncated,
  };
}
