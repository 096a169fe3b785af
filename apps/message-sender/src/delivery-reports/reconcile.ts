import type { RedeliveryPolicy } from "@tidings/contracts";
import type { ChannelCache } from "../channels/channel-cache.ts";
import { pruneRateWindows } from "../channels/limits.ts";
import { pruneOrphanParts } from "../channels/parts.ts";
import { unlessHungUp } from "../channels/voice.ts";
import type { Db } from "../db.ts";
import type { Logger } from "../outbound/channel.ts";
import { fallBack, fallbackOf } from "../outbound/fallback.ts";
import { NO_REPORT } from "../outbound/redelivery.ts";
import { recordNoReport, reportFinal } from "../outbound/status.ts";

/** Outbounds read at a time. */
const BATCH = 100;
/** Batches one pass reads at most: a pass asks about up to 1,000 outbounds, the next one goes on from there. */
const MAX_BATCHES = 10;
/** Provider status requests in flight at once in one pass. */
const CONCURRENT_LOOKUPS = 10;

/** Early reports (and orphan part reports) no send claimed within this time never will be (a forged-but-signed id). */
const EARLY_REPORT_RETENTION_MS = 24 * 3600_000;

interface Stale {
  id: string;
  channel: string;
  provider_id: string | null;
  to_addr: string;
  updated_at: Date;
  /** Submitted for longer than its channel's `no_report_timeout_seconds`. */
  overdue: boolean;
}

/** Where a worker's passes have got to: the last outbound asked about, none at the start (the oldest first). */
export interface ReconcileCursor {
  after?: Pick<Stale, "id" | "updated_at">;
}

/**
 * A pass's batch size (BATCH) and batches (MAX_BATCHES); `cursor`, where to start and where it left off (the
 * worker's passes share one); `signal`, its stop: once aborted, the pass ends after the batch it is in.
 */
export interface ReconcileOptions {
  batch?: number;
  maxBatches?: number;
  cursor?: ReconcileCursor;
  signal?: AbortSignal;
}

/**
 * One reconciliation pass (DHOS's bulk_update), oldest first, over outbounds `submitted` with no final status:
 * those submitted more than `afterMs` ago are asked about (the provider's status lookup: a lost status callback)
 * and a final answer is applied as a report (a failure the channel's policy retries is another attempt); those
 * submitted longer than their channel's no-report timeout (`defaults` for channels that set none) and still not
 * final, or that can't be asked (no lookup, as Vonage's; no provider id), fail with reason `no_report` (no
 * delivery report). A failed lookup leaves the outbound for the next pass. A pass reads a batch at a time, each after
 * the last one read, up to `maxBatches`, and leaves `cursor` there: the next pass goes on from it, and from the oldest
 * again once a batch is not full. So a backlog (an outage of the callback endpoint leaves thousands) is caught up at
 * 1,000 an interval rather than 100, every waiting outbound is asked about in turn (not only the 100 oldest, again
 * and again, while they never become final), and a provider is asked at most 1,000 times a pass. Also forgets early
 * reports and orphan part reports older than a day. Several workers may run it at once: a report only moves status
 * forward, once. Returns how many outbounds reached a final status or another attempt.
 */
export async function reconcile(
  db: Db,
  channels: ChannelCache,
  afterMs: number,
  defaults: RedeliveryPolicy,
  log: Logger,
  { batch = BATCH, maxBatches = MAX_BATCHES, cursor = {}, signal }: ReconcileOptions = {},
): Promise<number> {
  const retention = new Date(Date.now() - EARLY_REPORT_RETENTION_MS);
  await db.earlyReport.deleteMany({ where: { receivedAt: { lt: retention } } });
  await db.playedCall.deleteMany({ where: { playedAt: { lt: retention } } });
  await pruneOrphanParts(db, retention);
  await pruneRateWindows(db);
  let finished = 0;
  const ask = async (row: Stale) => {
    const { id, channel: channelId, provider_id: providerId } = row;
    try {
      const channel = providerId ? (await channels.resolve(channelId))?.channel : undefined;
      const read = providerId && channel?.status ? await channel.status(providerId) : null;
      // A call read back as completed is delivered only if its played marker came.
      const status =
        read && providerId && channel?.marksPlayed
          ? await unlessHungUp(db, channelId, providerId, read, 0)
          : read;
      // A WhatsApp send with an SMS fallback: a failure, or no receipt in time, sends it by SMS instead.
      const fallback =
        providerId && (status ? !status.delivered : row.overdue) && (await fallbackOf(channels, channelId));
      if (fallback && providerId) {
        const why = status?.reason ?? NO_REPORT;
        if ((await fallBack(db, channelId, providerId, fallback, why)) === "applied") {
          finished++;
          log.warn(
            { outboundId: id, providerId, fallback, reason: why },
            "whatsapp send not delivered; falling back",
          );
        }
        return;
      }
      if (status && providerId) {
        const failure = status.delivered ? undefined : { kind: status.kind ?? "unknown", defaults };
        const outcome = await reportFinal(
          db,
          channelId,
          providerId,
          status.delivered,
          status.reason,
          failure,
        );
        if (outcome === "applied") {
          finished++;
          log.info({ outboundId: id, providerId, delivered: status.delivered }, "reconciled an outbound");
        }
        return;
      }
      if (
        row.overdue &&
        (await db.$transaction((tx) => recordNoReport(tx, { id, providerId, toAddr: row.to_addr })))
      ) {
        finished++;
        log.warn({ outboundId: id, providerId, reason: NO_REPORT }, "no final report in time; failed");
      }
    } catch (err) {
      log.warn({ err, outboundId: id, providerId }, "could not ask the provider about an outbound");
    }
  };
  let read = 0;
  do {
    const stale = await staleBatch(db, afterMs, defaults, batch, cursor.after);
    // A few provider requests at a time: after an outage of the callback endpoint thousands may be waiting.
    for (let i = 0; i < stale.length; i += CONCURRENT_LOOKUPS) {
      await Promise.all(stale.slice(i, i + CONCURRENT_LOOKUPS).map(ask));
    }
    cursor.after = stale.length === batch ? stale.at(-1) : undefined;
    read++;
  } while (cursor.after && read < maxBatches && !signal?.aborted);
  return finished;
}

/**
 * The next `batch` outbounds to ask about, oldest first, after `after` (the last one asked: one whose answer was not
 * final is still `submitted`, and is asked again only once the cursor has come round).
 */
function staleBatch(
  db: Db,
  afterMs: number,
  defaults: RedeliveryPolicy,
  batch: number,
  after: ReconcileCursor["after"],
): Promise<Stale[]> {
  const timeout = `make_interval(secs => COALESCE((c.redelivery->>'no_report_timeout_seconds')::float8, $2))`;
  return db.$queryRawUnsafe<Stale[]>(
    `SELECT o.id::text, o.channel, o.provider_id, o.to_addr, o.updated_at,
            o.updated_at < now() - ${timeout} AS overdue
     FROM outbound o LEFT JOIN channel c ON c.id = o.channel
     WHERE o.status = 'submitted'
       AND (o.provider_id IS NOT NULL AND o.updated_at < now() - make_interval(secs => $1::float8)
         OR o.updated_at < now() - ${timeout})
       AND ($4::timestamptz IS NULL OR (o.updated_at, o.id) > ($4::timestamptz, $5::uuid))
     ORDER BY o.updated_at, o.id LIMIT $3`,
    afterMs / 1000,
    defaults.no_report_timeout_seconds,
    batch,
    after?.updated_at ?? null,
    after?.id ?? null,
  );
}
