import { setTimeout as sleep } from "node:timers/promises";
import { enqueue, NonRetryableError, RetryNotBeforeError } from "@tidings/amqp";
import type { OptOutReported, OutboundSend, SendingWindow } from "@tidings/contracts";
import { normaliseRecipient } from "@tidings/contracts/addresses";
import { type Clock, maskPii } from "@tidings/service-kit";
import type { ChannelCache, ResolvedChannel } from "../channels/channel-cache.ts";
import { rateCost, releaseSlot, takeRate, takeSlot } from "../channels/limits.ts";
import { isOptedOut } from "../consent/consent.ts";
import type { Db } from "../db.ts";
import { cancelIfForgotten } from "../forget/forget.ts";
import {
  DEFAULT_SEND_TIMEOUT_MS,
  failureReason,
  type Logger,
  NoAnswerError,
  OPTED_OUT,
  type OutboundToSend,
  PermanentSendError,
  RecipientOptedOutError,
  type SendResult,
  ThrottledError,
} from "../outbound/channel.ts";
import {
  type AcceptedSend,
  recordExpired,
  recordFailed,
  recordGaveUp,
  recordOptedOut,
  recordSend,
} from "../outbound/status.ts";
import { nextOpening, recipientZone } from "../outbound/timing.ts";
import { identityZone, type Resolved, resolveAddress } from "../recipients/address-book.ts";
import { type IdentityDirectory, resolveIdentity } from "../recipients/identity-directory.ts";

export interface Sender {
  db: Db;
  channels: ChannelCache;
  /** The longest to hold a message for a paused (throttled) channel before handing it to a retry. */
  pauseMaxWaitMs: number;
  /** outbound.send deliveries before a passing failure is recorded as a failed task (the queue's maxAttempts). */
  maxAttempts: number;
  /** This worker, as recorded in `claimed_by`. */
  worker: string;
  claimTtlMs: number;
  /** The time for sending windows and expiry (tests control it). */
  clock: Clock;
  /** Finds or creates the identity of an outbound that has only `to_addr` (IDENTITY_URL). */
  identities?: IdentityDirectory;
}

/**
 * Too little of our claim is left to start a send that may take the channel's whole timeout: the claim could
 * lapse while the provider is accepting the message, and another worker send it again. Not sent: retried.
 */
class ClaimRunningOutError extends Error {
  override name = "ClaimRunningOutError";
}

/** Kept between the end of the longest send and the claim's lapse (clocks, event-loop lag). */
const CLAIM_MARGIN_MS = 1_000;

/** Another worker holds the outbound's claim (it is sending it now): retried, and by then it is sent. */
class ClaimedElsewhereError extends Error {
  override name = "ClaimedElsewhereError";
}

/**
 * Handles `outbound.send`: stores the outbound if it is new, and sends it if it is still queued. The same id
 * is sent at most once however often, wherever and however concurrently the command is delivered:
 *
 * 1. claim: one UPDATE sets `claimed_by`/`claimed_until` only while the outbound is queued and no other live
 *    claim exists, so exactly one worker goes on; the others ack (already sent) or retry (being sent);
 * 2. resolve the address and send through the channel, outside any transaction. A passing failure here
 *    releases the claim and retries the message (a send that got no answer keeps the claim a while longer:
 *    `holdUnanswered`); a permanent one fails the outbound;
 * 3. record the provider id and `submitted` (a CAS on queued + our claim) with its events, in one
 *    transaction, before the handler returns and the message is acked. A failed write is retried in place.
 *
 * A worker that dies (or stalls past its claim) after the provider accepted the message and before step 3
 * committed leaves it queued and claimed. Once the claim lapses another worker claims it, sees the earlier
 * claim, and asks the channel whether it accepted the message (`findEarlierSend`) before sending: found, the
 * earlier send is recorded and nothing is sent again. A channel that can't be asked (vonage, smtp) sends it
 * again: at least once.
 */
