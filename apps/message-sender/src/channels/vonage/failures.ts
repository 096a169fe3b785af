import type { FailureKind } from "@tidings/contracts";

// Vonage's status map for failures: what a delivery receipt's `err-code` says (Vonage's SMS delivery receipt error
// codes), as a failure kind the channel's redelivery policy retries or not.

/** Vonage DLR err-codes. Any other code (and none) is `unknown`. */
const VONAGE_FAILURE_KINDS: Readonly<Record<string, FailureKind>> = {
  "1": "unknown", // unknown
  "2": "absent_subscriber", // absent subscriber, temporary
  "3": "invalid_number", // absent subscriber, permanent
  "4": "blocked", // call barred by the user
  "5": "unroutable", // portability error
  "6": "blocked", // anti-spam rejection
  "7": "absent_subscriber", // handset busy
  "8": "network", // network error
  "9": "invalid_number", // illegal number
  "10": "blocked", // illegal message
  "11": "unroutable", // unroutable
  "12": "absent_subscriber", // destination unreachable
  "13": "blocked", // subscriber age restriction
  "14": "blocked", // number blocked by the carrier
  "15": "unknown", // pre-paid, insufficient funds
  "16": "queue_full", // gateway quota exceeded
  "50": "blocked", // entity filter
  "51": "blocked", // header filter
  "52": "blocked", // content filter
  "53": "opted_out", // consent filter
  "54": "blocked", // regulation error
  "99": "unknown", // general error
};

/** A failed Vonage receipt's failure kind: `expired` for an expired message, else by its err-code. */
export const vonageFailureKind = (status: string | undefined, errCode: string | undefined): FailureKind =>
  status === "expired" ? "expired" : (VONAGE_FAILURE_KINDS[errCode ?? ""] ?? "unknown");
