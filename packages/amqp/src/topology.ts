import {
  catalog,
  exchanges,
  type Names,
  namesFor,
  type QueueDefinition,
  type QueueName,
  queueNames,
  queues,
  retryLevels,
} from "@tidings/contracts";
import type { Channel } from "amqplib";

/** A quorum queue hands a message that was delivered this often (crash loops) to its dead-letter queue. */
export const DELIVERY_LIMIT = 20;

/**
 * Declares every exchange, queue, binding, retry queue and dead-letter queue. Idempotent: every process runs
 * it at boot, so no message is published before the queue that should hold it exists.
 */
export async function assertTopology(channel: Channel, names: Names = namesFor()): Promise<void> {
  for (const service of exchanges) {
    await channel.assertExchange(names.exchange(service), "topic", { durable: true });
  }
  for (const name of queueNames) {
    await assertQueue(channel, names, name);
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
  for (const message of def.messages) {
    for (const key of bindings ?? [message]) {
      await channel.bindQueue(main, names.exchange(catalog[message].exchange), key);
    }
  }
  for (let level = 1; level <= retryLevels(def.retry); level++) {
    // Messages wait here for their per-message expiration, then dead-letter straight back to the main queue,
    // at least once: the retry queue keeps a message until the main queue confirmed it, so one that expires
    // while the main queue is down (a broker restart) is moved once it is back, not dropped as it would be by a
    // classic queue's at-most-once dead-lettering (at-least-once needs reject-publish overflow).
    await channel.assertQueue(names.retryQueue(name, level), {
      durable: true,
      arguments: {
        "x-queue-type": "quorum",
        "x-dead-letter-exchange": "",
        "x-dead-letter-routing-key": main,
        "x-dead-letter-strategy": "at-least-once",
        "x-overflow": "reject-publish",
      },
    });
  }
}
