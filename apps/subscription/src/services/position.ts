import type { CatchUpPolicy, SendingWindow } from "@tidings/contracts";
import { CronExpressionParser } from "cron-parser";
import type { Db, Tx } from "../db.ts";

/** A schedule as the local copy holds it. */
export interface Cron {
  cron: string;
  timezone: string;
}

/** At most this many slots are counted (a daily schedule over 27 years); beyond it a position is capped. */
const MAX_SLOTS = 10_000;

/** The schedule's slots in (from, to]. */
export function slotsBetween(schedule: Cron, from: Date, to: Date): number {
  if (to <= from) {
    return 0;
  }
  const runs = CronExpressionParser.parse(schedule.cron, {
    tz: schedule.timezone,
    currentDate: from,
    endDate: to,
  });
  let n = 0;
  while (n < MAX_SLOTS && runs.hasNext()) {
    runs.next();
    n++;
  }
  return n;
}

/**
 * Counts a schedule's slots in (from, until] for many `from`s: the slot times are listed once, back to the
 * earliest `from` asked (extended when an earlier one comes), and each count is a binary search. What a
 * page of subscriptions with different anchors needs, instead of walking the schedule for each one.
 */
export class SlotCounter {
  /** Slot times (ms), ascending, covering (start, until]. */
  private times: number[] = [];
  private start: Date | null = null;

  constructor(
    private readonly schedule: Cron,
    private readonly until: Date,
  ) {}

  count(from: Date): number {
    if (from >= this.until) {
      return 0;
    }
    if (!this.start || from < this.start) {
      const to = this.start ?? this.until;
      const earlier: number[] = [];
      const runs = CronExpressionParser.parse(this.schedule.cron, {
        tz: this.schedule.timezone,
        currentDate: from,
        endDate: to,
      });
      while (earlier.length + this.times.length < MAX_SLOTS && runs.hasNext()) {
        earlier.push(runs.next().getTime());
      }
      this.times = [...earlier, ...this.times];
      this.start = from;
    }
    // Slots after `from`: those from the first one later than it.
    let lo = 0;
    let hi = this.times.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.times[mid] as number) <= from.getTime()) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return this.times.length - lo;
  }
}

/** The time of the schedule's `n`th slot after `from` (n >= 1). */
export function nthSlotAfter(schedule: Cron, from: Date, n: number): Date {
  const runs = CronExpressionParser.parse(schedule.cron, { tz: schedule.timezone, currentDate: from });
  let at = from;
  for (let i = 0; i < Math.min(n, MAX_SLOTS); i++) {
    at = runs.next().toDate();
  }
  return at;
}

/**
 * The sequence number that should have been sent by `at` (in the slot at or before it): the initial one at
 * the anchor's first slot, one more per slot since, at most the set's last. 0 before the first slot.
 */
export function dueSequence(
  anchor: Date,
  initial: number,
  schedule: Cron,
  at: Date,
  setSize: number,
): number {
  return dueAfterSlots(slotsBetween(schedule, anchor, at), initial, setSize);
}

/** The sequence number due after `slots` slots of the schedule since the anchor. */
export const dueAfterSlots = (slots: number, initial: number, setSize: number): number =>
  slots === 0 ? 0 : Math.min(setSize, initial + slots - 1);

/** The day (YYYY-MM-DD) of a moment in a time zone: what "a day" means for `max_per_day`. */
export const dayIn = (at: Date, timezone: string): string =>
  at.toLocaleDateString("en-CA", { timeZone: timezone });

export interface Policy {
  catchUp: CatchUpPolicy;
  maxPerDay: number;
  sendingWindow: SendingWindow | null;
}

export const DEFAULT_POLICY: Policy = { catchUp: "send_all", maxPerDay: 2, sendingWindow: null };

/** A set's policy row (or none: the defaults). */
export const toPolicy = (
  row: { catchUp: string; maxPerDay: number; sendingWindow: unknown } | null | undefined,
): Policy =>
  row
    ? {
        catchUp: row.catchUp as CatchUpPolicy,
        maxPerDay: row.maxPerDay,
        sendingWindow: (row.sendingWindow as SendingWindow | null) ?? null,
      }
    : DEFAULT_POLICY;

/** The catch-up policies of some sets (the defaults for a set without a row of its own). */
export async function policiesFor(db: Db | Tx, sets: number[]): Promise<Map<number, Policy>> {
  const rows = await db.messageSetPolicy.findMany({ where: { messagesetId: { in: sets } } });
  const byId = new Map(rows.map((r) => [r.messagesetId, r]));
  return new Map(
    sets.map((id) => {
      const row = byId.get(id);
      return [id, toPolicy(row)];
    }),
  );
}

/**
 * The sequence numbers one slot sends a subscription, in order. Without an anchor: its next message (Seed).
 * With one, `due` is the message of this slot:
 * - none while it is ahead (`next > due`, e.g. before the anchor's first slot);
 * - `send_all`: from `next` up to `due`, at most `maxPerDay` a day (`sentToday` already went out today),
 *   but always at least one a slot;
 * - `skip_to_current`: only `due` (the missed messages are never sent);
 * - `latest_only`: the latest missed message (`due - 1`) and `due`: one reminder of what was missed.
 */
export function sequencesToSend(
  next: number,
  due: number | null,
  policy: Pick<Policy, "catchUp" | "maxPerDay">,
  sentToday: number,
): number[] {
  if (due === null) {
    return [next];
  }
  if (next > due) {
    return [];
  }
  const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
  switch (policy.catchUp) {
    case "send_all":
      // One a slot is always allowed (the regular pace); the catch-up fills the day up to maxPerDay.
      return range(next, Math.min(due, next + Math.max(1, policy.maxPerDay - sentToday) - 1));
    case "skip_to_current":
      return [due];
    case "latest_only":
      return next < due ? [due - 1, due] : [due];
  }
}
