import { senderError } from "../../errors.ts";
import { type ReportOutcome, reportFinal } from "../../outbound/status.ts";
import type { ChannelCache } from "../channel-cache.ts";
import {
  type SignedRequest,
  storeWebhookInbound,
  type WebhookChannelType,
  type WebhookDeps,
  type WebhookLog,
  webhookChannelConfig,
} from "../webhooks.ts";
import { twilioFailure } from "./failures.ts";
import type { TwilioChannelConfig, TwilioInboundWebhook, TwilioStatusCallback } from "./wire.ts";

/** What Twilio's incoming-message webhook is answered with: TwiML that sends no reply. */
export const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>';

/** Twilio message statuses that are final, and what they mean here. Others (queued, sent, ...) change nothing. */
const TWILIO_FINAL: Record<string, boolean> = {
  delivered: true,
  read: true,
  failed: false,
  undelivered: false,
  canceled: false,
};

/** Checks X-Twilio-Signature with the channel's auth token: 404 for no such channel of `type`, 403 if wrong. */
export async function verifyTwilio(
  channels: ChannelCache,
  channelId: string,
  request: SignedRequest,
  log: WebhookLog,
  type: WebhookChannelType = "twilio",
): Promise<void> {
  const { signature } = request;
  const { auth_token: authToken } = await webhookChannelConfig<Pick<TwilioChannelConfig, "auth_token">>(
    channels,
    channelId,
    type,
  );
  // The provider SDKs are loaded when first needed: most processes never use one of them (tens of MB each).
  const verified =
    signature !== undefined &&
    (await import("twilio")).default.validateRequest(authToken, signature, request.url, request.params);
  if (!verified) {
    log.warn({ channel: channelId }, "twilio webhook with a missing or wrong signature; refused");
    throw senderError("MESSAGE_SENDER_INVALID_SIGNATURE", "X-Twilio-Signature does not verify");
  }
}

/**
 * A Twilio status callback for a channel: verified by X-Twilio-Signature with the channel's auth token (a
 * callback that does not verify -> 403, nothing changes), then applied as a final report when the status is
 * final. Replays and reports for outbounds already final change nothing.
 */
export async function receiveTwilioStatus(
  { db, channels, redelivery }: WebhookDeps,
  channelId: string,
  request: SignedRequest,
  log: WebhookLog,
): Promise<ReportOutcome | "ignored"> {
  await verifyTwilio(channels, channelId, request, log);
  const params = request.params as TwilioStatusCallback & Record<string, string>;
  const { MessageSid: sid, MessageStatus: status, ErrorCode: errorCode } = params;
  const delivered = TWILIO_FINAL[status];
  if (delivered === undefined) {
    return "ignored";
  }
  const failure = twilioFailure(status, errorCode);
  const outcome = await reportFinal(
    db,
    channelId,
    sid,
    delivered,
    delivered ? null : failure.reason,
    delivered ? undefined : { kind: failure.kind, defaults: redelivery },
  );
  log.info({ channel: channelId, providerId: sid, status, errorCode, outcome }, "twilio status callback");
  return outcome;
}

/**
 * Twilio's incoming-message webhook for a channel: verified like a status callback, then stored (once per
 * MessageSid) as an inbound message.
 */
export async function receiveTwilioInbound(
  deps: WebhookDeps,
  channelId: string,
  request: SignedRequest,
  log: WebhookLog,
  correlationId: string,
): Promise<void> {
  await verifyTwilio(deps.channels, channelId, request, log);
  const params = request.params as TwilioInboundWebhook & Record<string, string>;
  await storeWebhookInbound(
    deps,
    "twilio",
    {
      channel: channelId,
      messageId: params.MessageSid,
      // Twilio says which message a (WhatsApp) reply answers; SMS replies carry no reference.
      inReplyTo: params.OriginalRepliedMessageSid ?? null,
      fromAddr: params.From,
      toAddr: params.To,
      content: params.Body ?? null,
    },
    log,
    correlationId,
  );
}
