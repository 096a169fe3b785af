import { enqueueStatement } from "@tidings/amqp";
import { hookDeliveriesCte } from "@tidings/hooks";
import type { Db, Tx } from "../db.ts";
import type { Outbound as OutboundRow } from "../generated/prisma/client.ts";
import { announce, type Change, eventsFor, historyDetail, hooksFor } from "./announce.ts";
import { OPTED_OUT, type SendResult } from "./channel.ts";

// Status changes. Each is a compare-and-set on the status it moves from (and, out of queued, on the claim of
// the worker making it), so status only moves forward and a change happens at most once however often it is
// attempted. The history rows and the events are written in the same transaction: they exist iff it does.

/** A send the provider accepted, as the worker holding the outbound's claim records it. */
export interface AcceptedSend {
  id: string;
  worker: string;
  result: SendResult;
  /** The channel that sent it (the outbound's, or its fallback). */
  channel: string;
  /** The outbound's identity as it stands (outbound.submitted carries it). */
  toIdentity: string | null;
}

/**
 * queued -> submitted, by the worker holding the claim, with its history row and `outbound.submitted`; then
 * -> delivered when the channel reported delivery at once (the log channel). False when the outbound was not
 * queued under that claim (the claim lapsed and another worker took it).
 *
 * The usual case (a provider that will call back) is ONE statement: the compare-and-set, taking the report
 * lock first, the history row and the event, atomic on its own, instead of a locked interactive transaction
 * of seven round trips. Then one read of the early reports, made after that statement committed: a final
 * report that overtook this confirmation was kept there by reportFinal under the same lock, so it is either
 * seen here or found the outbound submitted itself; if there is one, it is applied now.
 */
export async function recordSend(db: Db, send: AcceptedSend): Promise<boolean> {
  const { id, worker, result, channel } = send;
  if (result.delivered) {
    return db.$transaction((tx) => recordDelivered(tx, send));
  }
  const change: Change = {
    row: {
      id,
      status: "submitted",
      toIdentity: send.toIdentity,
      channel,
      providerId: result.providerId,
      delivered: false,
      updatedAt: new Date(), // timestamptz(3): a JS date is stored exactly
    },
    worker,
    reason: result.note, // an acceptance without a provider id says so
  };
  const statement = enqueueStatement(eventsFor(change), {
    ctes: `changed AS (
        UPDATE outbound
        SET status = 'submitted', channel = $3, provider_id = $4, attempts = attempts + 1, claimed_until = NULL,
            last_error = $7::text, updated_at = $5::timestamptz
        WHERE id = $1::uuid AND status = 'queued' AND claimed_by = $2
          AND (SELECT true FROM (SELECT pg_advisory_xact_lock(hashtext($3 || ':' || $4))) AS locked)
        RETURNING id),
      history AS (
        INSERT INTO outbound_event (outbound_id, status, detail)
        SELECT id, 'submitted', $6::jsonb FROM changed)`,
    values: [
      id,
      worker,
      channel,
      result.providerId,
      change.row.updatedAt.toISOString(),
      JSON.stringify(historyDetail(change)),
      result.note ?? null,
    ],
    onlyIf: "EXISTS (SELECT 1 FROM changed)",
  });
  const [recorded] = await db.$queryRawUnsafe<{ n: number }[]>(statement.text, ...statement.values);
  if (!recorded?.n) {
    return false;
  }
  const { providerId } = result;
  if (providerId === null) {
    return true; // no report can name it (with no id, the lock above locked nothing, and needed not)
  }
  const early = await db.earlyReport.count({ where: { channel, providerId } });
  if (early > 0) {
    await db.$transaction((tx) => applyEarlyReport(tx, id, channel, providerId));
  }
  return true;
}

/** queued -> submitted -> delivered at once (no report will follow, so no early one can exist). */
async function recordDelivered(tx: Tx, { id, worker, result, channel }: AcceptedSend): Promise<boolean> {
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
  const [delivered] = await tx.outbound.updateManyAndReturn({
    where: { id, status: "submitted" },
    data: { status: "delivered", delivered: true, toAddr: "" },
  });
  await announce(tx, [{ row: submitted, worker }, { row: delivered! }]);
  return true;
}

/** Applies (and forgets) the final report kept for a provider id before its send was recorded. */
async function applyEarlyReport(tx: Tx, id: string, channel: string, providerId: string): Promise<void> {
  await reportLock(tx, channel, providerId);
  const key = { channel_providerId: { channel, providerId } };
  const early = await tx.earlyReport.findUnique({ where: key });
  if (!early) {
    return;
  }
  await tx.earlyReport.delete({ where: key });
  const sent = await tx.outbound.findUnique({ where: { id }, select: { toAddr: true } });
  const final = await finish(tx, id, early.status === "delivered", early.reason);
  if (final) {
    await announce(tx, [{ row: final, reason: early.reason ?? undefined, sentTo: sent?.toAddr }]);
  }
}

