import { CronExpressionParser } from "cron-parser";

/** Why a cron expression or time zone is unusable, or null when it is fine. */
export function cronProblem(cron: string, timezone: string): string | null {
  if (!isTimeZone(timezone)) {
    return `"${timezone}" is not an IANA time zone`;
  }
  const fields = cron.trim().split(/\s+/);
  if (fields.length !== 5) {
    return `"${cron}" is not a valid crontab string: expected 5 fields (minute hour day-of-month month day-of-week), got ${fields.length}`;
  }
  try {
    CronExpressionParser.parse(cron, { tz: timezone });
    return null;
  } catch (err) {
    return `"${cron}" is not a valid crontab string: ${(err as Error).message}`;
  }
}

export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** The first slot strictly after `after`. */
export function nextSlot(cron: string, timezone: string, after: Date): Date {
  return CronExpressionParser.parse(cron, { tz: timezone, currentDate: after }).next().toDate();
}

/** The latest slot at or before `at`. */
export function latestSlot(cron: string, timezone: string, at: Date): Date {
  return CronExpressionParser.parse(cron, { tz: timezone, currentDate: new Date(at.getTime() + 1) })
    .prev()
    .toDate();
}