export async function sendOutbound(
  sender: Sender,
  command: OutboundSend,
  log: Logger,
  attempt = 1,
): Promise<void> {
  if (!command.to_addr && !command.to_identity) {
    throw new NonRetryableError("outbound.send needs to_addr or to_identity");
  }
  const { db, worker } = sender;
  const { id } = command;
  const defaultChannel = command.channel ?? (await sender.channels.defaultChannel());
  const claimedAt = Date.now();
  const outbound = await storeAndClaim(sender, command, defaultChannel, log);
  if (!outbound || (await cancelIfForgotten(db, id, outbound.to_identity, worker))) {
    return;
  }
  let result: SendResult;
  let sentThrough: string = outbound.channel;
  let toIdentity = outbound.to_identity;
  let address: string | null = null;
  try {
    const channel = await sender.channels.resolve(outbound.channel);
    if (!channel) {
      throw new PermanentSendError(`unknown channel ${outbound.channel}`);
    }
    const resolved: Resolved = outbound.to_addr
      ? { address: outbound.to_addr, optedOut: false }
      : outbound.to_identity
        ? await resolveAddress(db, outbound.to_identity)
        : { address: null, optedOut: false };
    if (!resolved.address) {
      if (resolved.optedOut) {
        await optOut(sender, id, log);
        return;
      }
      throw new PermanentSendError("no address");
    }
    // Every producer's to_addr (a topic send, a scheduler's command) is held to what the API accepts.
    address = normaliseRecipient(channel.type, resolved.address);
    if (!address) {
      throw new PermanentSendError(`not an address a ${channel.type} channel can send to`);
    }
    const earlier =
      outbound.previous_worker && (await findEarlierSend(sender, id, outbound, channel, address));
    if (earlier) {
      log.warn(
        { outboundId: id, previousWorker: outbound.previous_worker, providerId: earlier.providerId },
        "an earlier claim's send was accepted by the provider: recorded, not sent again",
      );
      const { channel: sentBy, ...result } = earlier;
      await recordSendWithRetries(
        sender,
        { id, result, channel: sentBy, toIdentity: outbound.to_identity },
        claimedAt,
        log,
      );
      return;
    }
    // Consent, however the send was addressed: a person who said STOP gets nothing more (checked as late as can be,
    // just before the channel is chosen, against the local copy of identity's consent ledger).
    if (await isOptedOut(db, address)) {
      await optOut(sender, id, log);
      return;
    }
    const now = sender.clock();
    if (outbound.expires_at && outbound.expires_at <= now) {
      await expire(sender, id, log);
      return;
    }
    if (outbound.not_before && outbound.not_before > now) {
      // Deferred: the due-message poller sends it again at not_before.
      await defer(sender, id, outbound.not_before);
      return;
    }
    toIdentity = outbound.to_identity ?? (await linkIdentity(sender, id, address, log));
    const window = outbound.priority === "high" ? null : (outbound.sending_window ?? channel.sendingWindow);
    const opening = window && (await windowOpening(sender, window, address, toIdentity, now));
    if (opening) {
      if (outbound.expires_at && opening >= outbound.expires_at) {
        await expire(sender, id, log);
      } else {
        await defer(sender, id, opening);
        log.info(
          { outboundId: id, notBefore: opening.toISOString() },
          "outside its sending window; deferred",
        );
      }
      return;
    }
    const toSend = { id, content: outbound.content, metadata: outbound.metadata };
    try {
      result = await sendThrough(sender, channel, toSend, address, claimedAt);
    } catch (err) {
      // Fail over only on a definite rejection: the provider did not accept the message. A timeout or an
      // outage may have sent it, so those are retried on the same channel. A recipient who opted out is not
      // sent to through another channel either.
      const fallback = channel.fallback && (await sender.channels.resolve(channel.fallback));
      if (!(err instanceof PermanentSendError) || err instanceof RecipientOptedOutError || !fallback) {
        throw err;
      }
      log.warn(
        { outboundId: id, channel: channel.id, fallback: fallback.id, reason: maskPii(err.message) },
        "channel rejected the outbound; failing over",
      );
      sentThrough = fallback.id;
      result = await sendThrough(sender, fallback, toSend, address, claimedAt);
    }
  } catch (err) {
    if (err instanceof RecipientOptedOutError && address) {
      // The provider says the recipient unsubscribed from it: opted out here, and at identity (optout.reported).
      await optOut(sender, id, log, {
        outbound_id: id,
        identity: toIdentity,
        address_type: address.includes("@") ? "email" : "msisdn",
        address,
        channel: sentThrough,
        provider_code:
          `${(await sender.channels.resolve(sentThrough))?.type ?? sentThrough} ${err.code ?? ""}`.trim(),
        at: new Date().toISOString(),
      });
      return;
    }
    // Never throws for an error without a message.
    const reason = failureReason(err);
    if (err instanceof PermanentSendError) {
      if (await db.$transaction((tx) => recordFailed(tx, id, worker, reason))) {
        log.warn({ outboundId: id, reason }, "outbound failed");
      } else {
        log.warn(
          { outboundId: id, reason },
          "outbound not failed: its claim lapsed and another worker took it",
        );
      }
      return;
    }
    if (err instanceof ThrottledError) {
      sender.channels.pause(sentThrough, err.retryAfterMs);
      log.warn(
        { outboundId: id, channel: sentThrough, pauseMs: err.retryAfterMs },
        "channel throttled; pausing it",
      );
    }
    if (attempt >= sender.maxAttempts) {
      // The last attempt: failed, with a failed task (requeued by POST /api/v1/failed-tasks/), and ack.
      await db.$transaction((tx) => recordGaveUp(tx, id, worker, reason, attempt));
      log.error(
        { outboundId: id, attempt, reason },
        "outbound not sent after its last attempt; failed, recorded as a failed task",
      );
      return;
    }
    if (err instanceof NoAnswerError) {
      throw await holdUnanswered(sender, id, err, reason);
    }
    await db.outbound.updateMany({
      where: { id, status: "queued", claimedBy: worker },
      // A throttled message, or one whose claim ran out before the send, was not sent: the next claim need not
      // ask the provider whether it was. Any other failure (a timeout, an outage) may have sent it, so the
      // claim's worker stays recorded.
      data: {
        claimedUntil: null,
        lastError: reason,
        ...(err instanceof ThrottledError || err instanceof ClaimRunningOutError ? { claimedBy: null } : {}),
      },
    });
    throw err;
  }
  await recordSendWithRetries(sender, { id, result, channel: sentThrough, toIdentity }, claimedAt, log);
}

