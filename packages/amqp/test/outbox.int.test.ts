import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { InvalidPayloadError } from "@tidings/contracts";
import { captureNotifications, waitFor } from "@tidings/testing";
import type pg from "pg";
import { describe, expect } from "vitest";
import {
  enqueue,
  enqueueStatement,
  isFirstDelivery,
  OUTBOX_CHANNEL,
  outboxBacklog,
  pruneProcessedMessages,
} from "../src/index.ts";
import { inTransaction, outboundSend, sqlExecutor, tally } from "./helpers.ts";
import { outboxTest as it } from "./outbox-support.ts";

describe("isFirstDelivery", () => {
  const queue = "message-sender.outbound-send" as const;
  const processed = async (pool: pg.Pool, messageId: string) =>
    (
      await pool.query("SELECT 1 FROM tidings_processed_message WHERE queue = $1 AND message_id = $2", [
        queue,
        messageId,
      ])
    ).rowCount;

  it("is true the first time a queue handles a messageId and false after that", async ({ pool }) => {
    const messageId = randomUUID();
    const results = await inTransaction(pool, async (tx) => [
      await isFirstDelivery(tx, { queue, messageId }),
      await isFirstDelivery(tx, { queue, messageId }),
    ]);
    expect(results).toEqual([true, false]);
    // and in a later transaction too
    expect(await inTransaction(pool, (tx) => isFirstDelivery(tx, { queue, messageId }))).toBe(false);
    // another queue handling the same message is a first delivery of its own
    expect(
      await inTransaction(pool, (tx) => isFirstDelivery(tx, { queue: "subscription.send-next", messageId })),
    ).toBe(true);
    expect(await processed(pool, messageId)).toBe(1);
  });

  it("forgets the record when the handler's transaction rolls back", async ({ pool }) => {
    const messageId = randomUUID();
    expect(
      await inTransaction(pool, (tx) => isFirstDelivery(tx, { queue, messageId }), { rollback: true }),
    ).toBe(true);
    expect(await processed(pool, messageId)).toBe(0);
    // so the redelivery is handled
    expect(await inTransaction(pool, (tx) => isFirstDelivery(tx, { queue, messageId }))).toBe(true);
    expect(await processed(pool, messageId)).toBe(1);
  });

  it("pruneProcessedMessages forgets only records older than the retention", async ({ pool }) => {
    const old = randomUUID();
    const recent = randomUUID();
    const db = sqlExecutor(pool);
    await isFirstDelivery(db, { queue, messageId: old });
    await isFirstDelivery(db, { queue, messageId: recent });
    await pool.query(
      "UPDATE tidings_processed_message SET processed_at = now() - interval '2 hours' WHERE message_id = $1",
      [old],
    );
    expect(await pruneProcessedMessages(db, 60 * 60 * 1000)).toBeGreaterThanOrEqual(1);
    expect(await processed(pool, old)).toBe(0);
    expect(await processed(pool, recent)).toBe(1);
  });
});

