import Type, { type Static } from "typebox";
import { IsoDateTime, Nullable, Uuid } from "../common.ts";

/** A publish id, the caller's: letters, digits and `._:-`. */
export const PublishId = Type.String({ minLength: 1, maxLength: 200, pattern: "^[A-Za-z0-9._:-]+$" });

/** `topic.fan-out`: page through a publish's topic subscribers and send them in batches. */
export const TopicFanOut = Type.Object({ publish_id: PublishId });
export type TopicFanOut = Static<typeof TopicFanOut>;

/** `topic.send-batch`: send a publish to these subscribers (a fan-out work item; one transaction). */
export const TopicSendBatch = Type.Object({
  publish_id: PublishId,
  identities: Type.Array(Uuid, { minItems: 1, maxItems: 1000, uniqueItems: true }),
});
export type TopicSendBatch = Static<typeof TopicSendBatch>;

/**
 * `topic.unsubscribed`: a person used an unsubscribe link, from one topic (`topic` set) or from everything
 * (`topic` null). The identity service records it in the consent ledger as an `unsubscribe` opt-out.
 */
export const TopicUnsubscribed = Type.Object({
  id: Uuid,
  identity: Uuid,
  topic: Nullable(Type.String({ minLength: 1, maxLength: 200 })),
  /** The address type the link was sent to (`email`, `msisdn`). */
  channel: Type.String({ minLength: 1, maxLength: 50 }),
  /** `link` (the confirmation page) or `one-click` (RFC 8058 List-Unsubscribe-Post). */
  method: Type.Union([Type.Literal("link"), Type.Literal("one-click")]),
  at: IsoDateTime,
});
export type TopicUnsubscribed = Static<typeof TopicUnsubscribed>;
