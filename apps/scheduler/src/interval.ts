/*
 * Interval schedules (`"<n> days|hours|minutes|seconds"`, as in Seed): slots every n periods of elapsed
 * time, counted from the schedule's interval anchor (the moment the interval was set). Elapsed time knows no
 * daylight saving: "1 days" is always 24 hours (use a cron for "every day at 08:00 local time").
 */

const PERIODS = { days: 86_400_000, hours: 3_600_000, minutes: 60_000, seconds: 1_000 } as const;
type Period = keyof typeof PERIODS;

export const INTERVAL_FORMAT = "integer and period (from: days, hours, minutes, seconds) e.g. 1 minutes";

/**
 * The interval's length in ms, or why it is not a valid interval definition (Seed's messages, without its
 * `microseconds`, which a millisecond clock cannot honour).
 */
export function parseInterval(definition: string): { ms: number } | { problem: string } {
  const badString = (why = INTERVAL_FORMAT) => ({
    problem: `"${definition}" is not a valid interval string: ${why}`,
  });
  const parts = definition.trim().split(/\s+/);
  if (parts.length !== 2) {
    return badString();
  }
  const [count, period] = parts as [string, string];
  if (!/^[+-]?\d+$/.test(count)) {
    return badString();
  }
  if (!Object.hasOwn(PERIODS, period)) {
    return { problem: `"${definition}" is not a valid period. Accepted: days, hours, minutes, seconds` };
  }
  if (Number(count) < 1) {
    return badString("the integer must be at least 1");
  }
  const ms = Number(count) * PERIODS[period as Period];
  if (!Number.isSafeInteger(ms) || ms > 366 * PERIODS.days) {
    return badString("at most 366 days");
  }
  return { ms };
}

export function intervalMs(definition: string): number {
  const parsed = parseInterval(definition);
  if ("problem" in parsed) {
    throw new Error(parsed.problem);
  }
  return parsed.ms;
}

/** The first interval slot strictly after `after` (slots are anchor + k·period, k ≥ 1). */
export function nextIntervalSlot(periodMs: number, anchor: Date, after: Date): Date {
  const k = Math.max(1, Math.floor((after.getTime() - anchor.getTime()) / periodMs) + 1);
  return new Date(anchor.getTime() + k * periodMs);
}

/** The interval slots in (`after`, `until`], oldest first, at most `limit` (the newest ones). */
export function intervalSlotsBetween(
  periodMs: number,
  anchor: Date,
  after: Date,
  until: Date,
  limit: number,
): Date[] {
  const last = Math.floor((until.getTime() - anchor.getTime()) / periodMs);
  const first = Math.max(
    1,
    Math.floor((after.getTime() - anchor.getTime()) / periodMs) + 1,
    last - limit + 1,
  );
  const slots: Date[] = [];
  for (let k = first; k <= last; k++) {
    slots.push(new Date(anchor.getTime() + k * periodMs));
  }
  return slots;
}
