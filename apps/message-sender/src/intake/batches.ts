import { randomUUID } from "node:crypto";
import { enqueue } from "@tidings/amqp";
import { type Batch, type CreateBatchBody, deterministicId, toSeedTime } from "@tidings/contracts";
import { type PageParams, pageSlice } from "@tidings/service-kit";
import { notAllowed, recipientsNotAllowed } from "../api-keys/sending-rules.ts";
import type { ChannelCache } from "../channels/channel-cache.ts";
import type { Db, Tx } from "../db.ts";
import { senderError } from "../errors.ts";
import type { OutboundBatch, Prisma } from "../generated/prisma/client.ts";
import { toSendCommand } from "../outbound/mapping.ts";
import { accepted } from "../outbound/metrics.ts";
import { normaliseRecipients } from "../recipients/addresses.ts";
import { missingPersonalisation, renderSend, templateForSend } from "../templates/templates.ts";
import { type Actor, refuseBadSeedTemplate, resolveChannel } from "./outbounds.ts";

/** Outbounds inserted (and their outbox rows) per statement. */
const CHUNK = 1_000;
/** A batch of 10,000 takes a few seconds on a loaded machine; leave it room. */
const BATCH_TRANSACTION = { timeout: 120_000 };

/** The id of a batch's outbound number `index`: a retried batch collides with its first attempt. */
export const batchOutboundId = (batchId: string, index: number) =>
  deterministicId("outbound-batch", batchId, index);

/** Names the recipients in a 400/403 message, the first 20 of them. */
function indexList(indexes: readonly number[]): string {
  const shown = indexes.slice(0, 20).join(", ");
  return indexes.length > 20 ? `${shown} and ${indexes.length - 20} more` : shown;
}

interface Row {
  id: string;
  to_addr: string;
  to_identity: string | null;
  content: string | null;
  metadata: Record<string, unknown>;
}

/**
 * Validates a whole batch (recipients, allow-list, template placeholders) before anything is stored, then
 * stores it in one transaction: the batch row, its outbounds (multi-row inserts, `bulk` priority) and their
 * `outbound.send`, a chunk at a time. A batch id seen before stores nothing: a retry (the same user, a test key
 * again or not) gets that batch; any other caller 409 MESSAGE_SENDER_BATCH_EXISTS, told nothing of it (a live
 * retry of a test key's batch would otherwise be answered with it, and nothing real sent).
 */
export async function createBatch(
  db: Db,
  channels: ChannelCache,
  channelIds: readonly string[],
  input: CreateBatchBody,
  actor: Actor,
): Promise<Batch> {
  const noRecipient = input.recipients.flatMap((r, i) => (r.to_addr || r.to_identity ? [] : [i]));
  if (noRecipient.length > 0) {
    throw senderError(
      "VALIDATION_FAILED",
      `Recipients ${indexList(noRecipient)}: one of these fields must be populated: to_addr, to_identity`,
      noRecipient.map((i) => ({ field: `body.recipients[${i}]`, message: "needs to_addr or to_identity" })),
    );
  }
  const channel = await resolveChannel(channels, channelIds, input.channel, actor);
  const channelType = await channels.typeOf(channel);
  refuseBadSeedTemplate(input.metadata ?? {}, channelType);
  const recipients = normaliseRecipients(
    channelType,
    input.recipients,
    (i) => `body.recipients[${i}].to_addr`,
  );
  const template = await templateForSend(db, input);
  const personalised = template ? [] : recipients.flatMap((r, i) => (r.personalisation ? [i] : []));
  if (personalised.length > 0) {
    throw senderError(
      "VALIDATION_FAILED",
      `Recipients ${indexList(personalised)}: personalisation needs template`,
      personalised.map((i) => ({
        field: `body.recipients[${i}].personalisation`,
        message: "needs template",
      })),
    );
  }
  const metadata = input.metadata ?? {};
  const rows: Row[] = [];
  const missing: { index: number; names: string[] }[] = [];
  const batchId = input.id ?? randomUUID();
  recipients.forEach((r, index) => {
    let content = input.content ?? null;
    let ownMetadata = metadata;
    if (template) {
      const rendered = renderSend(template, { ...input.personalisation, ...r.personalisation }, metadata);
      if ("missing" in rendered) {
        missing.push({ index, names: rendered.missing });
        return;
      }
      ({ content, metadata: ownMetadata } = rendered);
    }
    rows.push({
      id: batchOutboundId(batchId, index),
      to_addr: r.to_addr ?? "",
      to_identity: r.to_identity ?? null,
      content,
      metadata: ownMetadata,
    });
  });
  if (missing.length > 0) {
    throw missingPersonalisation(
      `Missing personalisation for recipients ${indexList(missing.map((m) => m.index))}`,
      missing.map(({ index, names }) => ({ prefix: `body.recipients[${index}].personalisation`, names })),
    );
  }
  const refused = recipientsNotAllowed(actor, recipients);
  if (refused.length > 0) {
    throw notAllowed(
      `This team key may not send to recipients ${indexList(refused.map((r) => r.index))}`,
      refused,
      (index) => `body.recipients[${index}]`,
    );
  }
  const test = actor.keyKind === "test";
  const stored = await db.$transaction(async (tx) => {
    const created = await tx.outboundBatch.createMany({
      data: [
        {
          id: batchId,
          total: rows.length,
          channel,
          template: template?.id ?? null,
          templateVersion: template?.version ?? null,
          test,
          createdBy: actor.userId,
        },
      ],
      skipDuplicates: true,
    });
    if (created.count === 0) {
      const existing = await tx.outboundBatch.findUniqueOrThrow({
        where: { id: batchId },
        select: { createdBy: true, test: true },
      });
      if (existing.createdBy !== actor.userId || existing.test !== test) {
        throw senderError(
          "MESSAGE_SENDER_BATCH_EXISTS",
          `Batch ${batchId} exists, made by another user or kind of key`,
          [{ field: "body.id", message: "is another batch's: leave it out for a new one" }],
        );
      }
      return 0; // a retry of a stored batch: it is there, with its outbounds
    }
    let count = 0;
    for (let start = 0; start < rows.length; start += CHUNK) {
      count += await storeChunk(tx, rows.slice(start, start + CHUNK), {
        batchId,
        channel,
        test,
        template: template?.id ?? null,
        templateVersion: template?.version ?? null,
        userId: actor.userId,
        correlationId: actor.correlationId,
      });
    }
    return count;
  }, BATCH_TRANSACTION);
  accepted.inc({ channel, priority: "bulk" }, stored);
  return getBatch(db, batchId);
}

