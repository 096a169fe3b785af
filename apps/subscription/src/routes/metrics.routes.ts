import type { Api } from "@tidings/service-kit";
import { Gauge } from "prom-client";
import { estimateSends } from "../services/estimates.ts";
import type { RouteDeps } from "./deps.ts";

/**
 * Seed's `scheduled_metrics` (run by `POST /api/metrics/`): today's send estimate (UTC date) as the gauge
 * `subscription_send_estimate`, one series per message set.
 */
export function sendEstimateMetrics(app: Api, { db }: RouteDeps): void {
  const gauge = new Gauge({
    name: "subscription_send_estimate",
    help: "Messages the ready subscriptions will be sent today (UTC), per message set; set by POST /api/metrics/",
    labelNames: ["messageset"],
    registers: [app.metrics],
  });
  app.onScheduledMetrics(async () => {
    const estimates = await estimateSends(db, new Date().toISOString().slice(0, 10));
    gauge.reset();
    for (const estimate of estimates) {
      gauge.labels(String(estimate.messageset)).set(estimate.estimate_sends);
    }
  });
}
