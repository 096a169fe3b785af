import { type FailedTask, toSeedTime } from "@tidings/contracts";
import { type PageParams, pageSlice } from "@tidings/service-kit";
import type { Db } from "../db.ts";
import { senderError } from "../errors.ts";
import type { OutboundSendFailure, Prisma } from "../generated/prisma/client.ts";
import { requeueFailed } from "../outbound/attempts.ts";

const toFailedTask = (row: OutboundSendFailure): FailedTask => ({
  id: Number(row.id),
  outbound: row.outboundId,
  reason: row.reason,
  attempts: row.attempts,
  initiated_at: toSeedTime(row.initiatedAt),
});

/** Failed tasks, of the outbounds `visible` (see visibility.ts) lets the reader see. */
export async function listFailedTasks(db: Db, page: PageParams, visible?: Prisma.OutboundWhereInput) {
  const where = visible && { outbound: visible };
  const [count, rows] = await db.$transaction([
    db.outboundSendFailure.count({ where }),
    db.outboundSendFailure.findMany({ where, orderBy: { id: "asc" }, ...pageSlice(page) }),
  ]);
  return { count, results: rows.map(toFailedTask) };
}

export async function getFailedTask(
  db: Db,
  id: number,
  visible?: Prisma.OutboundWhereInput,
): Promise<FailedTask> {
  const row = await db.outboundSendFailure.findFirst({
    where: { id: BigInt(id), ...(visible && { outbound: visible }) },
  });
  if (!row) {
    throw senderError("MESSAGE_SENDER_FAILED_TASK_NOT_FOUND", `Failed task ${id} not found`);
  }
  return toFailedTask(row);
}

/**
 * Requeues every failed task: each outbound moves back from failed to queued (the one backwards move, see
 * requeueFailed) with a fresh outbound.send, and the failure records are deleted, in one transaction
 * (concurrent requeues skip each other's rows). Sending stays exactly-once: the send is keyed by the outbound
 * id, not by the message id.
 */
export async function requeueFailedTasks(db: Db, correlationId?: string): Promise<number> {
  return db.$transaction(async (tx) => {
    const failures = await tx.$queryRaw<{ id: bigint; outbound_id: string }[]>`
      SELECT id, outbound_id::text FROM outbound_send_failure ORDER BY id FOR UPDATE SKIP LOCKED`;
    if (failures.length === 0) {
      return 0;
    }
    const outbounds = await requeueFailed(
      tx,
      [...new Set(failures.map((f) => f.outbound_id))],
      correlationId,
    );
    await tx.outboundSendFailure.deleteMany({ where: { id: { in: failures.map((f) => f.id) } } });
    return outbounds.length;
  });
}
