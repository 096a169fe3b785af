import {
  type Capture,
  captureMessages,
  closeAfter,
  closing,
  createTestDatabase,
  type TestDatabase,
  testLogger,
} from "@tidings/testing";
import pg from "pg";
import { OutboxRelay, type OutboxRelayOptions } from "../src/index.ts";
import { amqpTest, teardown, waitForNoSessions } from "./helpers.ts";

export interface OutboxFixtures {
  /** An identity database (it has the outbox tables), dropped after the file's last test. */
  database: TestDatabase;
  pool: pg.Pool;
  outboxCount(): Promise<number>;
  /** Empties the outbox after each test. */
  emptyOutbox: undefined;
  /** The `outbound.send` messages published in the namespace during the test. */
  capture: Capture;
  captured(messageId: string): Capture["messages"];
  /**
   * Starts a relay on the file's broker that counts the rows it published itself (its own batches, not the other
   * relay's); every one is stopped after the test, before `capture` stops.
   */
  startRelay(options?: Partial<OutboxRelayOptions>): Promise<OutboxRelay & { published: number }>;
}

/** The `it` of the outbox tests: `amqpTest` with a database holding the outbox tables, and relays over it. */
export const outboxTest = amqpTest.extend<OutboxFixtures>({
  database: [
    closing(
      () => createTestDatabase("identity"),
      async (database) => {
        await waitForNoSessions(database.url).catch(() => undefined);
        await database.drop();
      },
    ),
    { scope: "file" },
  ],
  pool: [
    async ({ database }, use) => {
      const pool = new pg.Pool({ connectionString: database.url, max: 10 });
      try {
        await use(pool);
      } finally {
        await teardown(() => pool.end());
      }
    },
    { scope: "file" },
  ],
  outboxCount: [
    async ({ pool }, use) =>
      use(
        async () =>
          (await pool.query<{ n: number }>("SELECT count(*)::int AS n FROM tidings_outbox")).rows[0]?.n ?? -1,
      ),
    { scope: "file" },
  ],
  emptyOutbox: [
    async ({ pool }, use) => {
      await use(undefined);
      await pool.query("DELETE FROM tidings_outbox");
    },
    { auto: true },
  ],
  capture: async ({ namespace }, use) =>
    closeAfter(await captureMessages(namespace, ["outbound.send"]), use, (capture) => capture.stop()),
  captured: async ({ capture }, use) =>
    use((messageId) => capture.messages.filter((m) => m.messageId === messageId)),
  startRelay: async ({ database, broker, capture: _ }, use) => {
    const relays: OutboxRelay[] = [];
    try {
      await use(async (options = {}) => {
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
      });
    } finally {
      await teardown(() => Promise.all(relays.map((r) => r.stop())));
    }
  },
});
