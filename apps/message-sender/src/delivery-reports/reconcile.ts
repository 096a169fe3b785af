import type { ChannelCache } from "../channels/channel-cache.ts";
import { pruneRateWindows } from "../channels/limits.ts";
import { pruneOrphanParts } from "../channels/parts.ts";
import type { Db } from "../db.ts";
import type { Logger } from "../outbound/channel.ts";
import { reportFinal } from "../outbound/status.ts";

const BATCH = 100;
/** Provider status requests in flight at once in one pass. */
const CONCURRENT_LOOKUPS = 10;

/** Early reports (and orphan part reports) no send claimed within this time never will be (a forged-but-signed id). */
const EARLY_REPORT_RETENTION_MS = 24 * 3600_000;

/**
 * One reconciliation pass (DHOS's bulk_update): asks the provider about outbounds submitted more than
 * `afterMs` ago that have no final status (a lost status callback), oldest first, and applies what it says as
 * a final report; and forgets early reports and orphan part reports older than a day. Several workers may run it at once: a report
 * only moves status forward, once. Returns
 * how many outbounds reached a final status.
 */
export async function reconcile(
  db: Db,
  channels: ChannelCache,
  afterMs: number,
  log: Logger,
): Promise<number> {
  const stale = await db.outbound.findMany({
    where: {
      status: "submitted",
      providerId: { not: null },
      updatedAt: { lt: new Date(Date.now() - afterMs) },
    },
    orderBy: { updatedAt: "asc" },
    take: BATCH,
    select: { id: true, channel: true, providerId: true },
  });
  const retention = new Date(Date.now() - EARLY_REPORT_RETENTION_MS);
  await db.earlyReport.deleteMany({ where: { receivedAt: { lt: retention } } });
  await pruneOrphanParts(db, retention);
  await pruneRateWindows(db);
  let finished = 0;
  const ask = async ({ id, channel: channelId, providerId }: (typeof stale)[number]) => {
    const channel = await channels.resolve(channelId);
    if (!channel?.channel.status || !providerId) {
      return;
    }
    try {
      const status = await channel.channel.status(providerId);
      if (!status) {
        return;
      }
      const outcome = await reportFinal(db, channelId, providerId, status.delivered, status.reason);
      if (outcome === "applied") {
        finished++;
        log.info({ outboundId: id, providerId, delivered: status.delivered }, "reconciled an outbound");
      }
    } catch (err) {
      log.warn({ err, outboundId: id, providerId }, "could not ask the provider about an outbound");
    }
  };
  // A few provider requests at a time: after an outage of the callback endpoint thousands may be waiting.
  for (let i = 0; i < stale.length; i += CONCURRENT_LOOKUPS) {
    await Promise.all(stale.slice(i, i + CONCURRENT_LOOKUPS).map(ask));
  }
  return finished;
}
