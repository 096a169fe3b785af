import type { Tx } from "../db.ts";
import { announce } from "./announce.ts";
import { OPTED_OUT } from "./channel.ts";

// Status changes out of queued for an outbound that is never sent (failed before a send, given up, expired,
// cancelled): each a compare-and-set on queued (and on the claim of the worker making it), with its history and
// events in the same transaction.

/**
 * queued -> failed, by the worker holding the claim (nothing was sent). The address is wiped. `report`: with a
 * delivery report (default); `sentTo`: the address it was meant for, for the delivery-report hook.
 */
export async function recordFailed(
  tx: Tx,
  id: string,
  worker: string,
  reason: string,
  { report = true, sentTo }: { report?: boolean; sentTo?: string | null } = {},
): Promise<boolean> {
  const [failed] = await tx.outbound.updateManyAndReturn({
    where: { id, status: "queued", claimedBy: worker },
    data: { status: "failed", toAddr: "", lastError: reason, claimedUntil: null },
  });
  if (!failed) {
    return false;
  }
  await announce(tx, [{ row: failed, worker, reason, report, sentTo }]);
  return true;
}

/**
 * queued -> failed with reason opted_out, by the worker holding the claim: the recipient said STOP, so nothing was
 * sent. No delivery report: it is no delivery failure of the person.
 */
export const recordOptedOut = (tx: Tx, id: string, worker: string): Promise<boolean> =>
  recordFailed(tx, id, worker, OPTED_OUT, { report: false });

/**
 * queued -> failed after the last attempt failed for a passing reason (a provider outage, an identity that
 * never arrived), by the worker holding the claim, with a failed-task record. Nothing was sent, so the
 * address is kept: `POST /api/v1/failed-tasks/` may requeue it (see requeueFailed). No delivery report: it
 * says nothing about the address.
 */
export async function recordGaveUp(
  tx: Tx,
  id: string,
  worker: string,
  reason: string,
  attempts: number,
): Promise<boolean> {
  const [failed] = await tx.outbound.updateManyAndReturn({
    where: { id, status: "queued", claimedBy: worker },
    data: { status: "failed", lastError: reason, claimedUntil: null },
  });
  if (!failed) {
    return false;
  }
  await tx.outboundSendFailure.create({ data: { outboundId: id, reason, attempts } });
  await announce(tx, [{ row: failed, worker, reason, report: false }]);
  return true;
}

/**
 * queued -> expired (past `expires_at`: not sent; the address wiped), announced as outbound.failed with
 * status expired and no delivery report. With `worker`, only under that worker's claim; without, only while
 * no live claim exists (the due-message poller). Returns how many expired.
 */
export const recordExpired = (tx: Tx, ids: string[], worker?: string): Promise<number> =>
  recordUnsent(tx, ids, "expired", "expired", worker);

/**
 * queued -> `status` (expired, or cancelled: never to be sent; the address wiped), announced as
 * outbound.failed with that status and `reason`, and no delivery report (it says nothing about the address).
 * With `worker`, only under that worker's claim; without, only while no live claim exists. Returns how many
 * changed.
 */
export async function recordUnsent(
  tx: Tx,
  ids: string[],
  status: "expired" | "cancelled",
  reason: string,
  worker?: string,
): Promise<number> {
  const rows = await tx.outbound.updateManyAndReturn({
    where: {
      id: { in: ids },
      status: "queued",
      ...(worker
        ? { claimedBy: worker }
        : { OR: [{ claimedUntil: null }, { claimedUntil: { lt: new Date() } }] }),
    },
    data: { status, toAddr: "", lastError: reason, claimedUntil: null },
  });
  if (rows.length > 0) {
    await announce(
      tx,
      rows.map((row) => ({ row, worker, reason, report: false })),
    );
  }
  return rows.length;
}
