import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { Broker } from "@tidings/amqp";
import {
  catalog,
  type IdentityAddress,
  type IdentityChanged,
  type QueueName,
  queues,
  retryLevels,
} from "@tidings/contracts";
import { waitFor } from "@tidings/testing";

export const address = (
  type: string,
  value: string,
  flags: Partial<Pick<IdentityAddress, "default" | "optedout" | "inactive" | "verified">> = {},
): IdentityAddress => ({
  type,
  address: value,
  default: false,
  optedout: false,
  inactive: false,
  verified: false,
  ...flags,
});

/** An identity.created/updated payload in the catalog example's shape, with a fresh id unless given one. */
export function identityEvent(
  addresses: IdentityAddress[],
  overrides: Partial<Omit<IdentityChanged, "addresses">> & { default_addr_type?: string } = {},
): IdentityChanged {
  const { default_addr_type, ...rest } = overrides;
  const example = catalog["identity.created"].example;
  return {
    ...example,
    id: randomUUID(),
    details: { ...example.details, default_addr_type: default_addr_type ?? "msisdn" },
    addresses,
    ...rest,
  };
}

/** A fresh South African-looking number, so tests never share an address. */
export const msisdn = () => `+2782${String(Math.floor(Math.random() * 1e7)).padStart(7, "0")}`;

/**
 * Waits until a queue and its retry queues hold no ready message twice in a row, then a little longer for
 * handlers still running: for asserting that something did NOT happen once every copy was handled.
 */
export async function waitForIdle(broker: Broker, queue: QueueName): Promise<void> {
  const names = [
    broker.names.queue(queue),
    ...Array.from({ length: retryLevels(queues[queue].retry) }, (_, i) =>
      broker.names.retryQueue(queue, i + 1),
    ),
  ];
  const channel = await broker.channel();
  try {
    let quietChecks = 0;
    await waitFor(
      async () => {
        const counts = await Promise.all(names.map((n) => channel.checkQueue(n)));
        quietChecks = counts.every((c) => c.messageCount === 0) ? quietChecks + 1 : 0;
        return quietChecks >= 3;
      },
      { intervalMs: 100, what: `${queue} to be idle` },
    );
  } finally {
    await channel.close();
  }
  await sleep(200);
}
