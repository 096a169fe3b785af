/**
 * Tidings' own layers against the raw baselines: @tidings/amqp's validated, confirmed publish and typed
 * consumer (vs amqplib), the transactional outbox (enqueue through Prisma vs a bare insert; the relay), and a
 * per-message statement through Prisma vs through statement() of @tidings/db.
 */
import { randomUUID } from "node:crypto";
import { Broker, enqueue, OutboxRelay } from "@tidings/amqp";
import { catalog } from "@tidings/contracts";
import { statement } from "@tidings/db";
import { createDb as createMessageSenderDb } from "../apps/message-sender/src/db.ts";
import { type AcceptedSend, recordStatement } from "../apps/message-sender/src/outbound/status.ts";
import { createDb as createSubscriptionDb } from "../apps/subscription/src/db.ts";
import { type Baselines, MESSAGES, ROWS } from "./baselines.ts";
import {
  AMQP_URL,
  benchDatabase,
  cpuMeter,
  deleteNamespace,
  logger,
  namedCpuMeter,
  newNamespace,
  rate,
  record,
  timed,
} from "./lib.ts";

const payload = catalog["outbound.send"].example;

/** @tidings/amqp: validated, confirmed publishes (1,000 in flight) and a typed consumer with prefetch 200. */
export async function benchAmqp(baselines: Baselines): Promise<void> {
  const raw = await baselines.amqp();
  const namespace = newNamespace();
  const broker = await Broker.connect({ url: AMQP_URL, namespace, service: "bench", logger });
  const publishMs = await timed(async () => {
    for (let i = 0; i < MESSAGES; i += 1000) {
      await Promise.all(
        Array.from({ length: Math.min(1000, MESSAGES - i) }, () =>
          broker.publish("outbound.send", { ...payload, id: randomUUID() }),
        ),
      );
    }
  });
  let consumer: Awaited<ReturnType<typeof broker.consume>> | undefined;
  const consumeMs = await timed(
    () =>
      new Promise<void>((resolve) => {
        let seen = 0;
        void broker
          .consume(
            "message-sender.outbound-send",
            {
              "outbound.send": async () => {
                if (++seen === MESSAGES) {
                  resolve();
                }
              },
            },
            { prefetch: 200 },
          )
          .then((c) => {
            consumer = c;
          });
      }),
  );
  await consumer?.stop();
  await broker.close();
  await deleteNamespace(namespace);
  record({
    name: "@tidings/amqp: validated confirmed publish",
    value: rate(MESSAGES, publishMs),
    unit: "msgs/s",
    baseline: "amqplib publish",
    ratio: rate(MESSAGES, publishMs) / raw.publish,
  });
  record({
    name: "@tidings/amqp: typed consume, prefetch 200",
    value: rate(MESSAGES, consumeMs),
    unit: "msgs/s",
    baseline: "amqplib consume",
    ratio: rate(MESSAGES, consumeMs) / raw.consume,
  });
}

/** The outbox: one enqueue per transaction (as an API request does) through Prisma, then the relay. */
export async function benchOutbox(baselines: Baselines): Promise<void> {
  const raw = await baselines.pg();
  const { url, drop } = await benchDatabase("subscription", "o");
  const db = createSubscriptionDb(url);
  const namespace = newNamespace();
  const broker = await Broker.connect({ url: AMQP_URL, namespace, service: "bench", logger });
  const relay = new OutboxRelay({ databaseUrl: url, broker, logger, pollIntervalMs: 60_000 });
  try {
    const enqueueMs = await timed(async () => {
      for (let i = 0; i < ROWS; i++) {
        await db.$transaction((tx) =>
          enqueue(tx, { name: "outbound.send", payload: { ...payload, id: randomUUID() } }),
        );
      }
    });
    record({
      name: "outbox: enqueue, one per transaction (Prisma)",
      value: rate(ROWS, enqueueMs),
      unit: "rows/s",
      baseline: "pg single",
      ratio: rate(ROWS, enqueueMs) / raw.single,
    });
    const relayMs = await timed(async () => {
      while ((await relay.relayBatch()) > 0) {
        // drain
      }
    });
    record({ name: "outbox relay: published and deleted", value: rate(ROWS, relayMs), unit: "msgs/s" });
  } finally {
    await relay.stop();
    await broker.close();
    await deleteNamespace(namespace);
    await db.$disconnect();
    await drop();
  }
}

/**
 * message-sender's send record (recordStatement, its longest per-message statement), one at a time, for sends
 * whose claim it does not find (so it writes nothing and every run is alike): through Prisma's $queryRawUnsafe,
 * and through statement() of @tidings/db on the same client's pool (no query engine; the text prepared once per
 * connection, so Postgres neither parses nor plans it again). CPU per statement of this process and of Postgres.
 */
export async function benchStatements(): Promise<void> {
  const { url, drop } = await benchDatabase("message-sender", "q");
  const db = createMessageSenderDb(url);
  const record1 = (): { text: string; values: unknown[] } => {
    const send: AcceptedSend = {
      id: randomUUID(),
      worker: "bench",
      result: { providerId: `SM${randomUUID().replaceAll("-", "")}`, delivered: false },
      channel: "LOG",
      toIdentity: null,
      priority: "normal",
    };
    return recordStatement([send]);
  };
  const ways: [string, (s: { text: string; values: unknown[] }) => Promise<unknown>][] = [
    ["Prisma $queryRawUnsafe", (s) => db.$queryRawUnsafe(s.text, ...s.values)],
    ["statement()", (s) => statement(db, s.text, s.values)],
  ];
  let prisma: number | undefined;
  try {
    for (const [label, run] of ways) {
      for (let i = 0; i < 200; i++) {
        await run(record1()); // warm: the connection's prepared statement, Postgres's generic plan
      }
      const cpu = cpuMeter([process.pid]);
      const postgres = namedCpuMeter("postgres");
      const ms = await timed(async () => {
        for (let i = 0; i < ROWS; i++) {
          await run(record1());
        }
      });
      const value = rate(ROWS, ms);
      prisma ??= value;
      record({
        name: `statements: send record, one at a time, ${label}`,
        value,
        unit: "stmts/s",
        ...(label === "statement()" ? { baseline: "Prisma", ratio: value / prisma } : {}),
      });
      record({
        name: `statements: ${label}, CPU per statement, bench`,
        value: cpu.per(ROWS),
        unit: "ms",
      });
      record({
        name: `statements: ${label}, CPU per statement, Postgres`,
        value: postgres.per(ROWS),
        unit: "ms",
      });
    }
  } finally {
    await db.$disconnect();
    await drop();
  }
}
