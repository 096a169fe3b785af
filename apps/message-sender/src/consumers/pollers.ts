import type { Clock, Stop } from "@tidings/service-kit";
import type { ChannelCache } from "../channels/channel-cache.ts";
import { reconcile } from "../delivery-reports/reconcile.ts";
import type { Logger } from "../outbound/channel.ts";
import { defaultRedelivery } from "../outbound/redelivery.ts";
import { purgeArchives } from "../reports/archive-purge.ts";
import { pruneDailyCounts } from "../sending/daily-cap.ts";
import { releaseDue } from "../sending/due.ts";
import type { ConsumerDeps } from "./consumer-deps.ts";

/** How often each worker forgets the daily cap's counts of days that are over. */
const DAILY_CAP_PRUNE_INTERVAL_MS = 3_600_000;

/**
 * The worker's timed passes: the reconciler (asks providers about outbounds with no final status), the
 * due-message poller (sends deferred outbounds now due, expires those past expires_at), the daily cap's
 * pruning and, with ARCHIVE_DIR, the archive purge (forgotten people redacted in the archive files).
 */
export function startPollers(
  { config, db, logger }: ConsumerDeps,
  channels: ChannelCache,
  clock: Clock,
): Stop {
  // An outbound asked about is not asked again by any worker for half an interval: each worker's next pass finds it
  // due again, and the passes of several workers share the rest.
  const againAfterMs = config.RECONCILE_INTERVAL_MS / 2;
  const reconciler = every(config.RECONCILE_INTERVAL_MS, logger, "reconciliation", (signal) =>
    reconcile(db, channels, config.RECONCILE_AFTER_MS, defaultRedelivery(config), logger, {
      againAfterMs,
      signal,
    }),
  );
  const duePoller = every(config.DUE_POLL_INTERVAL_MS, logger, "due-message poll", async () => {
    const { released, expired } = await releaseDue(db, clock());
    if (released + expired > 0) {
      logger.info({ released, expired }, "due outbounds released; expired ones marked");
    }
  });
  const capHousekeeping = every(DAILY_CAP_PRUNE_INTERVAL_MS, logger, "daily cap pruning", () =>
    pruneDailyCounts(db),
  );
  const archiveDir = config.ARCHIVE_DIR;
  const archivePurge: Stop = archiveDir
    ? every(config.ARCHIVE_PURGE_INTERVAL_MS, logger, "archive purge", async (signal) => {
        const purged = await purgeArchives(db, archiveDir, signal);
        if (purged.identities > 0) {
          logger.info(purged, "forgotten identities purged from the archives");
        }
      })
    : async () => {};
  return async () => {
    await reconciler();
    await duePoller();
    await capHousekeeping();
    await archivePurge();
  };
}

/**
 * Runs `pass` every `intervalMs` (0 = never), never two at once; the returned stop aborts the signal given to a
 * running one (a long pass ends at its next step) and waits for it.
 */
function every(
  intervalMs: number,
  logger: Logger,
  what: string,
  pass: (signal: AbortSignal) => Promise<unknown>,
): Stop {
  let running: Promise<unknown> | undefined;
  const stopping = new AbortController();
  const timer =
    intervalMs > 0
      ? setInterval(() => {
          running ??= pass(stopping.signal)
            .catch((err: unknown) => logger.warn({ err }, `${what} failed`))
            .finally(() => {
              running = undefined;
            });
        }, intervalMs)
      : undefined;
  timer?.unref();
  return async () => {
    clearInterval(timer);
    stopping.abort();
    await running;
  };
}
