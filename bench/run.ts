/**
 * `pnpm bench`: throughput of Tidings' layers against raw baselines measured in the same run, on the
 * same broker and database. Prints a table and writes bench/results/latest.json.
 *
 *   BENCH_MESSAGES=20000        messages for the AMQP figures
 *   BENCH_ROWS=2000             rows for the database figures
 *   BENCH_SUBSCRIPTIONS=20000   subscriptions for the fan-out (100000 for the target figure)
 */
import { randomUUID } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { Broker, enqueue, OutboxRelay } from "@tidings/amqp";
import { catalog, declaredQueues, exchanges, namesFor } from "@tidings/contracts";
import { applyMigrations, DEFAULT_DATABASE_SERVER, dropDatabase } from "@tidings/db";
import { startServiceWorker } from "@tidings/service-kit";
import amqp from "amqplib";
import pg from "pg";
import pino from "pino";
import { loadSubscriptionConfig } from "../apps/subscription/src/config.ts";
import { createDb as createSubscriptionDb } from "../apps/subscription/src/db.ts";
import { subscriptionService } from "../apps/subscription/src/service.ts";
import { ROOT } from "../packages/testing/src/processes.ts";

const AMQP_URL = process.env.AMQP_URL ?? "amqp://guest:guest@127.0.0.1:5672";
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 20_000);
const ROWS = Number(process.env.BENCH_ROWS ?? 2_000);
const SUBSCRIPTIONS = Number(process.env.BENCH_SUBSCRIPTIONS ?? 20_000);
const logger = pino({ level: "silent" });
const run = `bench${process.pid}`;

interface Figure {
  name: string;
  value: number;
  unit: string;
  baseline?: string;
  ratio?: number;
}
const figures: Figure[] = [];
const record = (f: Figure) => {
  figures.push(f);
  const ratio = f.ratio === undefined ? "" : `${f.ratio.toFixed(2)}x of ${f.baseline}`;
  process.stdout.write(
    `  ${f.name.padEnd(52)} ${f.value.toFixed(0).padStart(9)} ${f.unit.padEnd(8)} ${ratio}\n`,
  );
};
const rate = (count: number, ms: number) => (count * 1000) / ms;
const payload = catalog["outbound.send"].example;

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

async function benchDatabase(service: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const url = `${DEFAULT_DATABASE_SERVER}/tidings_${run}_${service.replaceAll("-", "_")}`;
  await dropDatabase(url);
  await applyMigrations(path.join(ROOT, "apps", service), url);
  return { url, drop: () => dropDatabase(url) };
}

/** Raw amqplib: publish with confirms (windows of 1,000), then consume with prefetch 200. */
async function amqpBaseline(): Promise<{ publish: number; consume: number }> {
  const connection = await amqp.connect(AMQP_URL);
  const channel = await connection.createConfirmChannel();
  const queue = `${run}.baseline`;
  await channel.assertQueue(queue, { durable: true, arguments: { "x-queue-type": "quorum" } });
  const body = Buffer.from(JSON.stringify(payload));
  const publishMs = await timed(async () => {
    for (let i = 0; i < MESSAGES; i += 1000) {
      for (let j = i; j < Math.min(MESSAGES, i + 1000); j++) {
        channel.publish("", queue, body, {
          persistent: true,
          messageId: randomUUID(),
          contentType: "application/json",
        });
      }
      await channel.waitForConfirms();
    }
  });
  const consumer = await connection.createChannel();
  await consumer.prefetch(200);
  const consumeMs = await timed(
    () =>
      new Promise<void>((resolve) => {
        let seen = 0;
        void consumer.consume(queue, (msg) => {
          if (msg) {
            JSON.parse(msg.content.toString());
            consumer.ack(msg);
            if (++seen === MESSAGES) {
              resolve();
            }
          }
        });
      }),
  );
  await channel.deleteQueue(queue);
  await connection.close();
  return { publish: rate(MESSAGES, publishMs), consume: rate(MESSAGES, consumeMs) };
}

/** @tidings/amqp: validated, confirmed publishes (1,000 in flight) and a typed consumer with prefetch 200. */
async function amqpTidings(): Promise<{ publish: number; consume: number }> {
  const namespace = `${run}t`;
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
  return { publish: rate(MESSAGES, publishMs), consume: rate(MESSAGES, consumeMs) };
}

async function deleteNamespace(namespace: string): Promise<void> {
  const connection = await amqp.connect(AMQP_URL);
  const channel = await connection.createChannel();
  const names = namesFor(namespace);
  for (const queue of declaredQueues(names)) {
    await channel.deleteQueue(queue);
  }
  for (const service of exchanges) {
    await channel.deleteExchange(names.exchange(service));
  }
  await connection.close();
}

