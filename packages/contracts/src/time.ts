import type { SendingWindow } from "./messages/message-sender.ts";

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
