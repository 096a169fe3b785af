// HTTP request and response schemas of the message-sender service: channels (`/api/v1/channel/`) and their
// redelivery policy.
import Type, { type Static } from "typebox";
import { Json, literals, Nullable, PatchBody } from "../common.ts";
import { timestampFields } from "../fields.ts";
import { SendingWindow } from "../messages/message-sender.ts";

// Redelivery: what a failed delivery report leads to (`redelivery` of a channel).

/** The failure kinds a channel may retry (an opt-out, or a report that never came, never is). */
export const RetryableFailureKind = literals(
  "network",
  "absent_subscriber",
  "queue_full",
  "expired",
  "unknown",
  "invalid_number",
  "blocked",
  "unroutable",
);
export type RetryableFailureKind = Static<typeof RetryableFailureKind>;

/**
 * What a failed delivery said, as each provider's status map classifies its error codes. Transient: `network`,
 * `absent_subscriber`, `queue_full`, `expired` (in the provider), `unknown`. Permanent: `invalid_number`,
 * `blocked`, `opted_out`, `unroutable` (a landline, no route). `no_report`: no final report came in time.
 */
export type FailureKind = RetryableFailureKind | "opted_out" | "no_report";

const redeliveryFields = {
  /** Attempts in all (the first send included) before a retried failure is final; 1 = never retried. */
  max_attempts: Type.Integer({ minimum: 1, maximum: 10 }),
  /** Waits before the 2nd, 3rd, ... attempt (the last one repeats for later attempts). */
  backoff_seconds: Type.Array(Type.Integer({ minimum: 0, maximum: 7 * 86_400 }), {
    minItems: 1,
    maxItems: 10,
  }),
  /** The failure kinds that are retried; any other failure is final at once. */
  retry_on: Type.Array(RetryableFailureKind, { uniqueItems: true, maxItems: 8 }),
  /** A message `submitted` this long with no final report is asked about, then failed with `no_report`. */
  no_report_timeout_seconds: Type.Integer({ minimum: 1, maximum: 30 * 86_400 }),
};

/** A channel's redelivery policy as the API shows it: every field, the service's defaults filled in. */
export const RedeliveryPolicy = Type.Object(redeliveryFields);
export type RedeliveryPolicy = Static<typeof RedeliveryPolicy>;

/** A channel's redelivery policy as it is set: any field left out takes the service's default. */
export const RedeliveryPolicyInput = PatchBody(redeliveryFields);
export type RedeliveryPolicyInput = Static<typeof RedeliveryPolicyInput>;

// Channels (`/api/v1/channel/`). Secrets are write-only: responses show them as SECRET_MASK.

/** What responses show in place of a secret (auth tokens, API secrets, SMTP passwords). */
export const SECRET_MASK = "********";

/** A per-person daily message cap (0 = none). */
const DailyCap = Type.Integer({ minimum: 0, maximum: 10_000 });

export const ChannelId = Type.String({ minLength: 1, maxLength: 64, pattern: "^[A-Za-z0-9_.-]+$" });

/**
 * The fields of `POST /api/v1/channel/` every channel type has; message-sender adds `channel_type` and its
 * `configuration` (validated by type: the providers' configurations are message-sender's own).
 */
export const ChannelFields = {
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
  /**
   * Messages a person may be sent per day of their own time zone through this channel (the excess waits for the
   * next day); null = the service's DAILY_CAP_PER_PERSON, 0 = no cap. `high` priority is exempt.
   */
  daily_cap: Type.Optional(Nullable(DailyCap)),
  /** What a failed delivery report leads to (retries, their backoff, the no-report timeout); null = defaults. */
  redelivery: Type.Optional(Nullable(RedeliveryPolicyInput)),
};

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
  daily_cap: Nullable(DailyCap),
  /** Replaces the channel's redelivery policy (fields left out take the defaults); null = the defaults. */
  redelivery: Nullable(RedeliveryPolicyInput),
});
export type PatchChannelBody = Static<typeof PatchChannelBody>;

export const ChannelParams = Type.Object({ id: ChannelId });
export type ChannelParams = Static<typeof ChannelParams>;

/** A channel as the API shows it: secrets masked. */
export const ChannelResponse = Type.Object({
  channel_id: Type.String(),
  channel_type: literals(
    "log",
    "twilio",
    "vonage",
    "smtp",
    "twilio-voice",
    "vonage-voice",
    "twilio-whatsapp",
    "vonage-whatsapp",
  ),
  configuration: Json,
  default: Type.Boolean(),
  concurrency_limit: Type.Integer(),
  rate_limit: Type.Integer(),
  fallback: Nullable(Type.String()),
  sending_window: Nullable(SendingWindow),
  daily_cap: Nullable(Type.Integer()),
  /** The redelivery policy in force: the channel's own fields, the defaults for the others. */
  redelivery: RedeliveryPolicy,
  ...timestampFields,
});
export type ChannelResponse = Static<typeof ChannelResponse>;
