import type { MessageListInstanceCreateOptions } from "twilio/lib/rest/api/v2010/account/message.js";
import type { Db } from "../../db.ts";
import { type OutboundToSend, PermanentSendError } from "../../outbound/channel.ts";
import { TwilioChannel } from "../twilio/adapter.ts";
import { insideWindow } from "./session.ts";
import type { TwilioWhatsappChannelConfig, WhatsappTemplate } from "./wire.ts";

/** The metadata key of a send's WhatsApp template. */
export const WHATSAPP_TEMPLATE_KEY = "whatsapp_template";

const templateOf = (metadata: Record<string, unknown>): WhatsappTemplate | undefined => {
  const t = metadata[WHATSAPP_TEMPLATE_KEY] as WhatsappTemplate | undefined;
  return t && typeof t.name === "string" ? t : undefined;
};

/**
 * WhatsApp through Twilio: the Twilio channel's sends, errors, status lookups and takeover lookups, to and from
 * `whatsapp:+…` addresses. Inside the person's 24-hour window (their last inbound on this channel) the content
 * goes as free text; outside it (or with no content) the send's `whatsapp_template` goes as a Content API
 * template (`contentSid` found by its friendly name, `contentVariables`). Outside the window with no template it
 * is refused here (PermanentSendError: the channel's fallback, if any, sends it).
 */
export class TwilioWhatsappChannel extends TwilioChannel {
  /** Content API templates by friendly name, listed when a name is first not found. */
  private contentSids = new Map<string, string>();

  constructor(
    private readonly id: string,
    config: TwilioWhatsappChannelConfig,
    private readonly db: Db,
  ) {
    super(id, { ...config, from: `whatsapp:${config.from}` });
  }

  override acceptedSince(outbound: OutboundToSend, address: string, since: Date): Promise<string[]> {
    return super.acceptedSince(outbound, `whatsapp:${address}`, since);
  }

  protected override async content(
    outbound: OutboundToSend,
    address: string,
  ): Promise<MessageListInstanceCreateOptions> {
    const to = `whatsapp:${address}`;
    const template = templateOf(outbound.metadata);
    if (outbound.content && (await insideWindow(this.db, this.id, address))) {
      return { to, body: outbound.content };
    }
    if (!template) {
      throw new PermanentSendError("whatsapp: outside the 24-hour window and no whatsapp_template to send");
    }
    return {
      to,
      contentSid: await this.contentSid(template.name),
      contentVariables: JSON.stringify(template.variables ?? {}),
    };
  }

  private async contentSid(name: string): Promise<string> {
    if (!this.contentSids.has(name)) {
      const contents = await this.client.content.v1.contents.list({ pageSize: 500 });
      this.contentSids = new Map(contents.map((c) => [c.friendlyName, c.sid]));
    }
    const found = this.contentSids.get(name);
    if (!found) {
      throw new PermanentSendError(`whatsapp: no Content API template named ${name}`);
    }
    return found;
  }
}
