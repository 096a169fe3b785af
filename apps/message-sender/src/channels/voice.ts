import { setTimeout as sleep } from "node:timers/promises";
import type { FailureKind } from "@tidings/contracts";
import type { Db } from "../db.ts";
import { type CallingHours, callingHoursOf } from "../outbound/calling-hours.ts";
import { DEFAULT_SEND_TIMEOUT_MS, PermanentSendError } from "../outbound/channel.ts";
import type { FailedReport } from "../outbound/redelivery.ts";
import { type ReportOutcome, reportFinal } from "../outbound/status.ts";
import { identityVoiceHours } from "../recipients/address-book.ts";
import { releaseCallSlot } from "./limits.ts";
import type { WebhookDeps, WebhookLog } from "./webhooks.ts";

// What the voice channels (twilio-voice, vonage-voice) share: the audio an outbound plays, how long a call holds
// its concurrency slot, and how a call's end is applied.

/** How long a call counts against its channel's concurrency_limit when its end is never reported (seconds). */
export const DEFAULT_MESSAGE_TIMEOUT_SECONDS = 600;

/** What a voice channel's configuration says of its timings. */
interface CallTimings {
  timeout_ms?: number;
  message_timeout?: number;
  status_callback?: string;
}

/**
 * A voice channel: its channel id, configuration, request timeout, how long a call holds its slot, and whether its
 * calls reach a played marker (only with `status_callback`: the marker is a request to it).
 */
export abstract class CallChannel<C extends CallTimings> {
  readonly timeoutMs: number;
  readonly holdsSlotMs: number;
  readonly marksPlayed: boolean;

  constructor(
    protected readonly channelId: string,
    protected readonly config: C,
  ) {
    this.timeoutMs = config.timeout_ms ?? DEFAULT_SEND_TIMEOUT_MS;
    this.holdsSlotMs = (config.message_timeout ?? DEFAULT_MESSAGE_TIMEOUT_SECONDS) * 1000;
    this.marksPlayed = config.status_callback !== undefined;
  }
}

/**
 * The audio an outbound's call plays, in order: `metadata.voice_speech_url` (Seed's key: a list of URLs, or one).
 * An outbound without one cannot be a call: PermanentSendError.
 */
export function speechUrls(metadata: Record<string, unknown>): string[] {
  const given = metadata.voice_speech_url;
  const urls = (Array.isArray(given) ? given : [given]).filter(
    (u): u is string => typeof u === "string" && /^https?:\/\//.test(u),
  );
  if (urls.length === 0) {
    throw new PermanentSendError("no voice_speech_url to play: a voice channel sends audio messages only");
  }
  return urls;
}

/** The channel types whose sends are calls. */
export const VOICE_CHANNEL_TYPES: ReadonlySet<string> = new Set(["twilio-voice", "vonage-voice"]);

/**
 * The days and hours the person takes calls (Seed's HelloMama `voice_days`, `voice_times`): the outbound's
 * `metadata.voice_days` / `voice_times` (a subscription's metadata, copied into its outbounds), else the
 * identity's `details.voice_days` / `voice_times` (the address book). Each is read on its own, so metadata may
 * give the days and the identity the hours. Undefined when neither says anything readable.
 */
export async function callingHoursFor(
  db: Db,
  metadata: Record<string, unknown>,
  identity: string | null,
): Promise<CallingHours | undefined> {
  const own = identity ? await identityVoiceHours(db, identity) : { voiceDays: null, voiceTimes: null };
  return callingHoursOf(metadata.voice_days ?? own.voiceDays, metadata.voice_times ?? own.voiceTimes);
}

/**
 * How long a call's `completed` waits for its played marker (which may reach us after it: the provider sends
 * both at about the same time) before the call counts as hung up early.
 */
export const PLAYED_GRACE_MS = 3000;
const PLAYED_POLL_MS = 100;

/**
 * A call that ended `completed` without its played marker: answered, but the person hung up before the audio
 * played to the end. Retried as an unanswered call is (the redelivery policy's `absent_subscriber`): a message
 * heard in part is not delivered.
 */
