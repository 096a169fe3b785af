import { randomUUID } from "node:crypto";
import {
  catalog,
  DELAY_LEVELS_MS,
  declaredQueues,
  InvalidPayloadError,
  MAX_QUEUES_PER_NAMESPACE,
  type MessageDefinition,
  messageNames,
  type QueueName,
  queueNames,
  queues,
  routingKey,
} from "@tidings/contracts";
import { type Capture, captureMessages, waitFor } from "@tidings/testing";
import type { ConfirmChannel, GetMessage, Options } from "amqplib";
import { describe, expect } from "vitest";
import { assertTopology } from "../src/index.ts";
import { type AmqpFixtures, amqpTest, outboundSend, settledWithin } from "./helpers.ts";

/** Every queue of the namespace is emptied after each test. */
const it = amqpTest.extend<{ purged: undefined }>({
  purged: [
    async ({ inspect, names }, use) => {
      await use(undefined);
      for (const queue of queueNames) {
        await inspect.channel.purgeQueue(names.queue(queue));
      }
    },
    { auto: true },
  ],
});

const counts = async ({
  inspect,
  names,
}: Pick<AmqpFixtures, "inspect" | "names">): Promise<Record<string, number>> =>
  Object.fromEntries(
    await Promise.all(queueNames.map(async (q) => [q, await inspect.messageCount(names.queue(q))] as const)),
  );

describe("topology", () => {
  it("declares every queue with its dead-letter queue, and the namespace's delay queues, on connect", async ({
    broker,
    inspect,
    names,
  }) => {
    const expected = [
      ...queueNames.flatMap((q) => [names.queue(q), names.deadLetterQueue(q)]),
      ...DELAY_LEVELS_MS.map((level) => names.delayQueue(level)),
    ];
    expect(declaredQueues(names).sort()).toEqual([...expected].sort());
    expect(expected.length).toBeLessThanOrEqual(MAX_QUEUES_PER_NAMESPACE);
    for (const queue of expected) {
      // checkQueue closes the channel with 404 NOT_FOUND if the queue does not exist
      await expect(inspect.channel.checkQueue(queue), queue).resolves.toMatchObject({ queue });
    }
    for (const q of queueNames) {
      // no per-queue retry queue is declared any more
      const extra = await broker.channel();
      const closed = new Promise((resolve) => extra.on("error", resolve));
      await expect(extra.checkQueue(`${names.queue(q)}.retry-1`)).rejects.toThrow(/NOT_FOUND/);
      await closed;
    }
  });

  it("is idempotent: asserting it again, twice, changes nothing and does not fail", async ({
    broker,
    inspect,
    names,
    connect,
  }) => {
    const channel = await broker.channel();
    await assertTopology(channel, names);
    await assertTopology(channel, names);
    await channel.close();
    // a second broker on the same namespace asserts it at boot too
    const other = await connect();
    await other.close();
    expect(await counts({ inspect, names })).toEqual(Object.fromEntries(queueNames.map((q) => [q, 0])));
  });

  it("unbinds the routing keys a queue no longer has, left from an older topology", async ({
    broker,
    inspect,
    names,
  }) => {
    // subscription.topic-deliveries took every delivery report before it took only topic messages' reports.
    const queue = names.queue("subscription.topic-deliveries");
    const exchange = names.exchange(catalog["outbound.delivery_report"].exchange);
    await inspect.channel.bindQueue(queue, exchange, "outbound.delivery_report");
    const channel = await broker.channel();
    await assertTopology(channel, names);
    await channel.close();
    const report = catalog["outbound.delivery_report"].example as never;
    await broker.publish("outbound.delivery_report", report);
    await broker.publish("outbound.delivery_report", { ...(report as object), source: "topic" } as never);
    const reports = names.queue("identity.delivery-reports");
    await waitFor(async () => (await inspect.messageCount(reports)) === 2, {
      what: "both reports at identity",
    });
    expect(await inspect.messageCount(queue)).toBe(1); // the topic message's only
  });

  it("routes every catalogued message (each lane of it) to exactly the queues bound to it", async ({
    broker,
    inspect,
    names,
  }) => {
    // Each example, plus one copy per non-default lane of a message with lanes (outbound.send priorities).
    const published = messageNames.flatMap((name) => {
      const { example, lanes }: MessageDefinition = catalog[name];
      const variants = (lanes?.values ?? [])
        .filter((v) => v !== lanes?.default)
        .map((v) => ({ ...(example as object), [lanes?.field as string]: v }));
      return [example, ...variants].map((payload) => ({ name, payload }));
    });
    for (const { name, payload } of published) {
      await broker.publish(name, payload as never);
    }
    const routedTo = (q: QueueName) => {
      const def = queues[q];
      const keys: readonly string[] = "bindings" in def ? def.bindings : def.messages;
      return published.filter(({ name, payload }) => keys.includes(routingKey(name, payload)));
    };
    const expected = Object.fromEntries(queueNames.map((q) => [q, routedTo(q).length]));
    await waitFor(async () => JSON.stringify(await counts({ inspect, names })) === JSON.stringify(expected), {
      what: "every message in its queue",
    });
    expect(await counts({ inspect, names })).toEqual(expected);
    // and each queue holds the right messages
    for (const q of queueNames) {
      const types: string[] = [];
      for (
        let msg = await inspect.channel.get(names.queue(q));
        msg;
        msg = await inspect.channel.get(names.queue(q))
      ) {
        types.push(String(msg.properties.type));
        inspect.channel.ack(msg);
      }
      expect(types.sort(), q).toEqual(
        routedTo(q)
          .map((m) => m.name as string)
          .sort(),
      );
    }
  });
});

