import { randomUUID } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, open, readdir, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip, createGzip } from "node:zlib";
import { type ArchivedDay, toSeedTime } from "@tidings/contracts";
import { type PageParams, pageSlice } from "@tidings/service-kit";
import type { Db, Tx } from "../db.ts";
import { senderError } from "../errors.ts";
import { historyEntries, LATE_REPORTS } from "../helpdesk/history.ts";
import { toOutbound } from "../outbound/mapping.ts";
import { addDays, aggregateArchivedDay, DAY_MS, dayRange, deleteCountedSql, today } from "./reports.ts";

/** Outbounds read (and written to an archive) per query. */
const ARCHIVE_PAGE = 1_000;
/** Archiving a day holds its transaction while the file is written: allow a large day. */
const ARCHIVE_TRANSACTION = {
  maxWait: 10_000,
  timeout: 30 * 60_000,
  isolationLevel: "RepeatableRead",
} as const;
/**
 * Written into ARCHIVE_DIR by every archiving run: a process that finds neither it nor an archive in its ARCHIVE_DIR
 * is not looking at the archives (a volume not mounted) and must not take "no file" for "nothing to purge".
 */
const MARKER = ".tidings-archive";
const ARCHIVE_NAME = /^outbounds-\d{4}-\d{2}-\d{2}\.gz$/;

export interface ArchiveResult {
  /** Days written and purged by this call. */
  archived: string[];
}

/**
 * Seed's archive_outbounds: for each day in the range (UTC; only days that are over) that has no archive yet
 * and has final outbounds, writes them as gzipped NDJSON to `<dir>/outbounds-YYYY-MM-DD.gz`, records the
 * archive and deletes exactly the rows written. Outbounds still on their way (queued, submitted) stay.
 *
 * Per day, in one transaction holding the archives' lock (lockArchives; a concurrent run waits, then finds the day
 * recorded): read the rows (one snapshot, taken once the lock is held), write them to a temporary file and fsync
 * it, record the archive and delete the rows written (a row a forget changed meanwhile fails the transaction here),
 * and only then rename the file into place and fsync the directory. A failure before the commit leaves every row in
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
  await writeFile(join(dir, MARKER), "", { flag: "a" });
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
      archived_at: toSeedTime(row.archivedAt),
    })),
  };
}

/**
 * The archives' lock, held by a transaction that writes archive files (archiving a day, purging forgotten people)
 * until it ends: one at a time. It must be the transaction's first statement: a table lock takes no snapshot, so a
 * repeatable-read transaction that waited for it reads what was committed before it got it, the forgets included.
 * Plain reads of `archived_outbounds` (a forget's, the list's) do not wait for it.
 */
export async function lockArchives(tx: Tx): Promise<void> {
  await tx.$executeRaw`LOCK TABLE archived_outbounds IN EXCLUSIVE MODE`;
}

/**
 * The archive files in `dir` (recorded days, and any file a failed run left), by name. Throws when `dir` has neither
 * an archive nor the marker archiving writes: that is not the archives' directory.
 */
export async function archiveFiles(dir: string): Promise<string[]> {
  const names = await readdirOrNothing(dir);
  if (!names.includes(MARKER) && !names.some((name) => ARCHIVE_NAME.test(name))) {
    throw new Error(`ARCHIVE_DIR ${dir} holds no archives and no ${MARKER}: is the archive volume mounted?`);
  }
  return names.filter((name) => ARCHIVE_NAME.test(name)).sort();
}

function readdirOrNothing(dir: string): Promise<string[]> {
  return readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") {
      return [];
    }
    throw err;
  });
}

/** The lines of an archive file, without their line ends; a file that can't be read or unzipped throws. */
export async function* archiveLines(path: string): AsyncGenerator<string> {
  const gunzip = createGunzip();
  createReadStream(path)
    .on("error", (err) => gunzip.destroy(err))
    .pipe(gunzip);
  yield* createInterface({ input: gunzip, crlfDelay: Number.POSITIVE_INFINITY });
}

/**
 * Writes `lines` (each ending with a line end) as the archive file `<dir>/<name>`: gzipped into a temporary file,
 * then `commit` if given (the database's side, which may still fail or decide against the file), then the file
 * fsynced, renamed into place and the directory fsynced. Nothing is renamed when `commit` throws or answers false; the
 * temporary file never stays.
 */
export async function writeArchive(
  dir: string,
  name: string,
  lines: AsyncIterable<string>,
  commit?: () => Promise<boolean>,
): Promise<void> {
  const temporary = join(dir, `.${name}.${randomUUID()}.tmp`);
  try {
    await pipeline(Readable.from(lines), createGzip(), createWriteStream(temporary));
    if (commit && !(await commit())) {
      return;
    }
    await fsync(temporary);
    await rename(temporary, join(dir, name));
    await fsync(dir);
  } finally {
    await rm(temporary, { force: true });
  }
}

const FINAL = `status IN ('delivered', 'failed', 'expired', 'cancelled')`;

/** Archives one day (see archiveOutbounds); returns the outbounds archived (0: skipped). */
async function archiveDay(tx: Tx, dir: string, day: string): Promise<number> {
  await lockArchives(tx);
  if (await tx.archivedOutbounds.findUnique({ where: { date: new Date(day) } })) {
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
  await writeArchive(dir, name, lines(), async () => {
    if (ids.length === 0) {
      return false;
    }
    await aggregateArchivedDay(tx, day);
    await tx.archivedOutbounds.create({ data: { date: new Date(day), archive: name, count: ids.length } });
    for (let i = 0; i < ids.length; i += ARCHIVE_PAGE) {
      await tx.$executeRawUnsafe(
        deleteCountedSql(`id = ANY($2::uuid[]) AND ${FINAL}`),
        day,
        ids.slice(i, i + ARCHIVE_PAGE),
      );
    }
    return true;
  });
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
