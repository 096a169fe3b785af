import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { catalog, type Payload } from "@tidings/contracts";
import { waitFor } from "@tidings/testing";
import { describe, expect } from "vitest";
import type { Broker, MessageContext } from "../src/index.ts";
import {
  amqpTest,
  type Deferred,
  deferred,
  dropConnection,
  handlersFor,
  outboundSend,
  sendNext,
  settledWithin,
  tally,
} from "./helpers.ts";

/**
 * `blocker()`: a promise a handler waits on, released by the test, or at the latest before the test's brokers close
 * (a test that failed half-way may have left a handler waiting, and close() waits for it).
 */
const it = amqpTest.extend<{ blocker: () => Deferred }>({
  blocker: async ({ connect: _ }, use) => {
    const releases: Deferred[] = [];
    await use(() => {
      const release = deferred();
      releases.push(release);
      return release;
    });
    for (const release of releases) {
      release.resolve();
    }
  },
});

describe("consume", () => {
  it("hands the handler the typed payload and its context", async ({ connect, inspect, names }) => {
    const broker = await connect();
    const seen: { payload: Payload<"subscription.send-next">; ctx: MessageContext }[] = [];
    const consumer = await broker.consume("subscription.send-next", {
      "subscription.send-next": async (payload, ctx) => {
        seen.push({ payload, ctx });
      },
    });
    const payload = sendNext();
    const messageId = await broker.publish("subscription.send-next", payload, { correlationId: "corr-1" });
    await waitFor(() => seen.length === 1, { what: "the handler" });
    expect(seen[0]?.payload).toEqual(payload);
    expect(seen[0]?.ctx).toMatchObject({
      queue: "subscription.send-next",
      name: "subscription.send-next",
      messageId,
      correlationId: "corr-1",
      attempt: 1,
    });
    expect(seen[0]?.ctx.log).toBeDefined();
    await consumer.stop();
    expect(await inspect.messageCount(names.queue("subscription.send-next"))).toBe(0);
  });

  it("routes each message of a multi-message queue to its own handler", async ({ connect }) => {
    const broker = await connect();
    const got: string[] = [];
    const consumer = await broker.consume("subscription.identity-copy", {
      "identity.created": async (p) => {
        got.push(`created:${p.id}`);
      },
      "identity.updated": async (p) => {
        got.push(`updated:${p.id}`);
      },
      "identity.deleted": async (p) => {
        got.push(`deleted:${p.id}`);
      },
    });
    const id = randomUUID();
    await broker.publish("identity.deleted", { id });
    await waitFor(() => got.length === 1, { what: "the handler" });
    expect(got).toEqual([`deleted:${id}`]);
    await consumer.stop();
  });

  it("acks a message only after its handler resolved: a connection lost mid-handler means redelivery", async ({
    connect,
    inspect,
    names,
    blocker,
  }) => {
    const broker = await connect();
    const release = blocker();
    const calls: MessageContext[] = [];
    const consumer = await broker.consume("message-sender.outbound-send", {
      "outbound.send": async (_payload, ctx) => {
        calls.push(ctx);
        if (calls.length === 1) {
          await release.promise;
        }
      },
    });
    const messageId = await broker.publish("outbound.send", outboundSend());
    await waitFor(() => calls.length === 1, { what: "the first delivery" });
    // handler pending: the message is delivered but not acked, so nothing is ready in the queue
    expect(await inspect.messageCount(names.queue("message-sender.outbound-send"))).toBe(0);

    await dropConnection(broker);
    // the unacked message went back to the queue and comes again once the broker reconnected
    await waitFor(() => calls.length === 2, { what: "the redelivery" });
    expect(calls.map((c) => c.messageId)).toEqual([messageId, messageId]);
    release.resolve();

    await sleep(300);
    expect(calls).toHaveLength(2);
    await consumer.stop();
    expect(await inspect.messageCount(names.queue("message-sender.outbound-send"))).toBe(0);
  });

  it("honours prefetch: no more than that many handlers run at once", async ({ connect }) => {
    const broker = await connect();
    let running = 0;
    let peak = 0;
    let done = 0;
    const consumer = await broker.consume(
      "subscription.send-next",
      {
        "subscription.send-next": async () => {
          running++;
          peak = Math.max(peak, running);
          await sleep(20);
          running--;
          done++;
        },
      },
      { prefetch: 3 },
    );
    await Promise.all(Array.from({ length: 15 }, () => broker.publish("subscription.send-next", sendNext())));
    await waitFor(() => done === 15, { what: "all handled" });
    expect(peak).toBeGreaterThan(1);
    expect(peak).toBeLessThanOrEqual(3);
    await consumer.stop();
  });
});

