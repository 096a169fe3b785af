// HTTP request and response schemas of the subscription service.
import Type, { type Static } from "typebox";
import { Body, IsoDateTime, Json, ListQuery, Nullable, PatchBody, Uuid } from "../common.ts";
import { ProcessStatus } from "../messages/subscription.ts";

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
  version: Type.Optional(Type.Integer({ minimum: 1 })),
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

export const SubscriptionListQuery = Type.Object({
  ...ListQuery.properties,
  identity: Type.Optional(Uuid),
  active: Type.Optional(Type.Boolean()),
  completed: Type.Optional(Type.Boolean()),
  messageset: Type.Optional(SetId),
  lang: Type.Optional(Lang),
  schedule: Type.Optional(SetId),
  process_status: Type.Optional(ProcessStatus),
  created_after: Type.Optional(IsoDateTime),
  created_before: Type.Optional(IsoDateTime),
  /** Subscriptions whose message set's short_name contains this text. */
  messageset_contains: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
});
export type SubscriptionListQuery = Static<typeof SubscriptionListQuery>;

export const ScheduleSendParams = Type.Object({ id: SetId });
export type ScheduleSendParams = Static<typeof ScheduleSendParams>;

/** PATCH: any of these, at least one; a changed message set or schedule must exist locally. */
export const UpdateSubscriptionBody = PatchBody({
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
});
export type UpdateSubscriptionBody = Static<typeof UpdateSubscriptionBody>;
