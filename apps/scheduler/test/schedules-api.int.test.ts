import type { ScheduleFired } from "@tidings/contracts";
import type { Api } from "@tidings/service-kit";
import { adminAuth, captureMessages, expectError, userAuth, waitFor } from "@tidings/testing";
import { describe, expect } from "vitest";
import { schedulerTest, UNKNOWN_ID } from "./support.ts";

const { it, clock, ticker } = schedulerTest("2026-03-02T08:00:30.000Z", { events: ["schedule.fired"] });

describe("schedules API", () => {
  it("creates a cron schedule with its next slot in its time zone", async ({ api }) => {
    const res = await api.create({
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
      next_send_at: "2026-03-09T07:00:00.000000Z",
      last_run: null,
    });
  });

  it.for<[object, string]>([
    [{ cron_definition: "61 * * * *" }, "cron_definition"],
    [{ cron_definition: "* * * *  " }, "cron_definition"],
    [{ cron_definition: "0 9 * * 1", timezone: "Mars/Olympus" }, "timezone"],
  ])("rejects %j with 400 naming %s, storing nothing", async ([body, field], { svc, api }) => {
    const before = await svc.db.schedule.count();
    const res = await api.create(body);
    expect(res.statusCode).toBe(400);
    const error = res.json().error;
    expect(error.code).toMatch(/VALIDATION_FAILED|SCHEDULER_INVALID_SCHEDULE/);
    expect(JSON.stringify(error.details)).toContain(field);
    expect(await svc.db.schedule.count()).toBe(before);
  });

  it("moves next_send_at when the cron changes (Seed kept firing the old one)", async ({ api }) => {
    const created = (await api.create({ cron_definition: "0 9 * * 1" })).json();
    const res = await api.patch(created.id, { cron_definition: "15 10 * * *" });
    expect(res.statusCode).toBe(200);
    expect(res.json().next_send_at).toBe("2026-03-02T10:15:00.000000Z");
    const missing = await api.patch(UNKNOWN_ID, { enabled: false });
    expect(missing.statusCode).toBe(404);
  });
});

