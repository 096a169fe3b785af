import { type Broker, enqueue, type OutboxMessage } from "@tidings/amqp";
import { deterministicId, type SubscriptionSendNext } from "@tidings/contracts";
import type { Logger } from "@tidings/service-kit";
import type { Db, Tx } from "../db.ts";
import type { MessageSetCopy, Prisma } from "../generated/prisma/client.ts";
import { toSubscription } from "./subscriptions.ts";

/**
 * Pages through the ready subscriptions of a content schedule (keyset on id over a partial index, never
 * one huge query) and publishes them as `subscription.send-next` batches of `sendBatchSize` for competing
 * consumers. A fan-out that runs again (a redelivered trigger) may publish overlapping batches: the slot
 * guard in sendBatch makes each subscription send at most once per slot whatever arrives.
 */
export async function fanOut(
  db: Db,
  broker: Broker,
  command: { schedule: number; slot: string; correlationId?: string },
  sizes: { pageSize: number; sendBatchSize: number },
): Promise<number> {
  let after = "00000000-0000-0000-0000-000000000000";
  let total = 0;
  for (;;) {
    const page = await db.$queryRawUnsafe<{ id: string }[]>(
      `SELECT id FROM subscription
       WHERE schedule = $1 AND active AND NOT completed AND process_status = 0 AND id > $2::uuid
       ORDER BY id LIMIT $3`,
      command.schedule,
      after,
      sizes.pageSize,
    );
    const batches: string[][] = [];
    for (let i = 0; i < page.length; i += sizes.sendBatchSize) {
      batches.push(page.slice(i, i + sizes.sendBatchSize).map((r) => r.id));
    }
    await Promise.all(
      batches.map((ids) =>
        broker.publish(
          "subscription.send-next",
          { subscription_ids: ids, schedule: command.schedule, slot: command.slot },
          {
            messageId: deterministicId("send-next", command.slot, ...ids),
            correlationId: command.correlationId,
          },
        ),
      ),
    );
    total += page.length;
    const last = page.at(-1);
    if (!last || page.length < sizes.pageSize) {
      return total;
    }
    after = last.id;
  }
}

interface LockedSubscription {
  id: string;
  identity: string;
  messageset: number;
  next_sequence_number: number;
  lang: string;
  active: boolean;
  completed: boolean;
  schedule: number;
  process_status: number;
  metadata: Prisma.JsonObject | null;
  last_slot: Date | null;
}

export interface SendOptions {
  fallbackLanguage: string;
  /** Sets whose subscriptions advance without sending. */
  dryRunSets?: ReadonlySet<number>;
  log: Logger;
  correlationId?: string;
}

