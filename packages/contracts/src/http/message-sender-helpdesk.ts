// HTTP request and response schemas of the message-sender service: the helpdesk's tools (an outbound's status
// history, a person's messages, resending, the consent of an address).
import Type, { type Static } from "typebox";
import { Body, IsoDateTime, literals, Nullable, Uuid } from "../common.ts";
import { listQuery } from "../fields.ts";
import { OutboundStatus } from "../messages/message-sender.ts";
import { Inbound, Outbound } from "./message-sender.ts";

/** One status change of an outbound, as recorded when it was made. */
export const OutboundHistoryEntry = Type.Object({
  at: IsoDateTime,
  status: OutboundStatus,
  /** The channel it was sent through (a fallback's when it failed over); null when the change did not record one. */
  channel: Nullable(Type.String()),
  provider_id: Nullable(Type.String()),
  /** The worker that made the change (null: a provider's report, the API, a poller without a claim). */
  worker: Nullable(Type.String()),
  /** Why: a failure's reason (`opted_out`, `expired`, `forgotten`, `redacted`, a provider's error), `requeued`. */
  reason: Nullable(Type.String()),
});
export type OutboundHistoryEntry = Static<typeof OutboundHistoryEntry>;

/** `GET /api/v1/outbound/{id}/history/`: where the outbound is, and every status change, oldest first. */
export const OutboundHistory = Type.Object({
  /** The outbound's absolute link. */
  outbound: Type.String(),
  id: Uuid,
  status: OutboundStatus,
  /** When it was accepted (queued): the history's start. */
  created_at: IsoDateTime,
  /** When it was redacted (`DELETE /api/v1/outbound/{id}/`, or its person forgotten), or null. */
  redacted_at: Nullable(IsoDateTime),
  history: Type.Array(OutboundHistoryEntry),
});
export type OutboundHistory = Static<typeof OutboundHistory>;

export const IdentityParams = Type.Object({ identity_id: Uuid });
export type IdentityParams = Static<typeof IdentityParams>;

export const MessageDirection = Type.Union([Type.Literal("outbound"), Type.Literal("inbound")]);
export type MessageDirection = Static<typeof MessageDirection>;

/** `GET /api/v1/identities/{identity_id}/messages/`: a page (`limit`, `offset`), one direction only if given. */
export const IdentityMessagesQuery = listQuery({
  direction: Type.Optional(MessageDirection),
});
export type IdentityMessagesQuery = Static<typeof IdentityMessagesQuery>;

/** An outbound to the person (its status and `last_error` as they stand, its metadata: subscription, topic). */
export const IdentityOutboundMessage = Type.Object({
  direction: Type.Literal("outbound"),
  ...Outbound.properties,
});
/** A message from the person. */
export const IdentityInboundMessage = Type.Object({
  direction: Type.Literal("inbound"),
  ...Inbound.properties,
});
export const IdentityMessage = Type.Union([IdentityOutboundMessage, IdentityInboundMessage]);
export type IdentityMessage = Static<typeof IdentityMessage>;

/** `GET /api/v1/consent/`: one address, a phone number (with or without its `+`) or an email, in any case. */
export const ConsentQuery = Type.Object({
  address: Type.String({ minLength: 1, maxLength: 255, pattern: "\\S" }),
});
export type ConsentQuery = Static<typeof ConsentQuery>;

/**
 * What message-sender's copy of consent says of one address: whether a send to it is refused now (`opted_out`),
 * and the last change recorded (its kind: `stop`, `stopall`, `forget`, `unsubscribe` or `optin`; when). No change
 * recorded: `opted_out: false`, `kind` and `changed_at` null.
 */
export const SenderConsent = Type.Object({
  /** The address as sends are addressed (E.164, or the email lower-cased): the one checked. */
  address: Type.String(),
  opted_out: Type.Boolean(),
  kind: Nullable(Type.String()),
  changed_at: Nullable(IsoDateTime),
});
export type SenderConsent = Static<typeof SenderConsent>;

/**
 * `POST /api/v1/outbound/resend/`: the outbounds to send again, by `ids` or by a `filter` (one of them), as new
 * attempts of the same outbounds. `expires_at`: the resent outbounds' new expiry (default none).
 */
export const ResendBody = Body({
  ids: Type.Optional(Type.Array(Uuid, { minItems: 1, maxItems: 1000, uniqueItems: true })),
  filter: Type.Optional(
    Body({
      status: Type.Optional(Type.Union([Type.Literal("failed"), Type.Literal("expired")])),
      channel: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
      to_identity: Type.Optional(Uuid),
      created_at__gte: Type.Optional(IsoDateTime),
      created_at__lt: Type.Optional(IsoDateTime),
    }),
  ),
  expires_at: Type.Optional(Nullable(IsoDateTime)),
});
export type ResendBody = Static<typeof ResendBody>;

/** What became of one outbound of a resend. */
export const ResendOutcome = literals(
  "resent",
  "not_found",
  "not_resendable",
  "opted_out",
  "no_address",
  "sensitive",
  "redacted",
);
export type ResendOutcome = Static<typeof ResendOutcome>;

/** `POST /api/v1/outbound/resend/`'s answer: each outbound's outcome and their counts. */
export const ResendResult = Type.Object({
  counts: Type.Record(Type.String(), Type.Integer({ minimum: 0 })),
  results: Type.Array(Type.Object({ id: Uuid, outcome: ResendOutcome })),
  /** A filter matched more than 1,000 outbounds: only the oldest 1,000 were taken; send it again for the rest. */
  truncated: Type.Boolean(),
});
export type ResendResult = Static<typeof ResendResult>;
