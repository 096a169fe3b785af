import type { ContentSchedule, MessageSet } from "@tidings/contracts";
import { expectError } from "@tidings/testing";
import { describe, expect } from "vitest";
import { type ContentHarness, contentTest } from "./support.ts";

const it = contentTest();

const SCHEDULES = "/api/v1/schedule/";

describe("POST /api/v1/schedule/", () => {
  it("creates a schedule with Seed's defaults and publishes content.schedule.changed", async ({ t }) => {
    await t.expectCreated(SCHEDULES, {}, "content.schedule.changed", {
      id: expect.any(Number),
      minute: "*",
      hour: "*",
      day_of_week: "*",
      day_of_month: "*",
      month_of_year: "*",
      timezone: "UTC",
      cron_definition: "* * * * *",
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
  });

  it("builds cron_definition in cron's field order, spaces inside fields stripped", async ({ t }) => {
    const schedule = await t.create(SCHEDULES, {
      minute: "0",
      hour: "8",
      day_of_week: "1, 4",
      day_of_month: "*",
      month_of_year: "1-6",
      timezone: "Africa/Johannesburg",
    });
    expect(schedule).toMatchObject({ day_of_week: "1, 4", timezone: "Africa/Johannesburg" });
    expect(schedule.cron_definition).toBe("0 8 * 1-6 1,4");
    expect((await t.event<ContentSchedule>("content.schedule.changed", schedule.id)).cron_definition).toBe(
      "0 8 * 1-6 1,4",
    );
  });

  it("accepts names, ranges with steps and lists", async ({ t }) => {
    const schedule = await t.create(SCHEDULES, { minute: "*/15", hour: "9-17/2", day_of_week: "0,sat" });
    expect(schedule.cron_definition).toBe("*/15 9-17/2 * * 0,sat");
  });

  describe("errors: nothing stored, nothing published", () => {
    const rejects = (t: ContentHarness, payload: object, code: string) =>
      t.expectRejected(
        () => t.call("POST", SCHEDULES, payload),
        400,
        code,
        () => t.svc.db.schedule.count(),
      );
    /** Expects `field` set to `value` to be refused as invalid cron naming that field alone, its `message`. */
    const rejectsField = async (t: ContentHarness, field: string, value: string, message: unknown) => {
      const error = await rejects(t, { [field]: value }, "CONTENT_SCHEDULE_INVALID_CRON");
      expect(error.details).toEqual([{ field: `body.${field}`, message }]);
      return error;
    };

    it.for<[string, string]>([
      ["minute", "60"],
      ["hour", "24"],
      ["day_of_month", "32"],
      ["month_of_year", "13"],
      ["day_of_week", "8"],
      ["minute", "abc"],
      ["hour", "5-1"],
    ])("rejects %s %j with 400 naming the field", async ([field, value], { t }) => {
      const error = await rejectsField(t, field, value, expect.any(String));
      expect(error.message).toMatch(new RegExp(`^${field}: `));
    });

    it.for<[string, string]>([
      ["day_of_month", "L"],
      ["day_of_week", "1#2"],
      ["minute", "H"],
      ["day_of_month", "?"],
    ])("rejects non-standard cron %s %j", async ([field, value], { t }) => {
      await rejectsField(t, field, value, expect.stringContaining("standard cron"));
    });

    it("names every bad field at once", async ({ t }) => {
      const error = await rejects(t, { minute: "99", hour: "99" }, "CONTENT_SCHEDULE_INVALID_CRON");
      expect(error.details).toEqual([
        { field: "body.minute", message: expect.any(String) },
        { field: "body.hour", message: expect.any(String) },
      ]);
    });

    it("rejects fields that are valid alone but never match together", async ({ t }) => {
      const error = await rejects(
        t,
        { day_of_month: "31", month_of_year: "2" },
        "CONTENT_SCHEDULE_INVALID_CRON",
      );
      expect(error.details).toEqual([
        { field: "body.day_of_month", message: expect.any(String) },
        { field: "body.month_of_year", message: expect.any(String) },
      ]);
    });

    it("rejects a time zone that is not an IANA zone", async ({ t }) => {
      const error = await rejects(t, { timezone: "Mars/Olympus_Mons" }, "CONTENT_SCHEDULE_INVALID_TIMEZONE");
      expect(error.details).toEqual([{ field: "body.timezone", message: expect.any(String) }]);
    });

    it("rejects unknown and empty fields through the schema", async ({ t }) => {
      await rejects(t, { minutes: "5" }, "VALIDATION_FAILED");
      await rejects(t, { hour: "" }, "VALIDATION_FAILED");
    });
  });
});

describe("GET /api/v1/schedule/", () => {
  it("lists in id order with count, next and previous", async ({ t }) => {
    for (let i = 0; i < 3; i++) {
      await t.create(SCHEDULES, { minute: String(i) });
    }
    const all = (await t.call("GET", SCHEDULES)).body;
    expect(all.count).toBeGreaterThanOrEqual(3);
    const ids = all.results.map((s: ContentSchedule) => s.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));

    const first = (await t.call("GET", `${SCHEDULES}?limit=2`)).body;
    expect(first).toMatchObject({ count: all.count, previous: null, results: all.results.slice(0, 2) });
    expect(first.next).toContain("offset=2");
    const next = new URL(first.next);
    const second = (await t.call("GET", next.pathname + next.search)).body;
    expect(second.results).toEqual(all.results.slice(2, 4));
    expect(second.previous).toContain("limit=2");
  });

  it("404s an unknown schedule in the error shape, with Seed's `detail` beside it", async ({ t }) => {
    const res = await t.call("GET", `${SCHEDULES}999999/`);
    expect(res.status).toBe(404);
    expect(res.body).toEqual({
      error: {
        code: "CONTENT_SCHEDULE_NOT_FOUND",
        message: expect.any(String),
        requestId: expect.any(String),
      },
      detail: "Not found.",
    });
  });
});

describe("PATCH /api/v1/schedule/:id/", () => {
  it("changes the given fields only and publishes content.schedule.changed", async ({ t }) => {
    const schedule = await t.create(SCHEDULES, { minute: "0", hour: "8", day_of_week: "1" });
    await t.event("content.schedule.changed", schedule.id);
    const from = t.capture.messages.length;

    const res = await t.call("PATCH", `${SCHEDULES}${schedule.id}/`, { hour: "9", timezone: "Africa/Lagos" });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id: schedule.id,
      minute: "0",
      hour: "9",
      day_of_week: "1",
      timezone: "Africa/Lagos",
      cron_definition: "0 9 * * 1",
      created_at: schedule.created_at,
    });
    expect(res.body.updated_at > schedule.updated_at).toBe(true);
    await expect.poll(() => t.capture.messages.slice(from).map((m) => m.payload)).toEqual([res.body]);
  });

  it("validates the schedule as merged, and changes nothing when it is invalid", async ({ t }) => {
    const schedule = await t.create(SCHEDULES, { month_of_year: "2" });
    await t.expectNoEvents(async () => {
      const res = await t.call("PATCH", `${SCHEDULES}${schedule.id}/`, { day_of_month: "30" });
      expectError(res, 400, "CONTENT_SCHEDULE_INVALID_CRON");
    });
    expect((await t.call("GET", `${SCHEDULES}${schedule.id}/`)).body).toEqual(schedule);
  });

  it("refuses an empty body, and 404s an unknown schedule", async ({ t }) => {
    const schedule = await t.create(SCHEDULES, {});
    expect((await t.call("PATCH", `${SCHEDULES}${schedule.id}/`, {})).body.error.code).toBe(
      "VALIDATION_FAILED",
    );
    const res = await t.call("PATCH", `${SCHEDULES}999999/`, { hour: "1" });
    expectError(res, 404, "CONTENT_SCHEDULE_NOT_FOUND");
  });
});

