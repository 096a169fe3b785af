import fp from "fastify-plugin";
import { collectDefaultMetrics, Histogram, Registry } from "prom-client";
import { ApiError } from "../errors.ts";

/**
 * Prometheus metrics at `/metrics`: the process's default metrics and every request's duration by route, method and
 * status, labelled with the service.
 */
export const metricsPlugin = fp<{ service: string }>(
  async (app, { service }) => {
    const registry = new Registry();
    registry.setDefaultLabels({ service });
    collectDefaultMetrics({ register: registry });
    const duration = new Histogram({
      name: "http_request_duration_seconds",
      help: "HTTP request duration by route, method and status",
      labelNames: ["method", "route", "status"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    });
    app.addHook("onResponse", async (request, reply) => {
      duration
        .labels(request.method, request.routeOptions.url ?? "unmatched", String(reply.statusCode))
        .observe(reply.elapsedTime / 1000);
    });
    app.get("/metrics", { config: { public: true }, schema: { hide: true } }, async (request, reply) => {
      // Internal only (as in Seed): a request that came through a proxy chain is refused.
      if (String(request.headers["x-forwarded-for"] ?? "").includes(",")) {
        throw new ApiError(403, "FORBIDDEN", "Metrics are internal.");
      }
      return reply.type(registry.contentType).send(await registry.metrics());
    });
  },
  { name: "tidings-metrics" },
);
