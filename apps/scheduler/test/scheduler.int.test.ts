import { randomUUID } from "node:crypto";
import type { ScheduleFired } from "@tidings/contracts";
import {
  adminAuth,
  type Capture,
  captureMessages,
  startTestService,
  type TestService,
  testLogger,
  waitFor,
} from "@tidings/testing";
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

describe("Seed's deprecated frequency and triggered", () => {
  // The bytes Seed's SBM (<= 0.9.30, `schedule_create`) POSTed for a subscription's own schedule.
  const seedBody =
    '{"frequency": 10, "cron_definition": "0 8 * * 1,3", ' +
    '"endpoint": "http://127.0.0.1:9/api/v1/subscriptions/5f3e2c1a-1b2c-4d3e-8f4a-5b6c7d8e9f00/send", ' +
    '"auth_token": "sbm-inbound-token", "payload": {}}';
  const send = (method: "POST" | "PUT" | "PATCH", url: string, payload: string) =>
    svc.app.inject({
      method,
      url,
      headers: { ...adminAuth, "content-type": "application/json" },
      payload,
    });

  it("stores and returns them on POST, PUT and PATCH, without enforcing them", async () => {
    const created = await send("POST", "/api/v1/schedule/", seedBody);
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ frequency: 10, triggered: 0, cron_definition: "0 8 * * 1,3" });
    const url = `/api/v1/schedule/${created.json().id}/`;

    const put = await send("PUT", url, '{"frequency": null, "triggered": 3, "enabled": true}');
    expect(put.statusCode).toBe(200);
    expect(put.json()).toMatchObject({ frequency: null, triggered: 3, cron_definition: "0 8 * * 1,3" });

    const patched = await send("PATCH", url, '{"frequency": 2}');
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({ frequency: 2, triggered: 3 });
    expect((await svc.app.inject({ method: "GET", url, headers: adminAuth })).json()).toMatchObject({
      frequency: 2,
      triggered: 3,
    });

    // Not enforced: a schedule past its `frequency` still has its next slot, and firing leaves `triggered`.
    const fired = await svc.app.inject({ method: "POST", url: `${url}fire/`, headers: adminAuth });
    expect(fired.statusCode).toBe(202);
    const after = (await svc.app.inject({ method: "GET", url, headers: adminAuth })).json();
    expect(after).toMatchObject({ frequency: 2, triggered: 3, enabled: true });
    expect(after.next_send_at).not.toBeNull();
  });

  it("refuses a frequency or triggered that is not an integer", async () => {
    for (const body of [
      '{"cron_definition": "0 8 * * 1", "frequency": "ten"}',
      '{"cron_definition": "0 8 * * 1", "triggered": null}',
    ]) {
      const res = await send("POST", "/api/v1/schedule/", body);
      expect(res.statusCode).toBe(400);
    }
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
    expect((await mirrored())?.nextSendAt).toBeNull();
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

  it("fires many schedules sharing an expression in one tick, past one claim batch", async () => {
    await svc.db.schedule.updateMany({ data: { enabled: false } });
    const ids = Array.from({ length: 250 }, () => randomUUID());
    await svc.db.schedule.createMany({
      data: ids.map((id) => ({
        id,
        cronDefinition: "0 12 * * *",
        nextCronAt: new Date("2026-03-10T12:00:00.000Z"),
        nextSendAt: new Date("2026-03-10T12:00:00.000Z"),
      })),
    });
    now = new Date("2026-03-10T12:00:02.000Z");
    expect(await new Ticker(svc.db, testLogger(), clock).tick()).toBe(250);
    expect(await svc.db.scheduleRun.count({ where: { scheduleId: { in: ids } } })).toBe(250);
    expect(
      await svc.db.schedule.count({
        where: { id: { in: ids }, nextSendAt: new Date("2026-03-11T12:00:00.000Z"), lastRun: now },
      }),
    ).toBe(250);
  });

  it("moves a schedule with unusable timing an hour on without blocking the others", async () => {
    await svc.db.schedule.updateMany({ data: { enabled: false } });
    const [bad, good] = [randomUUID(), randomUUID()];
    const due = new Date("2026-03-12T12:00:00.000Z");
    await svc.db.schedule.createMany({
      data: [
        { id: bad, cronDefinition: "not a cron", nextCronAt: due, nextSendAt: due },
        { id: good, cronDefinition: "0 12 * * *", nextCronAt: due, nextSendAt: due },
      ],
    });
    now = new Date("2026-03-12T12:00:05.000Z");
    expect(await new Ticker(svc.db, testLogger(), clock).tick()).toBe(1);
    expect(await svc.db.scheduleRun.count({ where: { scheduleId: good } })).toBe(1);
    const moved = await svc.db.schedule.findUniqueOrThrow({ where: { id: bad } });
    expect(moved.nextSendAt?.toISOString()).toBe("2026-03-12T13:00:05.000Z");
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

describe("interval schedules and validation", () => {
  it("creates an interval schedule whose slots count from its creation, fired by the ticker", async () => {
    now = new Date("2026-07-01T10:00:00.000Z");
    const res = await post({ interval_definition: "15 minutes", catch_up: "all" });
    expect(res.statusCode).toBe(201);
    const created = res.json();
    expect(created).toMatchObject({
      cron_definition: null,
      interval_definition: "15 minutes",
      catch_up: "all",
      next_send_at: "2026-07-01T10:15:00.000Z",
      endpoint: null,
      has_auth_token: false,
    });
    now = new Date("2026-07-01T10:31:00.000Z");
    await new Ticker(svc.db, testLogger(), clock).tick();
    const runs = await svc.db.scheduleRun.findMany({
      where: { scheduleId: created.id },
      orderBy: { slot: "asc" },
    });
    expect(runs.map((r) => [r.slot.toISOString(), r.trigger])).toEqual([
      ["2026-07-01T10:15:00.000Z", "interval"],
      ["2026-07-01T10:30:00.000Z", "interval"],
    ]);
    const after = (
      await svc.app.inject({ method: "GET", url: `/api/v1/schedule/${created.id}/`, headers: adminAuth })
    ).json();
    expect(after).toMatchObject({
      next_send_at: "2026-07-01T10:45:00.000Z",
      last_run: "2026-07-01T10:31:00.000Z",
    });
  });

  it("fires a schedule with both a cron and an interval for each", async () => {
    now = new Date("2026-07-02T00:00:00.000Z");
    const created = (
      await post({ cron_definition: "50 * * * *", interval_definition: "1 hours", catch_up: "all" })
    ).json();
    expect(created.next_send_at).toBe("2026-07-02T00:50:00.000Z");
    now = new Date("2026-07-02T02:00:30.000Z");
    await new Ticker(svc.db, testLogger(), clock).tick();
    const runs = await svc.db.scheduleRun.findMany({
      where: { scheduleId: created.id },
      orderBy: { slot: "asc" },
    });
    expect(runs.map((r) => `${r.slot.toISOString().slice(11, 16)} ${r.trigger}`)).toEqual([
      "00:50 cron",
      "01:00 interval",
      "01:50 cron",
      "02:00 interval",
    ]);
  });

  it.each([
    [
      { interval_definition: "5 fortnights" },
      "interval_definition",
      '"5 fortnights" is not a valid period. Accepted: days, hours, minutes, seconds',
    ],
    [{ interval_definition: "x minutes" }, "interval_definition", "is not a valid interval string"],
    [{ interval_definition: "0 seconds" }, "interval_definition", "the integer must be at least 1"],
    [{ cron_definition: "0 9 * * 1 2026" }, "cron_definition", "expected 5 fields"],
    [{ payload: {} }, "cron_definition", "needs a cron_definition or an interval_definition"],
    [{ cron_definition: null, interval_definition: null }, "cron_definition", "needs a cron_definition"],
    [{ interval_definition: "1 days", timezone: "Nowhere/Special" }, "timezone", "not an IANA time zone"],
    [{ interval_definition: "1 days", catch_up: "some" }, "catch_up", ""],
  ])("rejects %j with a 400 naming %s", async (body, field, message) => {
    const before = await svc.db.schedule.count();
    const res = await post(body);
    expect(res.statusCode).toBe(400);
    const error = res.json().error;
    expect(JSON.stringify(error.details)).toContain(field);
    expect(error.message).toContain(message);
    expect(await svc.db.schedule.count()).toBe(before);
  });

  it("refuses a PATCH that removes the last trigger, or sets a bad interval", async () => {
    const created = (await post({ interval_definition: "1 days" })).json();
    const patch = (payload: object) =>
      svc.app.inject({
        method: "PATCH",
        url: `/api/v1/schedule/${created.id}/`,
        headers: adminAuth,
        payload,
      });
    expect((await patch({ interval_definition: null })).statusCode).toBe(400);
    const bad = await patch({ interval_definition: "1 fortnights" });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe("SCHEDULER_INVALID_SCHEDULE");
  });

  it("changes future firings when the interval changes, and starts a re-enabled schedule from now", async () => {
    now = new Date("2026-08-01T00:00:00.000Z");
    const created = (await post({ interval_definition: "1 hours" })).json();
    const patch = async (payload: object) =>
      (
        await svc.app.inject({
          method: "PATCH",
          url: `/api/v1/schedule/${created.id}/`,
          headers: adminAuth,
          payload,
        })
      ).json();
    now = new Date("2026-08-01T00:20:00.000Z");
    expect((await patch({ interval_definition: "30 minutes" })).next_send_at).toBe(
      "2026-08-01T00:50:00.000Z",
    );
    expect(
      (await patch({ interval_definition: "30 minutes", cron_definition: "5 * * * *" })).next_send_at,
    ).toBe("2026-08-01T00:50:00.000Z");
    expect((await patch({ interval_definition: null })).next_send_at).toBe("2026-08-01T01:05:00.000Z");
    expect(await patch({ enabled: false })).toMatchObject({ enabled: false, next_send_at: null });
    // A disabled schedule keeps no pending slot, whatever else is changed.
    expect((await patch({ payload: { x: 1 } })).next_send_at).toBeNull();
    // Disabled for hours: nothing fires, and re-enabling does not catch up what came meanwhile.
    now = new Date("2026-08-01T05:30:00.000Z");
    await new Ticker(svc.db, testLogger(), clock).tick();
    expect(await svc.db.scheduleRun.count({ where: { scheduleId: created.id } })).toBe(0);
    expect((await patch({ enabled: true })).next_send_at).toBe("2026-08-01T06:05:00.000Z");
    await new Ticker(svc.db, testLogger(), clock).tick();
    expect(await svc.db.scheduleRun.count({ where: { scheduleId: created.id } })).toBe(0);
  });

  it("publishes schedule.added on create, without the auth token", async () => {
    const addedCapture = await captureMessages(svc.namespace, ["schedule.added"]);
    try {
      const created = (
        await post({
          cron_definition: "0 6 * * *",
          endpoint: "http://127.0.0.1:9/hook",
          auth_token: "s3cr3t-t0k3n",
        })
      ).json();
      const added = await waitFor(
        () => addedCapture.named<{ id: string }>("schedule.added").find((m) => m.id === created.id),
        { what: "schedule.added" },
      );
      expect(added).toMatchObject({
        cron_definition: "0 6 * * *",
        endpoint: "http://127.0.0.1:9/hook",
        next_send_at: created.next_send_at,
      });
      expect(JSON.stringify(addedCapture.messages)).not.toContain("s3cr3t-t0k3n");
      expect(added).not.toHaveProperty("auth_token");
    } finally {
      await addedCapture.stop();
    }
  });
});

describe("catch-up after an outage", () => {
  it("fires nothing, the latest, or every missed slot (bounded), as each schedule's policy says", async () => {
    await svc.db.schedule.updateMany({ data: { enabled: false } });
    now = new Date("2026-09-01T00:00:30.000Z");
    const ids: Record<string, string> = {};
    for (const catch_up of ["none", "latest", "all"]) {
      ids[catch_up] = (await post({ cron_definition: "*/10 * * * *", catch_up })).json().id;
    }
    const tickers = [1, 2, 3].map(
      () =>
        new Ticker(svc.db, testLogger(), clock, {
          missedAfterMs: 60_000,
          maxSlots: 5,
          maxAgeMs: 24 * 3_600_000,
        }),
    );
    const slotsOf = async (id: string | undefined) =>
      (await svc.db.scheduleRun.findMany({ where: { scheduleId: id }, orderBy: { slot: "asc" } })).map((r) =>
        r.slot.toISOString().slice(11, 16),
      );
    // On time: every policy fires 00:10.
    now = new Date("2026-09-01T00:10:20.000Z");
    await Promise.all(tickers.map((t) => t.tick()));
    for (const id of Object.values(ids)) {
      expect(await slotsOf(id)).toEqual(["00:10"]);
    }
    // Down from 00:10:20 to 01:32: slots 00:20 ... 01:30 were missed (8 of them).
    now = new Date("2026-09-01T01:32:00.000Z");
    await Promise.all(tickers.map((t) => t.tick()));
    expect(await slotsOf(ids.none)).toEqual(["00:10"]);
    expect(await slotsOf(ids.latest)).toEqual(["00:10", "01:30"]);
    // At most 5 missed slots: the newest 5.
    expect(await slotsOf(ids.all)).toEqual(["00:10", "00:50", "01:00", "01:10", "01:20", "01:30"]);
    // Every policy carries on from the present.
    for (const id of Object.values(ids)) {
      const s = await svc.db.schedule.findUniqueOrThrow({ where: { id } });
      expect(s.nextSendAt?.toISOString()).toBe("2026-09-01T01:40:00.000Z");
    }
    now = new Date("2026-09-01T01:40:05.000Z");
    await Promise.all(tickers.map((t) => t.tick()));
    expect(await slotsOf(ids.none)).toEqual(["00:10", "01:40"]);
  });
});

describe("GET /api/v1/schedule/{id}/runs/", () => {
  it("lists runs newest first, paginated, with the manual flag; 404 for an unknown schedule", async () => {
    now = new Date("2026-10-01T00:00:30.000Z");
    const created = (await post({ cron_definition: "* * * * *" })).json();
    for (const minute of [1, 2, 3]) {
      now = new Date(Date.parse("2026-10-01T00:00:30.000Z") + minute * 60_000);
      await new Ticker(svc.db, testLogger(), clock).tick();
    }
    now = new Date("2026-10-01T00:03:45.000Z");
    await svc.app.inject({ method: "POST", url: `/api/v1/schedule/${created.id}/fire/`, headers: adminAuth });
    const get = (query: string) =>
      svc.app.inject({
        method: "GET",
        url: `/api/v1/schedule/${created.id}/runs/${query}`,
        headers: adminAuth,
      });
    const page1 = (await get("?limit=2")).json();
    expect(page1.count).toBe(4);
    expect(page1.next).toContain("offset=2");
    expect(
      page1.results.map((r: { slot: string; manual: boolean; trigger: string }) => [
        r.slot,
        r.manual,
        r.trigger,
      ]),
    ).toEqual([
      ["2026-10-01T00:03:45.000Z", true, "manual"],
      ["2026-10-01T00:03:00.000Z", false, "cron"],
    ]);
    expect(page1.results[0]).toMatchObject({ schedule: created.id, delivered_at: null });
    const page2 = (await get("?limit=2&offset=2")).json();
    expect(page2.results.map((r: { slot: string }) => r.slot)).toEqual([
      "2026-10-01T00:02:00.000Z",
      "2026-10-01T00:01:00.000Z",
    ]);
    const missing = await svc.app.inject({
      method: "GET",
      url: "/api/v1/schedule/00000000-0000-4000-8000-000000000000/runs/",
      headers: adminAuth,
    });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe("SCHEDULER_SCHEDULE_NOT_FOUND");
  });
});

describe("DELETE /api/v1/schedule/{id}/", () => {
  it("deletes a schedule with its runs; 404 for an unknown one", async () => {
    const created = (await post({ cron_definition: "0 0 1 1 *", enabled: false })).json();
    expect(created.next_send_at).toBeNull();
    await svc.app.inject({ method: "POST", url: `/api/v1/schedule/${created.id}/fire/`, headers: adminAuth });
    expect(await svc.db.scheduleRun.count({ where: { scheduleId: created.id } })).toBe(1);
    const del = (id: string) =>
      svc.app.inject({ method: "DELETE", url: `/api/v1/schedule/${id}/`, headers: adminAuth });
    expect((await del(created.id)).statusCode).toBe(204);
    const get = await svc.app.inject({
      method: "GET",
      url: `/api/v1/schedule/${created.id}/`,
      headers: adminAuth,
    });
    expect(get.statusCode).toBe(404);
    expect(await svc.db.scheduleRun.count({ where: { scheduleId: created.id } })).toBe(0);
    expect((await del(created.id)).statusCode).toBe(404);
  });
});
