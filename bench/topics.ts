/**
 * A topic publish to N verified subscribers (BENCH_TOPIC_SUBSCRIBERS, default 10,000): from the publish
 * request until every recipient has its record and every `outbound.send` has left the outbox (published,
 * confirmed by the broker). Identities (each with a verified email and msisdn, one channel wanted) and
 * their topic subscriptions are seeded directly in SQL, as the identity events and the API would store them.
 */
import { Broker } from "@tidings/amqp";
import { startServiceWorker } from "@tidings/service-kit";
import pg from "pg";
import { loadSubscriptionConfig } from "../apps/subscription/src/config.ts";
import { createDb as createSubscriptionDb } from "../apps/subscription/src/db.ts";
import { subscriptionService } from "../apps/subscription/src/service.ts";
import { publishTopic } from "../apps/subscription/src/services/topics.ts";
import { AMQP_URL, benchDatabase, deleteNamespace, logger, run, timed } from "./lib.ts";

const SUBSCRIBERS = Number(process.env.BENCH_TOPIC_SUBSCRIBERS ?? 10_000);

async function seedTopic(pool: pg.Pool, topic: string, subscribers: number): Promise<void> {
  await pool.query(
    `WITH ids AS (SELECT gen_random_uuid() AS id, n FROM generate_series(1, $1) AS n)
     INSERT INTO identity_copy (id, details, addresses, identity_updated_at)
     SELECT id, jsonb_build_object('first_name', 'Person ' || n),
            jsonb_build_array(
              jsonb_build_object('type', 'msisdn', 'address', '+2782' || lpad(n::text, 7, '0'),
                                 'default', true, 'optedout', false, 'inactive', false, 'verified', true),
              jsonb_build_object('type', 'email', 'address', 'p' || n || '@example.org',
                                 'default', true, 'optedout', false, 'inactive', false, 'verified', true)),
            now()
     FROM ids`,
    [subscribers],
  );
  await pool.query(
    "INSERT INTO topic_subscription (topic, identity, channels) SELECT $1, id, '{msisdn}' FROM identity_copy",
    [topic],
  );
}

export async function benchTopicPublish(): Promise<{ recipients: number; ms: number }> {
  const { url, drop } = await benchDatabase("subscription", "t");
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  const topic = "bench/topic";
  await seedTopic(pool, topic, SUBSCRIBERS);
  const namespace = `${run}t`;
  const config = loadSubscriptionConfig({
    SUBSCRIPTION_DATABASE_URL: url,
    AMQP_URL,
    AMQP_NAMESPACE: namespace,
  });
  const db = createSubscriptionDb(url);
  const broker = await Broker.connect({ url: AMQP_URL, namespace, service: "subscription", logger });
  const stop = await startServiceWorker(subscriptionService, { config, logger, db, broker });
  try {
    let recipients = 0;
    const ms = await timed(async () => {
      ({ recipients } = await publishTopic(
        db,
        topic,
        { publish_id: "bench-1", content: "Hello <<first_name>>, this is the news." },
        { userId: null },
      ));
      for (;;) {
        const { rows } = await pool.query<{ done: number; pending: number }>(
          `SELECT (SELECT count(*)::int FROM topic_recipient WHERE status = 'queued') AS done,
                  (SELECT count(*)::int FROM tidings_outbox) AS pending`,
        );
        if (rows[0]?.done === recipients && rows[0]?.pending === 0) {
          return;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    });
    return { recipients, ms };
  } finally {
    await stop();
    await broker.close();
    await db.$disconnect();
    await pool.end();
    await deleteNamespace(namespace);
    await drop();
  }
}
