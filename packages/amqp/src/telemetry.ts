import { type Context, context, propagation, ROOT_CONTEXT, trace } from "@opentelemetry/api";
import { Counter, Histogram } from "prom-client";

// The messaging side of a process's telemetry. Metrics go to prom-client's default registry (served at /metrics by
// every API and worker process, see @tidings/service-kit); spans go to the OpenTelemetry SDK when a process started
// one (service-kit's startTracing), and are no-ops otherwise.

/** The tracer of every Tidings span; a no-op until an SDK is registered. */
export const tracer = trace.getTracer("tidings");

/** Messages a consumer finished with, by queue and outcome: acked, sent to retry, or dead-lettered. */
export const handledMessages = new Counter({
  name: "tidings_amqp_messages_handled_total",
  help: "Messages consumed, by queue and outcome (ack, retry, dead_letter)",
  labelNames: ["queue", "outcome"] as const,
});

/** How long a handler took, by queue (whatever its outcome). */
export const handleDuration = new Histogram({
  name: "tidings_amqp_handle_duration_seconds",
  help: "Time a consumer's handler took, by queue",
  labelNames: ["queue"] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
});

/** Outbox rows the relay published, by message name. */
export const outboxPublished = new Counter({
  name: "tidings_outbox_published_total",
  help: "Outbox messages the relay published (and deleted once confirmed), by message name",
  labelNames: ["name"] as const,
});

export type TraceCarrier = Record<string, string>;

/** The active trace context as W3C headers (traceparent, tracestate); undefined when there is none. */
export function activeTraceCarrier(): TraceCarrier | undefined {
  const carrier: TraceCarrier = {};
  propagation.inject(context.active(), carrier);
  return Object.keys(carrier).length > 0 ? carrier : undefined;
}

/** The trace context carried in AMQP headers or an outbox row; the root context when there is none. */
export function traceContextFrom(carrier: Record<string, unknown> | null | undefined): Context {
  if (!carrier) {
    return ROOT_CONTEXT;
  }
  return propagation.extract(ROOT_CONTEXT, carrier, {
    keys: (c) => Object.keys(c),
    get: (c, key) => (c[key] === undefined || c[key] === null ? undefined : String(c[key])),
  });
}
