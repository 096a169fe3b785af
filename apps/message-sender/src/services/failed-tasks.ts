import { randomUUID } from "node:crypto";
import { enqueue } from "@tidings/amqp";
import type { FailedTask, OutboundSend } from "@tidings/contracts";
import { notFound, type PageParams } from "@tidings/service-kit";
import type { Db } from "../db.ts";
import type { OutboundSendFailure } from "../generated/prisma/client.ts";

const toFailedTask = (row: OutboundSendFailure): FailedTask => ({
  id: Number(row.id),
  outbound: row.outboundId,
  reason: row.reason,
  attempts: row.attempts,
  initiated_at: row.initiatedAt.toISOString(),
});

export async function listFailedTasks(db: Db, page: PageParams) {
  const [count, rows] = await db.$transaction([
    db.outboundSendFailure.count(),
    db.outboundSendFailure.findMany({ orderBy: { id: "asc" }, skip: page.offset, take: page.limit }),
  ]);
  return { count, results: rows.map(toFailedTask) };
}

export async function getFailedTask(db: Db, id: number): Promise<FailedTask> {
  const row = await db.outboundSendFailure.findUnique({ where: { id: BigInt(id) } });
  if (!row) {
    throw notFound("MESSAGE_SENDER_FAILED_TASK_NOT_FOUND", `Failed task ${id} not found`);
  }
  return toFailedTask(row);
}

/**
 * Requeues every failed task: a fresh outbound.send for each outbound still queued, and the failure records
 * deleted, in one transaction (concurrent requeues skip each other's rows). Sending stays exactly-once: the
 * send is keyed by the outbound id, not by the message id.
 */
export async function requeueFailedTasks(db: Db, correlationId?: string): Promise<number> {
  return db.$transaction(async (tx) => {
    const failures = await tx.$queryRaw<{ id: bigint; outbound_id: string }[]>`
      SELECT id, outbound_id::text FROM outbound_send_failure ORDER BY id FOR UPDATE SKIP LOCKED`;
    if (failures.length === 0) {
      return 0;
    }
    const ids = [...new Set(failures.map((f) => f.outbound_id))];
    const outbounds = await tx.outbound.findMany({ where: { id: { in: ids }, status: "queued" } });
    await enqueue(
      tx,
      ...outbounds.map((row) => ({
        name: "outbound.send" as const,
        messageId: randomUUID(),
        correlationId,
        payload: {
          id: row.id,
          ...(row.toAddr ? { to_addr: row.toAddr } : {}),
          ...(row.toIdentity ? { to_identity: row.toIdentity } : {}),
          content: row.content,
          channel: row.channel,
          metadata: row.metadata as OutboundSend["metadata"],
        },
      })),
    );
    await tx.outboundSendFailure.deleteMany({ where: { id: { in: failures.map((f) => f.id) } } });
    return outbounds.length;
  });
}
