import { enqueueStatement, type OutboxStatement, type TraceCarrier } from "@tidings/amqp";
import type { OutboundPriority, RedeliveryPolicy } from "@tidings/contracts";
import { statement } from "@tidings/db";
import type { Db, Tx } from "../db.ts";
import type { Outbound as OutboundRow } from "../generated/prisma/client.ts";
import { announce, appendHistory, type Change, eventsFor, historyDetail } from "./announce.ts";
import type { SendResult } from "./channel.ts";
import { type FailedReport, NO_REPORT } from "./redelivery.ts";
import { type ReportOutcome, reportBatcher } from "./report-batch.ts";

// Status changes. Each is a compare-and-set on the status it moves from (and, out of queued, on the claim of
// the worker making it), so status only moves forward (but for anotherAttempt, the one way back to queued) and a
// change happens at most once however often it is attempted. The history entries and the events are written in
// the same transaction: they exist iff it does.

/** A send the provider accepted, as the worker holding the outbound's claim records it. */
export interface AcceptedSend {
  id: string;
  worker: string;
  result: SendResult;
  /** The channel that sent it (the outbound's, or its fallback). */
  channel: string;
  /** The outbound's identity and priority as they stand (outbound.submitted carries them). */
  toIdentity: string | null;
  priority: OutboundPriority;
  /** The redelivery policy of channels that set none, for a failed report that overtook this send. */
  redelivery?: RedeliveryPolicy;
  /**
   * The trace its events belong to (its send's); default: the active one. Set when it is recorded with others,
   * outside the trace it was sent in (a group commit).
   */
  traceContext?: TraceCarrier;
}

/**
 * queued -> submitted, by the worker holding the claim, with its history entry and `outbound.submitted`; then
 * -> delivered when the channel reported delivery at once (the log channel). False when the outbound was not
 * queued under that claim (the claim lapsed and another worker took it). See recordSends.
 */
export async function recordSend(db: Db, send: AcceptedSend): Promise<boolean> {
  if (send.result.delivered) {
    return db.$transaction((tx) => recordDelivered(tx, send));
  }
  const [recorded] = await recordSends(db, [send]);
  return recorded === true;
}

/** An early report as recordSends's statement reads it (outbound_early_reports). */
interface EarlyReport {
  channel: string;
  providerId: string;
  delivered: boolean;
  reason: string | null;
  kind: FailedReport["kind"] | null;
}

/**
 * Sends the provider accepted and will report on (none delivered at once), recorded together; whether each was.
 * ONE statement makes each one's compare-and-set (queued under its worker's claim -> submitted), taking the
 * report lock of each provider id first, and appends their history entries and writes their `outbound.submitted`: atomic
 * on its own, instead of a locked interactive transaction of seven round trips per send. The same statement reads
 * the early reports of those recorded, after their locks (outbound_early_reports, whose fresh snapshot sees what
 * was committed while the statement waited): a final report that overtook a confirmation was kept there by
 * reportFinal under the same lock, so it is either seen here or found the outbound submitted itself. Those found
 * are applied once the statement committed, together with the final reports in flight (ReportBatcher), whose
 * statement deletes them.
 */
export async function recordSends(db: Db, sends: AcceptedSend[]): Promise<boolean[]> {
  const records = recordStatement(sends, db);
  const [result] = await statement<RecordResult>(db, records.text, records.values);
  records.committed(result?.n ?? 0);
  const recorded = new Set(result?.recorded);
  const early = result?.early ?? [];
  if (early.length > 0) {
    // Applied together with the final reports in flight, in shared statements that forget them (ReportBatcher).
    await Promise.all(
      early.map(({ kind, ...report }) => {
        const send = sends.find(
          (s) => s.channel === report.channel && s.result.providerId === report.providerId,
        );
        const failure =
          !report.delivered && kind && send?.redelivery ? { kind, defaults: send.redelivery } : undefined;
        return reportBatcher(db).report({
          ...report,
          failure,
          early: true,
          traceContext: send?.traceContext,
        });
      }),
    );
  }
  return sends.map((send) => recorded.has(send.id));
}

/** What recordSends's statement answers: the ids it recorded and the early reports of those. */
export interface RecordResult {
  /** The events written (their outbox row's messages). */
  n: number;
  recorded: string[];
  early: EarlyReport[];
}

