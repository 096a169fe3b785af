import type { VumiEvent } from "@tidings/contracts";
import { badRequest } from "@tidings/service-kit";
import type { WebhookLog } from "../channels/webhooks.ts";
import type { Db } from "../db.ts";
import { type ReportOutcome, reportFinal } from "../outbound/status.ts";

/**
 * Seed's generic event (Vumi format) about the outbound whose provider id is `user_message_id`:
 * `delivery_report` -> delivered (failed when `delivery_status` is failed; pending changes nothing), `nack` ->
 * failed with `nack_reason`, `ack` changes nothing (the send already recorded `submitted`). An id no outbound
 * has is 400 "Cannot find message for ID ...", as in Seed.
 */
export async function handleVumiEvent(
  db: Db,
  event: VumiEvent,
  log: WebhookLog,
): Promise<ReportOutcome | "ignored"> {
  const outbound = await db.outbound.findFirst({ where: { providerId: event.user_message_id } });
  if (!outbound) {
    throw badRequest("MESSAGE_SENDER_UNKNOWN_MESSAGE", `Cannot find message for ID ${event.user_message_id}`);
  }
  let delivered: boolean;
  let reason: string | null = null;
  if (event.event_type === "ack" || event.delivery_status === "pending") {
    return "ignored";
  }
  if (event.event_type === "nack") {
    delivered = false;
    reason = `nack: ${event.nack_reason ?? "no reason given"}`;
  } else {
    delivered = event.delivery_status !== "failed";
    reason = delivered ? null : "delivery failed";
  }
  const outcome = await reportFinal(db, outbound.channel, event.user_message_id, delivered, reason);
  log.info({ outboundId: outbound.id, event: event.event_type, outcome }, "vumi event");
  return outcome;
}