describe("outbox", () => {
  it("publishes what a committed transaction enqueued, with its messageId, then deletes the row", async ({
    pool,
    captured,
    startRelay,
    outboxCount,
  }) => {
    await startRelay({ pollIntervalMs: 60_000 }); // woken by NOTIFY, not by polling
    const payload = outboundSend("from the outbox");
    const givenId = randomUUID();
    const ids = await inTransaction(pool, (tx) =>
      enqueue(
        tx,
        { name: "outbound.send", payload, correlationId: "corr-o" },
        { name: "outbound.send", payload: outboundSend(), messageId: givenId },
      ),
    );
    expect(ids[1]).toBe(givenId);
    const [first] = await waitFor(() => ids.every((id) => captured(id).length === 1) && ids.map(captured), {
      what: "the outbox messages",
    });
    expect(first).toEqual([{ name: "outbound.send", messageId: ids[0], correlationId: "corr-o", payload }]);
    await waitFor(async () => (await outboxCount()) === 0, { what: "the outbox rows deleted" });
  });

  it("publishes nothing for a transaction that rolled back", async ({
    pool,
    capture,
    captured,
    startRelay,
    outboxCount,
  }) => {
    await startRelay();
    const [rolledBack] = await inTransaction(
      pool,
      (tx) => enqueue(tx, { name: "outbound.send", payload: outboundSend("never") }),
      { rollback: true },
    );
    const [marker] = await inTransaction(pool, (tx) =>
      enqueue(tx, { name: "outbound.send", payload: outboundSend("marker") }),
    );
    await waitFor(() => captured(marker as string).length === 1, { what: "the marker" });
    await sleep(300); // a poll or two
    expect(captured(rolledBack as string)).toEqual([]);
    expect(capture.messages).toHaveLength(1);
    expect(await outboxCount()).toBe(0);
  });

  it("keeps what was enqueued while no relay ran, and publishes it once a relay starts", async ({
    pool,
    capture,
    startRelay,
    outboxCount,
  }) => {
    const relay = await startRelay();
    await relay.stop();
    const ids = await inTransaction(pool, (tx) =>
      enqueue(
        tx,
        ...Array.from({ length: 5 }, (_, i) => ({
          name: "outbound.send" as const,
          payload: outboundSend(`${i}`),
        })),
      ),
    );
    await sleep(300);
    expect(capture.messages).toEqual([]);
    expect(await outboxCount()).toBe(5);
    relay.kick(); // a stopped relay stays stopped
    await sleep(100);
    expect(await outboxCount()).toBe(5);

    await startRelay(); // a fresh process
    await waitFor(() => capture.messages.length >= 5, { what: "the backlog" });
    await waitFor(async () => (await outboxCount()) === 0, { what: "the outbox rows deleted" });
    // published in the order they were enqueued
    expect(capture.messages.map((m) => m.messageId)).toEqual(ids);
  });

  it("outboxBacklog counts what waits and its oldest's age; onPublished hears each batch once published", async ({
    pool,
    startRelay,
    outboxCount,
  }) => {
    expect(await outboxBacklog(sqlExecutor(pool))).toEqual({ rows: 0, oldestAgeSeconds: 0 });
    const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    const ids = await inTransaction(pool, (tx) =>
      enqueue(
        tx,
        { name: "outbound.send", payload: outboundSend("a"), traceContext: { traceparent } },
        { name: "outbound.send", payload: outboundSend("b") },
      ),
    );
    // Kept with the row: the relay publishes it in that trace. No trace active here: none for the other.
    const { rows: stored } = await pool.query<{ id: string; trace_context: unknown }>(
      "SELECT id::text, trace_context FROM tidings_outbox ORDER BY seq",
    );
    expect(stored).toEqual([
      { id: ids[0], trace_context: { traceparent } },
      { id: ids[1], trace_context: null },
    ]);
    await pool.query("UPDATE tidings_outbox SET created_at = now() - interval '90 seconds' WHERE id = $1", [
      ids[0],
    ]);
    const backlog = await outboxBacklog(sqlExecutor(pool));
    expect(backlog.rows).toBe(2);
    // created_at keeps milliseconds: the stored time may round up by up to half of one.
    expect(backlog.oldestAgeSeconds).toBeGreaterThan(89.999);
    expect(backlog.oldestAgeSeconds).toBeLessThan(100);

    const heard: string[][] = [];
    await startRelay({ onPublished: (messages) => heard.push(messages.map((m) => m.id)) });
    await waitFor(async () => (await outboxCount()) === 0, { what: "the outbox drained" });
    expect(heard).toEqual([ids]);
    expect(await outboxBacklog(sqlExecutor(pool))).toEqual({ rows: 0, oldestAgeSeconds: 0 });
  });

  it("two relays running at once publish each row exactly once", async ({
    pool,
    capture,
    startRelay,
    outboxCount,
  }) => {
    const total = 300;
    const rows = () =>
      Array.from({ length: 10 }, () => ({ name: "outbound.send" as const, payload: outboundSend() }));
    // half waiting before the relays start, half enqueued while they run
    const before = await Promise.all(
      Array.from({ length: total / 20 }, () => inTransaction(pool, (tx) => enqueue(tx, ...rows()))),
    );
    const [a, b] = await Promise.all([startRelay({ batchSize: 10 }), startRelay({ batchSize: 10 })]);
    const during = await Promise.all(
      Array.from({ length: total / 20 }, () => inTransaction(pool, (tx) => enqueue(tx, ...rows()))),
    );
    const ids = [...before, ...during].flat();
    expect(new Set(ids).size).toBe(total);
    await waitFor(async () => (await outboxCount()) === 0, { what: "the outbox drained", timeoutMs: 15_000 });
    await waitFor(() => capture.messages.length >= total, { what: `${total} messages` });
    await sleep(300);
    const published = tally(capture.messages.map((m) => m.messageId));
    expect(published.size).toBe(total);
    expect([...published.values()].filter((n) => n !== 1)).toEqual([]);
    expect(new Set(published.keys())).toEqual(new Set(ids));
    // both did part of the work
    expect(a?.published).toBeGreaterThan(0);
    expect(b?.published).toBeGreaterThan(0);
    expect((a?.published ?? 0) + (b?.published ?? 0)).toBe(total);
  });

  it("one relay per database listens for notifications, and another takes over when it stops", async ({
    pool,
    captured,
    startRelay,
  }) => {
    /** The backends listening on the outbox channel. */
    const listening = async () =>
      (
        await pool.query<{ pid: number }>(
          `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN ${OUTBOX_CHANNEL}'`,
        )
      ).rows.map((r) => r.pid);
    const first = await startRelay({ pollIntervalMs: 60_000 });
    await startRelay({ pollIntervalMs: 200 });
    await sleep(500); // a few of the second relay's polls: it stays a poller while the first listens
    const [leader, ...others] = await listening();
    expect(others).toEqual([]);
    const [early] = await inTransaction(pool, (tx) =>
      enqueue(tx, { name: "outbound.send", payload: outboundSend("early") }),
    );
    await waitFor(() => captured(early as string).length === 1, { what: "the first message" });

    await first.stop();
    const [heir] = await waitFor(
      async () => {
        const now = await listening();
        return now.length === 1 && now[0] !== leader && now;
      },
      { what: "the second relay to listen" },
    );
    expect(heir).toBeDefined();
    const [late] = await inTransaction(pool, (tx) =>
      enqueue(tx, { name: "outbound.send", payload: outboundSend("late") }),
    );
    await waitFor(() => captured(late as string).length === 1, { what: "the message after the takeover" });
  });

  it("a statement run on a client whose relay runs in this process notifies no one: it kicks that relay", async ({
    database,
    pool,
    captured,
    startRelay,
  }) => {
    const listener = await captureNotifications(database.url, OUTBOX_CHANNEL);
    const notifications = listener.heard;
    try {
      const db = {}; // the process's database client, as a relay and its statements name it
      const relay = await startRelay({ db, watch: false }); // no listening, no polling: only kicks
      const send = (client: object, content: string, onlyIf?: string) =>
        enqueueStatement(
          [{ name: "outbound.send", payload: outboundSend(content) }],
          { ctes: "", values: [], onlyIf },
          { db: client },
        );
      const run = async (statement: { text: string; values: unknown[] }) =>
        (await pool.query<{ n: number }>(statement.text, statement.values)).rows[0]?.n ?? -1;

      const kicked = send(db, "kicked");
      const inserted = await run(kicked);
      await sleep(300);
      expect(captured(kicked.ids[0] as string)).toEqual([]); // committed, but its relay not told yet
      kicked.committed(inserted);
      await waitFor(() => captured(kicked.ids[0] as string).length === 1, {
        what: "the kicked relay's publish",
      });

      // A statement that inserted nothing notifies no one either; one for a client with no relay here notifies.
      await run(send({}, "none", "false"));
      await run(send({}, "elsewhere"));
      await waitFor(() => notifications.length > 0, { what: "the other client's notification" });
      await sleep(200);
      expect(notifications).toHaveLength(1);

      // Once its relay stopped, the client's statements notify again.
      await relay.stop();
      await run(send(db, "after"));
      await waitFor(() => notifications.length === 2, { what: "the notification after the relay stopped" });
    } finally {
      await listener.stop();
    }
  });

  it("refuses an invalid payload and writes nothing, not even the valid messages beside it", async ({
    pool,
    capture,
    startRelay,
    outboxCount,
  }) => {
    await startRelay();
    const client = await pool.connect();
    try {
      await client.query("BEGIN");
      const { id: _id, ...invalid } = outboundSend();
      await expect(
        enqueue(
          sqlExecutor(client),
          { name: "outbound.send", payload: outboundSend() },
          { name: "outbound.send", payload: invalid as never },
        ),
      ).rejects.toThrow(InvalidPayloadError);
      // nothing reached the table, even inside the still-usable transaction
      expect((await client.query("SELECT count(*)::int AS n FROM tidings_outbox")).rows[0]?.n).toBe(0);
      await client.query("COMMIT");
    } finally {
      client.release();
    }
    await sleep(300);
    expect(capture.messages).toEqual([]);
    expect(await outboxCount()).toBe(0);
  });

  it("enqueueStatement writes the messages iff the caller's change in the same statement is made", async ({
    pool,
    outboxCount,
  }) => {
    await pool.query("CREATE TABLE IF NOT EXISTS atomic_change (id uuid PRIMARY KEY, done boolean NOT NULL)");
    const id = randomUUID();
    await pool.query("INSERT INTO atomic_change (id, done) VALUES ($1, false)", [id]);
    // A compare-and-set: only the first of two identical statements changes the row and enqueues.
    const markDone = () =>
      enqueueStatement([{ name: "outbound.send", payload: outboundSend("changed") }], {
        ctes: "changed AS (UPDATE atomic_change SET done = true WHERE id = $1::uuid AND NOT done RETURNING id)",
        values: [id],
        onlyIf: "EXISTS (SELECT 1 FROM changed)",
      });
    const first = markDone();
    const again = markDone();
    const n = async (statement: { text: string; values: unknown[] }) =>
      (await pool.query<{ n: number }>(statement.text, statement.values)).rows[0]?.n;
    expect([await n(first), await n(again)]).toEqual([1, 0]);
    const stored = await pool.query<{ id: string }>("SELECT id::text FROM tidings_outbox");
    expect(stored.rows.map((r) => r.id)).toEqual(first.ids);

    // A change that fails fails the whole statement: no message either.
    const failing = enqueueStatement([{ name: "outbound.send", payload: outboundSend("never") }], {
      ctes: "again AS (INSERT INTO atomic_change (id, done) VALUES ($1::uuid, true))",
      values: [id],
    });
    await expect(pool.query(failing.text, failing.values)).rejects.toThrow(/duplicate key/);
    expect(await outboxCount()).toBe(1);
  });

  it("publishes a batch in the order its rows were written, seq 99 before seq 100", async ({
    pool,
    capture,
    startRelay,
  }) => {
    // The outbox is empty between tests: its sequence can be set back, so the batch crosses to three digits.
    await pool.query("SELECT setval(pg_get_serial_sequence('tidings_outbox', 'seq'), 97)");
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push(
        ...(await inTransaction(pool, (tx) =>
          enqueue(tx, { name: "outbound.send", payload: outboundSend() }),
        )),
      );
    }
    const { rows } = await pool.query<{ seq: string }>("SELECT seq FROM tidings_outbox ORDER BY seq");
    expect(rows.map((r) => r.seq)).toEqual(["98", "99", "100", "101", "102"]);
    await startRelay({ pollIntervalMs: 60_000 });
    await waitFor(() => capture.messages.length === ids.length, { what: "the five messages" });
    expect(capture.messages.map((m) => m.messageId)).toEqual(ids);
  });

  it("skips an id that is already in the outbox", async ({ pool, captured, startRelay, outboxCount }) => {
    const messageId = randomUUID();
    const payload = outboundSend("once");
    await inTransaction(pool, (tx) => enqueue(tx, { name: "outbound.send", payload, messageId }));
    await inTransaction(pool, (tx) => enqueue(tx, { name: "outbound.send", payload, messageId }));
    expect(await outboxCount()).toBe(1);
    await startRelay();
    await waitFor(() => captured(messageId).length === 1, { what: "the message" });
    await sleep(300);
    expect(captured(messageId)).toHaveLength(1);
  });
});
