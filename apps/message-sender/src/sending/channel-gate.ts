import { setTimeout as sleep } from "node:timers/promises";
import type { SendingWindow } from "@tidings/contracts";
import type { ResolvedChannel } from "../channels/channel-cache.ts";
import { holdSlotForCall, rateCost, releaseSlot, takeRate, takeSlot } from "../channels/limits.ts";
import {
  DEFAULT_SEND_TIMEOUT_MS,
  type OutboundToSend,
  type SendResult,
  ThrottledError,
} from "../outbound/channel.ts";
import { recipientZone } from "../outbound/timing.ts";
import { identityZone } from "../recipients/address-book.ts";
import { CLAIM_MARGIN_MS, ClaimRunningOutError, renewClaim } from "./claim.ts";
import type { ClaimClock } from "./claim-window.ts";
import { callProvider } from "./provider-call.ts";
import type { Sender } from "./sender.ts";

// The channel gate: whether a send may go through a channel now (its pause, its rate and concurrency limits, and
// what is left of the claim), and the recipient's zone its sending window and daily cap are counted in.

/**
 * Sends through one channel, first waiting out its pause if it is throttled: up to pauseMaxWaitMs the
 * message is held here (so this consumer takes no more work for the channel), beyond that it is retried.
 */
export async function sendThrough(
  sender: Sender,
  channel: ResolvedChannel,
  outbound: OutboundToSend,
  address: string,
  claim: ClaimClock,
): Promise<SendResult> {
  // Calls the provider if our claim will outlast the channel's longest send: a worker that stalled after claiming
  // (a slow database, a starved event loop, a wait below) must not send while another worker, seeing the claim
  // lapse, takes the outbound over. A claim still live but too short is renewed first (if its whole term is long
  // enough), so a send that waited here is not handed back to the queue.
  const sendWithinClaim = async () => {
    const needed = (channel.channel.timeoutMs ?? DEFAULT_SEND_TIMEOUT_MS) + CLAIM_MARGIN_MS;
    const runsOut = () => Date.now() + needed > claim.at + sender.claimTtlMs;
    if (
      runsOut() &&
      (needed >= sender.claimTtlMs || !(await renewClaim(sender, outbound.id, claim)) || runsOut())
    ) {
      throw new ClaimRunningOutError(
        `claim of outbound ${outbound.id} lapses before a send through ${channel.id} could time out`,
      );
    }
    return callProvider(channel, () => channel.channel.send(outbound, address));
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
  let held = false;
  try {
    const result = await sendWithinClaim();
    const { holdsSlotMs } = channel.channel;
    // A call holds its slot until it ends (or for holdsSlotMs), not only while it is placed.
    held = Boolean(
      holdsSlotMs &&
        result.providerId &&
        (await holdSlotForCall(sender.db, channel.id, slot, holder, result.providerId, holdsSlotMs).catch(
          () => false,
        )),
    );
    return result;
  } finally {
    // Never let a failed release turn a send into an error (and a retry): the lease lapses on its own.
    if (!held) {
      await releaseSlot(sender.db, channel.id, slot, holder).catch(() => undefined);
    }
  }
}

/**
 * The recipient's time zone, for sending windows and the daily cap: the identity's own, else the phone number's
 * country's, else the window's `timezone`, else UTC.
 */
export async function zoneOf(
  sender: Sender,
  window: SendingWindow | null,
  address: string,
  identity: string | null,
): Promise<string> {
  return recipientZone(window?.timezone, address, identity && (await identityZone(sender.db, identity)));
}
