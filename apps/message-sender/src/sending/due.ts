import { randomUUID } from "node:crypto";
import { enqueue } from "@tidings/amqp";
import type { Db } from "../db.ts";
import { toSendCommand } from "../outbound/mapping.ts";
import { recordExpired } from "../outbound/unsent.ts";
import { giveBackDailyPlaces } from "./daily-cap.ts";

/**
 * One pass of the due-message poller (every worker runs it; FOR UPDATE SKIP LOCKED keeps them apart):
 * outbounds queued past their `expires_at` become expired, and deferred outbounds whose `not_before` has come
 * get `not_before` cleared and a fresh `outbound.send`, in one transaction (so a crash loses neither; a
 * duplicate send is harmless, the send being keyed by the outbound id). `now` is the worker's clock.
 */
export async function releaseDue(
  db: Db,
  now: Date,
  limit = 500,
): Promise<{ released: number; expired: number }> {
  const expired = await db.$transaction(async (tx) => {
    const rows = await tx.$queryRaw<{ id: string }[]>`
      SELECT id::text FROM outbound
      WHERE status = 'queued' AND expires_at <= ${now}
      ORDER BY expires_at LIMIT ${limit} FOR UPDATE SKIP LOCKED`;
    const ids = rows.map((r) => r.id);
    const changed = ids.length === 0 ? 0 : await recordExpired(tx, ids);
    if (changed > 0) {
      // One that held a daily-cap place (taken before a retry) gives it back.
      await giveBackDailyPlaces(tx, ids);
    }
    return changed;
  });
  const released = await db.$transaction(async (tx) => {
    const rows = await tx.$queryRaw<{ id: string }[]>`
      SELECT id::text FROM outbound
      WHERE status = 'queued' AND not_before <= ${now}
      ORDER BY not_before LIMIT ${limit} FOR UPDATE SKIP LOCKED`;
    if (rows.length === 0) {
      return 0;
    }
    const due = await tx.outbound.updateManyAndReturn({
      where: { id: { in: rows.map((r) => r.id) } },
      data: { notBefore: null },
    });
    await enqueue(
      tx,
      ...due.map((row) => ({
        name: "outbound.send" as const,
        messageId: randomUUID(),
        payload: toSendCommand(row),
      })),
    );
    return due.length;
  });
  return { released, expired };
}
