import { setTimeout as sleep } from "node:timers/promises";
import { activeTraceCarrier, enqueueStatement, type OutboxMessage, type TraceCarrier } from "@tidings/amqp";
import type { OutboundPriority } from "@tidings/contracts";
import { statement } from "@tidings/db";
import { hookDeliveriesCte } from "@tidings/hooks";
import { addressHash, consentChangeSql } from "../consent/consent.ts";
import type { Db } from "../db.ts";
import { GroupCommit, perClient } from "../group-commit.ts";
import {
  appendHistory,
  type Change,
  type ChangedRow,
  eventsFor,
  historyDetail,
  hooksFor,
} from "./announce.ts";
import { anotherAttempt } from "./attempts.ts";
import { OPTED_OUT } from "./channel.ts";
import { type AttemptFacts, type FailedReport, NO_REPORT, retryUnder } from "./redelivery.ts";

// Final reports applied together (see reportFinal in status.ts): the reports that arrive while a statement is in
// flight go in the next one, so N reports arriving together cost one read and one statement, not N of each.

export type ReportOutcome = "applied" | "unchanged" | "early";

/** A provider's final report for a provider id, as reportFinal takes it. */
export interface Report {
  channel: string;
  providerId: string;
  delivered: boolean;
  reason: string | null;
  failure?: FailedReport;
  /**
   * An early report (kept before its send was recorded) that recordSends found: the statement that applies it
   * forgets it, so it is applied once whatever else fails.
   */
  early?: boolean;
  /** The trace its events belong to (its callback's), for they may be written in another report's statement. */
  traceContext?: TraceCarrier;
  /** It found no outbound once and waited the grace: if it finds none again it is kept as an early report. */
  lookedAgain?: boolean;
}

/**
 * A report's outcome, what made it fail (thrown to its own caller only), or `later`: it found no outbound and looks
 * again after the grace.
 */
type Settled = { outcome: ReportOutcome } | { error: unknown } | { later: true };

/**
 * How long a report that finds no outbound waits before it looks again, and only then is kept as an early report:
 * a provider that calls back at once (the simulators; Twilio's `sent`) often overtakes the send's record by a few
 * milliseconds, and an early report costs rows and statements on both sides that a second look does not.
 */
export const EARLY_REPORT_GRACE_MS = 250;

/**
 * What the read finds of an outbound (to_addr and attempts do not change while it is submitted: its hooks carry
 * them), and its channel's own redelivery policy.
 */
type Found = AttemptFacts & {
  i: number;
  redelivery: unknown;
  id: string;
  status: string;
  to_identity: string | null;
  to_addr: string | null;
  priority: OutboundPriority;
  /** Its metadata's `publish_id`, if it has one (see ChangedRow). */
  metadata: { publish_id?: unknown };
};

/** A report the statement makes: a compare-and-set of an outbound found submitted, or one that found none. */
type Planned = { i: number; report: Report } & (
  | { kind: "final"; outbound: Found; change: Change }
  | { kind: "early" }
);

const key = (r: Report) => `${r.channel}:${r.providerId}`;

/**
 * The group commit of a database's final reports. Counts the statements it made (reads and writes), so a test can
 * tell N reports from N statements.
 */
export class ReportBatcher {
  statements = 0;
  private readonly group = new GroupCommit<Report, Settled>({
    maxBatch: 100,
    maxWrites: 2,
    write: (reports) => this.write(reports),
  });

  /** `earlyGraceMs`: see EARLY_REPORT_GRACE_MS; 0 keeps a report that finds no outbound at once. */
  constructor(
    private readonly db: Db,
    private readonly earlyGraceMs = EARLY_REPORT_GRACE_MS,
  ) {}

  async report(report: Report): Promise<ReportOutcome> {
    const traced = { ...report, traceContext: report.traceContext ?? activeTraceCarrier() };
    const settled = await this.group.add(traced);
    if ("error" in settled) {
      throw settled.error;
    }
    if ("later" in settled) {
      await sleep(this.earlyGraceMs);
      return this.report({ ...traced, lookedAgain: true });
    }
    return settled.outcome;
  }

