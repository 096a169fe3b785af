import { createServer, type Server, type Socket } from "node:net";
import { namesFor } from "@tidings/contracts";
import { AMQP_URL, createTestNamespace, testLogger } from "@tidings/testing";
import { afterAll, describe, expect, it } from "vitest";
import {
  Broker,
  BrokerUnavailableError,
  deleteNamespace,
  deleteScratchNamespaces,
  listBrokerQueues,
  parseScratchNamespace,
  probeBroker,
  STALE_AFTER_MS,
  scratchNamespace,
} from "../src/index.ts";
import { openInspector } from "./helpers.ts";

/** A port that accepts TCP connections and never says a word: a broker out of file handles looks like this. */
async function silentServer(): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `amqp://guest:guest@127.0.0.1:${port}`,
    close: async () => {
      for (const socket of sockets) {
        socket.destroy();
      }
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe("probeBroker", () => {
  it("answers with the broker's version when it connects, declares and deletes a queue", async () => {
    const { version, ms } = await probeBroker(AMQP_URL);
    expect(version).toMatch(/^\d+\.\d+/);
    expect(ms).toBeLessThan(5_000);
  });

  it("fails within its step timeout, naming RabbitMQ, the handshake and the recovery steps, when the broker accepts TCP and never answers", async () => {
    const silent = await silentServer();
    try {
      const started = Date.now();
      const err = await probeBroker(silent.url, { stepTimeoutMs: 1_000 }).catch((e: unknown) => e);
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(err).toBeInstanceOf(BrokerUnavailableError);
      const message = (err as Error).message;
      expect(message).toMatch(/^RabbitMQ at amqp:\/\/127\.0\.0\.1:\d+ is not usable \(AMQP handshake\)/);
      expect(message).toMatch(/did not complete the AMQP handshake within 1 s/);
      expect(message).toMatch(/out of file handles/);
      expect(message).toMatch(/README\.md, section 'A hung RabbitMQ'/);
      // this machine's broker: its pid and open-files limit are read from /proc
      expect(message).toMatch(/open-files limit \d+/);
    } finally {
      await silent.close();
    }
  });

  it("fails at once when nothing listens, saying how to start the broker", async () => {
    const silent = await silentServer();
    await silent.close(); // the port is free now: connections are refused
    const started = Date.now();
    const err = await probeBroker(silent.url, { stepTimeoutMs: 5_000 }).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect((err as Error).message).toMatch(
      /is not usable \(TCP connect\): TCP connection failed: ECONNREFUSED/,
    );
    expect((err as Error).message).toMatch(/rabbitmq-server -detached/);
  });
});

describe("scratch namespaces", () => {
  const made: string[] = [];
  afterAll(async () => {
    for (const namespace of made) {
      await deleteNamespace(AMQP_URL, namespace);
    }
  });

  const declare = async (namespace: string) => {
    made.push(namespace);
    const broker = await Broker.connect({ url: AMQP_URL, namespace, service: "test", logger: testLogger() });
    await broker.close();
  };

  const exists = async (queue: string): Promise<boolean> => {
    const inspect = await openInspector();
    inspect.channel.on("error", () => undefined); // checkQueue of a missing queue closes the channel
    try {
      await inspect.channel.checkQueue(queue);
      return true;
    } catch {
      return false;
    } finally {
      await inspect.close().catch(() => undefined);
    }
  };

  it("are named <kind>-<UTC time>-<owner>-<random>, and read back", () => {
    const at = new Date("2026-12-04T20:30:12.345Z");
    const namespace = scratchNamespace("bench", 4242, at);
    expect(namespace).toMatch(/^bench-20261204t203012z-4242-[0-9a-f]{8}$/);
    expect(parseScratchNamespace(namespace)).toEqual({
      namespace,
      kind: "bench",
      owner: 4242,
      createdAt: new Date("2026-12-04T20:30:12Z"),
    });
    // An earlier version's upper-case stamp still reads back (so its left-overs are still deleted).
    expect(parseScratchNamespace("test-20261204T203012Z-7-0a1b")?.createdAt).toEqual(
      new Date("2026-12-04T20:30:12Z"),
    );
    expect(parseScratchNamespace("tidings")).toBeUndefined();
    expect(parseScratchNamespace("")).toBeUndefined();
    expect(() => scratchNamespace("Bench-1")).toThrow(/lower-case letters/);
  });

  it("older than an hour are deleted with every queue under their prefix; younger ones and other names are left", async () => {
    const stale = scratchNamespace("test", 1, new Date(Date.now() - STALE_AFTER_MS - 60_000));
    const young = createTestNamespace().namespace;
    await declare(stale);
    await declare(young);
    // a queue an earlier version declared under the stale prefix goes too
    const inspect = await openInspector();
    await inspect.channel.assertQueue(`${stale}.subscription.send-next.retry-1`, {
      durable: true,
      arguments: { "x-queue-type": "quorum" },
    });
    await inspect.close();

    const deleted = await deleteScratchNamespaces(AMQP_URL);
    expect(deleted).toContain(stale);
    expect(deleted).not.toContain(young);
    const staleNames = namesFor(stale);
    expect(await exists(staleNames.queue("subscription.send-next"))).toBe(false);
    expect(await exists(`${stale}.subscription.send-next.retry-1`)).toBe(false);
    expect(await exists(staleNames.delayQueue(1_000))).toBe(false);
    expect(await exists(namesFor(young).queue("subscription.send-next"))).toBe(true);

    const left = (await listBrokerQueues()) ?? [];
    expect(left.filter((q) => q.startsWith(`${stale}.`))).toEqual([]);
    expect(left.filter((q) => q.startsWith(`${young}.`)).length).toBeGreaterThan(0);
  });

  it("of one run are deleted by owner, leaving every other run's", async () => {
    const mine = scratchNamespace("bench", 999_999_1);
    const theirs = scratchNamespace("bench", 999_999_2);
    await declare(mine);
    await declare(theirs);
    expect(await deleteScratchNamespaces(AMQP_URL, (ns) => ns.owner === 999_999_1)).toEqual([mine]);
    expect(await exists(namesFor(mine).deadLetterQueue("identity.inbound"))).toBe(false);
    expect(await exists(namesFor(theirs).deadLetterQueue("identity.inbound"))).toBe(true);
  });
});
