// HTTP request and response schemas of the message-sender service.
import Type, { type Static } from "typebox";
import { Actor, Body, IsoDateTime, Json, ListQuery, Nullable, PatchBody, Uuid } from "../common.ts";
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
const templatedSend = {
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
  resend: Type.Optional(Nullable(Type.Boolean())),
  version: Type.Optional(Type.Integer({ minimum: 1, maximum: 2147483647, default: 1 })),
  /** Sensitive content (a code, a link): masked in every answer and not kept once the send is final. */
  sensitive: Type.Optional(Type.Boolean()),
  ...templatedSend,
  ...sendTiming,
});
export type CreateOutboundBody = Static<typeof CreateOutboundBody>;

/** An outbound message: Seed's fields plus where it is (`status`, `provider_id`, `last_error`). */
export const Outbound = Type.Object({
  id: Uuid,
  version: Type.Integer({ minimum: 1 }),
  /** Cleared to "" once the outbound is delivered or failed, as in Seed. */
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
  updated_at: IsoDateTime,
  updated_by: Actor,
});
export type Outbound = Static<typeof Outbound>;

/** `GET /api/v1/outbound/`: `to_addr` and `to_identity` may repeat (`?to_identity=a&to_identity=b`). */
export const OutboundListQuery = Type.Object({
  ...ListQuery.properties,
  to_addr: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 500 }), { maxItems: 100 })),
  to_identity: Type.Optional(Type.Array(Uuid, { maxItems: 100 })),
  /** created_at at or before this time. */
  before: Type.Optional(IsoDateTime),
  /** created_at at or after this time. */
  after: Type.Optional(IsoDateTime),
  delivered: Type.Optional(Type.Boolean()),
  status: Type.Optional(OutboundStatus),
});
export type OutboundListQuery = Static<typeof OutboundListQuery>;

// Channels (`/api/v1/channel/`). Secrets are write-only: responses show them as SECRET_MASK.

/** What responses show in place of a secret (auth tokens, API secrets, SMTP passwords). */
export const SECRET_MASK = "********";

const ChannelId = Type.String({ minLength: 1, maxLength: 64, pattern: "^[A-Za-z0-9_.-]+$" });

/** The built-in log channel: records the send and reports it delivered. No configuration. */
export const LogChannelConfig = Type.Object({}, { additionalProperties: false });
export type LogChannelConfig = Static<typeof LogChannelConfig>;

/** Twilio Programmable Messaging. One of `from` and `messaging_service_sid`. */
export const TwilioChannelConfig = Type.Object(
  {
    account_sid: Type.String({ pattern: "^AC[0-9a-fA-F]{32}$" }),
    /** Secret. */
    auth_token: Type.String({ minLength: 1, maxLength: 200 }),
    from: Type.Optional(Type.String({ minLength: 1, maxLength: 50 })),
    messaging_service_sid: Type.Optional(Type.String({ pattern: "^MG[0-9a-fA-F]{32}$" })),
    /**
     * The externally visible base URL of this service (e.g. https://tidings.example.org); status callbacks go
     * to `<status_callback>/api/v1/events/twilio/<channel_id>`. Unset: no status callbacks.
     */
    status_callback: Type.Optional(Type.String({ pattern: "^https?://" })),
    /** Another origin for Twilio's REST API (a simulator or a proxy). Default https://api.twilio.com. */
    api_url: Type.Optional(Type.String({ pattern: "^https?://" })),
    /** Give up on a request after this long (a timeout is retried). Default 10000. */
    timeout_ms: Type.Optional(Type.Integer({ minimum: 100, maximum: 60_000 })),
  },
  { additionalProperties: false },
);
export type TwilioChannelConfig = Static<typeof TwilioChannelConfig>;

/**
 * Vonage's signature methods for signed webhooks (the account's "signature method" in its API settings): the MD5
 * hash of the signed string followed by the secret, or an HMAC of it keyed by the secret.
 */
