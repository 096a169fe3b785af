// HTTP request and response schemas of the subscription service.
import Type, { type Static } from "typebox";
import { Body, IsoDateTime, Json, literals, Nullable, PatchBody, Uuid } from "../common.ts";
import { keysetListQuery, listQuery, optionalFields } from "../fields.ts";
import { SendingWindow } from "../messages/message-sender.ts";
import { ProcessStatus, Subscription } from "../messages/subscription.ts";

const SetId = Type.Integer({ minimum: 1, maximum: 2147483647 });
const Sequence = Type.Integer({ minimum: 1, maximum: 100_000 });
const Lang = Type.String({ minLength: 1, maxLength: 6 });

export const CreateSubscriptionBody = Body({
  identity: Uuid,
  messageset: SetId,
  lang: Lang,
  schedule: SetId,
  next_sequence_number: Type.Optional(Sequence),
  initial_sequence_number: Type.Optional(Sequence),
  active: Type.Optional(Type.Boolean()),
  completed: Type.Optional(Type.Boolean()),
  process_status: Type.Optional(ProcessStatus),
  metadata: Type.Optional(Nullable(Json)),
  version: Type.Optional(Type.Integer({ minimum: 1, maximum: 2147483647 })),
  anchor_at: Type.Optional(Nullable(IsoDateTime)),
});
export type CreateSubscriptionBody = Static<typeof CreateSubscriptionBody>;

/** Seed's hub webhook (`subscriptionrequest.added`): `{hook?, data: {...}}`; `data.id`, when sent, dedupes. */
export const SubscriptionRequestBody = Type.Object({
  hook: Type.Optional(Json),
  data: Type.Object(
    {
      ...CreateSubscriptionBody.properties,
      id: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    },
    { additionalProperties: true },
  ),
});
export type SubscriptionRequestBody = Static<typeof SubscriptionRequestBody>;

/**
 * A subscription as the API answers it (Seed's SubscriptionSerializer): its events' fields, plus `url`, its absolute
 * link, and `messageset_label`, its message set's `label` (ndoh-hub lists its subscriptions by these).
 */
export const SubscriptionResponse = Type.Object({
  url: Type.String(),
  ...Subscription.properties,
  /** The message set's human-readable `label` ("" when it has none, as in Seed). */
  messageset_label: Type.String(),
});
export type SubscriptionResponse = Static<typeof SubscriptionResponse>;

export const SubscriptionListQuery = keysetListQuery({
  ...optionalFields(
    CreateSubscriptionBody.properties,
    "identity",
    "active",
    "completed",
    "messageset",
    "lang",
    "schedule",
    "process_status",
    "next_sequence_number",
    "initial_sequence_number",
  ),
  // Seed's filter took every field of the model as an exact match: hubs send some of these (HelloMama's
  // get_subscriptions sends `id`, with an identity's id in it, and reads the empty list).
  id: Type.Optional(Uuid),
  version: Type.Optional(Type.Integer({ minimum: 1, maximum: 2147483647 })),
  created_at: Type.Optional(IsoDateTime),
  updated_at: Type.Optional(IsoDateTime),
  /** The API user who made (last changed) it; the admin token and the workers are no user. */
  created_by: Type.Optional(Type.Integer({ minimum: 1, maximum: 2147483647 })),
  updated_by: Type.Optional(Type.Integer({ minimum: 1, maximum: 2147483647 })),
  created_after: Type.Optional(IsoDateTime),
  created_before: Type.Optional(IsoDateTime),
  /** Subscriptions whose message set's short_name contains this text. */
  messageset_contains: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  /** Subscriptions whose metadata has (or has not) this top-level key. */
  metadata_has_key: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  metadata_not_has_key: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
});
export type SubscriptionListQuery = Static<typeof SubscriptionListQuery>;

export const ScheduleSendParams = Type.Object({ id: SetId });
export type ScheduleSendParams = Static<typeof ScheduleSendParams>;

/**
 * A subscription's read-only fields, as the API answers them: accepted and ignored on PATCH and PUT, as Seed (Django
 * REST framework) did, because hubs send back the whole subscription they read (seed-jsbox-utils'
 * `update_subscription` PATCHes it). `version`, `schedule` and `process_status` are writable here, as in Seed.
 */
const readOnlySubscriptionFields = {
  id: Type.Optional(Type.Unknown()),
  url: Type.Optional(Type.Unknown()),
  messageset_label: Type.Optional(Type.Unknown()),
  created_at: Type.Optional(Type.Unknown()),
  updated_at: Type.Optional(Type.Unknown()),
};

/** Seed's PUT: the fields a create needs, any others to change, and the read-only ones (ignored). */
export const ReplaceSubscriptionBody = Body({
  ...CreateSubscriptionBody.properties,
  ...readOnlySubscriptionFields,
});
export type ReplaceSubscriptionBody = Static<typeof ReplaceSubscriptionBody>;

/**
 * PATCH: any of these, at least one (the read-only ones are ignored); a changed message set or schedule must exist
 * locally. `identity` moves the subscription to another identity, as Seed's PATCH and PUT did.
 */
