/**
 * The migration that moved the status history into the outbound row (outbound_history_inline), run on a database
 * migrated up to the one before it, holding history rows as they were written: each outbound's rows become its
 * `history`, oldest first, and a late report of an earlier attempt goes onto that attempt.
 */
import { randomBytes } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { dropDatabase, ensureDatabase } from "@tidings/db";
import { DATABASE_SERVER, runId } from "@tidings/testing";
import pg from "pg";
import { describe, expect, it } from "vitest";

const MIGRATIONS = new URL("../prisma/migrations/", import.meta.url);
const THIS = "outbound_history_inline";

/** A migration's statements, split as the migration runner splits them (a function body writes `;` as \073). */
const statementsOf = async (dir: string) =>
  (await readFile(new URL(`${dir}/migration.sql`, MIGRATIONS), "utf8"))
    .split(/;\s*$/m)
    .filter((s) => s.replace(/--.*$/gm, "").trim());

describe("the migration outbound_history_inline", () => {
  it("moves each outbound's history rows into its history, and a late report onto its attempt", async () => {
    const dirs = (await readdir(MIGRATIONS)).filter((d) => /^\d{14}_/.test(d)).sort();
    const at = dirs.findIndex((d) => d.endsWith(`_${THIS}`));
    expect(at).toBeGreaterThan(0);
    const url = `${DATABASE_SERVER}/tidings_test_${runId()}_history_migration_${randomBytes(4).toString("hex")}`;
    await ensureDatabase(url);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      for (const dir of dirs.slice(0, at)) {
        for (const statement of await statementsOf(dir)) {
          await client.query(statement);
        }
      }
      const [resent, queued] = [
        "0e000000-0000-4000-8000-000000000001",
        "0e000000-0000-4000-8000-000000000002",
      ];
      await client.query(
        `INSERT INTO outbound (id, to_addr, channel, status, provider_id, updated_at) VALUES
           ($1, '', 'TW', 'delivered', 'SM2', now()), ($2, '+27820000001', 'TW', 'queued', NULL, now())`,
        [resent, queued],
      );
      await client.query(
        `INSERT INTO outbound_past_attempt (channel, provider_id, outbound_id, reason) VALUES ('TW', 'SM1', $1, 'x')`,
        [resent],
      );
      // Written out of order (ids), as two workers could: the time orders them.
      const rows: [string, string, object][] = [
        ["2026-01-01T00:00:03Z", "submitted", { channel: "TW", provider_id: "SM2", worker: "w2" }],
        ["2026-01-01T00:00:01Z", "submitted", { channel: "TW", provider_id: "SM1", worker: "w1" }],
        [
          "2026-01-01T00:00:02Z",
          "queued",
          { channel: "TW", provider_id: "SM1", reason: "twilio undelivered" },
        ],
        ["2026-01-01T00:00:04Z", "delivered", { channel: "TW", provider_id: "SM2" }],
        [
          "2026-01-01T00:00:05Z",
          "delivered",
          {
            channel: "TW",
            provider_id: "SM1",
            reason: "late report of an earlier attempt: twilio delivered",
          },
        ],
        [
          "2026-01-01T00:00:06Z",
          "delivered",
          { channel: "TW", provider_id: "SM1", reason: "late report of an earlier attempt" },
        ],
      ];
      for (const [time, status, detail] of rows) {
        await client.query(
          "INSERT INTO outbound_event (outbound_id, status, detail, at) VALUES ($1, $2, $3, $4)",
          [resent, status, JSON.stringify(detail), time],
        );
      }

      for (const statement of await statementsOf(dirs[at] as string)) {
        await client.query(statement);
      }
      const history = await client.query<{ id: string; history: object[] }>(
        "SELECT id::text, history FROM outbound ORDER BY id",
      );
      expect(history.rows).toEqual([
        {
          id: resent,
          history: [
            {
              at: "2026-01-01T00:00:01+00:00",
              status: "submitted",
              channel: "TW",
              provider_id: "SM1",
              worker: "w1",
            },
            {
              at: "2026-01-01T00:00:02+00:00",
              status: "queued",
              channel: "TW",
              provider_id: "SM1",
              reason: "twilio undelivered",
            },
            {
              at: "2026-01-01T00:00:03+00:00",
              status: "submitted",
              channel: "TW",
              provider_id: "SM2",
              worker: "w2",
            },
            { at: "2026-01-01T00:00:04+00:00", status: "delivered", channel: "TW", provider_id: "SM2" },
          ],
        },
        { id: queued, history: [] },
      ]);
      const late = await client.query(
        "SELECT late_status, late_reason, late_at FROM outbound_past_attempt WHERE provider_id = 'SM1'",
      );
      expect(late.rows).toEqual([
        {
          late_status: "delivered",
          late_reason: "twilio delivered",
          late_at: new Date("2026-01-01T00:00:05Z"),
        },
      ]);
      const tables = await client.query("SELECT to_regclass('outbound_event') AS t");
      expect(tables.rows).toEqual([{ t: null }]);
    } finally {
      await client.end();
      await dropDatabase(url);
    }
  });
});
