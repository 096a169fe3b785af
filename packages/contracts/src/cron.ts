import { CronExpressionParser } from "cron-parser";
import { isTimeZone } from "./time.ts";

/*
 * Cron slots are computed on the local wall clock of the schedule's time zone, then mapped to instants with
 * one documented daylight-saving policy (cron-parser's own tz handling shifts a skipped 02:30 to 03:30 and
 * fires a repeated hour twice, so it is only used here on a DST-free "wall clock as UTC" time line):
 *
 * - a wall time that does not exist (the hour skipped when clocks go forward) maps to the first valid
 *   instant after the gap (e.g. 02:30 becomes 03:00); several skipped slots collapse into that one instant,
 *   so a slot in a skipped hour runs once, at the first valid time;
 * - a wall time that exists twice (the hour repeated when clocks go back) maps to its first occurrence, so
 *   a repeated hour runs once.
 *
 * The mapping from wall time to instant is monotonic, which is what lets next/previous slots be found by
 * walking wall-clock slots.
 */

const HOUR = 3600_000;

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(timezone: string): Intl.DateTimeFormat {
  let f = formatters.get(timezone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: timezone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    formatters.set(timezone, f);
  }
  return f;
}

/** The zone's offset from UTC at an instant, in ms (local = utc + offset). */
export function offsetAt(timezone: string, instant: number): number {
  const parts: Record<string, number> = {};
  for (const p of formatter(timezone).formatToParts(new Date(instant))) {
    if (p.type !== "literal") {
      parts[p.type] = Number(p.value);
    }
  }
  const asUtc = Date.UTC(
    parts.year ?? 1970,
    (parts.month ?? 1) - 1,
    parts.day ?? 1,
    parts.hour ?? 0,
    parts.minute ?? 0,
    parts.second ?? 0,
  );
  return asUtc - (instant - (((instant % 1000) + 1000) % 1000));
}

/** The wall-clock time (as a UTC time stamp) of an instant in a zone. */
export const wallOf = (timezone: string, instant: number): number => instant + offsetAt(timezone, instant);

/**
 * The instant of a wall-clock time in a zone, under the DST policy: a repeated wall time maps to its first
 * occurrence, a skipped one to the first valid instant after the gap.
 */
export function instantOf(timezone: string, wall: number): number {
  // Every instant showing `wall` lies in [wall - 14h, wall + 12h]; at most one transition falls in there.
  const before = offsetAt(timezone, wall - 14 * HOUR);
  const after = offsetAt(timezone, wall + 12 * HOUR);
  const valid = [wall - before, wall - after].filter((t) => offsetAt(timezone, t) === wall - t);
  if (valid.length > 0) {
    return Math.min(...valid);
  }
  // In a gap: the transition lies between the two candidates; find its first instant.
  let lo = Math.min(wall - before, wall - after);
  let hi = Math.max(wall - before, wall - after);
  const offsetLo = offsetAt(timezone, lo);
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (offsetAt(timezone, mid) === offsetLo) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  return hi;
}

/** Why a time zone is unusable, or null when it is fine. */
export function timezoneProblem(timezone: string): string | null {
  return isTimeZone(timezone) ? null : `"${timezone}" is not an IANA time zone`;
}

/** Why a cron expression is unusable (5 fields: minute hour day-of-month month day-of-week), or null. */
export function cronProblem(cron: string): string | null {
  const fields = cron.trim().split(/\s+/);
  if (fields.length !== 5) {
    return `"${cron}" is not a valid crontab string: expected 5 fields (minute hour day-of-month month day-of-week), got ${fields.length}`;
  }
  try {
    const it = CronExpressionParser.parse(cron, { tz: "UTC", currentDate: new Date(0) });
    // An expression that can never match (e.g. "0 0 31 2 *") is refused too.
    it.next();
    return null;
  } catch (err) {
    return `"${cron}" is not a valid crontab string: ${(err as Error).message}`;
  }
}

const wallIterator = (cron: string, wall: number) =>
  CronExpressionParser.parse(cron, { tz: "UTC", currentDate: new Date(wall) });

/** The first cron slot strictly after `after`. */
export function nextSlot(cron: string, timezone: string, after: Date): Date {
  const t = after.getTime();
  // Wall times after wall(after) map to instants after `after`, except inside a repeated hour when `after`
  // is its second occurrence: those map back to the first occurrence and are skipped here.
  const it = wallIterator(cron, wallOf(timezone, t));
  for (;;) {
    const instant = instantOf(timezone, it.next().getTime());
    if (instant > t) {
      return new Date(instant);
    }
  }
}

/** The latest cron slot at or before `at`, or null when there is none. */
export function latestSlot(cron: string, timezone: string, at: Date): Date | null {
  const t = at.getTime();
  const wall = wallOf(timezone, t);
  // In the second occurrence of a repeated hour, later wall times of that hour map to instants before `at`.
  const shift = Math.max(0, t - instantOf(timezone, wall));
  const it = wallIterator(cron, wall + shift + 1);
  for (;;) {
    if (!it.hasPrev()) {
      return null;
    }
    const instant = instantOf(timezone, it.prev().getTime());
    if (instant <= t) {
      return new Date(instant);
    }
  }
}

/**
 * The cron slots in (`after`, `until`], newest last, at most `limit` of them (the newest ones). Equal
 * instants (skipped wall times collapsing onto the end of a gap) count once.
 */
export function slotsBetween(
  cron: string,
  timezone: string,
  after: Date,
  until: Date,
  limit: number,
): Date[] {
  const slots: Date[] = [];
  let cursor: Date | null = until;
  while (cursor && slots.length < limit) {
    const slot = latestSlot(cron, timezone, cursor);
    if (!slot || slot.getTime() <= after.getTime()) {
      break;
    }
    slots.push(slot);
    cursor = new Date(slot.getTime() - 1);
  }
  return slots.reverse();
}
