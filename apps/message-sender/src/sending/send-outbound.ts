import { enqueue, NonRetryableError } from "@tidings/amqp";
import { maskPii, type OptOutReported, type OutboundSend } from "@tidings/contracts";
import { normaliseRecipient } from "@tidings/contracts/addresses";
import { publish } from "@tidings/hooks";
import { callingHoursFor, VOICE_CHANNEL_TYPES } from "../channels/voice.ts";
import { isOptedOut, recordConsent } from "../consent/consent.ts";
import { cancelIfForgotten } from "../forget/forget.ts";
import { nextCallOpening } from "../outbound/calling-hours.ts";
import {
  failureReason,
  type Logger,
  NO_ADDRESS,
  NoAnswerError,
  OPTED_OUT,
  PermanentSendError,
  RecipientOptedOutError,
  type SendResult,
  ThrottledError,
} from "../outbound/channel.ts";
import { recordExpired, recordFailed, recordGaveUp, recordOptedOut } from "../outbound/unsent.ts";
import { type Resolved, resolveAddress } from "../recipients/address-book.ts";
import { resolveIdentity } from "../recipients/identity-directory.ts";
import { sendThrough, zoneOf } from "./channel-gate.ts";
import {
  ClaimRunningOutError,
  defer,
  holdUnanswered,
  recordSendWithRetries,
  releaseClaim,
  storeAndClaim,
} from "./claim.ts";
import type { Claimed } from "./claim-window.ts";
import { dailyCapDeferral, dailyCapOf, endUnsent } from "./daily-cap.ts";
import type { Sender } from "./sender.ts";
import { findEarlierSend } from "./takeover.ts";

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
 * earlier send is recorded and nothing is sent again (a voice call too: see the voice adapters' `acceptedSince`).
 * A channel that can't be asked (vonage SMS, smtp) sends it again: at least once.
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
  const defaultChannel = command.channel ?? (await sender.channels.defaultChannel());
  const outbound = await storeAndClaim(
    sender,
    command,
    defaultChannel,
    log,
    await recipientOf(sender, command, defaultChannel),
  );
  if (!outbound) {
    return;
  }
  try {
    await sendClaimed(sender, command.id, outbound, log, attempt);
  } finally {
    sender.claims.release(command.id, outbound.claim);
  }
}

/** The normalised address a command names (its to_addr on its channel), read with its claim; none by identity. */
async function recipientOf(
  sender: Sender,
  command: OutboundSend,
  defaultChannel: string,
): Promise<string | undefined> {
  if (!command.to_addr) {
    return undefined;
  }
  const channel = await sender.channels.resolve(command.channel ?? defaultChannel);
  return (channel && normaliseRecipient(channel.type, command.to_addr)) || undefined;
}

