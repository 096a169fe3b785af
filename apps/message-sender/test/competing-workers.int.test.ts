import { randomUUID } from "node:crypto";
import { Broker } from "@tidings/amqp";
import type { OutboundSend, OutboundStatusChanged } from "@tidings/contracts";
import {
  AMQP_URL,
  type Capture,
  captureMessages,
  closing,
  type ServiceProcess,
  spawnService,
  type TestDatabase,
  type TestNamespace,
  testDatabase,
  testLogger,
  testNamespace,
  waitFor,
} from "@tidings/testing";
import { describe, expect, test } from "vitest";
import { createDb, type Db } from "../src/db.ts";
import { msisdn, statusesOf } from "./helpers.ts";

// Three real worker processes on one database and one namespace, competing for the same queues.
const WORKERS = 3;
const OUTBOUNDS = 300;
/** Every outbound.send is published twice (600 messages), so copies of one id race across processes. */
const COPIES = 2;

interface Worker {
  id: string;
  process: ServiceProcess;
  /** Its JSON log lines, parsed. */
  logs: Record<string, unknown>[];
  /** Everything it wrote, for the PII check. */
  output: string[];
}

function startWorker(database: TestDatabase, namespace: TestNamespace, n: number): Worker {
  const logs: Record<string, unknown>[] = [];
  const output: string[] = [];
  const process = spawnService("message-sender", "worker", {
    name: `worker-${n}`,
    env: {
      MESSAGE_SENDER_DATABASE_URL: database.url,
      AMQP_URL,
      AMQP_NAMESPACE: namespace.namespace,
      LOG_LEVEL: "info",
      WORKER_ID: `worker-${n}`,
      ADMIN_TOKEN: "competing-workers-admin-token",
      // A copy that finds another worker sending its outbound retries; under load that can take seconds.
      OUTBOUND_RETRY_DELAYS_MS: "200,1000,3000,10000",
    },
    onLine: (line) => {
      output.push(line);
      if (line.startsWith("{")) {
        logs.push(JSON.parse(line));
      }
    },
  });
  return { id: `worker-${n}`, process, logs, output };
}

const linesWith = (workers: Worker[], msg: string) =>
  workers.flatMap((w) => w.logs.filter((l) => l.msg === msg));

/** How many log lines of each message the workers wrote: what a timeout reports. */
function logSummary(workers: Worker[]): string {
  const counts = new Map<unknown, number>();
  for (const line of workers.flatMap((w) => w.logs)) {
    counts.set(line.msg, (counts.get(line.msg) ?? 0) + 1);
  }
  return JSON.stringify(Object.fromEntries(counts));
}

const explained = (workers: Worker[]) => (err: Error) => {
  throw new Error(`${err.message}; worker logs: ${logSummary(workers)}`);
};

// Set up in this order (vitest starts a test's fixtures in the order they are defined here).
const it = test.extend<{
  database: TestDatabase;
  namespace: TestNamespace;
  broker: Broker;
  db: Db;
  capture: Capture;
  workers: Worker[];
}>({
  database: testDatabase("message-sender"),
  namespace: testNamespace(),
  /** Declares the topology, so nothing published below is dropped before the workers are up. */
  broker: [
    async ({ namespace }, use) =>
      closing(() =>
        Broker.connect({
          url: AMQP_URL,
          namespace: namespace.namespace,
          service: "subscription",
          logger: testLogger(),
        }),
      )({}, use),
    { scope: "file" },
  ],
  db: [
    async ({ database }, use) =>
      closing(
        async () => createDb(database.url),
        (db) => db.$disconnect(),
      )({}, use),
    { scope: "file" },
  ],
  capture: [
    async ({ namespace }, use) =>
      closing(
        () => captureMessages(namespace.namespace, ["outbound.submitted", "outbound.delivered"]),
        (capture) => capture.stop(),
      )({}, use),
    { scope: "file" },
  ],
  /** The worker processes, started and waited for: stopped after the file's last test. */
  workers: [
    async ({ database, namespace }, use) => {
      const workers: Worker[] = [];
      try {
        for (let n = 1; n <= WORKERS; n++) {
          workers.push(startWorker(database, namespace, n));
        }
        await waitFor(() => workers.every((w) => w.logs.some((l) => l.msg === "worker started")), {
          timeoutMs: 20_000,
          what: "every worker to start",
        }).catch((err: Error) => {
          throw new Error(
            `${err.message}; output:\n${workers.flatMap((w) => w.output.slice(-10)).join("\n")}`,
          );
        });
        await use(workers);
      } finally {
        await Promise.all(workers.map((w) => w.process.stop(5_000)));
      }
    },
    { scope: "file" },
  ],
});

