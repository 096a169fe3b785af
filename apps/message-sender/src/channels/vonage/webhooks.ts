import { senderError } from "../../errors.ts";
import { type PartOutcome, receivePartReport } from "../parts.ts";
import {
  signedParams,
  storeWebhookInbound,
  type WebhookDeps,
  type WebhookLog,
  webhookChannelConfig,
} from "../webhooks.ts";
import { vonageFailureKind } from "./failures.ts";
import { checkVonageSignature } from "./signature.ts";
import type { VonageChannelConfig, VonageInboundWebhook } from "./wire.ts";

/** Vonage delivery receipt statuses that are final. Others (accepted, buffered, unknown) change nothing. */
const VONAGE_FINAL: Record<string, boolean> = {
  delivered: true,
  failed: false,
  rejected: false,
  expired: false,
};

/**
 * Checks a Vonage webhook's `sig` with the vonage channel's signature_secret and signature_method (md5hash by
 * default), in constant time, and its signed `timestamp` against VONAGE_SIGNATURE_MAX_SKEW_MS: 404 for no such
 * channel, 403 when it does not verify, is stale, or the channel has no signature_secret.
 */
async function verifyVonage(
  { channels, vonageMaxSkewMs }: WebhookDeps,
  channelId: string,
  params: Record<string, string>,
  log: WebhookLog,
): Promise<void> {
  const config = await webhookChannelConfig<VonageChannelConfig>(channels, channelId, "vonage");
  const check = config.signature_secret
    ? checkVonageSignature(
        params,
        config.signature_secret,
        config.signature_method ?? "md5hash",
        vonageMaxSkewMs,
      )
    : "invalid";
  if (check === "stale") {
    log.warn({ channel: channelId }, "vonage webhook signed too long ago (or ahead); refused");
    throw senderError("MESSAGE_SENDER_INVALID_SIGNATURE", "The webhook's signed timestamp is too old");
  }
  if (check !== "valid") {
    log.warn({ channel: channelId }, "vonage webhook with a missing or wrong signature; refused");
    throw senderError("MESSAGE_SENDER_INVALID_SIGNATURE", "The webhook's sig does not verify");
  }
}

/**
 * A Vonage SMS delivery receipt (form-encoded or JSON) for a channel: verified by its `sig` parameter and signed
 * timestamp (a channel without a signature_secret refuses every receipt, 403), then applied to its part (a message
 * of one part is decided by it; see channels/parts.ts).
 */
export async function receiveVonageReceipt(
  deps: WebhookDeps,
  channelId: string,
  body: unknown,
  log: WebhookLog,
): Promise<PartOutcome | "ignored"> {
  const params = signedParams(body);
  await verifyVonage(deps, channelId, params, log);
  const { messageId, status } = params;
  const delivered = VONAGE_FINAL[status as string];
  if (delivered === undefined || !messageId) {
    return "ignored";
  }
  const errCode = params["err-code"];
  const reason = delivered
    ? null
    : `vonage ${status}${errCode && errCode !== "0" ? ` (error ${errCode})` : ""}`;
  const failure = delivered
    ? undefined
    : { kind: vonageFailureKind(status, errCode), defaults: deps.redelivery };
  // Each part of a long message has its own receipt: the outbound is final once its parts decide it.
  const outcome = await receivePartReport(deps.db, channelId, messageId, delivered, reason, failure);
  log.info({ channel: channelId, providerId: messageId, status, outcome }, "vonage delivery receipt");
  return outcome;
}

/** Vonage's inbound SMS webhook for a channel: verified like a receipt, then stored (once per messageId). */
export async function receiveVonageInbound(
  deps: WebhookDeps,
  channelId: string,
  body: unknown,
  log: WebhookLog,
  correlationId: string,
): Promise<void> {
  const params = signedParams(body) as VonageInboundWebhook & Record<string, string>;
  await verifyVonage(deps, channelId, params, log);
  await storeWebhookInbound(
    deps,
    "vonage",
    {
      channel: channelId,
      messageId: params.messageId,
      // Vonage gives numbers without the leading +.
      fromAddr: `+${params.msisdn.replace(/^\+/, "")}`,
      toAddr: params.to,
      content: params.text ?? null,
    },
    log,
    correlationId,
  );
}
