import type { Logger } from "pino";
import type { Stop } from "./lifecycle.ts";

/**
 * Whether tracing is on: an OTLP endpoint is configured (`OTEL_EXPORTER_OTLP_ENDPOINT`, or the traces-only
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) and `OTEL_SDK_DISABLED` is not `true`.
 */
export function tracingConfigured(env: Record<string, string | undefined>): boolean {
  const endpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  return Boolean(endpoint) && env.OTEL_SDK_DISABLED?.toLowerCase() !== "true";
}

/**
 * Starts OpenTelemetry's Node SDK for this process when tracing is configured (see tracingConfigured): spans of
 * the API's requests, every AMQP publish and consume (the context travels in the `traceparent` header, and with
 * outbox rows) and provider calls, exported over OTLP as the standard `OTEL_*` variables say (protocol, headers,
 * sampler). Off, the SDK is not even loaded and every span is a no-op. Returns its stop (which flushes the spans).
 */
export async function startTracing(
  serviceName: string,
  env: Record<string, string | undefined>,
  logger: Logger,
): Promise<Stop | undefined> {
  if (!tracingConfigured(env)) {
    return undefined;
  }
  const { NodeSDK } = await import("@opentelemetry/sdk-node");
  // Traces only: metrics are Prometheus' (/metrics) and logs pino's, so no OTLP metric reader or log processor.
  const sdk = new NodeSDK({ serviceName, instrumentations: [], metricReaders: [], logRecordProcessors: [] });
  sdk.start();
  logger.info("tracing on: spans exported over OTLP");
  return () => sdk.shutdown();
}
