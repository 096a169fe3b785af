import { setTimeout as sleep } from "node:timers/promises";
import { waitFor } from "@tidings/testing";
import type { Channel } from "amqplib";
import { describe, expect, vi } from "vitest";
import { isFirstDelivery, NonRetryableError } from "../src/index.ts";
import { deferred, dropConnection, inTransaction, killSocket, outboundSend, tally } from "./helpers.ts";
import { outboxTest } from "./outbox-support.ts";

const queue = "message-sender.outbound-send" as const;

/**
 * `ackFrames()`: every `basic.ack` sent in the test, as [delivery tag, multiple]: amqplib's Channel#ack (each call is
 * one frame), spied on and still acking.
 */
const it = outboxTest.extend<{ ackFrames: () => [number, boolean][] }>({
  ackFrames: async ({ inspect }, use) => {
    const proto = Object.getPrototypeOf(inspect.channel) as Channel;
    const spy = vi.spyOn(proto, "ack");
    try {
      await use(() =>
        spy.mock.calls.map(
          ([msg, allUpTo]) => [msg.fields.deliveryTag, allUpTo === true] as [number, boolean],
        ),
      );
    } finally {
      spy.mockRestore();
    }
  },
});

describe("batched acks", () => {
  it("acks the handlers that finish together with one multiple ack", async ({
    connect,
    inspect,
    names,
    ackFrames,
  }) => {
    const messages = 300;
    const broker = await connect();
    for (let i = 0; i < messages; i += 100) {
      await Promise.all(Array.from({ length: 100 }, () => broker.publish("outbound.send", outboundSend())));
    }
    // Handlers finish in groups, as those of a group commit do (every 5 ms, whatever has arrived).
    let gate = deferred();
    const ticker = setInterval(() => {
      gate.resolve();
      gate = deferred();
    }, 5);
    const seen: string[] = [];
    const consumer = await broker.consume(
      queue,
      {
        "outbound.send": async (_payload, ctx) => {
          seen.push(ctx.messageId);
          await gate.promise;
        },
      },
      { prefetch: 100 },
    );
    try {
      await waitFor(() => seen.length === messages, { what: "every delivery" });
      await consumer.stop(); // flushes what is pending, then closes the channel (requeueing anything unacked)
    } finally {
      clearInterval(ticker);
    }
    // Each handled once and none requeued: the multiple acks covered every delivery.
    expect([...tally(seen).values()].every((n) => n === 1)).toBe(true);
    expect(await inspect.messageCount(names.queue(queue))).toBe(0);
    const frames = ackFrames();
    process.stdout.write(
      `${messages} messages acked with ${frames.length} ack frames (${frames.filter(([, m]) => m).length} multiple)\n`,
    );
    expect(frames.some(([, multiple]) => multiple)).toBe(true);
    expect(frames.length).toBeLessThan(messages / 4);
  });

  it("never covers a failed or unfinished delivery: retried, dead-lettered and redelivered as before", async ({
    connect,
    inspect,
    names,
    ackFrames,
  }) => {
    const broker = await connect();
    for (let i = 0; i < 10; i++) {
      await broker.publish("outbound.send", outboundSend(`m${i}`));
    }
    const everyone = deferred();
    const held = deferred();
    const calls: { content: string; attempt: number }[] = [];
    const consumer = await broker.consume(
      queue,
      {
        "outbound.send": async ({ content }, { attempt }) => {
          calls.push({ content: String(content), attempt });
          if (calls.length === 10) {
            everyone.resolve();
          }
          await everyone.promise;
          if (content === "m2") {
            throw new NonRetryableError("m2 is bad"); // dead-lettered at once
          }
          if (content === "m4" && attempt === 1) {
            throw new Error("m4 failed once"); // retried
          }
          if (content === "m6" && calls.filter((c) => c.content === "m6").length === 1) {
            await held.promise; // its first delivery never finishes on this channel
          }
        },
      },
      { prefetch: 20, retry: { maxAttempts: 3, delaysMs: [100], jitter: 0 } },
    );
    await waitFor(async () => (await inspect.messageCount(names.deadLetterQueue(queue))) === 1, {
      what: "m2 dead-lettered",
    });
    await waitFor(() => calls.some((c) => c.content === "m4" && c.attempt === 2), { what: "m4 retried" });
    await sleep(300); // every finished delivery flushed (those above m6 after HOLD_MS)
    // The deliveries below m6 went in one multiple ack; none of the frames reached m6's tag (the 7th delivery).
    const frames = ackFrames();
    expect(frames.some(([, multiple]) => multiple)).toBe(true);
    expect(frames.filter(([tag, multiple]) => multiple && tag >= 7)).toEqual([]);

    // So losing the connection brings back m6, and only m6.
    await dropConnection(broker);
    await waitFor(() => calls.filter((c) => c.content === "m6").length === 2, { what: "m6 redelivered" });
    held.resolve();
    await sleep(200);
    await consumer.stop();
    expect(Object.fromEntries(tally(calls.map((c) => c.content)))).toEqual({
      m0: 1,
      m1: 1,
      m2: 1,
      m3: 1,
      m4: 2,
      m5: 1,
      m6: 2,
      m7: 1,
      m8: 1,
      m9: 1,
    });
    expect(await inspect.messageCount(names.queue(queue))).toBe(0);
    expect(await inspect.messageCount(names.deadLetterQueue(queue))).toBe(1);
  });

  it("a consumer killed before its acks are flushed gets the committed messages again; idempotency keeps one effect", async ({
    connect,
    inspect,
    names,
    pool,
  }) => {
    const messages = 30;
    const broker = await connect();
    await Promise.all(
      Array.from({ length: messages }, () => broker.publish("outbound.send", outboundSend())),
    );
    const effects: string[] = [];
    let replays = 0;
    let killed = false;
    const consumer = await broker.consume(
      queue,
      {
        "outbound.send": async (_payload, ctx) => {
          const first = await inTransaction(pool, (tx) => isFirstDelivery(tx, ctx));
          if (!first) {
            replays++;
            return;
          }
          effects.push(ctx.messageId);
          if (!killed && effects.length === 10) {
            // Committed, and the process dies before the ack goes out.
            killed = true;
            killSocket(broker);
          }
        },
      },
      { prefetch: 50 },
    );
    await waitFor(() => effects.length === messages && replays > 0, {
      what: "every message's effect and a redelivery of a committed one",
      timeoutMs: 15_000,
    });
    await consumer.stop();
    expect([...tally(effects).values()].every((n) => n === 1)).toBe(true);
    expect(effects).toHaveLength(messages);
    expect(await inspect.messageCount(names.queue(queue))).toBe(0);
  });
});
