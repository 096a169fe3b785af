import type { ReportOutcome } from "../../outbound/status.ts";
import { verifyTwilio } from "../twilio/webhooks.ts";
import { callEnd, receiveCallEnd, recordPlayed } from "../voice.ts";
import type { SignedRequest, WebhookDeps, WebhookLog } from "../webhooks.ts";
import type { TwilioCallStatusCallback, TwilioPlayedRequest } from "./wire.ts";

/**
 * A Twilio call's end (its CallStatus; https://www.twilio.com/docs/voice/api/call-resource#call-status-values):
 * `completed` (answered) is delivered when its played marker came (see receiveTwilioPlayed); `no-answer` and `busy` were not answered;
 * `failed` could not be placed; `canceled` was cancelled before it was answered. Others (queued, initiated,
 * ringing, in-progress) are progress: undefined.
 */
export const twilioCallEnd = (status: string) =>
  callEnd("twilio", status, {
    completed: null,
    "no-answer": "absent_subscriber",
    busy: "absent_subscriber",
    failed: "unroutable",
    canceled: "unknown",
  });

/**
 * A Twilio call status callback for a twilio-voice channel: verified by X-Twilio-Signature with the channel's auth
 * token (403 when it does not, nothing changes); a call's end is applied as its final report (a failure to the
 * channel's redelivery policy) and frees the call's concurrency slot; progress events change nothing.
 */
export async function receiveTwilioCallStatus(
  deps: WebhookDeps,
  channelId: string,
  request: SignedRequest,
  log: WebhookLog,
): Promise<ReportOutcome | "ignored"> {
  await verifyTwilio(deps.channels, channelId, request, log, ["twilio-voice"]);
  const { CallSid: sid, CallStatus: status } = request.params as TwilioCallStatusCallback &
    Record<string, string>;
  const end = twilioCallEnd(status);
  // Callbacks come only to a channel with a status_callback, whose calls reach the played marker.
  return end ? receiveCallEnd(deps, channelId, sid, end, log, true) : "ignored";
}

/** What a call's played marker is answered with: TwiML that ends the call. */
export const HANGUP_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>';

/**
 * A twilio-voice call's played marker: Twilio requests its TwiML's `<Redirect>` once every `<Play>` before it
 * finished. Verified by X-Twilio-Signature as the status callbacks are (403, nothing changes), then kept for the
 * call's end (see receiveCallEnd); a repeat changes nothing.
 */
export async function receiveTwilioPlayed(
  deps: WebhookDeps,
  channelId: string,
  outboundId: string,
  request: SignedRequest,
  log: WebhookLog,
): Promise<"applied" | "unchanged"> {
  await verifyTwilio(deps.channels, channelId, request, log, ["twilio-voice"]);
  const { CallSid: sid } = request.params as TwilioPlayedRequest & Record<string, string>;
  return recordPlayed(deps.db, channelId, sid, outboundId, log);
}
