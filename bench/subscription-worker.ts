import { Broker } from "@tidings/amqp";
import { startServiceWorker } from "@tidings/service-kit";
import pg from "pg";
import { loadSubscriptionConfig } from "../apps/subscription/src/config.ts";
import { createDb as createSubscriptionDb, type Db } from "../apps/subscription/src/db.ts";
import { subscriptionService } from "../apps/subscription/src/service.ts";
import { AMQP_URL, benchDatabase, deleteNamespace, logger, newNamespace } from "./lib.ts";

export interface SubscriptionBench {
  /** A plain pg pool on the scratch database, for seeding and polling. */
  pool: pg.Pool;
  db: Db;
  broker: Broker;
}

/**
 * Runs `fn` against an in-process subscription worker on its own scratch database and AMQP namespace
 * (`suffix` keeps benchmarks apart), then stops the worker and drops both.
 */
export async function withSubscriptionWorker<T>(
  suffix: string,
  fn: (bench: SubscriptionBench) => Promise<T>,
): Promise<T> {
  const { url, drop } = await benchDatabase("subscription", suffix);
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  const namespace = newNamespace();
  const config = loadSubscriptionConfig({
    SUBSCRIPTION_DATABASE_URL: url,
    AMQP_URL,
    AMQP_NAMESPACE: namespace,
  });
  const db = createSubscriptionDb(url);
  const broker = await Broker.connect({ url: AMQP_URL, namespace, service: "subscription", logger });
  const stop = await startServiceWorker(subscriptionService, { config, logger, db, broker });
  try {
    return await fn({ pool, db, broker });
  } finally {
    await stop();
    await broker.close();
    await db.$disconnect();
    await pool.end();
    await deleteNamespace(namespace);
    await drop();
  }
}

/** Polls `done` every 100 ms until it is true. */
export async function until(done: () => Promise<boolean>): Promise<void> {
  while (!(await done())) {
    await new Promise((r) => setTimeout(r, 100));
  }
}
