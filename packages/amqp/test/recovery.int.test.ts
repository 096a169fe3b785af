import { setTimeout as sleep } from "node:timers/promises";
import { waitFor } from "@tidings/testing";
import type { ChannelModel } from "amqplib";
import { describe, expect } from "vitest";
import { assertTopology, type Broker, type MessageContext } from "../src/index.ts";
import { amqpTest, dropConnection, outboundSend, sendNext } from "./helpers.ts";

const it = amqpTest;

/** The broker's current AMQP connection (a new object after every reconnect). */
const connectionOf = (broker: Broker) =>
  (broker as unknown as { connection: ChannelModel | undefined }).connection;

describe("recovery from a lost connection", () => {
  it("reconnects, resumes its consumers, and publishes once it is back", async ({
    connect,
    broker: other,
  }) => {
    const broker = await connect();
    const received: MessageContext[] = [];
    await broker.consume("subscription.send-next", {
      "subscription.send-next": async (_payload, ctx) => {
        received.push(ctx);
      },
    });
    const before = await broker.publish("subscription.send-next", sendNext());
    await waitFor(() => received.length === 1, { what: "the first message" });
    const lost = connectionOf(broker);

    await dropConnection(broker);
    expect(broker.isConnected).toBe(false);
    // published by another process while this one is away: waits in the queue
    const whileAway = await other.publish("subscription.send-next", sendNext());
    // a publish now waits for the reconnect instead of failing
    const afterDrop = await broker.publish("subscription.send-next", sendNext());
    expect(broker.isConnected).toBe(true);
    expect(connectionOf(broker)).not.toBe(lost);

    const ids = () => new Set(received.map((c) => c.messageId));
    await waitFor(() => ids().has(whileAway) && ids().has(afterDrop), {
      what: "the messages after the reconnect",
    });
    // at least once: the first one may come again if the lost connection took its ack with it
    expect(ids()).toEqual(new Set([before, whileAway, afterDrop]));
    expect(received.every((c) => c.attempt === 1)).toBe(true);
  });

  it("recovers again and again", async ({ connect, inspect, names }) => {
    const broker = await connect();
    const received: string[] = [];
    await broker.consume("message-sender.outbound-send", {
      "outbound.send": async (_payload, ctx) => {
        received.push(ctx.messageId);
      },
    });
    const sent: string[] = [];
    for (let i = 0; i < 3; i++) {
      await waitFor(() => broker.isConnected, { what: "the connection" });
      await dropConnection(broker);
      const id = await broker.publish("outbound.send", outboundSend(`round ${i}`));
      sent.push(id);
      await waitFor(() => received.includes(id), { what: `round ${i}` });
    }
    // at least once (an ack in flight when the connection went may be lost, so a redelivery is allowed)
    expect(new Set(received)).toEqual(new Set(sent));
    // one consumer per queue after all that, not one per reconnect
    expect(
      (await inspect.channel.checkQueue(names.queue("message-sender.outbound-send"))).consumerCount,
    ).toBe(1);
  });

  it("re-declares the topology on reconnect", async ({ connect, inspect, names }) => {
    const broker = await connect();
    const queue = names.queue("subscription.send-next");
    await inspect.channel.deleteQueue(queue);
    await dropConnection(broker);
    await waitFor(() => broker.isConnected, { what: "the reconnect" });
    await expect(inspect.channel.checkQueue(queue)).resolves.toMatchObject({ queue, messageCount: 0 });
    await broker.publish("subscription.send-next", sendNext());
    await waitFor(async () => (await inspect.messageCount(queue)) === 1, {
      what: "the message in the queue",
    });
    await inspect.channel.purgeQueue(queue);
  });

  it("keeps retrying while the broker is unreachable; publishes time out meanwhile", async ({ connect }) => {
    const broker = await connect({ publishTimeoutMs: 300 });
    const options = (broker as unknown as { options: { url: string } }).options;
    const url = options.url;
    options.url = "amqp://guest:guest@127.0.0.1:1"; // nothing listens there: every reconnect fails
    try {
      await dropConnection(broker);
      await expect(broker.publish("outbound.send", outboundSend())).rejects.toThrow(/no amqp connection/);
      await sleep(500);
      expect(broker.isConnected).toBe(false);
    } finally {
      options.url = url;
    }
    await waitFor(() => broker.isConnected, { what: "the reconnect", timeoutMs: 8_000 });
    await broker.publish("outbound.send", outboundSend());
  });

  it("close() while a reconnect is pending stops it: the broker stays closed", async ({
    connect,
    inspect,
    names,
  }) => {
    const broker = await connect();
    await broker.consume("subscription.send-next", {
      "subscription.send-next": async () => undefined,
    });
    await dropConnection(broker);
    await broker.close();
    await sleep(600); // past the first reconnect attempt
    expect(broker.isConnected).toBe(false);
    expect(connectionOf(broker)).toBeUndefined();
    expect((await inspect.channel.checkQueue(names.queue("subscription.send-next"))).consumerCount).toBe(0);
  });

  it("survives a channel error on the publish channel", async ({
    connect,
    inspect,
    names,
    broker: other,
  }) => {
    const broker = await connect();
    const exchange = names.exchange("message-sender");
    await inspect.channel.deleteExchange(exchange);
    // publishing to a missing exchange makes the broker close the publish channel (404)
    await expect(broker.publish("outbound.send", outboundSend())).rejects.toThrow();
    const channel = await other.channel();
    await assertTopology(channel, names);
    await channel.close();
    // the publish channel is reopened on the same connection: publishing works again
    const lost = connectionOf(broker);
    const id = await waitFor(() => broker.publish("outbound.send", outboundSend()), {
      what: "a publish that works",
      timeoutMs: 3_000,
    });
    expect(id).toEqual(expect.any(String));
    expect(broker.isConnected).toBe(true);
    expect(connectionOf(broker)).toBe(lost);
    await inspect.channel.purgeQueue(names.queue("message-sender.outbound-send"));
  });
});
