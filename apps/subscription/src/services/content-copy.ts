import type { ContentSchedule, Message, MessageDeleted, MessageSet } from "@tidings/contracts";
import type { Db } from "../db.ts";

/**
 * The local copies of content this service sends from, kept by content events. Each row carries the
 * version (`updated_at`) it was copied at; an event older than the copy is ignored, so redelivered or
 * reordered events never roll content back.
 */

export async function copySchedule(db: Db, s: ContentSchedule): Promise<void> {
  const version = new Date(s.updated_at);
  const data = { cron: s.cron_definition, timezone: s.timezone, deleted: false, version };
  const { count } = await db.scheduleCopy.updateMany({
    where: { id: s.id, version: { lte: version } },
    data,
  });
  if (count === 0) {
    await db.scheduleCopy.createMany({ data: [{ id: s.id, ...data }], skipDuplicates: true });
  }
}

export async function copyMessageSet(db: Db, m: MessageSet): Promise<void> {
  const version = new Date(m.updated_at);
  const data = {
    shortName: m.short_name,
    nextSet: m.next_set,
    defaultSchedule: m.default_schedule,
    contentType: m.content_type,
    channel: m.channel,
    deleted: false,
    version,
  };
  const { count } = await db.messageSetCopy.updateMany({
    where: { id: m.id, version: { lte: version } },
    data,
  });
  if (count === 0) {
    await db.messageSetCopy.createMany({ data: [{ id: m.id, ...data }], skipDuplicates: true });
  }
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
  const { count } = await db.messageCopy.updateMany({ where: { id: m.id, version: { lte: version } }, data });
  if (count === 0) {
    await db.messageCopy.createMany({ data: [{ id: m.id, ...data }], skipDuplicates: true });
  }
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
