import { randomUUID } from "node:crypto";
import { type CreateOutboundBody, type OutboundListQuery, seedBoolean } from "@tidings/contracts";
import {
  found,
  type KeysetList,
  listByCreatedAt,
  type PageParams,
  type Principal,
} from "@tidings/service-kit";
import {
  channelForKey,
  notAllowed,
  recipientsNotAllowed,
  type SendingKey,
} from "../api-keys/sending-rules.ts";
import type { ChannelCache } from "../channels/channel-cache.ts";
import { seedTemplateProblems, WHATSAPP_CHANNEL_TYPES } from "../channels/whatsapp-template.ts";
import type { Db } from "../db.ts";
import { senderError } from "../errors.ts";
import type { Outbound as OutboundRow, Prisma } from "../generated/prisma/client.ts";
import { dateTimeFilter, orderOf } from "../list-filters.ts";
import { type OutboundFields, toOutbound, toSendCommand } from "../outbound/mapping.ts";
import { accepted } from "../outbound/metrics.ts";
import { sendTimingOf } from "../outbound/timing.ts";
import { normaliseRecipients } from "../recipients/addresses.ts";
import { missingPersonalisation, renderSend, templateForSend } from "../templates/templates.ts";
import type { OutboundWriter } from "./outbound-writer.ts";

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
  if (!channelIds.includes(channel) && !(await channels.row(channel))) {
    throw senderError("MESSAGE_SENDER_UNKNOWN_CHANNEL", `No channel ${channel}`, [
      { field: "body.channel", message: "no such channel" },
    ]);
  }
  return channel;
}

/**
 * 400 (VALIDATION_FAILED, each field at fault under `body.metadata`) when a send through a WhatsApp channel has a
 * Seed WhatsApp template, `metadata.template`, that is not `{name, language, variables}` (see
 * seedTemplateProblems): refused before anything is stored, rather than failing when the channel comes to send it as
 * that template. Through another channel `metadata` is the hub's own, as in Seed: kept as given.
 */
export function refuseBadSeedTemplate(
  metadata: Record<string, unknown>,
  channelType: string | undefined,
  prefix = "body.metadata",
): void {
  if (!channelType || !WHATSAPP_CHANNEL_TYPES.has(channelType)) {
    return;
  }
  const problems = seedTemplateProblems(metadata);
  if (problems.length > 0) {
    throw senderError(
      "VALIDATION_FAILED",
      `Invalid WhatsApp template: ${problems.map((p) => `metadata.${p.field} ${p.message}`).join("; ")}`,
      problems.map((p) => ({ field: `${prefix}.${p.field}`, message: p.message })),
    );
  }
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
): Promise<OutboundFields> {
  if (!input.to_addr && !input.to_identity) {
    throw senderError("VALIDATION_FAILED", "One of these fields must be populated: to_addr, to_identity", [
      { field: "body", message: "One of these fields must be populated: to_addr, to_identity" },
    ]);
  }
  const channel = await resolveChannel(channels, channelIds, input.channel, actor);
  const channelType = await channels.typeOf(channel);
  refuseBadSeedTemplate(input.metadata, channelType);
  const [recipient] = normaliseRecipients(channelType, [input], () => "body.to_addr");
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
    attemptBase: 0,
    delivered: false,
    resend: input.resend === undefined || input.resend === null ? null : seedBoolean(input.resend),
    lastError: null,
    claimedBy: null,
    claimedUntil: null,
    createdAt: now,
    createdBy: actor.userId,
    createdBySchedule: null,
    createdBySubscription: null,
    sequenceNumber: null,
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
    redactedAt: null,
    askedAt: null,
    history: [],
  };
  await writer.store(row, {
    name: "outbound.send",
    payload: toSendCommand(row),
    messageId: row.id,
    correlationId: actor.correlationId,
  });
  accepted.inc({ channel: row.channel, priority: row.priority });
  return toOutbound(row);
}

/** One outbound; 404 also when `visible` (see visibility.ts) does not let the reader see it. */
export async function getOutbound(
  db: Db,
  id: string,
  visible?: Prisma.OutboundWhereInput,
): Promise<OutboundFields> {
  const row = await db.outbound.findFirst({ where: { id, ...visible } });
  return toOutbound(found(row, () => senderError("OUTBOUND_NOT_FOUND", `Outbound ${id} not found`)));
}

export function listOutbounds(
  db: Db,
  query: OutboundListQuery,
  page: PageParams,
  visible?: Prisma.OutboundWhereInput,
): Promise<KeysetList<OutboundFields> & { count: number }> {
  const where: Prisma.OutboundWhereInput = {
    AND: [
      {
        toAddr: query.to_addr && { in: query.to_addr },
        toIdentity: query.to_identity && { in: query.to_identity },
        createdBySubscription: query.created_by_subscription,
        createdAt: { gte: query.after, lte: query.before },
        delivered: query.delivered,
        status: query.status && { in: query.status },
        channel: query.channel && { in: query.channel },
        version: query.version,
      },
      { providerId: query.vumi_message_id },
      { providerId: query.provider_id },
      { attempts: { equals: query.attempts, gte: query.attempts__gte, lte: query.attempts__lte } },
      { createdAt: dateTimeFilter(query, "created_at"), updatedAt: dateTimeFilter(query, "updated_at") },
      visible ?? {},
    ],
  };
  return listByCreatedAt(db.outbound, where, page, toOutbound, {
    cursor: query.cursor,
    order: orderOf(query.ordering),
  });
}
