/** A person's subscriptions (the subscription API's), read once for their page, and what they say of a message. */
import { useApi } from "../ui.tsx";

/** The person's subscriptions (shared by the page's subscriptions table and its messages: one request). */
export const usePersonSubscriptions = (identity: string) =>
  useApi(["subscriptions", identity], (c) =>
    c.subscription.GET("/api/v1/subscriptions/", { params: { query: { identity } } }),
  );

/** What a message says of where it came from: the subscription that sent it, and which message of its set it is. */
interface Origin {
  created_by_subscription?: string | null;
  sequence_number?: number | null;
}

/**
 * The set and position of a subscription's message ("Pregnancy SMS · message 12"), its set's label found among
 * `labels` (subscription id to its set's label); null for a message no subscription sent.
 */
export function originOf(message: Origin, labels: ReadonlyMap<string, string>): string | null {
  const subscription = message.created_by_subscription;
  if (!subscription) {
    return null;
  }
  const set = labels.get(subscription) || "A subscription";
  return message.sequence_number ? `${set} · message ${message.sequence_number}` : set;
}
