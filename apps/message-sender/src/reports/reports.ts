import type { DailyChannelStatusCounts, DailyStatusCounts } from "@tidings/contracts";
import type { Db, Tx } from "../db.ts";
import { senderError } from "../errors.ts";
import { Prisma } from "../generated/prisma/client.ts";

export const DAY_MS = 86_400_000;
/** Seed's AGGREGATE_OUTBOUND_BACKTRACK: reports and aggregates default to the last 30 days. */
const BACKTRACK_DAYS = 30;
/** The longest range a report or an aggregation covers. */
const MAX_DAYS = 366;

const isoDay = (date: Date) => date.toISOString().slice(0, 10);
export const today = () => isoDay(new Date());
export const addDays = (day: string, n: number) =>
  isoDay(new Date(Date.parse(`${day}T00:00:00Z`) + n * DAY_MS));

/** A range of UTC days, inclusive: `to` defaults to today, `from` to 30 days before `to`. */
export function dayRange(from: string | undefined, to: string | undefined, names: [string, string]) {
  const end = to ?? today();
  const start = from ?? addDays(end, -BACKTRACK_DAYS);
  const days = (Date.parse(end) - Date.parse(start)) / DAY_MS + 1;
  if (days < 1 || days > MAX_DAYS) {
    throw senderError(
      "VALIDATION_FAILED",
      `${names[0]} must not be after ${names[1]}, and the range at most ${MAX_DAYS} days`,
      [{ field: names[0], message: `must be on or before ${names[1]}, at most ${MAX_DAYS} days before` }],
    );
  }
  return { start, end };
}

/** The outbounds created on the UTC days `start`..`end` (inclusive), as a range of the indexed created_at. */
const createdOn = (start: string, end: string) => Prisma.sql`
  created_at >= ${start}::date::timestamp AT TIME ZONE 'UTC'
  AND created_at < (${end}::date + 1)::timestamp AT TIME ZONE 'UTC'`;

/**
 * Outbounds per day (UTC, by created_at), channel and status, `start`..`end`: one grouped scan of the range's rows
 * through the created_at index (never the history before `from`), and the counts archiving kept of the outbounds
 * it deleted (archived_status_count: a day's final outbounds; those still on their way stay in the table).
 */
const countsByChannel = (start: string, end: string) => Prisma.sql`
  SELECT date, channel, status, sum(count)::int AS count
  FROM (
    SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS date, channel, status::text AS status,
           count(*) AS count
    FROM outbound
    WHERE ${createdOn(start, end)}
    GROUP BY 1, 2, 3
    UNION ALL
    SELECT to_char(date, 'YYYY-MM-DD'), channel, status::text, count
    FROM archived_status_count
    WHERE date BETWEEN ${start}::date AND ${end}::date
  ) AS counts
  GROUP BY 1, 2, 3`;

/** DHOS `sms_status_counts`: outbounds per day (UTC, by created_at) and status. */
export async function statusCounts(db: Db, from?: string, to?: string): Promise<DailyStatusCounts> {
  const { start, end } = dayRange(from, to, ["query.from", "query.to"]);
  return db.$queryRaw<DailyStatusCounts>`
    SELECT date, status, sum(count)::int AS count FROM (${countsByChannel(start, end)}) AS c
    GROUP BY 1, 2
    ORDER BY 1, 2`;
}

/** The status counts split by channel too: outbounds per day (UTC, by created_at), channel and status. */
export async function channelStatusCounts(
  db: Db,
  from?: string,
  to?: string,
): Promise<DailyChannelStatusCounts> {
  const { start, end } = dayRange(from, to, ["query.from", "query.to"]);
  return db.$queryRaw<DailyChannelStatusCounts>`${countsByChannel(start, end)} ORDER BY 1, 2, 3`;
}

/**
 * Seed's aggregate_outbounds: replaces the aggregates of each day in the range with the outbounds per
 * (delivered, channel), their count and attempts. Days already archived keep their aggregates (their
 * outbounds are gone): archiving a day aggregates it first (keepArchivedCounts).
 */
export async function aggregateOutbounds(db: Db, from?: string, to?: string): Promise<void> {
  const { start, end } = dayRange(from, to, ["body.start", "body.end"]);
  await db.$transaction((tx) => aggregateDays(tx, start, end));
}

/** aggregateOutbounds's work, in the caller's transaction: the days of `start`..`end` not archived. */
async function aggregateDays(tx: Tx, start: string, end: string): Promise<void> {
  await tx.$executeRaw`
    DELETE FROM aggregate_outbound
    WHERE date BETWEEN ${start}::date AND ${end}::date
      AND date NOT IN (SELECT date FROM archived_outbounds)`;
  await tx.$executeRaw`
    INSERT INTO aggregate_outbound (date, delivered, channel, attempts, total)
    SELECT (created_at AT TIME ZONE 'UTC')::date, delivered, channel, sum(attempts)::int, count(*)::int
    FROM outbound
    WHERE ${createdOn(start, end)}
      AND (created_at AT TIME ZONE 'UTC')::date NOT IN (SELECT date FROM archived_outbounds)
    GROUP BY 1, 2, 3`;
}

/**
 * A day about to be archived, in the archiving transaction before its rows are deleted (and before the day is
 * recorded archived): its aggregates, recomputed from every outbound of the day, kept for good.
 */
export const aggregateArchivedDay = (tx: Tx, day: string) => aggregateDays(tx, day, day);

/**
 * SQL: deletes the outbounds `where` selects (its parameters from $2) and adds them to the status counts kept of
 * archived day $1 (archived_status_count), in one statement: exactly the rows deleted are counted.
 */
export const deleteCountedSql = (where: string) => `
  WITH deleted AS (DELETE FROM outbound WHERE ${where} RETURNING channel, status)
  INSERT INTO archived_status_count (date, channel, status, count)
  SELECT $1::date, channel, status, count(*)::int FROM deleted GROUP BY channel, status
  ON CONFLICT (date, channel, status) DO UPDATE SET count = archived_status_count.count + EXCLUDED.count`;
