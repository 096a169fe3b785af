import { isFirstDelivery } from "@tidings/amqp";
import type { TopicUnsubscribed } from "@tidings/contracts";
import { ApiError, type Logger } from "@tidings/service-kit";
import type { Db } from "../db.ts";
import { recordOptOut } from "./consent.ts";
import type { IdentityOptions } from "./identities.ts";

/**
 * A topic message's unsubscribe link was used (topic.unsubscribed): recorded as an `unsubscribe` opt-out,
 * for the topic or (topic null) for everything, with its consent-ledger entry and `optout.created`, the
 * way inbound STOP keywords are. The event's id is recorded as handled in the same transaction (and as the
 * request's `requestor_source_id`), so a redelivered event records nothing twice. An identity that no
 * longer exists is logged and dropped.
 */
export async function applyUnsubscribe(
  db: Db,
  event: TopicUnsubscribed,
  log: Logger,
  options: IdentityOptions & { messageId: string; correlationId?: string },
): Promise<"recorded" | "ignored"> {
  try {
    return await db.$transaction(async (tx) => {
      if (!(await isFirstDelivery(tx, { queue: "identity.unsubscribes", messageId: options.messageId }))) {
        return "ignored";
      }
      await recordOptOut(
        tx,
        {
          optout_type: "unsubscribe",
          identity: event.identity,
          address_type: event.channel,
          request_source: `unsubscribe:${event.method}`,
          requestor_source_id: event.id,
          reason: event.topic ? "unsubscribe link: topic" : "unsubscribe link: everything",
          topic: event.topic,
        },
        { userId: null, correlationId: options.correlationId },
        options,
      );
      return "recorded";
    });
  } catch (err) {
    if (err instanceof ApiError && err.statusCode < 500) {
      log.info({ code: err.code, event: event.id }, "unsubscribe not recorded");
      return "ignored";
    }
    throw err;
  }
}
