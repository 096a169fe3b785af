/**
 * A worker's HTTP listener (/health, /ready, /metrics), on a real identity worker: readiness checks the database and
 * the broker for real, and the metrics read the broker's queues and the outbox at scrape time.
 */
import { Broker } from "@tidings/amqp";
import { AMQP_URL, serviceTest, testLogger } from "@tidings/testing";
import { describe, expect } from "vitest";
import { createDb } from "../../../apps/identity/src/db.ts";
import { identityService } from "../../../apps/identity/src/service.ts";
import { workerHttpPort } from "../src/service.ts";
import { processRegistry, registerWorkerGauges, scrapeRegistry } from "../src/telemetry.ts";
import { startWorkerHttp } from "../src/worker-http.ts";

const it = serviceTest(identityService, { worker: true, workerHttp: true });

/** One sample's value from a Prometheus text exposition (undefined when absent). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split("\n")) {
    const [series, value] = line.split(" ");
    if (!series || line.startsWith("#") || !(series === name || series.startsWith(`${name}{`))) {
      continue;
    }
    if (Object.entries(labels).every(([k, v]) => series.includes(`${k}="${v}"`))) {
      return Number(value);
    }
  }
  return undefined;
}

describe("worker http", () => {
  it("answers /health, /ready and /metrics with the queues it consumes and the outbox", async ({ svc }) => {
    const base = `http://127.0.0.1:${svc.workerPort}`;
    expect(svc.workerPort).toBeGreaterThan(0);
    const health = await fetch(`${base}/health`);
    expect(health.status).toBe(200);
    const ready = await fetch(`${base}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ up: true, result: { database: "Accessible", broker: "Connected" } });
    expect((await fetch(`${base}/nothing`)).status).toBe(404);

    const text = await (await fetch(`${base}/metrics`)).text();
    // Its own consumer on each of identity's queues, with its labels; Node's metrics; the outbox.
    expect(
      sample(text, "tidings_queue_consumers", { queue: "identity.delivery-reports", service: "identity" }),
    ).toBe(1);
    expect(sample(text, "tidings_queue_messages", { queue: "identity.delivery-reports" })).toBe(0);
    expect(sample(text, "tidings_queue_dead_letters", { queue: "identity.delivery-reports" })).toBe(0);
    expect(sample(text, "tidings_outbox_backlog")).toBe(0);
    expect(sample(text, "process_resident_memory_bytes", { service: "identity" })).toBeGreaterThan(0);
    expect(text).not.toContain('queue="message-sender.');
  });

  it("is not ready while its database or its broker is unreachable", async ({ svc }) => {
    const registry = processRegistry();
    const broker = await Broker.connect({
      url: AMQP_URL,
      namespace: svc.namespace,
      service: "identity",
      logger: testLogger(),
    });
    registerWorkerGauges(registry, { service: "identity", broker, db: svc.db });
    const options = {
      port: 0,
      host: "127.0.0.1",
      logger: testLogger(),
      broker,
      metrics: () => scrapeRegistry(registry, "identity"),
    };
    const downDb = createDb("postgresql://postgres@127.0.0.1:1/nowhere");
    const listeners = [
      await startWorkerHttp({ ...options, db: svc.db }),
      await startWorkerHttp({ ...options, db: downDb }),
    ];
    const [up, noDatabase] = listeners.map((l) => `http://127.0.0.1:${l.port}`);
    try {
      expect((await fetch(`${up}/ready`)).status).toBe(200);
      const noDb = await fetch(`${noDatabase}/ready`);
      expect(noDb.status).toBe(503);
      expect(await noDb.json()).toEqual({
        up: false,
        result: { database: "Inaccessible", broker: "Connected" },
      });
      expect((await fetch(`${noDatabase}/health`)).status).toBe(200); // alive, just not ready
      await broker.close();
      const noBroker = await fetch(`${up}/ready`);
      expect(noBroker.status).toBe(503);
      expect(await noBroker.json()).toEqual({
        up: false,
        result: { database: "Accessible", broker: "Disconnected" },
      });
    } finally {
      await Promise.all(listeners.map((l) => l.stop()));
      await downDb.$disconnect();
    }
  });
});

describe("worker http port", () => {
  it("a taken port fails the start, unless any free port will do (the default, not a configured one)", async ({
    svc,
  }) => {
    const options = {
      host: "127.0.0.1",
      logger: testLogger(),
      broker: svc.broker,
      db: svc.db,
      metrics: () => scrapeRegistry(processRegistry(), "identity"),
    };
    const port = svc.workerPort as number;
    await expect(startWorkerHttp({ ...options, port })).rejects.toMatchObject({ code: "EADDRINUSE" });
    const beside = await startWorkerHttp({ ...options, port, anyPortIfTaken: true });
    try {
      expect(beside.port).not.toBe(port);
      expect((await fetch(`http://127.0.0.1:${beside.port}/health`)).status).toBe(200);
    } finally {
      await beside.stop();
    }
  });

  const port = (env: Record<string, string>) =>
    workerHttpPort(identityService.loadConfig({ PORT: "3001", ...env }));
  it("is the API's port + 100 unless WORKER_HTTP_PORT says otherwise", () => {
    expect(port({})).toBe(3101);
    expect(port({ WORKER_HTTP_PORT: "9000" })).toBe(9000);
    expect(port({ WORKER_HTTP_PORT: "0" })).toBe(0);
  });
});