describe("Seed's deprecated frequency and triggered", () => {
  // The bytes Seed's SBM (<= 0.9.30, `schedule_create`) POSTed for a subscription's own schedule.
  const seedBody =
    '{"frequency": 10, "cron_definition": "0 8 * * 1,3", ' +
    '"endpoint": "http://127.0.0.1:9/api/v1/subscriptions/5f3e2c1a-1b2c-4d3e-8f4a-5b6c7d8e9f00/send", ' +
    '"auth_token": "sbm-inbound-token", "payload": {}}';
  const send = (app: Api, method: "POST" | "PUT" | "PATCH", url: string, payload: string) =>
    app.inject({
      method,
      url,
      headers: { ...adminAuth, "content-type": "application/json" },
      payload,
    });

  it("stores and returns them on POST, PUT and PATCH, without enforcing them", async ({ svc, api }) => {
    const created = await send(svc.app, "POST", "/api/v1/schedule/", seedBody);
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ frequency: 10, triggered: 0, cron_definition: "0 8 * * 1,3" });
    const url = `/api/v1/schedule/${created.json().id}/`;

    const put = await send(svc.app, "PUT", url, '{"frequency": null, "triggered": 3, "enabled": true}');
    expect(put.statusCode).toBe(200);
    expect(put.json()).toMatchObject({ frequency: null, triggered: 3, cron_definition: "0 8 * * 1,3" });

    const patched = await send(svc.app, "PATCH", url, '{"frequency": 2}');
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({ frequency: 2, triggered: 3 });
    expect((await api.call("GET", url)).json()).toMatchObject({
      frequency: 2,
      triggered: 3,
    });

    // Not enforced: a schedule past its `frequency` still has its next slot, and firing leaves `triggered`.
    const fired = await api.call("POST", `${url}fire/`);
    expect(fired.statusCode).toBe(202);
    const after = (await api.call("GET", url)).json();
    expect(after).toMatchObject({ frequency: 2, triggered: 3, enabled: true });
    expect(after.next_send_at).not.toBeNull();
  });

  it("refuses a frequency or triggered that is not an integer", async ({ svc }) => {
    for (const body of [
      '{"cron_definition": "0 8 * * 1", "frequency": "ten"}',
      '{"cron_definition": "0 8 * * 1", "triggered": null}',
    ]) {
      const res = await send(svc.app, "POST", "/api/v1/schedule/", body);
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

  it("creates, updates, ignores stale versions, and disables on delete", async ({ svc }) => {
    const mirrored = () =>
      svc.db.schedule.findUnique({
        where: { sourceService_sourceRef: { sourceService: "content", sourceRef: "7" } },
      });
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

  it("follows content only: the API may not change or delete it (409), only an admin may fire it", async ({
    svc,
    api,
    capture,
  }) => {
    await svc.broker.publish("content.schedule.changed", { ...content, id: 8 });
    const mirror = await waitFor(
      () =>
        svc.db.schedule.findUnique({
          where: { sourceService_sourceRef: { sourceService: "content", sourceRef: "8" } },
        }),
      { what: "mirrored schedule" },
    );
    const url = `/api/v1/schedule/${mirror.id}/`;
    const hub = await userAuth(svc.app, "hub@example.org");
    const as = (headers: object, method: "PATCH" | "PUT" | "DELETE", payload?: object) =>
      svc.app.inject({ method, url, headers: { ...headers }, ...(payload ? { payload } : {}) });
    for (const headers of [adminAuth, hub]) {
      for (const [method, payload] of [
        ["PATCH", { cron_definition: "* * * * *" }],
        ["PATCH", { endpoint: "https://hub.example.org/send/" }],
        ["PUT", { cron_definition: "0 8 * * 1,4", enabled: false }],
        ["DELETE", undefined],
      ] as const) {
        const res = await as(headers, method, payload);
        expectError(res, 409, "SCHEDULER_SCHEDULE_MIRRORED");
        expect(res.json().error.message).toContain("content schedule 8");
      }
    }
    const fired = () =>
      capture.named<ScheduleFired>("schedule.fired").filter((m) => m.schedule_id === mirror.id);
    const byHub = await svc.app.inject({ method: "POST", url: `${url}fire/`, headers: hub });
    expectError(byHub, 403, "FORBIDDEN");
    expect(await svc.db.scheduleRun.count({ where: { scheduleId: mirror.id } })).toBe(0);
    expect((await api.fire(mirror.id)).statusCode).toBe(202);
    await waitFor(() => fired().length === 1, { what: "the admin's manual fire" });
    const after = await svc.db.schedule.findUniqueOrThrow({ where: { id: mirror.id } });
    expect(after).toMatchObject({
      cronDefinition: mirror.cronDefinition,
      endpoint: null,
      enabled: true,
      nextSendAt: mirror.nextSendAt,
    });
    expect(fired()).toMatchObject([{ manual: true, source: { service: "content", ref: "8" } }]);
  });
});

describe("POST /api/v1/schedule/{id}/fire/", () => {
  it("fires one manual slot now and publishes schedule.fired; 404 for an unknown schedule", async ({
    svc,
    capture,
    api,
  }) => {
    const created = (await api.create({ cron_definition: "0 0 1 1 *", payload: { m: 1 } })).json();
    clock.now = new Date("2026-06-01T12:34:56.789Z");
    const res = await api.fire(created.id);
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ slot: "2026-06-01T12:34:56.789000Z" });
    const event = await waitFor(
      () => capture.named<ScheduleFired>("schedule.fired").find((m) => m.schedule_id === created.id),
      { what: "manual schedule.fired" },
    );
    expect(event).toMatchObject({ manual: true, slot: "2026-06-01T12:34:56.789Z", payload: { m: 1 } });
    const runs = await svc.db.scheduleRun.findMany({ where: { scheduleId: created.id } });
    expect(runs).toMatchObject([{ manual: true }]);
    const missing = await api.fire(UNKNOWN_ID);
    expect(missing.statusCode).toBe(404);
  });
});

describe("interval schedules and validation", () => {
  it("creates an interval schedule whose slots count from its creation, fired by the ticker", async ({
    svc,
    api,
  }) => {
    clock.now = new Date("2026-07-01T10:00:00.000Z");
    const res = await api.create({ interval_definition: "15 minutes", catch_up: "all" });
    expect(res.statusCode).toBe(201);
    const created = res.json();
    expect(created).toMatchObject({
      cron_definition: null,
      interval_definition: "15 minutes",
      catch_up: "all",
      next_send_at: "2026-07-01T10:15:00.000000Z",
      endpoint: null,
      has_auth_token: false,
    });
    clock.now = new Date("2026-07-01T10:31:00.000Z");
    await ticker(svc.db).tick();
    const runs = await svc.db.scheduleRun.findMany({
      where: { scheduleId: created.id },
      orderBy: { slot: "asc" },
    });
    expect(runs.map((r) => [r.slot.toISOString(), r.trigger])).toEqual([
      ["2026-07-01T10:15:00.000Z", "interval"],
      ["2026-07-01T10:30:00.000Z", "interval"],
    ]);
    const after = (await api.get(created.id)).json();
    expect(after).toMatchObject({
      next_send_at: "2026-07-01T10:45:00.000000Z",
      last_run: "2026-07-01T10:31:00.000000Z",
    });
  });

  it("fires a schedule with both a cron and an interval for each", async ({ svc, api }) => {
    clock.now = new Date("2026-07-02T00:00:00.000Z");
    const created = (
      await api.create({ cron_definition: "50 * * * *", interval_definition: "1 hours", catch_up: "all" })
    ).json();
    expect(created.next_send_at).toBe("2026-07-02T00:50:00.000000Z");
    clock.now = new Date("2026-07-02T02:00:30.000Z");
    await ticker(svc.db).tick();
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

  it.for<[object, string, string]>([
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
  ])("rejects %j with a 400 naming %s", async ([body, field, message], { svc, api }) => {
    const before = await svc.db.schedule.count();
    const res = await api.create(body);
    expect(res.statusCode).toBe(400);
    const error = res.json().error;
    expect(JSON.stringify(error.details)).toContain(field);
    expect(error.message).toContain(message);
    expect(await svc.db.schedule.count()).toBe(before);
  });

  it("refuses a PATCH that removes the last trigger, or sets a bad interval", async ({ api }) => {
    const created = (await api.create({ interval_definition: "1 days" })).json();
    const patch = (payload: object) => api.patch(created.id, payload);
    expect((await patch({ interval_definition: null })).statusCode).toBe(400);
    const bad = await patch({ interval_definition: "1 fortnights" });
    expectError(bad, 400, "SCHEDULER_INVALID_SCHEDULE");
  });

  it("changes future firings when the interval changes, and starts a re-enabled schedule from now", async ({
    svc,
    api,
  }) => {
    clock.now = new Date("2026-08-01T00:00:00.000Z");
    const created = (await api.create({ interval_definition: "1 hours" })).json();
    const patch = async (payload: object) => (await api.patch(created.id, payload)).json();
    clock.now = new Date("2026-08-01T00:20:00.000Z");
    expect((await patch({ interval_definition: "30 minutes" })).next_send_at).toBe(
      "2026-08-01T00:50:00.000000Z",
    );
    expect(
      (await patch({ interval_definition: "30 minutes", cron_definition: "5 * * * *" })).next_send_at,
    ).toBe("2026-08-01T00:50:00.000000Z");
    expect((await patch({ interval_definition: null })).next_send_at).toBe("2026-08-01T01:05:00.000000Z");
    expect(await patch({ enabled: false })).toMatchObject({ enabled: false, next_send_at: null });
    // A disabled schedule keeps no pending slot, whatever else is changed.
    expect((await patch({ payload: { x: 1 } })).next_send_at).toBeNull();
    // Disabled for hours: nothing fires, and re-enabling does not catch up what came meanwhile.
    clock.now = new Date("2026-08-01T05:30:00.000Z");
    await ticker(svc.db).tick();
    expect(await svc.db.scheduleRun.count({ where: { scheduleId: created.id } })).toBe(0);
    expect((await patch({ enabled: true })).next_send_at).toBe("2026-08-01T06:05:00.000000Z");
    await ticker(svc.db).tick();
    expect(await svc.db.scheduleRun.count({ where: { scheduleId: created.id } })).toBe(0);
  });

  it("publishes schedule.added on create, without the auth token", async ({ svc, api }) => {
    const addedCapture = await captureMessages(svc.namespace, ["schedule.added"]);
    try {
      const created = (
        await api.create({
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

describe("GET /api/v1/schedule/{id}/runs/", () => {
  it("lists runs newest first, paginated, with the manual flag; 404 for an unknown schedule", async ({
    svc,
    api,
  }) => {
    clock.now = new Date("2026-10-01T00:00:30.000Z");
    const created = (await api.create({ cron_definition: "* * * * *" })).json();
    for (const minute of [1, 2, 3]) {
      clock.now = new Date(Date.parse("2026-10-01T00:00:30.000Z") + minute * 60_000);
      await ticker(svc.db).tick();
    }
    clock.now = new Date("2026-10-01T00:03:45.000Z");
    await api.fire(created.id);
    const get = (query: string) => api.call("GET", `/api/v1/schedule/${created.id}/runs/${query}`);
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
      ["2026-10-01T00:03:45.000000Z", true, "manual"],
      ["2026-10-01T00:03:00.000000Z", false, "cron"],
    ]);
    expect(page1.results[0]).toMatchObject({ schedule: created.id, delivered_at: null });
    const page2 = (await get("?limit=2&offset=2")).json();
    expect(page2.results.map((r: { slot: string }) => r.slot)).toEqual([
      "2026-10-01T00:02:00.000000Z",
      "2026-10-01T00:01:00.000000Z",
    ]);
    const missing = await api.call("GET", `/api/v1/schedule/${UNKNOWN_ID}/runs/`);
    expectError(missing, 404, "SCHEDULER_SCHEDULE_NOT_FOUND");
  });
});

describe("DELETE /api/v1/schedule/{id}/", () => {
  it("deletes a schedule with its runs; 404 for an unknown one", async ({ svc, api }) => {
    const created = (await api.create({ cron_definition: "0 0 1 1 *", enabled: false })).json();
    expect(created.next_send_at).toBeNull();
    await api.fire(created.id);
    expect(await svc.db.scheduleRun.count({ where: { scheduleId: created.id } })).toBe(1);
    const del = (id: string) => api.call("DELETE", `/api/v1/schedule/${id}/`);
    expect((await del(created.id)).statusCode).toBe(204);
    const get = await api.get(created.id);
    expect(get.statusCode).toBe(404);
    expect(await svc.db.scheduleRun.count({ where: { scheduleId: created.id } })).toBe(0);
    expect((await del(created.id)).statusCode).toBe(404);
  });
});
