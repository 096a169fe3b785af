import type { FailureKind } from "@tidings/contracts";
import { fallBackOnRefusal } from "../../outbound/fallback.ts";
import { type ReportOutcome, reportFinal } from "../../outbound/status.ts";
import { noteInbound } from "../twilio-whatsapp/session.ts";
import { type SignedEvent, verifyVonageJwt } from "../vonage-voice/webhooks.ts";
import { storeWebhookInbound, type WebhookDeps, type WebhookLog } from "../webhooks.ts";
import type { VonageMessageInbound, VonageMessageStatus, VonageWhatsappChannelConfig } from "./wire.ts";

const VONAGE_WHATSAPP = "vonage-whatsapp";

/** Messages API statuses that are final, and what they mean here. Others (submitted) change nothing. */
const FINAL: Record<string, boolean> = { delivered: true, read: true, rejected: false, undeliverable: false };

/**
 * Messages API error codes (https://developer.vonage.com/en/api-errors/messages) that say the message cannot reach
 * the person by WhatsApp, and their failure kinds: 1022 the template (or its parameters) was not accepted, 1300
 * the number is not on WhatsApp (not part of the provider's network), 1340 free text outside the 24-hour window.
 * Other codes are `unknown`; an `undeliverable` message (the provider could not be reached) is `unroutable`.
 */
const UNDELIVERABLE: Readonly<Record<string, FailureKind>> = {
  "1022": "blocked",
  "1300": "invalid_number",
  "1340": "blocked",
};

/** A status webhook's error code: its `title` when a number, else the `#<code>` its `type` URL ends with. */
const errorCode = (error: VonageMessageStatus["error"]): string | undefined =>
  /^\d+$/.test(String(error?.title ?? "")) ? String(error?.title) : /#(\d+)$/.exec(error?.type ?? "")?.[1];

/**
 * A Messages API status webhook for a vonage-whatsapp channel: verified by its signed JWT (403 when it does not,
 * nothing changes); `delivered` and `read` deliver the outbound; `rejected` with an undeliverable code, and
 * `undeliverable`, send it once by SMS through the channel's `fallback` instead (outbound/fallback.ts), or fail it
 * without one; other rejections fail it (retried by the channel's redelivery policy). A report for an attempt that
 * already fell back is kept in the history and changes nothing.
 */
export async function receiveVonageWhatsappStatus(
  deps: WebhookDeps,
  channelId: string,
  event: SignedEvent<VonageMessageStatus>,
  log: WebhookLog,
): Promise<ReportOutcome | "ignored"> {
  await verifyVonageJwt<VonageWhatsappChannelConfig>(deps, channelId, VONAGE_WHATSAPP, event, log);
  const { message_uuid: uuid, status, error } = event.body;
  const delivered = FINAL[status];
  if (delivered === undefined) {
    return "ignored";
  }
  const code = errorCode(error);
  const reason = delivered ? null : `vonage whatsapp ${status}${code ? ` (error ${code})` : ""}`;
  const kind = status === "undeliverable" ? "unroutable" : (UNDELIVERABLE[code ?? ""] ?? "unknown");
  const undeliverable = status === "undeliverable" || (code !== undefined && code in UNDELIVERABLE);
  const fellBack =
    reason !== null && undeliverable && (await fallBackOnRefusal(deps, channelId, uuid, reason));
  const outcome =
    fellBack ||
    (await reportFinal(
      deps.db,
      channelId,
      uuid,
      delivered,
      reason,
      delivered ? undefined : { kind, defaults: deps.redelivery },
    ));
  log.info({ channel: channelId, providerId: uuid, status, code, outcome }, "vonage whatsapp status");
  return outcome;
}

/**
 * A Messages API inbound WhatsApp message for a vonage-whatsapp channel: verified like a status webhook, the
 * sender's 24-hour window opened, then stored (once per message_uuid) as an inbound of the sender's number, so
 * their identity and STOP are found as for an SMS.
 */
export async function receiveVonageWhatsappInbound(
  deps: WebhookDeps,
  channelId: string,
  event: SignedEvent<VonageMessageInbound>,
  log: WebhookLog,
  correlationId: string,
): Promise<void> {
  await verifyVonageJwt<VonageWhatsappChannelConfig>(deps, channelId, VONAGE_WHATSAPP, event, log);
  const { body } = event;
  const e164 = (number: string) => `+${number.replace(/^\+/, "")}`;
  const fromAddr = e164(body.from);
  await noteInbound(deps.db, channelId, fromAddr);
  await storeWebhookInbound(
    deps,
    "vonage",
    {
      channel: channelId,
      messageId: body.message_uuid,
      inReplyTo: body.context?.message_uuid ?? null,
      fromAddr,
      toAddr: e164(body.to),
      content: body.text ?? null,
    },
    log,
    correlationId,
  );
}
