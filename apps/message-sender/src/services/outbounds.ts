import { randomUUID } from "node:crypto";
import type { CreateOutboundBody, Outbound, OutboundListQuery, OutboundSend } from "@tidings/contracts";
import { badRequest, type PageParams, type Principal } from "@tidings/service-kit";
import type { Db } from "../db.ts";
import type { Outbound as OutboundRow, Prisma } from "../generated/prisma/client.ts";
import { channelForKey, notAllowed, recipientsNotAllowed, type SendingKey } from "./api-keys.ts";
import type { ChannelCache } from "./channels.ts";
import type { OutboundWriter } from "./outbound-writer.ts";
import { channelType, normaliseRecipients } from "./recipients.ts";
import { missingPersonalisation, renderSend, templateForSend } from "./templates.ts";
import { sendTimingOf } from "./windows.ts";

export function toOutbound(row: OutboundRow): Outbound {
  return {
    id: row.id,
    version: row.version,
    to_addr: row.toAddr,
    to_identity: row.toIdentity,
    // Sensitive content is never shown (and is cleared once the send is final).
    content: row.sensitive ? null : row.content,
    content_masked: row.sensitive,
    delivered: row.delivered,
    attempts: row.attempts,
    metadata: row.metadata as Outbound["metadata"],
    channel: row.channel,
    resend: row.resend,
    status: row.status,
    provider_id: row.providerId,
    last_error: row.lastError,
    test: row.test,
    batch: row.batchId,
    template: row.template,
    template_version: row.templateVersion,
    priority: row.priority,
    sending_window: row.sendingWindow as Outbound["sending_window"],
    not_before: row.notBefore?.toISOString() ?? null,
    expires_at: row.expiresAt?.toISOString() ?? null,
    created_at: row.createdAt.toISOString(),
    created_by: row.createdBy,
    created_by_schedule: row.createdBySchedule,
    updated_at: row.updatedAt.toISOString(),
    updated_by: row.updatedBy,
  };
}

/** The `outbound.send` command for a stored outbound (an empty to_addr is left out, as the contract wants). */
export function toSendCommand(row: OutboundRow): OutboundSend {
  return {
    id: row.id,
    ...(row.toAddr ? { to_addr: row.toAddr } : {}),
    ...(row.toIdentity ? { to_identity: row.toIdentity } : {}),
    content: row.content,
    channel: row.channel,
    metadata: row.metadata as OutboundSend["metadata"],
    ...(row.resend === null ? {} : { resend: row.resend }),
    ...(row.priority === "normal" ? {} : { priority: row.priority }),
    ...(row.sendingWindow ? { sending_window: row.sendingWindow as OutboundSend["sending_window"] } : {}),
    ...(row.notBefore ? { not_before: row.notBefore.toISOString() } : {}),
    ...(row.expiresAt ? { expires_at: row.expiresAt.toISOString() } : {}),
    ...(row.sensitive ? { sensitive: true } : {}),
  };
}

export interface Actor extends SendingKey {
  userId: number | null;
  correlationId?: string;
}

/** The actor of an API request: its user, key kind and allow-list, and its id as the correlation id. */
export const actorOf = (request: { principal: Principal; id: string }): Actor => ({
  userId: request.principal.userId,
  keyKind: request.principal.keyKind,
  allowList: request.principal.allowList,
  correlationId: request.id,
});

/**
 * The channel a send goes through: the one asked for (400 when there is no such channel) or the default;
 * always the log channel for a test key. Read from the channel cache: no database round trip on most sends.
 */
export async function resolveChannel(
  channels: ChannelCache,
  channelIds: readonly string[],
  requested: string | null | undefined,
  key: SendingKey,
): Promise<string> {
  const channel = channelForKey(key, requested ?? (await channels.defaultChannel()));
  if (!channelIds.includes(channel) && !(await channels.get(channel))) {
    throw badRequest("MESSAGE_SENDER_UNKNOWN_CHANNEL", `No channel ${channel}`, [
      { field: "body.channel", message: "no such channel" },
    ]);
  }
  return channel;
}

