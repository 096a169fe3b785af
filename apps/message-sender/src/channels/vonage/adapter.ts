import { Vonage } from "@vonage/server-sdk";
import {
  acceptedWithoutId,
  type Channel,
  DEFAULT_SEND_TIMEOUT_MS,
  type OutboundToSend,
  PermanentSendError,
  RecipientOptedOutError,
  type SendResult,
  ThrottledError,
  unanswered,
} from "../../outbound/channel.ts";
import type { VonageChannelConfig } from "./wire.ts";

/** How long a channel pauses when Vonage throttles it (status 1). */
export const VONAGE_THROTTLE_PAUSE_MS = 2_000;

/** Vonage SMS statuses that are not a rejection of the message: throttling, an internal error, our credentials. */
const THROTTLED = "1";
const TRANSIENT = new Set(["4", "5", "8", "9"]);
/**
 * SMS API status 7, "Number Barred: the number you are trying to send messages to is on the list of barred
 * numbers" (https://developer.vonage.com/en/messaging/sms/guides/troubleshooting-sms#sms-api-error-codes): Vonage
 * bars a recipient who opted out (replied STOP) from the sender. Not 6 ("Invalid Message") nor the delivery
 * receipt's err-code 9 ("Illegal Number"), which say nothing about consent.
 */
const BARRED = "7";

/** The URL Vonage posts a channel's delivery receipts to. */
export const vonageCallbackUrl = (base: string, channelId: string) =>
  `${base.replace(/\/+$/, "")}/api/v1/events/vonage/${encodeURIComponent(channelId)}`;

interface AnsweredPart {
  status?: string;
  messageId?: string;
  errorText?: string;
}

interface SmsFailure {
  response?: { messages?: AnsweredPart[] };
}

const refusal = (part: AnsweredPart) => `vonage ${part.status}: ${part.errorText ?? "rejected"}`;

/**
 * A message Vonage accepted, as parts (one for a short text), each with its own message id and receipt; a part
 * refused while others were accepted gets an id made up from the first accepted one's. Accepted (status 0)
 * without a message id: sent, so recorded as such, never sent again.
 */
function accepted(answered: AnsweredPart[]): SendResult {
  const providerId = answered.find((part) => part.status === "0" && part.messageId)?.messageId;
  if (!providerId) {
    return acceptedWithoutId("vonage");
  }
  const parts = answered.map((part, i) =>
    part.status === "0" && part.messageId
      ? { providerId: part.messageId }
      : { providerId: `${providerId}.${i + 1}`, refused: refusal(part) },
  );
  return { providerId, delivered: false, parts };
}

/**
 * Vonage SMS API through `@vonage/server-sdk` (`restHost` points it at a simulator). The outbound id goes as
 * `client-ref`. Status 1 (throttled) is ThrottledError; 4, 5, 8 and 9 (credentials, internal error, account)
 * are retried; 7 (barred: opted out) is RecipientOptedOutError; other non-zero statuses are definite rejections. A
 * message accepted without a message id is recorded with none. A timeout or a broken connection is NoAnswerError.
 * A long message is split into parts: every part's message id is recorded (the first is the outbound's provider id)
 * and the outbound is delivered once every part's receipt says so (channels/parts.ts). An answer that accepted some
 * parts and refused others is a send (it is never sent again nor failed over) that fails by the refused part.
 */
export class VonageChannel implements Channel {
  private readonly vonage: Vonage;
  readonly timeoutMs: number;

  constructor(
    private readonly channelId: string,
    private readonly config: VonageChannelConfig,
    private readonly callbackBase?: string,
  ) {
    this.timeoutMs = config.timeout_ms ?? DEFAULT_SEND_TIMEOUT_MS;
    this.vonage = new Vonage(
      { apiKey: config.api_key, apiSecret: config.api_secret },
      {
        ...(config.rest_url ? { restHost: config.rest_url.replace(/\/+$/, "") } : {}),
        timeout: this.timeoutMs,
      },
    );
  }

  async send(outbound: OutboundToSend, address: string): Promise<SendResult> {
    try {
      const result = await this.vonage.sms.send({
        to: address.replace(/^\+/, ""),
        from: this.config.from,
        text: outbound.content ?? "",
        clientRef: outbound.id,
        ...(this.callbackBase ? { callback: vonageCallbackUrl(this.callbackBase, this.channelId) } : {}),
      });
      return accepted(result.messages);
    } catch (err) {
      const answered = (err as SmsFailure).response?.messages ?? [];
      const failed = answered.find((part) => part.status !== "0");
      if (!failed?.status) {
        throw unanswered(err, "vonage", this.timeoutMs);
      }
      if (answered.some((part) => part.status === "0" && part.messageId)) {
        // Some parts went: sent (never again, nor failed over), and failed by the part that was refused.
        return accepted(answered);
      }
      const reason = refusal(failed);
      if (failed.status === THROTTLED) {
        throw new ThrottledError(reason, VONAGE_THROTTLE_PAUSE_MS);
      }
      if (TRANSIENT.has(failed.status)) {
        throw new Error(reason);
      }
      if (failed.status === BARRED) {
        throw new RecipientOptedOutError(reason, failed.status);
      }
      throw new PermanentSendError(reason, failed.status);
    }
  }
}
