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

type Scheduler = TestService<SchedulerConfig, SchedulerDb>;

const it = test.extend<{ scheduler: Scheduler; svc: Svc }>({
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
async function legacySubscription(svc: Svc, scheduleId: string, id: string = randomUUID()): Promise<string> {
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

/** A schedule at the scheduler (created with the admin token), its id. */
async function schedulerSchedule(scheduler: Scheduler, endpoint: string) {
  const created = await scheduler.app.inject({
    method: "POST",
    url: "/api/v1/schedule/",
    headers: adminAuth,
    payload: { cron_definition: "0 8 * * 1,3", payload: {}, endpoint },
  });
  expect(created.statusCode, created.body).toBe(201);
  return created.json().id as string;
}

const legacySend = (svc: Svc, sub: string) =>
  svc.app.inject({
    method: "POST",
    url: `/api/v1/subscriptions/${sub}/send`,
    headers: { ...adminAuth, "content-type": "application/json" },
    payload: "{}",
  });

describe("Seed's legacy POST /subscriptions/{id}/send", () => {
  it("disables the subscription's old schedule at the scheduler, which then stops calling", async ({
    scheduler,
    svc,
  }) => {
    // The schedule Seed's SBM (<= 0.9) created for the subscription (`<SBM>/api/v1/subscriptions/<id>/send`), as
    // migrated to the scheduler.
    const sub = randomUUID();
    const schedule = await schedulerSchedule(
      scheduler,
      `http://sbm.example.org/api/v1/subscriptions/${sub}/send`,
    );
    await legacySubscription(svc, schedule, sub);

    const res = await legacySend(svc, sub);
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual({ accepted: true });
    const after = await scheduler.app.inject({ url: `/api/v1/schedule/${schedule}/`, headers: adminAuth });
    expect(after.json()).toMatchObject({ enabled: false, next_send_at: null });

    // A schedule the scheduler does not know: still 201, and nothing sent.
    const gone = await legacySubscription(svc, randomUUID());
    expect((await legacySend(svc, gone)).statusCode).toBe(201);
  });

  it("leaves alone a schedule its metadata names that does not call this subscription's send", async ({
    scheduler,
    svc,
  }) => {
    const other = randomUUID();
    for (const endpointFor of [
      () => "https://hub.example.org/api/v1/tick/",
      () => `http://sbm.example.org/api/v1/subscriptions/${other}/send`,
      (sub: string) => `http://sbm.example.org/api/v1/subscriptions/${sub}/send/elsewhere`,
      (sub: string) => `http://sbm.example.org/api/v1/subscriptions/${sub}/sender`,
    ]) {
      const sub = randomUUID();
      const schedule = await schedulerSchedule(scheduler, endpointFor(sub));
      const before = await scheduler.db.schedule.findUniqueOrThrow({ where: { id: schedule } });
      // Metadata is any subscription token's to write: it names a schedule that is not this subscription's own.
      await legacySubscription(svc, schedule, sub);
      const res = await legacySend(svc, sub);
      expect(res.statusCode).toBe(201);
      expect(res.json()).toEqual({ accepted: true });
      expect(await scheduler.db.schedule.findUniqueOrThrow({ where: { id: schedule } })).toEqual(before);
      expect(before.enabled).toBe(true);
    }
  });
});
