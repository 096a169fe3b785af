import type { Vonage } from "@vonage/server-sdk";
import {
  type Channel,
  DEFAULT_SEND_TIMEOUT_MS,
  type OutboundToSend,
  type ProviderStatus,
  type SendResult,
} from "../../outbound/channel.ts";
import { DEFAULT_MESSAGE_TIMEOUT_SECONDS, speechUrls } from "../voice.ts";
import { vonageApplicationClient, vonageRefusal } from "../vonage-application.ts";
import { vonageCallEnd } from "./webhooks.ts";
import type { VonageVoiceChannelConfig } from "./wire.ts";

/** The URL Vonage posts a voice channel's call events to. */
export const vonageVoiceEventUrl = (base: string, channelId: string) =>
  `${base.replace(/\/+$/, "")}/api/v1/events/vonage-voice/${encodeURIComponent(channelId)}`;

/**
 * Vonage Voice API through `@vonage/server-sdk` (`voice.createOutboundCall`, authenticated by the application's
 * JWT; `apiHost` points it at a simulator): a call whose NCCO has one `stream` action per `voice_speech_url`, in
 * order; its events decide it (see webhooks.ts). Refusals are read by `vonageRefusal`. The call's uuid is the
 * provider id.
 */
export class VonageVoiceChannel implements Channel {
  private readonly vonage: Vonage;
  readonly timeoutMs: number;
  readonly holdsSlotMs: number;

  constructor(
    private readonly channelId: string,
    private readonly config: VonageVoiceChannelConfig,
  ) {
    this.timeoutMs = config.timeout_ms ?? DEFAULT_SEND_TIMEOUT_MS;
    this.holdsSlotMs = (config.message_timeout ?? DEFAULT_MESSAGE_TIMEOUT_SECONDS) * 1000;
    this.vonage = vonageApplicationClient(config, this.timeoutMs);
  }

  async send(outbound: OutboundToSend, address: string): Promise<SendResult> {
    const ncco = speechUrls(outbound.metadata).map((url) => ({
      action: "stream" as const,
      streamUrl: [url],
    }));
    const { config } = this;
    try {
      const call = await this.vonage.voice.createOutboundCall({
        to: [{ type: "phone", number: address.replace(/^\+/, "") }],
        from: { type: "phone", number: config.from.replace(/^\+/, "") },
        ncco,
        ...(config.ring_seconds ? { ringingTimer: config.ring_seconds } : {}),
        ...(config.status_callback
          ? { eventUrl: [vonageVoiceEventUrl(config.status_callback, this.channelId)], eventMethod: "POST" }
          : {}),
      } as Parameters<Vonage["voice"]["createOutboundCall"]>[0]);
      return { providerId: call.uuid, delivered: false };
    } catch (err) {
      throw vonageRefusal(err, "vonage voice", this.timeoutMs);
    }
  }

  async status(providerId: string): Promise<ProviderStatus | null> {
    const call = await this.vonage.voice.getCall(providerId);
    return vonageCallEnd(String(call.status)) ?? null;
  }
}
