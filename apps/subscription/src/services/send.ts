import type { Broker, MessageContext, OutboxMessage } from "@tidings/amqp";
import { deterministicId, type SubscriptionSendNext } from "@tidings/contracts";
import { publish } from "@tidings/hooks";
import type { Logger } from "@tidings/service-kit";
import type { Db, Tx } from "../db.ts";
import type { MessageSetCopy, Prisma } from "../generated/prisma/client.ts";
import { channelFor, channelPreferences, type OutboundMessage, outboundFor } from "./outbound.ts";
import {
  DEFAULT_POLICY,
  dayIn,
  dueAfterSlots,
  policiesFor,
  SlotCounter,
  sequencesToSend,
} from "./position.ts";
import { toSubscription } from "./subscriptions.ts";

interface LockedSubscription {
  id: string;
  identity: string;
  messageset: number;
  next_sequence_number: number;
  initial_sequence_number: number;
  lang: string;
  active: boolean;
  completed: boolean;
  schedule: number;
  process_status: number;
  metadata: Prisma.JsonObject | null;
  last_slot: Date | null;
  anchor_at: Date | null;
  send_day: Date | null;
  day_sends: number;
}

export interface SendOptions {
  fallbackLanguage: string;
  /** Sets whose subscriptions advance without sending. */
  dryRunSets?: ReadonlySet<number>;
  log: Logger;
  correlationId?: string;
}

export interface BatchOutcome {
  /** Subscriptions sent (or advanced, for dry-run sets) in this slot. */
  sent: number;
  completed: number;
  /** Not due (inactive, completed, moved to another schedule, already sent in this or a later slot, or ahead of its anchor). */
  skipped: number;
  /** Due, but their content is not in the local copy yet: to be retried on their own. */
  deferred: string[];
}

/** A condition that clears by itself (content not mirrored yet): the message is retried with backoff. */
export class ContentNotYetAvailable extends Error {}

/** Ready, still on the fired schedule, and not yet sent in this slot or a later one. */
const isDue = (sub: LockedSubscription, schedule: number, slot: Date): boolean =>
  sub.active &&
  !sub.completed &&
  sub.process_status === 0 &&
  sub.schedule === schedule &&
  !(sub.last_slot && sub.last_slot >= slot);

const key = (set: number, lang: string) => `${set}\u001f${lang}`;
const messageKey = (set: number, lang: string, sequence: number) => `${key(set, lang)}\u001f${sequence}`;

/** How many messages each (set, language) has in the local copy. */
export async function countMessages(tx: Db | Tx, sets: number[]): Promise<Map<string, number>> {
  const rows = await tx.$queryRawUnsafe<{ messageset: number; lang: string; n: number }[]>(
    "SELECT messageset, lang, count(*)::int AS n FROM message_copy WHERE messageset = ANY($1::int[]) GROUP BY 1, 2",
    sets,
  );
  return new Map(rows.map((r) => [key(r.messageset, r.lang), r.n]));
}

/** The language a subscription is sent in: its own, or the fallback when its set has nothing in it. */
export function sendLanguage(
  counts: Map<string, number>,
  set: number,
  lang: string,
  fallback: string,
): { lang: string; count: number } {
  const own = counts.get(key(set, lang)) ?? 0;
  if (own === 0 && fallback && (counts.get(key(set, fallback)) ?? 0) > 0) {
    return { lang: fallback, count: counts.get(key(set, fallback)) ?? 0 };
  }
  return { lang, count: own };
}

interface Planned {
  sub: LockedSubscription;
  set: MessageSetCopy;
  lang: string;
  count: number;
  /** The sequence numbers this slot sends, in order (more than one while catching up). */
  sequences: number[];
  /** Messages already sent to it on the slot's day. */
  sentToday: number;
}

/**
 * Sends a batch of subscriptions the messages due in a slot, in one transaction: lock the rows (in id
 * order, so overlapping batches cannot deadlock); keep those that are due; pick each one's messages from
 * the local copy in its language (or the fallback language when its set has nothing in it): its next one,
 * or, with an anchor, those its set's catch-up policy sends (position.ts); write every `outbound.send` to
 * the outbox with an id derived from (subscription, set, sequence); advance every position with one
 * compare-and-set update, or complete the subscription and roll it over to its set's `next_set`.
 * Redelivery, a repeated trigger or a second worker can therefore never send a message twice.
 */
