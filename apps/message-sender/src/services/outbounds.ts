import { randomUUID } from "node:crypto";
import { enqueue } from "@tidings/amqp";
import type { CreateOutboundBody, Outbound, OutboundListQuery, OutboundSend } from "@tidings/contracts";
import { badRequest, type PageParams } from "@tidings/service-kit";
import { DEFAULT_CHANNEL } from "../channels/channel.ts";
import type { Db } from "../db.ts";
import type { Outbound as OutboundRow, Prisma } from "../generated/prisma/client.ts";

function toOutbound(row: OutboundRow): Outbound {
  return {
    id: row.id,
    version: row.version,
    to_addr: row.toAddr,
    to_identity: row.toIdentity,
    content: row.content,
    delivered: row.delivered,
    attempts: row.attempts,
    metadata: row.metadata as Outbound["metadata"],
    channel: row.channel,
    resend: row.resend,
    status: row.status,
    provider_id: row.providerId,
    last_error: row.lastError,
    created_at: row.createdAt.toISOString(),
    created_by: row.createdBy,
    updated_at: row.updatedAt.toISOString(),
    updated_by: row.updatedBy,
  };
}

/** The `outbound.send` command for a stored outbound (an empty to_addr is left out, as the contract wants). */
function toSendCommand(row: OutboundRow): OutboundSend {
  return {
    id: row.id,
    ...(row.toAddr ? { to_addr: row.toAddr } : {}),
    ...(row.toIdentity ? { to_identity: row.toIdentity } : {}),
    content: row.content,
    channel: row.channel,
    metadata: row.metadata as OutboundSend["metadata"],
    ...(row.resend === null ? {} : { resend: row.resend }),
  };
}

interface Actor {
  userId: number | null;
  correlationId?: string;
}

/**
 * Stores an outbound (queued) and, in the same transaction, its `outbound.send` with the outbound id as
 * messageId: the outbound is sent if and only if it was stored.
 */
export async function createOutbound(
  db: Db,
  channelIds: readonly string[],
  input: CreateOutboundBody,
  actor: Actor,
): Promise<Outbound> {
  if (!input.to_addr && !input.to_identity) {
    throw badRequest("VALIDATION_FAILED", "One of these fields must be populated: to_addr, to_identity", [
      { field: "body", message: "One of these fields must be populated: to_addr, to_identity" },
    ]);
  }
  const channel =
    input.channel ?? (await db.channel.findFirst({ where: { default: true } }))?.id ?? DEFAULT_CHANNEL;
  if (!channelIds.includes(channel) && !(await db.channel.findUnique({ where: { id: channel } }))) {
    throw badRequest("MESSAGE_SENDER_UNKNOWN_CHANNEL", `No channel ${channel}`, [
      { field: "body.channel", message: "no such channel" },
    ]);
  }
  return db.$transaction(async (tx) => {
    const row = await tx.outbound.create({
      data: {
        id: randomUUID(),
        version: input.version ?? 1,
        toAddr: input.to_addr ?? "",
        toIdentity: input.to_identity ?? null,
        content: input.content ?? null,
        channel,
        metadata: input.metadata as Prisma.InputJsonObject,
        resend: input.resend ?? null,
        createdBy: actor.userId,
        updatedBy: actor.userId,
      },
    });
    await enqueue(tx, {
      name: "outbound.send",
      payload: toSendCommand(row),
      messageId: row.id,
      correlationId: actor.correlationId,
    });
    return toOutbound(row);
  });
}

export async function getOutbound(db: Db, id: string): Promise<Outbound | null> {
  const row = await db.outbound.findUnique({ where: { id } });
  return row && toOutbound(row);
}

export async function listOutbounds(
  db: Db,
  query: OutboundListQuery,
  page: PageParams,
): Promise<{ count: number; results: Outbound[] }> {
  const where: Prisma.OutboundWhereInput = {
    toAddr: query.to_addr && { in: query.to_addr },
    toIdentity: query.to_identity && { in: query.to_identity },
    createdAt: { gte: query.after, lte: query.before },
    delivered: query.delivered,
    status: query.status,
  };
  const [count, rows] = await db.$transaction([
    db.outbound.count({ where }),
    db.outbound.findMany({
      where,
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
      skip: page.offset,
      take: page.limit,
    }),
  ]);
  return { count, results: rows.map(toOutbound) };
}
