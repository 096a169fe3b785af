import { setTimeout as sleep } from "node:timers/promises";
import { RetryNotBeforeError } from "@tidings/amqp";
import type { OutboundPriority, OutboundSend, SendingWindow } from "@tidings/contracts";
import { recordParts } from "../channels/parts.ts";
import type { Logger, NoAnswerError } from "../outbound/channel.ts";
import { accepted } from "../outbound/metrics.ts";
import { type AcceptedSend, recordSend } from "../outbound/status.ts";
import type { Sender } from "./sender.ts";

// The claim: one worker at a time sends an outbound. storeAndClaim takes it; a send that failed releases it
// (releaseClaim), keeps it a while (holdUnanswered) or hands it to the due-message poller (defer); a send the
// provider accepted is recorded while the claim holds (recordSendWithRetries).

/**
 * Too little of our claim is left to start a send that may take the channel's whole timeout: the claim could
 * lapse while the provider is accepting the message, and another worker send it again. Not sent: retried.
 */
export class ClaimRunningOutError extends Error {
  override name = "ClaimRunningOutError";
}

/** Kept between the end of the longest send and the claim's lapse (clocks, event-loop lag). */
export const CLAIM_MARGIN_MS = 1_000;

/** Another worker holds the outbound's claim (it is sending it now): retried, and by then it is sent. */
class ClaimedElsewhereError extends Error {
  override name = "ClaimedElsewhereError";
}

export interface Claimed {
  channel: string;
  to_addr: string;
  to_identity: string | null;
  content: string | null;
  metadata: Record<string, unknown>;
  priority: OutboundPriority;
  sending_window: SendingWindow | null;
  not_before: Date | null;
  expires_at: Date | null;
  created_at: Date;
  /** Sent with a test key (through the log channel): not counted against the recipient's daily cap. */
  test: boolean;
  /** The content template (and version) it was rendered from, if any: a WhatsApp send's template comes from it. */
  template: number | null;
  template_version: number | null;
  /** The worker of an earlier claim that did not end in a known outcome (null: never claimed, or cleared). */
  previous_worker: string | null;
  previous_until: Date | null;
  /** Stored by this statement (a new outbound from outbound.send), not claimed from the table. */
  inserted: boolean;
}

/**
 * Stores the outbound if it is new and claims it for this worker, in ONE statement, and returns what sending
 * it needs: a stored outbound is claimed while it is queued and no other live claim exists (the
 * compare-and-set that lets exactly one worker go on); a new one is inserted already claimed (a concurrent
 * insert of the same id wins, and this one claims nothing). Undefined when it is no longer queued (already
 * sent or failed: nothing to do); throws ClaimedElsewhereError while another worker's claim is live.
 */
export async function storeAndClaim(
  sender: Sender,
  command: OutboundSend,
  defaultChannel: string,
  log: Logger,
): Promise<Claimed | undefined> {
  const { db, worker } = sender;
  const { id } = command;
  const ttl = sender.claimTtlMs / 1000;
  const [claimed] = await db.$queryRaw<Claimed[]>`
    WITH claimable AS (
      SELECT id, claimed_by AS previous_worker, claimed_until AS previous_until FROM outbound
      WHERE id = ${id}::uuid AND status = 'queued' AND (claimed_until IS NULL OR claimed_until < now())
      FOR UPDATE
    ), claimed AS (
      UPDATE outbound o
      SET claimed_by = ${worker}, claimed_until = now() + make_interval(secs => ${ttl}::float8), updated_at = now()
      FROM claimable c WHERE o.id = c.id
      RETURNING o.channel, o.to_addr, o.to_identity::text, o.content, o.metadata, o.priority::text,
        o.sending_window, o.not_before, o.expires_at, o.created_at, o.test, o.template, o.template_version,
        c.previous_worker, c.previous_until,
        false AS inserted
    ), stored AS (
      INSERT INTO outbound (id, to_addr, to_identity, content, channel, metadata, resend, priority, sending_window,
                            not_before, expires_at, created_by_schedule, sensitive, claimed_by, claimed_until)
      SELECT ${id}::uuid, ${command.to_addr ?? ""}, ${command.to_identity ?? null}::uuid, ${command.content ?? null},
        ${command.channel ?? defaultChannel}, ${JSON.stringify(command.metadata)}::jsonb, ${command.resend ?? null}::boolean,
        ${command.priority ?? "normal"}::outbound_priority,
        ${command.sending_window ? JSON.stringify(command.sending_window) : null}::jsonb,
        ${command.not_before ?? null}::timestamptz, ${command.expires_at ?? null}::timestamptz,
        ${command.created_by_schedule ?? null}::uuid, ${command.sensitive ?? false}, ${worker},
        now() + make_interval(secs => ${ttl}::float8)
      WHERE NOT EXISTS (SELECT 1 FROM outbound WHERE id = ${id}::uuid)
      ON CONFLICT (id) DO NOTHING
      RETURNING channel, to_addr, to_identity::text, content, metadata, priority::text, sending_window, not_before,
        expires_at, created_at, test, NULL::int AS template, NULL::int AS template_version,
        NULL::text AS previous_worker, NULL::timestamptz AS previous_until,
        true AS inserted
    )
    SELECT * FROM claimed UNION ALL SELECT * FROM stored`;
  if (claimed) {
    if (claimed.inserted) {
      accepted.inc({ channel: claimed.channel, priority: claimed.priority });
    }
    if (claimed.previous_until) {
      log.warn(
        { outboundId: id, previousWorker: claimed.previous_worker },
        "took over a lapsed claim: the previous worker may have sent this outbound already; asking the provider",
      );
    }
    return claimed;
  }
  const { status, claimedBy } = await db.outbound.findUniqueOrThrow({ where: { id } });
  if (status !== "queued") {
    log.info({ outboundId: id, status }, "outbound already handled; nothing to do");
    return undefined;
  }
  throw new ClaimedElsewhereError(`outbound ${id} is being sent by ${claimedBy}`);
}

