import type { ContentSchedule, Message, MessageDeleted, MessageSet } from "@tidings/contracts";
import type { Db } from "../db.ts";

/**
 * The local copies of content this service sends from, kept by content events. Each row carries the
 * version (`updated_at`) it was copied at; an event older than the copy is ignored, so redelivered or
 * reordered events never roll content back.
 */

/** A copy table as `keepNewer` writes it. */
interface CopyTable<Data> {
  updateMany(args: { where: { id: number; version: { lte: Date } }; data: Data }): Promise<{ count: number }>;
  createMany(args: { data: (Data & { id: number })[]; skipDuplicates: true }): Promise<unknown>;
}

/** Writes the copy `id` unless it is newer than `data.version`: updated where it exists, created where not. */
async function keepNewer<Data extends { version: Date }>(
  table: NoInfer<CopyTable<Data>>,
  id: number,
  data: Data,
) {
  const { count } = await table.updateMany({ where: { id, version: { lte: data.version } }, data });
  if (count === 0) {
    await table.createMany({ data: [{ id, ...data }], skipDuplicates: true });
  }
}

export async function copySchedule(db: Db, s: ContentSchedule): Promise<void> {
  const version = new Date(s.updated_at);
  const data = { cron: s.cron_definition, timezone: s.timezone, deleted: false, version };
  await keepNewer(db.scheduleCopy, s.id, data);
}

export async function copyMessageSet(db: Db, m: MessageSet): Promise<void> {
  const version = new Date(m.updated_at);
  const data = {
    shortName: m.short_name,
    label: m.label,
    nextSet: m.next_set,
    defaultSchedule: m.default_schedule,
    contentType: m.content_type,
    channel: m.channel,
    deleted: false,
    version,
  };
  await keepNewer(db.messageSetCopy, m.id, data);
}

export async function copyMessage(db: Db, m: Message): Promise<void> {
  const version = new Date(m.updated_at);
  const data = {
    messagesetId: m.messageset,
    sequenceNumber: m.sequence_number,
    lang: m.lang,
    textContent: m.text_content,
    binaryContent: m.binary_content,
    binaryContentUrl: m.binary_content_url ?? null,
    metadata: m.metadata as object,
    version,
  };
  await keepNewer(db.messageCopy, m.id, data);
}

export async function deleteMessage(db: Db, m: MessageDeleted): Promise<void> {
  await db.messageCopy.deleteMany({ where: { id: m.id } });
}

/** Deleted sets and schedules are kept, marked, so existing subscriptions still name something. */
export async function markMessageSetDeleted(db: Db, id: number): Promise<void> {
  await db.messageSetCopy.updateMany({ where: { id }, data: { deleted: true } });
}

export async function markScheduleDeleted(db: Db, id: number): Promise<void> {
  await db.scheduleCopy.updateMany({ where: { id }, data: { deleted: true } });
}
