import { type SubscriptionCalendar, toSeedTime } from "@tidings/contracts";
import { CronExpressionParser } from "cron-parser";
import type { Db } from "../db.ts";
import { subscriptionNotFound } from "../errors.ts";
import { dayIn, dueAfterSlots, policiesFor, sequencesToSend, slotsBetween } from "./position.ts";
import { countMessages, sendLanguage } from "./send.ts";

/** At most this many dates are previewed, and at most this many slots looked at. */
const MAX_SENDS = 1_000;
const MAX_SLOTS = 5_000;

/**
 * The dates the rest of a subscription's set will be sent on, if nothing changes: the next runs of its
 * schedule from `now`, each sending what a slot would (its next message; with an anchor, what its set's
 * catch-up policy sends, several a day while it catches up), in its language or the fallback's. 404 for
 * an unknown subscription; an empty list when it is complete, inactive, or its schedule is unknown here.
 */
export async function subscriptionCalendar(
  db: Db,
  id: string,
  now: Date,
  fallbackLanguage: string,
): Promise<SubscriptionCalendar> {
  const sub = await db.subscription.findUnique({ where: { id } });
  if (!sub) {
    throw subscriptionNotFound(id);
  }
  const schedule = await db.scheduleCopy.findUnique({ where: { id: sub.scheduleId } });
  const policy = sub.anchorAt ? (await policiesFor(db, [sub.messagesetId])).get(sub.messagesetId) : undefined;
  const calendar: SubscriptionCalendar = {
    subscription: sub.id,
    schedule: sub.scheduleId,
    timezone: schedule?.timezone ?? "UTC",
    catch_up: policy?.catchUp ?? null,
    sends: [],
  };
  if (!schedule || schedule.deleted || !sub.active || sub.completed) {
    return calendar;
  }
  const counts = await countMessages(db, [sub.messagesetId]);
  const { count } = sendLanguage(counts, sub.messagesetId, sub.lang, fallbackLanguage);
  const runs = CronExpressionParser.parse(schedule.cron, { tz: schedule.timezone, currentDate: now });
  let next = sub.nextSequenceNumber;
  let day = sub.sendDay?.toISOString().slice(0, 10);
  let sentToday = sub.daySends;
  let anchorSlots: number | undefined;
  for (let slots = 0; next <= count && slots < MAX_SLOTS && calendar.sends.length < MAX_SENDS; slots++) {
    const at = runs.next().toDate();
    const today = dayIn(at, schedule.timezone);
    if (today !== day) {
      day = today;
      sentToday = 0;
    }
    // The anchor's slots up to this one: counted once, then one more per slot after the anchor.
    if (sub.anchorAt) {
      anchorSlots =
        anchorSlots === undefined
          ? slotsBetween(schedule, sub.anchorAt, at)
          : anchorSlots + (at > sub.anchorAt ? 1 : 0);
    }
    const due =
      anchorSlots === undefined ? null : dueAfterSlots(anchorSlots, sub.initialSequenceNumber, count);
    const sequences = policy ? sequencesToSend(next, due, policy, sentToday) : [next];
    for (const sequence of sequences) {
      calendar.sends.push({ sequence_number: sequence, at: toSeedTime(at) });
    }
    sentToday += sequences.length;
    next = (sequences.at(-1) ?? next - 1) + 1;
  }
  return calendar;
}
