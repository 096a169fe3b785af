import Type, { type Static } from "typebox";
import { IsoDateTime, Json, literals, Nullable, Uuid } from "../common.ts";
import { seedInboundFields, timestampFields } from "../fields.ts";

export const OutboundStatus = literals("queued", "submitted", "delivered", "failed", "expired", "cancelled");
export type OutboundStatus = Static<typeof OutboundStatus>;

/**
 * The lane an outbound is sent in: `high` (verification codes, alerts; bypasses sending windows), `normal`
 * (the default) and `bulk` (subscription fan-outs, topic publishes). Each lane has its own queue.
 */
export const OutboundPriority = literals("high", "normal", "bulk");
export type OutboundPriority = Static<typeof OutboundPriority>;

const ClockTime = Type.String({ pattern: "^([01][0-9]|2[0-3]):[0-5][0-9]$" });

/**
 * When messages may go out, in the recipient's local time (`start` inclusive, `end` exclusive; `end` before
 * `start` spans midnight). `timezone` (IANA) is used when the recipient's own zone is unknown; default UTC.
 */
export const SendingWindow = Type.Object(
  {
    start: ClockTime,
    end: ClockTime,
    timezone: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  },
  { additionalProperties: false },
);
export type SendingWindow = Static<typeof SendingWindow>;

/**
 * `outbound.send`: its `id` is the idempotency key end to end; the same id is never sent twice.
 * At least one of `to_addr` and `to_identity`. `priority` picks the lane (routing key `outbound.send.<priority>`
 * for high and bulk); `sending_window` (e.g. a message set's) defers it until the window opens, `not_before`
 * until then; past `expires_at` it is marked expired instead of being sent. Email reads `metadata.subject`,
 * `metadata.html` and `metadata.headers` (extra single-line header fields, e.g. RFC 8058's
 * `List-Unsubscribe` and `List-Unsubscribe-Post`, which topic messages carry). Stage-based messages carry
 * Seed's media keys: `metadata.image_url` (a URL: send an image with the text) and, for audio sets,
 * `metadata.voice_speech_url` (a list of URLs to play in order); channels without media may ignore them.
 */
export const OutboundSend = Type.Object({
  id: Uuid,
  to_addr: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })),
  to_identity: Type.Optional(Uuid),
  content: Type.Optional(Nullable(Type.String())),
  channel: Type.Optional(Nullable(Type.String({ maxLength: 64 }))),
  metadata: Json,
  resend: Type.Optional(Type.Boolean()),
  priority: Type.Optional(OutboundPriority),
  sending_window: Type.Optional(SendingWindow),
  not_before: Type.Optional(IsoDateTime),
  expires_at: Type.Optional(IsoDateTime),
  /**
   * The scheduler schedule that published this send (set by the scheduler on every slot of a schedule whose
   * target is `outbound.send`, whatever the schedule's payload says); message-sender stores it on the
   * outbound as its creator. Absent for every other sender.
   */
  created_by_schedule: Type.Optional(Uuid),
  /**
   * The subscription whose stage-based message this is (set by the subscription service on every send of a
   * subscription's schedule and every resend of its message); message-sender stores it on the outbound, so a
   * helpdesk can tell which subscription sent a message. Absent for every other sender (hubs' sends, topic
   * broadcasts, the scheduler).
   */
  created_by_subscription: Type.Optional(Uuid),
  /**
   * With `created_by_subscription`: the message's position in its message set (its `sequence_number`, 1 the
   * first), so "did she get week 12's message?" has an answer. Absent for every other sender.
   */
  sequence_number: Type.Optional(Type.Integer({ minimum: 1, maximum: 2147483647 })),
  /** Sensitive content (a verification code): masked in the API and not kept once the send is final. */
  sensitive: Type.Optional(Type.Boolean()),
});
export type OutboundSend = Static<typeof OutboundSend>;

export const OutboundStatusChanged = Type.Object({
  id: Uuid,
  status: OutboundStatus,
  to_identity: Nullable(Uuid),
  channel: Type.String(),
  provider_id: Nullable(Type.String()),
  reason: Nullable(Type.String()),
  at: IsoDateTime,
  /** The outbound's priority lane (absent in events written before it was carried). */
  priority: Type.Optional(OutboundPriority),
});
export type OutboundStatusChanged = Static<typeof OutboundStatusChanged>;

