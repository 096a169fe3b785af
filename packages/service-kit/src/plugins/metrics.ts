import fp from "fastify-plugin";
import { Histogram, type Registry } from "prom-client";
import { ApiError } from "../errors.ts";
import { processRegistry, scrapeRegistry } from "../telemetry.ts";

declare module "fastify" {
  interface FastifyInstance {
    /** The API's Prometheus registry: served at `/metrics`, its names listed at `/api/metrics/`. */
    metrics: Registry;
    /** Adds work that `POST /api/metrics/` runs (Seed's `scheduled_metrics`), such as setting a gauge. */
    onScheduledMetrics(run: () => Promise<void>): void;
  }
}

/**
 * Prometheus metrics at `/metrics`: the process's default metrics, every request's duration by route, method and
 * status, and the business metrics of the process (prom-client's default registry), labelled with the service. Seed's `/api/metrics/`, which its Control Interface polls: `GET` lists the names
 * of the registry's metrics (a service's own gauges too), `POST` runs the work services added with
 * `onScheduledMetrics`.
 */
export const metricsPlugin = fp<{ service: string }>(
  async (app, { service }) => {
    const registry = processRegistry();
    const duration = new Histogram({
      name: "http_request_duration_seconds",
      help: "HTTP request duration by route, method and status",
      labelNames: ["method", "route", "status"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    });
    const scheduled: Array<() => Promise<void>> = [];
    app.decorate("metrics", registry);
    app.decorate("onScheduledMetrics", (run: () => Promise<void>) => {
      scheduled.push(run);
    });
    app.addHook("onResponse", (request, reply, done) => {
      duration
        .labels(request.method, request.routeOptions.url ?? "unmatched", String(reply.statusCode))
        .observe(reply.elapsedTime / 1000);
      done();
    });
    app.get("/metrics", { config: { public: true }, schema: { hide: true } }, async (request, reply) => {
      // Internal only (as in Seed): a request that came through a proxy chain is refused.
      if (String(request.headers["x-forwarded-for"] ?? "").includes(",")) {
        throw new ApiError(403, "FORBIDDEN", "Metrics are internal.");
      }
      const scraped = scrapeRegistry(registry, service);
      return reply.type(scraped.contentType).send(await scraped.metrics());
    });
    app.get("/api/metrics/", { schema: { hide: true } }, async () => ({
      metrics_available: scrapeRegistry(registry, service)
        .getMetricsAsArray()
        .map((metric) => metric.name)
        .sort(),
    }));
    app.post(
      "/api/metrics/",
      { schema: { hide: true }, config: { idempotent: false } },
      async (_request, reply) => {
        for (const run of scheduled) {
          await run();
        }
        return reply.code(201).send({ scheduled_metrics_initiated: true });
      },
    );
  },
  { name: "tidings-metrics" },
);
