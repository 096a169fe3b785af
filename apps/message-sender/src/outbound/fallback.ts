import type { ChannelCache } from "../channels/channel-cache.ts";
import { WHATSAPP_CHANNEL_TYPES } from "../channels/whatsapp-template.ts";
import type { Db } from "../db.ts";
import { anotherAttempt } from "./attempts.ts";
import type { ReportOutcome } from "./status.ts";

// Falling back from a WhatsApp channel to its SMS fallback (the channel's `fallback`) after the send was accepted:
// the WhatsApp message was refused as undeliverable (not a WhatsApp user, a template refused), or no delivery
// receipt came within the channel's no_report_timeout_seconds. The move is another attempt of the same outbound
// (anotherAttempt: a compare-and-set on `submitted` with the WhatsApp provider id) that also moves it to the
// fallback channel and sends it at once. A delivery receipt for the WhatsApp message makes the same
// compare-and-set (reportFinal: `submitted` with that provider id) to `delivered`: of the two, exactly one
// changes the row, so the SMS is sent once or not at all. A receipt that comes after the switch finds the
// WhatsApp provider id among the past attempts: it is recorded in the history, and changes nothing.

/** The channel an accepted send through `channelId` falls back to (a WhatsApp channel that names one), or null. */
export async function fallbackOf(channels: ChannelCache, channelId: string): Promise<string | null> {
  const row = await channels.cached(channelId);
  return row && WHATSAPP_CHANNEL_TYPES.has(row.type) ? row.fallback : null;
}

/**
 * submitted (with `providerId` on `channel`) -> queued on `fallback`, sent at once, with its history entry
 * (`reason`). `unchanged` when the outbound is no longer so submitted (a receipt, or another worker's fallback,
 * came first); `early` when no outbound has that provider id yet, or it was redacted meanwhile (nothing is left to
 * send): the caller applies the report as usual.
 */
export async function fallBack(
  db: Db,
  channel: string,
  providerId: string,
  fallback: string,
  reason: string,
): Promise<ReportOutcome> {
  const outbound = await db.outbound.findUnique({
    where: { channel_providerId: { channel, providerId } },
    select: { id: true, redactedAt: true },
  });
  if (!outbound || outbound.redactedAt) {
    return "early";
  }
  const moved = await db.$transaction((tx) =>
    anotherAttempt(tx, [outbound.id], {
      from: ["submitted"],
      providerId,
      channel: fallback,
      notBefore: null,
      reason: `${reason}; falling back to ${fallback}`,
    }),
  );
  return moved.length > 0 ? "applied" : "unchanged";
}

/**
 * A WhatsApp send's refusal as undeliverable reported by its provider's webhook: the outbound falls back when its
 * channel has a fallback (fallBack's outcome). Undefined when it does not, or no outbound has that provider id yet
 * (a report that overtook its send's confirmation): the caller applies the report as any other.
 */
export async function fallBackOnRefusal(
  { db, channels }: { db: Db; channels: ChannelCache },
  channelId: string,
  providerId: string,
  reason: string,
): Promise<ReportOutcome | undefined> {
  const fallback = await fallbackOf(channels, channelId);
  const outcome = fallback ? await fallBack(db, channelId, providerId, fallback, reason) : "early";
  return outcome === "early" ? undefined : outcome;
}