export const VONAGE_SIGNATURE_METHODS = ["md5hash", "md5", "sha1", "sha256", "sha512"] as const;
export type VonageSignatureMethod = (typeof VONAGE_SIGNATURE_METHODS)[number];

/** Vonage (Nexmo) SMS API. */
export const VonageChannelConfig = Type.Object(
  {
    api_key: Type.String({ minLength: 1, maxLength: 100 }),
    /** Secret. */
    api_secret: Type.String({ minLength: 1, maxLength: 200 }),
    from: Type.String({ minLength: 1, maxLength: 50 }),
    /**
     * Secret: verifies delivery receipts and inbound messages (`sig`, by `signature_method`). Vonage signs receipts only once signatures are
     * enabled on the account; receipts for a channel without it are refused.
     */
    signature_secret: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    /**
     * How Vonage signs this account's webhooks: `md5hash` (default), or an HMAC: `md5`, `sha1`, `sha256`,
     * `sha512`. Must match the account's setting.
     */
    signature_method: Type.Optional(Type.Union(VONAGE_SIGNATURE_METHODS.map((m) => Type.Literal(m)))),
    /**
     * The externally visible base URL of this service; delivery receipts go to
     * `<status_callback>/api/v1/events/vonage/<channel_id>`. Unset: no receipts are asked for.
     */
    status_callback: Type.Optional(Type.String({ pattern: "^https?://" })),
    /** Another origin for the SMS API (a simulator). Default https://rest.nexmo.com. */
    rest_url: Type.Optional(Type.String({ pattern: "^https?://" })),
    /** Give up on a request after this long (a timeout is retried). Default 10000. */
    timeout_ms: Type.Optional(Type.Integer({ minimum: 100, maximum: 60_000 })),
  },
  { additionalProperties: false },
);
export type VonageChannelConfig = Static<typeof VonageChannelConfig>;

/** Email over SMTP (nodemailer, pooled). */
export const SmtpChannelConfig = Type.Object(
  {
    host: Type.String({ minLength: 1, maxLength: 255 }),
    port: Type.Integer({ minimum: 1, maximum: 65535 }),
    /** TLS from the start (port 465); otherwise STARTTLS when the server offers it. */
    secure: Type.Optional(Type.Boolean()),
    user: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    /** Secret. */
    password: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    /** The From header, e.g. "Tidings <noreply@example.org>". */
    from: Type.String({ minLength: 3, maxLength: 255 }),
    /** The subject when the outbound gives none. */
    default_subject: Type.Optional(Type.String({ maxLength: 255 })),
    /** Pooled connections. Default 5. */
    max_connections: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
  },
  { additionalProperties: false },
);
export type SmtpChannelConfig = Static<typeof SmtpChannelConfig>;

export const CHANNEL_CONFIGS = {
  log: LogChannelConfig,
  twilio: TwilioChannelConfig,
  vonage: VonageChannelConfig,
  smtp: SmtpChannelConfig,
} as const;
export type ChannelType = keyof typeof CHANNEL_CONFIGS;

/** The write-only configuration fields per channel type. */
export const CHANNEL_SECRETS: Readonly<Record<ChannelType, readonly string[]>> = {
  log: [],
  twilio: ["auth_token"],
  vonage: ["api_secret", "signature_secret"],
  smtp: ["password"],
};

/**
 * The configuration fields per channel type that decide where the channel's requests (and the provider's
 * callbacks) go, or how they are protected: changing one of them needs the channel's secrets given again in the
 * same request, so stored secrets can never be redirected to another listener.
 */
export const CHANNEL_ENDPOINTS: Readonly<Record<ChannelType, readonly string[]>> = {
  log: [],
  twilio: ["api_url", "status_callback"],
  vonage: ["rest_url", "status_callback"],
  smtp: ["host", "port", "secure"],
};

