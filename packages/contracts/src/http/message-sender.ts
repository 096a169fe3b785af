// HTTP request and response schemas of the message-sender service.
import Type, { type Static } from "typebox";
import {
  Actor,
  Body,
  CreatedAtOrdering,
  dateTimeLookups,
  IsoDateTime,
  Json,
  Nullable,
  Uuid,
} from "../common.ts";
import { keysetListQuery, seedInboundFields } from "../fields.ts";
import { OutboundPriority, OutboundStatus, SendingWindow } from "../messages/message-sender.ts";

/** Values for a template's `((placeholders))`. */
export const Personalisation = Type.Record(
  Type.String({ minLength: 1, maxLength: 100 }),
  Type.Union([Type.String(), Type.Number(), Type.Boolean()]),
);
export type Personalisation = Static<typeof Personalisation>;

/**
 * A send rendered from a content template (instead of `content`): its latest version, or `template_version`,
 * with `personalisation`; every placeholder needs a value (else 400 before anything is queued).
 */
export const templatedSend = {
  template: Type.Optional(Type.Integer({ minimum: 1, maximum: 2147483647 })),
  template_version: Type.Optional(Type.Integer({ minimum: 1, maximum: 2147483647 })),
  personalisation: Type.Optional(Personalisation),
};

/**
 * When and how urgently to send: `priority` (lane; `high` bypasses sending windows), a `sending_window` of the
 * message's own (checked before the channel's), `not_before` (wait until then), and `expires_at` or
 * `ttl_seconds` (not sent, but marked expired, once past it).
 */
export const sendTiming = {
  priority: Type.Optional(OutboundPriority),
  sending_window: Type.Optional(Nullable(SendingWindow)),
  not_before: Type.Optional(Nullable(IsoDateTime)),
  expires_at: Type.Optional(Nullable(IsoDateTime)),
  ttl_seconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 30 * 86_400 })),
};

/** A boolean as Seed (Django REST framework) took it in a body: also its text, `"True"`, `"false"`, `"1"`, `"0"`. */
export const SeedBoolean = Type.Union([
  Type.Boolean(),
  Type.String({ pattern: "^([Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee]|1|0)$" }),
]);
export type SeedBoolean = Static<typeof SeedBoolean>;

/** The boolean a SeedBoolean stands for. */
export const seedBoolean = (value: SeedBoolean): boolean =>
  typeof value === "boolean" ? value : value === "1" || value.toLowerCase() === "true";

/** A count as Seed took it in a body: also its decimal text (`"3"`). */
export const SeedCount = Type.Union([
  Type.Integer({ minimum: 0, maximum: 2147483647 }),
  Type.String({ pattern: "^[0-9]{1,10}$" }),
]);

/**
 * Seed's `POST /api/v1/outbound/`. At least one of `to_addr` and `to_identity` must be populated (checked by
 * the service, with Seed's message); `channel` null or absent means the default channel.
 */
export const CreateOutboundBody = Body({
  to_addr: Type.Optional(Type.String({ maxLength: 500 })),
  to_identity: Type.Optional(Nullable(Uuid)),
  content: Type.Optional(Nullable(Type.String())),
  metadata: Json,
  channel: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 64 }))),
  resend: Type.Optional(Nullable(SeedBoolean)),
  version: Type.Optional(Type.Integer({ minimum: 1, maximum: 2147483647, default: 1 })),
  /**
   * Seed's writable `delivered` and `attempts`: accepted, so a hub's body is not refused, and ignored. A new
   * outbound is always undelivered with no attempts; only its provider's reports change that.
   */
  delivered: Type.Optional(SeedBoolean),
  attempts: Type.Optional(SeedCount),
  /** Sensitive content (a code, a link): masked in every answer and not kept once the send is final. */
  sensitive: Type.Optional(Type.Boolean()),
  ...templatedSend,
  ...sendTiming,
});
export type CreateOutboundBody = Static<typeof CreateOutboundBody>;