/**
 * A send that got no answer may still be accepted by the provider after we gave up on it, so this worker keeps
 * the outbound claimed for as long again as the send waited (and at least until the claim lapses), and its retry
 * waits until then: a late acceptance is found by the retry's lookup instead of being sent a second time.
 * Returns the error to throw.
 */
export async function holdUnanswered(
  sender: Sender,
  id: string,
  err: NoAnswerError,
  reason: string,
): Promise<RetryNotBeforeError> {
  const [held] = await sender.db.$queryRaw<{ wait_ms: number }[]>`
    UPDATE outbound
    SET claimed_until = GREATEST(claimed_until, now() + make_interval(secs => ${err.waitedMs / 1000}::float8)),
      last_error = ${reason}, updated_at = now()
    WHERE id = ${id}::uuid AND status = 'queued' AND claimed_by = ${sender.worker}
    RETURNING (extract(epoch FROM claimed_until - now()) * 1000)::float8 AS wait_ms`;
  return new RetryNotBeforeError(reason, Math.ceil(held?.wait_ms ?? 0) + CLAIM_MARGIN_MS, { cause: err });
}

/**
 * Releases our claim with the outbound deferred to `notBefore` (still queued; the poller sends it then). It was
 * not sent, so the claim is cleared as if never taken: the next one sends without asking the provider first.
 */
/**
 * Releases our claim after a send that failed for a passing reason, with the reason recorded. `notSent`: the
 * message certainly did not reach the provider (throttled, or the claim ran out first), so the claim is cleared
 * as if never taken and the next one need not ask the provider whether it was; otherwise the claim's worker
 * stays recorded (a timeout or an outage may have sent it).
 */
export async function releaseClaim(
  sender: Sender,
  id: string,
  reason: string,
  notSent: boolean,
): Promise<void> {
  await sender.db.outbound.updateMany({
    where: { id, status: "queued", claimedBy: sender.worker },
    data: { claimedUntil: null, lastError: reason, ...(notSent ? { claimedBy: null } : {}) },
  });
}

export async function defer(sender: Sender, id: string, notBefore: Date): Promise<void> {
  await sender.db.outbound.updateMany({
    where: { id, status: "queued", claimedBy: sender.worker },
    data: { notBefore, claimedUntil: null, claimedBy: null },
  });
}

/**
 * Records a send: queued -> submitted (and -> delivered when the channel says so), with the events. The
 * message has gone, so a failed write is retried here while the claim holds rather than left to a redelivery
 * that would send it again.
 */
export async function recordSendWithRetries(
  sender: Sender,
  send: Omit<AcceptedSend, "worker">,
  claimedAt: number,
  log: Logger,
): Promise<void> {
  const { id, result } = send;
  for (let attempt = 1; ; attempt++) {
    try {
      if (result.parts) {
        // Before the send: a part's receipt that comes after finds its part (channels/parts.ts).
        await recordParts(sender.db, send.channel, id, result.parts);
      }
      const recorded = await recordSend(sender.db, { ...send, worker: sender.worker });
      if (!recorded) {
        log.error(
          { outboundId: id, providerId: result.providerId },
          "outbound sent, but its claim lapsed and another worker took it over: it may have been sent twice",
        );
      }
      return;
    } catch (err) {
      const wait = Math.min(1_000, 50 * 2 ** attempt);
      if (Date.now() + wait > claimedAt + sender.claimTtlMs / 2) {
        throw err;
      }
      log.warn({ err, outboundId: id, providerId: result.providerId }, "could not record a send; retrying");
      await sleep(wait);
    }
  }
}
