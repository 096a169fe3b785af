import type { PublishedMessage } from "@tidings/amqp";
import type { Payload } from "@tidings/contracts";
import { Counter } from "prom-client";

const optOuts = new Counter({
  name: "tidings_optouts_total",
  help: "Opt-outs recorded, by request source (the first 50 seen; later ones as `other`) and type",
  labelNames: ["source", "type"] as const,
});

/** Distinct sources labelled before the rest are `other`: a source is the hub's text, the labels must stay few. */
const MAX_SOURCES = 50;
const sources = new Set<string>();

/**
 * A request source as a label: short, plain (with a letter: a number may be a phone number) and among the first
 * MAX_SOURCES seen, else `other`.
 */
export function sourceLabel(source: string | null | undefined): string {
  const value = (source ?? "").toLowerCase();
  if (!/^(?=.*[a-z])[a-z0-9_.:-]{1,40}$/.test(value)) {
    return value === "" ? "none" : "other";
  }
  if (!sources.has(value) && sources.size >= MAX_SOURCES) {
    return "other";
  }
  sources.add(value);
  return value;
}

/**
 * Counts the opt-outs the outbox relay published (optout.created): wherever one was recorded (the API, an inbound
 * STOP, an unsubscribe link), it is counted once its transaction committed.
 */
export function countPublished(messages: PublishedMessage[]): void {
  for (const { name, payload } of messages) {
    if (name === "optout.created") {
      const optOut = payload as Payload<"optout.created">;
      optOuts.inc({ source: sourceLabel(optOut.request_source), type: optOut.optout_type });
    }
  }
}
