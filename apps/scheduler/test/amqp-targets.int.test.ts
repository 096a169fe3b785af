import type { OutboundSend } from "@tidings/contracts";
import type { Api } from "@tidings/service-kit";
import { userAuth, waitFor } from "@tidings/testing";
import { describe, expect } from "vitest";
import type { Db } from "../src/db.ts";
import { runIdOf } from "../src/ticker.ts";
import { schedulerTest } from "./support.ts";

const { it, clock, competing } = schedulerTest("2026-04-01T08:00:30.000Z", {
  events: ["outbound.send", "schedule.fired"],
});

const reminder = {
  id: "{{run_id}}",
  to_addr: "+27820001001",
  content: "Clinic reminder for {{slot}}",
  metadata: { schedule: "{{schedule_id}}", tokens: ["{{slot}}"] },
};

describe("AMQP targets publishing a catalogued command", () => {
  it("publishes outbound.send once per slot with the tokens substituted, racing tickers and a manual fire", async ({
    svc,
    capture,
    api,
  }) => {
    const res = await api.create({
      cron_definition: "*/5 * * * *",
      message: "outbound.send",
      payload: reminder,
    });
    expect(res.statusCode).toBe(201);
    const created = res.json();
    expect(created).toMatchObject({ message: "outbound.send", endpoint: null, payload: reminder });

    await competing(svc.config.DATABASE_URL, 2, async (tickers) => {
      for (let minute = 1; minute <= 15; minute++) {
        clock.now = new Date(Date.parse("2026-04-01T08:00:30.000Z") + minute * 60_000);
        await Promise.all([...tickers, ...tickers].map((t) => t.tick()));
      }
    });
    const slots = ["2026-04-01T08:05:00.000Z", "2026-04-01T08:10:00.000Z", "2026-04-01T08:15:00.000Z"];
    const sends = () =>
      capture.messages.filter(
        (m) => m.name === "outbound.send" && (m.payload as OutboundSend).metadata.schedule === created.id,
      );
    await waitFor(() => sends().length >= 3, { what: "3 outbound.send" });

    clock.now = new Date("2026-04-01T08:17:12.345Z");
    const fired = await api.fire(created.id);
    expect(fired.statusCode).toBe(202);
    await waitFor(() => sends().length >= 4, { what: "manual outbound.send" });
    await new Promise((r) => setTimeout(r, 300));

    const all = [...slots, "2026-04-01T08:17:12.345Z"];
    const got = sends()
      .map((m) => m.payload as OutboundSend)
      .sort((a, b) => String(a.content).localeCompare(String(b.content)));
    expect(got).toEqual(
      all.map((slot) => ({
        id: runIdOf(created.id, new Date(slot)),
        to_addr: "+27820001001",
        content: `Clinic reminder for ${slot}`,
        metadata: { schedule: created.id, tokens: [slot] },
        created_by_schedule: created.id,
      })),
    );
    // One message id per slot, the same whoever fires it; no schedule.fired for this schedule.
    expect(new Set(sends().map((m) => m.messageId)).size).toBe(4);
    expect(
      capture.messages.filter(
        (m) =>
          m.name === "schedule.fired" && (m.payload as { schedule_id: string }).schedule_id === created.id,
      ),
    ).toHaveLength(0);
    const runs = await svc.db.scheduleRun.findMany({ where: { scheduleId: created.id } });
    expect(runs.map((r) => r.id).sort()).toEqual(got.map((m) => m.id).sort());
    expect(await svc.db.schedule.findUniqueOrThrow({ where: { id: created.id } })).toMatchObject({
      lastRun: new Date("2026-04-01T08:17:12.345Z"),
    });
  });

  it.for<[object, string, string]>([
    [
      { message: "outbound.explode", payload: reminder },
      "body.message",
      "is not a message a schedule can publish",
    ],
    [
      { message: "identity.created", payload: reminder },
      "body.message",
      "is not a message a schedule can publish",
    ],
    [
      { message: "schedule.deliver", payload: reminder },
      "body.message",
      "is not a message a schedule can publish",
    ],
    [{ message: "outbound.send", payload: { ...reminder, id: "x-{{run_id}}" } }, "body.payload.id", "uuid"],
    [{ message: "outbound.send", payload: { id: "{{run_id}}" } }, "body.payload", "metadata"],
    [{ message: "outbound.send", payload: { ...reminder, content: 7 } }, "body.payload.content", "string"],
    [
      { message: "outbound.send", payload: reminder, endpoint: "http://127.0.0.1:9/x" },
      "body.message",
      "not both",
    ],
  ])("refuses %j with a 400 naming %s, storing nothing", async ([target, field, message], { svc, api }) => {
    const before = await svc.db.schedule.count();
    const outbox = await svc.db.$queryRawUnsafe<[{ n: number }]>(
      "SELECT count(*)::int AS n FROM tidings_outbox",
    );
    const res = await api.create({ cron_definition: "0 9 * * *", ...target });
    expect(res.statusCode).toBe(400);
    const error = res.json().error;
    expect(error.code).toBe("SCHEDULER_INVALID_SCHEDULE");
    expect(error.message).toContain(message);
    expect(error.details.map((d: { field: string }) => d.field)).toContain(field);
    expect(await svc.db.schedule.count()).toBe(before);
    expect(
      await svc.db.$queryRawUnsafe<[{ n: number }]>("SELECT count(*)::int AS n FROM tidings_outbox"),
    ).toEqual(outbox);
  });

  it("validates a PATCH against the resulting message and payload", async ({ svc, api }) => {
    const created = (await api.create({ cron_definition: "0 9 * * *", payload: { a: 1 } })).json();
    expect(created.message).toBeNull();
    const bad = await api.patch(created.id, { message: "outbound.send" });
    expect(bad.statusCode).toBe(400);
    expect(JSON.stringify(bad.json().error.details)).toContain("body.payload");
    expect((await svc.db.schedule.findUniqueOrThrow({ where: { id: created.id } })).message).toBeNull();
    const ok = await api.patch(created.id, { message: "outbound.send", payload: reminder });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ message: "outbound.send", payload: reminder });
    expect((await api.patch(created.id, { payload: { ...reminder, id: 5 } })).statusCode).toBe(400);
    const back = await api.patch(created.id, { message: null, payload: { b: 2 } });
    expect(back.json()).toMatchObject({ message: null, payload: { b: 2 } });
  });

  it("names the schedule in every outbound.send it publishes, over whatever its payload says", async ({
    capture,
    api,
  }) => {
    const other = "5d0c0f7e-1a2b-4c3d-8e9f-0a1b2c3d4e5f";
    const res = await api.create({
      cron_definition: "0 9 * * *",
      message: "outbound.send",
      payload: { ...reminder, metadata: { stamp: "{{schedule_id}}" }, created_by_schedule: other },
    });
    expect(res.statusCode).toBe(201);
    const { id } = res.json();
    clock.now = new Date("2026-04-02T07:00:00.000Z");
    expect((await api.fire(id)).statusCode).toBe(202);
    const sent = await waitFor(
      () =>
        capture.messages
          .map((m) => m.payload as OutboundSend)
          .find((p) => (p.metadata as { stamp?: string }).stamp === id),
      { what: "the stamped outbound.send" },
    );
    expect(sent.created_by_schedule).toBe(id);
  });
});

