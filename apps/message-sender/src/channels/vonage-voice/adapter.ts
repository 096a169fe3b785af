import type { Vonage } from "@vonage/server-sdk";
import type { Channel, OutboundToSend, ProviderStatus, SendResult } from "../../outbound/channel.ts";
import { CallChannel, speechUrls } from "../voice.ts";
import { vonageApplicationClient, vonageRefusal } from "../vonage-application.ts";
import { vonageCallEnd } from "./webhooks.ts";
import type { VonageVoiceChannelConfig } from "./wire.ts";

/** The URL Vonage posts a voice channel's call events to. */
export const vonageVoiceEventUrl = (base: string, channelId: string) =>
  `${base.replace(/\/+$/, "")}/api/v1/events/vonage-voice/${encodeURIComponent(channelId)}`;

/** Where a vonage-voice call's NCCO notifies once its audio streamed to the end (its played marker). */
export const vonageVoicePlayedUrl = (base: string, channelId: string) =>
  `${vonageVoiceEventUrl(base, channelId)}/played`;

/** How many of the application's calls since the outbound's creation a takeover looks through for its own. */
const ACCEPTED_LOOKUP_PAGE = 100;

interface ListedCall {
  uuid?: string;
  to?: { number?: string };
  from?: { number?: string };
}

/**
 * Vonage Voice API through `@vonage/server-sdk` (`voice.createOutboundCall`, authenticated by the application's
 * JWT; `apiHost` points it at a simulator): a call whose NCCO has one `stream` action per `voice_speech_url`, in
 * order, then a `notify` of its played marker (reached only when every stream finished); its events and that
 * marker decide it (see webhooks.ts). Refusals are read by `vonageRefusal`. The call's uuid is the
 * provider id.
 */
export class VonageVoiceChannel extends CallChannel<VonageVoiceChannelConfig> implements Channel {
  private readonly vonage: Vonage = vonageApplicationClient(this.config, this.timeoutMs);

  async send(outbound: OutboundToSend, address: string): Promise<SendResult> {
    const { config } = this;
    const ncco: object[] = speechUrls(outbound.metadata).map((url) => ({
      action: "stream",
      streamUrl: [url],
    }));
    if (config.status_callback) {
      ncco.push({
        action: "notify",
        payload: { outbound: outbound.id },
        eventUrl: [vonageVoicePlayedUrl(config.status_callback, this.channelId)],
        eventMethod: "POST",
      });
    }
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

  /**
   * The application's calls from this channel's number to the address started at or after `since` (one page,
   * newest first; Vonage's list filters by date only, so the numbers are matched here). An NCCO can't be read
   * back, so every such call matches; the takeover skips those another outbound (or an earlier attempt) recorded.
   */
  async acceptedSince(_outbound: OutboundToSend, address: string, since: Date): Promise<string[]> {
    const page = await this.vonage.voice.getCallsPage({
      dateStart: since.toISOString(),
      pageSize: ACCEPTED_LOOKUP_PAGE,
      order: "desc",
    });
    const [to, from] = [address, this.config.from].map((n) => n.replace(/^\+/, ""));
    // The page as Vonage sends it (its call records name both ends' numbers; the SDK's type names only `to`).
    const calls = (page._embedded?.calls ?? []) as unknown as ListedCall[];
    return calls
      .filter((c) => c.to?.number === to && c.from?.number === from)
      .flatMap((c) => (c.uuid ? [c.uuid] : []));
  }

  async status(providerId: string): Promise<ProviderStatus | null> {
    const call = await this.vonage.voice.getCall(providerId);
    return vonageCallEnd(String(call.status)) ?? null;
  }
}