const channelFields = {
  channel_id: ChannelId,
  /** Make this the default channel (the previous default stops being one). */
  default: Type.Optional(Type.Boolean()),
  /** Provider requests in progress at once across all workers; 0 = no limit. */
  concurrency_limit: Type.Optional(Type.Integer({ minimum: 0, maximum: 2147483647, default: 0 })),
  /** Sends per second (SMS: segments) across all workers; 0 = no limit. */
  rate_limit: Type.Optional(Type.Integer({ minimum: 0, maximum: 2147483647, default: 0 })),
  /** Fail over to this channel when the provider definitely rejects a message. */
  fallback: Type.Optional(Nullable(ChannelId)),
  /** Send only inside this window of the recipient's local time (`high` priority bypasses it); null = any time. */
  sending_window: Type.Optional(Nullable(SendingWindow)),
};

/** `POST /api/v1/channel/`: the configuration is validated by type. */
export const CreateChannelBody = Type.Union([
  Body({
    ...channelFields,
    channel_type: Type.Literal("log"),
    configuration: Type.Optional(LogChannelConfig),
  }),
  Body({ ...channelFields, channel_type: Type.Literal("twilio"), configuration: TwilioChannelConfig }),
  Body({ ...channelFields, channel_type: Type.Literal("vonage"), configuration: VonageChannelConfig }),
  Body({ ...channelFields, channel_type: Type.Literal("smtp"), configuration: SmtpChannelConfig }),
]);
export type CreateChannelBody = Static<typeof CreateChannelBody>;

/**
 * `PATCH /api/v1/channel/{id}/`: `configuration` is merged into the stored one (so secrets need not be sent
 * again; a secret sent as SECRET_MASK keeps its value) and the result validated by the channel's type. A
 * change of a field of CHANNEL_ENDPOINTS needs every stored secret given again.
 */
export const PatchChannelBody = PatchBody({
  configuration: Json,
  default: Type.Literal(true),
  concurrency_limit: Type.Integer({ minimum: 0, maximum: 2147483647 }),
  rate_limit: Type.Integer({ minimum: 0, maximum: 2147483647 }),
  fallback: Nullable(ChannelId),
  sending_window: Nullable(SendingWindow),
});
export type PatchChannelBody = Static<typeof PatchChannelBody>;

export const ChannelParams = Type.Object({ id: ChannelId });
export type ChannelParams = Static<typeof ChannelParams>;

/** A channel as the API shows it: secrets masked. */
export const ChannelResponse = Type.Object({
  channel_id: Type.String(),
  channel_type: Type.Union([
    Type.Literal("log"),
    Type.Literal("twilio"),
    Type.Literal("vonage"),
    Type.Literal("smtp"),
  ]),
  configuration: Json,
  default: Type.Boolean(),
  concurrency_limit: Type.Integer(),
  rate_limit: Type.Integer(),
  fallback: Nullable(Type.String()),
  sending_window: Nullable(SendingWindow),
  created_at: IsoDateTime,
  updated_at: IsoDateTime,
});
export type ChannelResponse = Static<typeof ChannelResponse>;

/** A Vonage SMS delivery receipt (form-encoded); all fields are kept for the signature. */
export const VonageDeliveryReceipt = Type.Object({
  messageId: Type.String({ minLength: 1 }),
  status: Type.String({ minLength: 1 }),
  "err-code": Type.Optional(Type.String()),
  sig: Type.Optional(Type.String()),
});
export type VonageDeliveryReceipt = Static<typeof VonageDeliveryReceipt>;

/** Twilio's status callback (form-encoded); Twilio sends more fields, all kept for the signature. */
export const TwilioStatusCallback = Type.Object({
  MessageSid: Type.String({ minLength: 1 }),
  MessageStatus: Type.String({ minLength: 1 }),
  ErrorCode: Type.Optional(Type.String()),
});
export type TwilioStatusCallback = Static<typeof TwilioStatusCallback>;

