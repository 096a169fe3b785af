import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import {
  type CreateSubscriptionBody,
  deterministicId,
  type ReplaceSubscriptionBody,
  type Subscription,
  type SubscriptionListQuery,
  type SubscriptionResponse,
  toSeedTime,
  type UpdateSubscriptionBody,
} from "@tidings/contracts";
import { publish } from "@tidings/hooks";
import { isUniqueViolation, type KeysetList, listByCreatedAt, type PageParams } from "@tidings/service-kit";
import type { Db, Tx } from "../db.ts";
import { subscriptionAlreadyActive, subscriptionNotFound, unknownContent } from "../errors.ts";
import { Prisma, type Subscription as SubscriptionRow } from "../generated/prisma/client.ts";

export function toSubscription(row: SubscriptionRow): Subscription {
  return {
    id: row.id,
    version: row.version,
    identity: row.identity,
    messageset: row.messagesetId,
    next_sequence_number: row.nextSequenceNumber,
    initial_sequence_number: row.initialSequenceNumber,
    lang: row.lang,
    active: row.active,
    completed: row.completed,
    schedule: row.scheduleId,
    process_status: row.processStatus,
    metadata: row.metadata as Subscription["metadata"],
    anchor_at: toSeedTime(row.anchorAt),
    created_at: toSeedTime(row.createdAt),
    updated_at: toSeedTime(row.updatedAt),
  };
}

/**
 * Subscriptions as the API answers them (Seed's serializer): each with `url`, its absolute link (`link` builds it
 * from the id), and `messageset_label`, its message set's label from the local copy. The labels are read in one
 * query, however many subscriptions there are (a page of a list).
 */
export async function withSeedFields(
  db: Db,
  link: (id: string) => string,
  subscriptions: Subscription[],
): Promise<SubscriptionResponse[]> {
  const sets = [...new Set(subscriptions.map((s) => s.messageset))];
  const copies =
    sets.length === 0
      ? []
      : await db.messageSetCopy.findMany({ where: { id: { in: sets } }, select: { id: true, label: true } });
  const labels = new Map(copies.map((set) => [set.id, set.label]));
  return subscriptions.map((s) => ({
    url: link(s.id),
    ...s,
    messageset_label: labels.get(s.messageset) ?? "",
  }));
}

interface Actor {
  userId: number | null;
  correlationId?: string;
}

/**
 * How long a request naming a message set or schedule newer than any the copies hold waits for content's event to
 * bring it: content made it a moment ago (a Seed hub that loads a set and subscribes someone to it at once; Seed
 * answered from one database). The events arrive in milliseconds, more under load.
 */
export const NEW_CONTENT_WAIT_MS = 2_000;
const NEW_CONTENT_POLL_MS = 50;

/** The message set and schedule a request names (those it gives). */
type ContentIds = { messageset?: number; schedule?: number };
/** Which of them the copies do not hold, or hold deleted. */
type Missing = { messageset: boolean; schedule: boolean };

/** Which of the message set and schedule named the copies do not hold, or hold deleted. */
async function missingContent(db: Db | Tx, { messageset, schedule }: ContentIds): Promise<Missing> {
  const [set, sched] = await Promise.all([
    messageset === undefined
      ? true
      : db.messageSetCopy.findFirst({ where: { id: messageset, deleted: false }, select: { id: true } }),
    schedule === undefined
      ? true
      : db.scheduleCopy.findFirst({ where: { id: schedule, deleted: false }, select: { id: true } }),
  ]);
  return { messageset: !set, schedule: !sched };
}

/** Whether a missing one is newer than every copy (deleted ones included): its event may be on its way. */
async function mayBeOnItsWay(db: Db, ids: ContentIds, missing: Missing): Promise<boolean> {
  const [sets, schedules] = await Promise.all([
    missing.messageset ? db.messageSetCopy.aggregate({ _max: { id: true } }) : undefined,
    missing.schedule ? db.scheduleCopy.aggregate({ _max: { id: true } }) : undefined,
  ]);
  return (
    (sets !== undefined && (ids.messageset ?? 0) > (sets._max.id ?? 0)) ||
    (schedules !== undefined && (ids.schedule ?? 0) > (schedules._max.id ?? 0))
  );
}

/**
 * What of the message set and schedule named the copies do not hold once any newer than every copy has been waited
 * for (NEW_CONTENT_WAIT_MS): one the copies know is deleted, or an older id, is not waited for.
 */
async function missingAfterWait(db: Db, ids: ContentIds): Promise<Missing> {
  const deadline = Date.now() + NEW_CONTENT_WAIT_MS;
  for (;;) {
    const missing = await missingContent(db, ids);
    if ((!missing.messageset && !missing.schedule) || Date.now() >= deadline) {
      return missing;
    }
    if (!(await mayBeOnItsWay(db, ids, missing))) {
      // Read again: a copy committed between the two reads is counted in the newest ids but was not found.
      return missingContent(db, ids);
    }
    await sleep(NEW_CONTENT_POLL_MS);
  }
}

