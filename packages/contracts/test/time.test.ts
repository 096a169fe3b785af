import { describe, expect, it } from "vitest";
import { toSeedTime } from "../src/time.ts";

describe("toSeedTime", () => {
  it("renders six fraction digits and Z, as Seed's services did", () => {
    expect(toSeedTime(new Date("2016-08-29T11:50:03.123Z"))).toBe("2016-08-29T11:50:03.123000Z");
  });

  it("keeps a zero fraction, so reading by position always works", () => {
    const at = toSeedTime(new Date("2016-08-29T11:50:03Z"));
    expect(at).toBe("2016-08-29T11:50:03.000000Z");
    // HelloMama's report: message['created_at'].replace('T', ' ')[:-8]
    expect(at.replace("T", " ").slice(0, -8)).toBe("2016-08-29 11:50:03");
  });

  it("is read back as the same time", () => {
    const at = new Date("2026-01-05T09:00:00.007Z");
    expect(new Date(toSeedTime(at)).getTime()).toBe(at.getTime());
  });

  it("leaves no time as null", () => {
    expect(toSeedTime(null)).toBeNull();
    expect(toSeedTime(undefined)).toBeNull();
  });
});
