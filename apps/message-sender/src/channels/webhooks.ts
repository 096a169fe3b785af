import type { RedeliveryPolicy } from "@tidings/contracts";
import type { Db } from "../db.ts";
import { senderError } from "../errors.ts";
import { type InboundDeps, type ReceivedMessage, receiveInbound } from "../inbound/inbound.ts";
import type { Logger } from "../outbound/channel.ts";
import type { ChannelCache } from "./channel-cache.ts";

/** What a provider's webhooks (status callbacks, inbound messages) need. */
export interface WebhookDeps extends InboundDeps {
  db: Db;
  channels: ChannelCache;
  /** How far a Vonage webhook's signed timestamp may be from now (VONAGE_SIGNATURE_MAX_SKEW_MS). */
  vonageMaxSkewMs: number;
  /** The redelivery policy of channels that set none (REDELIVERY_*, NO_REPORT_TIMEOUT_SECONDS). */
  redelivery: RedeliveryPolicy;
}

export type WebhookLog = Pick<Logger, "info" | "warn">;

/** A webhook as its signature is checked: where the provider posted it, its signature and its parameters. */
export interface SignedRequest {
  /** The URL the provider posted to, as it saw it (the externally visible one). */
  url: string;
  signature: string | undefined;
  params: Record<string, string>;
}

/** A webhook's parameters as the strings that were signed (a JSON body may carry numbers). */
export const signedParams = (body: unknown): Record<string, string> =>
  Object.fromEntries(Object.entries(body as Record<string, unknown>).map(([k, v]) => [k, String(v)]));

/** The channel types whose provider posts webhooks. */
export type WebhookChannelType =
  | "twilio"
  | "twilio-whatsapp"
  | "vonage"
  | "twilio-voice"
  | "vonage-voice"
  | "vonage-whatsapp";

/**
 * A provider webhook's channel configuration (404 unless it is a channel of `type`), to check the webhook's
 * signature with. Webhooks are public, so the channel comes from the cache as it stands (`ChannelCache.cached`):
 * no webhook, forged or not, reads the database before its signature verified. A secret just changed by another
 * process is used once that change reaches the cache (within CHANNEL_CACHE_TTL_MS).
 */
export async function webhookChannelConfig<T>(
  channels: ChannelCache,
  channelId: string,
  type: WebhookChannelType,
): Promise<T> {
  return (await webhookChannel(channels, channelId, [type])).configuration as T;
}

/** The webhook's channel (404 unless it is one of `types`): see webhookChannelConfig. */
export async function webhookChannel(channels: ChannelCache, channelId: string, types: readonly string[]) {
  const channel = await channels.cached(channelId);
  if (!channel || !types.includes(channel.type)) {
    throw senderError("MESSAGE_SENDER_CHANNEL_NOT_FOUND", `No ${types.join(" or ")} channel ${channelId}`);
  }
  return channel;
}

/** An inbound message a provider's webhook brought (its signature verified): stored once per provider message id. */
export async function storeWebhookInbound(
  deps: WebhookDeps,
  provider: "twilio" | "vonage",
  message: ReceivedMessage & { channel: string },
  log: WebhookLog,
  correlationId: string,
): Promise<void> {
  const { created } = await receiveInbound(deps, message, log, { userId: null, correlationId });
  log.info({ channel: message.channel, created }, `${provider} inbound message`);
}