export async function sendBatch(
  db: Db,
  command: SubscriptionSendNext,
  options: SendOptions,
): Promise<BatchOutcome> {
  const slot = new Date(command.slot);
  return db.$transaction(async (tx) => {
    const locked = await tx.$queryRawUnsafe<LockedSubscription[]>(
      `SELECT id, identity, messageset, next_sequence_number, initial_sequence_number, lang, active, completed,
              schedule, process_status, metadata, last_slot, anchor_at, send_day, day_sends
       FROM subscription WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`,
      command.subscription_ids,
    );
    const due = locked.filter((sub) => isDue(sub, command.schedule, slot));
    const outcome: BatchOutcome = {
      sent: 0,
      completed: 0,
      skipped: command.subscription_ids.length - due.length,
      deferred: [],
    };
    if (due.length === 0) {
      return outcome;
    }

    const setIds = [...new Set(due.map((s) => s.messageset))];
    const sets = new Map(
      (await tx.messageSetCopy.findMany({ where: { id: { in: setIds } } })).map((s) => [s.id, s]),
    );
    const counts = await countMessages(tx, setIds);
    const anchored = due.some((s) => s.anchor_at);
    const schedule = await tx.scheduleCopy.findUnique({ where: { id: command.schedule } });
    const policies = await policiesFor(tx, setIds);
    const today = dayIn(slot, schedule?.timezone ?? "UTC");
    // The schedule's slots up to this one, listed once for the batch's anchors.
    const slots = schedule && anchored ? new SlotCounter(schedule, slot) : null;
    const planned: Planned[] = [];
    for (const sub of due) {
      const set = sets.get(sub.messageset);
      const { lang, count } = sendLanguage(counts, sub.messageset, sub.lang, options.fallbackLanguage);
      if (lang !== sub.lang) {
        options.log.warn(
          { subscriptionId: sub.id, lang: sub.lang, fallback: lang },
          "no messages in language; falling back",
        );
      }
      if (!set || count === 0 || (sub.anchor_at && !slots)) {
        outcome.deferred.push(sub.id);
        continue;
      }
      const dueSeq =
        sub.anchor_at && slots
          ? dueAfterSlots(slots.count(sub.anchor_at), sub.initial_sequence_number, count)
          : null;
      const sentToday = sub.send_day && isoDay(sub.send_day) === today ? sub.day_sends : 0;
      const sequences = sequencesToSend(
        sub.next_sequence_number,
        dueSeq,
        policies.get(sub.messageset) ?? DEFAULT_POLICY,
        sentToday,
      );
      if (sequences.length === 0) {
        outcome.skipped++;
        continue;
      }
      planned.push({ sub, set, lang, count, sequences, sentToday });
    }

    const messages = await loadMessages(tx, planned);
    const preferences = await channelPreferences(
      tx,
      planned.map((p) => p.sub.identity),
    );
    const events: OutboxMessage[] = [];
    const updates: object[] = [];
    const completions: Planned[] = [];
    for (const plan of planned) {
      const { sub, set, lang, count, sequences, sentToday } = plan;
      const found = sequences.map((sequence) => messages.get(messageKey(sub.messageset, lang, sequence)));
      if (found.some((m) => !m)) {
        outcome.deferred.push(sub.id);
        continue;
      }
      // prepend_next_delivery goes out with the first message, then is cleared.
      const { prepend_next_delivery: prepend, ...metadata } = sub.metadata ?? {};
      const dryRun = options.dryRunSets?.has(sub.messageset) ?? false;
      if (!dryRun) {
        sequences.forEach((sequence, i) => {
          const id = deterministicId("outbound", sub.id, sub.messageset, sequence);
          events.push({
            name: "outbound.send",
            messageId: id,
            correlationId: options.correlationId,
            payload: outboundFor({
              id,
              identity: sub.identity,
              subscription: sub.id,
              sequenceNumber: sequence,
              contentType: set.contentType,
              channel: channelFor(preferences.get(sub.identity), set.contentType, set.channel),
              message: found[i] as OutboundMessage,
              prepend: i === 0 && typeof prepend === "string" ? prepend : undefined,
              sendingWindow: policies.get(sub.messageset)?.sendingWindow,
              subscriptionMetadata: sub.metadata,
            }),
          });
        });
      }
      const lastSent = sequences.at(-1) as number;
      const last = lastSent >= count;
      updates.push({
        id: sub.id,
        expected: sub.next_sequence_number,
        next: last ? lastSent : lastSent + 1,
        done: last,
        metadata,
        day_sends: sentToday + sequences.length,
      });
      if (last) {
        completions.push(plan);
      }
    }

    await advance(tx, updates, slot, today);
    for (const { sub, set } of completions) {
      // An anchored subscription's successor counts its schedule from this slot.
      events.push(...(await completionEvents(tx, sub.id, set, sub.anchor_at ? slot : null, options)));
    }
    await publish(tx, ...events);
    outcome.sent = updates.length;
    outcome.completed = completions.length;
    return outcome;
  });
}

/**
 * The events of a subscription that was just completed: `subscription.completed`, and the rollover to its
 * set's `next_set` on that set's default schedule, same identity and language, anchored at `anchorAt`
 * (null: none). The rollover's id is derived from the completed one's; there is none when the identity already
 * has an active subscription to that set (one active subscription per identity and set).
 */