/** `outbound.delivery_report`: a terminal status, fed to the identity's consecutive-failure counter. */
export const OutboundDeliveryReport = Type.Object({
  outbound_id: Uuid,
  identity: Nullable(Uuid),
  delivered: Type.Boolean(),
  status: OutboundStatus,
  reason: Nullable(Type.String()),
  at: IsoDateTime,
  /**
   * `topic` for a topic publish's message (its metadata has a `publish_id`): routed as
   * `outbound.delivery_report.topic`, so only the queues that want those get them. Absent for any other send.
   */
  source: Type.Optional(Type.Literal("topic")),
});
export type OutboundDeliveryReport = Static<typeof OutboundDeliveryReport>;

export const InboundKeyword = Type.Union([Type.Literal("stop"), Type.Literal("start"), Type.Literal("help")]);
export type InboundKeyword = Static<typeof InboundKeyword>;

/**
 * `inbound.received`: a message from a person. `keyword` is set when the content is an opt-out (stop), opt-in
 * (start) or help keyword: the identity service acts on it. `from_addr` is set only when the sender is not in
 * the address book (so the identity service can resolve or create the identity); otherwise `from_identity`.
 */
export const InboundReceived = Type.Object({
  id: Uuid,
  channel: Type.String(),
  message_id: Nullable(Type.String()),
  in_reply_to: Nullable(Type.String()),
  /** The outbound it replies to, when the provider says so. */
  reply_to_outbound: Type.Optional(Nullable(Uuid)),
  from_identity: Nullable(Uuid),
  from_addr: Nullable(Type.String()),
  to_addr: Type.String(),
  content: Nullable(Type.String()),
  keyword: Nullable(InboundKeyword),
  at: IsoDateTime,
});
export type InboundReceived = Static<typeof InboundReceived>;

/**
 * The `outbound.delivery_report` REST hook (Seed's body, which hubs and identity's `message_count` read): an
 * outbound was delivered, or failed for good. `to_addr` is the address it was sent to while it is still known
 * (a failure), "" once delivered (Seed wiped it before firing).
 */
export const OutboundDeliveryReportHook = Type.Object({
  outbound_id: Uuid,
  delivered: Type.Boolean(),
  to_addr: Type.String(),
  identity: Nullable(Uuid),
});
export type OutboundDeliveryReportHook = Static<typeof OutboundDeliveryReportHook>;

/** The `outbound.failed` REST hook: the `outbound.failed` event and the attempts the outbound made. */
export const OutboundFailedHook = Type.Object({
  ...OutboundStatusChanged.properties,
  attempts: Type.Integer({ minimum: 0 }),
});
export type OutboundFailedHook = Static<typeof OutboundFailedHook>;

/**
 * The `inbound.received` REST hook: the stored inbound in Seed's fields (`transport_name` is the channel;
 * `from_addr` is "" when the sender is known by `from_identity`, as Seed stored it), with Tidings' `channel`,
 * `keyword` and `reply_to_outbound`.
 */
export const InboundReceivedHook = Type.Object({
  id: Uuid,
  message_id: Nullable(Type.String()),
  in_reply_to: Nullable(Type.String()),
  ...seedInboundFields,
  helper_metadata: Json,
  ...timestampFields,
  channel: Type.String(),
  keyword: Nullable(InboundKeyword),
  reply_to_outbound: Nullable(Uuid),
});
export type InboundReceivedHook = Static<typeof InboundReceivedHook>;

/** The `identity.no_address` REST hook (Seed's): an outbound to an identity that has no address to send to. */
export const IdentityNoAddress = Type.Object({ to_identity: Uuid });
export type IdentityNoAddress = Static<typeof IdentityNoAddress>;

/**
 * `optout.reported`: a provider refused a send because the recipient unsubscribed from it (Twilio error 21610,
 * Vonage's equivalent). The identity service records it as a `stop` opt-out from source `provider`, as it does an
 * inbound STOP; message-sender's own copy of consent follows from the `optout.created` that causes.
 */
export const OptOutReported = Type.Object({
  /** The outbound the provider refused: the opt-out's `requestor_source_id`, so a copy changes nothing twice. */
  outbound_id: Uuid,
  identity: Nullable(Uuid),
  address_type: Type.Union([Type.Literal("msisdn"), Type.Literal("email")]),
  address: Type.String({ minLength: 1, maxLength: 500 }),
  channel: Type.String(),
  /** The provider's code, e.g. "twilio 21610". */
  provider_code: Type.String({ maxLength: 100 }),
  at: IsoDateTime,
});
export type OptOutReported = Static<typeof OptOutReported>;