interface Shared {
  batchId: string;
  channel: string;
  test: boolean;
  template: number | null;
  templateVersion: number | null;
  userId: number | null;
  correlationId: string | undefined;
}

/** One multi-row insert of outbounds and one of their outbox rows; returns how many were new. */
async function storeChunk(tx: Tx, rows: readonly Row[], shared: Shared): Promise<number> {
  const inserted = await tx.$queryRawUnsafe<{ id: string }[]>(
    `INSERT INTO outbound (id, to_addr, to_identity, content, channel, metadata, batch_id, test, template,
                           template_version, created_by, updated_by, priority)
     SELECT r.id, r.to_addr, r.to_identity, r.content, $2, r.metadata, $3::uuid, $4, $5, $6, $7, $7, 'bulk'
     FROM jsonb_to_recordset($1::jsonb)
       AS r(id uuid, to_addr text, to_identity uuid, content text, metadata jsonb)
     ON CONFLICT (id) DO NOTHING
     RETURNING id::text`,
    JSON.stringify(rows),
    shared.channel,
    shared.batchId,
    shared.test,
    shared.template,
    shared.templateVersion,
    shared.userId,
  );
  const stored = await tx.outbound.findMany({ where: { id: { in: inserted.map((r) => r.id) } } });
  await enqueue(
    tx,
    ...stored.map((row) => ({
      name: "outbound.send" as const,
      payload: toSendCommand(row),
      messageId: row.id,
      correlationId: shared.correlationId,
    })),
  );
  return stored.length;
}

function toBatch(row: OutboundBatch, counts: Record<string, number>): Batch {
  return {
    id: row.id,
    total: row.total,
    channel: row.channel,
    template: row.template,
    template_version: row.templateVersion,
    test: row.test,
    status_counts: counts,
    created_at: toSeedTime(row.createdAt),
    created_by: row.createdBy,
  };
}

/** A batch with its outbounds counted by status; 404 also when `visible` (see visibility.ts) does not let the reader see it. */
export async function getBatch(db: Db, id: string, visible?: Prisma.OutboundBatchWhereInput): Promise<Batch> {
  const row = await db.outboundBatch.findFirst({ where: { id, ...visible } });
  if (!row) {
    throw senderError("MESSAGE_SENDER_BATCH_NOT_FOUND", `Batch ${id} not found`);
  }
  const counts = await countsByBatch(db, [id]);
  return toBatch(row, counts.get(id) ?? {});
}

/** The outbounds of each of the batches `ids`, counted by status. */
async function countsByBatch(db: Db, ids: string[]): Promise<Map<string, Record<string, number>>> {
  const groups = await db.outbound.groupBy({
    by: ["batchId", "status"],
    where: { batchId: { in: ids } },
    _count: { _all: true },
  });
  const counts = new Map<string, Record<string, number>>(ids.map((id) => [id, {}]));
  for (const g of groups) {
    const forBatch = g.batchId ? counts.get(g.batchId) : undefined;
    if (forBatch) {
      forBatch[g.status] = g._count._all;
    }
  }
  return counts;
}

/** Batches, newest first, each with its outbounds counted by status; only those `visible` (see visibility.ts). */
export async function listBatches(db: Db, page: PageParams, visible?: Prisma.OutboundBatchWhereInput) {
  const [count, rows] = await db.$transaction([
    db.outboundBatch.count({ where: visible }),
    db.outboundBatch.findMany({
      where: visible,
      orderBy: [{ createdAt: "desc" }, { id: "asc" }],
      ...pageSlice(page),
    }),
  ]);
  const counts = await countsByBatch(
    db,
    rows.map((r) => r.id),
  );
  return { count, results: rows.map((row) => toBatch(row, counts.get(row.id) ?? {})) };
}
