import Type, { type Static } from "typebox";
import { IsoDateTime, Json, Nullable, Uuid } from "../common.ts";

export const OutboundStatus = Type.Union([
  Type.Literal("queued"),
  Type.Literal("submitted"),
  Type.Literal("delivered"),
  Type.Literal("failed"),
  Type.Literal("expired"),
  Type.Literal("cancelled"),
]);
export type OutboundStatus = Static<typeof OutboundStatus>;

/**
 * `outbound.send`: its `id` is the idempotency key end to end; the same id is never sent twice.
 * At least one of `to_addr` and `to_identity`.
 */
export const OutboundSend = Type.Object({
  id: Uuid,
  to_addr: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })),
  to_identity: Type.Optional(Uuid),
  content: Type.Optional(Nullable(Type.String())),
  channel: Type.Optional(Nullable(Type.String({ maxLength: 64 }))),
  metadata: Json,
  resend: Type.Optional(Type.Boolean()),
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
  from_identity: Nullable(Uuid),
  from_addr: Nullable(Type.String()),
  to_addr: Type.String(),
  content: Nullable(Type.String()),
  keyword: Nullable(InboundKeyword),
  at: IsoDateTime,
});
export type InboundReceived = Static<typeof InboundReceived>;