  /**
   * One read of the outbounds (and their channels' policies), then one statement for all the reports (but those
   * that found no outbound at their first look: `later`), then, each on its own, those the redelivery policy
   * retries and any whose send was recorded while the statement waited for its lock. Throws only before anything
   * committed (the group commit then tries the reports one at a time); after, each report's error is its own.
   */
  private async write(batch: Report[]): Promise<Settled[]> {
    // An early report's row is forgotten whichever of its duplicates is made.
    const early = new Set(batch.filter((r) => r.early).map(key));
    const reports = batch.map((r) => (early.has(key(r)) ? { ...r, early: true } : r));
    // Duplicates: the first of each provider id is made; the others then change nothing (or were kept as well).
    const first = new Map<string, number>();
    for (const [i, r] of reports.entries()) {
      if (!first.has(key(r))) {
        first.set(key(r), i);
      }
    }
    const unique = [...first.values()];
    const found = await this.read(unique.map((i) => reports[i] as Report));
    const settled: (Settled | undefined)[] = reports.map(() => undefined);
    const planned: Planned[] = [];
    const retried: { i: number; outbound: Found; retry: Date }[] = [];
    for (const [u, i] of unique.entries()) {
      const report = reports[i] as Report;
      const outbound = found.get(u);
      if (!outbound) {
        if (report.lookedAgain || this.earlyGraceMs === 0) {
          planned.push({ i, report, kind: "early" });
        } else {
          settled[i] = { later: true };
        }
        continue;
      }
      if (outbound.status !== "submitted") {
        settled[i] = { outcome: "unchanged" }; // already final: status only moves forward
        continue;
      }
      // A failure with its kind is first put to the channel's redelivery policy.
      const retry =
        !report.delivered && report.failure && retryUnder(outbound.redelivery, outbound, report.failure);
      if (retry) {
        retried.push({ i, outbound, retry });
      } else {
        planned.push({ i, report, kind: "final", outbound, change: changeOf(report, outbound) });
      }
    }
    const recorded: number[] = [];
    for (const [i, outcome] of await this.apply(planned)) {
      if (outcome === "found") {
        recorded.push(i);
      } else {
        settled[i] = { outcome };
      }
    }
    // Then each on its own, together: the retried failures, and the reports whose send was recorded after the read.
    const followUps: [number, () => Promise<ReportOutcome>][] = [
      ...retried.map(({ i, outbound, retry }): [number, () => Promise<ReportOutcome>] => [
        i,
        () => this.anotherAttempt(reports[i] as Report, outbound, retry),
      ]),
      ...recorded.map((i): [number, () => Promise<ReportOutcome>] => [
        i,
        () => this.again(reports[i] as Report),
      ]),
    ];
    await Promise.all(
      followUps.map(async ([i, make]) => {
        settled[i] = await settle(make);
      }),
    );
    return reports.map((r, i) => {
      const made = settled[first.get(key(r)) as number];
      if (first.get(key(r)) === i || !made || !("outcome" in made)) {
        return made as Settled;
      }
      return { outcome: made.outcome === "early" ? "early" : "unchanged" };
    });
  }

  /** The outbounds of these reports' provider ids, by the report's index. */
  private async read(reports: Report[]): Promise<Map<number, Found>> {
    this.statements++;
    const rows = await statement<Found>(
      this.db,
      `SELECT k.i::int - 1 AS i, o.id::text, o.status::text, o.to_identity::text, o.to_addr, o.attempts,
         o.attempt_base, o.expires_at, o.sensitive, o.redacted_at IS NOT NULL AS redacted, o.priority::text,
         c.redelivery,
         CASE WHEN o.metadata ? 'publish_id' THEN jsonb_build_object('publish_id', o.metadata->'publish_id')
           ELSE '{}'::jsonb END AS metadata
       FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS k(channel, provider_id, i)
       JOIN outbound o ON o.channel = k.channel AND o.provider_id = k.provider_id
       LEFT JOIN channel c ON c.id = k.channel`,
      [reports.map((r) => r.channel), reports.map((r) => r.providerId)],
    );
    return new Map(rows.map((row) => [row.i, row]));
  }

