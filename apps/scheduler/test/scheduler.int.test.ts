import type { ScheduleFired } from "@tidings/contracts";
import { adminAuth, startTestService, type TestService } from "@tidings/service-kit/testing";
import { type Capture, captureMessages, testLogger, waitFor } from "@tidings/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SchedulerConfig } from "../src/config.ts";
import { createDb, type Db } from "../src/db.ts";
import { schedulerService } from "../src/service.ts";
import { Ticker } from "../src/ticker.ts";

let now = new Date("2026-03-02T08:00:30.000Z");
const clock = () => now;

let svc: TestService<SchedulerConfig, Db>;
let capture: Capture;

beforeAll(async () => {
  // The interval ticker is kept out of the way: tests drive ticks themselves.
  svc = await startTestService(schedulerService(clock), { worker: true, env: { TICK_INTERVAL_MS: "60000" } });
  capture = await captureMessages(svc.namespace, ["schedule.fired"]);
});
afterAll(async () => {
  await capture?.stop();
  await svc?.close();
});

const post = (payload: object) =>
  svc.app.inject({ method: "POST", url: "/api/v1/schedule/", headers: adminAuth, payload });

describe("schedules API", () => {
  it("creates a cron schedule with its next slot in its time zone", async () => {
    const res = await post({
      cron_definition: "0 9 * * 1",
      timezone: "Africa/Johannesburg",
      payload: { a: 1 },
    });
    expect(res.statusCode).toBe(201);
    // Monday 2026-03-02 09:00 in Johannesburg (UTC+2) is 07:00Z, already past at 08:00:30Z: next Monday.
    expect(res.json()).toMatchObject({
      enabled: true,
      source: null,
      payload: { a: 1 },
      next_send_at: "2026-03-09T07:00:00.000Z",
      last_run: null,
    });
  });

  it.each([
    [{ cron_definition: "61 * * * *" }, "cron_definition"],
    [{ cron_definition: "* * * *  " }, "cron_definition"],
    [{ cron_definition: "0 9 * * 1", timezone: "Mars/Olympus" }, "timezone"],
  ])("rejects %j with 400 naming %s, storing nothing", async (body, field) => {
    const before = await svc.db.schedule.count();
    const res = await post(body);
    expect(res.statusCode).toBe(400);
    const error = res.json().error;
    expect(error.code).toMatch(/VALIDATION_FAILED|SCHEDULER_INVALID_SCHEDULE/);
    expect(JSON.stringify(error.details)).toContain(field);
    expect(await svc.db.schedule.count()).toBe(before);
  });

  it("moves next_send_at when the cron changes (Seed kept firing the old one)", async () => {
    const created = (await post({ cron_definition: "0 9 * * 1" })).json();
    const res = await svc.app.inject({
      method: "PATCH",
      url: `/api/v1/schedule/${created.id}/`,
      headers: adminAuth,
      payload: { cron_definition: "15 10 * * *" },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().next_send_at).toBe("2026-03-02T10:15:00.000Z");
    const missing = await svc.app.inject({
      method: "PATCH",
      url: "/api/v1/schedule/00000000-0000-4000-8000-000000000000/",
      headers: adminAuth,
      payload: { enabled: false },
    });
    expect(missing.statusCode).toBe(404);
  });
});

describe("content schedule mirror", () => {
  const content = {
    id: 7,
    minute: "0",
    hour: "8",
    day_of_week: "1,4",
    day_of_month: "*",
    month_of_year: "*",
    timezone: "UTC",
    cron_definition: "0 8 * * 1,4",
    created_at: "2026-03-01T00:00:00.000Z",
    updated_at: "2026-03-01T00:00:00.000Z",
  };
  const mirrored = () =>
    svc.db.schedule.findUnique({
      where: { sourceService_sourceRef: { sourceService: "content", sourceRef: "7" } },
    });

  it("creates, updates, ignores stale versions, and disables on delete", async () => {
    await svc.broker.publish("content.schedule.changed", content);
    const first = await waitFor(mirrored, { what: "mirrored schedule" });
    expect(first).toMatchObject({ cronDefinition: "0 8 * * 1,4", enabled: true });
    expect(first.nextSendAt?.toISOString()).toBe("2026-03-05T08:00:00.000Z");

    await svc.broker.publish("content.schedule.changed", {
      ...content,
      hour: "9",
      cron_definition: "0 9 * * 1,4",
      updated_at: "2026-03-01T02:00:00.000Z",
    });
    await waitFor(async () => (await mirrored())?.cronDefinition === "0 9 * * 1,4", { what: "update" });
    // An older version delivered late changes nothing.
    await svc.broker.publish("content.schedule.changed", {
      ...content,
      updated_at: "2026-03-01T01:00:00.000Z",
    });
    await svc.broker.publish("content.schedule.deleted", { id: 7 });
    await waitFor(async () => (await mirrored())?.enabled === false, { what: "disabled" });
    expect((await mirrored())?.cronDefinition).toBe("0 9 * * 1,4");
    expect(await svc.db.schedule.count({ where: { sourceRef: "7" } })).toBe(1);
  });
});

describe("firing", () => {
  it("fires every slot exactly once with three competing tickers, and the latest missed slot after downtime", async () => {
    await svc.db.schedule.updateMany({ data: { enabled: false } });
    now = new Date("2026-03-02T08:00:30.000Z");
    const created = (await post({ cron_definition: "*/5 * * * *", payload: { k: "v" } })).json();
    const clients = [
      createDb(svc.config.DATABASE_URL),
      createDb(svc.config.DATABASE_URL),
      createDb(svc.config.DATABASE_URL),
    ];
    const tickers = clients.map((db) => new Ticker(db, testLogger(), clock));
    try {
      // 60 simulated minutes, each tick raced by all three tickers, twice.
      for (let minute = 1; minute <= 60; minute++) {
        now = new Date(Date.parse("2026-03-02T08:00:30.000Z") + minute * 60_000);
        await Promise.all([...tickers, ...tickers].map((t) => t.tick()));
      }
      const expectedSlots = Array.from({ length: 12 }, (_, i) =>
        new Date(Date.parse("2026-03-02T08:05:00.000Z") + i * 5 * 60_000).toISOString(),
      );
      const runs = await svc.db.scheduleRun.findMany({
        where: { scheduleId: created.id },
        orderBy: { slot: "asc" },
      });
      expect(runs.map((r) => r.slot.toISOString())).toEqual(expectedSlots);

      const fired = () =>
        capture.named<ScheduleFired>("schedule.fired").filter((m) => m.schedule_id === created.id);
      await waitFor(() => fired().length >= 12, { what: "12 schedule.fired" });
      expect(
        fired()
          .map((m) => m.slot)
          .sort(),
      ).toEqual(expectedSlots);
      expect(fired()[0]).toMatchObject({ manual: false, source: null, payload: { k: "v" } });

      // Down for 42 minutes: only the latest missed slot fires, then the schedule carries on.
      now = new Date("2026-03-02T09:42:00.000Z");
      await Promise.all(tickers.map((t) => t.tick()));
      const after = await svc.db.scheduleRun.findMany({
        where: { scheduleId: created.id },
        orderBy: { slot: "desc" },
      });
      expect(after).toHaveLength(13);
      expect(after[0]?.slot.toISOString()).toBe("2026-03-02T09:40:00.000Z");
      const schedule = await svc.db.schedule.findUniqueOrThrow({ where: { id: created.id } });
      expect(schedule.nextSendAt?.toISOString()).toBe("2026-03-02T09:45:00.000Z");
      await new Promise((r) => setTimeout(r, 500));
      expect(fired()).toHaveLength(13);
    } finally {
      await Promise.all(clients.map((c) => c.$disconnect()));
    }
  });

  it("does not fire disabled schedules", async () => {
    const created = (await post({ cron_definition: "* * * * *", enabled: false })).json();
    now = new Date(now.getTime() + 10 * 60_000);
    await new Ticker(svc.db, testLogger(), clock).tick();
    expect(await svc.db.scheduleRun.count({ where: { scheduleId: created.id } })).toBe(0);
  });
});

describe("POST /api/v1/schedule/{id}/fire/", () => {
  it("fires one manual slot now and publishes schedule.fired; 404 for an unknown schedule", async () => {
    const created = (await post({ cron_definition: "0 0 1 1 *", payload: { m: 1 } })).json();
    now = new Date("2026-06-01T12:34:56.789Z");
    const res = await svc.app.inject({
      method: "POST",
      url: `/api/v1/schedule/${created.id}/fire/`,
      headers: adminAuth,
    });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ slot: "2026-06-01T12:34:56.789Z" });
    const event = await waitFor(
      () => capture.named<ScheduleFired>("schedule.fired").find((m) => m.schedule_id === created.id),
      { what: "manual schedule.fired" },
    );
    expect(event).toMatchObject({ manual: true, slot: "2026-06-01T12:34:56.789Z", payload: { m: 1 } });
    const runs = await svc.db.scheduleRun.findMany({ where: { scheduleId: created.id } });
    expect(runs).toMatchObject([{ manual: true }]);
    const missing = await svc.app.inject({
      method: "POST",
      url: "/api/v1/schedule/00000000-0000-4000-8000-000000000000/fire/",
      headers: adminAuth,
    });
    expect(missing.statusCode).toBe(404);
  });
});
