import { describe, expect, it } from "vitest";
import { RateLimiter, RefusalLimiter, secondsUntilUtcMidnight } from "./limits.ts";

describe("RateLimiter", () => {
  it("allows `rate` requests at once, then refills at `rate` a second", () => {
    let now = 1_000_000;
    const limiter = new RateLimiter(() => now);
    expect([1, 2, 3].map(() => limiter.take("k", 3))).toEqual([0, 0, 0]);
    expect(limiter.take("k", 3)).toBe(1);
    now += 340; // a third of a second: one request's worth
    expect(limiter.take("k", 3)).toBe(0);
    expect(limiter.take("k", 3)).toBe(1);
    now += 10_000; // a long pause fills the bucket only up to `rate`
    expect([1, 2, 3].map(() => limiter.take("k", 3))).toEqual([0, 0, 0]);
    expect(limiter.take("k", 3)).toBe(1);
  });

  it("keeps one bucket per key", () => {
    const limiter = new RateLimiter(() => 0);
    expect(limiter.take("a", 1)).toBe(0);
    expect(limiter.take("a", 1)).toBe(1);
    expect(limiter.take("b", 1)).toBe(0);
  });

  it("asks a slow key to wait whole seconds until a request's worth has refilled", () => {
    let now = 0;
    const limiter = new RateLimiter(() => now);
    expect(limiter.take("k", 1)).toBe(0);
    now += 100;
    expect(limiter.take("k", 1)).toBe(1);
  });
});

describe("RefusalLimiter", () => {
  it("lets an address in until it had `max` refusals in its minute, then asks it to wait the minute out", () => {
    let now = 1_000_000;
    const limiter = new RefusalLimiter(2, 60_000, () => now);
    expect(limiter.wait("a")).toBe(0);
    limiter.refused("a");
    expect(limiter.wait("a")).toBe(0);
    limiter.refused("a");
    expect(limiter.wait("a")).toBe(60);
    expect(limiter.wait("b")).toBe(0); // each address apart
    now += 59_500;
    expect(limiter.wait("a")).toBe(1);
    now += 500; // a new minute
    expect(limiter.wait("a")).toBe(0);
    limiter.refused("a");
    expect(limiter.wait("a")).toBe(0);
  });
});

describe("secondsUntilUtcMidnight", () => {
  it("counts the seconds to the next UTC day, at least one", () => {
    expect(secondsUntilUtcMidnight(Date.parse("2026-11-22T23:59:00Z"))).toBe(60);
    expect(secondsUntilUtcMidnight(Date.parse("2026-11-22T00:00:00Z"))).toBe(86_400);
    expect(secondsUntilUtcMidnight(Date.parse("2026-11-22T23:59:59.900Z"))).toBe(1);
  });
});
