import { enqueue, type OutboxMessage } from "@tidings/amqp";
import { enqueueHookEvent } from "@tidings/hooks";
import type { Tx } from "../db.ts";

/** The events REST hooks can subscribe to (`/api/v1/webhook/`). */
export const HOOK_EVENTS: readonly string[] = [
  "subscription.created",
  "subscription.updated",
  "subscription.completed",
];

/**
 * Writes messages to the outbox and, for the hook events among them, a delivery to every hook of the
 * event, all in the caller's transaction.
 */
export async function enqueueWithHooks(tx: Tx, ...messages: OutboxMessage[]): Promise<void> {
  await enqueue(tx, ...messages);
  for (const message of messages) {
    if (HOOK_EVENTS.includes(message.name)) {
      await enqueueHookEvent(tx, message.name, message.payload);
    }
  }
}