describe("publish", () => {
  const QUEUE = "message-sender.outbound-send";
  const getOne = async ({ inspect, names }: Pick<AmqpFixtures, "inspect" | "names">): Promise<GetMessage> =>
    waitFor(() => inspect.channel.get(names.queue(QUEUE), { noAck: true }), {
      what: "a message on the queue",
    });

  it("sets messageId, type, correlationId, persistence, contentType, timestamp, appId and headers", async ({
    broker,
    inspect,
    names,
  }) => {
    const payload = outboundSend();
    const before = Math.floor(Date.now() / 1000);
    const messageId = await broker.publish("outbound.send", payload, {
      correlationId: "req-123",
      headers: { "x-test": "yes" },
    });
    expect(messageId).toMatch(/^[0-9a-f-]{36}$/);
    const msg = await getOne({ inspect, names });
    expect(JSON.parse(msg.content.toString("utf8"))).toEqual(payload);
    expect(msg.fields.routingKey).toBe("outbound.send");
    expect(msg.fields.exchange).toBe(names.exchange("message-sender"));
    expect(msg.properties).toMatchObject({
      messageId,
      type: "outbound.send",
      correlationId: "req-123",
      deliveryMode: 2,
      contentType: "application/json",
      appId: "test",
      headers: expect.objectContaining({ "x-test": "yes" }),
    });
    expect(msg.properties.timestamp).toBeGreaterThanOrEqual(before);
    expect(msg.properties.timestamp).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
  });

  it("keeps a given messageId, and generates a distinct one otherwise", async ({
    broker,
    inspect,
    names,
  }) => {
    const given = randomUUID();
    expect(await broker.publish("outbound.send", outboundSend(), { messageId: given })).toBe(given);
    expect((await getOne({ inspect, names })).properties.messageId).toBe(given);
    const a = await broker.publish("outbound.send", outboundSend());
    const b = await broker.publish("outbound.send", outboundSend());
    expect(a).not.toBe(b);
    expect((await getOne({ inspect, names })).properties).toMatchObject({
      messageId: a,
      correlationId: undefined,
    });
    expect((await getOne({ inspect, names })).properties.messageId).toBe(b);
  });

  it("rejects an invalid payload with InvalidPayloadError and publishes nothing", async ({
    broker,
    inspect,
    names,
    namespace,
  }) => {
    const capture: Capture = await captureMessages(namespace, ["outbound.send"]);
    try {
      const { id: _id, ...missingId } = outboundSend();
      await expect(broker.publish("outbound.send", missingId as never)).rejects.toThrow(InvalidPayloadError);
      await expect(
        broker.publish("outbound.send", { ...outboundSend(), to_identity: "not-a-uuid" }),
      ).rejects.toThrow(/to_identity/);
      // a valid message published after them is the only one that arrives
      const marker = await broker.publish("outbound.send", outboundSend());
      await waitFor(() => capture.messages.some((m) => m.messageId === marker), { what: "the marker" });
      expect(capture.messages.map((m) => m.messageId)).toEqual([marker]);
      expect(await inspect.messageCount(names.queue(QUEUE))).toBe(1);
    } finally {
      await capture.stop();
    }
  });

  it("resolves only once the broker confirmed the message", async ({ broker, inspect, names }) => {
    const publisher = (broker as unknown as { publisher: ConfirmChannel }).publisher;
    const original = publisher.publish;
    const held: (() => void)[] = [];
    publisher.publish = function (
      this: ConfirmChannel,
      exchange: string,
      routingKey: string,
      content: Buffer,
      options?: Options.Publish,
      callback?: (err: unknown, ok: unknown) => void,
    ) {
      // hold back the broker's confirm; the message itself goes out as usual
      return original.call(this, exchange, routingKey, content, options, (err, ok) => {
        held.push(() => callback?.(err, ok));
      });
    } as ConfirmChannel["publish"];
    try {
      const published = broker.publish("outbound.send", outboundSend());
      await waitFor(() => held.length === 1, { what: "the confirm" });
      expect(await inspect.messageCount(names.queue(QUEUE))).toBe(1);
      expect(await settledWithin(published, 200)).toBe("pending");
      held[0]?.();
      await expect(published).resolves.toEqual(expect.any(String));
    } finally {
      publisher.publish = original;
    }
  });

  it("rejects when the broker nacks the message", async ({ broker, inspect, names }) => {
    // a queue that refuses every message makes the broker nack publishes routed to it
    const { queue: refusing } = await inspect.channel.assertQueue("", {
      exclusive: true,
      arguments: { "x-max-length": 0, "x-overflow": "reject-publish" },
    });
    await inspect.channel.bindQueue(refusing, names.exchange("message-sender"), "outbound.send");
    try {
      await expect(broker.publish("outbound.send", outboundSend())).rejects.toThrow(/nack/);
    } finally {
      await inspect.channel.deleteQueue(refusing);
    }
    // the publish channel is still usable afterwards
    await broker.publish("outbound.send", outboundSend());
  });
});
