import { randomUUID } from "node:crypto";
import { enqueue } from "@tidings/amqp";
import type { OutboundStatus } from "@tidings/contracts";
import type { Tx } from "../db.ts";
import { type Outbound as OutboundRow, Prisma } from "../generated/prisma/client.ts";
import { appendHistory } from "./announce.ts";
import { toSendCommand } from "./mapping.ts";

// Another attempt of an outbound: the one way back to `queued` (see status.ts for the moves forward).

/** How an outbound is sent again (anotherAttempt). */
export interface AttemptOptions {
  /** The statuses it may leave: `submitted` (a failed report retried), `failed` or `expired` (a resend). */
  from: OutboundStatus[];
  /** Only while its current attempt has this provider id (the failed report's). */
  providerId?: string;
  /** The channel the attempt goes through (a WhatsApp send's SMS fallback); default: the outbound's. */
  channel?: string;
  /** Only outbounds given up after their last send attempt, never sent (a failed task's requeue). */
  failedTasksOnly?: boolean;
  /** When the attempt goes out: null = at once (an outbound.send now); else the due-message poller sends it then. */
  notBefore: Date | null;
  /** Why, in the history entry and `last_error` (the failure that is retried, or the resend's). */
  reason: string | null;
  /** A resend by the API: the redelivery policy counts attempts afresh from here, and `expires_at` becomes this. */
  resend?: { expiresAt: Date | null };
  correlationId?: string;
}

/**
 * Another attempt of the SAME outbound (the one way back to `queued`, for the automatic retry of a failed delivery,
 * a resend and a failed task's requeue): `from` -> queued by compare-and-set, never from delivered. Its provider id
 * moves to `outbound_past_attempt` (a late report for it then changes nothing, and a takeover never takes it for
 * the new attempt's send) and to the history entry; `attempts` keeps counting; the claim is cleared. It is sent by a
 * fresh outbound.send (at once), or by the due-message poller at `notBefore`; the send checks consent, the
 * sending window and expiry again. Never a redacted or a sensitive one: neither has content left to send once out of
 * `queued` (its callers refuse one before; for a failed task's requeue this is the guard). One statement for the
 * move, its history and its past attempt; returns the rows moved.
 */
/** The move's history entry: the attempt that ended (its channel and provider id) and why. */
const HISTORY = Prisma.raw(
  appendHistory(
    "'queued'",
    "jsonb_build_object('channel', t.channel, 'provider_id', t.provider_id, 'reason', t.reason)",
  ),
);

export async function anotherAttempt(tx: Tx, ids: string[], options: AttemptOptions): Promise<OutboundRow[]> {
  const { notBefore, reason, resend } = options;
  const moved = await tx.$queryRaw<{ id: string }[]>`
    WITH target AS (
      SELECT id, channel, provider_id, ${reason}::text AS reason FROM outbound
      WHERE id = ANY(${ids}::uuid[]) AND status = ANY(${options.from}::outbound_status[])
        AND redacted_at IS NULL AND NOT sensitive
        AND (${options.providerId ?? null}::text IS NULL OR provider_id = ${options.providerId ?? null})
        AND (NOT ${options.failedTasksOnly ?? false} OR (provider_id IS NULL
          AND EXISTS (SELECT 1 FROM outbound_send_failure f WHERE f.outbound_id = outbound.id)))
      FOR UPDATE),
    past AS (
      INSERT INTO outbound_past_attempt (channel, provider_id, outbound_id, reason)
      SELECT channel, provider_id, id, reason FROM target WHERE provider_id IS NOT NULL
      ON CONFLICT DO NOTHING),
    moved AS (
      UPDATE outbound o
      SET status = 'queued', provider_id = NULL, channel = COALESCE(${options.channel ?? null}, o.channel),
        not_before = ${notBefore}::timestamptz, last_error = ${reason},
        claimed_by = NULL, claimed_until = NULL, updated_at = now(),
        history = ${HISTORY},
        attempt_base = CASE WHEN ${resend !== undefined} THEN o.attempts ELSE o.attempt_base END,
        expires_at = CASE WHEN ${resend !== undefined} THEN ${resend?.expiresAt ?? null}::timestamptz
          ELSE o.expires_at END
      FROM target t WHERE o.id = t.id
      RETURNING o.id)
    SELECT id::text AS id FROM moved`;
  const rows = await tx.outbound.findMany({ where: { id: { in: moved.map((m) => m.id) } } });
  if (notBefore === null && rows.length > 0) {
    await enqueue(
      tx,
      ...rows.map((row) => ({
        name: "outbound.send" as const,
        messageId: randomUUID(),
        correlationId: options.correlationId,
        payload: toSendCommand(row),
      })),
    );
  }
  return rows;
}

/**
 * failed -> queued for outbounds given up by recordGaveUp (an explicit requeue; an outbound with a provider id is
 * never requeued), each with a fresh outbound.send: another attempt (anotherAttempt). Returns the requeued rows.
 */
export const requeueFailed = (tx: Tx, ids: string[], correlationId?: string): Promise<OutboundRow[]> =>
  anotherAttempt(tx, ids, {
    from: ["failed"],
    failedTasksOnly: true,
    notBefore: null,
    reason: "requeued",
    correlationId,
  });
