/**
 * Archives (message-sender's `ARCHIVE_DIR`): days of delivered outbounds archived (archiveOutbounds: read, gzipped
 * NDJSON, rows deleted) and a forgotten person purged from the archive files (purgeArchives: every file scanned, the
 * person's redacted), each against the raw work in the same run on the same rows and files: the rows read with a
 * bare `pg` client (keyset pages of the same size) and gzipped to a file; the files gunzipped and split into lines.
 */
import { randomUUID } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import pg from "pg";
import { createDb } from "../apps/message-sender/src/db.ts";
import { purgeArchives } from "../apps/message-sender/src/reports/archive-purge.ts";
import { archiveLines, archiveOutbounds } from "../apps/message-sender/src/reports/archives.ts";
import { benchDatabase, logger, rate, record, timed } from "./lib.ts";

const DAYS = Number(process.env.BENCH_ARCHIVE_DAYS ?? 3);
const PER_DAY = Number(process.env.BENCH_ARCHIVE_OUTBOUNDS ?? 20_000);
const PAGE = 1_000;

const isoDay = (daysAgo: number) => new Date(Date.now() - daysAgo * 86_400_000).toISOString().slice(0, 10);

export async function benchArchives(): Promise<void> {
  const { url, drop } = await benchDatabase("message-sender", "a");
  const db = createDb(url);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const dir = await mkdtemp(path.join(tmpdir(), "tidings-bench-archive-"));
  const raw = await mkdtemp(path.join(tmpdir(), "tidings-bench-archive-raw-"));
  const days = Array.from({ length: DAYS }, (_, i) => isoDay(DAYS + 1 - i));
  const person = randomUUID();
  try {
    // Delivered outbounds with content and metadata, spread over each day; one of them the person's.
    for (const day of days) {
      await client.query(
        `INSERT INTO outbound (id, to_addr, to_identity, content, metadata, status, delivered, attempts, channel,
           provider_id, created_at, updated_at, history)
         SELECT gen_random_uuid(), '', gen_random_uuid(), 'Week ' || i || ': your clinic visit is on Tuesday at 9:00.',
           jsonb_build_object('name', 'Person ' || i, 'week', i % 40), 'delivered', true, 1, 'LOG',
           'log-' || $1 || '-' || i, $1::date + i * (86399.0 / $2) * interval '1 second', now(), '[]'
         FROM generate_series(1, $2::int) AS i`,
        [day, PER_DAY],
      );
    }
    await client.query(`UPDATE outbound SET to_identity = $1 WHERE provider_id = $2`, [
      person,
      `log-${days[0]}-7`,
    ]);
    await client.query("VACUUM ANALYZE outbound");
    const outbounds = DAYS * PER_DAY;

    // Raw: the same rows, page by page in the same order, as JSON lines through gzip into a file per day.
    const rawMs = await timed(async () => {
      for (const day of days) {
        async function* lines() {
          let after: [Date, string] | undefined;
          for (;;) {
            const { rows } = await client.query<{ created_at: Date; id: string; line: string }>(
              `SELECT created_at, id, row_to_json(o)::text AS line FROM outbound o
               WHERE created_at >= $1::date AND created_at < $1::date + 1
                 AND ($2::timestamptz IS NULL OR (created_at, id) > ($2, $3::uuid))
               ORDER BY created_at, id LIMIT ${PAGE}`,
              [day, after?.[0] ?? null, after?.[1] ?? null],
            );
            for (const row of rows) {
              yield `${row.line}\n`;
            }
            const last = rows.at(-1);
            if (!last || rows.length < PAGE) {
              return;
            }
            after = [last.created_at, last.id];
          }
        }
        await pipeline(Readable.from(lines()), createGzip(), createWriteStream(path.join(raw, `${day}.gz`)));
      }
    });
    const archiveMs = await timed(() =>
      archiveOutbounds(db, dir, days[0] as string, days.at(-1) as string, logger),
    );
    record({
      name: `archive: ${outbounds} outbounds over ${DAYS} days, read, gzipped, deleted`,
      value: rate(outbounds, archiveMs),
      unit: "rows/s",
      baseline: "pg read + gzip",
      ratio: rawMs / archiveMs,
    });

    // Raw: every archive file gunzipped and split into lines (the scan every purge makes of every file).
    const files = (await readdir(dir)).filter((name) => name.endsWith(".gz"));
    let bytes = 0;
    for (const name of files) {
      bytes += (await stat(path.join(dir, name))).size;
    }
    let lines = 0;
    const scanMs = await timed(async () => {
      for (const name of files) {
        for await (const _ of archiveLines(path.join(dir, name))) {
          lines += 1;
        }
      }
    });
    await client.query(`INSERT INTO archive_purge (identity) VALUES ($1)`, [person]);
    let purged: Awaited<ReturnType<typeof purgeArchives>> | undefined;
    const purgeMs = await timed(async () => {
      purged = await purgeArchives(db, dir);
    });
    if (purged?.outbounds !== 1 || lines !== outbounds) {
      throw new Error(`archives bench: purged ${JSON.stringify(purged)}, ${lines} lines of ${outbounds}`);
    }
    record({
      name: `archive purge: one person from ${files.length} files (${(bytes / 2 ** 20).toFixed(1)} MB gzipped)`,
      value: rate(outbounds, purgeMs),
      unit: "lines/s",
      baseline: "gunzip + split",
      ratio: scanMs / purgeMs,
      detail: `${(purgeMs / 1000).toFixed(2)} s; one file rewritten`,
    });
  } finally {
    await client.end();
    await db.$disconnect();
    await rm(dir, { recursive: true, force: true });
    await rm(raw, { recursive: true, force: true });
    await drop();
  }
}
