import type { BehindSubscription } from "@tidings/contracts";
import { publish } from "@tidings/hooks";
import type { Logger } from "@tidings/service-kit";
import type { Db } from "../db.ts";
import type { Subscription as SubscriptionRow } from "../generated/prisma/client.ts";
import { dueAfterSlots, dueSequence, nthSlotAfter, SlotCounter } from "./position.ts";
import { completionEvents, countMessages, sendLanguage } from "./send.ts";
import { toSubscription } from "./subscriptions.ts";

/** Subscriptions read per page while looking for the behind ones. */
const PAGE = 1_000;
/** How far down a `next_set` chain the maths and a fast-forward go. */
const MAX_CHAIN = 20;

interface Behind {
  row: SubscriptionRow;
  report: BehindSubscription;
  /** When the set's last message was due, if it was: a fast-forward completes it, rolling over from then. */
  finishedAt: Date | null;
  /** Its expected `next_sequence_number` in its own set (the report's may be down the `next_set` chain). */
  next: number;
}

/**
 * Seed's "behind" maths, computed when asked: a ready subscription's due message is the one its schedule
 * should have sent by `now`, counting slots from its anchor (or, as Seed did, from its creation), starting
 * at `initial_sequence_number`; it is behind when that is at or past `next_sequence_number`.
 * `messages_behind` counts the due messages not sent yet, and the expected position follows the `next_set`
 * chain when a set's last message is due (its successor counted from that slot, as Seed's
 * `fast_forward_lifecycle` does). Subscriptions are read in keyset pages.
 */
export async function findBehind(
  db: Db,
  now: Date,
  fallbackLanguage: string,
  filter: { messageset?: number; ids?: string[] },
): Promise<Behind[]> {
  const schedules = new Map(
    (await db.scheduleCopy.findMany({ where: { deleted: false } })).map((s) => [s.id, s]),
  );
  const sets = new Map(
    (await db.messageSetCopy.findMany({ where: { deleted: false } })).map((s) => [s.id, s]),
  );
  const counts = await countMessages(db, [...sets.keys()]);
  const counters = new Map([...schedules.values()].map((s) => [s.id, new SlotCounter(s, now)]));
  const found: Behind[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await db.subscription.findMany({
      where: {
        active: true,
        completed: false,
        processStatus: 0,
        messagesetId: filter.messageset,
        id: { in: filter.ids, gt: after },
      },
      orderBy: { id: "asc" },
      take: PAGE,
    });
    for (const row of page) {
      const schedule = schedules.get(row.scheduleId);
      const counter = counters.get(row.scheduleId);
      const { count } = sendLanguage(counts, row.messagesetId, row.lang, fallbackLanguage);
      if (!schedule || !counter || count === 0) {
        continue;
      }
      const anchor = row.anchorAt ?? row.createdAt;
      const due = dueAfterSlots(counter.count(anchor), row.initialSequenceNumber, count);
      if (due < row.nextSequenceNumber) {
        continue;
      }
      const finishedAt =
        due >= count ? nthSlotAfter(schedule, anchor, count - row.initialSequenceNumber + 1) : null;
      const report: BehindSubscription = {
        subscription: row.id,
        identity: row.identity,
        messages_behind: due - row.nextSequenceNumber + 1,
        current_messageset: row.messagesetId,
        current_sequence_number: row.nextSequenceNumber,
        expected_messageset: row.messagesetId,
        expected_sequence_number: finishedAt ? count : due + 1,
      };
      // Down the next_set chain while each set's last message is due: where it should be by now.
      let at = finishedAt;
      let set = sets.get(row.messagesetId);
      for (let depth = 0; at && set?.nextSet && depth < MAX_CHAIN; depth++) {
        const next = sets.get(set.nextSet);
        const nextSchedule = next && schedules.get(next.defaultSchedule);
        const size = next ? sendLanguage(counts, next.id, row.lang, fallbackLanguage).count : 0;
        if (!next || !nextSchedule || size === 0) {
          break;
        }
        const nextDue = dueSequence(at, 1, nextSchedule, now, size);
        report.messages_behind += nextDue;
        report.expected_messageset = next.id;
        report.expected_sequence_number = nextDue >= size ? size : nextDue + 1;
        at = nextDue >= size ? nthSlotAfter(nextSchedule, at, size) : null;
        set = next;
      }
      found.push({ row, finishedAt, report, next: finishedAt ? count : due + 1 });
    }
    if (page.length < PAGE) {
      return found;
    }
    after = page.at(-1)?.id;
  }
}

/**
 * Moves behind subscriptions to their expected position without sending the messages skipped (Seed's
 * fast_forward_lifecycle): the next one is the message after the due one; when the set's last message is
 * due, the subscription is completed and rolled over to its `next_set`, anchored at the slot that last
 * message was due in, and the successor is fast-forwarded in turn. Each moves by compare-and-set from the
 * position it was found at, with `subscription.updated` (or `.completed` and `.created`), so running it
 * again, or at the same time as a send, never moves one twice. Returns the subscriptions it moved.
 */
export async function fastForward(
  db: Db,
  now: Date,
  options: {
    fallbackLanguage: string;
    messageset?: number;
    ids?: string[];
    log: Pick<Logger, "warn">;
    correlationId?: string;
  },
  depth = 0,
): Promise<string[]> {
  const behind = await findBehind(db, now, options.fallbackLanguage, options);
  const moved: string[] = [];
  const successors: string[] = [];
  for (const { row, next, finishedAt } of behind) {
    const done = await db.$transaction(async (tx) => {
      const { count } = await tx.subscription.updateMany({
        where: { id: row.id, nextSequenceNumber: row.nextSequenceNumber, active: true, completed: false },
        data: finishedAt
          ? {
              nextSequenceNumber: next,
              completed: true,
              active: false,
              processStatus: 2,
            }
          : { nextSequenceNumber: next },
      });
      if (count === 0) {
        return false;
      }
      const set = await tx.messageSetCopy.findUnique({ where: { id: row.messagesetId } });
      if (finishedAt && set) {
        const events = await completionEvents(tx, row.id, set, finishedAt, options);
        await publish(tx, ...events);
        successors.push(
          ...events
            .filter((e) => e.name === "subscription.created")
            .map((e) => (e.payload as { id: string }).id),
        );
      } else {
        await publish(tx, {
          name: "subscription.updated",
          payload: toSubscription(await tx.subscription.findUniqueOrThrow({ where: { id: row.id } })),
          correlationId: options.correlationId,
        });
      }
      return true;
    });
    if (done) {
      moved.push(row.id);
    }
  }
  if (successors.length > 0 && depth < MAX_CHAIN) {
    moved.push(
      ...(await fastForward(db, now, { ...options, messageset: undefined, ids: successors }, depth + 1)),
    );
  }
  return moved;
}
