import type {
  CreateMessageBody,
  Message,
  MessageContent,
  MessageDeleted,
  MessageListQuery,
  MessagePreflight,
  MessagePreflightBody,
  UpdateMessageBody,
} from "@tidings/contracts";
import { SMS_LIMITS, smsInfo } from "@tidings/contracts";
import { found, type PageParams } from "@tidings/service-kit";
import type { Tx } from "../db.ts";
import {
  messageDuplicate,
  messageEmpty,
  messageNotFound,
  notWhatsAppFormat,
  referenceNotFound,
  specialCharacters,
} from "../errors.ts";
import type {
  BinaryContent as BinaryContentRow,
  Message as MessageRow,
  MessageSet as MessageSetRow,
  Prisma,
} from "../generated/prisma/client.ts";
import { toBinaryContent } from "./binarycontent.ts";
import {
  type ContentDeps,
  inIdOrder,
  type Listed,
  listed,
  type RequestContext,
  timestamps,
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

/** Seed's rule for WhatsApp sets: what WhatsApp templates refuse, and how to name it. */
const WHATSAPP_FORBIDDEN: [RegExp, string][] = [
  [/\n/, "a newline"],
  [/\t/, "a tab"],
  [/ {4}/, "four consecutive spaces"],
];

/** A message row with what its answers need: its set (for the channel rules) and its binary content. */
export type MessageWithRelations = MessageRow & {
  messageset: Pick<MessageSetRow, "channel">;
  binaryContent: BinaryContentRow | null;
};

export const withRelations = {
  messageset: { select: { channel: true } },
  binaryContent: true,
} as const satisfies Prisma.MessageInclude;

export const isWhatsAppChannel = (channel: string | null) =>
  channel?.toLowerCase().includes("whatsapp") ?? false;

/** Why a message's text would be refused (Seed's smart punctuation, a WhatsApp set's rules), or undefined. */
function textProblem(text: string | null, channel: string | null) {
  const smart = [...new Set(text)].filter((c) => SMART_CHARACTERS.has(c));
  if (smart.length > 0) {
    return specialCharacters(smart.map((c) => `${c} with ${SMART_CHARACTERS.get(c)}`).join(", "));
  }
  if (text && isWhatsAppChannel(channel)) {
    const found = WHATSAPP_FORBIDDEN.filter(([pattern]) => pattern.test(text));
    if (found.length > 0) {
      return notWhatsAppFormat(channel, found.map(([, name]) => name).join(", "));
    }
  }
  return undefined;
}

function assertValidMessage(row: MessageWithRelations): void {
  if (!row.textContent && row.binaryContentId === null) {
    throw messageEmpty();
  }
  const problem = textProblem(row.textContent, row.messageset.channel);
  if (problem) {
    throw problem;
  }
}

/** A text checked as saving it would check it, with its SMS encoding, length and segments; nothing is saved. */
export async function preflightMessage(tx: Tx, body: MessagePreflightBody): Promise<MessagePreflight> {
  const set =
    body.messageset === undefined
      ? undefined
      : await tx.messageSet.findUnique({ where: { id: body.messageset }, select: { channel: true } });
  if (body.messageset !== undefined && !set) {
    throw referenceNotFound("messageset", "message set", body.messageset);
  }
  const text = body.text_content;
  const info = smsInfo(text);
  return {
    encoding: text ? info.encoding : null,
    characters: [...text].length,
    units: info.units,
    segments: info.segments,
    segment_limit: SMS_LIMITS[info.encoding][info.segments > 1 ? "multi" : "single"],
    non_gsm_characters: info.nonGsmCharacters,
    problem: textProblem(text, set?.channel ?? null)?.message ?? null,
  };
}

/** A text's SMS encoding and segments; a message without text has none. */
const smsOf = (text: string | null) => {
  if (!text) {
    return { encoding: null, segments: 0 };
  }
  const { encoding, segments } = smsInfo(text);
  return { encoding, segments };
};

export function toMessage(row: MessageWithRelations, deps: Pick<ContentDeps, "mediaUrl">): Message {
  return {
    id: row.id,
    messageset: row.messagesetId,
    sequence_number: row.sequenceNumber,
    lang: row.lang,
    text_content: row.textContent,
    binary_content: row.binaryContentId,
    binary_content_url: row.binaryContent ? deps.mediaUrl(row.binaryContent.storageKey) : null,
    metadata: row.metadata as Message["metadata"],
    ...smsOf(row.textContent),
    ...timestamps(row),
  };
}

/** The message with its binary content nested (Seed's `/message/{id}/content` and `/messageset/{id}/messages`). */
export function toMessageContent(
  row: MessageWithRelations,
  deps: Pick<ContentDeps, "mediaUrl">,
): MessageContent {
  const { binary_content_url: _url, ...message } = toMessage(row, deps);
  return {
    ...message,
    encoding: message.encoding ?? null,
    segments: message.segments ?? 0,
    binary_content: row.binaryContent ? toBinaryContent(row.binaryContent, deps) : null,
  };
}

export const toMessageDeleted = (row: MessageRow): MessageDeleted => ({
  id: row.id,
  messageset: row.messagesetId,
  sequence_number: row.sequenceNumber,
  lang: row.lang,
});

const toColumns = (input: UpdateMessageBody) => ({
  messagesetId: input.messageset,
  sequenceNumber: input.sequence_number,
  lang: input.lang,
  textContent: input.text_content,
  binaryContentId: input.binary_content,
  metadata: input.metadata as Prisma.InputJsonObject | undefined,
});

/** The client's errors for a message write that breaks a constraint, and for a missing message. */
const writeErrors = (input: UpdateMessageBody, id?: number): WriteErrors => ({
  notFound: id === undefined ? undefined : () => messageNotFound(id),
  violations: {
    message_messageset_fkey: () => referenceNotFound("messageset", "message set", input.messageset),
    message_binary_content_fkey: () =>
      referenceNotFound("binary_content", "binary content", input.binary_content),
    message_messageset_sequence_number_lang_key: messageDuplicate,
  },
});

/** Writes a message, validates the result (so a PATCH is checked merged) and announces it. */
const saveMessage = (
  deps: ContentDeps,
  context: RequestContext,
  save: (tx: Tx) => Promise<MessageWithRelations>,
  errors: WriteErrors,
) =>
  write(
    deps.db,
    context,
    async (tx) => {
      const row = await save(tx);
      assertValidMessage(row);
      const message = toMessage(row, deps);
      return { result: message, events: [{ name: "content.message.changed", payload: message }] };
    },
    errors,
  );

export const createMessage = (deps: ContentDeps, input: CreateMessageBody, context: RequestContext) =>
  saveMessage(
    deps,
    context,
    (tx) =>
      tx.message.create({
        data: {
          ...toColumns(input),
          messagesetId: input.messageset,
          sequenceNumber: input.sequence_number,
          lang: input.lang,
        },
        include: withRelations,
      }),
    writeErrors(input),
  );

export const updateMessage = (
  deps: ContentDeps,
  id: number,
  input: UpdateMessageBody,
  context: RequestContext,
) =>
  saveMessage(
    deps,
    context,
    (tx) => tx.message.update({ where: { id }, data: toColumns(input), include: withRelations }),
    writeErrors(input, id),
  );

export const deleteMessage = (deps: ContentDeps, id: number, context: RequestContext) =>
  write(
    deps.db,
    context,
    async (tx) => {
      const row = await tx.message.delete({ where: { id } });
      return {
        result: undefined,
        events: [{ name: "content.message.deleted", payload: toMessageDeleted(row) }],
      };
    },
    { notFound: () => messageNotFound(id) },
  );

async function findMessage(deps: ContentDeps, id: number): Promise<MessageWithRelations> {
  return found(await deps.db.message.findUnique({ where: { id }, include: withRelations }), () =>
    messageNotFound(id),
  );
}

export const getMessage = async (deps: ContentDeps, id: number): Promise<Message> =>
  toMessage(await findMessage(deps, id), deps);

export const getMessageContent = async (deps: ContentDeps, id: number): Promise<MessageContent> =>
  toMessageContent(await findMessage(deps, id), deps);

export async function listMessages(
  deps: ContentDeps,
  query: MessageListQuery,
  page: PageParams,
): Promise<Listed<Message>> {
  const where: Prisma.MessageWhereInput = {
    messagesetId: query.messageset,
    sequenceNumber: query.sequence_number,
    lang: query.lang,
  };
  return listed(
    deps.db,
    deps.db.message.count({ where }),
    deps.db.message.findMany({ where, include: withRelations, ...inIdOrder(page) }),
    (row) => toMessage(row, deps),
  );
}
