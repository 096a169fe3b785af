import type { ScheduleFired } from "@tidings/contracts";
import { waitFor } from "@tidings/testing";
import { describe, expect } from "vitest";
import { schedulerTest } from "./support.ts";

const HOUR = 3_600_000;
const START = Date.parse("2026-03-01T00:00:00Z");
const END = Date.parse("2026-11-08T12:00:00Z");

const { it, clock, competing } = schedulerTest(new Date(START).toISOString(), { events: ["schedule.fired"] });

/**
 * The DST policy, written out independently of the scheduler from the zones' 2026 transitions: a wall time
 * in the skipped hour maps to the end of the gap, one in the repeated hour to its first occurrence.
 */
const zones = {
  "America/New_York": {
    standard: -5,
    summer: -4,
    // 2026-03-08 02:00 EST -> 03:00 EDT; 2026-11-01 02:00 EDT -> 01:00 EST.
    spring: { day: "2026-03-08", from: 2, to: 3 },
    autumn: { day: "2026-11-01", from: 1, to: 2 },
  },
  "Europe/Berlin": {
    standard: 1,
    summer: 2,
    // 2026-03-29 02:00 CET -> 03:00 CEST; 2026-10-25 03:00 CEST -> 02:00 CET.
    spring: { day: "2026-03-29", from: 2, to: 3 },
    autumn: { day: "2026-10-25", from: 2, to: 3 },
  },
} as const;

function expectedInstant(zone: keyof typeof zones, wall: number): number {
  const z = zones[zone];
  const springStart = Date.parse(`${z.spring.day}T0${z.spring.from}:00:00Z`);
  const springEnd = Date.parse(`${z.spring.day}T0${z.spring.to}:00:00Z`);
  const autumnEnd = Date.parse(`${z.autumn.day}T0${z.autumn.to}:00:00Z`);
  if (wall < springStart) {
    return wall - z.standard * HOUR;
  }
  if (wall < springEnd) {
    return springEnd - z.summer * HOUR; // skipped: the first valid instant
  }
  if (wall < autumnEnd) {
    return wall - z.summer * HOUR; // includes the repeated hour: its first (summer-time) occurrence
  }
  return wall - z.standard * HOUR;
}

/** Wall times of "*\/20 1-3 * * 0" and "30 2 * * 0" (Sundays), mapped to instants, in [START, END]. */
function expectedSlots(zone: keyof typeof zones, cron: "sunday-night" | "sunday-230"): string[] {
  const slots = new Set<string>();
  for (let day = START - 2 * 86_400_000; day < END + 2 * 86_400_000; day += 86_400_000) {
    if (new Date(day).getUTCDay() !== 0) {
      continue;
    }
    const walls =
      cron === "sunday-230"
        ? [day + 2 * HOUR + 30 * 60_000]
        : [1, 2, 3].flatMap((h) => [0, 20, 40].map((m) => day + h * HOUR + m * 60_000));
    for (const wall of walls) {
      const instant = expectedInstant(zone, wall);
      if (instant > START && instant <= END) {
        slots.add(new Date(instant).toISOString());
      }
    }
  }
  return [...slots].sort();
}

describe("daylight saving, three competing tickers", () => {
  it("fires every slot exactly once across spring and autumn changes in two time zones", async ({
    svc,
    capture,
    api,
  }) => {
    const schedules: { id: string; expected: string[] }[] = [];
    for (const zone of Object.keys(zones) as (keyof typeof zones)[]) {
      for (const [cron, kind] of [
        ["*/20 1-3 * * 0", "sunday-night"],
        ["30 2 * * 0", "sunday-230"],
      ] as const) {
        const res = await api.create({ cron_definition: cron, timezone: zone, catch_up: "latest" });
        expect(res.statusCode).toBe(201);
        schedules.push({ id: res.json().id, expected: expectedSlots(zone, kind) });
      }
    }
    // The oracle really covers the transitions: in New York 02:20 on the spring Sunday collapses onto 03:00.
    expect(schedules[0]?.expected).toContain("2026-03-08T07:00:00.000Z");
    expect(schedules[0]?.expected).not.toContain("2026-11-01T06:00:00.000Z"); // 01:00 EST, the repeat

    let steps = 0;
    let firedByTickers = 0;
    await competing(svc.config.DATABASE_URL, 3, async (tickers) => {
      // Simulated time jumps to the next pending slot (plus a few seconds), as a ticker would reach it; each
      // step is raced by the three tickers, twice each.
      for (;;) {
        const next = await svc.db.schedule.aggregate({
          _min: { nextSendAt: true },
          where: { enabled: true },
        });
        const at = next._min.nextSendAt?.getTime();
        if (at === undefined || at > END) {
          break;
        }
        clock.now = new Date(at + (steps % 7) * 1_000);
        const counts = await Promise.all([...tickers, ...tickers].map((t) => t.tick()));
        firedByTickers += counts.reduce((a, b) => a + b, 0);
        steps++;
      }
    });

    const total = schedules.reduce((n, s) => n + s.expected.length, 0);
    expect(firedByTickers).toBe(total);
    for (const schedule of schedules) {
      const runs = await svc.db.scheduleRun.findMany({
        where: { scheduleId: schedule.id },
        orderBy: { slot: "asc" },
      });
      expect(runs.map((r) => r.slot.toISOString())).toEqual(schedule.expected);
    }
    // What consumers see: one schedule.fired per slot, no duplicates.
    await waitFor(() => capture.named("schedule.fired").length >= total, {
      what: `${total} schedule.fired`,
      timeoutMs: 30_000,
    });
    await new Promise((r) => setTimeout(r, 300));
    const fired = capture.named<ScheduleFired>("schedule.fired");
    expect(fired).toHaveLength(total);
    for (const schedule of schedules) {
      expect(
        fired
          .filter((m) => m.schedule_id === schedule.id)
          .map((m) => m.slot)
          .sort(),
      ).toEqual(schedule.expected);
    }
  }, 120_000);
});
