import { queues, retryDelay } from "@tidings/contracts";
import { cronProblem, instantOf, latestSlot, nextSlot, slotsBetween } from "@tidings/contracts/cron";
import { describe, expect, it } from "vitest";
import { DEFAULT_CATCH_UP_LIMITS } from "../src/config.ts";
import { intervalSlotsBetween, nextIntervalSlot, parseInterval } from "../src/interval.ts";
import { dueSlots, type Timing } from "../src/timing.ts";

const iso = (d: Date | null) => d?.toISOString() ?? null;
const walk = (cron: string, tz: string, from: string, n: number) => {
  const out: string[] = [];
  let at = new Date(from);
  for (let i = 0; i < n; i++) {
    at = nextSlot(cron, tz, at);
    out.push(at.toISOString());
  }
  return out;
};

describe("cron slots across daylight-saving changes", () => {
  it("runs a slot in the skipped hour once, at the first valid time (New York, spring)", () => {
    // 2026-03-08 02:00 EST -> 03:00 EDT. cron-parser alone would say 03:30 EDT.
    expect(walk("30 2 * * *", "America/New_York", "2026-03-07T12:00:00Z", 2)).toEqual([
      "2026-03-08T07:00:00.000Z", // 03:00 EDT
      "2026-03-09T06:30:00.000Z", // 02:30 EDT
    ]);
    // Every skipped quarter collapses onto 03:00, which is also a slot of its own: one run.
    expect(walk("*/15 * * * *", "America/New_York", "2026-03-08T06:30:00Z", 4)).toEqual([
      "2026-03-08T06:45:00.000Z", // 01:45 EST
      "2026-03-08T07:00:00.000Z", // 03:00 EDT
      "2026-03-08T07:15:00.000Z",
      "2026-03-08T07:30:00.000Z",
    ]);
  });

  it("runs a repeated hour once (New York, autumn)", () => {
    // 2026-11-01 02:00 EDT -> 01:00 EST: 01:00-01:59 happens twice. cron-parser alone fires it twice.
    expect(walk("*/30 * * * *", "America/New_York", "2026-11-01T04:00:00Z", 5)).toEqual([
      "2026-11-01T04:30:00.000Z", // 00:30 EDT
      "2026-11-01T05:00:00.000Z", // 01:00 EDT
      "2026-11-01T05:30:00.000Z", // 01:30 EDT
      "2026-11-01T07:00:00.000Z", // 02:00 EST
      "2026-11-01T07:30:00.000Z",
    ]);
    // During the second 01:xx, the latest slot is still the first 01:30, and the next one 02:00 EST.
    expect(iso(latestSlot("*/30 * * * *", "America/New_York", new Date("2026-11-01T06:45:00Z")))).toBe(
      "2026-11-01T05:30:00.000Z",
    );
    expect(iso(nextSlot("*/30 * * * *", "America/New_York", new Date("2026-11-01T06:10:00Z")))).toBe(
      "2026-11-01T07:00:00.000Z",
    );
  });

  it("does the same in Berlin", () => {
    expect(walk("30 2 * * *", "Europe/Berlin", "2026-03-28T12:00:00Z", 2)).toEqual([
      "2026-03-29T01:00:00.000Z", // 03:00 CEST (02:30 does not exist)
      "2026-03-30T00:30:00.000Z",
    ]);
    expect(walk("30 2 * * *", "Europe/Berlin", "2026-10-24T12:00:00Z", 2)).toEqual([
      "2026-10-25T00:30:00.000Z", // the first 02:30 (CEST) only
      "2026-10-26T01:30:00.000Z",
    ]);
  });

  it("maps wall times to instants: gap to its end, repeated to the first", () => {
    expect(new Date(instantOf("Europe/Berlin", Date.parse("2026-03-29T02:30:00Z"))).toISOString()).toBe(
      "2026-03-29T01:00:00.000Z",
    );
    expect(new Date(instantOf("Europe/Berlin", Date.parse("2026-10-25T02:30:00Z"))).toISOString()).toBe(
      "2026-10-25T00:30:00.000Z",
    );
    expect(new Date(instantOf("Asia/Tokyo", Date.parse("2026-10-25T02:30:00Z"))).toISOString()).toBe(
      "2026-10-24T17:30:00.000Z",
    );
  });

  it("lists slots in a window, newest kept when limited, each instant once", () => {
    const slots = slotsBetween(
      "*/15 * * * *",
      "America/New_York",
      new Date("2026-03-08T06:00:00Z"),
      new Date("2026-03-08T07:30:00Z"),
      100,
    ).map(iso);
    expect(slots).toEqual([
      "2026-03-08T06:15:00.000Z",
      "2026-03-08T06:30:00.000Z",
      "2026-03-08T06:45:00.000Z",
      "2026-03-08T07:00:00.000Z",
      "2026-03-08T07:15:00.000Z",
      "2026-03-08T07:30:00.000Z",
    ]);
    expect(
      slotsBetween(
        "* * * * *",
        "UTC",
        new Date("2026-01-01T00:00:00Z"),
        new Date("2026-01-01T01:00:00Z"),
        2,
      ).map(iso),
    ).toEqual(["2026-01-01T00:59:00.000Z", "2026-01-01T01:00:00.000Z"]);
  });
});