/**
 * Serialises recordSend and reportFinal for one provider id, so an early report is never missed (recordSend
 * takes the same lock inside its statement).
 */
const reportLock = (db: Db | Tx, channel: string, providerId: string) =>
  db.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${channel} || ':' || ${providerId}))`;

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
 * A provider's final report (delivered or failed) for a provider id, from a callback or the reconciler:
 * submitted -> delivered | failed, with the events; a report for an outbound already final changes nothing
 * (replays, late reports). A report for a provider id no outbound has recorded yet overtook the submit
 * confirmation: it is kept (the first one wins) and recordSend applies it. In the common case (the outbound with this provider id is stored and submitted) it is one read and ONE
 * statement that makes the compare-and-set, writes the history row and enqueues the events (one statement is
 * atomic: the events exist iff the change does), instead of a locked interactive transaction of seven round
 * trips. The lock is not needed there: it orders recordSend with a report that finds no outbound, and the
 * outbound is only visible once recordSend committed. A report that finds no outbound (it overtook the submit
 * confirmation, common with a provider that calls back at once) is kept as an early report under that lock, in
 * a batch transaction of two raw statements (the second sees whatever recordSend committed while it waited).
 */
export async function reportFinal(
  db: Db,
  channel: string,
  providerId: string,
  delivered: boolean,
  reason: string | null,
): Promise<ReportOutcome> {
  // to_addr and attempts do not change while the outbound is submitted: the hooks below carry them.
  const [outbound] = await db.$queryRawUnsafe<
    { id: string; status: string; to_identity: string | null; to_addr: string | null; attempts: number }[]
  >(
    `SELECT id::text, status::text, to_identity::text, to_addr, attempts
     FROM outbound WHERE channel = $1 AND provider_id = $2`,
    channel,
    providerId,
  );
  if (!outbound) {
    const [, [kept]] = await db.$transaction([
      reportLock(db, channel, providerId),
      db.$queryRaw<{ found: boolean }[]>`
        WITH found AS (SELECT 1 FROM outbound WHERE channel = ${channel} AND provider_id = ${providerId}),
          kept AS (
            INSERT INTO early_report (channel, provider_id, status, reason)
            SELECT ${channel}, ${providerId}, ${delivered ? "delivered" : "failed"}::outbound_status, ${reason}
            WHERE NOT EXISTS (SELECT 1 FROM found)
            ON CONFLICT (channel, provider_id) DO NOTHING)
        SELECT EXISTS (SELECT 1 FROM found) AS found`,
    ]);
    // Kept (or an earlier report for it was: the first one wins), unless the send was recorded meanwhile.
    return kept?.found ? reportFinal(db, channel, providerId, delivered, reason) : "early";
  }
  if (outbound.status !== "submitted") {
    return "unchanged"; // already final: status only moves forward
  }
  // The outbound as finish() leaves it; the UPDATE below makes exactly this change or none.
  const change: Change = {
    row: {
      id: outbound.id,
      status: delivered ? "delivered" : "failed",
      toIdentity: outbound.to_identity,
      channel,
      providerId,
      delivered,
      updatedAt: new Date(), // timestamptz(3): a JS date is stored exactly
    },
    reason: reason ?? undefined,
  };
  const changed = "EXISTS (SELECT 1 FROM changed)";
  // Its parameter follows the six of the change below.
  const hooks = hookDeliveriesCte(
    hooksFor(change, { attempts: outbound.attempts, sentTo: outbound.to_addr }),
    7,
    changed,
  );
  const statement = enqueueStatement(eventsFor(change), {
    ctes: `changed AS (
        UPDATE outbound
        SET status = $2::outbound_status, delivered = $3::boolean, to_addr = '',
            last_error = CASE WHEN $3::boolean THEN last_error ELSE $4::text END, updated_at = $5::timestamptz
        WHERE id = $1::uuid AND status = 'submitted'
        RETURNING id),
      history AS (
        INSERT INTO outbound_event (outbound_id, status, detail)
        SELECT id, $2::outbound_status, $6::jsonb FROM changed)${hooks ? `, ${hooks.cte}` : ""}`,
    values: [
      change.row.id,
      change.row.status,
      delivered,
      reason,
      change.row.updatedAt.toISOString(),
      JSON.stringify(historyDetail(change)),
      ...(hooks?.values ?? []),
    ],
    onlyIf: changed,
  });
  // n counts the events written: at least one when the compare-and-set changed the outbound, else none.
  const [result] = await db.$queryRawUnsafe<{ n: number }[]>(statement.text, ...statement.values);
  return (result?.n ?? 0) > 0 ? "applied" : "unchanged";
}

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
