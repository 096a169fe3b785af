import type { PublishedMessage } from "@tidings/amqp";
import type { OutboundStatusChanged } from "@tidings/contracts";
import { Counter } from "prom-client";
import { NO_ADDRESS, OPTED_OUT } from "./channel.ts";

// The message sender's message counts (prom-client's default registry, served at /metrics). Labels are the
// channel (a name an admin chose: a handful), the priority lane and a reason from a fixed list: never an address or
// an id. Status changes are counted from the events they wrote (outbound.submitted, .delivered, .failed) once the
// outbox relay published them, so a change is counted if and only if it committed, wherever it was made.

const labels = ["channel", "priority"] as const;

export const accepted = new Counter({
  name: "tidings_messages_accepted_total",
  help: "Outbounds stored to be sent (from the API, batches and outbound.send), by channel and priority",
  labelNames: labels,
});
const sent = new Counter({
  name: "tidings_messages_sent_total",
  help: "Outbounds a provider accepted (submitted), by channel and priority",
  labelNames: labels,
});
const delivered = new Counter({
  name: "tidings_messages_delivered_total",
  help: "Outbounds reported delivered, by channel and priority",
  labelNames: labels,
});
const failed = new Counter({
  name: "tidings_messages_failed_total",
  help: "Outbounds that failed or were cancelled, by channel, priority and reason (see the README)",
  labelNames: [...labels, "reason"] as const,
});
const expired = new Counter({
  name: "tidings_messages_expired_total",
  help: "Outbounds that expired unsent, by channel and priority",
  labelNames: labels,
});

const KNOWN_REASONS: Record<string, string> = {
  [OPTED_OUT]: "opted_out",
  [NO_ADDRESS]: "no_address",
  forgotten: "forgotten",
};

/**
 * A failure's reason as a label: a reason from the fixed list; `cancelled`; `provider_report` for a provider's
 * failure report (the outbound had a provider id; tidings_provider_errors_total has the codes of refused sends); else
 * `not_sent` (refused by the provider, no usable address, or given up after repeated passing failures).
 */
export function reasonLabel(
  change: Pick<OutboundStatusChanged, "status" | "reason" | "provider_id">,
): string {
  const known = change.reason === null ? undefined : KNOWN_REASONS[change.reason];
  if (known) {
    return known;
  }
  if (change.status === "cancelled") {
    return "cancelled";
  }
  return change.provider_id === null ? "not_sent" : "provider_report";
}

const STATUS_EVENTS = new Set(["outbound.submitted", "outbound.delivered", "outbound.failed"]);

/**
 * Counts the status events the relay published, by the priority they carry (events written before they carried
 * it count as `unknown`). No database read: it runs for every batch the relay publishes. (Acceptance is counted
 * where outbounds are stored: the API, batches and outbound.send's first delivery; an outbound.send re-enqueued
 * when due or requeued is no new acceptance.)
 */
export function countPublished(messages: PublishedMessage[]): void {
  for (const { name, payload } of messages) {
    if (STATUS_EVENTS.has(name)) {
      const change = payload as OutboundStatusChanged;
      countChange(change, change.priority ?? "unknown");
    }
  }
}

function countChange(change: OutboundStatusChanged, priority: string): void {
  const base = { channel: change.channel, priority };
  switch (change.status) {
    case "submitted":
      sent.inc(base);
      break;
    case "delivered":
      delivered.inc(base);
      break;
    case "expired":
      expired.inc(base);
      break;
    default:
      failed.inc({ ...base, reason: reasonLabel(change) });
  }
}
