import { type OutboundHistory, type OutboundHistoryEntry, toSeedTime } from "@tidings/contracts";
import type { Db } from "../db.ts";
import { senderError } from "../errors.ts";
import type { OutboundPastAttempt, Prisma } from "../generated/prisma/client.ts";

/** An outbound's status history but for its link (which the route adds). */
export type OutboundHistoryFields = Omit<OutboundHistory, "outbound">;

/** A text field of a history entry (see appendHistory in ../outbound/announce.ts), or null. */
const text = (entry: Prisma.JsonObject, field: string): string | null => {
  const value = entry[field];
  return typeof value === "string" ? value : null;
};

const isObject = (value: Prisma.JsonValue): value is Prisma.JsonObject =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const toEntry = (entry: Prisma.JsonObject): OutboundHistoryEntry => ({
  at: toSeedTime(new Date(text(entry, "at") ?? 0)),
  status: text(entry, "status") as OutboundHistoryEntry["status"],
  channel: text(entry, "channel"),
  provider_id: text(entry, "provider_id"),
  worker: text(entry, "worker"),
  reason: text(entry, "reason"),
});

/** What an outbound's history is read from besides its own `history` column: its earlier attempts' late reports. */
export const LATE_REPORTS = { pastAttempts: { where: { lateAt: { not: null } } } } as const;

/**
 * Every status change of an outbound, oldest first (changes made in one transaction share a time; the order they
 * were made in breaks the tie), with the late report of each earlier attempt (kept on outbound_past_attempt: it
 * changed nothing): from its `history` and its LATE_REPORTS.
 */
export function historyEntries(
  history: Prisma.JsonValue,
  pastAttempts: OutboundPastAttempt[],
): OutboundHistoryEntry[] {
  const changes = (Array.isArray(history) ? history : []).filter(isObject).map(toEntry);
  const late = pastAttempts.map(
    (p): OutboundHistoryEntry => ({
      at: toSeedTime(p.lateAt as Date),
      status: p.lateStatus as OutboundHistoryEntry["status"],
      channel: p.channel,
      provider_id: p.providerId,
      worker: null,
      reason: `late report of an earlier attempt${p.lateReason ? `: ${p.lateReason}` : ""}`,
    }),
  );
  // Sorted by time only: the sort is stable, so the changes keep their order among themselves.
  return [...changes, ...late].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
}

/** An outbound's history (see historyEntries). 404 also when `visible` (see ../api-keys/visibility.ts) hides it. */
export async function outboundHistory(
  db: Db,
  id: string,
  visible?: Prisma.OutboundWhereInput,
): Promise<OutboundHistoryFields> {
  const outbound = await db.outbound.findFirst({
    where: { id, ...visible },
    select: { id: true, status: true, createdAt: true, redactedAt: true, history: true, ...LATE_REPORTS },
  });
  if (!outbound) {
    throw senderError("OUTBOUND_NOT_FOUND", `Outbound ${id} not found`);
  }
  return {
    id: outbound.id,
    status: outbound.status,
    created_at: toSeedTime(outbound.createdAt),
    redacted_at: toSeedTime(outbound.redactedAt),
    history: historyEntries(outbound.history, outbound.pastAttempts),
  };
}
