import type {
  TwilioChannelConfig,
  TwilioStatusCallback,
  VonageChannelConfig,
  VumiEvent,
} from "@tidings/contracts";
import { ApiError, badRequest, notFound } from "@tidings/service-kit";
import type { ChannelCache } from "../channels/channel-cache.ts";
import { checkVonageSignature } from "../channels/vonage/signature.ts";
import type { Db } from "../db.ts";
import { type ReportOutcome, reportFinal } from "../outbound/status.ts";

/** Twilio message statuses that are final, and what they mean here. Others (queued, sent, ...) change nothing. */
const TWILIO_FINAL: Record<string, boolean> = {
  delivered: true,
  read: true,
  failed: false,
  undelivered: false,
  canceled: false,
};

type EventLog = { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };

export interface SignedRequest {
  /** The URL Twilio posted to, as it saw it (the externally visible one). */
  url: string;
  signature: string | undefined;
  params: Record<string, string>;
}

/**
 * A provider callback's channel configuration (404 unless it is a channel of `type`), to check the callback's
 * signature with. These routes are public, so the channel comes from the cache as it stands
 * (`ChannelCache.cached`): no callback, forged or not, reads the database before its signature verified. A secret
 * just changed by another process is used once that change reaches the cache (within CHANNEL_CACHE_TTL_MS).
 */
async function callbackChannel<T>(
  channels: ChannelCache,
  channelId: string,
  type: "twilio" | "vonage",
): Promise<T> {
  const channel = await channels.cached(channelId);
  if (channel?.type !== type) {
    throw notFound("MESSAGE_SENDER_CHANNEL_NOT_FOUND", `No ${type} channel ${channelId}`);
  }
  return channel.configuration as T;
}

/** Checks X-Twilio-Signature with the twilio channel's auth token: 404 for no such channel, 403 if wrong. */
export async function verifyTwilio(
  channels: ChannelCache,
  channelId: string,
  request: SignedRequest,
  log: EventLog,
): Promise<void> {
  const { signature } = request;
  const { auth_token: authToken } = await callbackChannel<TwilioChannelConfig>(channels, channelId, "twilio");
  // The provider SDKs are loaded when first needed: most processes never use one of them (tens of MB each).
  const verified =
    signature !== undefined &&
    (await import("twilio")).default.validateRequest(authToken, signature, request.url, request.params);
  if (!verified) {
    log.warn({ channel: channelId }, "twilio webhook with a missing or wrong signature; refused");
    throw new ApiError(403, "MESSAGE_SENDER_INVALID_SIGNATURE", "X-Twilio-Signature does not verify");
  }
}

/**
 * A Twilio status callback for a channel: verified by X-Twilio-Signature with the channel's auth token (a
 * callback that does not verify -> 403, nothing changes), then applied as a final report when the status is
 * final. Replays and reports for outbounds already final change nothing.
 */
export async function handleTwilioStatus(
  db: Db,
  channels: ChannelCache,
  channelId: string,
  request: SignedRequest & { params: TwilioStatusCallback & Record<string, string> },
  log: EventLog,
): Promise<ReportOutcome | "ignored"> {
  await verifyTwilio(channels, channelId, request, log);
  const { MessageSid: sid, MessageStatus: status, ErrorCode: errorCode } = request.params;
  const delivered = TWILIO_FINAL[status];
  if (delivered === undefined) {
    return "ignored";
  }
  const reason = delivered ? null : `twilio ${status}${errorCode ? ` (error ${errorCode})` : ""}`;
  const outcome = await reportFinal(db, channelId, sid, delivered, reason);
  log.info({ channel: channelId, providerId: sid, status, outcome }, "twilio status callback");
  return outcome;
}

/** Vonage delivery receipt statuses that are final. Others (accepted, buffered, unknown) change nothing. */
const VONAGE_FINAL: Record<string, boolean> = {
  delivered: true,
  failed: false,
  rejected: false,
  expired: false,
};

