import type { FailureKind, RedeliveryPolicy, RedeliveryPolicyInput } from "@tidings/contracts";
import type { MessageSenderConfig } from "../config.ts";

// The redelivery policy: whether a failed delivery is tried again (another attempt of the same outbound, see
// anotherAttempt in status.ts) or is final, and when a message with no report at all is given up.

/** The failure kinds retried by default: the network, an absent subscriber, a full queue, an expiry in the provider. */
export const TRANSIENT_KINDS = ["network", "absent_subscriber", "queue_full", "expired", "unknown"] as const;

/** The reason (and failure kind) of an outbound given up with no final report past its channel's timeout. */
export const NO_REPORT = "no_report";

/** The policy of a channel that sets none of its own (REDELIVERY_* and NO_REPORT_TIMEOUT_SECONDS). */
export const defaultRedelivery = (config: MessageSenderConfig): RedeliveryPolicy => ({
  max_attempts: config.REDELIVERY_MAX_ATTEMPTS,
  backoff_seconds: config.REDELIVERY_BACKOFF_SECONDS.split(",").map(Number),
  retry_on: [...TRANSIENT_KINDS],
  no_report_timeout_seconds: config.NO_REPORT_TIMEOUT_SECONDS,
});

/** A channel's policy in force: its own fields (the `redelivery` column), the defaults for the others. */
export const effectivePolicy = (own: unknown, defaults: RedeliveryPolicy): RedeliveryPolicy => ({
  ...defaults,
  ...((own ?? {}) as RedeliveryPolicyInput),
});

/** A failed report as its provider's status map classified it, and the policy of channels that set none. */
export interface FailedReport {
  kind: FailureKind;
  defaults: RedeliveryPolicy;
}

/** What the policy looks at of an outbound whose attempt failed. */
export interface AttemptFacts {
  attempts: number;
  attempt_base: number;
  expires_at: Date | null;
  sensitive: boolean;
  redacted: boolean;
}

/**
 * When the next attempt of an outbound whose latest attempt failed goes out (now + the backoff) under its channel's
 * own policy (`own`: its `redelivery` column, as read), or undefined when the failure is final: its kind is not
 * retried by the policy, its attempts since it was last (re)sent are used up, the next attempt would come after
 * `expires_at`, or it is sensitive or redacted (its content was cleared once it was sent, or by a redaction: there is
 * nothing to send again).
 */
export function retryUnder(
  own: unknown,
  outbound: AttemptFacts,
  failure: FailedReport,
  now = new Date(),
): Date | undefined {
  if (outbound.sensitive || outbound.redacted) {
    return undefined;
  }
  const policy = effectivePolicy(own, failure.defaults);
  const made = outbound.attempts - outbound.attempt_base;
  if (!(policy.retry_on as FailureKind[]).includes(failure.kind) || made >= policy.max_attempts) {
    return undefined;
  }
  const { backoff_seconds: backoff } = policy;
  const wait = backoff[Math.max(0, Math.min(made - 1, backoff.length - 1))] ?? 0;
  const at = new Date(now.getTime() + wait * 1000);
  return outbound.expires_at && at >= outbound.expires_at ? undefined : at;
}