describe("schedules publishing a command are for admins", () => {
  const as = (app: Api, headers: object, method: "POST" | "PATCH", url: string, payload?: object) =>
    app.inject({ method, url, headers: { ...headers }, payload });
  // The outbox is drained as it goes, so "nothing published" is checked as "no run recorded".
  const counts = async (svc: { db: Db }) => ({
    schedules: await svc.db.schedule.count(),
    runs: await svc.db.scheduleRun.count(),
  });
  const expectForbidden = (res: { statusCode: number; json(): { error: object } }) => {
    expect(res.statusCode).toBe(403);
    expect(res.json()).toEqual({
      error: {
        code: "FORBIDDEN",
        message: expect.stringContaining("outbound.send"),
        details: [{ field: "body.message", message: expect.any(String) }],
        requestId: expect.any(String),
      },
    });
  };

  it("refuses a non-admin token creating, changing or firing one with 403, changing nothing", async ({
    svc,
    api,
  }) => {
    const user = await userAuth(svc.app, "hub@example.org");
    const admins = (
      await api.create({ cron_definition: "0 9 * * *", message: "outbound.send", payload: reminder })
    ).json();
    const own = await as(svc.app, user, "POST", "/api/v1/schedule/", {
      cron_definition: "0 9 * * *",
      payload: {},
    });
    expect(own.statusCode).toBe(201);
    const before = await counts(svc);

    expectForbidden(
      await as(svc.app, user, "POST", "/api/v1/schedule/", {
        cron_definition: "0 9 * * *",
        message: "outbound.send",
        payload: reminder,
      }),
    );
    expectForbidden(
      await as(svc.app, user, "PATCH", `/api/v1/schedule/${own.json().id}/`, {
        message: "outbound.send",
        payload: reminder,
      }),
    );
    expectForbidden(
      await as(svc.app, user, "PATCH", `/api/v1/schedule/${admins.id}/`, {
        payload: { ...reminder, to_addr: "+1" },
      }),
    );
    expectForbidden(await as(svc.app, user, "PATCH", `/api/v1/schedule/${admins.id}/`, { message: null }));
    expectForbidden(await as(svc.app, user, "POST", `/api/v1/schedule/${admins.id}/fire/`));

    expect(await counts(svc)).toEqual(before);
    expect((await svc.db.schedule.findUniqueOrThrow({ where: { id: admins.id } })).payload).toEqual(reminder);
    expect((await svc.db.schedule.findUniqueOrThrow({ where: { id: own.json().id } })).message).toBeNull();
    // schedule.fired schedules stay open to every token.
    expect(
      (await as(svc.app, user, "PATCH", `/api/v1/schedule/${own.json().id}/`, { payload: { a: 1 } }))
        .statusCode,
    ).toBe(200);
  });
});
