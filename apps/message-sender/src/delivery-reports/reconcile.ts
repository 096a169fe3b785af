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

/** Outbounds claimed at a time. */
const BATCH = 100;
/** Batches one pass claims at most: a pass asks about up to 1,000 outbounds. */
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
  /** Submitted for longer than its channel's `no_report_timeout_seconds`. */
  overdue: boolean;
}

/**
 * `againAfterMs`: an outbound asked about less than this long ago (by any worker's pass) is not asked again (the
 * worker gives half its interval). A pass's batch size (BATCH) and batches (MAX_BATCHES); `signal`, its stop: once
 * aborted, the pass ends after the batch it is in.
 */
export interface ReconcileOptions {
  againAfterMs: number;
  batch?: number;
  maxBatches?: number;
  signal?: AbortSignal;
}

/**
 * One reconciliation pass (DHOS's bulk_update) over outbounds `submitted` with no final status: those submitted more
 * than `afterMs` ago are asked about (the provider's status lookup: a lost status callback) and a final answer is
 * applied as a report (a failure the channel's policy retries is another attempt); those submitted longer than their
 * channel's no-report timeout (`defaults` for channels that set none) and still not final, or that can't be asked
 * (no lookup, as Vonage's; no provider id), fail with reason `no_report` (no delivery report). A failed lookup leaves
 * the outbound for a later pass. A pass claims a batch at a time (never asked first, then those asked longest ago,
 * the oldest first), up to `maxBatches`: a claim sets the outbound's `asked_at`, and an outbound asked less than
 * `againAfterMs` ago is not claimed, so several workers' passes share the waiting outbounds between them instead of
 * each asking about all of them, a backlog (an outage of the callback endpoint leaves thousands) is caught up at
 * 1,000 a pass, every waiting outbound is asked about in turn (not only the oldest, again and again, while they never
 * become final), and a provider is asked at most 1,000 times a pass. Also forgets early reports and orphan part
 * reports older than a day. Returns how many outbounds reached a final status or another attempt.
 */
export async function reconcile(
  db: Db,
  channels: ChannelCache,
  afterMs: number,
  defaults: RedeliveryPolicy,
  log: Logger,
  { againAfterMs, batch = BATCH, maxBatches = MAX_BATCHES, signal }: ReconcileOptions,
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
  const asked: string[] = [];
  for (let read = 1; ; read++) {
    const claimed = await claimBatch(db, afterMs, againAfterMs, defaults, batch, asked);
    asked.push(...claimed.map((row) => row.id));
    // A few provider requests at a time: after an outage of the callback endpoint thousands may be waiting.
    for (let i = 0; i < claimed.length; i += CONCURRENT_LOOKUPS) {
      await Promise.all(claimed.slice(i, i + CONCURRENT_LOOKUPS).map(ask));
    }
    if (claimed.length < batch || read >= maxBatches || signal?.aborted) {
      break;
    }
  }
  return finished;
}

/**
 * Claims the next `batch` outbounds to ask about: due (see reconcile), not asked in the last `againAfterMs` nor
 * already in this pass (`asked`), never asked first, then asked longest ago, the oldest first; sets their
 * `asked_at`. Rows another transaction holds (a status callback applying, another pass's claim) are skipped, not
 * waited for.
 */
function claimBatch(
  db: Db,
  afterMs: number,
  againAfterMs: number,
  defaults: RedeliveryPolicy,
  batch: number,
  asked: string[],
): Promise<Stale[]> {
  const timeout = `make_interval(secs => COALESCE((c.redelivery->>'no_report_timeout_seconds')::float8, $2))`;
  return db.$queryRawUnsafe<Stale[]>(
    `WITH due AS (
       SELECT o.id, o.updated_at < now() - ${timeout} AS overdue
       FROM outbound o LEFT JOIN channel c ON c.id = o.channel
       WHERE o.status = 'submitted'
         AND (o.provider_id IS NOT NULL AND o.updated_at < now() - make_interval(secs => $1::float8)
           OR o.updated_at < now() - ${timeout})
         AND (o.asked_at IS NULL OR o.asked_at < now() - make_interval(secs => $4::float8))
         AND o.id <> ALL($5::uuid[])
       ORDER BY o.asked_at ASC NULLS FIRST, o.updated_at, o.id LIMIT $3
       FOR UPDATE OF o SKIP LOCKED)
     UPDATE outbound o SET asked_at = now() FROM due WHERE o.id = due.id
     RETURNING o.id::text, o.channel, o.provider_id, o.to_addr, due.overdue`,
    afterMs / 1000,
    defaults.no_report_timeout_seconds,
    batch,
    againAfterMs / 1000,
    asked,
  );
}
