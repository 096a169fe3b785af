import type { OutboxMessage } from "@tidings/amqp";
import { type OutboundStatusChanged, toSeedTime } from "@tidings/contracts";
import { type HookEvent, publish } from "@tidings/hooks";
import type { Tx } from "../db.ts";
import type { Outbound as OutboundRow } from "../generated/prisma/client.ts";

// What a status change announces: its history entry (outbound.history), its events (outbound.submitted,
// outbound.delivered / outbound.failed and outbound.delivery_report) and its REST hooks (outbound.failed and
// Seed's outbound.delivery_report), written with the change.

/** What the history and the events say of an outbound: its columns after the change. */
export type ChangedRow = Pick<
  OutboundRow,
  "id" | "status" | "toIdentity" | "channel" | "providerId" | "delivered" | "updatedAt" | "priority"
> & {
  /** Its metadata, or as much of it as says whether it is a topic publish's message (`publish_id`). */
  metadata: OutboundRow["metadata"];
};

/** A topic publish's message: subscription's topic sends set `publish_id` in its metadata. */
const isTopicSend = ({ metadata }: Pick<ChangedRow, "metadata">) =>
  typeof metadata === "object" && metadata !== null && !Array.isArray(metadata) && "publish_id" in metadata;

export interface Change {
  row: ChangedRow;
  worker?: string;
  reason?: string;
  /**
   * Whether a final status says something about the recipient's address (`outbound.delivery_report`, which
   * counts towards the identity's failures). Not for an expired outbound, nor one given up after a provider
   * outage. Default true.
   */
  report?: boolean;
}

/** What the status events and the `outbound.failed` hook say of the outbound and its change. */
const statusOf = (row: ChangedRow, reason: string | null) => ({
  id: row.id,
  status: row.status,
  to_identity: row.toIdentity,
  channel: row.channel,
  provider_id: row.providerId,
  reason,
});

export function eventsFor({
  row,
  reason = null,
  report = true,
}: Omit<Change, "reason"> & { reason?: string | null }): OutboxMessage[] {
  const at = row.updatedAt.toISOString();
  const changed: OutboundStatusChanged = {
    ...statusOf(row, reason),
    at,
    priority: row.priority, // so the status metrics need not read it back (metrics.ts)
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
        ...(isTopicSend(row) ? { source: "topic" as const } : {}),
      },
    },
  ];
}

/**
 * What a final status's REST hooks say besides the change: the attempts the outbound made, and the address it
 * was sent to, as it was before the change wiped it ("" when unknown).
 */
export interface HookFacts {
  attempts: number;
  sentTo?: string | null;
}

/**
 * The REST hooks of a change: `outbound.failed` for an outbound that failed, expired or was cancelled, and Seed's
 * `outbound.delivery_report` (to every hook: the events endpoints are unauthenticated) when the change says
 * something about the address (`report`), carrying the address while it is known: a failure's, not a delivery's
 * (Seed wiped it before firing on delivery).
 */
export function hooksFor(
  { row, reason = null, report = true }: Omit<Change, "reason"> & { reason?: string | null },
  facts: HookFacts,
): HookEvent[] {
  if (row.status === "submitted" || row.status === "queued") {
    return [];
  }
  const hooks: HookEvent[] = [];
  if (row.status !== "delivered") {
    hooks.push({
      hook: "outbound.failed",
      data: {
        ...statusOf(row, reason),
        attempts: facts.attempts,
        at: toSeedTime(row.updatedAt),
      },
    });
  }
  if (report) {
    hooks.push({
      hook: "outbound.delivery_report",
      data: {
        outbound_id: row.id,
        delivered: row.delivered,
        to_addr: row.delivered ? "" : (facts.sentTo ?? ""),
        identity: row.toIdentity,
      },
    });
  }
  return hooks;
}

/** A status history entry but for its time and status (read back by helpdesk/history.ts). */
export const historyDetail = ({ row, worker, reason }: Change) => ({
  channel: row.channel,
  provider_id: row.providerId,
  worker,
  reason,
});

/**
 * SQL for a change's history entry: to `status`, with `detail` (historyDetail's, as jsonb), at its transaction's time.
 */
const historyEntry = (status: string, detail: string) =>
  `jsonb_build_object('at', now(), 'status', ${status}) || ${detail}`;

/** SQL for `SET history = ...` of an UPDATE of `outbound o` that makes a change: its entry appended. */
export const appendHistory = (status: string, detail: string) =>
  `o.history || jsonb_build_array(${historyEntry(status, detail)})`;

/** A change made through Prisma: the outbound as it stands, and the address it was sent to (see HookFacts). */
export interface RowChange extends Change {
  row: ChangedRow & Pick<OutboundRow, "attempts">;
  sentTo?: string | null;
}

export async function announce(tx: Tx, changes: RowChange[]): Promise<void> {
  const entries = changes.map((change, n) => ({
    n,
    id: change.row.id,
    status: change.row.status,
    detail: historyDetail(change),
  }));
  // Each outbound's entries in the order of the changes (one may change twice: submitted, then delivered).
  await tx.$executeRawUnsafe(
    `UPDATE outbound o SET history = o.history || e.entries
    FROM (SELECT id, jsonb_agg(${historyEntry("status", "detail")} ORDER BY n) AS entries
      FROM jsonb_to_recordset($1::jsonb) AS r(n int, id uuid, status text, detail jsonb) GROUP BY id) e
    WHERE o.id = e.id`,
    JSON.stringify(entries),
  );
  await publish(
    tx,
    ...changes.flatMap((change) => [
      ...eventsFor(change),
      ...hooksFor(change, { attempts: change.row.attempts, sentTo: change.sentTo }),
    ]),
  );
}
