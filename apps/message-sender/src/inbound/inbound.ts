import { randomUUID } from "node:crypto";
import {
  type Inbound,
  type InboundKeyword,
  type InboundListQuery,
  type InboundReceived,
  isUuid,
  toSeedTime,
} from "@tidings/contracts";
import { publish } from "@tidings/hooks";
import { found, listByCreatedAt, type PageParams } from "@tidings/service-kit";
import { recordConsent, sendableAddress } from "../consent/consent.ts";
import type { Db, Tx } from "../db.ts";
import { senderError } from "../errors.ts";
import type { Inbound as InboundRow, Prisma } from "../generated/prisma/client.ts";
import { dateTimeFilter, orderOf } from "../list-filters.ts";
import type { Logger } from "../outbound/channel.ts";
import { DEFAULT_CHANNEL } from "../outbound/channel.ts";
import { type IdentityDirectory, resolveIdentity } from "../recipients/identity-directory.ts";
import type { Keywords } from "./keywords.ts";

/** The keyword a message is, if its whole content (trimmed, any case, trailing punctuation ignored) is one. */
export function keywordOf(content: string | null, keywords: Keywords): InboundKeyword | null {
  const word = (content ?? "")
    .trim()
    .replace(/[.!]+$/, "")
    .toUpperCase();
  if (!word) {
    return null;
  }
  for (const [keyword, words] of Object.entries(keywords) as [InboundKeyword, readonly string[]][]) {
    if (words.some((w) => w.toUpperCase() === word)) {
      return keyword;
    }
  }
  return null;
}

/** An inbound as the API shows it, but for its `url` (which the route adds: see routes/links.ts). */
export type InboundFields = Omit<Inbound, "url">;

export function toInbound(row: InboundRow): InboundFields {
  return {
    id: row.id,
    channel: row.channel,
    message_id: row.messageId,
    in_reply_to: row.inReplyTo,
    reply_to_outbound: row.replyTo,
    to_addr: row.toAddr,
    from_addr: row.fromAddr,
    from_identity: row.fromIdentity,
    content: row.content,
    transport_name: row.transportName ?? row.channel,
    transport_type: row.transportType,
    keyword: row.keyword,
    helper_metadata: row.helperMetadata as Inbound["helper_metadata"],
    created_at: toSeedTime(row.createdAt),
    created_by: row.createdBy,
    updated_at: toSeedTime(row.updatedAt),
  };
}

/** The `inbound.received` hook's data: the stored inbound in Seed's fields (see the catalog). */
const inboundHookData = (row: InboundRow) => ({
  id: row.id,
  message_id: row.messageId,
  in_reply_to: row.inReplyTo,
  to_addr: row.toAddr,
  from_addr: row.fromAddr,
  from_identity: row.fromIdentity,
  content: row.content,
  transport_name: row.channel,
  transport_type: null,
  helper_metadata: row.helperMetadata as Record<string, unknown>,
  created_at: toSeedTime(row.createdAt),
  updated_at: toSeedTime(row.createdAt),
  channel: row.channel,
  keyword: row.keyword as InboundKeyword | null,
  reply_to_outbound: row.replyTo,
});

/** What storing an inbound needs: the database, the keywords (INBOUND_KEYWORDS), the identity service. */
export interface InboundDeps {
  db: Db;
  keywords: Keywords;
  /** Finds or creates the identity of an unknown sender (IDENTITY_URL); unset: such senders stay unlinked. */
  identities?: IdentityDirectory | undefined;
}

/** An inbound message as a provider's webhook or Seed's API gives it. */
export interface ReceivedMessage {
  channel?: string | null;
  messageId: string | null;
  inReplyTo?: string | null;
  fromAddr: string;
  toAddr: string;
  content: string | null;
  /** As the transport named itself (Seed's transport_name); the channel when it did not. */
  transportName?: string | null;
  transportType?: string | null;
  helperMetadata?: Record<string, unknown>;
}

/** The outbound an inbound replies to: the one with that provider id on the channel, or that id. */
async function repliedOutbound(tx: Tx, channel: string, inReplyTo: string): Promise<string | null> {
  const outbound = await tx.outbound.findFirst({
    where: {
      OR: [{ channel, providerId: inReplyTo }, ...(isUuid(inReplyTo) ? [{ id: inReplyTo }] : [])],
    },
    select: { id: true },
  });
  return outbound?.id ?? null;
}

/**
 * Stores an inbound message and publishes `inbound.received` in one transaction. The sender's address is taken as
 * sends are addressed (sendableAddress: a gateway's number without its `+`, as Vumi and Junebug give it, is the
 * E.164 number; anything neither a number nor an email as given), then resolved to an identity through the
 * address book (the address is then not stored, as in Seed); so a forget of the number finds the message, and a
 * STOP opts that number out. A message the provider sent before (same channel and message id, a replayed
 * webhook) is stored and announced once. Returns the stored inbound and whether it is new.
 */
