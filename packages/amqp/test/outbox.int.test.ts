import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { InvalidPayloadError } from "@tidings/contracts";
import {
  type Capture,
  captureMessages,
  createTestDatabase,
  createTestNamespace,
  type TestDatabase,
  testLogger,
  waitFor,
} from "@tidings/testing";
import pg from "pg";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  type Broker,
  enqueue,
  enqueueStatement,
  isFirstDelivery,
  OUTBOX_CHANNEL,
  OutboxRelay,
  type OutboxRelayOptions,
  outboxBacklog,
  pruneProcessedMessages,
} from "../src/index.ts";
import {
  connectBroker,
  inTransaction,
  outboundSend,
  sqlExecutor,
  tally,
  teardown,
  waitForNoSessions,
} from "./helpers.ts";

const ns = createTestNamespace();
let database: TestDatabase;
let pool: pg.Pool;
let broker: Broker;
let capture: Capture;
const relays: OutboxRelay[] = [];

beforeAll(async () => {
  database = await createTestDatabase("identity");
  pool = new pg.Pool({ connectionString: database.url, max: 10 });
  broker = await connectBroker(ns.namespace);
});
afterAll(() =>
  teardown(
    () => Promise.all(relays.map((r) => r.stop())),
    () => broker?.close(),
    () => pool?.end(),
    async () => {
      if (database) {
        await waitForNoSessions(database.url).catch(() => undefined);
        await database.drop();
      }
    },
    () => ns.cleanup(),
  ),
);

const outboxCount = async (): Promise<number> =>
  (await pool.query<{ n: number }>("SELECT count(*)::int AS n FROM tidings_outbox")).rows[0]?.n ?? -1;

describe("isFirstDelivery", () => {
  const queue = "message-sender.outbound-send" as const;
  const processed = async (messageId: string) =>
    (
      await pool.query("SELECT 1 FROM tidings_processed_message WHERE queue = $1 AND message_id = $2", [
        queue,
        messageId,
      ])
    ).rowCount;

  it("is true the first time a queue handles a messageId and false after that", async () => {
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
    expect(await processed(messageId)).toBe(1);
  });

  it("forgets the record when the handler's transaction rolls back", async () => {
    const messageId = randomUUID();
    expect(
      await inTransaction(pool, (tx) => isFirstDelivery(tx, { queue, messageId }), { rollback: true }),
    ).toBe(true);
    expect(await processed(messageId)).toBe(0);
    // so the redelivery is handled
    expect(await inTransaction(pool, (tx) => isFirstDelivery(tx, { queue, messageId }))).toBe(true);
    expect(await processed(messageId)).toBe(1);
  });

  it("pruneProcessedMessages forgets only records older than the retention", async () => {
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
    expect(await processed(old)).toBe(0);
    expect(await processed(recent)).toBe(1);
  });
});

describe("outbox", () => {
  /** A relay that counts the rows it published itself (its own batches, not the other relay's). */
  const startRelay = async (
    options: Partial<OutboxRelayOptions> = {},
  ): Promise<OutboxRelay & { published: number }> => {
    const relay = Object.assign(
      new OutboxRelay({
        databaseUrl: database.url,
        broker,
        logger: testLogger(),
        pollIntervalMs: 200,
        ...options,
      }),
      { published: 0 },
    );
    const relayBatch = relay.relayBatch.bind(relay);
    relay.relayBatch = async () => {
      const n = await relayBatch();
      relay.published += n;
      return n;
    };
    relays.push(relay);
    await relay.start();
    return relay;
  };
  const stopRelays = () => Promise.all(relays.splice(0).map((r) => r.stop()));
  const captured = (messageId: string) => capture.messages.filter((m) => m.messageId === messageId);

  beforeEach(async () => {
    capture = await captureMessages(ns.namespace, ["outbound.send"]);
  });
  afterEach(async () => {
    await stopRelays();
    await capture.stop();
    await pool.query("DELETE FROM tidings_outbox");
  });

  it("publishes what a committed transaction enqueued, with its messageId, then deletes the row", async () => {
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

  it("publishes nothing for a transaction that rolled back", async () => {
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

  it("keeps what was enqueued while no relay ran, and publishes it once a relay starts", async () => {
    const relay = await startRelay();
    await stopRelays();
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

  it("outboxBacklog counts what waits and its oldest's age; onPublished hears each batch once published", async () => {
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
    expect(backlog.oldestAgeSeconds).toBeGreaterThanOrEqual(90);
    expect(backlog.oldestAgeSeconds).toBeLessThan(100);

    const heard: string[][] = [];
    await startRelay({ onPublished: (messages) => heard.push(messages.map((m) => m.id)) });
    await waitFor(async () => (await outboxCount()) === 0, { what: "the outbox drained" });
    expect(heard).toEqual([ids]);
    expect(await outboxBacklog(sqlExecutor(pool))).toEqual({ rows: 0, oldestAgeSeconds: 0 });
  });

  it("two relays running at once publish each row exactly once", async () => {
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

  it("one relay per database listens for notifications, and another takes over when it stops", async () => {
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

  it("refuses an invalid payload and writes nothing, not even the valid messages beside it", async () => {
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

  it("enqueueStatement writes the messages iff the caller's change in the same statement is made", async () => {
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

  it("skips an id that is already in the outbox", async () => {
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