  /**
   * ONE statement: the compare-and-set (submitted with this provider id -> delivered | failed) of each outbound
   * found, its history entry, its events and hook deliveries (each only with its own change), and each report that
   * found no outbound kept by outbound_keep_early_report under its report lock (a migration's function: its reads
   * come after the lock, where this statement's snapshot does not). The locks are taken first, in one order, as
   * recordSends takes them. `found`: the send was recorded while the report waited for its lock.
   */
  private async apply(planned: Planned[]): Promise<[number, ReportOutcome | "found"][]> {
    if (planned.length === 0) {
      return [];
    }
    const finals = planned.flatMap((p) => (p.kind === "final" ? [p] : []));
    const stopped = new Map(
      finals.flatMap((p) => (optedOutBy(p) ? [[p.i, p.outbound.to_addr as string]] : [])),
    );
    const rows = planned.map((p) => ({
      i: p.i,
      kind: p.kind,
      id: p.kind === "final" ? p.outbound.id : null,
      channel: p.report.channel,
      provider_id: p.report.providerId,
      status: p.report.delivered ? "delivered" : "failed",
      delivered: p.report.delivered,
      reason: p.report.reason,
      failure: p.report.failure?.kind ?? null,
      early: p.report.early === true,
      updated_at: p.kind === "final" ? p.change.row.updatedAt.toISOString() : null,
      detail: p.kind === "final" ? historyDetail(p.change) : null,
      stop_hash: stopped.has(p.i) ? addressHash(stopped.get(p.i) as string).toString("hex") : null,
    }));
    const events = finals.flatMap(({ i, change, outbound, report }) =>
      [...eventsFor(change), ...(stopped.has(i) ? [optOutReported(report, outbound, change)] : [])].map(
        (m) => (report.traceContext ? { ...m, traceContext: report.traceContext } : m),
      ),
    );
    const hooks = hookDeliveriesCte(
      finals.flatMap(({ change, outbound }) =>
        hooksFor(change, { attempts: outbound.attempts, sentTo: outbound.to_addr }),
      ),
      2,
      `${outboundOf("p.data::jsonb")} IN (SELECT id FROM changed)`,
    );
    const changes = enqueueStatement(
      events,
      {
        ctes: `input AS (
          SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(i int, kind text, id uuid, channel text, provider_id text,
            status outbound_status, delivered boolean, reason text, failure text, early boolean, updated_at timestamptz,
            detail jsonb, stop_hash text)),
        forgot AS (
          DELETE FROM early_report e USING input i
          WHERE i.early AND e.channel = i.channel AND e.provider_id = i.provider_id),
        kept AS MATERIALIZED (
          SELECT i, outbound_keep_early_report(channel, provider_id, status, reason, failure) AS outcome
          FROM (SELECT * FROM input WHERE kind = 'early' ORDER BY channel, provider_id) k),
        changed AS (
          UPDATE outbound o
          SET status = i.status, delivered = i.delivered, to_addr = '',
              last_error = CASE WHEN i.delivered THEN o.last_error ELSE i.reason END, updated_at = i.updated_at,
              history = ${appendHistory("i.status", "i.detail")}
          FROM input i
          WHERE i.kind = 'final' AND o.id = i.id AND o.status = 'submitted' AND o.provider_id = i.provider_id
            AND (SELECT count(*) FROM kept) >= 0
          RETURNING o.id, i.i),
        stopped AS (${consentChangeSql(
          `SELECT DISTINCT ON (h) h, true, 'stop', i.updated_at
           FROM input i JOIN changed c ON c.i = i.i, decode(i.stop_hash, 'hex') AS h
           WHERE i.stop_hash IS NOT NULL ORDER BY h, i.updated_at DESC`,
        )})${hooks ? `, ${hooks.cte}` : ""}`,
        values: [JSON.stringify(rows), ...(hooks?.values ?? [])],
        onlyIf: `${outboundOf("m.payload")} IN (SELECT id FROM changed)`,
        returning: `(SELECT coalesce(array_agg(i), '{}') FROM changed) AS applied,
        (SELECT coalesce(jsonb_object_agg(i, outcome), '{}') FROM kept) AS kept`,
      },
      { grouped: true, db: this.db },
    );
    this.statements++;
    const [result] = await statement<{ n: number; applied: number[]; kept: Record<string, string> }>(
      this.db,
      changes.text,
      changes.values,
    );
    changes.committed(result?.n ?? 0);
    const applied = new Set(result?.applied);
    return planned.map(({ i, kind }) => {
      if (kind === "final") {
        return [i, applied.has(i) ? "applied" : "unchanged"];
      }
      const outcome = result?.kept[i];
      return [i, outcome === "found" ? "found" : outcome === "past" ? "unchanged" : "early"];
    });
  }