/**
 * Checks a Vonage webhook's `sig` with the vonage channel's signature_secret and signature_method (md5hash by
 * default), in constant time, and its signed `timestamp` against `maxSkewMs` (VONAGE_SIGNATURE_MAX_SKEW_MS): 404
 * for no such channel, 403 when it does not verify, is stale, or the channel has no signature_secret.
 */
export async function verifyVonage(
  channels: ChannelCache,
  channelId: string,
  params: Record<string, string>,
  log: EventLog,
  maxSkewMs: number,
): Promise<void> {
  const config = await callbackChannel<VonageChannelConfig>(channels, channelId, "vonage");
  const check = config.signature_secret
    ? checkVonageSignature(params, config.signature_secret, config.signature_method ?? "md5hash", maxSkewMs)
    : "invalid";
  if (check === "stale") {
    log.warn({ channel: channelId }, "vonage webhook signed too long ago (or ahead); refused");
    throw new ApiError(403, "MESSAGE_SENDER_INVALID_SIGNATURE", "The webhook's signed timestamp is too old");
  }
  if (check !== "valid") {
    log.warn({ channel: channelId }, "vonage webhook with a missing or wrong signature; refused");
    throw new ApiError(403, "MESSAGE_SENDER_INVALID_SIGNATURE", "The webhook's sig does not verify");
  }
}

/**
 * A Vonage SMS delivery receipt for a channel: verified by its `sig` parameter and signed timestamp
 * (verifyVonage; a channel without a signature_secret refuses every receipt, 403), then applied like a Twilio
 * report.
 */
export async function handleVonageReceipt(
  db: Db,
  channels: ChannelCache,
  channelId: string,
  params: Record<string, string>,
  log: EventLog,
  maxSkewMs: number,
): Promise<ReportOutcome | "ignored"> {
  await verifyVonage(channels, channelId, params, log, maxSkewMs);
  const { messageId, status } = params;
  const delivered = VONAGE_FINAL[status as string];
  if (delivered === undefined || !messageId) {
    return "ignored";
  }
  const errCode = params["err-code"];
  const reason = delivered
    ? null
    : `vonage ${status}${errCode && errCode !== "0" ? ` (error ${errCode})` : ""}`;
  const outcome = await reportFinal(db, channelId, messageId, delivered, reason);
  log.info({ channel: channelId, providerId: messageId, status, outcome }, "vonage delivery receipt");
  return outcome;
}

/**
 * Seed's generic event (Vumi format) about the outbound whose provider id is `user_message_id`:
 * `delivery_report` -> delivered (failed when `delivery_status` is failed; pending changes nothing), `nack` ->
 * failed with `nack_reason`, `ack` changes nothing (the send already recorded `submitted`). An id no outbound
 * has is 400 "Cannot find message for ID ...", as in Seed.
 */
export async function handleVumiEvent(
  db: Db,
  event: VumiEvent,
  log: EventLog,
): Promise<ReportOutcome | "ignored"> {
  const outbound = await db.outbound.findFirst({ where: { providerId: event.user_message_id } });
  if (!outbound) {
    throw badRequest("MESSAGE_SENDER_UNKNOWN_MESSAGE", `Cannot find message for ID ${event.user_message_id}`);
  }
  let delivered: boolean;
  let reason: string | null = null;
  if (event.event_type === "ack" || event.delivery_status === "pending") {
    return "ignored";
  }
  if (event.event_type === "nack") {
    delivered = false;
    reason = `nack: ${event.nack_reason ?? "no reason given"}`;
  } else {
    delivered = event.delivery_status !== "failed";
    reason = delivered ? null : "delivery failed";
  }
  const outcome = await reportFinal(db, outbound.channel, event.user_message_id, delivered, reason);
  log.info({ outboundId: outbound.id, event: event.event_type, outcome }, "vumi event");
  return outcome;
}
