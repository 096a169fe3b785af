import Type, { type Static } from "typebox";
import { IsoDateTime, Json, literals, Nullable, Uuid } from "../common.ts";
import { timestampFields } from "../fields.ts";

/** Seed's process_status: 0 ready, 1 in process, 2 completed, -1 no valid address, -2 error. */
export const ProcessStatus = Type.Integer({ minimum: -2, maximum: 5 });

export const Subscription = Type.Object({
  id: Uuid,
  version: Type.Integer({ minimum: 1 }),
  identity: Uuid,
  messageset: Type.Integer({ minimum: 1 }),
  next_sequence_number: Type.Integer({ minimum: 1 }),
  initial_sequence_number: Type.Integer({ minimum: 1 }),
  lang: Type.String({ minLength: 1, maxLength: 6 }),
  active: Type.Boolean(),
  completed: Type.Boolean(),
  schedule: Type.Integer({ minimum: 1 }),
  process_status: ProcessStatus,
  metadata: Nullable(Json),
  /** Where its schedule is counted from (start date); null: no catch-up. Optional for older events. */
  anchor_at: Type.Optional(Nullable(IsoDateTime)),
  ...timestampFields,
});
export type Subscription = Static<typeof Subscription>;

/**
 * Why the service itself stopped a subscription (a hub's PATCH `active: false` is only `subscription.updated`):
 * its identity reached the consecutive-failure threshold (`identity.max_failures`), was deleted, or opted out of
 * everything (`stopall`, `forget`, `unsubscribe` without a topic).
 */
export const DeactivationReason = literals("max_failures", "identity_deleted", "optout");

/** `subscription.deactivated`: the subscription as it is now (inactive), why, and for `max_failures` the count. */
export const SubscriptionDeactivated = Type.Object({
  ...Subscription.properties,
  reason: DeactivationReason,
  /** The identity's consecutive failed messages (`identity.max_failures`'s `failure_count`); null for other reasons. */
  failure_count: Nullable(Type.Integer({ minimum: 1 })),
  /** The opt-out's type for `optout` (`stopall`, `forget`, `unsubscribe`); null for other reasons. */
  optout_type: Nullable(Type.String()),
});
export type SubscriptionDeactivated = Static<typeof SubscriptionDeactivated>;

/**
 * `subscription.send-next`: send each of these subscriptions the message due in `slot` of its content
 * schedule (a fan-out work item; one transaction per command).
 */
export const SubscriptionSendNext = Type.Object({
  subscription_ids: Type.Array(Uuid, { minItems: 1, maxItems: 1000, uniqueItems: true }),
  schedule: Type.Integer({ minimum: 1 }),
  slot: IsoDateTime,
});
export type SubscriptionSendNext = Static<typeof SubscriptionSendNext>;

/** `subscription.fan-out`: send every ready subscription on a content schedule its message for `slot`. */
export const SubscriptionFanOut = Type.Object({
  schedule: Type.Integer({ minimum: 1 }),
  slot: IsoDateTime,
  manual: Type.Boolean(),
});
export type SubscriptionFanOut = Static<typeof SubscriptionFanOut>;