export const UpdateSubscriptionBody = PatchBody({
  identity: Uuid,
  messageset: SetId,
  lang: Lang,
  schedule: SetId,
  next_sequence_number: Sequence,
  initial_sequence_number: Sequence,
  active: Type.Boolean(),
  completed: Type.Boolean(),
  process_status: ProcessStatus,
  metadata: Nullable(Json),
  version: Type.Integer({ minimum: 1 }),
  anchor_at: Nullable(IsoDateTime),
  ...readOnlySubscriptionFields,
});
export type UpdateSubscriptionBody = Static<typeof UpdateSubscriptionBody>;

/** How a subscription with an anchor catches up when it is behind (see the subscription README). */
export const CatchUpPolicy = literals("send_all", "skip_to_current", "latest_only");
export type CatchUpPolicy = Static<typeof CatchUpPolicy>;

export const MessageSetPolicyParams = Type.Object({ id: SetId });
export type MessageSetPolicyParams = Static<typeof MessageSetPolicyParams>;

/** PUT: the whole policy of one message set. */
export const MessageSetPolicyBody = Body({
  catch_up: CatchUpPolicy,
  /** `send_all` sends at most this many messages a day to a subscription. */
  max_per_day: Type.Integer({ minimum: 1, maximum: 100 }),
  /** Quiet hours: the set's messages wait for this window in the recipient's local time (null: any time). */
  sending_window: Type.Optional(Nullable(SendingWindow)),
});
export type MessageSetPolicyBody = Static<typeof MessageSetPolicyBody>;

export const MessageSetPolicy = Type.Object({
  messageset: SetId,
  catch_up: CatchUpPolicy,
  max_per_day: Type.Integer({ minimum: 1 }),
  sending_window: Nullable(SendingWindow),
  /** False when the set has no row of its own and these are the defaults. */
  configured: Type.Boolean(),
});
export type MessageSetPolicy = Static<typeof MessageSetPolicy>;

export const BehindSubscriptionQuery = listQuery({
  messageset: Type.Optional(SetId),
});
export type BehindSubscriptionQuery = Static<typeof BehindSubscriptionQuery>;

/** Seed's BehindSubscription, computed when asked (current and expected positions in the current set). */
export const BehindSubscription = Type.Object({
  subscription: Uuid,
  identity: Uuid,
  messages_behind: Type.Integer({ minimum: 1 }),
  current_messageset: SetId,
  current_sequence_number: Type.Integer({ minimum: 1 }),
  expected_messageset: SetId,
  expected_sequence_number: Type.Integer({ minimum: 1 }),
});
export type BehindSubscription = Static<typeof BehindSubscription>;

/** Fast-forward the behind subscriptions (all, one set's, or the listed ones) without sending. */
export const FastForwardBody = Body({
  messageset: Type.Optional(SetId),
  subscriptions: Type.Optional(Type.Array(Uuid, { minItems: 1, maxItems: 1000, uniqueItems: true })),
});
export type FastForwardBody = Static<typeof FastForwardBody>;

export const EstimateQuery = Type.Object({ date: Type.String({ format: "date" }) });
export type EstimateQuery = Static<typeof EstimateQuery>;

/** Seed's EstimatedSend: for one day and set, the ready subscriptions whose schedule fires that day. */
export const EstimatedSend = Type.Object({
  send_date: Type.String({ format: "date" }),
  messageset: SetId,
  estimate_subscriptions: Type.Integer({ minimum: 0 }),
  estimate_identities: Type.Integer({ minimum: 0 }),
  /** Messages they will be sent that day (a schedule may fire more than once a day). */
  estimate_sends: Type.Integer({ minimum: 0 }),
});
export type EstimatedSend = Static<typeof EstimatedSend>;

/** Seed's subscription request hook: accepted, and the subscription it made (or had made). */
export const SubscriptionRequestAccepted = Type.Object({ accepted: Type.Boolean(), id: Type.String() });

/** The send dates of the rest of a subscription's message set, if nothing changes. */
export const SubscriptionCalendar = Type.Object({
  subscription: Type.String(),
  schedule: Type.Integer(),
  timezone: Type.String(),
  catch_up: Type.Union([Type.String(), Type.Null()]),
  sends: Type.Array(
    Type.Object({ sequence_number: Type.Integer(), at: Type.String({ format: "date-time" }) }),
  ),
});
export type SubscriptionCalendar = Static<typeof SubscriptionCalendar>;

/** A resend: the new outbound of the last message. */
export const ResendAccepted = Type.Object({
  accepted: Type.Boolean(),
  outbound: Type.String(),
  sequence_number: Type.Integer(),
});

/** Seed's legacy per-subscription send (`POST /subscriptions/{id}/send`). */
export const SendAccepted = Type.Object({ accepted: Type.Boolean() });

/** Seed's send trigger answers with an empty object. */
export const ScheduleSendAccepted = Type.Object({});

export const FastForwarded = Type.Object({
  fast_forwarded: Type.Integer(),
  subscriptions: Type.Array(Type.String()),
});

export const EstimatedSends = Type.Object({ results: Type.Array(EstimatedSend) });

/** One subscription of a dead-lettered `subscription.send-next` (Seed's failed task). */
export const SubscriptionFailedTask = Type.Object({
  subscription: Type.String(),
  task_id: Type.String(),
  initiated_at: Type.Union([Type.String(), Type.Null()]),
  reason: Type.Union([Type.String(), Type.Null()]),
});

export const RequeuedSubscriptionTasks = Type.Object({
  requeued_failed_tasks: Type.Boolean(),
  requeued: Type.Integer(),
});