/** A provider webhook's path parameters: the channel it is for. */
export const WebhookParams = Type.Object({ channel: Type.String({ minLength: 1, maxLength: 64 }) });
export type WebhookParams = Static<typeof WebhookParams>;

export const EventAccepted = Type.Object({ accepted: Type.Boolean(), reason: Type.String() });
export type EventAccepted = Static<typeof EventAccepted>;

/** Seed's failed task: an outbound not sent after every attempt (it is `failed` until requeued). */
export const FailedTask = Type.Object({
  id: Type.Integer(),
  outbound: Uuid,
  reason: Type.String(),
  attempts: Type.Integer(),
  initiated_at: IsoDateTime,
});
export type FailedTask = Static<typeof FailedTask>;

/** Seed's `POST /api/v1/inbound/` (Vumi message fields); `transport_name` names the channel (default: the default). */
export const CreateInboundBody = Body({
  message_id: Type.Optional(Nullable(Type.String({ maxLength: 255 }))),
  in_reply_to: Type.Optional(Nullable(Type.String({ maxLength: 255 }))),
  to_addr: Type.Optional(Type.String({ maxLength: 255 })),
  from_addr: Type.String({ minLength: 1, maxLength: 255 }),
  content: Type.Optional(Nullable(Type.String())),
  transport_name: Type.Optional(Nullable(Type.String({ maxLength: 64 }))),
  transport_type: Type.Optional(Nullable(Type.String({ maxLength: 200 }))),
  helper_metadata: Type.Optional(Json),
  session_event: Type.Optional(Nullable(Type.String())),
});
export type CreateInboundBody = Static<typeof CreateInboundBody>;

export const Inbound = Type.Object({
  id: Uuid,
  channel: Type.String(),
  message_id: Nullable(Type.String()),
  in_reply_to: Nullable(Type.String()),
  /** The outbound it replies to, when `in_reply_to` names one of ours (its provider id or id). */
  reply_to_outbound: Nullable(Uuid),
  to_addr: Type.String(),
  /** Blank when the sender was resolved to `from_identity`, as in Seed. */
  from_addr: Type.String(),
  from_identity: Nullable(Uuid),
  content: Nullable(Type.String()),
  keyword: Nullable(Type.String()),
  helper_metadata: Json,
  created_at: IsoDateTime,
  created_by: Actor,
});
export type Inbound = Static<typeof Inbound>;

export const InboundListQuery = Type.Object({
  ...ListQuery.properties,
  from_identity: Type.Optional(Type.Array(Uuid, { maxItems: 100 })),
  from_addr: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 255 }), { maxItems: 100 })),
  message_id: Type.Optional(Type.String()),
  in_reply_to: Type.Optional(Type.String()),
  channel: Type.Optional(Type.String()),
  /** created_at at or before this time. */
  before: Type.Optional(IsoDateTime),
  /** created_at at or after this time. */
  after: Type.Optional(IsoDateTime),
});
export type InboundListQuery = Static<typeof InboundListQuery>;

/** Twilio's incoming-message webhook (form-encoded); all fields are kept for the signature. */
export const TwilioInboundWebhook = Type.Object({
  MessageSid: Type.String({ minLength: 1 }),
  From: Type.String({ minLength: 1 }),
  To: Type.String(),
  Body: Type.Optional(Type.String()),
});
export type TwilioInboundWebhook = Static<typeof TwilioInboundWebhook>;

/** Vonage's inbound SMS webhook (form-encoded or JSON); all fields are kept for the signature. */
export const VonageInboundWebhook = Type.Object({
  msisdn: Type.String({ minLength: 1 }),
  to: Type.String(),
  messageId: Type.String({ minLength: 1 }),
  text: Type.Optional(Type.String()),
  sig: Type.Optional(Type.String()),
});
export type VonageInboundWebhook = Static<typeof VonageInboundWebhook>;