/** An outbound message: Seed's fields plus where it is (`status`, `provider_id`, `last_error`). */
export const Outbound = Type.Object({
  /** Seed's absolute link to this outbound. */
  url: Type.String(),
  id: Uuid,
  version: Type.Integer({ minimum: 1 }),
  /**
   * Wiped to "" once the outbound ends (delivered, failed, expired, cancelled) or is redacted; kept while it may still
   * be sent, and on one given up after its last attempt (a failed task, which may be requeued).
   */
  to_addr: Type.String(),
  to_identity: Nullable(Uuid),
  /** Null, with `content_masked: true`, for a sensitive outbound (a verification code, `sensitive: true`). */
  content: Nullable(Type.String()),
  /** The content is sensitive: never shown (`content` is null), and not kept once the send is final. */
  content_masked: Type.Boolean(),
  delivered: Type.Boolean(),
  /** Submissions to a provider. */
  attempts: Type.Integer({ minimum: 0 }),
  metadata: Json,
  channel: Type.String(),
  resend: Nullable(Type.Boolean()),
  status: OutboundStatus,
  provider_id: Nullable(Type.String()),
  /** Seed's name for `provider_id`: the provider's id for the message, null until submitted. */
  vumi_message_id: Nullable(Type.String()),
  last_error: Nullable(Type.String()),
  /** Sent with a `test` API key: through the log channel, never to a provider. */
  test: Type.Boolean(),
  /** The batch it was sent in. */
  batch: Nullable(Uuid),
  /** The content template (and version) it was rendered from. */
  template: Nullable(Type.Integer()),
  template_version: Nullable(Type.Integer()),
  priority: OutboundPriority,
  sending_window: Nullable(SendingWindow),
  /** Deferred until then (outside its sending window, or asked to wait). */
  not_before: Nullable(IsoDateTime),
  expires_at: Nullable(IsoDateTime),
  created_at: IsoDateTime,
  created_by: Actor,
  /** Read-only: the scheduler schedule whose slot published this send, if a schedule created it. */
  created_by_schedule: Nullable(Uuid),
  /**
   * Read-only: the subscription whose stage-based message this is (its `outbound.send`'s `created_by_subscription`,
   * on every scheduled send and resend of a subscription's message); null for any other send.
   */
  created_by_subscription: Nullable(Uuid),
  /** Read-only, with `created_by_subscription`: the message's position in its message set (1 the first). */
  sequence_number: Nullable(Type.Integer({ minimum: 1 })),
  updated_at: IsoDateTime,
  updated_by: Actor,
  /**
   * Redacted (`DELETE /api/v1/outbound/{id}/`, or its person forgotten): a tombstone that keeps its status, channel,
   * attempts and times for the counts; `to_addr` is "", `content` null and `metadata` {}.
   */
  redacted: Type.Boolean(),
});
export type Outbound = Static<typeof Outbound>;

/**
 * `GET /api/v1/outbound/`: Seed's filters, and the helpdesk's (`channel`, `provider_id`, `attempts__gte`/`__lte`,
 * `created_by_subscription`: one subscription's messages).
 * `to_addr`, `to_identity`, `status` and `channel` may repeat (`?status=failed&status=expired`: any of them);
 * `created_at` and `updated_at` take Django's `__gte`, `__gt`, `__lte` and `__lt` lookups.
 */
export const OutboundListQuery = keysetListQuery({
  to_addr: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 500 }), { maxItems: 100 })),
  to_identity: Type.Optional(Type.Array(Uuid, { maxItems: 100 })),
  /** The messages of one subscription (its stage-based sends and resends: `created_by_subscription`). */
  created_by_subscription: Type.Optional(Uuid),
  /** created_at at or before this time. */
  before: Type.Optional(IsoDateTime),
  /** created_at at or after this time. */
  after: Type.Optional(IsoDateTime),
  delivered: Type.Optional(Type.Boolean()),
  status: Type.Optional(Type.Array(OutboundStatus, { maxItems: 6 })),
  channel: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 100 })),
  /** The provider's id for the message (Seed's name for `provider_id`). */
  vumi_message_id: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
  provider_id: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
  attempts: Type.Optional(Type.Integer({ minimum: 0, maximum: 2147483647 })),
  attempts__gte: Type.Optional(Type.Integer({ minimum: 0, maximum: 2147483647 })),
  attempts__lte: Type.Optional(Type.Integer({ minimum: 0, maximum: 2147483647 })),
  version: Type.Optional(Type.Integer({ minimum: 1, maximum: 2147483647 })),
  ...dateTimeLookups("created_at"),
  ...dateTimeLookups("updated_at"),
  ordering: Type.Optional(CreatedAtOrdering),
});
export type OutboundListQuery = Static<typeof OutboundListQuery>;

/** A provider webhook's path parameters: the channel it is for. */
export const WebhookParams = Type.Object({ channel: Type.String({ minLength: 1, maxLength: 64 }) });
export type WebhookParams = Static<typeof WebhookParams>;

export const EventAccepted = Type.Object({ accepted: Type.Boolean(), reason: Type.String() });
export type EventAccepted = Static<typeof EventAccepted>;

/** The answer to Vonage's inbound SMS webhook. */
export const InboundAccepted = Type.Object({ accepted: Type.Boolean() });
export type InboundAccepted = Static<typeof InboundAccepted>;

/** The answer to Twilio's incoming-message webhook: TwiML (`text/xml`). */
export const Twiml = Type.String();
export type Twiml = Static<typeof Twiml>;

/** `POST /api/v1/failed-tasks/`: Seed's answer. */
export const FailedTasksRequeued = Type.Object({ requeued_failed_tasks: Type.Boolean() });
export type FailedTasksRequeued = Static<typeof FailedTasksRequeued>;

/** Seed's failed task: an outbound not sent after every attempt (it is `failed` until requeued). */
export const FailedTask = Type.Object({
  id: Type.Integer(),
  outbound: Uuid,
  reason: Type.String(),
  attempts: Type.Integer(),
  initiated_at: IsoDateTime,
});
export type FailedTask = Static<typeof FailedTask>;

