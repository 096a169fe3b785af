/**
 * startTracing with an OTLP endpoint configured: the SDK starts and exports spans over OTLP (HTTP, protobuf) to the
 * endpoint, here a local receiver standing in for a collector; only traces (no OTLP metrics or logs).
 */
import { tracer } from "@tidings/amqp";
import { startHttpReceiver, testLogger, waitFor } from "@tidings/testing";
import { afterEach, describe, expect, it, vi } from "vitest";
import { startTracing } from "../src/tracing.ts";

afterEach(() => {
  vi.unstubAllEnvs();
});

describe("startTracing", () => {
  it("exports spans to OTEL_EXPORTER_OTLP_ENDPOINT, and starts nothing without it", async () => {
    expect(await startTracing("tidings-test", {}, testLogger())).toBeUndefined();
    const collector = await startHttpReceiver();
    try {
      vi.stubEnv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.url);
      const stop = await startTracing("tidings-test", process.env, testLogger());
      expect(stop).toBeDefined();
      tracer.startSpan("probe span").end();
      await stop?.(); // flushes
      const exported = await waitFor(() => collector.received.find((r) => r.path === "/v1/traces"), {
        what: "the spans exported",
      });
      expect(exported.headers["content-type"]).toBe("application/x-protobuf");
      expect(exported.body).toContain("probe span");
      expect(exported.body).toContain("tidings-test");
      expect(collector.received.map((r) => r.path)).toEqual(["/v1/traces"]);
    } finally {
      await collector.close();
    }
  });
});
