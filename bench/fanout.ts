/** A stage-based tick: N ready subscriptions on one schedule, until every outbound.send is published. */
import { Broker } from "@tidings/amqp";
import { startServiceWorker } from "@tidings/service-kit";
import pg from "pg";
import { loadSubscriptionConfig } from "../apps/subscription/src/config.ts";
import { createDb as createSubscriptionDb } from "../apps/subscription/src/db.ts";
import { subscriptionService } from "../apps/subscription/src/service.ts";
import type { Baselines } from "./baselines.ts";
import { AMQP_URL, benchDatabase, deleteNamespace, logger, rate, record, run, timed } from "./lib.ts";

const SUBSCRIPTIONS = Number(process.env.BENCH_SUBSCRIPTIONS ?? 20_000);

/**
 * Content copies (schedule 1, message set 1 with 10 English messages) and ready subscriptions on them in a
 * subscription database, written directly (what the content events and the API would have stored): one per
 * identity given, or `subscribers` of random identities.
 */
export async function seedSubscriptions(pool: pg.Pool, subscribers: number | string[]): Promise<void> {
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
    typeof subscribers === "number"
      ? `INSERT INTO subscription (id, identity, messageset, lang, schedule)
         SELECT gen_random_uuid(), gen_random_uuid(), 1, 'eng_ZA', 1 FROM generate_series(1, $1)`
      : `INSERT INTO subscription (id, identity, messageset, lang, schedule)
         SELECT gen_random_uuid(), identity, 1, 'eng_ZA', 1 FROM unnest($1::uuid[]) AS identity`,
    [subscribers],
  );
}

export async function benchFanOut(_baselines: Baselines): Promise<void> {
  const { url, drop } = await benchDatabase("subscription", "f");
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  await seedSubscriptions(pool, SUBSCRIPTIONS);
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
  try {
    const ms = await timed(async () => {
      await broker.publish("subscription.fan-out", {
        schedule: 1,
        slot: new Date().toISOString(),
        manual: true,
      });
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
    record({
      name: "fan-out: wall time",
      value: ms / 1000,
      unit: "s",
      target: SUBSCRIPTIONS === 100_000 ? "<= 60 s" : "<= 60 s at 100,000",
    });
    record({
      name: "fan-out: RSS growth of the bench process",
      value: (process.memoryUsage().rss - before) / 2 ** 20,
      unit: "MB",
    });
  } finally {
    await stop();
    await broker.close();
    await db.$disconnect();
    await pool.end();
    await deleteNamespace(namespace);
    await drop();
  }
}