/** recordSends's ONE statement; `db`: the client it runs on outside a transaction (see enqueueStatement). */
export function recordStatement(sends: AcceptedSend[], db?: Db): OutboxStatement {
  const changes: Change[] = sends.map((send) => ({
    row: {
      id: send.id,
      status: "submitted",
      toIdentity: send.toIdentity,
      channel: send.channel,
      providerId: send.result.providerId,
      delivered: false,
      updatedAt: new Date(), // timestamptz(3): a JS date is stored exactly
      priority: send.priority,
      metadata: null, // a submitted outbound announces no delivery report, the one event that reads it
    },
    worker: send.worker,
    reason: send.result.note, // an acceptance without a provider id says so
  }));
  const rows = changes.map((change) => ({
    id: change.row.id,
    worker: change.worker,
    channel: change.row.channel,
    provider_id: change.row.providerId,
    updated_at: change.row.updatedAt.toISOString(),
    detail: historyDetail(change),
    note: change.reason ?? null,
  }));
  // The locks in one order (no two statements wait on each other), taken before any row is changed.
  const events = changes.flatMap((change, i) => {
    const { traceContext } = sends[i] as AcceptedSend;
    return traceContext ? eventsFor(change).map((m) => ({ ...m, traceContext })) : eventsFor(change);
  });
  return enqueueStatement(
    events,
    {
      ctes: `input AS (
        SELECT * FROM jsonb_to_recordset($1::jsonb)
          AS r(id uuid, worker text, channel text, provider_id text, updated_at timestamptz, detail jsonb, note text)),
      locked AS (
        SELECT pg_advisory_xact_lock(hashtext(channel || ':' || provider_id)) FROM (
          SELECT channel, provider_id FROM input WHERE provider_id IS NOT NULL ORDER BY channel, provider_id) k),
      changed AS (
        UPDATE outbound o
        SET status = 'submitted', channel = i.channel, provider_id = i.provider_id, attempts = o.attempts + 1,
            claimed_until = NULL, last_error = i.note, updated_at = i.updated_at,
            history = ${appendHistory("'submitted'", "i.detail")}
        FROM input i
        -- By key (the array), whatever the statistics say of status: without them, Postgres took 'queued' for
        -- 0.5% of the table and read every queued outbound at each run.
        WHERE o.id = ANY(ARRAY(SELECT id FROM input)) AND o.id = i.id AND o.status = 'queued'
          AND o.claimed_by = i.worker AND (SELECT count(*) FROM locked) >= 0
        RETURNING o.id)`,
      values: [JSON.stringify(rows)],
      // Each outbound.submitted only with its own change.
      onlyIf: "(m.payload->>'id')::uuid IN (SELECT id FROM changed)",
      // The early reports of those recorded, read after their locks (see outbound_early_reports).
      returning: `(SELECT coalesce(array_agg(id::text), '{}') FROM changed) AS recorded,
        (SELECT coalesce(jsonb_agg(jsonb_build_object('channel', report_channel, 'providerId', report_provider_id,
            'delivered', report_status = 'delivered', 'reason', report_reason, 'kind', report_kind)), '[]')
          FROM outbound_early_reports((
          SELECT jsonb_agg(jsonb_build_object('channel', i.channel, 'provider_id', i.provider_id))
          FROM changed c JOIN input i ON i.id = c.id WHERE i.provider_id IS NOT NULL))) AS early`,
    },
    { grouped: true, db },
  );
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

/**
 * submitted (with this provider id) -> delivered | failed (`delivered` set or not, the address wiped), with its
 * history and events; a failure with reason `no_report` sends no delivery report. False if not so submitted.
 */
async function finishWith(
  tx: Tx,
  id: string,
  providerId: string | null,
  delivered: boolean,
  reason: string | null,
  sentTo: string,
): Promise<boolean> {
  const [row] = await tx.outbound.updateManyAndReturn({
    where: { id, status: "submitted", providerId },
    data: delivered
      ? { status: "delivered", delivered: true, toAddr: "" }
      : { status: "failed", toAddr: "", lastError: reason },
  });
  if (row) {
    await announce(tx, [{ row, reason: reason ?? undefined, sentTo, report: reason !== NO_REPORT }]);
  }
  return row !== undefined;
}

/**
 * submitted -> failed with reason `no_report`: no final report came within the channel's timeout (and the provider,
 * when it can be asked, had nothing final to say). No delivery report: a missing report is no evidence against
 * the address, so identity does not count it as a failed message of the person.
 */
export const recordNoReport = (tx: Tx, row: Pick<OutboundRow, "id" | "providerId" | "toAddr">) =>
  finishWith(tx, row.id, row.providerId, false, NO_REPORT, row.toAddr);

export type { ReportOutcome } from "./report-batch.ts";

/**
 * A provider's final report (delivered or failed) for a provider id, from a callback or the reconciler: submitted ->
 * delivered | failed, with the events; a report for an outbound already final changes nothing (replays, late reports),
 * nor one for an earlier attempt's provider id (kept in that attempt's history). A failure with its kind (`failure`) is
 * first put to the channel's redelivery policy: retried, it is another attempt (anotherAttempt), with no event. A
 * report for a provider id no outbound has recorded yet overtook the submit confirmation: it looks again after
 * EARLY_REPORT_GRACE_MS, and if it still finds none it is kept (the first one wins) under the report lock, and
 * recordSends applies it. Resolves once its change committed. Reports that arrive together are applied together
 * (ReportBatcher): those that arrive in the same turn, or while statements are in flight, share one read of their
 * outbounds and ONE statement that makes each compare-and-set with its history entry, events and hook deliveries, and
 * keeps the early ones, instead of a read and a statement (or a locked transaction) each.
 */
export const reportFinal = (
  db: Db,
  channel: string,
  providerId: string,
  delivered: boolean,
  reason: string | null,
  failure?: FailedReport,
): Promise<ReportOutcome> => reportBatcher(db).report({ channel, providerId, delivered, reason, failure });
