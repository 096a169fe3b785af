import { enqueue, type OutboxMessage } from "@tidings/amqp";
import type { OutboundStatusChanged } from "@tidings/contracts";
import type { SendResult } from "../channels/channel.ts";
import type { Tx } from "../db.ts";
import type { Outbound as OutboundRow } from "../generated/prisma/client.ts";

// Status changes. Each is a compare-and-set on the status it moves from (and, out of queued, on the claim of
// the worker making it), so status only moves forward and a change happens at most once however often it is
// attempted. The history rows and the events are written in the same transaction: they exist iff it does.

interface Change {
  row: OutboundRow;
  worker?: string;
  reason?: string;
  /**
   * Whether a final status says something about the recipient's address (`outbound.delivery_report`, which
   * counts towards the identity's failures). Not for an expired outbound, nor one given up after a provider
   * outage. Default true.
   */
  report?: boolean;
}

function eventsFor({
  row,
  reason = null,
  report = true,
}: Omit<Change, "reason"> & { reason?: string | null }): OutboxMessage[] {
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
  // expired (and failed) outbounds are announced as outbound.failed, with their status in the payload.
  const final: OutboxMessage = {
    name: row.status === "delivered" ? "outbound.delivered" : "outbound.failed",
    payload: changed,
  };
  if (!report) {
    return [final];
  }
  return [
    final,
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
export async function recordSend(
  tx: Tx,
  id: string,
  worker: string,
  result: SendResult,
  channel: string,
): Promise<boolean> {
  await lockReport(tx, channel, result.providerId);
  const [submitted] = await tx.outbound.updateManyAndReturn({
    where: { id, status: "queued", claimedBy: worker },
    data: {
      status: "submitted",
      channel,
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
  } else {
    // A final report that overtook this confirmation (see applyReport) is applied now.
    const early = await tx.earlyReport.findUnique({
      where: { channel_providerId: { channel, providerId: result.providerId } },
    });
    if (early) {
      await tx.earlyReport.delete({
        where: { channel_providerId: { channel, providerId: result.providerId } },
      });
      const final = await finish(tx, id, early.status === "delivered", early.reason);
      if (final) {
        changes.push({ row: final, reason: early.reason ?? undefined });
      }
    }
  }
  await announce(tx, changes);
  return true;
}

/** Serialises recordSend and applyReport for one provider id, so an early report is never missed. */
async function lockReport(tx: Tx, channel: string, providerId: string): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${channel} || ':' || ${providerId}))`;
}

/** submitted -> delivered | failed (`delivered` set or not, the address wiped). Undefined if not submitted. */
async function finish(tx: Tx, id: string, delivered: boolean, reason: string | null) {
  const [row] = await tx.outbound.updateManyAndReturn({
    where: { id, status: "submitted" },
    data: delivered
      ? { status: "delivered", delivered: true, toAddr: "" }
      : { status: "failed", toAddr: "", lastError: reason },
  });
  return row;
}

export type ReportOutcome = "applied" | "unchanged" | "early";

/**
 * A provider's final report (delivered or failed) for a provider id: submitted -> delivered | failed, with
 * the events; a report for an outbound already final changes nothing (replays, late reports). A report for
 * a provider id no outbound has recorded yet overtook the submit confirmation: it is kept (the first one
 * wins) and recordSend applies it.
 */
export async function applyReport(
  tx: Tx,
  channel: string,
  providerId: string,
  delivered: boolean,
  reason: string | null,
): Promise<ReportOutcome> {
  await lockReport(tx, channel, providerId);
  const outbound = await tx.outbound.findUnique({ where: { channel_providerId: { channel, providerId } } });
  if (!outbound) {
    await tx.earlyReport.createMany({
      data: [{ channel, providerId, status: delivered ? "delivered" : "failed", reason }],
      skipDuplicates: true,
    });
    return "early";
  }
  const row = await finish(tx, outbound.id, delivered, reason);
  if (!row) {
    return "unchanged";
  }
  await announce(tx, [{ row, reason: reason ?? undefined }]);
  return "applied";
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
 * failed -> queued for outbounds given up by recordGaveUp (the one move backwards: an explicit requeue; an
 * outbound with a provider id is never requeued). Returns the requeued rows, to be sent again.
 */
export async function requeueFailed(tx: Tx, ids: string[]): Promise<OutboundRow[]> {
  const rows = await tx.outbound.updateManyAndReturn({
    where: { id: { in: ids }, status: "failed", providerId: null, failures: { some: {} } },
    data: { status: "queued", lastError: null },
  });
  await tx.outboundEvent.createMany({
    data: rows.map((row) => ({ outboundId: row.id, status: row.status, detail: { reason: "requeued" } })),
  });
  return rows;
}

/**
 * queued -> expired (past `expires_at`: not sent; the address wiped), announced as outbound.failed with
 * status expired and no delivery report. With `worker`, only under that worker's claim; without, only while
 * no live claim exists (the due-message poller). Returns how many expired.
 */
export async function recordExpired(tx: Tx, ids: string[], worker?: string): Promise<number> {
  const rows = await tx.outbound.updateManyAndReturn({
    where: {
      id: { in: ids },
      status: "queued",
      ...(worker
        ? { claimedBy: worker }
        : { OR: [{ claimedUntil: null }, { claimedUntil: { lt: new Date() } }] }),
    },
    data: { status: "expired", toAddr: "", lastError: "expired", claimedUntil: null },
  });
  if (rows.length > 0) {
    await announce(
      tx,
      rows.map((row) => ({ row, worker, reason: "expired", report: false })),
    );
  }
  return rows.length;
}
