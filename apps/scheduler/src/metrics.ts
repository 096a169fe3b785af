import { type Clock, cached, SCRAPE_CACHE_MS, scrapeGauge } from "@tidings/service-kit";
import type { Registry } from "prom-client";
import type { Db } from "./db.ts";

/**
 * `tidings_scheduler_lag_seconds`, read on scrape: how long the oldest due slot has waited to be fired (now minus
 * the earliest `next_send_at` that is due; 0 when none is). A ticker that keeps up holds it under a tick or two.
 */
export function registerSchedulerGauges(registry: Registry, db: Db, clock: Clock): void {
  const readLag = cached(async () => {
    const now = clock();
    const [row] = await db.$queryRawUnsafe<{ lag: number }[]>(
      `SELECT coalesce(extract(epoch FROM $1::timestamptz - min(next_send_at)), 0)::float8 AS lag
       FROM schedule WHERE enabled AND next_send_at <= $1::timestamptz`,
      now,
    );
    return Math.max(0, row?.lag ?? 0);
  }, SCRAPE_CACHE_MS);
  scrapeGauge(
    registry,
    "tidings_scheduler_lag_seconds",
    "Now minus the oldest due slot not yet fired (0 when none is due)",
    [],
    async () => [{ value: await readLag() }],
  );
}
