import {
  isTimeZone,
  type OutboundPriority,
  type SendingWindow,
  sendingWindowProblems,
} from "@tidings/contracts";
import { parsePhoneNumberFromString } from "libphonenumber-js";
import { senderError } from "../errors.ts";
import { Prisma } from "../generated/prisma/client.ts";

// Sending windows (quiet hours): a message goes out only while the recipient's local time is inside the
// window; outside it, it waits (outbound.not_before) until the window opens.

/** The rules a schema can't say: a real IANA zone, and a window that is not empty. 400 otherwise. */
export function validateWindow(window: SendingWindow | null | undefined, field: string): void {
  const problems = sendingWindowProblems(window, field);
  if (problems.length > 0) {
    throw senderError("MESSAGE_SENDER_INVALID_SENDING_WINDOW", "The sending window is invalid", problems);
  }
}

/**
 * Countries with one time zone, by ISO code (from the phone number's country calling code). Countries with
 * several zones (US, CA, BR, RU, AU, MX, ID, ...) are left out: their recipients fall back to the window's
 * `timezone` unless their identity has one.
 */
const COUNTRY_ZONES: Readonly<Record<string, string>> = {
  ZA: "Africa/Johannesburg",
  KE: "Africa/Nairobi",
  NG: "Africa/Lagos",
  GH: "Africa/Accra",
  UG: "Africa/Kampala",
  TZ: "Africa/Dar_es_Salaam",
  RW: "Africa/Kigali",
  ET: "Africa/Addis_Ababa",
  MW: "Africa/Blantyre",
  ZM: "Africa/Lusaka",
  ZW: "Africa/Harare",
  MZ: "Africa/Maputo",
  BW: "Africa/Gaborone",
  NA: "Africa/Windhoek",
  LS: "Africa/Maseru",
  SZ: "Africa/Mbabane",
  SN: "Africa/Dakar",
  CI: "Africa/Abidjan",
  CM: "Africa/Douala",
  EG: "Africa/Cairo",
  MA: "Africa/Casablanca",
  IN: "Asia/Kolkata",
  PK: "Asia/Karachi",
  BD: "Asia/Dhaka",
  NP: "Asia/Kathmandu",
  PH: "Asia/Manila",
  VN: "Asia/Ho_Chi_Minh",
  TH: "Asia/Bangkok",
  JP: "Asia/Tokyo",
  KR: "Asia/Seoul",
  GB: "Europe/London",
  IE: "Europe/Dublin",
  FR: "Europe/Paris",
  DE: "Europe/Berlin",
  NL: "Europe/Amsterdam",
  BE: "Europe/Brussels",
  IT: "Europe/Rome",
  ES: "Europe/Madrid",
  CH: "Europe/Zurich",
  SE: "Europe/Stockholm",
  NO: "Europe/Oslo",
  PL: "Europe/Warsaw",
  NZ: "Pacific/Auckland",
  CO: "America/Bogota",
  PE: "America/Lima",
  GT: "America/Guatemala",
  HT: "America/Port-au-Prince",
};

/** The zone of a phone number's country, when the country has only one; undefined otherwise. */
export function zoneOfNumber(address: string): string | undefined {
  const country = parsePhoneNumberFromString(address)?.country;
  return country && COUNTRY_ZONES[country];
}

/** Minutes since local midnight in `zone` at `at` (seconds included, as a fraction). */
function localMinutes(at: Date, zone: string): number {
  const parts = new Intl.DateTimeFormat("en-GB", {
    timeZone: zone,
    hourCycle: "h23",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  }).formatToParts(at);
  const part = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return part("hour") * 60 + part("minute") + (part("second") + at.getUTCMilliseconds() / 1000) / 60;
}

const minutesOf = (time: string) => Number(time.slice(0, 2)) * 60 + Number(time.slice(3, 5));

/**
 * Undefined when `now` is inside the window (in `zone`); otherwise the instant it next opens. (Across a
 * daylight-saving change the opening may be off by the change, at most an hour.)
 */
export function nextOpening(window: SendingWindow, zone: string, now: Date): Date | undefined {
  const local = localMinutes(now, zone);
  const start = minutesOf(window.start);
  const end = minutesOf(window.end);
  const inside = start < end ? local >= start && local < end : local >= start || local < end;
  if (inside) {
    return undefined;
  }
  const wait = (start - local + 1440) % 1440;
  return new Date(now.getTime() + Math.round(wait * 60_000));
}

/**
 * The recipient's zone: the identity's own, else its phone number's country (one-zone countries), else
 * `fallbackZone` (the sending window's `timezone`), else UTC.
 */
export const recipientZone = (
  fallbackZone: string | undefined,
  address: string,
  identityZone: string | null | undefined,
): string =>
  (identityZone && isTimeZone(identityZone) ? identityZone : undefined) ??
  zoneOfNumber(address) ??
  fallbackZone ??
  "UTC";

/** The local date in `zone` at `at`, as YYYY-MM-DD. */
export const localDate = (at: Date, zone: string): string =>
  new Intl.DateTimeFormat("en-CA", {
    timeZone: zone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
  }).format(at);

/** The next local midnight in `zone` after `now` (off by a daylight-saving change that night, at most an hour). */
export const nextMidnight = (now: Date, zone: string): Date =>
  new Date(now.getTime() + Math.round((1440 - localMinutes(now, zone)) * 60_000));

interface SendTimingInput {
  priority?: OutboundPriority;
  sending_window?: SendingWindow | null;
  not_before?: string | null;
  expires_at?: string | null;
  ttl_seconds?: number;
}

/**
 * The outbound columns for a send's timing fields, validated (400 for a bad window, or both `expires_at` and
 * `ttl_seconds`). `ttl_seconds` counts from now.
 */
export function sendTimingOf(input: SendTimingInput, field = "body") {
  validateWindow(input.sending_window, `${field}.sending_window`);
  if (input.expires_at && input.ttl_seconds !== undefined) {
    throw senderError("VALIDATION_FAILED", "Give expires_at or ttl_seconds, not both", [
      { field: `${field}.ttl_seconds`, message: "not with expires_at" },
    ]);
  }
  const expiresAt =
    input.ttl_seconds !== undefined
      ? new Date(Date.now() + input.ttl_seconds * 1000)
      : input.expires_at
        ? new Date(input.expires_at)
        : null;
  return {
    priority: input.priority ?? "normal",
    sendingWindow: input.sending_window ?? Prisma.DbNull,
    notBefore: input.not_before ? new Date(input.not_before) : null,
    expiresAt,
  } satisfies Partial<Prisma.OutboundCreateManyInput>;
}