export const HUNG_UP_EARLY = "hung_up_early: the call completed before its audio played to the end";

/**
 * A call's played marker (its verified webhook: the provider reached it after every piece of audio played):
 * kept for the call's end to find; a repeat, or one after the call's end, changes nothing.
 */
export async function recordPlayed(
  db: Db,
  channelId: string,
  callId: string,
  outboundId: string,
  log: WebhookLog,
): Promise<"applied" | "unchanged"> {
  const added = await db.$executeRaw`
    INSERT INTO played_call (channel, provider_id, outbound_id) VALUES (${channelId}, ${callId}, ${outboundId})
    ON CONFLICT (channel, provider_id) DO NOTHING`;
  log.info({ channel: channelId, providerId: callId, outboundId }, "call played to the end");
  return added > 0 ? "applied" : "unchanged";
}

/** Whether the call's played marker came, waiting up to `graceMs` for it. */
async function played(db: Db, channelId: string, callId: string, graceMs: number): Promise<boolean> {
  const until = Date.now() + graceMs;
  for (;;) {
    const found = await db.playedCall.findUnique({
      where: { channel_providerId: { channel: channelId, providerId: callId } },
      select: { playedAt: true },
    });
    if (found || Date.now() >= until) {
      return found !== null;
    }
    await sleep(PLAYED_POLL_MS);
  }
}

/**
 * A call's end as reported (`completed`: delivered), unless its played marker did not come (waiting up to
 * `graceMs` for it): then it failed, HUNG_UP_EARLY. Also the reconciler's, for a call's status read back.
 */
export async function unlessHungUp(
  db: Db,
  channelId: string,
  callId: string,
  reported: CallEnd,
  graceMs: number,
): Promise<CallEnd> {
  return reported.delivered && !(await played(db, channelId, callId, graceMs))
    ? { delivered: false, reason: HUNG_UP_EARLY, kind: "absent_subscriber" }
    : reported;
}

/** A call that ended: answered and played to the end (delivered), or not, with its reason and failure kind. */
export interface CallEnd {
  delivered: boolean;
  reason: string | null;
  kind?: FailureKind;
}

/**
 * A call's end as a provider's event reports it (`status`), by the provider's table `ends` (a status -> null for
 * delivered, or the failure kind of a call that was not answered or not placed), or undefined while the call goes
 * on (a status not in `ends`).
 */
export function callEnd(
  provider: string,
  status: string,
  ends: Readonly<Record<string, FailureKind | null>>,
) {
  const kind = ends[status];
  if (kind === undefined) {
    return undefined;
  }
  return kind === null
    ? { delivered: true, reason: null }
    : ({ delivered: false, reason: `${provider} call ${status}`, kind } satisfies CallEnd);
}

/**
 * Applies a call's end (its webhook verified) as the final report of its provider id, then frees the concurrency
 * slot the call held (see sending/channel-gate.ts). On a channel whose calls reach a played marker (`marksPlayed`:
 * it has a status_callback) a `completed` call is delivered only when that marker came (before it, or within
 * PLAYED_GRACE_MS after): else it failed, HUNG_UP_EARLY.
 */
export async function receiveCallEnd(
  { db, redelivery }: WebhookDeps,
  channelId: string,
  callId: string,
  reported: CallEnd,
  log: WebhookLog,
  marksPlayed: boolean,
): Promise<ReportOutcome> {
  const end = marksPlayed ? await unlessHungUp(db, channelId, callId, reported, PLAYED_GRACE_MS) : reported;
  const failure: FailedReport | undefined = end.kind && { kind: end.kind, defaults: redelivery };
  const outcome = await reportFinal(db, channelId, callId, end.delivered, end.reason, failure);
  await releaseCallSlot(db, channelId, callId);
  log.info({ channel: channelId, providerId: callId, delivered: end.delivered, outcome }, "call ended");
  return outcome;
}
