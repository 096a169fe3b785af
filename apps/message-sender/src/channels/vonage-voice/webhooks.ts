import { senderError } from "../../errors.ts";
import type { ReportOutcome } from "../../outbound/status.ts";
import { callEnd, receiveCallEnd, recordPlayed } from "../voice.ts";
import {
  type WebhookChannelType,
  type WebhookDeps,
  type WebhookLog,
  webhookChannelConfig,
} from "../webhooks.ts";
import { checkVonageJwt } from "./signature.ts";
import type { VonageCallEvent, VonagePlayedEvent, VonageVoiceChannelConfig } from "./wire.ts";

/**
 * A Vonage call's end (its event `status`; https://developer.vonage.com/en/voice/voice-api/concepts/call-flow):
 * `completed` (answered) is delivered when its played marker came (see receiveVonagePlayed); `timeout`, `unanswered` and `busy` were
 * not answered; `failed` and `rejected` could not be placed; `cancelled` was cancelled before it was answered.
 * Others (started, ringing, answered, machine) are progress: undefined.
 */
export const vonageCallEnd = (status: string) =>
  callEnd("vonage", status, {
    completed: null,
    timeout: "absent_subscriber",
    unanswered: "absent_subscriber",
    busy: "absent_subscriber",
    failed: "unroutable",
    rejected: "unroutable",
    cancelled: "unknown",
  });

/** A webhook of a Vonage application as its signature is checked: its Authorization header and the body as posted. */
export interface SignedEvent<Body = VonageCallEvent> {
  authorization: string | undefined;
  rawBody: Buffer;
  body: Body;
}

/**
 * The configuration of the `type` channel a Vonage application's webhook is for (404 for no such channel), once its
 * signed JWT verified (the channel's signature_secret, the body's hash, a recent `iat`; else 403 and nothing
 * changes).
 */
export async function verifyVonageJwt<T extends { signature_secret: string }>(
  deps: WebhookDeps,
  channelId: string,
  type: WebhookChannelType,
  event: Omit<SignedEvent<unknown>, "body">,
  log: WebhookLog,
): Promise<T> {
  const config = await webhookChannelConfig<T>(deps.channels, channelId, type);
  const check = checkVonageJwt(
    event.authorization,
    event.rawBody,
    config.signature_secret,
    deps.vonageMaxSkewMs,
  );
  if (check !== "valid") {
    log.warn({ channel: channelId, check }, `${type} webhook not signed as it should be; refused`);
    throw senderError("MESSAGE_SENDER_INVALID_SIGNATURE", "The webhook's signed JWT does not verify");
  }
  return config;
}

/**
 * A Vonage call event for a vonage-voice channel: verified by its signed JWT (the channel's signature_secret,
 * the body's hash, a recent `iat`; 403 when it does not, nothing changes); a call's end is applied as its final
 * report and frees the call's concurrency slot; progress events change nothing.
 */
export async function receiveVonageCallEvent(
  deps: WebhookDeps,
  channelId: string,
  event: SignedEvent,
  log: WebhookLog,
): Promise<ReportOutcome | "ignored"> {
  const config = await verifyVonageJwt<VonageVoiceChannelConfig>(deps, channelId, "vonage-voice", event, log);
  const end = vonageCallEnd(event.body.status);
  // Without a status_callback the NCCO has no notify (the events go to the application's event URL).
  const marksPlayed = config.status_callback !== undefined;
  return end ? receiveCallEnd(deps, channelId, event.body.uuid, end, log, marksPlayed) : "ignored";
}

/**
 * A vonage-voice call's played marker: Vonage posts its NCCO's `notify` once every `stream` before it finished.
 * Verified by its signed JWT as the call events are (403, nothing changes), then kept for the call's end (see
 * receiveCallEnd); a repeat changes nothing.
 */
export async function receiveVonagePlayed(
  deps: WebhookDeps,
  channelId: string,
  event: SignedEvent<VonagePlayedEvent>,
  log: WebhookLog,
): Promise<"applied" | "unchanged"> {
  await verifyVonageJwt<VonageVoiceChannelConfig>(deps, channelId, "vonage-voice", event, log);
  const { uuid, outbound } = event.body;
  const callId =
    uuid ??
    (await deps.db.outbound.findUnique({ where: { id: outbound }, select: { providerId: true } }))
      ?.providerId;
  if (!callId) {
    log.warn(
      { channel: channelId, outboundId: outbound },
      "played marker of an outbound with no call: ignored",
    );
    return "unchanged";
  }
  return recordPlayed(deps.db, channelId, callId, outbound, log);
}
