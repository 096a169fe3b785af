import { describe, expect, it } from "vitest";
import {
  DEFAULT_POLICY,
  dayIn,
  dueSequence,
  nthSlotAfter,
  SlotCounter,
  sequencesToSend,
  slotsBetween,
} from "./position.ts";

const daily = { cron: "0 8 * * *", timezone: "UTC" };
const anchor = new Date("2026-01-01T00:00:00.000Z");

describe("slots and due positions", () => {
  it("counts the schedule's slots in (from, to]", () => {
    expect(slotsBetween(daily, anchor, new Date("2026-01-01T07:59:59.000Z"))).toBe(0);
    expect(slotsBetween(daily, anchor, new Date("2026-01-01T08:00:00.000Z"))).toBe(1);
    expect(slotsBetween(daily, anchor, new Date("2026-01-04T09:00:00.000Z"))).toBe(4);
    expect(slotsBetween(daily, new Date("2026-01-05T00:00:00.000Z"), anchor)).toBe(0);
  });

  it("starts at the initial sequence number on the first slot and stops at the set's last", () => {
    const at = new Date("2026-01-04T08:00:00.000Z");
    expect(dueSequence(anchor, 1, daily, at, 10)).toBe(4);
    expect(dueSequence(anchor, 5, daily, at, 10)).toBe(8);
    expect(dueSequence(anchor, 5, daily, at, 6)).toBe(6);
    expect(dueSequence(new Date("2026-02-01T00:00:00.000Z"), 1, daily, at, 10)).toBe(0);
    expect(nthSlotAfter(daily, anchor, 3).toISOString()).toBe("2026-01-03T08:00:00.000Z");
  });

  it("counts many anchors against one listing of slots, as walking the schedule would", () => {
    const until = new Date("2026-03-01T08:00:00.000Z");
    const counter = new SlotCounter({ cron: "0 8 * * 1,4", timezone: "UTC" }, until);
    const anchors = ["2026-02-10T00:00:00.000Z", "2026-01-01T00:00:00.000Z", "2026-02-26T08:00:00.000Z"];
    for (const a of [...anchors, "2026-01-15T12:00:00.000Z", "2026-03-02T00:00:00.000Z"]) {
      const from = new Date(a);
      expect(counter.count(from), a).toBe(
        slotsBetween({ cron: "0 8 * * 1,4", timezone: "UTC" }, from, until),
      );
    }
  });

  it("names a day in the schedule's time zone", () => {
    expect(dayIn(new Date("2026-01-01T23:30:00.000Z"), "UTC")).toBe("2026-01-01");
    expect(dayIn(new Date("2026-01-01T23:30:00.000Z"), "Africa/Johannesburg")).toBe("2026-01-02");
  });
});

describe("what a slot sends", () => {
  it("sends the next message without an anchor, and nothing while ahead of it", () => {
    expect(sequencesToSend(3, null, DEFAULT_POLICY, 5)).toEqual([3]);
    expect(sequencesToSend(3, 2, DEFAULT_POLICY, 0)).toEqual([]);
    expect(sequencesToSend(3, 3, DEFAULT_POLICY, 0)).toEqual([3]);
  });

  it("send_all catches up at most max_per_day a day, but always one a slot", () => {
    const policy = { catchUp: "send_all" as const, maxPerDay: 3 };
    expect(sequencesToSend(1, 6, policy, 0)).toEqual([1, 2, 3]);
    expect(sequencesToSend(1, 2, policy, 0)).toEqual([1, 2]);
    expect(sequencesToSend(4, 6, policy, 2)).toEqual([4]);
    expect(sequencesToSend(4, 6, policy, 3)).toEqual([4]);
  });

  it("skip_to_current sends only the due message; latest_only also the last missed one", () => {
    expect(sequencesToSend(1, 6, { catchUp: "skip_to_current", maxPerDay: 1 }, 0)).toEqual([6]);
    expect(sequencesToSend(1, 6, { catchUp: "latest_only", maxPerDay: 1 }, 0)).toEqual([5, 6]);
    expect(sequencesToSend(6, 6, { catchUp: "latest_only", maxPerDay: 1 }, 0)).toEqual([6]);
  });
});
