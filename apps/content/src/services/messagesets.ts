import type {
  CloneMessageSetBody,
  CreateMessageSetBody,
  MessageSet,
  MessageSetLanguages,
  MessageSetListQuery,
  MessageSetMessages,
  UpdateMessageSetBody,
} from "@tidings/contracts";
import { found, type PageParams } from "@tidings/service-kit";
import type { Db, Tx } from "../db.ts";
import { messageSetNotFound, referenceNotFound, setNotWhatsAppReady, shortNameTaken } from "../errors.ts";
import type { MessageSet as MessageSetRow, Prisma } from "../generated/prisma/client.ts";
import {
  isWhatsAppChannel,
  toMessage,
  toMessageContent,
  toMessageDeleted,
  withRelations,
} from "./messages.ts";
import {
  type ContentDeps,
  listInIdOrder,
  type RequestContext,
  timestamps,
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
    ...timestamps(row),
  };
}

const changed = (set: MessageSet) => ({ name: "content.messageset.changed" as const, payload: set });

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
  notFound: id === undefined ? undefined : () => messageSetNotFound(id),
  violations: {
    messageset_short_name_key: () => shortNameTaken(input.short_name),
    messageset_default_schedule_fkey: () =>
      referenceNotFound("default_schedule", "schedule", input.default_schedule),
    messageset_next_set_fkey: () => referenceNotFound("next_set", "message set", input.next_set),
  },
});

/**
 * Seed checks WhatsApp formatting when a message is saved; a set that becomes a WhatsApp set must not hold
 * messages that would then break the rule either.
 */
async function assertWhatsAppReady(tx: Tx, row: MessageSetRow): Promise<void> {
  if (!isWhatsAppChannel(row.channel)) {
    return;
  }
  const offending = await tx.message.findMany({
    where: {
      messagesetId: row.id,
      OR: [
        { textContent: { contains: "\n" } },
        { textContent: { contains: "\t" } },
        { textContent: { contains: "    " } },
      ],
    },
    select: { id: true },
    orderBy: { id: "asc" },
  });
  if (offending.length > 0) {
    throw setNotWhatsAppReady(offending.map((m) => m.id));
  }
}

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
      const row = await save(tx);
      await assertWhatsAppReady(tx, row);
      const set = toMessageSet(row);
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
      throw messageSetNotFound(id);
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
  return toMessageSet(found(await db.messageSet.findUnique({ where: { id } }), () => messageSetNotFound(id)));
}

export const listMessageSets = (db: Db, query: MessageSetListQuery, page: PageParams) =>
  listInIdOrder(
    db,
    db.messageSet,
    { shortName: query.short_name, contentType: query.content_type },
    page,
    toMessageSet,
  );

/** The set with its messages (binary content nested), in sequence_number, lang order. */
export async function getMessageSetMessages(deps: ContentDeps, id: number): Promise<MessageSetMessages> {
  const row = await deps.db.messageSet.findUnique({
    where: { id },
    include: {
      messages: {
        include: withRelations,
        orderBy: [{ sequenceNumber: "asc" }, { lang: "asc" }, { id: "asc" }],
      },
    },
  });
  if (!row) {
    throw messageSetNotFound(id);
  }
  const { messages, ...set } = row;
  return { ...toMessageSet(set), messages: messages.map((m) => toMessageContent(m, deps)) };
}

/** Seed's `{<messageset id>: [langs]}`: every set, with the distinct languages of its messages, sorted. */
export async function messageSetLanguages(db: Db): Promise<MessageSetLanguages> {
  const [sets, pairs] = await db.$transaction([
    db.messageSet.findMany({ select: { id: true }, orderBy: { id: "asc" } }),
    db.message.findMany({
      distinct: ["messagesetId", "lang"],
      select: { messagesetId: true, lang: true },
      orderBy: [{ messagesetId: "asc" }, { lang: "asc" }],
    }),
  ]);
  const result: MessageSetLanguages = Object.fromEntries(sets.map((s) => [String(s.id), [] as string[]]));
  for (const { messagesetId, lang } of pairs) {
    result[String(messagesetId)]?.push(lang);
  }
  return result;
}

/**
 * Copies a set and all its messages under a new short name (and label, if given) in one transaction, and
 * announces the new set and each new message.
 */
export const cloneMessageSet = (
  deps: ContentDeps,
  id: number,
  input: CloneMessageSetBody,
  context: RequestContext,
) =>
  write(
    deps.db,
    context,
    async (tx) => {
      // Lock the source: it cannot be deleted (or changed) while its messages are copied.
      const locked = await tx.$queryRaw<unknown[]>`SELECT id FROM messageset WHERE id = ${id} FOR SHARE`;
      if (locked.length === 0) {
        throw messageSetNotFound(id);
      }
      const source = await tx.messageSet.findUniqueOrThrow({ where: { id } });
      const copy = await tx.messageSet.create({
        data: {
          shortName: input.short_name,
          label: input.label ?? source.label,
          notes: source.notes,
          channel: source.channel,
          nextSetId: source.nextSetId,
          defaultScheduleId: source.defaultScheduleId,
          contentType: source.contentType,
        },
      });
      const messages = await tx.message.findMany({ where: { messagesetId: id }, orderBy: { id: "asc" } });
      await tx.message.createMany({
        data: messages.map((m) => ({
          messagesetId: copy.id,
          sequenceNumber: m.sequenceNumber,
          lang: m.lang,
          textContent: m.textContent,
          binaryContentId: m.binaryContentId,
          metadata: m.metadata as Prisma.InputJsonObject,
        })),
      });
      const copies = await tx.message.findMany({
        where: { messagesetId: copy.id },
        include: withRelations,
        orderBy: { id: "asc" },
      });
      const set = toMessageSet(copy);
      return {
        result: set,
        events: [
          changed(set),
          ...copies.map((m) => ({ name: "content.message.changed" as const, payload: toMessage(m, deps) })),
        ],
      };
    },
    {
      violations: {
        messageset_short_name_key: () => shortNameTaken(input.short_name),
      },
    },
  );
