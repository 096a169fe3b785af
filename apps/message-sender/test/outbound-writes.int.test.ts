/**
 * What an outbound's writes cost the table's indexes (migration outbound_hot_updates): a claim adds no index entry
 * (a HOT update: it changes no indexed column, and the page has room for the new version), and the indexes of
 * columns most sends leave empty hold only the rows that have them, yet still serve every query of them.
 */
import { randomUUID } from "node:crypto";
import { serviceTest } from "@tidings/testing";
import { describe, expect } from "vitest";
import { claimInput, claimStatement } from "../src/sending/claim-window.ts";
import { createMessageSenderService } from "../src/service.ts";
import { msisdn } from "./helpers.ts";

const it = serviceTest(createMessageSenderService());

describe("an outbound's writes", () => {
  it("claims stored outbounds without adding an index entry", async ({ svc }) => {
    // 200 outbounds stored as the API stores them, filling their pages (as far as the table's fillfactor lets).
    await svc.db.$executeRaw`INSERT INTO outbound (id, channel, to_addr, content, metadata)
      SELECT gen_random_uuid(), 'LOG', '+2782' || lpad(n::text, 7, '0'), repeat('Your clinic visit is due. ', 6),
        '{"purpose": "reminder"}'
      FROM generate_series(1, 200) AS n`;
    // Every 20th in the table's order: one a page, so each new version has its page's free room to itself.
    const rows = await svc.db.$queryRaw<{ id: string; to_addr: string }[]>`
      SELECT id::text, to_addr FROM (SELECT id, to_addr, row_number() OVER (ORDER BY ctid) AS n FROM outbound) o
      WHERE n % 20 = 0`;
    expect(rows).toHaveLength(10);
    const window = rows.map((row) =>
      claimInput(
        { id: row.id, to_addr: row.to_addr, content: "", channel: "LOG", metadata: {} },
        "LOG",
        row.to_addr,
      ),
    );
    const claim = claimStatement(window, "hot-worker", 30_000);

    const [counts] = await svc.db.$transaction(async (tx) => {
      const claimed = await tx.$queryRawUnsafe<{ state: string }[]>(claim.text, ...claim.values);
      expect(claimed.map((row) => row.state)).toEqual(Array(10).fill("claimed"));
      // This transaction's own counts (pg_stat_xact_*): no other statement's.
      return tx.$queryRaw<{ updated: number; hot: number }[]>`
        SELECT n_tup_upd::int AS updated, n_tup_hot_upd::int AS hot FROM pg_stat_xact_user_tables
        WHERE relname = 'outbound'`;
    });
    expect(counts).toEqual({ updated: 10, hot: 10 });
  });

  it("keeps sends without a batch, schedule, expiry, identity or provider id out of those columns' indexes", async ({
    svc,
  }) => {
    await svc.db.outbound.create({ data: { id: randomUUID(), channel: "LOG", toAddr: msisdn() } });
    // An index's entries, as ANALYZE counts them (for a partial index: the rows its condition holds for).
    await svc.db.$executeRaw`ANALYZE outbound`;
    const analysed = await svc.db.$queryRaw<{ index: string; entries: number }[]>`
      SELECT relname AS index, reltuples::int AS entries FROM pg_class
      WHERE relname IN ('outbound_pkey', 'outbound_batch_id_status_idx', 'outbound_not_before_idx',
        'outbound_expires_at_idx', 'outbound_to_identity_idx', 'outbound_provider_id_idx')`;
    const stored = await svc.db.outbound.count();
    expect(Object.fromEntries(analysed.map((e) => [e.index, e.entries]))).toEqual({
      outbound_batch_id_status_idx: 0,
      outbound_expires_at_idx: 0,
      outbound_not_before_idx: 0,
      outbound_pkey: stored,
      outbound_provider_id_idx: 0,
      outbound_to_identity_idx: 0,
    });
  });

  it("finds outbounds through those indexes with the parameters the services pass", async ({ svc }) => {
    const forms: [string, string, unknown[]][] = [
      [
        "outbound_to_identity_idx",
        "SELECT id FROM outbound WHERE to_identity = ANY($1::uuid[])",
        [[randomUUID()]],
      ],
      [
        "outbound_to_identity_idx",
        "SELECT id FROM outbound WHERE to_identity IN ($1::uuid, $2::uuid)",
        [randomUUID(), randomUUID()],
      ],
      [
        "outbound_batch_id_status_idx",
        "SELECT status, count(*) FROM outbound WHERE batch_id = ANY($1::uuid[]) GROUP BY status",
        [[randomUUID()]],
      ],
      ["outbound_provider_id_idx", "SELECT id FROM outbound WHERE provider_id = $1", ["SM1"]],
      [
        "outbound_expires_at_idx",
        "SELECT id FROM outbound WHERE status = 'queued' AND expires_at <= $1::timestamptz ORDER BY expires_at LIMIT 500",
        [new Date()],
      ],
      [
        "outbound_not_before_idx",
        "SELECT id FROM outbound WHERE status = 'queued' AND not_before <= $1::timestamptz ORDER BY not_before LIMIT 500",
        [new Date()],
      ],
    ];
    const used = await svc.db.$transaction(async (tx) => {
      // The plan a prepared statement keeps (its parameters unknown), and no sequential scan unless it is the only
      // way: a partial index whose condition the query does not imply cannot be used.
      await tx.$executeRaw`SET LOCAL plan_cache_mode = force_generic_plan`;
      await tx.$executeRaw`SET LOCAL enable_seqscan = off`;
      const found: string[] = [];
      for (const [, text, values] of forms) {
        const plan = await tx.$queryRawUnsafe<{ "QUERY PLAN": string }[]>(`EXPLAIN ${text}`, ...values);
        const lines = plan.map((line) => line["QUERY PLAN"]).join("\n");
        found.push(lines.match(/(?:using|Index Scan on) (outbound_\w+)/)?.[1] ?? lines);
      }
      return found;
    });
    expect(used).toEqual(forms.map(([index]) => index));
  });
});
