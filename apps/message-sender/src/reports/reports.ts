import type { DailyChannelStatusCounts, DailyStatusCounts } from "@tidings/contracts";
import type { Db } from "../db.ts";
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

/** DHOS `sms_status_counts`: outbounds per day (UTC, by created_at) and status. */
export async function statusCounts(db: Db, from?: string, to?: string): Promise<DailyStatusCounts> {
  const { start, end } = dayRange(from, to, ["query.from", "query.to"]);
  return db.$queryRaw<DailyStatusCounts>`
    SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS date, status::text AS status,
           count(*)::int AS count
    FROM outbound
    WHERE ${createdOn(start, end)}
    GROUP BY 1, 2
    ORDER BY 1, 2`;
}

/**
 * The status counts split by channel too: outbounds per day (UTC, by created_at), channel and status. One
 * grouped scan of the range's rows through the created_at index (never the history before `from`).
 */
export async function channelStatusCounts(
  db: Db,
  from?: string,
  to?: string,
): Promise<DailyChannelStatusCounts> {
  const { start, end } = dayRange(from, to, ["query.from", "query.to"]);
  return db.$queryRaw<DailyChannelStatusCounts>`
    SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS date, channel, status::text AS status,
           count(*)::int AS count
    FROM outbound
    WHERE ${createdOn(start, end)}
    GROUP BY 1, 2, 3
    ORDER BY 1, 2, 3`;
}

/**
 * Seed's aggregate_outbounds: replaces the aggregates of each day in the range with the outbounds per
 * (delivered, channel), their count and attempts. Days already archived keep their aggregates (their
 * outbounds are gone).
 */
export async function aggregateOutbounds(db: Db, from?: string, to?: string): Promise<void> {
  const { start, end } = dayRange(from, to, ["body.start", "body.end"]);
  await db.$transaction(async (tx) => {
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
  });
}
