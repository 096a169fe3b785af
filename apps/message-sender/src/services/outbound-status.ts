import { enqueue, type OutboxMessage } from "@tidings/amqp";
import type { OutboundStatusChanged } from "@tidings/contracts";
import type { SendResult } from "../channels/channel.ts";
import type { Outbound as OutboundRow, Prisma } from "../generated/prisma/client.ts";

// Status changes. Each is a compare-and-set on the status it moves from (and, out of queued, on the claim of
// the worker making it), so status only moves forward and a change happens at most once however often it is
// attempted. The history rows and the events are written in the same transaction: they exist iff it does.

type Tx = Prisma.TransactionClient;

interface Change {
  row: OutboundRow;
  worker?: string;
  reason?: string;
}

function eventsFor({ row, reason = null }: { row: OutboundRow; reason?: string | null }): OutboxMessage[] {
  const at = row.updatedAt.toISOString();
  const changed: OutboundStatusChanged = {
    id: row.id,
    status: row.status,
    to_identity: row.toIdentity,
    channel: row.channel,
    provider_id: row.providerId,
    reason,
    at,
  };
  if (row.status === "submitted") {
    return [{ name: "outbound.submitted", payload: changed }];
  }
  return [
    { name: row.status === "delivered" ? "outbound.delivered" : "outbound.failed", payload: changed },
    {
      name: "outbound.delivery_report",
      payload: {
        outbound_id: row.id,
        identity: row.toIdentity,
        delivered: row.delivered,
        status: row.status,
        reason,
        at,
      },
    },
  ];
}

async function announce(tx: Tx, changes: Change[]): Promise<void> {
  await tx.outboundEvent.createMany({
    data: changes.map(({ row, worker, reason }) => ({
      outboundId: row.id,
      status: row.status,
      detail: { provider_id: row.providerId, worker, reason },
    })),
  });
  await enqueue(tx, ...changes.flatMap(eventsFor));
}

/**
 * queued -> submitted, by the worker holding the claim; then -> delivered (`delivered` set, the address wiped)
 * when the channel reported delivery at once. False when the outbound was not queued under that claim.
 */
export async function recordSend(tx: Tx, id: string, worker: string, result: SendResult): Promise<boolean> {
  const [submitted] = await tx.outbound.updateManyAndReturn({
    where: { id, status: "queued", claimedBy: worker },
    data: {
      status: "submitted",
      providerId: result.providerId,
      attempts: { increment: 1 },
      claimedUntil: null,
      lastError: null,
    },
  });
  if (!submitted) {
    return false;
  }
  const changes: Change[] = [{ row: submitted, worker }];
  if (result.delivered) {
    const [delivered] = await tx.outbound.updateManyAndReturn({
      where: { id, status: "submitted" },
      data: { status: "delivered", delivered: true, toAddr: "" },
    });
    changes.push({ row: delivered! });
  }
  await announce(tx, changes);
  return true;
}

/** queued -> failed, by the worker holding the claim (nothing was sent). The address is wiped. */
export async function recordFailed(tx: Tx, id: string, worker: string, reason: string): Promise<boolean> {
  const [failed] = await tx.outbound.updateManyAndReturn({
    where: { id, status: "queued", claimedBy: worker },
    data: { status: "failed", toAddr: "", lastError: reason, claimedUntil: null },
  });
  if (!failed) {
    return false;
  }
  await announce(tx, [{ row: failed, worker, reason }]);
  return true;
}
