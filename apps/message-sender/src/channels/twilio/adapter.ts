import twilio from "twilio";
import type { MessageListInstanceCreateOptions } from "twilio/lib/rest/api/v2010/account/message.js";
import {
  acceptedWithoutId,
  type Channel,
  DEFAULT_SEND_TIMEOUT_MS,
  type OutboundToSend,
  PermanentSendError,
  type ProviderStatus,
  RecipientOptedOutError,
  type SendResult,
  ThrottledError,
  unanswered,
} from "../../outbound/channel.ts";
import { twilioFailure } from "./failures.ts";
import { TwilioHttpClient, type TwilioTransport } from "./http-client.ts";
import type { TwilioChannelConfig } from "./wire.ts";

/** How long a channel pauses when Twilio throttles it (429 / 20429). */
export const TWILIO_THROTTLE_PAUSE_MS = 2_000;

/**
 * Twilio error 21610, "Attempt to send to unsubscribed recipient": the recipient replied STOP to this sender (or
 * messaging service) and Twilio blocks messages to them until they reply START
 * (https://www.twilio.com/docs/api/errors/21610).
 */
const UNSUBSCRIBED_RECIPIENT = 21610;

/** How many of an address's latest messages a takeover looks through for its own. */
const ACCEPTED_LOOKUP_PAGE = 50;

interface TwilioError {
  status?: number;
  code?: number | string;
  message?: string;
}

/**
 * The twilio SDK's client for an account, its requests sent to `api_url` when set (through `transport`'s proxy,
 * trusting its CAs), giving up after `timeout`.
 */
export function twilioClient(
  config: { account_sid: string; auth_token: string; api_url?: string },
  timeout: number,
  transport: TwilioTransport = {},
): twilio.Twilio {
  const origin = config.api_url ? new URL(config.api_url).origin : undefined;
  return twilio(config.account_sid, config.auth_token, {
    httpClient: new TwilioHttpClient({ timeout, origin, ...transport }),
  });
}

/**
 * A create request's error as the sender takes it: 429 / 20429 ThrottledError, 21610 RecipientOptedOutError, any
 * other 4xx but 401 and 403 PermanentSendError, a timeout or broken connection NoAnswerError, else unchanged.
 */
export function twilioSendError(err: unknown, timeoutMs: number): unknown {
  const { status, code, message = "no message" } = err as TwilioError;
  const reason = `twilio ${code ?? status}: ${message}`;
  if (status === 429 || Number(code) === 20429) {
    return new ThrottledError(reason, TWILIO_THROTTLE_PAUSE_MS);
  }
  if (Number(code) === UNSUBSCRIBED_RECIPIENT) {
    return new RecipientOptedOutError(reason, code);
  }
  if (typeof status === "number" && status >= 400 && status < 500 && status !== 401 && status !== 403) {
    return new PermanentSendError(reason, code);
  }
  return unanswered(err, "twilio", timeoutMs);
}

/** The URL Twilio posts a channel's status callbacks to. */
export const twilioCallbackUrl = (base: string, channelId: string) =>
  `${base.replace(/\/+$/, "")}/api/v1/events/twilio/${encodeURIComponent(channelId)}`;

/**
 * Twilio Programmable Messaging through the `twilio` SDK. A 4xx answer (other than 429) is a definite
 * rejection: PermanentSendError with Twilio's code and message, RecipientOptedOutError for 21610. 429 / 20429 is ThrottledError. A timeout or a
 * connection broken after the request went out is NoAnswerError (Twilio may still accept the message); 5xx and
 * other errors are thrown as they are. All but the rejection are retried.
 */
export class TwilioChannel implements Channel {
  protected readonly client: twilio.Twilio;
  readonly timeoutMs: number;

  constructor(
    private readonly channelId: string,
    protected readonly config: TwilioChannelConfig,
    transport: TwilioTransport = {},
  ) {
    const timeout = config.timeout_ms ?? DEFAULT_SEND_TIMEOUT_MS;
    this.timeoutMs = timeout;
    this.client = twilioClient(config, timeout, transport);
  }

  async status(providerId: string): Promise<ProviderStatus | null> {
    const message = await this.client.messages(providerId).fetch();
    if (message.status === "delivered" || message.status === "read") {
      return { delivered: true, reason: null };
    }
    if (["failed", "undelivered", "canceled"].includes(message.status)) {
      return { delivered: false, ...twilioFailure(message.status, message.errorCode) };
    }
    return null;
  }

  /**
   * Lists the latest messages to the address (one page: a takeover follows its outbound's creation within
   * minutes) and keeps those with the same body, sender and creation at or after `since`.
   */
  async acceptedSince(outbound: OutboundToSend, address: string, since: Date): Promise<string[]> {
    const { config } = this;
    const messages = await this.client.messages.list({
      to: address,
      ...(config.messaging_service_sid ? {} : { from: config.from as string }),
      limit: ACCEPTED_LOOKUP_PAGE,
      pageSize: ACCEPTED_LOOKUP_PAGE,
    });
    return messages
      .filter(
        (m) =>
          m.body === (outbound.content ?? "") &&
          m.dateCreated >= since &&
          (!config.messaging_service_sid || m.messagingServiceSid === config.messaging_service_sid),
      )
      .map((m) => m.sid);
  }

  /** What the message is made of: its body (and media), to `address`. WhatsApp sends override it. */
  protected async content(
    outbound: OutboundToSend,
    address: string,
  ): Promise<MessageListInstanceCreateOptions> {
    return {
      to: address,
      body: outbound.content ?? "",
      // Seed's image key (stage-based messages with a file): sent as MMS media.
      ...(typeof outbound.metadata.image_url === "string" ? { mediaUrl: [outbound.metadata.image_url] } : {}),
    };
  }

  async send(outbound: OutboundToSend, address: string): Promise<SendResult> {
    const { config } = this;
    try {
      const message = await this.client.messages.create({
        ...(await this.content(outbound, address)),
        ...(config.messaging_service_sid
          ? { messagingServiceSid: config.messaging_service_sid }
          : { from: config.from as string }),
        ...(config.status_callback
          ? { statusCallback: twilioCallbackUrl(config.status_callback, this.channelId) }
          : {}),
      });
      // Accepted (2xx) without a sid: sent, so recorded as such, never sent again.
      return message.sid ? { providerId: message.sid, delivered: false } : acceptedWithoutId("twilio");
    } catch (err) {
      throw twilioSendError(err, this.timeoutMs);
    }
  }
}
