/** A stage-based tick: N ready subscriptions on one schedule, until every outbound.send is published. */
import type pg from "pg";
import type { Baselines } from "./baselines.ts";
import { rate, record, timed } from "./lib.ts";
import { until, withSubscriptionWorker } from "./subscription-worker.ts";

const SUBSCRIPTIONS = Number(process.env.BENCH_SUBSCRIPTIONS ?? 20_000);

/**
 * Content copies (schedule 1, message set 1 with 10 English messages) and ready subscriptions on them in a
 * subscription database, written directly (what the content events and the API would have stored): one per
 * identity given, or `subscribers` of random identities.
 */
export async function seedSubscriptions(pool: pg.Pool, subscribers: number | string[]): Promise<void> {
  const now = new Date().toISOString();
  // The schedule saved weeks ago: it has had slots since, so the Seed send trigger (its latest slot) sends.
  await pool.query(
    "INSERT INTO schedule_copy (id, cron, timezone, version) VALUES (1, '0 8 * * 1', 'UTC', now() - interval '30 days')",
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

/** message-sender's address book as identity.created would have filled it: identity n gets the number msisdn(n - 1). */
export async function seedAddressBook(pool: pg.Pool, identities: string[]): Promise<void> {
  await pool.query(
    `INSERT INTO address_book_entry (identity, addresses, identity_updated_at)
     SELECT identity, jsonb_build_array(jsonb_build_object(
       'type', 'msisdn', 'address', '+2782' || lpad((n - 1)::text, 7, '0'), 'default', true,
       'optedout', false, 'inactive', false)), now()
     FROM unnest($1::uuid[]) WITH ORDINALITY AS t(identity, n)`,
    [identities],
  );
}

export async function benchFanOut(_baselines: Baselines): Promise<void> {
  await withSubscriptionWorker("f", async ({ pool, broker }) => {
    await seedSubscriptions(pool, SUBSCRIPTIONS);
    const before = process.memoryUsage().rss;
    const ms = await timed(async () => {
      await broker.publish("subscription.fan-out", {
        schedule: 1,
        slot: new Date().toISOString(),
        manual: true,
      });
      await until(async () => {
        const { rows } = await pool.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM subscription WHERE next_sequence_number = 2",
        );
        const { rows: pending } = await pool.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM tidings_outbox",
        );
        return rows[0]?.n === SUBSCRIPTIONS && pending[0]?.n === 0;
      });
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
  });
}
