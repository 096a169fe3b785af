import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { DELAY_LEVELS_MS, type QueueMessages, type QueueName } from "@tidings/contracts";
import { waitFor } from "@tidings/testing";
import type { Options } from "amqplib";
import { describe, expect } from "vitest";
import {
  ATTEMPT_HEADER,
  type Broker,
  type ConsumeOptions,
  forgetDeadLetters,
  type Handlers,
  handledMessages,
  listDeadLetters,
  type MessageContext,
  NonRetryableError,
  queueStats,
  RetryNotBeforeError,
  replayDeadLetters,
} from "../src/index.ts";
import { type AmqpFixtures, amqpTest, outboundSend, sendNext } from "./helpers.ts";

interface DeadLetterFixtures {
  /** Starts a consumer on the file's broker, as `broker.consume` does; stopped after the test. */
  consume: Broker["consume"];
  /** Publishes raw bytes straight into a queue (what a buggy or foreign publisher could do). */
  publishRaw(queue: QueueName, body: Buffer | string, properties: Options.Publish): Promise<void>;
  /** How many messages the queue's dead-letter queue holds. */
  dlqCount(queue: QueueName): Promise<number>;
}

const it = amqpTest.extend<DeadLetterFixtures>({
  consume: async ({ broker }, use) => {
    const started: { stop(): Promise<void> }[] = [];
    await use(
      async <Q extends QueueName>(
        queue: Q,
        handlers: Handlers<QueueMessages<Q>>,
        options?: ConsumeOptions,
      ) => {
        const consumer = await broker.consume(queue, handlers, options);
        started.push(consumer);
        return consumer;
      },
    );
    await Promise.all(started.map((c) => c.stop()));
  },
  publishRaw: [
    async ({ broker, names }, use) =>
      use(async (queue, body, properties) => {
        const channel = await broker.channel();
        await new Promise<void>((resolve, reject) =>
          channel.publish("", names.queue(queue), Buffer.from(body), properties, (err) =>
            err ? reject(err) : resolve(),
          ),
        );
        await channel.close();
      }),
    { scope: "file" },
  ],
  dlqCount: [
    async ({ inspect, names }, use) => use((queue) => inspect.messageCount(names.deadLetterQueue(queue))),
    { scope: "file" },
  ],
});

const fast = { maxAttempts: 3, delaysMs: [100, 300], jitter: 0 };

/** tidings_amqp_messages_handled_total of a queue, by outcome. */
async function handled(queue: QueueName): Promise<Record<string, number>> {
  const { values } = await handledMessages.get();
  return Object.fromEntries(
    values.filter((v) => v.labels.queue === queue).map((v) => [v.labels.outcome, v.value]),
  );
}

interface Call {
  ctx: MessageContext;
  at: number;
}

