import { setTimeout as sleep } from "node:timers/promises";
import { activeTraceCarrier, RetryNotBeforeError } from "@tidings/amqp";
import type { OutboundSend } from "@tidings/contracts";
import { recordParts } from "../channels/parts.ts";
import type { Db } from "../db.ts";
import { GroupCommit } from "../group-commit.ts";
import { appendHistory } from "../outbound/announce.ts";
import type { Logger, NoAnswerError } from "../outbound/channel.ts";
import { accepted } from "../outbound/metrics.ts";
import { type AcceptedSend, recordSend, recordSends } from "../outbound/status.ts";
import type { ClaimClock, Claimed } from "./claim-window.ts";
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

/**
 * Stores the outbound if it is new and claims it for this worker (through the worker's ClaimBatcher: one
 * statement with the other claims asked for at the same time), and returns what sending it needs: a stored
 * outbound is claimed while it is queued and no other live claim exists (the compare-and-set that lets exactly
 * one worker go on); a new one is inserted already claimed. Undefined when it is no longer queued (already sent
 * or failed: nothing to do); throws ClaimedElsewhereError while another worker's claim is live. `recipient`: see
 * ClaimBatcher.claim.
 */
export async function storeAndClaim(
  sender: Sender,
  command: OutboundSend,
  defaultChannel: string,
  log: Logger,
  recipient?: string,
): Promise<Claimed | undefined> {
  const { id } = command;
  const claimed = await sender.claims.claim(command, defaultChannel, recipient);
  if ("claim" in claimed) {
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
  if (claimed.status !== null && claimed.status !== "queued") {
    log.info({ outboundId: id, status: claimed.status }, "outbound already handled; nothing to do");
    return undefined;
  }
  throw new ClaimedElsewhereError(`outbound ${id} is being sent by ${claimed.claimedBy ?? "another worker"}`);
}

/**
 * Renews our claim now, for a send that waited in this process until too little of it was left to call the
 * provider (see ClaimBatcher). False when the claim is gone (lapsed, or another worker took the outbound).
 */
export async function renewClaim(sender: Sender, id: string, claim: ClaimClock): Promise<boolean> {
  const renewed = await sender.claims.renew([id], new Map([[id, claim]]));
  return renewed.has(id);
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

/**
 * Releases our claim with the outbound deferred to `notBefore` (still queued; the poller sends it then). It was
 * not sent, so the claim is cleared as if never taken: the next one sends without asking the provider first.
 * `reason`: why this send deferred it (its sending window, calling hours, the daily cap), kept in its history as a
 * `queued` entry, so a helpdesk sees why a message did not go when it was due; none for a send asked to wait
 * (`not_before` given when it was accepted).
 */
export async function defer(sender: Sender, id: string, notBefore: Date, reason?: string): Promise<void> {
  const history = reason
    ? `, history = ${appendHistory("'queued'", "jsonb_build_object('worker', $3::text, 'reason', $4::text)")}`
    : "";
  await sender.db.$executeRawUnsafe(
    `UPDATE outbound o SET not_before = $2, claimed_until = NULL, claimed_by = NULL, updated_at = now()${history}
     WHERE o.id = $1::uuid AND o.status = 'queued' AND o.claimed_by = $3`,
    id,
    notBefore,
    sender.worker,
    ...(reason ? [`deferred until ${notBefore.toISOString()}: ${reason}`] : []),
  );
}

/**
 * Records a send: queued -> submitted (and -> delivered when the channel says so), with the events. The
 * message has gone, so a failed write is retried here while the claim holds rather than left to a redelivery
 * that would send it again.
 */
export async function recordSendWithRetries(
  sender: Sender,
  send: Omit<AcceptedSend, "worker">,
  claim: ClaimClock,
  log: Logger,
): Promise<void> {
  const { id, result } = send;
  for (let attempt = 1; ; attempt++) {
    try {
      if (result.parts) {
        // Before the send: a part's receipt that comes after finds its part (channels/parts.ts).
        await recordParts(sender.db, send.channel, id, result.parts);
      }
      const recorded = await sender.recordSend({ ...send, worker: sender.worker });
      if (!recorded) {
        log.error(
          { outboundId: id, providerId: result.providerId },
          "outbound sent, but its claim lapsed and another worker took it over: it may have been sent twice",
        );
      }
      return;
    } catch (err) {
      const wait = Math.min(1_000, 50 * 2 ** attempt);
      if (Date.now() + wait > claim.at + sender.claimTtlMs / 2) {
        throw err;
      }
      log.warn({ err, outboundId: id, providerId: result.providerId }, "could not record a send; retrying");
      await sleep(wait);
    }
  }
}

/**
 * How a worker records its sends: those that finish together in one statement (recordSends, through a group
 * commit: the sends that finish in the same turn, or while statements are in flight, go in the next); one delivered
 * at once (the log channel) in its own transaction.
 */
export function sendRecorder(db: Db): (send: AcceptedSend) => Promise<boolean> {
  const group = new GroupCommit({
    maxBatch: 100,
    maxWrites: 2,
    write: (sends: AcceptedSend[]) => recordSends(db, sends),
  });
  // Written in the trace of whichever send starts a statement: each keeps its own for its events.
  return (send) =>
    send.result.delivered ? recordSend(db, send) : group.add({ ...send, traceContext: activeTraceCarrier() });
}
