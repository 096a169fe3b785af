import type { SendingWindow } from "@tidings/contracts";
import { localDate, nextMidnight, nextOpening } from "./timing.ts";

// A person's calling days and hours (Seed's HelloMama `voice_days` and `voice_times`): a voice call is placed
// only on those weekdays, inside those hours, of the recipient's zone, and inside the channel's sending window;
// otherwise it waits (outbound.not_before) for the next moment that is inside both.

/** The days (0 = Sunday ... 6 = Saturday; null: any) and the hours (null: any) a person takes calls. */
export interface CallingHours {
  days: ReadonlySet<number> | null;
  hours: SendingWindow | null;
}

const WEEKDAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

/**
 * `voice_days`: weekdays by name, as HelloMama writes them (`mon_wed`, `tue_thu`), separated by `_`, `,` or
 * spaces, or a list (`["mon", "wed"]`); full names too (`monday`). Null when absent or not all days.
 */
function parseDays(value: unknown): Set<number> | null {
  const words = Array.isArray(value) ? value : typeof value === "string" ? value.split(/[_,\s]+/) : [];
  const days = words.map((w) =>
    typeof w === "string" ? WEEKDAYS.indexOf(w.trim().slice(0, 3).toLowerCase()) : -1,
  );
  return days.length > 0 && days.every((d) => d >= 0) ? new Set(days) : null;
}

/**
 * `voice_times`: `<from>_<to>` in hours (`9_11`; `09:30_11` with minutes; `-` also separates), on a 24-hour
 * clock except that hours 1 to 7 are afternoon hours, as HelloMama's `2_5` is 14:00 to 17:00. Null when absent,
 * unreadable, or not a window within a day.
 */
function parseHours(value: unknown): SendingWindow | null {
  const match =
    typeof value === "string" && /^(\d{1,2})(?::(\d{2}))?[_-](\d{1,2})(?::(\d{2}))?$/.exec(value.trim());
  if (!match) {
    return null;
  }
  const time = (hour: string | undefined, minute: string | undefined) => {
    const h = Number(hour);
    return (h >= 1 && h <= 7 ? h + 12 : h) * 60 + Number(minute ?? 0);
  };
  const [start, end] = [time(match[1], match[2]), time(match[3], match[4])];
  if (start >= end || end > 24 * 60) {
    return null;
  }
  const hhmm = (m: number) =>
    `${String(Math.floor(m / 60)).padStart(2, "0")}:${String(m % 60).padStart(2, "0")}`;
  return { start: hhmm(start), end: hhmm(end) };
}

/** A person's calling hours from their `voice_days` and `voice_times`; undefined when neither says anything. */
export function callingHoursOf(voiceDays: unknown, voiceTimes: unknown): CallingHours | undefined {
  const days = parseDays(voiceDays);
  const hours = parseHours(voiceTimes);
  return days || hours ? { days, hours } : undefined;
}

const weekday = (at: Date, zone: string) => new Date(`${localDate(at, zone)}T00:00:00Z`).getUTCDay();

/** Undefined when `now` is inside the calling hours (in `zone`); otherwise when they next begin. */
function nextCallingHour({ days, hours }: CallingHours, zone: string, now: Date): Date | undefined {
  const today = weekday(now, zone);
  const opening = hours ? nextOpening(hours, zone, now) : undefined;
  if (!days || days.has(today)) {
    // Today is a calling day: inside the hours, or before they begin today.
    if (!opening || localDate(opening, zone) === localDate(now, zone)) {
      return opening;
    }
  }
  // The next calling day, at its first hour.
  let midnight = nextMidnight(now, zone);
  for (let ahead = 1; ahead <= 7 && days && !days.has((today + ahead) % 7); ahead++) {
    midnight = nextMidnight(midnight, zone);
  }
  return (hours && nextOpening(hours, zone, midnight)) || midnight;
}

/**
 * Undefined when a call may be placed now: inside the sending window (if any) and the person's calling hours (if
 * any), in `zone`; otherwise the first moment inside both (windows that never meet: the latest opening found).
 */
export function nextCallOpening(
  window: SendingWindow | null,
  calling: CallingHours | undefined,
  zone: string,
  now: Date,
): Date | undefined {
  let at = now;
  for (let step = 0; step < 16; step++) {
    const waits = [window && nextOpening(window, zone, at), calling && nextCallingHour(calling, zone, at)];
    const later = waits
      .filter((w): w is Date => w instanceof Date)
      .sort((a, b) => b.getTime() - a.getTime())[0];
    if (!later) {
      return at === now ? undefined : at;
    }
    at = later;
  }
  return at;
}
