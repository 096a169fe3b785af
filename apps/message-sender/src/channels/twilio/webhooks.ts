import { timingSafeEqual } from "node:crypto";
import { senderError } from "../../errors.ts";
import { type ReportOutcome, reportFinal } from "../../outbound/status.ts";
import type { ChannelCache } from "../channel-cache.ts";
import { TWILIO_TYPES, whatsappFallback, whatsappInbound } from "../twilio-whatsapp/webhooks.ts";
import {
  type SignedRequest,
  storeWebhookInbound,
  type WebhookChannelType,
  type WebhookDeps,
  type WebhookLog,
  webhookChannel,
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

/** The twilio SDK, loaded when a webhook first needs it: most processes never use a provider's SDK (tens of MB each). */
const loadTwilio = async () => (await import("twilio")).default;
let twilioSdk: ReturnType<typeof loadTwilio> | undefined;

/**
 * Whether `signature` is Twilio's for the URL and parameters, as the SDK's `validateRequest` decides. That tries each
 * form of the URL Twilio may have signed (without the port, with it, normalised), an HMAC each, and the URL as it was
 * received, which is what Twilio signed unless a proxy changed it, comes first only when it has no port; so it is
 * checked here first, one HMAC for a callback to a URL with a port (two of every pipeline message's three requests
 * to the API in `pnpm bench pipeline`: 3.6% of its busy samples in HMACs), and the SDK decides the rest.
 */
async function twilioSigned(
  authToken: string,
  signature: string,
  url: string,
  params: Record<string, string>,
): Promise<boolean> {
  twilioSdk ??= loadTwilio();
  const twilio = await twilioSdk;
  const given = Buffer.from(signature);
  const expected = Buffer.from(twilio.getExpectedTwilioSignature(authToken, url, params));
  return (
    (given.length === expected.length && timingSafeEqual(given, expected)) ||
    twilio.validateRequest(authToken, signature, url, params)
  );
}

/**
 * Checks X-Twilio-Signature with the auth token of the channel, one of `types` (twilio or twilio-whatsapp by
 * default): 404 for no such channel, 403 if wrong. Returns the channel's type.
 */
export async function verifyTwilio(
  channels: ChannelCache,
  channelId: string,
  request: SignedRequest,
  log: WebhookLog,
  types: readonly WebhookChannelType[] = TWILIO_TYPES,
): Promise<string> {
  const { signature } = request;
  const channel = await webhookChannel(channels, channelId, types);
  const { auth_token: authToken } = channel.configuration as Pick<TwilioChannelConfig, "auth_token">;
  if (signature === undefined || !(await twilioSigned(authToken, signature, request.url, request.params))) {
    log.warn({ channel: channelId }, "twilio webhook with a missing or wrong signature; refused");
    throw senderError("MESSAGE_SENDER_INVALID_SIGNATURE", "X-Twilio-Signature does not verify");
  }
  return channel.type;
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
  const type = await verifyTwilio(channels, channelId, request, log);
  const params = request.params as TwilioStatusCallback & Record<string, string>;
  const { MessageSid: sid, MessageStatus: status, ErrorCode: errorCode } = params;
  const delivered = TWILIO_FINAL[status];
  if (delivered === undefined) {
    return "ignored";
  }
  const failure = twilioFailure(status, errorCode);
  const fellBack =
    !delivered && (await whatsappFallback({ db, channels }, type, channelId, sid, failure.reason, errorCode));
  const outcome =
    fellBack ||
    (await reportFinal(
      db,
      channelId,
      sid,
      delivered,
      delivered ? null : failure.reason,
      delivered ? undefined : { kind: failure.kind, defaults: redelivery },
    ));
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
  const type = await verifyTwilio(deps.channels, channelId, request, log);
  const params = request.params as TwilioInboundWebhook & Record<string, string>;
  const { fromAddr, toAddr } = await whatsappInbound(deps.db, type, channelId, params.From, params.To);
  await storeWebhookInbound(
    deps,
    "twilio",
    {
      channel: channelId,
      messageId: params.MessageSid,
      // Twilio says which message a (WhatsApp) reply answers; SMS replies carry no reference.
      inReplyTo: params.OriginalRepliedMessageSid ?? null,
      fromAddr,
      toAddr,
      content: params.Body ?? null,
    },
    log,
    correlationId,
  );
}
