import type { FailureKind } from "@tidings/contracts";

// Twilio's status map for failures: what each error code of a failed or undelivered message says (see
// https://www.twilio.com/docs/api/errors), as a failure kind the channel's redelivery policy retries or not.

/** Twilio error codes of failed/undelivered messages. Any other code (and none) is `unknown`. */
const TWILIO_FAILURE_KINDS: Readonly<Record<string, FailureKind>> = {
  "30001": "queue_full", // queue overflow
  "30002": "blocked", // account suspended
  "30003": "absent_subscriber", // unreachable destination handset (off, out of coverage)
  "30004": "blocked", // message blocked (by the recipient or the carrier)
  "30005": "invalid_number", // unknown destination handset
  "30006": "unroutable", // landline or unreachable carrier
  "30007": "blocked", // filtered by the carrier (spam)
  "30008": "unknown", // unknown error
  "30009": "network", // missing segment
  "30010": "blocked", // price exceeds the max price
  "30024": "blocked", // sender id not provisioned by the carrier
  "30032": "blocked", // toll-free number not verified
  "30034": "blocked", // unregistered (A2P 10DLC) number
  "21211": "invalid_number", // invalid To number
  "21408": "unroutable", // no permission to send to the region
  "21610": "opted_out", // the recipient replied STOP
  "21612": "unroutable", // no route between the numbers
  "21614": "unroutable", // not a mobile number
  // WhatsApp (a twilio-whatsapp channel with a fallback sends these by SMS instead: twilio-whatsapp/webhooks.ts)
  "63003": "unroutable", // no WhatsApp account at the To address
  "63005": "blocked", // content (a template) not accepted
  "63016": "blocked", // free text outside the 24-hour window
  "63024": "invalid_number", // invalid message recipient
};

/** A failed Twilio message (a status callback's, or a status lookup's): its reason and failure kind. */
export function twilioFailure(status: string, errorCode: string | number | null | undefined) {
  const code = errorCode === null || errorCode === undefined || errorCode === "" ? null : String(errorCode);
  return {
    reason: `twilio ${status}${code ? ` (error ${code})` : ""}`,
    kind: (code && TWILIO_FAILURE_KINDS[code]) || "unknown",
  } as const satisfies { reason: string; kind: FailureKind };
}
