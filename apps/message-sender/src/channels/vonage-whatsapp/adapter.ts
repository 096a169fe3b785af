import type { Vonage } from "@vonage/server-sdk";
import type { Db } from "../../db.ts";
import {
  type Channel,
  DEFAULT_SEND_TIMEOUT_MS,
  type OutboundToSend,
  type SendResult,
} from "../../outbound/channel.ts";
import { vonageApplicationClient, vonageRefusal } from "../vonage-application.ts";
import { whatsappMessage } from "../whatsapp.ts";
import type { VonageWhatsappChannelConfig } from "./wire.ts";

type SendParams = Parameters<Vonage["messages"]["send"]>[0];

/** The URL the Messages API posts a vonage-whatsapp channel's status webhooks to. */
export const vonageWhatsappStatusUrl = (base: string, channelId: string) =>
  `${base.replace(/\/+$/, "")}/api/v1/events/vonage-whatsapp/${encodeURIComponent(channelId)}`;

/**
 * WhatsApp through Vonage's Messages API (`@vonage/server-sdk`'s `messages.send`, authenticated by the application's
 * JWT; `api_url` points it at a simulator): inside the person's 24-hour window a `text` message, outside it a
 * `template` message (the send's `whatsapp_template`, else its content template's WhatsApp template, in its language
 * or the channel's `template_locale`; the choice is `whatsappMessage`'s, as twilio-whatsapp's). The message's uuid is the provider id; its status webhooks decide
 * it (see webhooks.ts). Refusals are read by `vonageRefusal`.
 */
export class VonageWhatsappChannel implements Channel {
  private readonly vonage: Vonage;
  readonly timeoutMs: number;

  constructor(
    private readonly channelId: string,
    private readonly config: VonageWhatsappChannelConfig,
    private readonly db: Db,
  ) {
    this.timeoutMs = config.timeout_ms ?? DEFAULT_SEND_TIMEOUT_MS;
    this.vonage = vonageApplicationClient(config, this.timeoutMs);
  }

  async send(outbound: OutboundToSend, address: string): Promise<SendResult> {
    const message = await whatsappMessage(this.db, this.channelId, outbound, address);
    const { config } = this;
    const common = {
      channel: "whatsapp",
      to: address.replace(/^\+/, ""),
      from: config.from.replace(/^\+/, ""),
      clientRef: outbound.id,
      ...(config.status_callback
        ? {
            webhookUrl: vonageWhatsappStatusUrl(config.status_callback, this.channelId),
            webhookVersion: "v1",
          }
        : {}),
    };
    const params =
      "text" in message
        ? { ...common, messageType: "text", text: message.text }
        : {
            ...common,
            messageType: "template",
            template: { name: message.template.name, parameters: message.template.parameters },
            whatsapp: {
              policy: "deterministic",
              locale: message.template.language ?? config.template_locale ?? "en",
            },
          };
    try {
      const { messageUUID } = await this.vonage.messages.send(params as SendParams);
      return { providerId: messageUUID ?? null, delivered: false };
    } catch (err) {
      throw vonageRefusal(err, "vonage whatsapp", this.timeoutMs);
    }
  }
}
