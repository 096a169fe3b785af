/**
 * Seed's legacy per-subscription send against a real scheduler API: the subscription's old schedule (the one that
 * called it, before Seed 0.10) is disabled there, as Seed 0.10's SBM did.
 */
import { randomUUID } from "node:crypto";
import { adminAuth, closeAfter, startTestService, type TestService } from "@tidings/testing";
import { describe, expect, test } from "vitest";
import type { SchedulerConfig } from "../../scheduler/src/config.ts";
import type { Db as SchedulerDb } from "../../scheduler/src/db.ts";
import { schedulerService } from "../../scheduler/src/service.ts";
import { subscriptionService } from "../src/service.ts";
import type { Svc } from "./content-helpers.ts";

const it = test.extend<{ scheduler: TestService<SchedulerConfig, SchedulerDb>; svc: Svc }>({
  scheduler: [
    // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from its first parameter.
    async ({}, use) => closeAfter(await startTestService(schedulerService()), use),
    { scope: "file" },
  ],
  svc: [
    async ({ scheduler }, use) => {
      const address = await scheduler.app.listen({ port: 0, host: "127.0.0.1" });
      await closeAfter(
        await startTestService(subscriptionService, {
          namespace: scheduler.namespace,
          env: { SCHEDULER_URL: address },
        }),
        use,
      );
    },
    { scope: "file" },
  ],
});

/** A subscription as Seed's SBM made one before 0.10: its own schedule's id in its metadata. */
async function legacySubscription(svc: Svc, scheduleId: string): Promise<string> {
  const id = randomUUID();
  await svc.db.subscription.create({
    data: {
      id,
      identity: randomUUID(),
      messagesetId: 1,
      scheduleId: 1,
      lang: "eng_ZA",
      metadata: { scheduler_schedule_id: scheduleId },
    },
  });
  return id;
}

describe("Seed's legacy POST /subscriptions/{id}/send", () => {
  it("disables the subscription's old schedule at the scheduler, which then stops calling", async ({
    scheduler,
    svc,
  }) => {
    // The schedule Seed's SBM (<= 0.9) created for the subscription, as migrated to the scheduler.
    const created = await scheduler.app.inject({
      method: "POST",
      url: "/api/v1/schedule/",
      headers: adminAuth,
      payload: {
        cron_definition: "0 8 * * 1,3",
        endpoint: "http://127.0.0.1:9/api/v1/subscriptions/x/send",
        payload: {},
      },
    });
    expect(created.statusCode, created.body).toBe(201);
    const schedule = created.json().id as string;
    const sub = await legacySubscription(svc, schedule);

    const res = await svc.app.inject({
      method: "POST",
      url: `/api/v1/subscriptions/${sub}/send`,
      headers: { ...adminAuth, "content-type": "application/json" },
      payload: "{}",
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual({ accepted: true });
    const after = await scheduler.app.inject({ url: `/api/v1/schedule/${schedule}/`, headers: adminAuth });
    expect(after.json()).toMatchObject({ enabled: false, next_send_at: null });

    // A schedule the scheduler does not know: still 201, and nothing sent.
    const gone = await legacySubscription(svc, randomUUID());
    expect(
      (
        await svc.app.inject({
          method: "POST",
          url: `/api/v1/subscriptions/${gone}/send`,
          headers: adminAuth,
        })
      ).statusCode,
    ).toBe(201);
  });
});
