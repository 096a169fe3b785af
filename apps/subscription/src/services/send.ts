import { type Broker, enqueue } from "@tidings/amqp";
import { deterministicId, type SubscriptionSendNext } from "@tidings/contracts";
import type { Logger } from "@tidings/service-kit";
import type { Db } from "../db.ts";
import type { Prisma } from "../generated/prisma/client.ts";
import { toSubscription } from "./subscriptions.ts";

/**
 * Pages through the ready subscriptions of a content schedule (keyset on id, never one huge query) and
 * publishes one `subscription.send-next` per subscription for competing consumers. The command's id is
 * derived from (subscription, slot): a fan-out that is run again (redelivered trigger) republishes the
 * same ids, and sendNext's slot guard makes each subscription send at most once per slot anyway.
 */
export async function fanOut(
  db: Db,
  broker: Broker,
  command: { schedule: number; slot: string; correlationId?: string },
  batchSize: number,
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
      batchSize,
    );
    await Promise.all(
      page.map(({ id }) =>
        broker.publish(
          "subscription.send-next",
          { subscription_id: id, schedule: command.schedule, slot: command.slot },
          { messageId: deterministicId("send-next", id, command.slot), correlationId: command.correlationId },
        ),
      ),
    );
    total += page.length;
    const last = page.at(-1);
    if (!last || page.length < batchSize) {
      return total;
    }
    after = last.id;
  }
}

type Tx = Prisma.TransactionClient;

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

export type SendOutcome = "sent" | "completed" | "skipped";

export interface SendOptions {
  fallbackLanguage: string;
  log: Logger;
  correlationId?: string;
}

/** Ready, still on the fired schedule, and not yet sent in this slot or a later one. */
const isDue = (sub: LockedSubscription | undefined, schedule: number, slot: Date): sub is LockedSubscription =>
  sub !== undefined &&
  sub.active &&
  !sub.completed &&
  sub.process_status === 0 &&
  sub.schedule === schedule &&
  !(sub.last_slot && sub.last_slot >= slot);

/** A condition that clears by itself (content not mirrored yet): the message is retried with backoff. */
class NotYetAvailable extends Error {}

/** The language to send in: the subscription's, or the fallback when the set has nothing in it. */
async function languageFor(tx: Tx, messageset: number, lang: string, options: SendOptions) {
  const count = await tx.messageCopy.count({ where: { messagesetId: messageset, lang } });
  if (count > 0 || !options.fallbackLanguage || options.fallbackLanguage === lang) {
    return { lang, count };
  }
  const fallback = await tx.messageCopy.count({
    where: { messagesetId: messageset, lang: options.fallbackLanguage },
  });
  options.log.warn(
    { messageset, lang, fallback: options.fallbackLanguage },
    "no messages in language; falling back",
  );
  return { lang: options.fallbackLanguage, count: fallback };
}

/**
 * Sends one subscription the message due in a slot, in one transaction: lock the row, check it is ready and
 * not yet sent in this (or a later) slot, pick the message from the local copy, write `outbound.send` to
 * the outbox with an id derived from (subscription, set, sequence), and advance `next_sequence_number`
 * with a compare-and-set — or complete it and roll over to the set's `next_set`. Redelivery, a repeated
 * trigger or a second worker can therefore never send a message twice.
 */
export async function sendNext(
  db: Db,
  command: SubscriptionSendNext,
  options: SendOptions,
): Promise<SendOutcome> {
  const slot = new Date(command.slot);
  return db.$transaction(async (tx) => {
    const [sub] = await tx.$queryRawUnsafe<LockedSubscription[]>(
      `SELECT id, identity, messageset, next_sequence_number, lang, active, completed, schedule, process_status,
              metadata, last_slot
       FROM subscription WHERE id = $1::uuid FOR UPDATE`,
      command.subscription_id,
    );
    if (!isDue(sub, command.schedule, slot)) {
      return "skipped";
    }
    const set = await tx.messageSetCopy.findUnique({ where: { id: sub.messageset } });
    if (!set) {
      throw new NotYetAvailable(`message set ${sub.messageset} is not in the local copy yet`);
    }
    const { lang, count } = await languageFor(tx, sub.messageset, sub.lang, options);
    const sequence = sub.next_sequence_number;
    const message = await tx.messageCopy.findUnique({
      where: {
        messagesetId_sequenceNumber_lang: { messagesetId: sub.messageset, sequenceNumber: sequence, lang },
      },
    });
    if (!message) {
      throw new NotYetAvailable(
        `message ${sequence} (${lang}) of set ${sub.messageset} is not in the local copy`,
      );
    }

    // prepend_next_delivery goes out with this message, then is cleared.
    const { prepend_next_delivery: prependValue, ...rest } = sub.metadata ?? {};
    const prepend = typeof prependValue === "string" ? prependValue : null;
    const metadata = rest as Prisma.InputJsonObject;
    const text = message.textContent ?? "";
    await enqueue(tx, {
      name: "outbound.send",
      messageId: deterministicId("outbound", sub.id, sub.messageset, sequence),
      correlationId: options.correlationId,
      payload: {
        id: deterministicId("outbound", sub.id, sub.messageset, sequence),
        to_identity: sub.identity,
        content: prepend ? `${prepend}\n${text}` : text,
        channel: set.channel,
        metadata: message.metadata as Record<string, unknown>,
      },
    });

    const last = sequence >= count;
    const advanced = await tx.subscription.updateMany({
      where: { id: sub.id, nextSequenceNumber: sequence },
      data: last
        ? { completed: true, active: false, processStatus: 2, lastSlot: slot, metadata }
        : { nextSequenceNumber: sequence + 1, lastSlot: slot, metadata },
    });
    if (advanced.count !== 1) {
      throw new Error(`subscription ${sub.id} moved while it was being sent`); // rolls everything back
    }
    if (!last) {
      return "sent";
    }
    const completed = toSubscription(await tx.subscription.findUniqueOrThrow({ where: { id: sub.id } }));
    await enqueue(tx, {
      name: "subscription.completed",
      payload: completed,
      correlationId: options.correlationId,
    });
    if (set.nextSet) {
      await rollOver(tx, completed.identity, completed.lang, set.nextSet, sub.id, options);
    }
    return "completed";
  });
}

/** The follow-on subscription to the set's next_set, on that set's default schedule (created once). */
async function rollOver(
  tx: Tx,
  identity: string,
  lang: string,
  nextSet: number,
  from: string,
  options: SendOptions,
) {
  const next = await tx.messageSetCopy.findUnique({ where: { id: nextSet } });
  if (!next || next.deleted) {
    options.log.warn({ subscriptionId: from, nextSet }, "next_set is unknown; no rollover");
    return;
  }
  const row = await tx.subscription.create({
    data: {
      id: deterministicId("rollover", from),
      identity,
      lang,
      messagesetId: next.id,
      scheduleId: next.defaultSchedule,
    },
  });
  await enqueue(tx, {
    name: "subscription.created",
    payload: toSubscription(row),
    correlationId: options.correlationId,
  });
}
