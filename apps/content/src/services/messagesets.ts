import type {
  CreateMessageSetBody,
  MessageSet,
  MessageSetListQuery,
  UpdateMessageSetBody,
} from "@tidings/contracts";
import { badRequest, notFound, type PageParams } from "@tidings/service-kit";
import type { Db } from "../db.ts";
import type { MessageSet as MessageSetRow, Prisma } from "../generated/prisma/client.ts";
import { toMessageDeleted } from "./messages.ts";
import {
  inIdOrder,
  type Listed,
  listed,
  type RequestContext,
  referenceNotFound,
  type Tx,
  type WriteErrors,
  write,
} from "./support.ts";

function toMessageSet(row: MessageSetRow): MessageSet {
  return {
    id: row.id,
    short_name: row.shortName,
    label: row.label,
    notes: row.notes,
    channel: row.channel,
    next_set: row.nextSetId,
    default_schedule: row.defaultScheduleId,
    content_type: row.contentType,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

const changed = (set: MessageSet) => ({ name: "content.messageset.changed" as const, payload: set });

const messageSetNotFound = (id: number) => () =>
  notFound("CONTENT_MESSAGESET_NOT_FOUND", `Message set ${id} not found`);

const toColumns = (input: UpdateMessageSetBody) => ({
  shortName: input.short_name,
  label: input.label,
  notes: input.notes,
  channel: input.channel,
  nextSetId: input.next_set,
  defaultScheduleId: input.default_schedule,
  contentType: input.content_type,
});

/** The client's errors for a message set write that breaks a constraint, and for a missing set. */
const writeErrors = (input: UpdateMessageSetBody, id?: number): WriteErrors => ({
  notFound: id === undefined ? undefined : messageSetNotFound(id),
  violations: {
    messageset_short_name_key: () =>
      badRequest(
        "CONTENT_MESSAGESET_SHORT_NAME_TAKEN",
        `short_name: a message set named "${input.short_name}" already exists`,
        [{ field: "body.short_name", message: "must be unique" }],
      ),
    messageset_default_schedule_fkey: referenceNotFound(
      "default_schedule",
      "schedule",
      input.default_schedule,
    ),
    messageset_next_set_fkey: referenceNotFound("next_set", "message set", input.next_set),
  },
});

const saveMessageSet = (
  db: Db,
  context: RequestContext,
  save: (tx: Tx) => Promise<MessageSetRow>,
  errors: WriteErrors,
) =>
  write(
    db,
    context,
    async (tx) => {
      const set = toMessageSet(await save(tx));
      return { result: set, events: [changed(set)] };
    },
    errors,
  );

export const createMessageSet = (db: Db, input: CreateMessageSetBody, context: RequestContext) =>
  saveMessageSet(
    db,
    context,
    (tx) =>
      tx.messageSet.create({
        data: { ...toColumns(input), shortName: input.short_name, defaultScheduleId: input.default_schedule },
      }),
    writeErrors(input),
  );

export const updateMessageSet = (db: Db, id: number, input: UpdateMessageSetBody, context: RequestContext) =>
  saveMessageSet(
    db,
    context,
    (tx) => tx.messageSet.update({ where: { id }, data: toColumns(input) }),
    writeErrors(input, id),
  );

/**
 * Deletes a message set with its messages. Announces every change the delete makes, so that local copies
 * stay right: each message deleted, each set that rolled over to it changed (its next_set cleared), and
 * the set deleted.
 */
export const deleteMessageSet = (db: Db, id: number, context: RequestContext) =>
  write(db, context, async (tx) => {
    // Lock the set first: messages and next_set references to it cannot be added until we commit.
    const locked = await tx.$queryRaw<unknown[]>`SELECT id FROM messageset WHERE id = ${id} FOR UPDATE`;
    if (locked.length === 0) {
      throw messageSetNotFound(id)();
    }
    const messages = await tx.message.findMany({ where: { messagesetId: id }, orderBy: { id: "asc" } });
    const rolledOver = await tx.messageSet.updateManyAndReturn({
      where: { nextSetId: id, id: { not: id } },
      data: { nextSetId: null },
    });
    await tx.messageSet.delete({ where: { id } });
    return {
      result: undefined,
      events: [
        ...rolledOver.map((row) => changed(toMessageSet(row))),
        ...messages.map((row) => ({
          name: "content.message.deleted" as const,
          payload: toMessageDeleted(row),
        })),
        { name: "content.messageset.deleted", payload: { id } },
      ],
    };
  });

export async function getMessageSet(db: Db, id: number): Promise<MessageSet> {
  const row = await db.messageSet.findUnique({ where: { id } });
  if (!row) {
    throw messageSetNotFound(id)();
  }
  return toMessageSet(row);
}

export async function listMessageSets(
  db: Db,
  query: MessageSetListQuery,
  page: PageParams,
): Promise<Listed<MessageSet>> {
  const where: Prisma.MessageSetWhereInput = { shortName: query.short_name, contentType: query.content_type };
  return listed(
    db,
    db.messageSet.count({ where }),
    db.messageSet.findMany({ where, ...inIdOrder(page) }),
    toMessageSet,
  );
}