export async function receiveInbound(
  { db, keywords, identities }: InboundDeps,
  message: ReceivedMessage,
  log: Pick<Logger, "warn">,
  actor: { userId: number | null; correlationId?: string } = { userId: null },
): Promise<{ inbound: InboundFields; created: boolean }> {
  const fromAddr = sendableAddress(message.fromAddr) ?? message.fromAddr;
  // Outside the transaction: an unknown sender's identity is found or created at the identity service.
  const fromIdentity = await resolveIdentity(db, identities, fromAddr, log);
  return db.$transaction(async (tx) => {
    const channel =
      message.channel ?? (await tx.channel.findFirst({ where: { default: true } }))?.id ?? DEFAULT_CHANNEL;
    if (message.messageId) {
      const existing = await tx.inbound.findUnique({
        where: { channel_messageId: { channel, messageId: message.messageId } },
      });
      if (existing) {
        return { inbound: toInbound(existing), created: false };
      }
    }
    const keyword = keywordOf(message.content, keywords);
    const replyTo = message.inReplyTo ? await repliedOutbound(tx, channel, message.inReplyTo) : null;
    const id = randomUUID();
    const inserted = await tx.inbound.createManyAndReturn({
      data: [
        {
          id,
          channel,
          messageId: message.messageId,
          inReplyTo: message.inReplyTo ?? null,
          replyTo,
          toAddr: message.toAddr,
          fromAddr: fromIdentity ? "" : fromAddr,
          fromIdentity,
          content: message.content,
          transportName: message.transportName ?? channel,
          transportType: message.transportType ?? null,
          keyword,
          helperMetadata: (message.helperMetadata ?? {}) as Prisma.InputJsonObject,
          createdBy: actor.userId,
        },
      ],
      skipDuplicates: true,
    });
    const row = inserted[0];
    if (!row) {
      // A concurrent copy of the same webhook won.
      const existing = await tx.inbound.findUniqueOrThrow({
        where: { channel_messageId: { channel, messageId: message.messageId as string } },
      });
      return { inbound: toInbound(existing), created: false };
    }
    if (keyword === "stop" || keyword === "start") {
      // The consent copy takes the sender's word at once, whoever the number belongs to: a STOP from a number no
      // identity has (or several have) stops every send to it here, though identity has nobody to opt out.
      const stop = keyword === "stop";
      await recordConsent(tx, [fromAddr], stop, stop ? "stop" : "optin", row.createdAt);
    }
    const payload: InboundReceived = {
      id: row.id,
      channel,
      message_id: row.messageId,
      in_reply_to: row.inReplyTo,
      reply_to_outbound: row.replyTo,
      from_identity: fromIdentity,
      // Kept off the stored row of a known sender, but a keyword needs it: STOP opts out this address.
      from_addr: fromIdentity && !keyword ? null : fromAddr,
      to_addr: row.toAddr,
      content: row.content,
      keyword,
      at: row.createdAt.toISOString(),
    };
    await publish(
      tx,
      { name: "inbound.received", payload, messageId: row.id, correlationId: actor.correlationId },
      { hook: "inbound.received", data: inboundHookData(row) },
    );
    return { inbound: toInbound(row), created: true };
  });
}

/** One inbound; 404 also when `visible` (see visibility.ts) does not let the reader see it. */
export async function getInbound(
  db: Db,
  id: string,
  visible?: Prisma.InboundWhereInput,
): Promise<InboundFields> {
  const row = await db.inbound.findFirst({ where: { AND: [{ id }, visible ?? {}] } });
  return toInbound(
    found(row, () => senderError("MESSAGE_SENDER_INBOUND_NOT_FOUND", `Inbound ${id} not found`)),
  );
}

export function listInbounds(
  db: Db,
  query: InboundListQuery,
  page: PageParams,
  visible?: Prisma.InboundWhereInput,
) {
  const where: Prisma.InboundWhereInput = {
    AND: [
      {
        fromIdentity: query.from_identity && { in: query.from_identity },
        fromAddr: query.from_addr && { in: query.from_addr },
        toAddr: query.to_addr,
        messageId: query.message_id,
        inReplyTo: query.in_reply_to,
        content: query.content,
        channel: query.channel,
        transportName: query.transport_name,
        transportType: query.transport_type,
        createdAt: { gte: query.after, lte: query.before },
      },
      { createdAt: dateTimeFilter(query, "created_at"), updatedAt: dateTimeFilter(query, "updated_at") },
      visible ?? {},
    ],
  };
  return listByCreatedAt(db.inbound, where, page, toInbound, {
    cursor: query.cursor,
    order: orderOf(query.ordering),
  });
}
