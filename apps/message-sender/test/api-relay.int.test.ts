import { OUTBOX_CHANNEL } from "@tidings/amqp";
import {
  AMQP_URL,
  captureMessages,
  captureNotifications,
  freePort,
  spawnService,
  type TestDatabase,
  type TestNamespace,
  testDatabase,
  testNamespace,
  waitFor,
  waitForHealthy,
} from "@tidings/testing";
import { expect, test } from "vitest";
import { msisdn } from "./helpers.ts";

// An API process runs an outbox relay of its own, kicked by the statements it runs (see enqueueStatement's `db`):
// what it writes is published by it, with no worker running and no NOTIFY, which every backend listening on the
// database (the workers' relay, each API process's token-revocation listener) would have read in a transaction.

const ADMIN_TOKEN = "api-relay-admin-token-0123456789";

const it = test.extend<{ database: TestDatabase; namespace: TestNamespace }>({
  database: testDatabase("message-sender"),
  namespace: testNamespace(),
});

it("an API process publishes the sends it accepted itself, and notifies no one", async ({
  database,
  namespace,
}) => {
  const listener = await captureNotifications(database.url, OUTBOX_CHANNEL);
  const capture = await captureMessages(namespace.namespace, ["outbound.send"]);
  const port = await freePort();
  const output: string[] = [];
  const api = spawnService("message-sender", "api", {
    env: {
      MESSAGE_SENDER_DATABASE_URL: database.url,
      AMQP_URL,
      AMQP_NAMESPACE: namespace.namespace,
      PORT: String(port),
      HOST: "127.0.0.1",
      ADMIN_TOKEN,
      LOG_LEVEL: "info",
    },
    onLine: (line) => output.push(line),
  });
  try {
    await waitForHealthy(`http://127.0.0.1:${port}/api/health/`, 25_000).catch((err: Error) => {
      throw new Error(`${err.message}; output:\n${output.slice(-20).join("\n")}`);
    });
    const ids = await Promise.all(
      Array.from({ length: 3 }, async (_, i) => {
        const res = await fetch(`http://127.0.0.1:${port}/api/v1/outbound/`, {
          method: "POST",
          headers: { authorization: `Token ${ADMIN_TOKEN}`, "content-type": "application/json" },
          body: JSON.stringify({ to_addr: msisdn(), content: `relayed by the API ${i}`, metadata: {} }),
        });
        expect(res.status).toBe(201);
        return ((await res.json()) as { id: string }).id;
      }),
    );
    const published = () => capture.messages.map((m) => (m.payload as { id: string }).id);
    await waitFor(() => ids.every((id) => published().includes(id)), { what: "the API's own publishes" });
    expect(listener.heard).toEqual([]);
  } finally {
    await api.stop();
    await capture.stop();
    await listener.stop();
  }
});
