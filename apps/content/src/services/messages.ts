import type {
  CreateMessageBody,
  Message,
  MessageDeleted,
  MessageListQuery,
  UpdateMessageBody,
} from "@tidings/contracts";
import { badRequest, notFound, type PageParams } from "@tidings/service-kit";
import type { Db } from "../db.ts";
import type { Message as MessageRow, Prisma } from "../generated/prisma/client.ts";
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

/** Seed's rule: "smart" punctuation that SMS encodings mangle, with the plain character to use instead. */
const SMART_CHARACTERS = new Map([
  ["“", '"'],
  ["”", '"'],
  ["’", "'"],
  ["–", "-"],
]);

function assertValidMessage(row: MessageRow): void {
  if (!row.textContent && row.binaryContent === null) {
    throw badRequest("CONTENT_MESSAGE_EMPTY", "Messages must have text or file attached", [
      { field: "body.text_content", message: "text_content or binary_content is required" },
      { field: "body.binary_content", message: "text_content or binary_content is required" },
    ]);
  }
  const smart = [...new Set(row.textContent)].filter((c) => SMART_CHARACTERS.has(c));
  if (smart.length > 0) {
    const replacements = smart.map((c) => `${c} with ${SMART_CHARACTERS.get(c)}`).join(", ");
    throw badRequest(
      "CONTENT_MESSAGE_SPECIAL_CHARACTERS",
      `text_content has special characters which can be replaced: ${replacements}`,
      [{ field: "body.text_content", message: `replace ${replacements}` }],
    );
  }
}

function toMessage(row: MessageRow): Message {
  return {
    id: row.id,
    messageset: row.messagesetId,
    sequence_number: row.sequenceNumber,
    lang: row.lang,
    text_content: row.textContent,
    binary_content: row.binaryContent,
    metadata: row.metadata as Message["metadata"],
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

export const toMessageDeleted = (row: MessageRow): MessageDeleted => ({
  id: row.id,
  messageset: row.messagesetId,
  sequence_number: row.sequenceNumber,
  lang: row.lang,
});

const messageNotFound = (id: number) => () =>
  notFound("CONTENT_MESSAGE_NOT_FOUND", `Message ${id} not found`);

const toColumns = (input: UpdateMessageBody) => ({
  messagesetId: input.messageset,
  sequenceNumber: input.sequence_number,
  lang: input.lang,
  textContent: input.text_content,
  binaryContent: input.binary_content,
  metadata: input.metadata as Prisma.InputJsonObject | undefined,
});

/** The client's errors for a message write that breaks a constraint, and for a missing message. */
const writeErrors = (input: UpdateMessageBody, id?: number): WriteErrors => ({
  notFound: id === undefined ? undefined : messageNotFound(id),
  violations: {
    message_messageset_fkey: referenceNotFound("messageset", "message set", input.messageset),
    message_messageset_sequence_number_lang_key: () =>
      badRequest(
        "CONTENT_MESSAGE_DUPLICATE",
        "The message set already has a message with this sequence_number and lang",
        ["messageset", "sequence_number", "lang"].map((f) => ({
          field: `body.${f}`,
          message: "not unique together",
        })),
      ),
  },
});

/** Writes a message, validates the result (so a PATCH is checked merged) and announces it. */
const saveMessage = (
  db: Db,
  context: RequestContext,
  save: (tx: Tx) => Promise<MessageRow>,
  errors: WriteErrors,
) =>
  write(
    db,
    context,
    async (tx) => {
      const row = await save(tx);
      assertValidMessage(row);
      const message = toMessage(row);
      return { result: message, events: [{ name: "content.message.changed", payload: message }] };
    },
    errors,
  );

export const createMessage = (db: Db, input: CreateMessageBody, context: RequestContext) =>
  saveMessage(
    db,
    context,
    (tx) =>
      tx.message.create({
        data: {
          ...toColumns(input),
          messagesetId: input.messageset,
          sequenceNumber: input.sequence_number,
          lang: input.lang,
        },
      }),
    writeErrors(input),
  );

export const updateMessage = (db: Db, id: number, input: UpdateMessageBody, context: RequestContext) =>
  saveMessage(
    db,
    context,
    (tx) => tx.message.update({ where: { id }, data: toColumns(input) }),
    writeErrors(input, id),
  );

export const deleteMessage = (db: Db, id: number, context: RequestContext) =>
  write(
    db,
    context,
    async (tx) => {
      const row = await tx.message.delete({ where: { id } });
      return {
        result: undefined,
        events: [{ name: "content.message.deleted", payload: toMessageDeleted(row) }],
      };
    },
    { notFound: messageNotFound(id) },
  );

export async function getMessage(db: Db, id: number): Promise<Message> {
  const row = await db.message.findUnique({ where: { id } });
  if (!row) {
    throw messageNotFound(id)();
  }
  return toMessage(row);
}

export async function listMessages(
  db: Db,
  query: MessageListQuery,
  page: PageParams,
): Promise<Listed<Message>> {
  const where: Prisma.MessageWhereInput = {
    messagesetId: query.messageset,
    sequenceNumber: query.sequence_number,
    lang: query.lang,
  };
  return listed(
    db,
    db.message.count({ where }),
    db.message.findMany({ where, ...inIdOrder(page) }),
    toMessage,
  );
}
