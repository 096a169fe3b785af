/**
 * A topic publish to N verified subscribers (BENCH_TOPIC_SUBSCRIBERS, default 10,000): from the publish
 * request until every recipient has its record and every `outbound.send` has left the outbox (published,
 * confirmed by the broker). Identities (each with a verified email and msisdn, one channel wanted) and
 * their topic subscriptions are seeded directly in SQL, as the identity events and the API would store them.
 */
import type pg from "pg";
import { publishTopic } from "../apps/subscription/src/services/topics.ts";
import { timed } from "./lib.ts";
import { until, withSubscriptionWorker } from "./subscription-worker.ts";

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
  return withSubscriptionWorker("t", async ({ pool, db }) => {
    const topic = "bench/topic";
    await seedTopic(pool, topic, SUBSCRIBERS);
    let recipients = 0;
    const ms = await timed(async () => {
      ({ recipients } = await publishTopic(
        db,
        topic,
        { publish_id: "bench-1", content: "Hello <<first_name>>, this is the news." },
        { userId: null },
      ));
      await until(async () => {
        const { rows } = await pool.query<{ done: number; pending: number }>(
          `SELECT (SELECT count(*)::int FROM topic_recipient WHERE status = 'queued') AS done,
                  (SELECT count(*)::int FROM tidings_outbox) AS pending`,
        );
        return rows[0]?.done === recipients && rows[0]?.pending === 0;
      });
    });
    return { recipients, ms };
  });
}
