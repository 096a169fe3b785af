import type { MessageListInstanceCreateOptions } from "twilio/lib/rest/api/v2010/account/message.js";
import type { Db } from "../../db.ts";
import { type OutboundToSend, PermanentSendError } from "../../outbound/channel.ts";
import { TwilioChannel } from "../twilio/adapter.ts";
import type { TwilioTransport } from "../twilio/http-client.ts";
import { whatsappMessage } from "../whatsapp.ts";
import type { TwilioWhatsappChannelConfig } from "./wire.ts";

/** A Twilio Content SID: sent as it is; any other template name is a Content API friendly name. */
const CONTENT_SID = /^HX[0-9a-fA-F]{32}$/;

/**
 * WhatsApp through Twilio: the Twilio channel's sends, errors, status lookups and takeover lookups, to and from
 * `whatsapp:+…` addresses. Inside the person's 24-hour window (their last inbound on this channel) the content
 * goes as free text; outside it (or with no content) its WhatsApp template (`whatsappMessage`'s choice) goes as a
 * Content API template (`contentSid` as given or found by its friendly name, in the template's language when one of
 * that name has it; `contentVariables` {"1": ..., "2": ...}).
 * Outside the window with no template it is refused (PermanentSendError: the channel's fallback, if any, sends it).
 */
export class TwilioWhatsappChannel extends TwilioChannel {
  /**
   * Content API templates by friendly name, and by friendly name and language (`<name>\n<language>`), listed when a
   * name is first not found.
   */
  private contentSids = new Map<string, string>();

  constructor(
    private readonly id: string,
    config: TwilioWhatsappChannelConfig,
    private readonly db: Db,
    transport: TwilioTransport = {},
  ) {
    super(id, { ...config, from: `whatsapp:${config.from}` }, transport);
  }

  override acceptedSince(outbound: OutboundToSend, address: string, since: Date): Promise<string[]> {
    return super.acceptedSince(outbound, `whatsapp:${address}`, since);
  }

  protected override async content(
    outbound: OutboundToSend,
    address: string,
  ): Promise<MessageListInstanceCreateOptions> {
    const to = `whatsapp:${address}`;
    const message = await whatsappMessage(this.db, this.id, outbound, address);
    if ("text" in message) {
      return { to, body: message.text };
    }
    const { template } = message;
    return {
      to,
      contentSid: await this.contentSid(template.name, template.language),
      contentVariables: JSON.stringify(
        Object.fromEntries(template.parameters.map((value, i) => [String(i + 1), value])),
      ),
    };
  }

  /**
   * The Content SID of template `name`: as given when it is one; else the content of that friendly name in
   * `language` (a Content API content has one language: a template named alike in several languages is several
   * contents), else the content of that friendly name whatever its language.
   */
  private async contentSid(name: string, language: string | null): Promise<string> {
    if (CONTENT_SID.test(name)) {
      return name;
    }
    if (!this.contentSids.has(name)) {
      const contents = await this.client.content.v1.contents.list({ pageSize: 500 });
      this.contentSids = new Map(
        contents.flatMap((c) => [
          [c.friendlyName, c.sid],
          [`${c.friendlyName}\n${c.language}`, c.sid],
        ]),
      );
    }
    const found = (language && this.contentSids.get(`${name}\n${language}`)) || this.contentSids.get(name);
    if (!found) {
      throw new PermanentSendError(`whatsapp: no Content API template named ${name}`);
    }
    return found;
  }
}
