/**
 * Tidings' own layers against the raw baselines: @tidings/amqp's validated, confirmed publish and typed
 * consumer (vs amqplib), and the transactional outbox (enqueue through Prisma vs a bare insert; the relay).
 */
import { randomUUID } from "node:crypto";
import { Broker, enqueue, OutboxRelay } from "@tidings/amqp";
import { catalog } from "@tidings/contracts";
import { createDb as createSubscriptionDb } from "../apps/subscription/src/db.ts";
import { type Baselines, MESSAGES, ROWS } from "./baselines.ts";
import {
  AMQP_URL,
  benchDatabase,
  deleteNamespace,
  logger,
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
