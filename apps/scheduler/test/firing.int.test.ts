import { randomUUID } from "node:crypto";
import type { ScheduleFired } from "@tidings/contracts";
import { waitFor } from "@tidings/testing";
import { describe, expect } from "vitest";
import { schedulerTest } from "./support.ts";

const { it, clock, ticker, competing } = schedulerTest("2026-03-02T08:00:30.000Z", {
  events: ["schedule.fired"],
});

describe("firing", () => {
  it("fires every slot exactly once with three competing tickers, and the latest missed slot after downtime", async ({
    svc,
    capture,
    api,
  }) => {
    await svc.db.schedule.updateMany({ data: { enabled: false } });
    clock.now = new Date("2026-03-02T08:00:30.000Z");
    const created = (await api.create({ cron_definition: "*/5 * * * *", payload: { k: "v" } })).json();
    await competing(svc.config.DATABASE_URL, 3, async (tickers) => {
      // 60 simulated minutes, each tick raced by all three tickers, twice.
      for (let minute = 1; minute <= 60; minute++) {
        clock.now = new Date(Date.parse("2026-03-02T08:00:30.000Z") + minute * 60_000);
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
      clock.now = new Date("2026-03-02T09:42:00.000Z");
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
    });
  });

  it("fires many schedules sharing an expression in one tick, past one claim batch", async ({ svc }) => {
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
    clock.now = new Date("2026-03-10T12:00:02.000Z");
    expect(await ticker(svc.db).tick()).toBe(250);
    expect(await svc.db.scheduleRun.count({ where: { scheduleId: { in: ids } } })).toBe(250);
    expect(
      await svc.db.schedule.count({
        where: { id: { in: ids }, nextSendAt: new Date("2026-03-11T12:00:00.000Z"), lastRun: clock.now },
      }),
    ).toBe(250);
  });

  it("moves a schedule with unusable timing an hour on without blocking the others", async ({ svc }) => {
    await svc.db.schedule.updateMany({ data: { enabled: false } });
    const [bad, good] = [randomUUID(), randomUUID()];
    const due = new Date("2026-03-12T12:00:00.000Z");
    await svc.db.schedule.createMany({
      data: [
        { id: bad, cronDefinition: "not a cron", nextCronAt: due, nextSendAt: due },
        { id: good, cronDefinition: "0 12 * * *", nextCronAt: due, nextSendAt: due },
      ],
    });
    clock.now = new Date("2026-03-12T12:00:05.000Z");
    expect(await ticker(svc.db).tick()).toBe(1);
    expect(await svc.db.scheduleRun.count({ where: { scheduleId: good } })).toBe(1);
    const moved = await svc.db.schedule.findUniqueOrThrow({ where: { id: bad } });
    expect(moved.nextSendAt?.toISOString()).toBe("2026-03-12T13:00:05.000Z");
  });

  it("does not fire disabled schedules", async ({ svc, api }) => {
    const created = (await api.create({ cron_definition: "* * * * *", enabled: false })).json();
    clock.now = new Date(clock.now.getTime() + 10 * 60_000);
    await ticker(svc.db).tick();
    expect(await svc.db.scheduleRun.count({ where: { scheduleId: created.id } })).toBe(0);
  });
});

describe("catch-up after an outage", () => {
  it("fires nothing, the latest, or every missed slot (bounded), as each schedule's policy says", async ({
    svc,
    api,
  }) => {
    await svc.db.schedule.updateMany({ data: { enabled: false } });
    clock.now = new Date("2026-09-01T00:00:30.000Z");
    const ids: Record<string, string> = {};
    for (const catch_up of ["none", "latest", "all"]) {
      ids[catch_up] = (await api.create({ cron_definition: "*/10 * * * *", catch_up })).json().id;
    }
    const tickers = [1, 2, 3].map(() =>
      ticker(svc.db, {
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
    clock.now = new Date("2026-09-01T00:10:20.000Z");
    await Promise.all(tickers.map((t) => t.tick()));
    for (const id of Object.values(ids)) {
      expect(await slotsOf(id)).toEqual(["00:10"]);
    }
    // Down from 00:10:20 to 01:32: slots 00:20 ... 01:30 were missed (8 of them).
    clock.now = new Date("2026-09-01T01:32:00.000Z");
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
    clock.now = new Date("2026-09-01T01:40:05.000Z");
    await Promise.all(tickers.map((t) => t.tick()));
    expect(await slotsOf(ids.none)).toEqual(["00:10", "01:40"]);
  });
});