/**
 * A send that got no answer may still be accepted by the provider after we gave up on it, so this worker keeps
 * the outbound claimed for as long again as the send waited (and at least until the claim lapses), and its retry
 * waits until then: a late acceptance is found by the retry's lookup instead of being sent a second time.
 * Returns the error to throw.
 */
async function holdUnanswered(
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
 * Sends through one channel, first waiting out its pause if it is throttled: up to pauseMaxWaitMs the
 * message is held here (so this consumer takes no more work for the channel), beyond that it is retried.
 */
async function sendThrough(
  sender: Sender,
  channel: ResolvedChannel,
  outbound: OutboundToSend,
  address: string,
  claimedAt: number,
): Promise<SendResult> {
  // Calls the provider if our claim (taken at `claimedAt`, local time, so never later than the database's) will
  // outlast the channel's longest send: a worker that stalled after claiming (a slow database, a starved event
  // loop, a wait below) must not send while another worker, seeing the claim lapse, takes the outbound over.
  const sendWithinClaim = () => {
    const needed = (channel.channel.timeoutMs ?? DEFAULT_SEND_TIMEOUT_MS) + CLAIM_MARGIN_MS;
    if (Date.now() + needed > claimedAt + sender.claimTtlMs) {
      throw new ClaimRunningOutError(
        `claim of outbound ${outbound.id} lapses before a send through ${channel.id} could time out`,
      );
    }
    return channel.channel.send(outbound, address);
  };
  const paused = sender.channels.pausedFor(channel.id);
  if (paused > sender.pauseMaxWaitMs) {
    throw new ThrottledError(`channel ${channel.id} is paused (throttled)`, 0);
  }
  if (paused > 0) {
    await sleep(paused);
  }
  if (
    channel.rateLimit > 0 &&
    !(await takeRate(
      sender.db,
      channel.id,
      channel.rateLimit,
      rateCost(channel.type, outbound.content),
      sender.pauseMaxWaitMs,
    ))
  ) {
    throw new ThrottledError(`channel ${channel.id} is at its rate limit`, 0);
  }
  if (channel.concurrencyLimit <= 0) {
    return sendWithinClaim();
  }
  const holder = `${sender.worker}:${outbound.id}`;
  const slot = await takeSlot(
    sender.db,
    channel.id,
    channel.concurrencyLimit,
    holder,
    sender.claimTtlMs,
    sender.pauseMaxWaitMs,
  );
  if (slot === undefined) {
    throw new ThrottledError(`channel ${channel.id} is at its concurrency limit`, 0);
  }
  try {
    return await sendWithinClaim();
  } finally {
    // Never let a failed release turn a send into an error (and a retry): the lease lapses on its own.
    await releaseSlot(sender.db, channel.id, slot, holder).catch(() => undefined);
  }
}

/**
 * When the window next opens for this recipient (undefined while it is open): in the identity's zone, else
 * the phone number's country's, else the window's own.
 */
async function windowOpening(
  sender: Sender,
  window: SendingWindow,
  address: string,
  identity: string | null,
  now: Date,
): Promise<Date | undefined> {
  const zone = recipientZone(window, address, identity && (await identityZone(sender.db, identity)));
  return nextOpening(window, zone, now);
}

/**
 * An outbound with only `to_addr`: its identity (the address book's, or found or created at the identity
 * service) is recorded on it, so its delivery reports count for that identity. Null when there is none.
 */
async function linkIdentity(
  sender: Sender,
  id: string,
  address: string,
  log: Logger,
): Promise<string | null> {
  const identity = await resolveIdentity(sender.db, sender.identities, address, log);
  if (identity) {
    await sender.db.outbound.updateMany({
      where: { id, status: "queued", claimedBy: sender.worker, toIdentity: null },
      data: { toIdentity: identity },
    });
  }
  return identity;
}

/**
 * Releases our claim with the outbound deferred to `notBefore` (still queued; the poller sends it then). It was
 * not sent, so the claim is cleared as if never taken: the next one sends without asking the provider first.
 */
async function defer(sender: Sender, id: string, notBefore: Date): Promise<void> {
  await sender.db.outbound.updateMany({
    where: { id, status: "queued", claimedBy: sender.worker },
    data: { notBefore, claimedUntil: null, claimedBy: null },
  });
}

/** How far the provider's clock may be behind ours when matching its messages to an outbound's creation. */
const PROVIDER_CLOCK_SKEW_MS = 5 * 60_000;

/**
 * An earlier claim on this outbound (a worker that died or stalled after sending, or a send that failed in a way
 * that may have reached the provider) may have been accepted. Asks the channel, and its fallback, for a message
 * to this address with this content since the outbound was created whose provider id no other outbound has:
 * that message is the earlier send. Undefined when none is found or the channels can't be asked. A failed
 * lookup throws: the outbound is retried rather than sent blind.
 */
async function findEarlierSend(
  sender: Sender,
  id: string,
  outbound: Claimed,
  channel: ResolvedChannel,
  address: string,
): Promise<(SendResult & { channel: string }) | undefined> {
  const fallback = channel.fallback ? await sender.channels.resolve(channel.fallback) : undefined;
  const since = new Date(outbound.created_at.getTime() - PROVIDER_CLOCK_SKEW_MS);
  const toSend = { id, content: outbound.content, metadata: outbound.metadata };
  for (const candidate of [channel, fallback]) {
    if (!candidate?.channel.acceptedSince) {
      continue;
    }
    const providerIds = await candidate.channel.acceptedSince(toSend, address, since);
    if (providerIds.length === 0) {
      continue;
    }
    const taken = await sender.db.outbound.findMany({
      where: { channel: candidate.id, providerId: { in: providerIds } },
      select: { providerId: true },
    });
    const providerId = providerIds.find((pid) => !taken.some((t) => t.providerId === pid));
    if (providerId) {
      return { providerId, delivered: false, channel: candidate.id };
    }
  }
  return undefined;
}

/**
 * The recipient opted out: failed with reason opted_out, no delivery failure counted. When a provider said so (it
 * refused the send), `reported` tells the identity service, in the same transaction.
 */
async function optOut(sender: Sender, id: string, log: Logger, reported?: OptOutReported): Promise<void> {
  const recorded = await sender.db.$transaction(async (tx) => {
    const failed = await recordOptedOut(tx, id, sender.worker);
    if (failed && reported) {
      await enqueue(tx, { name: "optout.reported", payload: reported });
    }
    return failed;
  });
  if (recorded) {
    log.info(
      { outboundId: id, reason: OPTED_OUT, provider: reported?.provider_code },
      "recipient opted out; not sent",
    );
  }
}

async function expire(sender: Sender, id: string, log: Logger): Promise<void> {
  if (await sender.db.$transaction((tx) => recordExpired(tx, [id], sender.worker))) {
    log.info({ outboundId: id }, "outbound expired before it could be sent");
  }
}

/**
 * Records a send: queued -> submitted (and -> delivered when the channel says so), with the events. The
 * message has gone, so a failed write is retried here while the claim holds rather than left to a redelivery
 * that would send it again.
 */
async function recordSendWithRetries(
  sender: Sender,
  send: Omit<AcceptedSend, "worker">,
  claimedAt: number,
  log: Logger,
): Promise<void> {
  const { id, result } = send;
  for (let attempt = 1; ; attempt++) {
    try {
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

interface Claimed {
  channel: string;
  to_addr: string;
  to_identity: string | null;
  content: string | null;
  metadata: Record<string, unknown>;
  priority: string;
  sending_window: SendingWindow | null;
  not_before: Date | null;
  expires_at: Date | null;
  created_at: Date;
  /** The worker of an earlier claim that did not end in a known outcome (null: never claimed, or cleared). */
  previous_worker: string | null;
  previous_until: Date | null;
}

/**
 * Stores the outbound if it is new and claims it for this worker, in ONE statement, and returns what sending
 * it needs: a stored outbound is claimed while it is queued and no other live claim exists (the
 * compare-and-set that lets exactly one worker go on); a new one is inserted already claimed (a concurrent
 * insert of the same id wins, and this one claims nothing). Undefined when it is no longer queued (already
 * sent or failed: nothing to do); throws ClaimedElsewhereError while another worker's claim is live.
 */
async function storeAndClaim(
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
        o.sending_window, o.not_before, o.expires_at, o.created_at, c.previous_worker, c.previous_until
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
        expires_at, created_at, NULL::text AS previous_worker, NULL::timestamptz AS previous_until
    )
    SELECT * FROM claimed UNION ALL SELECT * FROM stored`;
  if (claimed) {
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
