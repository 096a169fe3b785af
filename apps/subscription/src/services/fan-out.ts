import { enqueue } from "@tidings/amqp";
import type { Db } from "../db.ts";
import { scheduleNotFound } from "../errors.ts";

/** The keyset start: below every uuid. */
const FIRST_UUID = "00000000-0000-0000-0000-000000000000";

/**
 * Pages through ids in keyset order (never one huge query: each page starts after the last id of the one
 * before) and hands them on in batches of `sendBatchSize`, a page's batches at once, for competing
 * consumers. Returns how many ids it handed on.
 */
export async function fanOutKeyset(
  page: (after: string, limit: number) => Promise<string[]>,
  publishBatch: (ids: string[]) => Promise<unknown>,
  sizes: { pageSize: number; sendBatchSize: number },
): Promise<number> {
  let after = FIRST_UUID;
  let total = 0;
  for (;;) {
    const ids = await page(after, sizes.pageSize);
    const batches: string[][] = [];
    for (let i = 0; i < ids.length; i += sizes.sendBatchSize) {
      batches.push(ids.slice(i, i + sizes.sendBatchSize));
    }
    await Promise.all(batches.map(publishBatch));
    total += ids.length;
    const last = ids.at(-1);
    if (!last || ids.length < sizes.pageSize) {
      return total;
    }
    after = last;
  }
}

/** Seed's send trigger: a manual fan-out of a content schedule now (404 for a schedule not in the local copy). */
export async function requestScheduleSend(db: Db, schedule: number, correlationId?: string): Promise<void> {
  const known = await db.scheduleCopy.findFirst({ where: { id: schedule, deleted: false } });
  if (!known) {
    throw scheduleNotFound(schedule);
  }
  await enqueue(db, {
    name: "subscription.fan-out",
    payload: { schedule, slot: new Date().toISOString(), manual: true },
    correlationId,
  });
}
