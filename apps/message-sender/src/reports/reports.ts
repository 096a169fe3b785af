import { randomUUID } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, open, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import type { ArchivedDay, DailyChannelStatusCounts, DailyStatusCounts } from "@tidings/contracts";
import { type PageParams, pageSlice } from "@tidings/service-kit";
import type { Db, Tx } from "../db.ts";
import { senderError } from "../errors.ts";
import { Prisma } from "../generated/prisma/client.ts";
import { historyEntries, LATE_REPORTS } from "../helpdesk/history.ts";
import { toOutbound } from "../outbound/mapping.ts";

const DAY_MS = 86_400_000;
/** Seed's AGGREGATE_OUTBOUND_BACKTRACK: reports and aggregates default to the last 30 days. */
const BACKTRACK_DAYS = 30;
/** The longest range a report or an aggregation covers. */
const MAX_DAYS = 366;
/** Outbounds read (and written to an archive) per query. */
const ARCHIVE_PAGE = 1_000;
/** Archiving a day holds its transaction while the file is written: allow a large day. */
const ARCHIVE_TRANSACTION = {
  maxWait: 10_000,
  timeout: 30 * 60_000,
  isolationLevel: "RepeatableRead",
} as const;

const isoDay = (date: Date) => date.toISOString().slice(0, 10);
const today = () => isoDay(new Date());
const addDays = (day: string, n: number) => isoDay(new Date(Date.parse(`${day}T00:00:00Z`) + n * DAY_MS));

/** A range of UTC days, inclusive: `to` defaults to today, `from` to 30 days before `to`. */
function dayRange(from: string | undefined, to: string | undefined, names: [string, string]) {
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

export interface ArchiveResult {
  /** Days written and purged by this call. */
  archived: string[];
}

/**
 * Seed's archive_outbounds: for each day in the range (UTC; only days that are over) that has no archive yet
 * and has final outbounds, writes them as gzipped NDJSON to `<dir>/outbounds-YYYY-MM-DD.gz`, records the
 * archive and deletes exactly the rows written. Outbounds still on their way (queued, submitted) stay.
 *
 * Per day, in one transaction holding an advisory lock on the day (a concurrent run skips it): read the rows
 * (one snapshot), write them to a temporary file, fsync it, rename it into place and fsync the directory;
 * only then record the archive and delete the rows written. A failure before the commit leaves every row in
 * place (at worst a file that the next run overwrites); a day recorded is skipped by later runs.
 */
export async function archiveOutbounds(
  db: Db,
  dir: string | undefined,
  start: string,
  end: string,
  log: { info(fields: object, message: string): void },
): Promise<ArchiveResult> {
  if (!dir) {
    throw senderError("MESSAGE_SENDER_ARCHIVE_NOT_CONFIGURED", "ARCHIVE_DIR is not set");
  }
  if (end >= today()) {
    throw senderError("VALIDATION_FAILED", "end must be before today: a day is archived once it is over", [
      { field: "body.end", message: "must be before today (UTC)" },
    ]);
  }
  dayRange(start, end, ["body.start", "body.end"]);
  await mkdir(dir, { recursive: true });
  const archived: string[] = [];
  for (let day = start; day <= end; day = addDays(day, 1)) {
    const count = await db.$transaction((tx) => archiveDay(tx, dir, day), ARCHIVE_TRANSACTION);
    if (count > 0) {
      archived.push(day);
      log.info({ day, count }, "outbounds archived");
    }
  }
  return { archived };
}

/** The days archived, newest day first. */
export async function listArchivedDays(
  db: Db,
  page: PageParams,
): Promise<{ count: number; results: ArchivedDay[] }> {
  const [count, rows] = await db.$transaction([
    db.archivedOutbounds.count(),
    db.archivedOutbounds.findMany({ orderBy: { date: "desc" }, ...pageSlice(page) }),
  ]);
  return {
    count,
    results: rows.map((row) => ({
      date: row.date.toISOString().slice(0, 10),
      archive: row.archive,
      count: row.count,
      archived_at: row.archivedAt.toISOString(),
    })),
  };
}

const FINAL = `status IN ('delivered', 'failed', 'expired', 'cancelled')`;

/** Archives one day (see archiveOutbounds); returns the outbounds archived (0: skipped). */
async function archiveDay(tx: Tx, dir: string, day: string): Promise<number> {
  const [locked] = await tx.$queryRaw<{ ok: boolean }[]>`
    SELECT pg_try_advisory_xact_lock(hashtext('archive-outbounds'), hashtext(${day})) AS ok`;
  if (!locked?.ok || (await tx.archivedOutbounds.findUnique({ where: { date: new Date(day) } }))) {
    return 0;
  }
  const from = new Date(`${day}T00:00:00Z`);
  const where = { createdAt: { gte: from, lt: new Date(from.getTime() + DAY_MS) } };
  const ids: string[] = [];
  async function* lines() {
    let after: { createdAt: Date; id: string } | undefined;
    for (;;) {
      const rows = await tx.outbound.findMany({
        where: {
          ...where,
          status: { in: ["delivered", "failed", "expired", "cancelled"] },
          ...(after && {
            OR: [
              { createdAt: { gt: after.createdAt } },
              { createdAt: after.createdAt, id: { gt: after.id } },
            ],
          }),
        },
        orderBy: [{ createdAt: "asc" }, { id: "asc" }],
        take: ARCHIVE_PAGE,
        include: LATE_REPORTS,
      });
      for (const row of rows) {
        ids.push(row.id);
        // With its history: the archive is all that is left of it once the row is deleted.
        yield `${JSON.stringify({ ...toOutbound(row), history: historyEntries(row.history, row.pastAttempts) })}\n`;
      }
      const last = rows.at(-1);
      if (!last || rows.length < ARCHIVE_PAGE) {
        return;
      }
      after = { createdAt: last.createdAt, id: last.id };
    }
  }
  const name = `outbounds-${day}.gz`;
  const temporary = join(dir, `.${name}.${randomUUID()}.tmp`);
  try {
    await pipeline(Readable.from(lines()), createGzip(), createWriteStream(temporary));
    if (ids.length === 0) {
      return 0;
    }
    await fsync(temporary);
    await rename(temporary, join(dir, name));
    await fsync(dir);
  } finally {
    await rm(temporary, { force: true });
  }
  await tx.archivedOutbounds.create({ data: { date: new Date(day), archive: name, count: ids.length } });
  for (let i = 0; i < ids.length; i += ARCHIVE_PAGE) {
    await tx.$executeRawUnsafe(
      `DELETE FROM outbound WHERE id = ANY($1::uuid[]) AND ${FINAL}`,
      ids.slice(i, i + ARCHIVE_PAGE),
    );
  }
  return ids.length;
}

async function fsync(path: string): Promise<void> {
  const handle = await open(path, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
