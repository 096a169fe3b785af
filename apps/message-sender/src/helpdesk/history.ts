import type { OutboundHistory, OutboundHistoryEntry } from "@tidings/contracts";
import type { Db } from "../db.ts";
import { senderError } from "../errors.ts";
import type { OutboundEvent, Prisma } from "../generated/prisma/client.ts";

/** An outbound's status history but for its link (which the route adds). */
export type OutboundHistoryFields = Omit<OutboundHistory, "outbound">;

/** A text field of a history row's `detail` (see historyDetail in ../outbound/announce.ts), or null. */
const text = (detail: Prisma.JsonValue, field: string): string | null => {
  const value = detail && typeof detail === "object" && !Array.isArray(detail) ? detail[field] : undefined;
  return typeof value === "string" ? value : null;
};

const toEntry = (event: OutboundEvent): OutboundHistoryEntry => ({
  at: event.at.toISOString(),
  status: event.status,
  channel: text(event.detail, "channel"),
  provider_id: text(event.detail, "provider_id"),
  worker: text(event.detail, "worker"),
  reason: text(event.detail, "reason"),
});

/**
 * Every status change of an outbound, oldest first (changes made in one transaction share a time; the order they
 * were written in breaks the tie). 404 also when `visible` (see ../api-keys/visibility.ts) hides the outbound.
 */
export async function outboundHistory(
  db: Db,
  id: string,
  visible?: Prisma.OutboundWhereInput,
): Promise<OutboundHistoryFields> {
  const outbound = await db.outbound.findFirst({
    where: { id, ...visible },
    select: {
      id: true,
      status: true,
      createdAt: true,
      redactedAt: true,
      events: { orderBy: [{ at: "asc" }, { id: "asc" }] },
    },
  });
  if (!outbound) {
    throw senderError("OUTBOUND_NOT_FOUND", `Outbound ${id} not found`);
  }
  return {
    id: outbound.id,
    status: outbound.status,
    created_at: outbound.createdAt.toISOString(),
    redacted_at: outbound.redactedAt?.toISOString() ?? null,
    history: outbound.events.map(toEntry),
  };
}