describe("validation", () => {
  it.each([
    ["0 9 * * 1", null],
    ["*/5 * * * *", null],
    ["0 9 * * 1 2026", /expected 5 fields/],
    ["61 * * * *", /not a valid crontab string/],
    ["0 25 * * *", /not a valid crontab string/],
    ["a b c d e", /not a valid crontab string/],
  ])("cron %j", (cron, expected) => {
    const problem = cronProblem(cron);
    if (expected === null) {
      expect(problem).toBeNull();
    } else {
      expect(problem).toMatch(expected);
    }
  });

  it.each([
    ["1 minutes", 60_000],
    ["2 hours", 7_200_000],
    ["1 days", 86_400_000],
    ["30 seconds", 30_000],
  ])("interval %j is %d ms", (definition, ms) => {
    expect(parseInterval(definition)).toEqual({ ms });
  });

  it.each([
    [
      "5",
      /^"5" is not a valid interval string: integer and period \(from: days, hours, minutes, seconds\) e\.g\. 1 minutes$/,
    ],
    ["five minutes", /"five minutes" is not a valid interval string/],
    ["0 minutes", /"0 minutes" is not a valid interval string: the integer must be at least 1/],
    ["1 weeks", /^"1 weeks" is not a valid period\. Accepted: days, hours, minutes, seconds$/],
    ["1 microseconds", /is not a valid period/],
    ["1 minutes extra", /is not a valid interval string/],
    ["400 days", /at most 366 days/],
  ])("interval %j is refused", (definition, message) => {
    const parsed = parseInterval(definition);
    expect("problem" in parsed && parsed.problem).toMatch(message);
  });

  it("counts interval slots from the anchor", () => {
    const anchor = new Date("2026-01-01T00:00:00Z");
    expect(iso(nextIntervalSlot(600_000, anchor, anchor))).toBe("2026-01-01T00:10:00.000Z");
    expect(iso(nextIntervalSlot(600_000, anchor, new Date("2026-01-01T00:10:00Z")))).toBe(
      "2026-01-01T00:20:00.000Z",
    );
    expect(
      intervalSlotsBetween(
        600_000,
        anchor,
        new Date("2026-01-01T00:05:00Z"),
        new Date("2026-01-01T00:45:00Z"),
        3,
      ).map(iso),
    ).toEqual(["2026-01-01T00:20:00.000Z", "2026-01-01T00:30:00.000Z", "2026-01-01T00:40:00.000Z"]);
  });
});

