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

  it("at 10,000 addresses forgets the oldest window only, so rotating addresses reset nobody else's count", () => {
    let now = 1_000_000;
    const limiter = new RefusalLimiter(1, 60_000, () => now);
    const rotating = Array.from({ length: 9_999 }, (_, i) => `2001:db8::${i.toString(16)}`);
    for (const address of rotating) {
      limiter.refused(address);
      now += 1;
    }
    limiter.refused("a");
    expect(limiter.wait("a")).toBe(60);
    expect(limiter.wait(rotating[0] as string)).toBeGreaterThan(0);

    limiter.refused("2001:db8::ffff"); // one address past the 10,000
    expect(limiter.wait("a")).toBe(60);
    expect(limiter.wait("2001:db8::ffff")).toBe(60);
    expect(limiter.wait(rotating[1] as string)).toBeGreaterThan(0);
    expect(limiter.wait(rotating[0] as string)).toBe(0); // the oldest, forgotten
  });

  it("takes an address's new minute for its newest window", () => {
    let now = 1_000_000;
    const limiter = new RefusalLimiter(1, 60_000, () => now);
    limiter.refused("a");
    now += 30_000;
    const others = Array.from({ length: 9_998 }, (_, i) => `10.0.${i >> 8}.${i & 255}`);
    for (const address of others) {
      limiter.refused(address);
    }
    now += 30_000; // a's minute is over: its next refusal starts a new one, newer than the others'
    limiter.refused("a");
    limiter.refused("b"); // the 10,000th address
    limiter.refused("c"); // the 10,001st: forgets the oldest window, others[0]'s, not a's
    expect(limiter.wait("a")).toBe(60);
    expect(limiter.wait("c")).toBe(60);
    expect(limiter.wait(others[0] as string)).toBe(0);
    expect(limiter.wait(others[1] as string)).toBe(30);
  });
});

describe("secondsUntilUtcMidnight", () => {
  it("counts the seconds to the next UTC day, at least one", () => {
    expect(secondsUntilUtcMidnight(Date.parse("2026-11-22T23:59:00Z"))).toBe(60);
    expect(secondsUntilUtcMidnight(Date.parse("2026-11-22T00:00:00Z"))).toBe(86_400);
    expect(secondsUntilUtcMidnight(Date.parse("2026-11-22T23:59:59.900Z"))).toBe(1);
  });
});