describe("DELETE /api/v1/schedule/:id/", () => {
  it("deletes and publishes content.schedule.deleted", async ({ t }) => {
    const schedule = await t.create(SCHEDULES, {});
    const res = await t.call("DELETE", `${SCHEDULES}${schedule.id}/`);
    expect(res.status).toBe(204);
    expect(res.body).toBeUndefined();
    expect(await t.event("content.schedule.deleted", schedule.id)).toEqual({ id: schedule.id });
    expect((await t.call("GET", `${SCHEDULES}${schedule.id}/`)).status).toBe(404);
    expect((await t.call("DELETE", `${SCHEDULES}${schedule.id}/`)).body.error.code).toBe(
      "CONTENT_SCHEDULE_NOT_FOUND",
    );
  });

  it("409s a schedule that is a message set's default_schedule, and keeps it", async ({ t }) => {
    const schedule = await t.create(SCHEDULES, {});
    const set = await t.create<MessageSet>("/api/v1/messageset/", {
      short_name: "in.use",
      default_schedule: schedule.id,
    });
    await t.expectNoEvents(async () => {
      const res = await t.call("DELETE", `${SCHEDULES}${schedule.id}/`);
      expect(res.status).toBe(409);
      expect(res.body.error).toMatchObject({
        code: "CONTENT_SCHEDULE_IN_USE",
        message: expect.stringContaining(String(set.id)),
        details: { messagesets: [set.id] },
      });
    });
    expect((await t.call("GET", `${SCHEDULES}${schedule.id}/`)).status).toBe(200);
  });
});
