import { randomUUID } from "node:crypto";
import { OUTBOX_MESSAGES } from "@tidings/amqp";
import { serviceTest, waitFor } from "@tidings/testing";
import { describe, expect } from "vitest";
import type { Tx } from "../src/db.ts";
import { type Report, ReportBatcher, type ReportOutcome } from "../src/outbound/report-batch.ts";
import {
  type AcceptedSend,
  type RecordResult,
  recordSends,
  recordStatement,
} from "../src/outbound/status.ts";
import { createMessageSenderService } from "../src/service.ts";
import { statusesOf } from "./helpers.ts";
import { accepted, claimedBy, submitted } from "./submitted.ts";
import type { Svc } from "./support.ts";

// Final reports that arrive together, applied together (ReportBatcher, behind reportFinal): one read and one statement
// for those that arrive in the same turn of the event loop, or while statements are in flight. No worker runs here, so
// the outbox and the hook deliveries keep what the statements wrote. Most tests keep a report that finds no outbound at
// once (no grace).

const it = serviceTest(createMessageSenderService());

const providerId = (send: { result: { providerId: string | null } }) => send.result.providerId as string;

const report = (id: string, delivered: boolean, reason: string | null = null): Report => ({
  channel: "LOG",
  providerId: id,
  delivered,
  reason,
});

/** The events of final statuses written for these outbounds, as `name id`. */
async function eventsOf(svc: Svc, ids: string[]): Promise<string[]> {
  const rows = await svc.db.$queryRawUnsafe<{ e: string }[]>(
    `SELECT name || ' ' || coalesce(payload->>'outbound_id', payload->>'id') AS e FROM ${OUTBOX_MESSAGES}
     WHERE coalesce(payload->>'outbound_id', payload->>'id') = ANY($1) AND name <> 'outbound.submitted'`,
    ids,
  );
  return rows.map((r) => r.e).sort();
}

/** One hook for each event of a final report (once per file: its tests share the database). */
const registerHooks = (svc: Svc) =>
  svc.db.$executeRaw`INSERT INTO tidings_hook (event, target, secret)
    SELECT event, 'http://127.0.0.1:9/' || event, 'secret' FROM unnest(ARRAY['outbound.failed', 'outbound.delivery_report']) AS event
    WHERE NOT EXISTS (SELECT 1 FROM tidings_hook h WHERE h.target = 'http://127.0.0.1:9/' || event)`;

/** The hook deliveries written for these outbounds, as `event id`. */
async function hookDeliveriesOf(svc: Svc, ids: string[]): Promise<string[]> {
  const rows = await svc.db.$queryRawUnsafe<{ e: string }[]>(
    `SELECT event || ' ' || coalesce(b->'data'->>'outbound_id', b->'data'->>'id', b->>'outbound_id') AS e
     FROM (SELECT event, body::jsonb AS b FROM tidings_hook_delivery) d
     WHERE coalesce(b->'data'->>'outbound_id', b->'data'->>'id', b->>'outbound_id') = ANY($1)`,
    ids,
  );
  return rows.map((r) => r.e).sort();
}

/** How many transactions last wrote these outbounds (each statement of the batcher is one). */
async function writesOf(svc: Svc, ids: string[]): Promise<number> {
  const [row] = await svc.db.$queryRawUnsafe<{ n: number }[]>(
    "SELECT count(DISTINCT xmin::text)::int AS n FROM outbound WHERE id = ANY($1::uuid[])",
    ids,
  );
  return row?.n ?? 0;
}

/** How many of the database's sessions wait for a lock of this kind (`advisory`, `transactionid`: a row's). */
async function waitingFor(svc: Svc, lock: string): Promise<number> {
  const [row] = await svc.db.$queryRawUnsafe<{ n: number }[]>(
    `SELECT count(*)::int AS n FROM pg_stat_activity
     WHERE datname = current_database() AND wait_event_type = 'Lock' AND wait_event = $1`,
    lock,
  );
  return row?.n ?? 0;
}

type Step = (tx: Tx) => Promise<unknown>;

/** A transaction held open once `start` is made, to force an interleaving: `commit` makes `finish`, then commits. */
async function heldOpen(svc: Svc, start: Step, finish?: Step): Promise<{ commit(): Promise<void> }> {
  let started!: () => void;
  let release!: () => void;
  const [isStarted, released] = [
    new Promise<void>((resolve) => (started = resolve)),
    new Promise<void>((resolve) => (release = resolve)),
  ];
  const done = svc.db.$transaction(
    async (tx) => {
      await start(tx);
      started();
      await released;
      await finish?.(tx);
    },
    { timeout: 30_000 },
  );
  await Promise.race([isStarted, done]);
  return {
    commit: async () => {
      release();
      await done;
    },
  };
}

