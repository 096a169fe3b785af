import type { Db } from "../db.ts";
import type { SentPart } from "../outbound/channel.ts";
import type { FailedReport } from "../outbound/redelivery.ts";
import { type ReportOutcome, reportFinal } from "../outbound/status.ts";

// Messages a provider splits into parts, each with its own id and its own delivery report (a long Vonage SMS).
// Every part of a send is recorded in `outbound_part` (keyed by channel + the part's id; `main_provider_id` is the
// first part's, the outbound's provider_id) before the send itself is recorded. A part's final report moves only
// that part, once (the first final report wins); then, when the parts decide the outbound (every part delivered,
// or one failed), reportFinal is called for the main provider id, as for a one-part message. A report for a part
// not recorded yet is kept in the same table with no main provider id (an orphan) and taken over when its send's
// parts are recorded: one upsert on the part's key decides which of the two came second, and that one settles.

/** What a part's report did: an outbound's outcome, or `partial` (other parts still pending), or `early`. */
export type PartOutcome = ReportOutcome | "partial";

/**
 * The parts' verdict for the outbound whose main provider id is `main`: failed with the first failed part's
 * reason, delivered once every part is, else nothing yet. Reads the parts after the caller's change committed, so
 * of two last parts reported at once, the second to commit sees both. `failure`: what kind of failure the report
 * that failed a part was (its redelivery policy decides whether the whole message is sent again).
 */
async function settle(db: Db, channel: string, main: string, failure?: FailedReport): Promise<PartOutcome> {
  const parts = await db.outboundPart.findMany({
    where: { channel, mainProviderId: main },
    orderBy: { part: "asc" },
    select: { part: true, status: true, reason: true },
  });
  const failed = parts.find((p) => p.status === "failed");
  if (failed) {
    const which = parts.length > 1 ? ` (part ${failed.part} of ${parts.length})` : "";
    return reportFinal(db, channel, main, false, `${failed.reason ?? "failed"}${which}`, failure);
  }
  if (parts.length > 0 && parts.every((p) => p.status === "delivered")) {
    return reportFinal(db, channel, main, true, null);
  }
  return "partial";
}

/**
 * Records the parts of a send the provider accepted (the first accepted is its provider id), before the send is
 * recorded: a part it refused is failed at once; orphan reports for the others are taken over; if that already
 * decides the outbound, it is reported (kept as the main id's early report, applied when the send is recorded).
 * Safe to repeat.
 */
export async function recordParts(
  db: Db,
  channel: string,
  outboundId: string,
  parts: SentPart[],
): Promise<void> {
  // The outbound's provider id: the first part the provider accepted.
  const main = parts.find((p) => !p.refused)?.providerId;
  if (!main) {
    return;
  }
  const ids = parts.map((p) => p.providerId);
  const refusals = parts.map((p) => p.refused ?? null);
  const merged = await db.$queryRaw<{ status: string }[]>`
    INSERT INTO outbound_part (channel, provider_id, main_provider_id, outbound_id, part, status, reason)
    SELECT ${channel}, p.id, ${main}, ${outboundId}::uuid, p.n::int,
      (CASE WHEN p.refused IS NULL THEN 'submitted' ELSE 'failed' END)::outbound_status, p.refused
    FROM unnest(${ids}::text[], ${refusals}::text[]) WITH ORDINALITY AS p(id, refused, n)
    ON CONFLICT (channel, provider_id) DO UPDATE
      SET main_provider_id = excluded.main_provider_id, outbound_id = excluded.outbound_id,
          part = excluded.part, updated_at = now()
      WHERE outbound_part.main_provider_id IS NULL
    RETURNING status::text`;
  if (merged.some((row) => row.status !== "submitted")) {
    await settle(db, channel, main);
  }
}

/**
 * A part's final report (delivered, or failed with `reason`): the part moves once (a replay or a later
 * contradicting report changes nothing), then the outbound is settled. A report for an id no send has recorded
 * as a part is kept as an orphan (`early`), unless an outbound was recorded with that provider id and no parts (a
 * send recorded before parts were): then it is that outbound's report. `failure`: the kind of a failed report.
 */
export async function receivePartReport(
  db: Db,
  channel: string,
  providerId: string,
  delivered: boolean,
  reason: string | null,
  failure?: FailedReport,
): Promise<PartOutcome> {
  const [changed] = await db.$queryRaw<{ main: string | null }[]>`
    INSERT INTO outbound_part (channel, provider_id, status, reason)
    VALUES (${channel}, ${providerId}, ${delivered ? "delivered" : "failed"}::outbound_status, ${reason})
    ON CONFLICT (channel, provider_id) DO UPDATE
      SET status = excluded.status, reason = excluded.reason, updated_at = now()
      WHERE outbound_part.status = 'submitted'
    RETURNING main_provider_id AS main`;
  if (!changed) {
    return "unchanged";
  }
  if (changed.main) {
    return settle(db, channel, changed.main, failure);
  }
  const recordedWithoutParts = await db.outbound.findUnique({
    where: { channel_providerId: { channel, providerId } },
    select: { id: true },
  });
  return recordedWithoutParts ? reportFinal(db, channel, providerId, delivered, reason, failure) : "early";
}

/** Forgets orphan part reports older than `before` (no send recorded them: none will). */
export async function pruneOrphanParts(db: Db, before: Date): Promise<void> {
  await db.outboundPart.deleteMany({ where: { mainProviderId: null, updatedAt: { lt: before } } });
}