describe("competing consumers", () => {
  it("two brokers on one queue share the messages, each handled exactly once", async ({
    connect,
    inspect,
    names,
  }) => {
    const [a, b, publisher] = [await connect(), await connect(), await connect()];
    const handledBy: { broker: "a" | "b"; messageId: string }[] = [];
    const consumeAs = (broker: Broker, name: "a" | "b") =>
      broker.consume(
        "subscription.content",
        handlersFor("subscription.content", async (_payload, ctx) => {
          await sleep(1);
          handledBy.push({ broker: name, messageId: ctx.messageId });
        }),
        { prefetch: 10 },
      );
    const consumers = [await consumeAs(a, "a"), await consumeAs(b, "b")];
    const total = 200;
    const ids = await Promise.all(
      Array.from({ length: total }, (_, i) =>
        publisher.publish("content.message.deleted", {
          id: i + 1,
          messageset: 1,
          sequence_number: i + 1,
          lang: "eng_ZA",
        }),
      ),
    );
    await waitFor(() => handledBy.length >= total, { what: `${total} handled`, timeoutMs: 15_000 });
    await sleep(300); // room for a duplicate to show up
    const perMessage = tally(handledBy.map((h) => h.messageId));
    expect(perMessage.size).toBe(total);
    expect([...perMessage.values()].every((n) => n === 1)).toBe(true);
    expect(new Set(perMessage.keys())).toEqual(new Set(ids));
    const perBroker = tally(handledBy.map((h) => h.broker));
    expect(perBroker.get("a")).toBeGreaterThan(0);
    expect(perBroker.get("b")).toBeGreaterThan(0);
    await Promise.all(consumers.map((c) => c.stop()));
    expect(await inspect.messageCount(names.queue("subscription.content"))).toBe(0);
  });
});

describe("graceful stop", () => {
  it("Broker.close() waits for an in-flight handler to finish and ack before closing", async ({
    connect,
    inspect,
    names,
    blocker,
  }) => {
    const broker = await connect();
    const release = blocker();
    const started = deferred();
    let finished = false;
    let calls = 0;
    await broker.consume(
      "scheduler.content-schedules",
      handlersFor("scheduler.content-schedules", async (_payload, ctx) => {
        if (ctx.name !== "content.schedule.changed") {
          return;
        }
        calls++;
        started.resolve();
        await release.promise;
        await sleep(50);
        finished = true;
      }),
    );
    await broker.publish("content.schedule.deleted", { id: 9 }); // handled at once, not in flight
    await broker.publish("content.schedule.changed", catalog["content.schedule.changed"].example);
    await started.promise;

    const closing = broker.close();
    expect(await settledWithin(closing, 300)).toBe("pending");
    expect(broker.isConnected).toBe(true);
    release.resolve();
    await closing;
    expect(finished).toBe(true);
    expect(broker.isConnected).toBe(false);
    // acked before the connection closed: nothing went back to the queue
    expect(await inspect.messageCount(names.queue("scheduler.content-schedules"))).toBe(0);
    expect(calls).toBe(1);
    await expect(broker.publish("content.schedule.deleted", { id: 1 })).rejects.toThrow(/closing/);
  });

  it("close() twice is harmless, and a consumer started after close does not subscribe", async ({
    connect,
    inspect,
    names,
  }) => {
    const broker = await connect();
    await broker.close();
    await broker.close();
    expect(broker.isConnected).toBe(false);
    await broker.consume("subscription.send-next", { "subscription.send-next": async () => undefined });
    expect((await inspect.channel.checkQueue(names.queue("subscription.send-next"))).consumerCount).toBe(0);
  });
});
