import {
  catalog,
  DELAY_HEADER,
  DELAY_LEVELS_MS,
  exchanges,
  type Names,
  namesFor,
  type QueueDefinition,
  type QueueName,
  queueNames,
  queues,
} from "@tidings/contracts";
import type { Channel } from "amqplib";

/** A quorum queue hands a message that was delivered this often (crash loops) to its dead-letter queue. */
export const DELIVERY_LIMIT = 20;

/**
 * Declares every exchange, queue, binding, dead-letter queue and the namespace's delay queues. Idempotent: every
 * process runs it at boot, so no message is published before the queue that should hold it exists.
 */
export async function assertTopology(channel: Channel, names: Names = namesFor()): Promise<void> {
  for (const service of exchanges) {
    await channel.assertExchange(names.exchange(service), "topic", { durable: true });
  }
  for (const name of queueNames) {
    await assertQueue(channel, names, name);
  }
  await assertDelays(channel, names);
}

/**
 * One delay queue per level for the whole namespace. A retry is published to the delay exchange with its queue's
 * name as routing key and the level in a header; it waits in that level's queue for its per-message expiration,
 * then dead-letters through the default exchange under its own routing key, straight back to its queue. At least
 * once: the delay queue keeps a message until its queue confirmed it, so one that expires while that queue is down
 * (a broker restart) is moved once it is back, not dropped as a classic queue's at-most-once dead-lettering would
 * (at-least-once needs reject-publish overflow).
 */
async function assertDelays(channel: Channel, names: Names): Promise<void> {
  const exchange = names.delayExchange();
  await channel.assertExchange(exchange, "headers", { durable: true });
  for (const level of DELAY_LEVELS_MS) {
    const queue = names.delayQueue(level);
    await channel.assertQueue(queue, {
      durable: true,
      arguments: {
        "x-queue-type": "quorum",
        "x-dead-letter-exchange": "",
        "x-dead-letter-strategy": "at-least-once",
        "x-overflow": "reject-publish",
      },
    });
    await channel.bindQueue(queue, exchange, "", { "x-match": "all", [DELAY_HEADER]: String(level) });
  }
}

async function assertQueue(channel: Channel, names: Names, name: QueueName): Promise<void> {
  const def = queues[name];
  const main = names.queue(name);
  const dlq = names.deadLetterQueue(name);
  await channel.assertQueue(dlq, { durable: true, arguments: { "x-queue-type": "quorum" } });
  await channel.assertQueue(main, {
    durable: true,
    arguments: {
      "x-queue-type": "quorum",
      "x-delivery-limit": DELIVERY_LIMIT,
      "x-dead-letter-exchange": "",
      "x-dead-letter-routing-key": dlq,
    },
  });
  const bindings: QueueDefinition["bindings"] = "bindings" in def ? def.bindings : undefined;
  const unbound: QueueDefinition["unbound"] = "unbound" in def ? def.unbound : undefined;
  for (const message of def.messages) {
    const exchange = names.exchange(catalog[message].exchange);
    for (const key of bindings ?? [message]) {
      await channel.bindQueue(main, exchange, key);
    }
    for (const key of unbound ?? []) {
      await channel.unbindQueue(main, exchange, key);
    }
  }
}