export async function completionEvents(
  tx: Tx,
  id: string,
  set: MessageSetCopy,
  anchorAt: Date | null,
  options: { log: Pick<Logger, "warn">; correlationId?: string },
): Promise<OutboxMessage[]> {
  const completed = await tx.subscription.findUniqueOrThrow({ where: { id } });
  const events: OutboxMessage[] = [
    {
      name: "subscription.completed",
      payload: toSubscription(completed),
      correlationId: options.correlationId,
    },
  ];
  const next = set.nextSet ? await tx.messageSetCopy.findUnique({ where: { id: set.nextSet } }) : null;
  if (set.nextSet && (!next || next.deleted)) {
    options.log.warn({ subscriptionId: id, nextSet: set.nextSet }, "next_set is unknown; no rollover");
  } else if (next) {
    // An identity already actively subscribed to the next set (a hub subscribed her to it) keeps that one.
    const [row] = await tx.subscription.createManyAndReturn({
      data: [
        {
          id: deterministicId("rollover", id),
          identity: completed.identity,
          lang: completed.lang,
          messagesetId: next.id,
          scheduleId: next.defaultSchedule,
          anchorAt,
        },
      ],
      skipDuplicates: true,
    });
    if (row) {
      events.push({
        name: "subscription.created",
        payload: toSubscription(row),
        correlationId: options.correlationId,
      });
    } else {
      options.log.warn(
        { subscriptionId: id, nextSet: next.id },
        "already subscribed to next_set; no rollover",
      );
    }
  }
  return events;
}

const isoDay = (d: Date) => d.toISOString().slice(0, 10);

/** The messages to send, in one query: keyed by set, language and sequence number. */
async function loadMessages(tx: Tx, planned: Planned[]): Promise<Map<string, OutboundMessage>> {
  if (planned.length === 0) {
    return new Map();
  }
  const wanted = planned.flatMap((p) => p.sequences.map((s) => ({ m: p.sub.messageset, l: p.lang, s })));
  const rows = await tx.$queryRawUnsafe<
    {
      messageset: number;
      sequence_number: number;
      lang: string;
      text_content: string | null;
      metadata: Prisma.JsonObject;
      binary_content_url: string | null;
    }[]
  >(
    `SELECT DISTINCT c.messageset, c.sequence_number, c.lang, c.text_content, c.metadata, c.binary_content_url
     FROM message_copy c JOIN jsonb_to_recordset($1::jsonb) AS w(m int, l text, s int)
       ON c.messageset = w.m AND c.lang = w.l AND c.sequence_number = w.s`,
    JSON.stringify(wanted),
  );
  return new Map(
    rows.map((r) => [
      messageKey(r.messageset, r.lang, r.sequence_number),
      { text: r.text_content, metadata: r.metadata, binaryUrl: r.binary_content_url },
    ]),
  );
}

/**
 * Moves every position in one statement, each only from the position it was read at (compare-and-set):
 * if any row moved meanwhile the count differs and the whole batch rolls back, to be retried.
 */
async function advance(tx: Tx, updates: object[], slot: Date, day: string): Promise<void> {
  if (updates.length === 0) {
    return;
  }
  const changed = await tx.$executeRawUnsafe(
    `UPDATE subscription AS s SET
       next_sequence_number = u.next,
       completed = u.done,
       active = NOT u.done,
       process_status = CASE WHEN u.done THEN 2 ELSE s.process_status END,
       metadata = u.metadata,
       last_slot = $2,
       send_day = $3::date,
       day_sends = u.day_sends,
       updated_at = now()
     FROM jsonb_to_recordset($1::jsonb) AS u(id uuid, expected int, next int, done boolean, metadata jsonb, day_sends int)
     WHERE s.id = u.id AND s.next_sequence_number = u.expected`,
    JSON.stringify(updates),
    slot,
    day,
  );
  if (changed !== updates.length) {
    throw new Error(`${updates.length - changed} subscriptions moved while they were being sent`);
  }
}

/**
 * One `subscription.send-next` command: its batch is sent; subscriptions whose content is not in the local
 * copy yet wait in a command of their own, or, when that is the whole batch, the command is retried (with
 * backoff) until the content arrives.
 */
export async function sendNext(
  db: Db,
  broker: Broker,
  command: SubscriptionSendNext,
  ctx: MessageContext,
  options: Omit<SendOptions, "log" | "correlationId">,
): Promise<void> {
  const outcome = await sendBatch(db, command, {
    ...options,
    log: ctx.log,
    correlationId: ctx.correlationId,
  });
  ctx.log.debug({ ...outcome, deferred: outcome.deferred.length }, "send-next handled");
  if (outcome.deferred.length === command.subscription_ids.length) {
    throw new ContentNotYetAvailable(
      `content for ${outcome.deferred.length} subscriptions is not in the local copy`,
    );
  }
  if (outcome.deferred.length > 0) {
    await broker.publish(
      "subscription.send-next",
      { ...command, subscription_ids: outcome.deferred },
      {
        messageId: deterministicId("send-next", command.slot, ...outcome.deferred),
        correlationId: ctx.correlationId,
      },
    );
  }
}
