import { randomUUID } from "node:crypto";
import { namesFor, type Payload, type QueueMessages, type QueueName, queues } from "@tidings/contracts";
import { AMQP_URL, closing, createTestNamespace, testLogger, waitFor } from "@tidings/testing";
import amqp, { type Channel, type ChannelModel } from "amqplib";
import pg from "pg";
import { test } from "vitest";
import { Broker, type BrokerOptions, type Handler, type Handlers, type SqlExecutor } from "../src/index.ts";

export const connectBroker = (namespace: string, options: Partial<BrokerOptions> = {}): Promise<Broker> =>
  Broker.connect({ url: AMQP_URL, namespace, service: "test", logger: testLogger(), ...options });

/** One handler for every message the contracts route into `queue` (so the tests follow the topology). */
export const handlersFor = <Q extends QueueName>(
  queue: Q,
  handler: Handler<QueueMessages<Q>>,
): Handlers<QueueMessages<Q>> =>
  Object.fromEntries(queues[queue].messages.map((name) => [name, handler])) as unknown as Handlers<
    QueueMessages<Q>
  >;

/** Closes the broker's AMQP connection from underneath it, as a network failure or a broker restart would. */
export async function dropConnection(broker: Broker): Promise<void> {
  const { connection } = broker as unknown as { connection: ChannelModel | undefined };
  if (!connection) {
    throw new Error("broker has no connection to drop");
  }
  await connection.close();
}

/**
 * Destroys the broker's TCP socket at once, as a kill -9 of its process would: nothing it writes after this (an ack
 * still waiting for its flush) reaches the broker, which requeues every unacked delivery.
 */
export function killSocket(broker: Broker): void {
  const { connection } = broker as unknown as {
    connection: { connection: { stream: { destroy(err: Error): void } } } | undefined;
  };
  if (!connection) {
    throw new Error("broker has no connection to kill");
  }
  connection.connection.stream.destroy(new Error("killed"));
}

/** A plain amqplib connection to look at queues and publish raw bytes, beside the Broker under test. */
export interface Inspector {
  channel: Channel;
  messageCount(queue: string): Promise<number>;
  close(): Promise<void>;
}

export async function openInspector(): Promise<Inspector> {
  const connection = await amqp.connect(AMQP_URL);
  const channel = await connection.createChannel();
  return {
    channel,
    messageCount: async (queue) => (await channel.checkQueue(queue)).messageCount,
    close: () => connection.close(),
  };
}

export interface AmqpFixtures {
  /** The file's namespace (its exchanges and queues are deleted after the file's last test). */
  namespace: string;
  names: ReturnType<typeof namesFor>;
  /** A plain amqplib connection beside the brokers under test, for the whole file. */
  inspect: Inspector;
  /** A broker in the namespace, shared by the file's tests. */
  broker: Broker;
  /** Connects another broker in the namespace, closed after the test. */
  connect(options?: Partial<BrokerOptions>): Promise<Broker>;
}

/** The `it` of a broker test file: its tests take the fixtures above, each started when a test first asks for it. */
export const amqpTest = test.extend<AmqpFixtures>({
  namespace: [
    // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from its first parameter.
    async ({}, use) => {
      const ns = createTestNamespace();
      try {
        await use(ns.namespace);
      } finally {
        await ns.cleanup();
      }
    },
    { scope: "file" },
  ],
  names: [async ({ namespace }, use) => use(namesFor(namespace)), { scope: "file" }],
  inspect: [closing(openInspector), { scope: "file" }],
  broker: [
    async ({ namespace }, use) => {
      const broker = await connectBroker(namespace);
      try {
        await use(broker);
      } finally {
        await teardown(() => broker.close());
      }
    },
    { scope: "file" },
  ],
  connect: async ({ namespace }, use) => {
    const brokers: Broker[] = [];
    await use(async (options) => {
      const broker = await connectBroker(namespace, options);
      brokers.push(broker);
      return broker;
    });
    await teardown(() => Promise.all(brokers.map((b) => b.close())));
  },
});

/** Adapts a pg pool or client to the SqlExecutor that enqueue / isFirstDelivery take (Prisma's shape). */
export function sqlExecutor(client: pg.Pool | pg.PoolClient): SqlExecutor {
  return {
    $executeRawUnsafe: async (query, ...values) => (await client.query(query, values)).rowCount ?? 0,
    $queryRawUnsafe: async <T>(query: string, ...values: unknown[]) =>
      (await client.query(query, values)).rows as T,
  };
}

/**
 * Waits until no session is connected to the database: pg's Pool.end() resolves before its clients have
 * disconnected, and dropping the database WITH (FORCE) under a closing client makes it emit an error.
 */
export async function waitForNoSessions(databaseUrl: string): Promise<void> {
  const url = new URL(databaseUrl);
  const database = decodeURIComponent(url.pathname.slice(1));
  url.pathname = "/postgres";
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    await waitFor(
      async () =>
        (
          await client.query<{ n: number }>(
            "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            [database],
          )
        ).rows[0]?.n === 0,
      { what: `no sessions on ${database}`, timeoutMs: 5_000 },
    );
  } finally {
    await client.end();
  }
}

/** Runs `fn` in a transaction and commits it, or rolls it back when `rollback` is set or `fn` throws. */
export async function inTransaction<T>(
  pool: pg.Pool,
  fn: (tx: SqlExecutor) => Promise<T>,
  { rollback = false } = {},
): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    const result = await fn(sqlExecutor(client));
    await client.query(rollback ? "ROLLBACK" : "COMMIT");
    return result;
  } catch (err) {
    await client.query("ROLLBACK");
    throw err;
  } finally {
    client.release();
  }
}

export interface Deferred<T = void> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(err: unknown): void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * Runs every clean-up step even when one fails or hangs (a failed test can leave a handler pending, and a
 * graceful Broker.close() waits for it), so the namespace and the database are always removed.
 */
export async function teardown(...steps: (() => Promise<unknown> | undefined)[]): Promise<void> {
  const errors: unknown[] = [];
  for (const step of steps) {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        step(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error("teardown step timed out")), 10_000);
        }),
      ]);
    } catch (err) {
      errors.push(err);
    } finally {
      clearTimeout(timer);
    }
  }
  if (errors.length > 0) {
    throw new AggregateError(errors, "teardown failed");
  }
}

/** Resolves to "pending" if `promise` has not settled within `ms`. */
export const settledWithin = (promise: Promise<unknown>, ms: number): Promise<"settled" | "pending"> =>
  Promise.race([
    promise.then(
      () => "settled" as const,
      () => "settled" as const,
    ),
    new Promise<"pending">((resolve) => setTimeout(() => resolve("pending"), ms)),
  ]);

export const sendNext = (): Payload<"subscription.send-next"> => ({
  subscription_ids: [randomUUID()],
  schedule: 1,
  slot: new Date().toISOString(),
});

export const outboundSend = (content = "hello"): Payload<"outbound.send"> => ({
  id: randomUUID(),
  to_identity: randomUUID(),
  content,
  metadata: {},
});

/** Counts how often each key occurs. */
export function tally(keys: Iterable<string>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const key of keys) {
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}
