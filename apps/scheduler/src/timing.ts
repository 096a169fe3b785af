import type { ScheduleCatchUpPolicy } from "@tidings/contracts";
import { latestSlot, nextSlot, slotsBetween } from "@tidings/contracts/cron";
import type { CatchUpLimits } from "./config.ts";
import { intervalMs, intervalSlotsBetween, nextIntervalSlot } from "./interval.ts";

export type Trigger = "cron" | "interval" | "manual";

/** What decides when a schedule fires. */
export interface Timing {
  cronDefinition: string | null;
  intervalDefinition: string | null;
  intervalAnchor: Date | null;
  timezone: string;
  catchUp: ScheduleCatchUpPolicy;
  /** The next unfired slot of each trigger. */
  nextCronAt: Date | null;
  nextIntervalAt: Date | null;
}

export interface NextTimes {
  nextCronAt: Date | null;
  nextIntervalAt: Date | null;
  /** The earlier of the two: the column the ticker's indexed query uses. */
  nextSendAt: Date | null;
}

export const earliest = (...dates: (Date | null)[]): Date | null =>
  dates.reduce<Date | null>((min, d) => (d && (!min || d < min) ? d : min), null);

/** The next slots after `now` of each trigger. */
export function nextTimes(
  timing: Omit<Timing, "nextCronAt" | "nextIntervalAt" | "catchUp">,
  now: Date,
): NextTimes {
  const nextCronAt = timing.cronDefinition ? nextSlot(timing.cronDefinition, timing.timezone, now) : null;
  const nextIntervalAt =
    timing.intervalDefinition && timing.intervalAnchor
      ? nextIntervalSlot(intervalMs(timing.intervalDefinition), timing.intervalAnchor, now)
      : null;
  return { nextCronAt, nextIntervalAt, nextSendAt: earliest(nextCronAt, nextIntervalAt) };
}

export interface DueSlot {
  slot: Date;
  trigger: Trigger;
}

/**
 * The slots a due schedule fires at `now`, oldest first, under its catch-up policy, and its next times.
 * For each trigger whose pending slot has come, the candidates are its slots in [pending, now]:
 * - `latest`: the newest candidate, however late;
 * - `none`: the newest candidate only if it is at most `missedAfterMs` old (an on-time tick); older ones
 *   are skipped;
 * - `all`: every candidate no older than `maxAgeMs`, at most the newest `maxSlots`.
 * Cron and interval slots at the same instant are one slot.
 */
export function dueSlots(timing: Timing, now: Date, limits: CatchUpLimits): { slots: DueSlot[] } & NextTimes {
  const slots = new Map<number, DueSlot>();
  const take = (
    trigger: Trigger,
    candidates: (after: Date, limit: number) => Date[],
    pending: Date | null,
  ) => {
    if (!pending || pending > now) {
      return;
    }
    let chosen: Date[];
    if (timing.catchUp === "all") {
      const after = new Date(Math.max(pending.getTime() - 1, now.getTime() - limits.maxAgeMs));
      chosen = candidates(after, limits.maxSlots);
    } else {
      chosen = candidates(new Date(pending.getTime() - 1), 1);
      if (timing.catchUp === "none") {
        chosen = chosen.filter((s) => now.getTime() - s.getTime() <= limits.missedAfterMs);
      }
    }
    for (const slot of chosen) {
      if (!slots.has(slot.getTime())) {
        slots.set(slot.getTime(), { slot, trigger });
      }
    }
  };
  const cron = timing.cronDefinition;
  if (cron) {
    take(
      "cron",
      (after, limit) =>
        limit === 1
          ? [latestSlot(cron, timing.timezone, now)].filter((s): s is Date => !!s && s > after)
          : slotsBetween(cron, timing.timezone, after, now, limit),
      timing.nextCronAt,
    );
  }
  const interval = timing.intervalDefinition;
  const anchor = timing.intervalAnchor;
  if (interval && anchor) {
    const period = intervalMs(interval);
    take(
      "interval",
      (after, limit) => intervalSlotsBetween(period, anchor, after, now, limit),
      timing.nextIntervalAt,
    );
  }
  const next = nextTimes(timing, now);
  // A trigger that was not due keeps its pending slot.
  const nextCronAt = timing.nextCronAt && timing.nextCronAt > now ? timing.nextCronAt : next.nextCronAt;
  const nextIntervalAt =
    timing.nextIntervalAt && timing.nextIntervalAt > now ? timing.nextIntervalAt : next.nextIntervalAt;
  return {
    slots: [...slots.values()].sort((a, b) => a.slot.getTime() - b.slot.getTime()),
    nextCronAt: cron ? nextCronAt : null,
    nextIntervalAt: interval && anchor ? nextIntervalAt : null,
    nextSendAt: earliest(cron ? nextCronAt : null, interval && anchor ? nextIntervalAt : null),
  };
}
