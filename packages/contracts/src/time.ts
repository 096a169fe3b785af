import type { SendingWindow } from "./messages/message-sender.ts";

/**
 * A time as every API answer and hook body renders it: Seed's (Django REST Framework's) form, ISO 8601 in UTC with
 * six fraction digits and `Z` (`2016-08-29T11:50:03.123000Z`), where `toISOString()` gives three. Hubs written for
 * Seed read these strings by position (HelloMama: `created_at.replace("T", " ")[:-8]` for the seconds), so the
 * fraction is always there, zeros included. The stored times have milliseconds: the last three digits are `000`.
 * Null (or undefined) stays null. A string operation on `toISOString()`, cheap enough for the send path's answers.
 * What clients send is read in either form (`new Date` and the `date-time` format take any number of digits).
 */
export function toSeedTime(at: Date): string;
export function toSeedTime(at: Date | null | undefined): string | null;
export function toSeedTime(at: Date | null | undefined): string | null {
  return at ? `${at.toISOString().slice(0, -1)}000Z` : null;
}

/** The first and last times Postgres stores and JavaScript renders as they are: years 0001 to 9999, in UTC. */
const EARLIEST_TIME = Date.parse("0001-01-01T00:00:00.000Z");
const LATEST_TIME = Date.parse("9999-12-31T23:59:59.999Z");

/**
 * Whether `at` is a time Tidings can store and answer with: in the years 0001 to 9999 in UTC (Postgres refuses year
 * 0000, and `toISOString()` renders a year after 9999 as `+010000-…`, which Postgres refuses too). False for an
 * invalid Date.
 */
export function isStorableTime(at: Date): boolean {
  const ms = at.getTime();
  return ms >= EARLIEST_TIME && ms <= LATEST_TIME;
}

/** Whether the runtime knows `zone` as an IANA time zone (e.g. `Africa/Johannesburg`). */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/**
 * The rules of a sending window a schema cannot say (a window that is not empty, a real IANA zone), as
 * per-field problems under `field`; empty when it is fine.
 */
export function sendingWindowProblems(
  window: SendingWindow | null | undefined,
  field: string,
): { field: string; message: string }[] {
  const problems: { field: string; message: string }[] = [];
  if (window && window.start === window.end) {
    problems.push({ field: `${field}.end`, message: "must differ from start" });
  }
  if (window?.timezone && !isTimeZone(window.timezone)) {
    problems.push({ field: `${field}.timezone`, message: "not an IANA time zone" });
  }
  return problems;
}