  /** A report whose send was recorded after the read: made again, reading the outbound now. */
  private async again(report: Report): Promise<ReportOutcome> {
    const [again] = await this.write([{ ...report, lookedAgain: true }]);
    if (again && "error" in again) {
      throw again.error;
    }
    return (again as { outcome: ReportOutcome }).outcome;
  }

  /** A retried failure: another attempt of the outbound (no event), on its own as before. */
  private async anotherAttempt(report: Report, outbound: Found, notBefore: Date): Promise<ReportOutcome> {
    const { providerId, reason } = report;
    this.statements++;
    const moved = await this.db.$transaction(async (tx) => {
      if (report.early) {
        await tx.earlyReport.deleteMany({ where: { channel: report.channel, providerId } });
      }
      return anotherAttempt(tx, [outbound.id], { from: ["submitted"], providerId, notBefore, reason });
    });
    return moved.length > 0 ? "applied" : "unchanged";
  }
}

/**
 * A failure the provider reported because the recipient unsubscribed from it (Twilio 21610, Vonage 53) stops their
 * address in the consent copy, in the statement that records it, and tells identity (`optout.reported`), as when a
 * provider refuses the send itself (send-outbound.ts).
 */
const optedOutBy = (p: Planned & { kind: "final" }) =>
  !p.report.delivered && p.report.failure?.kind === OPTED_OUT && Boolean(p.outbound.to_addr);

const optOutReported = (report: Report, outbound: Found, change: Change): OutboxMessage => ({
  name: "optout.reported",
  payload: {
    outbound_id: outbound.id,
    identity: outbound.to_identity,
    address_type: outbound.to_addr?.includes("@") ? "email" : "msisdn",
    address: outbound.to_addr as string,
    channel: report.channel,
    provider_code: (report.reason ?? OPTED_OUT).slice(0, 100),
    at: change.row.updatedAt.toISOString(),
  },
});

/** The outbound a status event or hook names: `id` (outbound.delivered / failed), `outbound_id` (delivery_report). */
const outboundOf = (json: string) => `coalesce(${json}->>'outbound_id', ${json}->>'id')::uuid`;

/** The outbound as the statement leaves it when its compare-and-set holds. */
const changeOf = ({ channel, providerId, delivered, reason, failure }: Report, outbound: Found): Change => ({
  row: {
    id: outbound.id,
    status: delivered ? "delivered" : "failed",
    toIdentity: outbound.to_identity,
    channel,
    providerId,
    delivered,
    updatedAt: new Date(), // timestamptz(3): a JS date is stored exactly
    priority: outbound.priority,
    metadata: outbound.metadata as ChangedRow["metadata"],
  },
  reason: reason ?? undefined,
  // No delivery report (no failure counted at identity) for an unsubscribed recipient, as when the provider refuses
  // the send itself: they are opted out (optout.reported), not unreachable.
  report: failure?.kind !== NO_REPORT && failure?.kind !== OPTED_OUT,
});

async function settle(make: () => Promise<ReportOutcome>): Promise<Settled> {
  try {
    return { outcome: await make() };
  } catch (error) {
    return { error };
  }
}

/** One batcher per database client: all of its final reports go through it. */
export const reportBatcher = perClient((db: Db) => new ReportBatcher(db));