describe("catch-up policies", () => {
  const base: Timing = {
    cronDefinition: "*/10 * * * *",
    intervalDefinition: null,
    intervalAnchor: null,
    timezone: "UTC",
    catchUp: "latest",
    nextCronAt: new Date("2026-01-01T00:10:00Z"),
    nextIntervalAt: null,
  };
  // Down from 00:05 to 01:03:30: slots 00:10 ... 01:00 were missed.
  const now = new Date("2026-01-01T01:03:30Z");

  it("latest fires the newest missed slot once", () => {
    const plan = dueSlots(base, now, DEFAULT_CATCH_UP_LIMITS);
    expect(plan.slots.map((s) => iso(s.slot))).toEqual(["2026-01-01T01:00:00.000Z"]);
    expect(iso(plan.nextSendAt)).toBe("2026-01-01T01:10:00.000Z");
  });

  it("none skips missed slots but fires an on-time one", () => {
    expect(dueSlots({ ...base, catchUp: "none" }, now, DEFAULT_CATCH_UP_LIMITS).slots).toEqual([]);
    const onTime = dueSlots(
      { ...base, catchUp: "none" },
      new Date("2026-01-01T01:00:30Z"),
      DEFAULT_CATCH_UP_LIMITS,
    );
    expect(onTime.slots.map((s) => iso(s.slot))).toEqual(["2026-01-01T01:00:00.000Z"]);
  });

  it("all fires every missed slot, bounded by count and age", () => {
    const all = dueSlots({ ...base, catchUp: "all" }, now, DEFAULT_CATCH_UP_LIMITS);
    expect(all.slots.map((s) => s.slot.toISOString().slice(11, 16))).toEqual([
      "00:10",
      "00:20",
      "00:30",
      "00:40",
      "00:50",
      "01:00",
    ]);
    const bounded = dueSlots({ ...base, catchUp: "all" }, now, {
      ...DEFAULT_CATCH_UP_LIMITS,
      maxSlots: 4,
      maxAgeMs: 35 * 60_000,
    });
    // Age: nothing before 00:28:30; count: the newest 4 of what is left.
    expect(bounded.slots.map((s) => s.slot.toISOString().slice(11, 16))).toEqual([
      "00:30",
      "00:40",
      "00:50",
      "01:00",
    ]);
    expect(
      dueSlots({ ...base, catchUp: "all" }, now, { ...DEFAULT_CATCH_UP_LIMITS, maxSlots: 2 }).slots.length,
    ).toBe(2);
  });

  it("merges cron and interval slots; an instant both produce is one slot", () => {
    const plan = dueSlots(
      {
        ...base,
        catchUp: "all",
        intervalDefinition: "15 minutes",
        intervalAnchor: new Date("2026-01-01T00:00:00Z"),
        nextIntervalAt: new Date("2026-01-01T00:15:00Z"),
      },
      new Date("2026-01-01T00:31:00Z"),
      DEFAULT_CATCH_UP_LIMITS,
    );
    expect(plan.slots.map((s) => [s.slot.toISOString().slice(11, 16), s.trigger])).toEqual([
      ["00:10", "cron"],
      ["00:15", "interval"],
      ["00:20", "cron"],
      ["00:30", "cron"],
    ]);
    expect(iso(plan.nextCronAt)).toBe("2026-01-01T00:40:00.000Z");
    expect(iso(plan.nextIntervalAt)).toBe("2026-01-01T00:45:00.000Z");
    expect(iso(plan.nextSendAt)).toBe("2026-01-01T00:40:00.000Z");
  });
});

describe("HTTP delivery retry policy", () => {
  it("tries 5 times with growing delays, capped at 300 s, spread by jitter", () => {
    const policy = queues["scheduler.http-deliveries"].retry;
    expect(policy.maxAttempts).toBe(5);
    const delays = [1, 2, 3, 4].map((n) => retryDelay(policy, n, 0.5));
    expect(delays).toEqual([...delays].sort((a, b) => a - b));
    expect(new Set(delays).size).toBe(4);
    expect(Math.max(...delays)).toBe(300_000);
    expect(retryDelay(policy, 4, 0)).toBeLessThan(retryDelay(policy, 4, 0.99));
    expect(retryDelay(policy, 9, 0.99)).toBeLessThanOrEqual(360_000);
  });
});
