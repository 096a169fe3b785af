import type { ResolvedChannel } from "../channels/channel-cache.ts";
import type { SendResult } from "../outbound/channel.ts";
import type { Claimed } from "./claim-window.ts";
import type { Sender } from "./sender.ts";

/** How far the provider's clock may be behind ours when matching its messages to an outbound's creation. */
const PROVIDER_CLOCK_SKEW_MS = 5 * 60_000;

/**
 * An earlier claim on this outbound (a worker that died or stalled after sending, or a send that failed in a way
 * that may have reached the provider) may have been accepted. Asks the channel, and its fallback, for a message
 * to this address with this content since the outbound was created whose provider id no other outbound has,
 * nor an earlier attempt of this one:
 * that message is the earlier send. Undefined when none is found or the channels can't be asked. A failed
 * lookup throws: the outbound is retried rather than sent blind.
 */
export async function findEarlierSend(
  sender: Sender,
  id: string,
  outbound: Claimed,
  channel: ResolvedChannel,
  address: string,
): Promise<(SendResult & { channel: string }) | undefined> {
  const fallback = channel.fallback ? await sender.channels.resolve(channel.fallback) : undefined;
  const since = new Date(outbound.created_at.getTime() - PROVIDER_CLOCK_SKEW_MS);
  const toSend = { id, content: outbound.content, metadata: outbound.metadata };
  for (const candidate of [channel, fallback]) {
    if (!candidate?.channel.acceptedSince) {
      continue;
    }
    const providerIds = await candidate.channel.acceptedSince(toSend, address, since);
    if (providerIds.length === 0) {
      continue;
    }
    // Taken by another outbound, or an earlier attempt of this one (a retried failure, a resend).
    const taken = await sender.db.$queryRaw<{ providerId: string }[]>`
      SELECT provider_id AS "providerId" FROM outbound WHERE channel = ${candidate.id} AND provider_id = ANY(${providerIds})
      UNION ALL
      SELECT provider_id FROM outbound_past_attempt WHERE channel = ${candidate.id} AND provider_id = ANY(${providerIds})`;
    const providerId = providerIds.find((pid) => !taken.some((t) => t.providerId === pid));
    if (providerId) {
      return { providerId, delivered: false, channel: candidate.id };
    }
  }
  return undefined;
}
