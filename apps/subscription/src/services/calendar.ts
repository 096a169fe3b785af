import { CronExpressionParser } from "cron-parser";
import type { Db } from "../db.ts";

export interface Calendar {
  subscription: string;
  schedule: number;
  timezone: string;
  sends: { sequence_number: number; at: string }[];
}

/** At most this many dates are previewed (a long set on a daily schedule stays bounded). */
const MAX_SENDS = 1_000;

/**
 * The dates the rest of a subscription's set will be sent on, if nothing changes: the next runs of its
 * schedule from `now`, one per remaining message (in its language, or the fallback's). Null for an
 * unknown subscription; an empty list when it is complete, inactive, or its schedule is unknown here.
 */
export async function subscriptionCalendar(
  db: Db,
  id: string,
  now: Date,
  fallbackLanguage: string,
): Promise<Calendar | null> {
  const sub = await db.subscription.findUnique({ where: { id } });
  if (!sub) {
    return null;
  }
  const schedule = await db.scheduleCopy.findUnique({ where: { id: sub.scheduleId } });
  const calendar: Calendar = {
    subscription: sub.id,
    schedule: sub.scheduleId,
    timezone: schedule?.timezone ?? "UTC",
    sends: [],
  };
  if (!schedule || schedule.deleted || !sub.active || sub.completed) {
    return calendar;
  }
  let count = await db.messageCopy.count({ where: { messagesetId: sub.messagesetId, lang: sub.lang } });
  if (count === 0 && fallbackLanguage) {
    count = await db.messageCopy.count({ where: { messagesetId: sub.messagesetId, lang: fallbackLanguage } });
  }
  const runs = CronExpressionParser.parse(schedule.cron, { tz: schedule.timezone, currentDate: now });
  const last = Math.min(count, sub.nextSequenceNumber + MAX_SENDS - 1);
  for (let sequence = sub.nextSequenceNumber; sequence <= last; sequence++) {
    calendar.sends.push({ sequence_number: sequence, at: runs.next().toDate().toISOString() });
  }
  return calendar;
}