/** Raw pg: single-row inserts, and 1,000-row batched inserts; then the outbox (enqueue + relay). */
async function database(url: string): Promise<void> {
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  await pool.query("CREATE TABLE bench_row (id uuid PRIMARY KEY, name text, payload jsonb)");
  const json = JSON.stringify(payload);
  const singleMs = await timed(async () => {
    for (let i = 0; i < ROWS; i++) {
      await pool.query("INSERT INTO bench_row VALUES ($1, $2, $3)", [randomUUID(), "outbound.send", json]);
    }
  });
  const single = rate(ROWS, singleMs);
  record({ name: "pg: single-row inserts (baseline)", value: single, unit: "rows/s" });
  const batches = Math.max(1, Math.round((ROWS * 10) / 1000));
  const batchMs = await timed(async () => {
    for (let b = 0; b < batches; b++) {
      const ids = Array.from({ length: 1000 }, () => randomUUID());
      await pool.query(
        "INSERT INTO bench_row SELECT id, 'outbound.send', $2::jsonb FROM unnest($1::uuid[]) AS id",
        [ids, json],
      );
    }
  });
  record({
    name: "pg: 1,000-row batched inserts (baseline)",
    value: rate(batches * 1000, batchMs),
    unit: "rows/s",
  });

  // The outbox: one enqueue per transaction (as an API request does), through Prisma like the services.
  const db = createSubscriptionDb(url);
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
    ratio: rate(ROWS, enqueueMs) / single,
  });
  const namespace = `${run}o`;
  const broker = await Broker.connect({ url: AMQP_URL, namespace, service: "bench", logger });
  const relay = new OutboxRelay({ databaseUrl: url, broker, logger, pollIntervalMs: 60_000 });
  const relayMs = await timed(async () => {
    while ((await relay.relayBatch()) > 0) {
      // drain
    }
  });
  record({ name: "outbox relay: published and deleted", value: rate(ROWS, relayMs), unit: "msgs/s" });
  await relay.stop();
  await broker.close();
  await deleteNamespace(namespace);
  await db.$disconnect();
  await pool.end();
}

/** A stage-based tick: N ready subscriptions on one schedule, until every outbound.send is in the outbox. */
async function fanOut(url: string): Promise<void> {
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  const now = new Date().toISOString();
  await pool.query(
    "INSERT INTO schedule_copy (id, cron, timezone, version) VALUES (1, '0 8 * * 1', 'UTC', $1)",
    [now],
  );
  await pool.query(
    `INSERT INTO messageset_copy (id, short_name, default_schedule, content_type, version)
     VALUES (1, 'bench', 1, 'text', $1)`,
    [now],
  );
  await pool.query(
    `INSERT INTO message_copy (id, messageset, sequence_number, lang, text_content, version)
     SELECT n, 1, n, 'eng_ZA', 'Message ' || n, $1 FROM generate_series(1, 10) AS n`,
    [now],
  );
  await pool.query(
    `INSERT INTO subscription (id, identity, messageset, lang, schedule)
     SELECT gen_random_uuid(), gen_random_uuid(), 1, 'eng_ZA', 1 FROM generate_series(1, $1)`,
    [SUBSCRIPTIONS],
  );
  const namespace = `${run}f`;
  const config = loadSubscriptionConfig({
    SUBSCRIPTION_DATABASE_URL: url,
    AMQP_URL,
    AMQP_NAMESPACE: namespace,
  });
  const db = createSubscriptionDb(url);
  const broker = await Broker.connect({ url: AMQP_URL, namespace, service: "subscription", logger });
  const stop = await startServiceWorker(subscriptionService, { config, logger, db, broker });
  const before = process.memoryUsage().rss;
  const ms = await timed(async () => {
    await broker.publish("subscription.fan-out", { schedule: 1, slot: now, manual: true });
    for (;;) {
      const { rows } = await pool.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM subscription WHERE next_sequence_number = 2",
      );
      const { rows: pending } = await pool.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM tidings_outbox",
      );
      if (rows[0]?.n === SUBSCRIPTIONS && pending[0]?.n === 0) {
        return;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  });
  record({
    name: `fan-out: ${SUBSCRIPTIONS} subscriptions -> outbound.send published`,
    value: rate(SUBSCRIPTIONS, ms),
    unit: "subs/s",
  });
  record({ name: "fan-out: wall time", value: ms / 1000, unit: "s" });
  record({
    name: "fan-out: RSS growth of this process",
    value: (process.memoryUsage().rss - before) / 2 ** 20,
    unit: "MB",
  });
  await stop();
  await broker.close();
  await db.$disconnect();
  await pool.end();
  await deleteNamespace(namespace);
}

async function main(): Promise<void> {
  process.stdout.write(
    `Tidings bench: ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}\n`,
  );
  const raw = await amqpBaseline();
  record({ name: "amqplib: publish with confirms (baseline)", value: raw.publish, unit: "msgs/s" });
  record({ name: "amqplib: consume, prefetch 200 (baseline)", value: raw.consume, unit: "msgs/s" });
  const ours = await amqpTidings();
  record({
    name: "@tidings/amqp: validated confirmed publish",
    value: ours.publish,
    unit: "msgs/s",
    baseline: "amqplib publish",
    ratio: ours.publish / raw.publish,
  });
  record({
    name: "@tidings/amqp: typed consume, prefetch 200",
    value: ours.consume,
    unit: "msgs/s",
    baseline: "amqplib consume",
    ratio: ours.consume / raw.consume,
  });
  const db = await benchDatabase("subscription");
  try {
    await database(db.url);
  } finally {
    await db.drop();
  }
  const fan = await benchDatabase("subscription");
  try {
    await fanOut(fan.url);
  } finally {
    await fan.drop();
  }
  record({ name: "peak RSS of the bench process", value: process.resourceUsage().maxRSS / 1024, unit: "MB" });
  const out = path.join(ROOT, "bench", "results");
  await mkdir(out, { recursive: true });
  await writeFile(
    path.join(out, "latest.json"),
    JSON.stringify(
      { at: new Date().toISOString(), cores: os.cpus().length, node: process.version, figures },
      null,
      2,
    ),
  );
  process.stdout.write(`written to ${path.relative(process.cwd(), path.join(out, "latest.json"))}\n`);
}

await main();
process.exit(0);
