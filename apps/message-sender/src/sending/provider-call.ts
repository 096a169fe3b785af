import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import { tracer } from "@tidings/amqp";
import { Counter, Histogram } from "prom-client";
import type { ResolvedChannel } from "../channels/channel-cache.ts";
import { PermanentSendError, type SendResult, ThrottledError } from "../outbound/channel.ts";

// Every provider call goes through callProvider (from the channel gate): its latency and errors as metrics, and a
// client span in the outbound's trace.

const providerLatency = new Histogram({
  name: "tidings_provider_request_duration_seconds",
  help: "Provider send calls, by channel, channel type and outcome (accepted, refused, throttled, error)",
  labelNames: ["channel", "type", "outcome"] as const,
  buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
});

const providerErrors = new Counter({
  name: "tidings_provider_errors_total",
  help: "Provider send calls that failed, by channel, channel type and error code (the provider's, or the error's kind)",
  labelNames: ["channel", "type", "code"] as const,
});

/** An error code as a label: a provider's code (Twilio 21211, HTTP 503, ECONNRESET), else the error's class. */
export function errorCode(err: unknown): string {
  const { code, status, name } = (err ?? {}) as { code?: unknown; status?: unknown; name?: unknown };
  for (const candidate of [code, status]) {
    if (
      (typeof candidate === "string" || typeof candidate === "number") &&
      /^[A-Za-z0-9_.-]{1,32}$/.test(String(candidate))
    ) {
      return String(candidate);
    }
  }
  return typeof name === "string" && /^[A-Za-z]{1,40}$/.test(name) ? name : "unknown";
}

function outcomeOf(err: unknown): string {
  if (err instanceof ThrottledError) {
    return "throttled";
  }
  return err instanceof PermanentSendError ? "refused" : "error";
}

/** Calls the provider through `channel` (`send`), timed, counted and traced. */
export function callProvider(channel: ResolvedChannel, send: () => Promise<SendResult>): Promise<SendResult> {
  const labels = { channel: channel.id, type: channel.type };
  return tracer.startActiveSpan(`provider send ${channel.type}`, { kind: SpanKind.CLIENT }, async (span) => {
    span.setAttributes({ "tidings.channel": channel.id, "tidings.channel.type": channel.type });
    const stop = providerLatency.startTimer(labels);
    try {
      const result = await send();
      stop({ outcome: "accepted" });
      return result;
    } catch (err) {
      const code = errorCode(err);
      stop({ outcome: outcomeOf(err) });
      providerErrors.inc({ ...labels, code });
      span.setStatus({ code: SpanStatusCode.ERROR, message: code });
      throw err;
    } finally {
      span.end();
    }
  });
}
