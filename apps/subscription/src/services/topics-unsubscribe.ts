import { randomUUID } from "node:crypto";
import { enqueue } from "@tidings/amqp";
import type { Db } from "../db.ts";
import { removeTopicSubscriptions } from "./topics.ts";
import type { UnsubscribeClaims } from "./unsubscribe-token.ts";

export type UnsubscribeScope = "topic" | "all";

/**
 * An unsubscribe link was used: the identity's subscription to the link's topic goes (or, for `all`, every
 * topic subscription), and `topic.unsubscribed` asks the identity service to record it in the consent
 * ledger (an `unsubscribe` opt-out, for the topic or for everything; the latter also stops stage-based
 * subscriptions), in one transaction. Using a topic link again once unsubscribed changes nothing and
 * records nothing. Returns how many topic subscriptions went.
 */
export async function unsubscribeByLink(
  db: Db,
  claims: UnsubscribeClaims,
  scope: UnsubscribeScope,
  method: "link" | "one-click",
  correlationId?: string,
): Promise<number> {
  return db.$transaction(async (tx) => {
    const topic = scope === "topic" ? claims.topic : null;
    const removed = await removeTopicSubscriptions(tx, claims.identity, topic);
    if (removed > 0 || scope === "all") {
      await enqueue(tx, {
        name: "topic.unsubscribed",
        payload: {
          id: randomUUID(),
          identity: claims.identity,
          topic,
          channel: claims.channel,
          method,
          at: new Date().toISOString(),
        },
        correlationId,
      });
    }
    return removed;
  });
}