describe("competing worker processes", () => {
  it("share the sends, and send each outbound exactly once however its copies race", async ({
    broker,
    db,
    capture,
    workers,
  }) => {
    const commands: OutboundSend[] = Array.from({ length: OUTBOUNDS }, (_, i) => ({
      id: randomUUID(),
      to_addr: msisdn(),
      content: `Message ${i}`,
      metadata: {},
    }));
    // The copies of one id are published back to back, so they reach different workers at about the same time.
    await Promise.all(
      commands.flatMap((command) =>
        Array.from({ length: COPIES }, () => broker.publish("outbound.send", command)),
      ),
    );

    await waitFor(async () => (await db.outbound.count({ where: { status: "delivered" } })) === OUTBOUNDS, {
      timeoutMs: 40_000,
      what: `${OUTBOUNDS} outbounds to be delivered`,
    }).catch(explained(workers));
    // Every copy ends as one send or one "already handled", so this counts every copy as handled.
    await waitFor(
      () =>
        linesWith(workers, "outbound sent through the log channel").length +
          linesWith(workers, "outbound already handled; nothing to do").length ===
        OUTBOUNDS * COPIES,
      { timeoutMs: 20_000, what: "every copy to be handled" },
    ).catch(explained(workers));

    const sent = linesWith(workers, "outbound sent through the log channel");
    const sentIds = sent.map((l) => l.outboundId);
    expect(sentIds).toHaveLength(OUTBOUNDS);
    expect(new Set(sentIds)).toEqual(new Set(commands.map((c) => c.id)));

    const rows = await db.outbound.findMany();
    expect(rows).toHaveLength(OUTBOUNDS);
    expect(rows.every((r) => r.status === "delivered" && r.attempts === 1 && r.toAddr === "")).toBe(true);
    expect(new Set(rows.map((r) => r.providerId)).size).toBe(OUTBOUNDS);
    const statuses = await Promise.all(rows.map((r) => statusesOf(db, r.id)));
    expect(statuses.every((s) => s.join() === "submitted,delivered")).toBe(true);

    // Each worker sent some, and recorded itself (claimed_by) as the sender of exactly those.
    const byWorker = new Map<string | null, number>();
    for (const row of rows) {
      byWorker.set(row.claimedBy, (byWorker.get(row.claimedBy) ?? 0) + 1);
    }
    expect([...byWorker.keys()].sort()).toEqual(workers.map((w) => w.id));
    for (const worker of workers) {
      const own = worker.logs.filter((l) => l.msg === "outbound sent through the log channel").length;
      expect(own, worker.id).toBeGreaterThan(0);
      expect(byWorker.get(worker.id), worker.id).toBe(own);
    }

    // One outbound.submitted per outbound, none twice.
    await waitFor(() => capture.named("outbound.submitted").length >= OUTBOUNDS, {
      what: "every outbound.submitted",
    });
    const submitted = capture.named<OutboundStatusChanged>("outbound.submitted").map((e) => e.id);
    expect(submitted.sort()).toEqual(commands.map((c) => c.id).sort());

    // Nothing was dead-lettered, and no address or content reached the logs.
    const channel = await broker.channel();
    const dlq = await channel.checkQueue(broker.names.deadLetterQueue("message-sender.outbound-send"));
    await channel.close();
    expect(dlq.messageCount).toBe(0);
    const output = workers.flatMap((w) => w.output).join("\n");
    for (const command of commands) {
      expect(output).not.toContain(command.to_addr);
      expect(output).not.toContain(command.content);
    }
  }, 60_000);
});