/** Sends an outbound this worker claimed (see sendOutbound). */
async function sendClaimed(
  sender: Sender,
  id: string,
  outbound: Claimed,
  log: Logger,
  attempt: number,
): Promise<void> {
  const { db, worker } = sender;
  if (await cancelIfForgotten(db, id, outbound.to_identity, worker)) {
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
      } else {
        await failNoAddress(sender, id, outbound.to_identity, log);
      }
      return;
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
        {
          id,
          result,
          channel: sentBy,
          toIdentity: outbound.to_identity,
          priority: outbound.priority,
          redelivery: sender.redelivery,
        },
        outbound.claim,
        log,
      );
      return;
    }
    // Consent, however the send was addressed: a person who said STOP gets nothing more (checked as late as can be,
    // just before the channel is chosen, against the local copy of identity's consent ledger).
    // The claim's statement read both for the address the command named, when that is the one sent to.
    const checked = outbound.checked?.recipient === address ? outbound.checked : undefined;
    if (checked ? checked.optedOut : await isOptedOut(db, address)) {
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
    toIdentity = outbound.to_identity ?? (await linkIdentity(sender, id, address, log, checked?.identity));
    // Quiet hours and a call's calling hours (none for high priority), then the person's daily cap, all in the
    // recipient's zone.
    const zoneWindow = outbound.sending_window ?? channel.sendingWindow;
    const window = outbound.priority === "high" ? null : zoneWindow;
    const calling =
      outbound.priority !== "high" && VOICE_CHANNEL_TYPES.has(channel.type)
        ? await callingHoursFor(db, outbound.metadata, toIdentity)
        : undefined;
    const cap = toIdentity && !outbound.test ? dailyCapOf(sender, channel, outbound.priority) : 0;
    if (window || calling || cap > 0) {
      const zone = await zoneOf(sender, zoneWindow, address, toIdentity);
      const opening = window || calling ? nextCallOpening(window, calling, zone, now) : undefined;
      const capped =
        !opening && toIdentity && cap > 0
          ? await dailyCapDeferral(db, { id, identity: toIdentity, cap, zone, window }, now)
          : undefined;
      const wait = opening ?? capped;
      if (wait) {
        await deferOrExpire(sender, id, outbound.expires_at, wait, log, {
          reason: opening
            ? "outside its sending window or calling hours"
            : "the recipient's daily cap is reached",
        });
        return;
      }
    }
    const toSend = {
      id,
      content: outbound.content,
      metadata: outbound.metadata,
      template:
        outbound.template === null ? null : { id: outbound.template, version: outbound.template_version },
    };
    try {
      result = await sendThrough(sender, channel, toSend, address, outbound.claim);
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
      result = await sendThrough(sender, fallback, toSend, address, outbound.claim);
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
      if (await endUnsent(db, id, (tx) => recordFailed(tx, id, worker, reason, { sentTo: address }))) {
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
      await endUnsent(db, id, (tx) => recordGaveUp(tx, id, worker, reason, attempt));
      log.error(
        { outboundId: id, attempt, reason },
        "outbound not sent after its last attempt; failed, recorded as a failed task",
      );
      return;
    }
    if (err instanceof NoAnswerError) {
      throw await holdUnanswered(sender, id, err, reason);
    }
    // A throttled message, or one whose claim ran out before the send, was not sent: the next claim need not
    // ask the provider whether it was. Any other failure (a timeout, an outage) may have sent it.
    await releaseClaim(
      sender,
      id,
      reason,
      err instanceof ThrottledError || err instanceof ClaimRunningOutError,
    );
    throw err;
  }
  await recordSendWithRetries(
    sender,
    {
      id,
      result,
      channel: sentThrough,
      toIdentity,
      priority: outbound.priority,
      redelivery: sender.redelivery,
    },
    outbound.claim,
    log,
  );
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
  inBook?: string | null,
): Promise<string | null> {
  const identity = await resolveIdentity(sender.db, sender.identities, address, log, inBook);
  if (identity) {
    await sender.db.outbound.updateMany({
      where: { id, status: "queued", claimedBy: sender.worker, toIdentity: null },
      data: { toIdentity: identity },
    });
  }
  return identity;
}

/**
 * The recipient opted out: failed with reason opted_out, no delivery failure counted. When a provider said so (it
 * refused the send), the consent copy stops the address at once (whether or not identity finds someone to opt out)
 * and `reported` tells the identity service, in the same transaction.
 */
async function optOut(sender: Sender, id: string, log: Logger, reported?: OptOutReported): Promise<void> {
  const recorded = await endUnsent(sender.db, id, async (tx) => {
    const failed = await recordOptedOut(tx, id, sender.worker);
    if (failed && reported) {
      await recordConsent(tx, [reported.address], true, "stop", reported.at);
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

/**
 * An outbound to an identity with no address to send to: failed (with its delivery report, as any failure), and
 * Seed's `identity.no_address` hook, in the same transaction.
 */
async function failNoAddress(sender: Sender, id: string, toIdentity: string | null, log: Logger) {
  const failed = await endUnsent(sender.db, id, async (tx) => {
    const done = await recordFailed(tx, id, sender.worker, NO_ADDRESS);
    if (done && toIdentity) {
      await publish(tx, { hook: "identity.no_address", data: { to_identity: toIdentity } });
    }
    return done;
  });
  if (failed) {
    log.warn({ outboundId: id, reason: NO_ADDRESS }, "outbound failed");
  }
}

async function expire(sender: Sender, id: string, log: Logger): Promise<void> {
  if (await endUnsent(sender.db, id, async (tx) => (await recordExpired(tx, [id], sender.worker)) > 0)) {
    log.info({ outboundId: id }, "outbound expired before it could be sent");
  }
}

/** Not to be sent before `wait`: deferred until then (the poller sends it again), or expired if it expires first. */
async function deferOrExpire(
  sender: Sender,
  id: string,
  expiresAt: Date | null,
  wait: Date,
  log: Logger,
  { reason }: { reason: string },
): Promise<void> {
  if (expiresAt && wait >= expiresAt) {
    await expire(sender, id, log);
    return;
  }
  await defer(sender, id, wait, reason);
  log.info({ outboundId: id, notBefore: wait.toISOString() }, `${reason}; deferred`);
}
