import type { SendingWindow } from "@tidings/contracts";
import type { ResolvedChannel } from "../channels/channel-cache.ts";
import type { Db, Tx } from "../db.ts";
import { localDate, nextMidnight, nextOpening } from "../outbound/timing.ts";
import type { Sender } from "./sender.ts";

// The per-person daily cap: a person (an identity) is sent at most `cap` messages per day of their own time zone
// (the channel's `daily_cap`, else DAILY_CAP_PER_PERSON); the excess waits for the next day. `high` priority is
// neither capped nor counted. The count is shared by every worker: one row per person and day
// (`daily_cap_count`), taken by a conditional upsert just before the provider is called, so two workers can never
// both send the cap+1-th message. Each outbound is counted once (`daily_cap_send`): a retry or a takeover takes
// nothing again, and one that ends unsent gives its place back.

/** The cap that applies to a send through `channel` (0: none). */
export const dailyCapOf = (sender: Sender, channel: ResolvedChannel, priority: string): number =>
  priority === "high" ? 0 : (channel.dailyCap ?? sender.dailyCap);

/**
 * Takes the outbound's place in its person's count for the local day of `now` in `zone`, if there is one below
 * `cap` (or it already holds one). Undefined when it may be sent now; otherwise when it may be: the start of the
 * next local day, or the first opening of `window` after it.
 */
export async function dailyCapDeferral(
  db: Db,
  send: { id: string; identity: string; cap: number; zone: string; window: SendingWindow | null },
  now: Date,
): Promise<Date | undefined> {
  const { id, identity, cap, zone, window } = send;
  const day = localDate(now, zone);
  // The upsert's WHERE is evaluated on the row's latest version under its row lock (READ COMMITTED), so
  // concurrent takers are serialised on the person's row and see each other's increments.
  const [taken] = await db.$queryRaw<{ allowed: boolean }[]>`
    WITH prior AS (SELECT 1 FROM daily_cap_send WHERE outbound_id = ${id}::uuid),
      counted AS (
        INSERT INTO daily_cap_count AS c (identity, day, sent)
        SELECT ${identity}::uuid, ${day}::date, 1 WHERE NOT EXISTS (SELECT 1 FROM prior)
        ON CONFLICT (identity, day) DO UPDATE SET sent = c.sent + 1 WHERE c.sent < ${cap}
        RETURNING 1),
      kept AS (
        INSERT INTO daily_cap_send (outbound_id, identity, day)
        SELECT ${id}::uuid, ${identity}::uuid, ${day}::date FROM counted
        ON CONFLICT (outbound_id) DO NOTHING)
    SELECT EXISTS (SELECT 1 FROM prior) OR EXISTS (SELECT 1 FROM counted) AS allowed`;
  if (taken?.allowed) {
    return undefined;
  }
  const midnight = nextMidnight(now, zone);
  return (window && nextOpening(window, zone, midnight)) ?? midnight;
}

/**
 * Gives back the places of outbounds that ended without being sent (failed before any submission, expired,
 * cancelled); any other id is left alone, so it is safe to call with any ids.
 */
export async function giveBackDailyPlaces(db: Db | Tx, ids: string[]): Promise<void> {
  await db.$executeRaw`
    WITH gone AS (
      DELETE FROM daily_cap_send s USING outbound o
      WHERE s.outbound_id = ANY(${ids}::uuid[]) AND o.id = s.outbound_id
        AND o.status IN ('failed', 'expired', 'cancelled') AND o.attempts = 0
      RETURNING s.identity, s.day)
    UPDATE daily_cap_count c SET sent = c.sent - g.n
    FROM (SELECT identity, day, count(*)::int AS n FROM gone GROUP BY identity, day) g
    WHERE c.identity = g.identity AND c.day = g.day`;
}

/**
 * A change that may end the outbound unsent (`change` says whether it did), and the return of its daily-cap place
 * if so, in one transaction.
 */
export const endUnsent = (db: Db, id: string, change: (tx: Tx) => Promise<boolean>): Promise<boolean> =>
  db.$transaction(async (tx) => {
    const ended = await change(tx);
    if (ended) {
      await giveBackDailyPlaces(tx, [id]);
    }
    return ended;
  });

/** Forgets the counts of days that are over everywhere (two days back, UTC). */
export async function pruneDailyCounts(db: Db): Promise<void> {
  await db.$executeRaw`DELETE FROM daily_cap_send WHERE day < current_date - 2`;
  await db.$executeRaw`DELETE FROM daily_cap_count WHERE day < current_date - 2`;
}
