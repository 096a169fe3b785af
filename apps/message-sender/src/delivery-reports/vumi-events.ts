import { maskPii, Nullable } from "@tidings/contracts";
import Type, { type Static } from "typebox";
import type { WebhookDeps, WebhookLog } from "../channels/webhooks.ts";
import { senderError } from "../errors.ts";
import { type ReportOutcome, reportFinal } from "../outbound/status.ts";

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

/**
 * Seed's generic event (Vumi format) about the outbound whose provider id is `user_message_id`:
 * `delivery_report` -> delivered (failed when `delivery_status` is failed; pending changes nothing), `nack` ->
 * failed with `nack_reason` (numbers and emails in it masked), `ack` changes nothing (the send already recorded `submitted`). An id no outbound
 * has is 400 "Cannot find message for ID ...", as in Seed.
 */
export async function handleVumiEvent(
  { db, redelivery }: Pick<WebhookDeps, "db" | "redelivery">,
  event: VumiEvent,
  log: WebhookLog,
): Promise<ReportOutcome | "ignored"> {
  const outbound = await db.outbound.findFirst({ where: { providerId: event.user_message_id } });
  if (!outbound && (await db.outboundPastAttempt.count({ where: { providerId: event.user_message_id } }))) {
    return "unchanged"; // about an earlier attempt of an outbound sent again: says nothing of the current one
  }
  if (!outbound) {
    throw senderError(
      "MESSAGE_SENDER_UNKNOWN_MESSAGE",
      `Cannot find message for ID ${event.user_message_id}`,
    );
  }
  let delivered: boolean;
  let reason: string | null = null;
  if (event.event_type === "ack" || event.delivery_status === "pending") {
    return "ignored";
  }
  if (event.event_type === "nack") {
    delivered = false;
    // The gateway's free text may name the recipient: masked as every failure reason is (failureReason).
    reason = `nack: ${event.nack_reason ? maskPii(event.nack_reason) : "no reason given"}`;
  } else {
    delivered = event.delivery_status !== "failed";
    reason = delivered ? null : "delivery failed";
  }
  // Vumi says nothing more of a failure: `unknown`, retried by the default policy.
  const failure = delivered ? undefined : { kind: "unknown" as const, defaults: redelivery };
  const outcome = await reportFinal(db, outbound.channel, event.user_message_id, delivered, reason, failure);
  log.info({ outboundId: outbound.id, event: event.event_type, outcome }, "vumi event");
  return outcome;
}
