import type { Db } from "../../db.ts";
import { fallBackOnRefusal } from "../../outbound/fallback.ts";
import type { ReportOutcome } from "../../outbound/status.ts";
import type { ChannelCache } from "../channel-cache.ts";
import { fromWhatsapp, noteInbound } from "./session.ts";

// Twilio's WhatsApp webhooks come to the Twilio routes, signed the same way; these are their WhatsApp parts.

export const TWILIO_WHATSAPP = "twilio-whatsapp";

/** The channel types whose webhooks Twilio signs with the channel's auth token. */
export const TWILIO_TYPES = ["twilio", TWILIO_WHATSAPP] as const;

/**
 * Twilio's WhatsApp error codes that say the message cannot reach the person by WhatsApp
 * (https://www.twilio.com/docs/api/errors): 63003 the number has no WhatsApp account, 63005 the content (a template)
 * was not accepted, 63016 free text outside the 24-hour window, 63024 an invalid recipient.
 */
export const WHATSAPP_UNDELIVERABLE = new Set(["63003", "63005", "63016", "63024"]);

/**
 * A failed status callback of a twilio-whatsapp channel with an undeliverable code, when the channel has a
 * fallback: the outbound falls back to SMS (outbound/fallback.ts). Undefined when it does not (the report is
 * applied as any other), including a report that overtook its send's confirmation.
 */
export async function whatsappFallback(
  { db, channels }: { db: Db; channels: ChannelCache },
  type: string,
  channelId: string,
  providerId: string,
  reason: string,
  errorCode: string | undefined,
): Promise<ReportOutcome | undefined> {
  if (type !== TWILIO_WHATSAPP || !WHATSAPP_UNDELIVERABLE.has(errorCode ?? "")) {
    return undefined;
  }
  return fallBackOnRefusal({ db, channels }, channelId, providerId, reason);
}

/**
 * An inbound message's addresses as stored: for a WhatsApp channel the numbers without `whatsapp:` (so the sender's
 * identity and STOP are found as for an SMS), and the sender's 24-hour window opened.
 */
export async function whatsappInbound(
  db: Db,
  type: string,
  channelId: string,
  from: string,
  to: string,
): Promise<{ fromAddr: string; toAddr: string }> {
  if (type !== TWILIO_WHATSAPP) {
    return { fromAddr: from, toAddr: to };
  }
  const fromAddr = fromWhatsapp(from);
  await noteInbound(db, channelId, fromAddr);
  return { fromAddr, toAddr: fromWhatsapp(to) };
}