/** 400 SUBSCRIPTION_UNKNOWN_CONTENT for what the local copies the content events keep do not hold. */
function refuseMissing(ids: ContentIds, missing: Missing): void {
  if (missing.messageset || missing.schedule) {
    throw unknownContent([
      ...(missing.messageset
        ? [{ field: "body.messageset", message: `message set ${ids.messageset} does not exist` }]
        : []),
      ...(missing.schedule
        ? [{ field: "body.schedule", message: `schedule ${ids.schedule} does not exist` }]
        : []),
    ]);
  }
}

/**
 * Creates a subscription and its `subscription.created` event in one transaction. An identity has at most one
 * active subscription per message set (a partial unique index): a request for a set the identity is already
 * actively subscribed to answers with that subscription, unchanged (whatever else the request says: its
 * language, position or schedule are not applied; PATCH changes them), and `created: false`. A hub request id
 * makes the id deterministic, so the same hub request delivered twice creates one subscription (the second
 * answers with it, even once it is no longer active). Concurrent requests for the same identity and set wait for
 * each other on the index: one inserts, the others answer with its row.
 */
export async function createSubscription(
  db: Db,
  input: CreateSubscriptionBody,
  actor: Actor,
  hubRequestId?: string,
): Promise<{ subscription: Subscription; created: boolean }> {
  refuseMissing(input, await missingAfterWait(db, input));
  const id = hubRequestId ? deterministicId("hub-subscription-request", hubRequestId) : randomUUID();
  const next = input.next_sequence_number ?? 1;
  const data = {
    id,
    version: input.version ?? 1,
    identity: input.identity,
    messagesetId: input.messageset,
    lang: input.lang,
    scheduleId: input.schedule,
    nextSequenceNumber: next,
    initialSequenceNumber: input.initial_sequence_number ?? next,
    active: input.active ?? true,
    completed: input.completed ?? false,
    processStatus: input.process_status ?? 0,
    metadata: (input.metadata ?? {}) as Prisma.InputJsonObject,
    anchorAt: input.anchor_at ? new Date(input.anchor_at) : null,
    createdBy: actor.userId,
    updatedBy: actor.userId,
  };
  return db.$transaction(async (tx) => {
    // ON CONFLICT DO NOTHING waits for a concurrent insert of the same key, so (read committed) the next
    // statement sees its row; the loop only repeats when that row was deactivated in between.
    for (let attempt = 0; attempt < MAX_CREATE_ATTEMPTS; attempt++) {
      const [row] = await tx.subscription.createManyAndReturn({ data: [data], skipDuplicates: true });
      if (row) {
        const created = toSubscription(row);
        await publish(tx, {
          name: "subscription.created",
          payload: created,
          correlationId: actor.correlationId,
        });
        return { subscription: created, created: true };
      }
      const existing =
        (hubRequestId ? await tx.subscription.findUnique({ where: { id } }) : null) ??
        (await activeSubscriptionOf(tx, input.identity, input.messageset));
      if (existing) {
        return { subscription: toSubscription(existing), created: false };
      }
    }
    throw new Error(`subscription of ${input.identity} to set ${input.messageset} kept changing; try again`);
  });
}

const MAX_CREATE_ATTEMPTS = 3;

/** The identity's active subscription to the set, if any (there is at most one). */
const activeSubscriptionOf = (db: Db | Tx, identity: string, messageset: number) =>
  db.subscription.findFirst({ where: { identity, messagesetId: messageset, active: true } });

async function findSubscription(db: Db, id: string): Promise<Subscription | null> {
  const row = await db.subscription.findUnique({ where: { id } });
  return row && toSubscription(row);
}

export async function getSubscription(db: Db, id: string): Promise<Subscription> {
  return (await findSubscription(db, id)) ?? Promise.reject(subscriptionNotFound(id));
}

