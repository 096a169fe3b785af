/**
 * Tracing, in-process with OpenTelemetry's SDK and an in-memory exporter: a hub's POST /api/v1/outbound/ and
 * everything it causes (the outbox row, the relay's publish, the worker's consume, the provider call and the status
 * events) are one trace, carried in AMQP headers (traceparent) and in the outbox row between them.
 */
import { NodeSDK } from "@opentelemetry/sdk-node";
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from "@opentelemetry/sdk-trace";
import { adminAuth, serviceTest, waitFor } from "@tidings/testing";
import { describe, expect } from "vitest";
import { messageSenderService } from "../src/service.ts";
import { msisdn } from "./helpers.ts";

const exporter = new InMemorySpanExporter();

const it = serviceTest(messageSenderService, { worker: true }).extend<{ spans: InMemorySpanExporter }>({
  spans: [
    // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from its first parameter.
    async ({}, use) => {
      const sdk = new NodeSDK({
        serviceName: "tidings-test",
        spanProcessors: [new SimpleSpanProcessor({ exporter })],
        metricReaders: [],
        logRecordProcessors: [],
      });
      sdk.start();
      try {
        await use(exporter);
      } finally {
        await sdk.shutdown();
      }
    },
    { scope: "file", auto: true },
  ],
});

const SPAN_KIND = { SERVER: 1, CLIENT: 2, PRODUCER: 3, CONSUMER: 4 } as const;

/** The span's ancestors' names, nearest first, within the exported spans. */
function ancestry(span: ReadableSpan, all: ReadableSpan[]): string[] {
  const names: string[] = [];
  let parentId = span.parentSpanContext?.spanId;
  while (parentId) {
    const parent = all.find((s) => s.spanContext().spanId === parentId);
    if (!parent) {
      break;
    }
    names.push(parent.name);
    parentId = parent.parentSpanContext?.spanId;
  }
  return names;
}

describe("tracing", () => {
  it("makes a POST /api/v1/outbound/ and its send by the worker one trace", async ({ svc, spans }) => {
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const send = (headers: Record<string, string>) =>
      svc.app.inject({
        method: "POST",
        url: "/api/v1/outbound/",
        headers: { ...adminAuth, ...headers },
        payload: { to_addr: msisdn(), content: "traced", metadata: {} },
      });
    // One continuing the hub's trace (its traceparent), one starting its own.
    const traced = await send({ traceparent: `00-${traceId}-00f067aa0ba902b7-01` });
    const other = await send({});
    expect([traced.statusCode, other.statusCode]).toEqual([201, 201]);
    // Until both sends were made and recorded: their consumer spans end once the handler (and its status change)
    // did, and the relay publishes the status events after that.
    const providerSpans = await waitFor(
      () => {
        const done = spans.getFinishedSpans();
        const found = done.filter((s) => s.name === "provider send log");
        const recorded = found.every((s) => ancestry(s, done).length === 3);
        // The traced send's own event: the relay may publish the other send's first (in another batch).
        const announced = done.some(
          (s) => s.name === "outbound.submitted publish" && s.spanContext().traceId === traceId,
        );
        return found.length === 2 && recorded && announced && found;
      },
      { what: "both sends, traced to the end", timeoutMs: 20_000 },
    );
    const all = spans.getFinishedSpans();
    const server = all.filter((s) => s.kind === SPAN_KIND.SERVER && s.name === "POST /api/v1/outbound/");
    expect(server).toHaveLength(2);
    expect(server.map((s) => s.spanContext().traceId)).toContain(traceId);
    const otherTrace = server.find((s) => s.spanContext().traceId !== traceId)?.spanContext().traceId;
    expect(otherTrace).toMatch(/^[0-9a-f]{32}$/);

    // Each request's provider call is in its own request's trace, under the worker's consume, under the relay's
    // publish, under the request.
    expect(providerSpans.map((s) => s.spanContext().traceId).sort()).toEqual([traceId, otherTrace].sort());
    for (const provider of providerSpans) {
      const chain = ancestry(provider, all);
      expect(chain).toEqual([
        expect.stringMatching(/^message-sender\.outbound-send.* process$/),
        "outbound.send publish",
        "POST /api/v1/outbound/",
      ]);
    }
    // The status events the send wrote (outbound.submitted, .delivered) are published in the same trace.
    const submitted = all.filter(
      (s) => s.name === "outbound.submitted publish" && s.spanContext().traceId === traceId,
    );
    expect(submitted).toHaveLength(1);
    expect(
      all.find((s) => s.kind === SPAN_KIND.CONSUMER && s.spanContext().traceId === traceId),
    ).toBeDefined();
  });
});
