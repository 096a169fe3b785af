// HTTP request and response schemas of the subscription service's topics (Meerkat Hermes pub/sub).
import Type, { type Static } from "typebox";
import { Body, IsoDateTime, Nullable, Uuid } from "../common.ts";
import { PublishId } from "../messages/topics.ts";

/** Topics are free strings (Hermes does not interpret them); `/` is allowed, URL-encoded in paths. */
export const Topic = Type.String({ minLength: 1, maxLength: 200, pattern: "^[^\\s]+$" });
/** An address type of the identity service (`msisdn`, `email`). */
export const TopicChannel = Type.String({ minLength: 1, maxLength: 50, pattern: "^[a-z0-9_]+$" });
const Channels = Type.Array(TopicChannel, { maxItems: 10, uniqueItems: true });

export const TopicParams = Type.Object({ topic: Topic });
export type TopicParams = Static<typeof TopicParams>;
export const TopicSubscriberParams = Type.Object({ topic: Topic, identity: Uuid });
export type TopicSubscriberParams = Static<typeof TopicSubscriberParams>;
export const PublishParams = Type.Object({ publish_id: PublishId });
export type PublishParams = Static<typeof PublishParams>;

export const SubscribeTopicBody = Body({ identity: Uuid, channels: Type.Optional(Channels) });
export type SubscribeTopicBody = Static<typeof SubscribeTopicBody>;

export const TopicSubscriber = Type.Object({
  topic: Type.String(),
  identity: Uuid,
  /** Empty: every channel the identity has a verified address on. */
  channels: Type.Array(Type.String()),
  created_at: IsoDateTime,
});
export type TopicSubscriber = Static<typeof TopicSubscriber>;

export const PersonalisationValue = Type.Union([
  Type.String({ maxLength: 10_000 }),
  Type.Number(),
  Type.Boolean(),
]);

/** What a publish sends: exactly one of `content` and `template`. */
const publishContent = {
  /** Text with `<<field>>` / `((field))` placeholders, filled from `personalisation` then identity details. */
  content: Type.Optional(Type.String({ minLength: 1, maxLength: 20_000 })),
  /** A content-service template id (from the local copy kept by content.template.* events). */
  template: Type.Optional(Type.Integer({ minimum: 1, maximum: 2147483647 })),
  personalisation: Type.Optional(
    Type.Record(Type.String({ maxLength: 100 }), PersonalisationValue, { maxProperties: 100 }),
  ),
  /** Email subject (a template's own subject wins when it has one); may hold placeholders. */
  subject: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })),
  /** Address types to send on; absent: every channel each subscriber takes. */
  channels: Type.Optional(Channels),
};

/** Exactly one of `content` and `template`. */
export const PublishTopicBody = Body({ publish_id: PublishId, ...publishContent });
export type PublishTopicBody = Static<typeof PublishTopicBody>;

export const PublishAccepted = Type.Object({
  publish_id: Type.String(),
  topic: Type.String(),
  recipients: Type.Integer({ minimum: 0 }),
  /** True when this publish_id was published before: nothing new is sent. */
  duplicate: Type.Boolean(),
});
export type PublishAccepted = Static<typeof PublishAccepted>;

export const PublishRecord = Type.Object({
  publish_id: Type.String(),
  topic: Type.String(),
  template: Nullable(Type.Integer()),
  channels: Type.Array(Type.String()),
  recipients: Type.Integer({ minimum: 0 }),
  /**
   * How many identities the fan-out handed to its send batches (the subscribers when it read them: fewer than
   * `recipients` if some unsubscribed since the publish); null until the fan-out has ended.
   */
  handed_on: Nullable(Type.Integer({ minimum: 0 })),
  /** How many identities have a record (their batch has run): all those handed on once the sending is done. */
  recorded: Type.Integer({ minimum: 0 }),
  /** Recipient records by status: queued, failed, skipped, delivered, undelivered. */
  counts: Type.Record(Type.String(), Type.Integer({ minimum: 0 })),
  /** Failure reasons (e.g. `missing_field:first_name`) with how many recipients each. */
  failures: Type.Record(Type.String(), Type.Integer({ minimum: 0 })),
  created_at: IsoDateTime,
});
export type PublishRecord = Static<typeof PublishRecord>;

export const IdentityTopic = Type.Object({
  topic: Type.String(),
  channels: Type.Array(Type.String()),
  created_at: IsoDateTime,
});
export type IdentityTopic = Static<typeof IdentityTopic>;

/** A publish as it would be sent now, without sending it: the body of a publish without its `publish_id`. */
export const PreviewTopicBody = Body(publishContent);
export type PreviewTopicBody = Static<typeof PreviewTopicBody>;

const Counts = Type.Record(Type.String(), Type.Integer({ minimum: 0 }));

export const PublishPreview = Type.Object({
  topic: Type.String(),
  /** Everyone subscribed to the topic. */
  subscribers: Type.Integer({ minimum: 0 }),
  /** The subscribers a publish would reach now (a verified, not opted-out address on a wanted channel). */
  recipients: Type.Integer({ minimum: 0 }),
  /** The messages it would send: one per recipient and channel. */
  messages: Type.Integer({ minimum: 0 }),
  /** Recipients per channel (address type). */
  channels: Counts,
  /** Recipients per language (their identity's `lang_code`; `unknown` without one). */
  languages: Counts,
  /** The text as published (a template's body), placeholders not yet filled. */
  subject: Nullable(Type.String()),
  content: Type.String(),
  /** The message the first recipient would get (without its unsubscribe link), or the field it lacks. */
  sample: Nullable(
    Type.Object({
      identity: Uuid,
      subject: Nullable(Type.String()),
      body: Nullable(Type.String()),
      missing: Nullable(Type.String()),
    }),
  ),
});
export type PublishPreview = Static<typeof PublishPreview>;

export const TopicSummary = Type.Object({
  topic: Type.String(),
  subscribers: Type.Integer({ minimum: 0 }),
});
export type TopicSummary = Static<typeof TopicSummary>;