describe("retries", () => {
  it("retries a failing message with growing delays, then dead-letters it; list, replay, handle", async ({
    broker,
    inspect,
    names,
    consume,
    dlqCount,
  }) => {
    const queue = "message-sender.outbound-send";
    const calls: Call[] = [];
    let failing = true;
    await consume(
      queue,
      {
        "outbound.send": async (_payload, ctx) => {
          calls.push({ ctx, at: Date.now() });
          if (failing) {
            throw new Error(`provider down (attempt ${ctx.attempt})`);
          }
        },
      },
      { retry: fast },
    );
    const payload = outboundSend("retry me");
    const messageId = await broker.publish("outbound.send", payload, { correlationId: "corr-r" });

    await waitFor(async () => (await dlqCount(queue)) === 1, { what: "the dead letter", timeoutMs: 5_000 });
    expect(calls.map((c) => c.ctx.attempt)).toEqual([1, 2, 3]);
    // Counted by outcome: two retries, then the dead letter; and the DLQ's depth as a worker's gauge reads it.
    expect(await handled(queue)).toEqual({ retry: 2, dead_letter: 1 });
    expect(await queueStats(broker, [queue])).toEqual([{ queue, messages: 0, consumers: 1, deadLetters: 1 }]);
    expect(calls.every((c) => c.ctx.messageId === messageId && c.ctx.correlationId === "corr-r")).toBe(true);
    const [first, second, third] = calls.map((c) => c.at) as [number, number, number];
    expect(second - first).toBeGreaterThanOrEqual(90);
    expect(third - second).toBeGreaterThanOrEqual(290);
    expect(third - second).toBeGreaterThan(second - first);
    expect(await inspect.messageCount(names.queue(queue))).toBe(0);
    for (const level of DELAY_LEVELS_MS) {
      expect(await inspect.messageCount(names.delayQueue(level))).toBe(0);
    }

    // the raw dead letter keeps the original properties and says why it failed
    const raw = await inspect.channel.get(names.deadLetterQueue(queue), { noAck: false });
    if (!raw) {
      throw new Error("no dead letter");
    }
    expect(JSON.parse(raw.content.toString("utf8"))).toEqual(payload);
    expect(raw.properties).toMatchObject({
      messageId,
      type: "outbound.send",
      correlationId: "corr-r",
      deliveryMode: 2,
      headers: expect.objectContaining({
        "x-tidings-error": "provider down (attempt 3)",
        [ATTEMPT_HEADER]: 3,
        "x-tidings-queue": queue,
      }),
    });
    inspect.channel.nack(raw, false, true);

    // listing shows it and leaves it there
    const listed = await listDeadLetters(broker, queue);
    expect(listed).toEqual([
      {
        messageId,
        type: "outbound.send",
        payload,
        error: "provider down (attempt 3)",
        attempts: 3,
        failedAt: expect.any(String),
      },
    ]);
    expect(Date.parse(listed[0]?.failedAt ?? "")).toBeGreaterThanOrEqual(calls[0]?.at ?? 0);
    expect(await listDeadLetters(broker, queue)).toEqual(listed);
    // (a quorum queue takes back the listed, unacked messages a moment after the channel closed)
    await waitFor(async () => (await dlqCount(queue)) === 1, { what: "the listed dead letter back" });

    // the dead letter does not expire in the DLQ
    await sleep(400);
    expect(await dlqCount(queue)).toBe(1);

    // replay sends it back for a fresh set of attempts; the handler now succeeds
    failing = false;
    expect(await replayDeadLetters(broker, queue)).toBe(1);
    await waitFor(() => calls.length === 4, { what: "the replayed delivery" });
    await waitFor(async () => (await handled(queue)).ack === 1, {
      what: "the replayed delivery acked and counted",
    });
    expect(calls[3]?.ctx).toMatchObject({ messageId, attempt: 1 });
    await sleep(200);
    expect(calls).toHaveLength(4);
    expect(await dlqCount(queue)).toBe(0);
    expect(await listDeadLetters(broker, queue)).toEqual([]);
    expect(await inspect.messageCount(names.queue(queue))).toBe(0);
  });

  it("a message that fails once and then succeeds is handled on its second attempt and not dead-lettered", async ({
    broker,
    consume,
    dlqCount,
  }) => {
    const queue = "subscription.send-next";
    const attempts: number[] = [];
    await consume(
      queue,
      {
        "subscription.send-next": async (_payload, ctx) => {
          attempts.push(ctx.attempt);
          if (ctx.attempt === 1) {
            throw new Error("flaky");
          }
        },
      },
      { retry: fast },
    );
    await broker.publish("subscription.send-next", sendNext());
    await waitFor(() => attempts.length === 2, { what: "the retry" });
    await sleep(400);
    expect(attempts).toEqual([1, 2]);
    expect(await dlqCount(queue)).toBe(0);
  });

  it("a RetryNotBeforeError is retried no sooner than it asks, without holding up a shorter retry behind it", async ({
    broker,
    consume,
    dlqCount,
  }) => {
    const queue = "message-sender.outbound-send";
    const calls: { content: string | undefined; attempt: number; at: number }[] = [];
    await consume(
      queue,
      {
        "outbound.send": async (payload, ctx) => {
          calls.push({ content: payload.content ?? undefined, attempt: ctx.attempt, at: Date.now() });
          if (ctx.attempt > 1) {
            return;
          }
          // "late" asks for more than the first delay level covers (1 s), so it waits in the next; "plain" takes
          // its policy's 100 ms in the first level.
          throw payload.content === "late"
            ? new RetryNotBeforeError("still settling", 1_500)
            : new Error("flaky");
        },
      },
      { retry: fast },
    );
    await broker.publish("outbound.send", outboundSend("late"));
    await waitFor(() => calls.length === 1, { what: "the first attempt of the late message" });
    await broker.publish("outbound.send", outboundSend("plain"));
    await waitFor(() => calls.length === 4, { what: "both retries" });

    const first = (content: string, attempt: number) =>
      calls.find((c) => c.content === content && c.attempt === attempt)?.at ?? Number.NaN;
    expect(first("late", 2) - first("late", 1)).toBeGreaterThanOrEqual(1_500);
    // The plain retry was not queued behind the late one's 1.5 s wait: it came first, after its own 100 ms.
    expect(first("plain", 2)).toBeLessThan(first("late", 2));
    expect(first("plain", 2) - first("plain", 1)).toBeLessThan(1_000);
    expect(await dlqCount(queue)).toBe(0);
  });

  it("replays a dead letter a listing holds at that moment, once the listing lets it go", async ({
    broker,
    inspect,
    names,
    connect,
    publishRaw,
    consume,
    dlqCount,
  }) => {
    const queue = "message-sender.outbound-send";
    const messageId = randomUUID();
    await publishRaw(queue, "not json", { messageId, type: "outbound.send" });
    await consume(queue, { "outbound.send": async () => undefined });
    await waitFor(async () => (await dlqCount(queue)) === 1, { what: "the dead letter" });

    // another API instance's listing: the letter read, unacknowledged, until its channel closes
    const other = await connect();
    const listing = await other.channel();
    expect(await listing.get(names.deadLetterQueue(queue), { noAck: false })).not.toBe(false);
    const replay = replayDeadLetters(broker, queue, { messageIds: [messageId] });
    await sleep(500);
    await listing.close();
    expect(await replay).toBe(1);
    // it fails again (not JSON) and is back, with its first attempt's count: moved once, not twice
    await waitFor(async () => (await dlqCount(queue)) === 1, { what: "the replayed letter back" });
    expect((await listDeadLetters(broker, queue)).map((d) => [d.messageId, d.attempts])).toEqual([
      [messageId, 1],
    ]);
    // an id that is nowhere is looked for a while, then answered as not moved
    const started = Date.now();
    expect(await replayDeadLetters(broker, queue, { messageIds: [randomUUID()] })).toBe(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(3_000);
    await waitFor(async () => (await dlqCount(queue)) === 1, { what: "the listed letter back" });
    await inspect.channel.purgeQueue(names.deadLetterQueue(queue));
  });

  it("replays only the dead letters asked for, and each at most once per call", async ({
    broker,
    inspect,
    names,
    consume,
    publishRaw,
    dlqCount,
  }) => {
    const queue = "message-sender.outbound-send";
    const ids = Array.from({ length: 20 }, () => randomUUID());
    for (const messageId of ids) {
      await publishRaw(queue, "not json", { messageId, type: "outbound.send" });
    }
    const handled: string[] = [];
    await consume(queue, {
      "outbound.send": async (_payload, ctx) => {
        handled.push(ctx.messageId);
      },
    });
    const allBack = () =>
      waitFor(async () => (await dlqCount(queue)) === ids.length, { what: "every dead letter in the DLQ" });
    await allBack();

    // it is not JSON, so a replayed message is back in the DLQ at once, while the replay still scans
    expect(await replayDeadLetters(broker, queue, { messageIds: [ids[0] as string] })).toBe(1);
    await allBack();
    expect(await replayDeadLetters(broker, queue)).toBe(ids.length);
    await allBack();
    const listed = await listDeadLetters(broker, queue);
    expect(listed.map((d) => d.messageId).sort()).toEqual([...ids].sort());
    expect(listed.every((d) => d.payload === "not json" && d.attempts === 1)).toBe(true);
    expect(handled).toEqual([]);
    await waitFor(async () => (await dlqCount(queue)) === ids.length, { what: "the listed letters back" });
    await inspect.channel.purgeQueue(names.deadLetterQueue(queue));
  });
});

describe("forgetting a person", () => {
  it("removes the dead letters that hold their identity or an address, in any queue, and leaves the rest", async ({
    broker,
    inspect,
    names,
  }) => {
    const person = randomUUID();
    const number = "+27820001234";
    const dead = (queue: QueueName, payload: unknown, type: string) =>
      inspect.channel.sendToQueue(
        names.deadLetterQueue(queue),
        Buffer.from(typeof payload === "string" ? payload : JSON.stringify(payload)),
        { messageId: randomUUID(), type, persistent: true },
      );
    const sends = "message-sender.outbound-send";
    const copies = "subscription.identity-copy";
    // Theirs: by identity (any case), by address as a value, by address as a key (identity details).
    dead(sends, { id: randomUUID(), to_identity: person.toUpperCase(), content: "Hi" }, "outbound.send");
    dead(sends, { id: randomUUID(), to_addr: number, content: "Hi" }, "outbound.send");
    dead(
      copies,
      { id: randomUUID(), details: { addresses: { msisdn: { [number]: {} } } } },
      "identity.updated",
    );
    // Not theirs: someone else's, one that mentions the number inside a text, and one that is not JSON.
    const others = [
      { id: randomUUID(), to_identity: randomUUID(), content: "Hi" },
      { id: randomUUID(), to_addr: "+27820009999", content: `Call ${number} back` },
    ];
    for (const other of others) {
      dead(sends, other, "outbound.send");
    }
    dead(copies, `not json ${person}`, "identity.updated");
    const count = (queue: QueueName) => inspect.messageCount(names.deadLetterQueue(queue));
    await waitFor(async () => (await count(sends)) === 4 && (await count(copies)) === 2, {
      what: "the dead letters in their DLQs",
    });

    expect(
      await forgetDeadLetters(broker, [sends, copies, "subscription.send-next"], [person, number, ""]),
    ).toBe(3);
    await waitFor(async () => (await count(sends)) === 2 && (await count(copies)) === 1, {
      what: "the others back in their DLQs",
    });
    expect((await listDeadLetters(broker, sends)).map((d) => d.payload)).toEqual(
      expect.arrayContaining(others),
    );
    expect((await listDeadLetters(broker, copies)).map((d) => d.payload)).toEqual([`not json ${person}`]);
    // Nothing left of them: a second pass removes nothing; no needle removes nothing.
    expect(await forgetDeadLetters(broker, [sends, copies], [person, number])).toBe(0);
    expect(await forgetDeadLetters(broker, [sends, copies], [""])).toBe(0);
    await waitFor(async () => (await count(sends)) === 2 && (await count(copies)) === 1, {
      what: "the others still there",
    });
    await inspect.channel.purgeQueue(names.deadLetterQueue(sends));
    await inspect.channel.purgeQueue(names.deadLetterQueue(copies));
  });
});

describe("dead-lettered at once", () => {
  const queue = "subscription.identity-copy";
  const POISON = randomUUID();
  /** Its handler fails with a provider's message that names the recipient. */
  const REFUSED = randomUUID();

  /** `handled`: what the queue's consumer (started for the test) was handed; the DLQ is emptied after the test. */
  const dlqIt = it.extend<{ handled: MessageContext[] }>({
    handled: async ({ broker, inspect, names }, use) => {
      const handled: MessageContext[] = [];
      const handler = async (payload: { id: string }, ctx: MessageContext) => {
        handled.push(ctx);
        if (payload.id === POISON) {
          throw new NonRetryableError("this identity can never be stored");
        }
        if (payload.id === REFUSED) {
          throw new NonRetryableError("provider refused +27820001001 <jane@example.org>: blocked");
        }
      };
      const consumer = await broker.consume(
        queue,
        { "identity.created": handler, "identity.updated": handler, "identity.deleted": handler },
        { retry: fast },
      );
      await use(handled);
      await consumer.stop();
      await inspect.channel.purgeQueue(names.deadLetterQueue(queue));
    },
  });

  const expectDeadLetter = async (
    {
      broker,
      inspect,
      names,
      dlqCount,
    }: Pick<AmqpFixtures, "broker" | "inspect" | "names"> & Pick<DeadLetterFixtures, "dlqCount">,
    messageId: string,
    error: RegExp,
  ) => {
    await waitFor(async () => (await dlqCount(queue)) === 1, { what: "the dead letter", timeoutMs: 3_000 });
    // no retry is coming
    await sleep(250);
    const [letter, ...more] = await listDeadLetters(broker, queue);
    expect(more).toEqual([]);
    expect(letter).toMatchObject({ messageId, attempts: 1 });
    expect(letter?.error).toMatch(error);
    expect(await inspect.messageCount(names.delayQueue(DELAY_LEVELS_MS[0]))).toBe(0);
    expect(await inspect.messageCount(names.queue(queue))).toBe(0);
  };

  dlqIt(
    "a NonRetryableError goes to the DLQ after one attempt",
    async ({ broker, inspect, names, dlqCount, handled }) => {
      const messageId = await broker.publish("identity.deleted", { id: POISON });
      await expectDeadLetter({ broker, inspect, names, dlqCount }, messageId, /can never be stored/);
      expect(handled.map((c) => c.attempt)).toEqual([1]);
    },
  );

  dlqIt(
    "the error a dead letter keeps has its phone numbers and emails masked",
    async ({ broker, inspect, names, dlqCount, handled }) => {
      const messageId = await broker.publish("identity.deleted", { id: REFUSED });
      await expectDeadLetter({ broker, inspect, names, dlqCount }, messageId, /provider refused/);
      expect(handled.map((c) => c.attempt)).toEqual([1]);
      const [letter] = await listDeadLetters(broker, queue);
      expect(letter?.error).toBe("provider refused [phone] <[email]>: blocked");
    },
  );

  dlqIt.for([
    {
      title:
        "a payload that does not match the message's schema goes to the DLQ without reaching the handler",
      body: JSON.stringify({ id: 42 }),
      type: "identity.deleted",
      error: /invalid identity.deleted payload/,
    },
    {
      title: "a catalogued message this queue has no handler for goes to the DLQ",
      body: JSON.stringify(sendNext()),
      type: "subscription.send-next",
      error: /no handler for message type "subscription.send-next"/,
    },
    {
      title: "a type that is not in the catalog goes to the DLQ",
      body: "{}",
      type: "identity.exploded",
      error: /no handler for message type "identity.exploded"/,
    },
  ])("$title", async ({ body, type, error }, { broker, inspect, names, publishRaw, dlqCount, handled }) => {
    const messageId = randomUUID();
    await publishRaw(queue, body, { messageId, type });
    await expectDeadLetter({ broker, inspect, names, dlqCount }, messageId, error);
    expect(handled).toEqual([]);
  });

  dlqIt(
    "a body that is not JSON goes to the DLQ without reaching the handler",
    async ({ broker, inspect, names, publishRaw, dlqCount, handled }) => {
      const messageId = randomUUID();
      await publishRaw(queue, "{ not json", { messageId, type: "identity.deleted" });
      await expectDeadLetter({ broker, inspect, names, dlqCount }, messageId, /not JSON/);
      expect((await listDeadLetters(broker, queue))[0]?.payload).toBe("{ not json");
      expect(handled).toEqual([]);
    },
  );

  dlqIt(
    "a message without a messageId goes to the DLQ",
    async ({ broker, inspect, names, publishRaw, dlqCount, handled }) => {
      await publishRaw(queue, JSON.stringify({ id: randomUUID() }), { type: "identity.deleted" });
      await expectDeadLetter({ broker, inspect, names, dlqCount }, "", /no messageId/);
      expect(handled).toEqual([]);
    },
  );

  dlqIt("a good message on the same queue is still handled", async ({ broker, dlqCount, handled }) => {
    const id = randomUUID();
    const messageId = await broker.publish("identity.deleted", { id });
    await waitFor(() => handled.length === 1, { what: "the handler" });
    expect(handled[0]).toMatchObject({ messageId, attempt: 1, name: "identity.deleted" });
    await sleep(200);
    expect(await dlqCount(queue)).toBe(0);
  });
});
