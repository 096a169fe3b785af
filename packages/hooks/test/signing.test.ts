import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { backoffMs, signBody } from "../src/index.ts";

describe("signBody", () => {
  it("is sha256= and the hex HMAC-SHA256 of the exact body", () => {
    const body = '{"hook":{"id":1},"data":{}}';
    expect(signBody("s3cret", body)).toBe(
      `sha256=${createHmac("sha256", "s3cret").update(body).digest("hex")}`,
    );
    expect(signBody("s3cret", `${body} `)).not.toBe(signBody("s3cret", body));
  });
});

describe("backoffMs", () => {
  it("doubles per attempt, within ±20% jitter, capped", () => {
    expect(backoffMs(1, 1000, 60_000, 0.5)).toBe(1000);
    expect(backoffMs(2, 1000, 60_000, 0.5)).toBe(2000);
    expect(backoffMs(4, 1000, 60_000, 0.5)).toBe(8000);
    expect(backoffMs(20, 1000, 60_000, 0.5)).toBe(60_000);
    expect(backoffMs(1, 1000, 60_000, 0)).toBe(800);
    expect(backoffMs(1, 1000, 60_000, 0.999999)).toBe(1200);
  });
});