/**
 * Accepts a send: stores the outbound (queued) and its `outbound.send` (the outbound id as messageId) through
 * the writer, in one statement with the others accepted at the same time, which is atomic on its own: the
 * outbound is sent if and only if it was stored. The row is built here, so the command and the answer need no
 * read back.
 */
export async function createOutbound(
  db: Db,
  writer: OutboundWriter,
  channels: ChannelCache,
  channelIds: readonly string[],
  input: CreateOutboundBody,
  actor: Actor,
): Promise<Outbound> {
  if (!input.to_addr && !input.to_identity) {
    throw badRequest("VALIDATION_FAILED", "One of these fields must be populated: to_addr, to_identity", [
      { field: "body", message: "One of these fields must be populated: to_addr, to_identity" },
    ]);
  }
  const channel = await resolveChannel(channels, channelIds, input.channel, actor);
  const [recipient] = normaliseRecipients(
    await channelType(channels, channel),
    [input],
    () => "body.to_addr",
  );
  const toAddr = recipient?.to_addr ?? "";
  const refused = recipientsNotAllowed(actor, [{ ...input, to_addr: toAddr }]);
  if (refused.length > 0) {
    const fields = refused.flatMap((r) => r.fields).join(" and ");
    throw notAllowed(`This team key may not send to this ${fields}`, refused, () => "body");
  }
  const template = await templateForSend(db, input);
  let content = input.content ?? null;
  let metadata = input.metadata;
  if (template) {
    const rendered = renderSend(template, input.personalisation, metadata);
    if ("missing" in rendered) {
      throw missingPersonalisation(`Missing personalisation: ${rendered.missing.join(", ")}`, [
        { prefix: "body.personalisation", names: rendered.missing },
      ]);
    }
    ({ content, metadata } = rendered);
  }
  const timing = sendTimingOf(input);
  const now = new Date(); // timestamptz(3): a JS date is stored exactly
  const row: OutboundRow = {
    id: randomUUID(),
    version: input.version ?? 1,
    toAddr,
    toIdentity: input.to_identity ?? null,
    content,
    channel,
    metadata: metadata as Prisma.JsonObject,
    status: "queued",
    providerId: null,
    attempts: 0,
    delivered: false,
    resend: input.resend ?? null,
    lastError: null,
    claimedBy: null,
    claimedUntil: null,
    createdAt: now,
    createdBy: actor.userId,
    createdBySchedule: null,
    updatedAt: now,
    updatedBy: actor.userId,
    batchId: null,
    test: actor.keyKind === "test",
    template: template?.id ?? null,
    templateVersion: template?.version ?? null,
    priority: timing.priority,
    sendingWindow: input.sending_window ?? null,
    notBefore: timing.notBefore,
    expiresAt: timing.expiresAt,
    sensitive: input.sensitive ?? false,
  };
  await writer.store(row, {
    name: "outbound.send",
    payload: toSendCommand(row),
    messageId: row.id,
    correlationId: actor.correlationId,
  });
  return toOutbound(row);
}

/** One outbound, if `visible` (see visibility.ts) lets the reader see it. */
export async function getOutbound(
  db: Db,
  id: string,
  visible?: Prisma.OutboundWhereInput,
): Promise<Outbound | null> {
  const row = await db.outbound.findFirst({ where: { id, ...visible } });
  return row && toOutbound(row);
}

export async function listOutbounds(
  db: Db,
  query: OutboundListQuery,
  page: PageParams,
  visible?: Prisma.OutboundWhereInput,
): Promise<{ count: number; results: Outbound[] }> {
  const where: Prisma.OutboundWhereInput = {
    AND: [
      {
        toAddr: query.to_addr && { in: query.to_addr },
        toIdentity: query.to_identity && { in: query.to_identity },
        createdAt: { gte: query.after, lte: query.before },
        delivered: query.delivered,
        status: query.status,
      },
      visible ?? {},
    ],
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