describe("final reports arriving together", () => {
  it("announce a topic publish's message's delivery report as one (source topic, its own routing key)", async ({
    svc,
  }) => {
    const [topic, other] = (await submitted(svc, "reports-topic", 2)) as [AcceptedSend, AcceptedSend];
    await svc.db.outbound.update({
      where: { id: topic.id },
      data: { metadata: { publish_id: "p-1", topic: "t" } },
    });
    const batcher = new ReportBatcher(svc.db, 0);
    await Promise.all([
      batcher.report(report(providerId(topic), true)),
      batcher.report(report(providerId(other), false)),
    ]);
    const rows = await svc.db.$queryRawUnsafe<{ payload: { outbound_id: string; source?: string } }[]>(
      `SELECT payload FROM ${OUTBOX_MESSAGES} WHERE name = 'outbound.delivery_report' AND payload->>'outbound_id' = ANY($1)`,
      [topic.id, other.id],
    );
    const sourceOf = (id: string) =>
      rows.find((r) => r.payload.outbound_id === id)?.payload.source ?? "(none)";
    expect([sourceOf(topic.id), sourceOf(other.id)]).toEqual(["topic", "(none)"]);
  });

  it("are applied in fewer statements than reports, each with its own outcome, events and hooks once", async ({
    svc,
  }) => {
    await registerHooks(svc);
    const sends = await submitted(svc, "reports-1", 25);
    const [delivered, failed, final] = [sends.slice(0, 10), sends.slice(10, 20), sends.slice(20, 24)];
    const resent = sends[24] as (typeof sends)[number];
    // Already final: their reports are replays. One was sent again: its report is of an earlier attempt.
    await svc.db.outbound.updateMany({
      where: { id: { in: final.map((s) => s.id) } },
      data: { status: "delivered" },
    });
    const pastId = `old-${randomUUID()}`;
    await svc.db.outboundPastAttempt.create({
      data: { channel: "LOG", providerId: pastId, outboundId: resent.id, reason: "resent" },
    });
    const early = [1, 2, 3].map(() => `early-${randomUUID()}`);
    const cases: [Report, ReportOutcome][] = [
      ...delivered.map((s): [Report, ReportOutcome] => [report(providerId(s), true), "applied"]),
      ...failed.map((s): [Report, ReportOutcome] => [
        report(providerId(s), false, "undeliverable"),
        "applied",
      ]),
      ...final.map((s): [Report, ReportOutcome] => [report(providerId(s), false, "late"), "unchanged"]),
      [report(pastId, false, "expired"), "unchanged"],
      ...early.map((id): [Report, ReportOutcome] => [report(id, true), "early"]),
    ];

    const batcher = new ReportBatcher(svc.db, 0);
    const outcomes = await Promise.all(cases.map(([r]) => batcher.report(r)));

    expect(outcomes).toEqual(cases.map(([, outcome]) => outcome));
    // 28 reports arriving in one turn of the event loop: one read and one statement for them all.
    expect(batcher.statements).toBe(2);
    const changed = [...delivered, ...failed].map((s) => s.id);
    expect(await writesOf(svc, changed)).toBeLessThanOrEqual(3);
    const rows = await svc.db.outbound.findMany({ where: { id: { in: sends.map((s) => s.id) } } });
    const statusOf = (id: string) => rows.find((r) => r.id === id);
    for (const s of delivered) {
      expect(statusOf(s.id)).toMatchObject({ status: "delivered", delivered: true, toAddr: "" });
    }
    for (const s of failed) {
      expect(statusOf(s.id)).toMatchObject({ status: "failed", lastError: "undeliverable", toAddr: "" });
    }
    expect(statusOf(resent.id)?.status).toBe("submitted");
    expect(await eventsOf(svc, [...changed, ...final.map((s) => s.id), resent.id])).toEqual(
      [
        ...delivered.flatMap((s) => [`outbound.delivered ${s.id}`, `outbound.delivery_report ${s.id}`]),
        ...failed.flatMap((s) => [`outbound.failed ${s.id}`, `outbound.delivery_report ${s.id}`]),
      ].sort(),
    );
    expect(await hookDeliveriesOf(svc, [...changed, ...final.map((s) => s.id)])).toEqual(
      [
        ...delivered.map((s) => `outbound.delivery_report ${s.id}`),
        ...failed.flatMap((s) => [`outbound.failed ${s.id}`, `outbound.delivery_report ${s.id}`]),
      ].sort(),
    );
    const history = await Promise.all(
      [...changed, resent.id].map(async (id) =>
        (await statusesOf(svc.db, id)).map((status) => `${status} ${id}`),
      ),
    );
    expect(
      history
        .flat()
        .filter((h) => !h.startsWith("submitted"))
        .sort(),
    ).toEqual(
      [
        ...delivered.map((s) => `delivered ${s.id}`),
        ...failed.map((s) => `failed ${s.id}`),
        `failed ${resent.id}`, // the late report, in the history only
      ].sort(),
    );
    expect(await svc.db.earlyReport.count({ where: { providerId: { in: early } } })).toBe(3);
  });

  it("applies a report whose send was recorded after its statement's snapshot, while it waited for the lock", async ({
    svc,
  }) => {
    const [command] = await claimedBy(svc, "reports-2", 1);
    const send = accepted(command!, "reports-2");
    const batcher = new ReportBatcher(svc.db, 0);
    // recordSends's statement, held open before its commit: it took the report lock and recorded the send, and its
    // read of the early reports found none.
    const recording = await heldOpen(svc, async (tx) => {
      const records = recordStatement([send]);
      const [result] = await tx.$queryRawUnsafe<RecordResult[]>(records.text, ...records.values);
      expect(result).toMatchObject({ recorded: [send.id], early: [] });
    });
    // The report finds no outbound with its provider id (not committed yet): its statement waits for the lock.
    const reported = batcher.report(report(providerId(send), true));
    await waitFor(async () => (await waitingFor(svc, "advisory")) === 1, {
      what: "the report waiting for the lock",
    });
    await recording.commit();

    // Kept as an early report, it would be lost: recordSends read the early reports before it was written.
    expect(await reported).toBe("applied");
    expect(await svc.db.outbound.findUniqueOrThrow({ where: { id: send.id } })).toMatchObject({
      status: "delivered",
      delivered: true,
    });
    expect(await svc.db.earlyReport.count({ where: { providerId: providerId(send) } })).toBe(0);
    expect(await eventsOf(svc, [send.id])).toEqual(
      [`outbound.delivered ${send.id}`, `outbound.delivery_report ${send.id}`].sort(),
    );
  });

  it("is applied by recordSends when it was kept while recordSends's statement waited for the lock", async ({
    svc,
  }) => {
    const [command] = await claimedBy(svc, "reports-6", 1);
    const send = accepted(command!, "reports-6");
    // The report's keeping, held open after it took the report lock and found no outbound: kept, not committed.
    const keeping = await heldOpen(
      svc,
      (tx) =>
        tx.$queryRaw`SELECT outbound_keep_early_report('LOG', ${providerId(send)}, 'delivered', NULL, NULL)`,
    );
    // recordSends's statement takes its snapshot, then waits for that lock; the early report commits meanwhile.
    const recording = recordSends(svc.db, [send]);
    await waitFor(async () => (await waitingFor(svc, "advisory")) === 1, {
      what: "recordSends waiting for the lock",
    });
    await keeping.commit();

    // Read with the statement's snapshot, the early report would be missed, and never applied.
    expect(await recording).toEqual([true]);
    expect(await svc.db.outbound.findUniqueOrThrow({ where: { id: send.id } })).toMatchObject({
      status: "delivered",
      delivered: true,
    });
    expect(await svc.db.earlyReport.count({ where: { providerId: providerId(send) } })).toBe(0);
  });

  it("makes the first of duplicate reports in one statement, once, and keeps the first early one", async ({
    svc,
  }) => {
    const [x, y, target] = await submitted(svc, "reports-3", 3);
    const earlyId = `early-${randomUUID()}`;
    const batcher = new ReportBatcher(svc.db, 0);
    const outcomes = await Promise.all(
      [
        report(providerId(x!), true),
        report(providerId(y!), true),
        report(providerId(target!), true),
        report(providerId(target!), false, "undeliverable"),
        report(providerId(target!), true),
        report(earlyId, false, "rejected"),
        report(earlyId, true),
      ].map((r) => batcher.report(r)),
    );

    expect(outcomes).toEqual(["applied", "applied", "applied", "unchanged", "unchanged", "early", "early"]);
    expect(batcher.statements).toBe(2); // one read and one statement for all seven
    expect(await svc.db.outbound.findUniqueOrThrow({ where: { id: target!.id } })).toMatchObject({
      status: "delivered",
    });
    expect(await statusesOf(svc.db, target!.id)).toEqual(["submitted", "delivered"]);
    expect(await eventsOf(svc, [target!.id])).toEqual(
      [`outbound.delivered ${target!.id}`, `outbound.delivery_report ${target!.id}`].sort(),
    );
    expect(
      await svc.db.earlyReport.findUniqueOrThrow({
        where: { channel_providerId: { channel: "LOG", providerId: earlyId } },
      }),
    ).toMatchObject({
      status: "failed",
      reason: "rejected",
    });
  });

  it("announces only the changes its statement made: not one another change overtook after the read", async ({
    svc,
  }) => {
    await registerHooks(svc);
    const [x, y, overtaken, other] = await submitted(svc, "reports-5", 4);
    const batcher = new ReportBatcher(svc.db);
    // Another change of `overtaken` (as another process's report would make it), holding its row until released.
    const overtaking = await heldOpen(
      svc,
      (tx) => tx.$executeRaw`SELECT 1 FROM outbound WHERE id = ${overtaken!.id}::uuid FOR UPDATE`,
      (tx) =>
        tx.$executeRaw`UPDATE outbound SET status = 'delivered', delivered = true WHERE id = ${overtaken!.id}::uuid`,
    );
    // x and y go at once; the other two share the third statement, which waits for the row.
    const reported = Promise.all(
      [x!, y!, overtaken!, other!].map((s) => batcher.report(report(providerId(s), false, "undeliverable"))),
    );
    await waitFor(async () => (await waitingFor(svc, "transactionid")) === 1, {
      what: "the statement waiting for the row",
    });
    await overtaking.commit();

    expect(await reported).toEqual(["applied", "applied", "unchanged", "applied"]);
    const ids = [x!, y!, overtaken!, other!].map((s) => s.id);
    expect(await eventsOf(svc, ids)).toEqual(
      [x!, y!, other!].flatMap((s) => [`outbound.failed ${s.id}`, `outbound.delivery_report ${s.id}`]).sort(),
    );
    expect(await hookDeliveriesOf(svc, ids)).toEqual(
      [x!, y!, other!].flatMap((s) => [`outbound.failed ${s.id}`, `outbound.delivery_report ${s.id}`]).sort(),
    );
    expect(await statusesOf(svc.db, overtaken!.id)).toEqual(["submitted"]);
  });

  it("fails only the report at fault when their statement fails", async ({ svc }) => {
    const sends = await submitted(svc, "reports-4", 4);
    const batcher = new ReportBatcher(svc.db);
    // A NUL is no text Postgres stores: the statement that carries this reason fails.
    const results = await Promise.allSettled(
      sends.map((s, i) =>
        batcher.report(report(providerId(s), i !== 3, i === 3 ? "bad\u0000reason" : "undeliverable")),
      ),
    );

    expect(results.map((r) => r.status)).toEqual(["fulfilled", "fulfilled", "fulfilled", "rejected"]);
    const rows = await svc.db.outbound.findMany({ where: { id: { in: sends.map((s) => s.id) } } });
    expect(rows.filter((r) => r.status === "delivered")).toHaveLength(3);
    expect(rows.find((r) => r.id === sends[3]?.id)?.status).toBe("submitted");
  });

  it("looks again after the grace before keeping a report that found no outbound", async ({ svc }) => {
    const [recorded, never] = (await claimedBy(svc, "reports-5", 2)).map((c) => accepted(c, "reports-5"));
    const batcher = new ReportBatcher(svc.db, 1_000);
    // Both overtake their sends; one send is recorded while they wait, the other never is.
    const reported = [recorded!, never!].map((s) => batcher.report(report(providerId(s), true)));
    await waitFor(async () => batcher.statements >= 1, { what: "the reports' first read (one for both)" });
    expect(await recordSends(svc.db, [recorded!])).toEqual([true]);

    expect(await Promise.all(reported)).toEqual(["applied", "early"]);
    expect(await svc.db.outbound.findUniqueOrThrow({ where: { id: recorded!.id } })).toMatchObject({
      status: "delivered",
    });
    const kept = await svc.db.earlyReport.findMany({
      where: { providerId: { in: [recorded!, never!].map(providerId) } },
    });
    expect(kept.map((k) => k.providerId)).toEqual([providerId(never!)]);
  });
});
