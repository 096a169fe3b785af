// HTTP request and response schemas of the message-sender service.
import Type, { type Static } from "typebox";
import { Actor, Body, IsoDateTime, Json, ListQuery, Nullable, Uuid } from "../common.ts";
import { OutboundStatus } from "../messages/message-sender.ts";

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
  version: Type.Optional(Type.Integer({ minimum: 1, default: 1 })),
});
export type CreateOutboundBody = Static<typeof CreateOutboundBody>;

/** An outbound message: Seed's fields plus where it is (`status`, `provider_id`, `last_error`). */
export const Outbound = Type.Object({
  id: Uuid,
  version: Type.Integer({ minimum: 1 }),
  /** Cleared to "" once the outbound is delivered or failed, as in Seed. */
  to_addr: Type.String(),
  to_identity: Nullable(Uuid),
  content: Nullable(Type.String()),
  delivered: Type.Boolean(),
  /** Submissions to a provider. */
  attempts: Type.Integer({ minimum: 0 }),
  metadata: Json,
  channel: Type.String(),
  resend: Nullable(Type.Boolean()),
  status: OutboundStatus,
  provider_id: Nullable(Type.String()),
  last_error: Nullable(Type.String()),
  created_at: IsoDateTime,
  created_by: Actor,
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
