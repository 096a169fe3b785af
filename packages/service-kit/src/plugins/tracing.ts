import { context, propagation, type Span, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { tracer } from "@tidings/amqp";
import type { FastifyRequest } from "fastify";
import fp from "fastify-plugin";

/**
 * A server span for every request, continuing the caller's trace (`traceparent`), active while the request is
 * handled: what it publishes (directly or through the outbox) is part of the same trace. A no-op unless the process
 * started tracing (startTracing).
 */
export const tracingPlugin = fp(
  async (app) => {
    const spans = new WeakMap<FastifyRequest, Span>();
    app.addHook("onRequest", (request, _reply, done) => {
      const parent = propagation.extract(context.active(), request.headers);
      const span = tracer.startSpan(
        `${request.method} ${request.routeOptions.url ?? "unmatched"}`,
        {
          kind: SpanKind.SERVER,
          attributes: { "http.request.method": request.method, "http.route": request.routeOptions.url ?? "" },
        },
        parent,
      );
      spans.set(request, span);
      // The rest of the request's lifecycle (hooks, handler, and everything they await) runs in the span's context.
      context.with(trace.setSpan(parent, span), done);
    });
    app.addHook("onResponse", (request, reply, done) => {
      const span = spans.get(request);
      span?.setAttribute("http.response.status_code", reply.statusCode);
      if (reply.statusCode >= 500) {
        span?.setStatus({ code: SpanStatusCode.ERROR });
      }
      span?.end();
      done();
    });
  },
  { name: "tidings-tracing" },
);
