import type { Db } from "../db.ts";
import { type OutboundToSend, PermanentSendError } from "../outbound/channel.ts";
import { insideWindow } from "./twilio-whatsapp/session.ts";

// What a WhatsApp send goes as, whichever provider carries it (twilio-whatsapp, vonage-whatsapp): free text inside
// the person's 24-hour customer-service window, else the send's template.

/** The metadata key of a send's WhatsApp template. */
export const WHATSAPP_TEMPLATE_KEY = "whatsapp_template";

/**
 * The template a WhatsApp send names in its metadata (`whatsapp_template`): the template's name (a Twilio Content API
 * friendly name; a Vonage WhatsApp template's name) and its variables ({"1": "Thandi"}). Sent as the template
 * outside the person's 24-hour window (and when there is no content); inside it the content goes as free text.
 */
export interface WhatsappTemplate {
  name: string;
  variables?: Record<string, string>;
}

const templateOf = (metadata: Record<string, unknown>): WhatsappTemplate | undefined => {
  const t = metadata[WHATSAPP_TEMPLATE_KEY] as WhatsappTemplate | undefined;
  return t && typeof t.name === "string" ? t : undefined;
};

/** A WhatsApp send: its content as free text, or a template. */
export type WhatsappMessage = { text: string } | { template: WhatsappTemplate };

/**
 * What a send through WhatsApp channel `channelId` to `address` (E.164) goes as: the content as free text inside the
 * person's 24-hour window (their last inbound on this channel), else (or with no content) the send's
 * `whatsapp_template`. Outside the window with no template it is refused (PermanentSendError: the channel's
 * fallback, if any, sends it).
 */
export async function whatsappMessage(
  db: Db,
  channelId: string,
  outbound: OutboundToSend,
  address: string,
): Promise<WhatsappMessage> {
  if (outbound.content && (await insideWindow(db, channelId, address))) {
    return { text: outbound.content };
  }
  const template = templateOf(outbound.metadata);
  if (!template) {
    throw new PermanentSendError("whatsapp: outside the 24-hour window and no whatsapp_template to send");
  }
  return { template };
}