/** Seed's generic `POST /api/v1/events`: a Vumi event about a message sent with `user_message_id` as its id. */
export const VumiEvent = Type.Object({
  message_type: Type.Literal("event"),
  event_type: Type.Union([Type.Literal("ack"), Type.Literal("nack"), Type.Literal("delivery_report")]),
  user_message_id: Type.String({ minLength: 1 }),
  nack_reason: Type.Optional(Nullable(Type.String())),
  delivery_status: Type.Optional(
    Nullable(Type.Union([Type.Literal("delivered"), Type.Literal("failed"), Type.Literal("pending")])),
  ),
  timestamp: Type.Optional(Type.String()),
});
export type VumiEvent = Static<typeof VumiEvent>;

// Batch sends (`/api/v1/outbound/batch/`).

export const MAX_BATCH_RECIPIENTS = 10_000;

/** One recipient of a batch: an address or an identity (or both), with its own personalisation. */
export const BatchRecipient = Body({
  to_addr: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })),
  to_identity: Type.Optional(Uuid),
  personalisation: Type.Optional(Personalisation),
});
export type BatchRecipient = Static<typeof BatchRecipient>;

/**
 * `POST /api/v1/outbound/batch/`: shared `content` (or `template` with shared `personalisation`, which each
 * recipient's own overrides), `metadata` and `channel`. `id` (optional, chosen by the client) makes a retried
 * request safe: outbound ids derive from (batch id, recipient index), and a batch id seen before creates nothing.
 */
export const CreateBatchBody = Body({
  id: Type.Optional(Uuid),
  recipients: Type.Array(BatchRecipient, { minItems: 1, maxItems: MAX_BATCH_RECIPIENTS }),
  content: Type.Optional(Nullable(Type.String())),
  metadata: Type.Optional(Json),
  channel: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 64 }))),
  ...templatedSend,
});
export type CreateBatchBody = Static<typeof CreateBatchBody>;

/** Outbounds per status. */
export const StatusCounts = Type.Record(Type.String(), Type.Integer({ minimum: 0 }));
export type StatusCounts = Static<typeof StatusCounts>;

export const Batch = Type.Object({
  id: Uuid,
  total: Type.Integer({ minimum: 0 }),
  channel: Type.String(),
  template: Nullable(Type.Integer()),
  template_version: Nullable(Type.Integer()),
  test: Type.Boolean(),
  /** The batch's outbounds by status (`queued`, `submitted`, `delivered`, ...). */
  status_counts: StatusCounts,
  created_at: IsoDateTime,
  created_by: Actor,
});
export type Batch = Static<typeof Batch>;

// Reports.

const IsoDate = Type.String({ format: "date" });

/** `GET /api/v1/outbound/status_counts/`: days (UTC, created_at), inclusive; default the last 30 days. */
export const StatusCountsQuery = Type.Object({
  from: Type.Optional(IsoDate),
  to: Type.Optional(IsoDate),
});
export type StatusCountsQuery = Static<typeof StatusCountsQuery>;

export const DailyStatusCounts = Type.Array(
  Type.Object({ date: IsoDate, status: OutboundStatus, count: Type.Integer({ minimum: 0 }) }),
);
export type DailyStatusCounts = Static<typeof DailyStatusCounts>;

/** Seed's `POST /api/v1/aggregate-outbounds/`: default end today, start 30 days before. */
export const AggregateOutboundsBody = Body({
  start: Type.Optional(IsoDate),
  end: Type.Optional(IsoDate),
});
export type AggregateOutboundsBody = Static<typeof AggregateOutboundsBody>;

/** Seed's `POST /api/v1/archive-outbounds/`: both days required, inclusive. */
export const ArchiveOutboundsBody = Body({ start: IsoDate, end: IsoDate });
export type ArchiveOutboundsBody = Static<typeof ArchiveOutboundsBody>;