const VumiText = (maxLength: number) => Type.Optional(Nullable(Type.String({ maxLength })));

/**
 * Seed's `POST /api/v1/inbound/` and `POST /api/v1/inbound/{channel_id}/` for a Vumi channel: a Vumi message as
 * Vumi Go and Junebug's Vumi transports push it (its every field; Seed's Inbound keeps `message_id`,
 * `in_reply_to`, `to_addr`, `from_addr`, `content`, `transport_name`, `transport_type` and `helper_metadata`, with
 * `session_event` copied into it; the rest is accepted and not kept). Without a channel in the path,
 * `transport_name` names the channel when it is one (else the default channel).
 */
export const CreateInboundBody = Body({
  message_type: VumiText(64),
  message_version: VumiText(64),
  message_id: VumiText(255),
  timestamp: VumiText(64),
  in_reply_to: VumiText(255),
  to_addr: Type.Optional(Nullable(Type.String({ maxLength: 255 }))),
  from_addr: Type.String({ minLength: 1, maxLength: 255 }),
  to_addr_type: VumiText(64),
  from_addr_type: VumiText(64),
  content: Type.Optional(Nullable(Type.String())),
  transport_name: VumiText(200),
  transport_type: VumiText(200),
  transport_metadata: Type.Optional(Nullable(Json)),
  helper_metadata: Type.Optional(Nullable(Json)),
  routing_metadata: Type.Optional(Nullable(Json)),
  session_event: VumiText(32),
  group: VumiText(255),
  provider: VumiText(255),
});
export type CreateInboundBody = Static<typeof CreateInboundBody>;

/**
 * `POST /api/v1/inbound/{channel_id}/` for a Junebug channel: Junebug's message, as Seed read it (`reply_to` is
 * `in_reply_to`, `to` is `to_addr`, `channel_id` is `transport_name`, `channel_data` is `helper_metadata`).
 */
export const JunebugInboundBody = Body({
  message_id: VumiText(255),
  reply_to: VumiText(255),
  to: Type.Optional(Nullable(Type.String({ maxLength: 255 }))),
  from: Type.String({ minLength: 1, maxLength: 255 }),
  group: VumiText(255),
  channel_id: VumiText(200),
  timestamp: VumiText(64),
  content: Type.Optional(Nullable(Type.String())),
  channel_data: Type.Optional(Nullable(Json)),
});
export type JunebugInboundBody = Static<typeof JunebugInboundBody>;

/** `POST /api/v1/inbound/{channel_id}/`: a Vumi message, or a Junebug one (told apart by `from_addr` / `from`). */
export const ChannelInboundBody = Type.Union([CreateInboundBody, JunebugInboundBody]);
export type ChannelInboundBody = Static<typeof ChannelInboundBody>;

/** `POST /api/v1/inbound/{channel_id}/`'s path: the channel the message came in on. */
export const InboundChannelParams = Type.Object({ channel_id: Type.String({ minLength: 1, maxLength: 64 }) });
export type InboundChannelParams = Static<typeof InboundChannelParams>;

/** An inbound message: Seed's Inbound fields, plus the channel it came in on, its keyword and the reply it is. */
export const Inbound = Type.Object({
  url: Type.String(),
  id: Uuid,
  channel: Type.String(),
  message_id: Nullable(Type.String()),
  in_reply_to: Nullable(Type.String()),
  /** The outbound it replies to, when `in_reply_to` names one of ours (its provider id or id). */
  reply_to_outbound: Nullable(Uuid),
  ...seedInboundFields,
  keyword: Nullable(Type.String()),
  helper_metadata: Json,
  created_at: IsoDateTime,
  created_by: Actor,
  updated_at: IsoDateTime,
});
export type Inbound = Static<typeof Inbound>;

/**
 * `GET /api/v1/inbound/`: Seed's filters. `from_addr` and `from_identity` may repeat; `created_at` and
 * `updated_at` take Django's `__gte`, `__gt`, `__lte` and `__lt` lookups.
 */
export const InboundListQuery = keysetListQuery({
  from_identity: Type.Optional(Type.Array(Uuid, { maxItems: 100 })),
  from_addr: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 255 }), { maxItems: 100 })),
  to_addr: Type.Optional(Type.String({ maxLength: 255 })),
  message_id: Type.Optional(Type.String()),
  in_reply_to: Type.Optional(Type.String()),
  content: Type.Optional(Type.String()),
  channel: Type.Optional(Type.String()),
  transport_name: Type.Optional(Type.String({ maxLength: 200 })),
  transport_type: Type.Optional(Type.String({ maxLength: 200 })),
  /** created_at at or before this time. */
  before: Type.Optional(IsoDateTime),
  /** created_at at or after this time. */
  after: Type.Optional(IsoDateTime),
  ...dateTimeLookups("created_at"),
  ...dateTimeLookups("updated_at"),
  ordering: Type.Optional(CreatedAtOrdering),
});
export type InboundListQuery = Static<typeof InboundListQuery>;
