import type { Db } from "../db.ts";
import { type OutboundToSend, PermanentSendError } from "../outbound/channel.ts";
import { insideWindow } from "./twilio-whatsapp/session.ts";
import { type WhatsappTemplateChoice, whatsappTemplateFor } from "./whatsapp-template.ts";

// What a WhatsApp send goes as, whichever provider carries it (twilio-whatsapp, vonage-whatsapp): free text inside
// the person's 24-hour customer-service window, else its WhatsApp template.

/** A WhatsApp send: its content as free text, or a template. */
export type WhatsappMessage = { text: string } | { template: WhatsappTemplateChoice };

/**
 * What a send through WhatsApp channel `channelId` to `address` (E.164) goes as: the content as free text inside the
 * person's 24-hour window (their last inbound on this channel), else (or with no content) its WhatsApp template
 * (`whatsappTemplateFor`: the send's `whatsapp_template`, else its content template's). Outside the window with no
 * template it is refused (PermanentSendError: the channel's fallback, if any, sends it).
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
  const template = await whatsappTemplateFor(db, outbound);
  if (!template) {
    throw new PermanentSendError(
      "whatsapp: outside the 24-hour window and no WhatsApp template to send (neither whatsapp_template nor a content template's)",
    );
  }
  return { template };
}
