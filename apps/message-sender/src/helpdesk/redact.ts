import { forgetIdempotencyKeys } from "@tidings/service-kit";
import { type Viewer, visibleOutboundsSql } from "../api-keys/visibility.ts";
import type { Db } from "../db.ts";
import { senderError } from "../errors.ts";
import { cancelAndRedact } from "../forget/forget.ts";

/** The reason (`last_error`, history, `outbound.failed`) of a queued outbound cancelled by its redaction. */
export const REDACTED = "redacted";

/**
 * `DELETE /api/v1/outbound/{id}/`: redacts one outbound, by an admin or the user whose key created it. Its address,
 * content and metadata are cleared and the row stays as a tombstone (`redacted: true`, status, channel, attempts
 * and times kept), so status counts, aggregates and the identity's counts do not change; a queued (or deferred)
 * one is first cancelled with reason `redacted` (never sent: the mechanism of forget, cancelAndRedact), and the
 * Idempotency-Key answers that carry it are deleted. Idempotent (a redacted outbound is left as it is).
 * 404 when the key does not see it, 403 when it sees it but did not create it, 409 while a worker is sending it.
 */
export async function redactOutbound(db: Db, id: string, viewer: Viewer): Promise<void> {
  await db.$transaction(async (tx) => {
    const [outbound] = await tx.$queryRaw<{ status: string; created_by: number | null; live: boolean }[]>`
      SELECT status::text, created_by, COALESCE(claimed_until > now(), false) AS live FROM outbound o
      WHERE o.id = ${id}::uuid AND ${visibleOutboundsSql(viewer)} FOR UPDATE`;
    if (!outbound) {
      throw senderError("OUTBOUND_NOT_FOUND", `Outbound ${id} not found`);
    }
    if (!viewer.isAdmin && (viewer.userId === null || outbound.created_by !== viewer.userId)) {
      throw senderError(
        "MESSAGE_SENDER_NOT_OUTBOUND_OWNER",
        "Only an admin or the user whose key created this outbound may delete it",
      );
    }
    if (outbound.status === "queued" && outbound.live) {
      throw senderError(
        "MESSAGE_SENDER_SEND_IN_PROGRESS",
        `Outbound ${id} is being sent now; try again in a few seconds`,
      );
    }
    await cancelAndRedact(tx, [id], REDACTED);
    await forgetIdempotencyKeys(tx, [id]);
  });
}
