import { enqueue, type OutboxMessage } from "@tidings/amqp";
import type { OutboundStatusChanged } from "@tidings/contracts";
import type { Tx } from "../db.ts";
import type { Outbound as OutboundRow } from "../generated/prisma/client.ts";

// What a status change announces: its history row (outbound_event) and its events (outbound.submitted,
// outbound.delivered / outbound.failed and outbound.delivery_report), written with the change.

/** What the history and the events say of an outbound: its columns after the change. */
export type ChangedRow = Pick<
  OutboundRow,
  "id" | "status" | "toIdentity" | "channel" | "providerId" | "delivered" | "updatedAt"
>;

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

export function eventsFor({
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

/** A status history row's `detail`. */
export const historyDetail = ({ row, worker, reason }: Change) => ({
  provider_id: row.providerId,
  worker,
  reason,
});

export async function announce(tx: Tx, changes: Change[]): Promise<void> {
  await tx.outboundEvent.createMany({
    data: changes.map((change) => ({
      outboundId: change.row.id,
      status: change.row.status,
      detail: historyDetail(change),
    })),
  });
  await enqueue(tx, ...changes.flatMap(eventsFor));
}
