import twilio from "twilio";
import type { Channel, OutboundToSend, ProviderStatus, SendResult } from "../../outbound/channel.ts";
import { twilioClient, twilioSendError } from "../twilio/adapter.ts";
import type { TwilioTransport } from "../twilio/http-client.ts";
import { CallChannel, speechUrls } from "../voice.ts";
import { twilioCallEnd } from "./webhooks.ts";
import type { TwilioVoiceChannelConfig } from "./wire.ts";

/** How many of an address's latest calls a takeover looks through for its own. */
const ACCEPTED_LOOKUP_PAGE = 50;

/** The call progress events asked for; the call's end (`completed`, with its CallStatus) is the one applied. */
const EVENTS = ["initiated", "ringing", "answered", "completed"];

/** The URL Twilio posts a voice channel's call status callbacks to. */
export const twilioVoiceCallbackUrl = (base: string, channelId: string) =>
  `${base.replace(/\/+$/, "")}/api/v1/events/twilio-voice/${encodeURIComponent(channelId)}`;

/** Where a twilio-voice call's TwiML redirects once its audio played to the end (its played marker). */
export const twilioVoicePlayedUrl = (base: string, channelId: string, outboundId: string) =>
  `${twilioVoiceCallbackUrl(base, channelId)}/played?outbound=${encodeURIComponent(outboundId)}`;

/**
 * Twilio Programmable Voice through the `twilio` SDK: an outbound call (`calls.create`) whose TwiML plays each
 * of the outbound's `voice_speech_url` in order, then `<Redirect>`s to its played marker (reached only when every
 * `<Play>` finished), which hangs up; its call status callbacks and that marker decide it (see webhooks.ts).
 * Errors of the create request are taken as the SMS channel's are. The call's SID is the provider id.
 */
export class TwilioVoiceChannel extends CallChannel<TwilioVoiceChannelConfig> implements Channel {
  private readonly client: twilio.Twilio;

  constructor(channelId: string, config: TwilioVoiceChannelConfig, transport: TwilioTransport = {}) {
    super(channelId, config);
    this.client = twilioClient(config, this.timeoutMs, transport);
  }

  async send(outbound: OutboundToSend, address: string): Promise<SendResult> {
    const response = new twilio.twiml.VoiceResponse();
    for (const url of speechUrls(outbound.metadata)) {
      response.play(url);
    }
    const { config } = this;
    if (config.status_callback) {
      response.redirect(
        { method: "POST" },
        twilioVoicePlayedUrl(config.status_callback, this.channelId, outbound.id),
      );
    }
    try {
      const call = await this.client.calls.create({
        to: address,
        from: config.from,
        twiml: response.toString(),
        ...(config.ring_seconds ? { timeout: config.ring_seconds } : {}),
        ...(config.status_callback
          ? {
              statusCallback: twilioVoiceCallbackUrl(config.status_callback, this.channelId),
              statusCallbackMethod: "POST",
              statusCallbackEvent: EVENTS,
            }
          : {}),
      });
      return { providerId: call.sid, delivered: false };
    } catch (err) {
      throw twilioSendError(err, this.timeoutMs);
    }
  }

  /**
   * The calls from this channel's number to the address created at or after `since` (one page of the latest: a
   * takeover follows its outbound's creation within minutes), newest first. A call's TwiML can't be read back,
   * so every such call matches; the takeover skips those another outbound (or an earlier attempt) recorded.
   */
  async acceptedSince(_outbound: OutboundToSend, address: string, since: Date): Promise<string[]> {
    const calls = await this.client.calls.list({
      to: address,
      from: this.config.from,
      limit: ACCEPTED_LOOKUP_PAGE,
      pageSize: ACCEPTED_LOOKUP_PAGE,
    });
    return calls.filter((c) => c.dateCreated >= since).map((c) => c.sid);
  }

  async status(providerId: string): Promise<ProviderStatus | null> {
    const call = await this.client.calls(providerId).fetch();
    return twilioCallEnd(call.status) ?? null;
  }
}
