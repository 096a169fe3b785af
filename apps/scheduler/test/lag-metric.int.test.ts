/** tidings_scheduler_lag_seconds: how late the oldest due slot is, read from the database on scrape. */
import { adminAuth, serviceTest } from "@tidings/testing";
import { Registry } from "prom-client";
import { describe, expect } from "vitest";
import { registerSchedulerGauges } from "../src/metrics.ts";
import { schedulerService } from "../src/service.ts";

let now = new Date("2026-03-02T08:00:30.000Z");
const clock = () => now;

// The API alone: no ticker fires what falls due.
const it = serviceTest(schedulerService(clock));

async function lag(registry: Registry): Promise<number | undefined> {
  const [metric] = (await registry.getMetricsAsJSON()) as { name: string; values: { value: number }[] }[];
  return metric?.name === "tidings_scheduler_lag_seconds" ? metric.values[0]?.value : undefined;
}

describe("tidings_scheduler_lag_seconds", () => {
  it("is 0 while nothing is due, then how long the oldest due slot has waited", async ({ svc }) => {
    // Each registry reads once per SCRAPE_CACHE_MS: a fresh one per reading here.
    const reading = () => {
      const registry = new Registry();
      registerSchedulerGauges(registry, svc.db, clock);
      return lag(registry);
    };
    const created = await svc.app.inject({
      method: "POST",
      url: "/api/v1/schedule/",
      headers: adminAuth,
      payload: { cron_definition: "* * * * *", payload: {} },
    });
    expect(created.statusCode).toBe(201);
    expect(await reading()).toBe(0); // its next slot is 08:01, in the future
    now = new Date("2026-03-02T08:03:30.000Z");
    expect(await reading()).toBe(150); // 08:01 due 2.5 minutes ago, not fired
    await svc.db.schedule.updateMany({ data: { enabled: false } });
    expect(await reading()).toBe(0); // a disabled schedule is never late
  });
});