export async function listSubscriptions(
  db: Db,
  query: SubscriptionListQuery,
  page: PageParams,
): Promise<KeysetList<Subscription> & { count: number }> {
  const where: Prisma.SubscriptionWhereInput = {
    id: query.id,
    version: query.version,
    identity: query.identity,
    active: query.active,
    completed: query.completed,
    messagesetId: query.messageset,
    lang: query.lang,
    scheduleId: query.schedule,
    processStatus: query.process_status,
    nextSequenceNumber: query.next_sequence_number,
    initialSequenceNumber: query.initial_sequence_number,
    createdAt: { equals: query.created_at, gte: query.created_after, lte: query.created_before },
    updatedAt: query.updated_at,
    createdBy: query.created_by,
    updatedBy: query.updated_by,
  };
  // Seed's metadata_has_key / metadata_not_has_key: the top-level key's value is (not) SQL NULL (a key
  // holding JSON null is there; a null metadata has no keys).
  const and: Prisma.SubscriptionWhereInput[] = [];
  if (query.metadata_has_key) {
    and.push({ metadata: { path: [query.metadata_has_key], not: Prisma.DbNull } });
  }
  if (query.metadata_not_has_key) {
    and.push({ metadata: { path: [query.metadata_not_has_key], equals: Prisma.DbNull } });
  }
  if (query.messageset_contains) {
    const sets = await db.messageSetCopy.findMany({
      where: { shortName: { contains: query.messageset_contains } },
      select: { id: true },
    });
    and.push({ messagesetId: { in: sets.map((s) => s.id) } });
  }
  where.AND = and;
  return listByCreatedAt(db.subscription, where, page, toSubscription, { cursor: query.cursor });
}

/**
 * PATCH fields, or PUT's whole body (Seed's PUT: the required fields, plus any others given); the read-only fields
 * either may carry are not read.
 */
export type SubscriptionChanges = UpdateSubscriptionBody | ReplaceSubscriptionBody;

/**
 * Changes a subscription (Seed's PATCH and PUT) and publishes `subscription.updated`, in one transaction with the
 * row locked, so a concurrent send cannot interleave. 404 for an unknown id.
 */
export async function updateSubscription(
  db: Db,
  id: string,
  input: SubscriptionChanges,
  actor: Actor,
): Promise<Subscription> {
  if (input.messageset !== undefined || input.schedule !== undefined) {
    // What it changes to is waited for before the transaction locks the subscription, and checked inside it (after
    // the subscription is found: an unknown one is 404 whatever the body names).
    await missingAfterWait(db, input);
  }
  return db.$transaction(async (tx) => {
    const [current] = await tx.$queryRawUnsafe<{ messageset: number; schedule: number }[]>(
      "SELECT messageset, schedule FROM subscription WHERE id = $1::uuid FOR UPDATE",
      id,
    );
    if (!current) {
      throw subscriptionNotFound(id);
    }
    // A set or schedule sent unchanged (a hub sending back the subscription it read) is not checked again: one that
    // content has since deleted must not stop the hub from deactivating the subscription.
    if (
      (input.messageset !== undefined && input.messageset !== current.messageset) ||
      (input.schedule !== undefined && input.schedule !== current.schedule)
    ) {
      const ids = {
        messageset: input.messageset ?? current.messageset,
        schedule: input.schedule ?? current.schedule,
      };
      refuseMissing(ids, await missingContent(tx, ids));
    }
    const row = await tx.subscription
      .update({
        where: { id },
        data: {
          identity: "identity" in input ? input.identity : undefined,
          messagesetId: input.messageset,
          lang: input.lang,
          scheduleId: input.schedule,
          nextSequenceNumber: input.next_sequence_number,
          initialSequenceNumber: input.initial_sequence_number,
          active: input.active,
          completed: input.completed,
          processStatus: input.process_status,
          metadata:
            input.metadata === null ? Prisma.DbNull : (input.metadata as Prisma.InputJsonObject | undefined),
          version: input.version,
          anchorAt: input.anchor_at === undefined ? undefined : input.anchor_at && new Date(input.anchor_at),
          updatedBy: actor.userId,
        },
      })
      .catch(async (err) => {
        throw isUniqueViolation(err) ? await alreadyActive(db, id, input) : err;
      });
    const updated = toSubscription(row);
    await publish(tx, {
      name: "subscription.updated",
      payload: updated,
      correlationId: actor.correlationId,
    });
    return updated;
  });
}

/**
 * The error for a change that would make a second active subscription of the identity to the set (the partial
 * unique index refused it), naming the active one. Read outside the failed transaction.
 */
async function alreadyActive(db: Db, id: string, input: SubscriptionChanges) {
  const row = await db.subscription.findUniqueOrThrow({ where: { id } });
  const identity = "identity" in input && input.identity ? input.identity : row.identity;
  const messageset = input.messageset ?? row.messagesetId;
  return subscriptionAlreadyActive(
    identity,
    messageset,
    (await activeSubscriptionOf(db, identity, messageset))?.id,
  );
}

/** Seed's DELETE: the subscription is removed (to stop one and keep it, PATCH `active: false`). */
export async function deleteSubscription(db: Db, id: string): Promise<void> {
  const { count } = await db.subscription.deleteMany({ where: { id } });
  if (count !== 1) {
    throw subscriptionNotFound(id);
  }
}