export interface BatchOutcome {
  sent: number;
  completed: number;
  /** Not due (inactive, completed, moved to another schedule, or already sent in this or a later slot). */
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

/** How many messages each (set, language) has in the local copy. */
async function countMessages(tx: Tx, sets: number[]): Promise<Map<string, number>> {
  const rows = await tx.$queryRawUnsafe<{ messageset: number; lang: string; n: number }[]>(
    "SELECT messageset, lang, count(*)::int AS n FROM message_copy WHERE messageset = ANY($1::int[]) GROUP BY 1, 2",
    sets,
  );
  return new Map(rows.map((r) => [key(r.messageset, r.lang), r.n]));
}

interface Planned {
  sub: LockedSubscription;
  set: MessageSetCopy;
  lang: string;
  count: number;
}

/**
 * Sends a batch of subscriptions the message due in a slot, in one transaction: lock the rows (in id
 * order, so overlapping batches cannot deadlock); keep those that are due; pick each one's message from the
 * local copy in its language (or the fallback language when its set has nothing in it); write every
 * `outbound.send` to the outbox with an id derived from (subscription, set, sequence); advance every
 * position with one compare-and-set update, or complete the subscription and roll it over to its set's
 * `next_set`. Redelivery, a repeated trigger or a second worker can therefore never send a message twice.
 */
export async function sendBatch(
  db: Db,
  command: SubscriptionSendNext,
  options: SendOptions,
): Promise<BatchOutcome> {
  const slot = new Date(command.slot);
  return db.$transaction(async (tx) => {
    const locked = await tx.$queryRawUnsafe<LockedSubscription[]>(
      `SELECT id, identity, messageset, next_sequence_number, lang, active, completed, schedule, process_status,
              metadata, last_slot
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
    const planned: Planned[] = [];
    for (const sub of due) {
      const set = sets.get(sub.messageset);
      const own = counts.get(key(sub.messageset, sub.lang)) ?? 0;
      const fallback = options.fallbackLanguage;
      const lang =
        own === 0 && fallback && (counts.get(key(sub.messageset, fallback)) ?? 0) > 0 ? fallback : sub.lang;
      if (lang !== sub.lang) {
        options.log.warn(
          { subscriptionId: sub.id, lang: sub.lang, fallback },
          "no messages in language; falling back",
        );
      }
      const count = counts.get(key(sub.messageset, lang)) ?? 0;
      if (!set || count === 0) {
        outcome.deferred.push(sub.id);
      } else {
        planned.push({ sub, set, lang, count });
      }
    }

    const messages = await loadMessages(tx, planned);
    const events: OutboxMessage[] = [];
    const updates: object[] = [];
    const completions: Planned[] = [];
    for (const plan of planned) {
      const { sub, set, lang, count } = plan;
      const sequence = sub.next_sequence_number;
      const message = messages.get(`${key(sub.messageset, lang)}\u001f${sequence}`);
      if (!message) {
        outcome.deferred.push(sub.id);
        continue;
      }
      // prepend_next_delivery goes out with this message, then is cleared.
      const { prepend_next_delivery: prepend, ...metadata } = sub.metadata ?? {};
      const text = message.text ?? "";
      const outboundId = deterministicId("outbound", sub.id, sub.messageset, sequence);
      const dryRun = options.dryRunSets?.has(sub.messageset) ?? false;
      if (!dryRun) {
        events.push({
          name: "outbound.send",
          messageId: outboundId,
          correlationId: options.correlationId,
          payload: {
            id: outboundId,
            to_identity: sub.identity,
            content: typeof prepend === "string" ? `${prepend}\n${text}` : text,
            channel: set.channel,
            metadata: message.metadata,
          },
        });
      }
      const last = sequence >= count;
      updates.push({
        id: sub.id,
        expected: sequence,
        next: last ? sequence : sequence + 1,
        done: last,
        metadata,
      });
      if (last) {
        completions.push(plan);
      }
    }

    await advance(tx, updates, slot);
    for (const { sub, set } of completions) {
      const completed = toSubscription(await tx.subscription.findUniqueOrThrow({ where: { id: sub.id } }));
      events.push({
        name: "subscription.completed",
        payload: completed,
        correlationId: options.correlationId,
      });
      const next = set.nextSet
        ? (sets.get(set.nextSet) ?? (await tx.messageSetCopy.findUnique({ where: { id: set.nextSet } })))
        : null;
      if (set.nextSet && (!next || next.deleted)) {
        options.log.warn(
          { subscriptionId: sub.id, nextSet: set.nextSet },
          "next_set is unknown; no rollover",
        );
      } else if (next) {
        const row = await tx.subscription.create({
          data: {
            id: deterministicId("rollover", sub.id),
            identity: sub.identity,
            lang: sub.lang,
            messagesetId: next.id,
            scheduleId: next.defaultSchedule,
          },
        });
        events.push({
          name: "subscription.created",
          payload: toSubscription(row),
          correlationId: options.correlationId,
        });
      }
    }
    await enqueue(tx, ...events);
    outcome.sent = updates.length;
    outcome.completed = completions.length;
    return outcome;
  });
}

interface DueMessage {
  text: string | null;
  metadata: Prisma.JsonObject;
}

/** The messages to send, in one query: keyed by set, language and sequence number. */
async function loadMessages(tx: Tx, planned: Planned[]): Promise<Map<string, DueMessage>> {
  if (planned.length === 0) {
    return new Map();
  }
  const wanted = planned.map((p) => ({ m: p.sub.messageset, l: p.lang, s: p.sub.next_sequence_number }));
  const rows = await tx.$queryRawUnsafe<
    {
      messageset: number;
      sequence_number: number;
      lang: string;
      text_content: string | null;
      metadata: Prisma.JsonObject;
    }[]
  >(
    `SELECT DISTINCT c.messageset, c.sequence_number, c.lang, c.text_content, c.metadata
     FROM message_copy c JOIN jsonb_to_recordset($1::jsonb) AS w(m int, l text, s int)
       ON c.messageset = w.m AND c.lang = w.l AND c.sequence_number = w.s`,
    JSON.stringify(wanted),
  );
  return new Map(
    rows.map((r) => [
      `${key(r.messageset, r.lang)}\u001f${r.sequence_number}`,
      { text: r.text_content, metadata: r.metadata },
    ]),
  );
}

/**
 * Moves every position in one statement, each only from the position it was read at (compare-and-set):
 * if any row moved meanwhile the count differs and the whole batch rolls back, to be retried.
 */
async function advance(tx: Tx, updates: object[], slot: Date): Promise<void> {
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
       updated_at = now()
     FROM jsonb_to_recordset($1::jsonb) AS u(id uuid, expected int, next int, done boolean, metadata jsonb)
     WHERE s.id = u.id AND s.next_sequence_number = u.expected`,
    JSON.stringify(updates),
    slot,
  );
  if (changed !== updates.length) {
    throw new Error(`${updates.length - changed} subscriptions moved while they were being sent`);
  }
}
