import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { backoffMs, newSecret, signatureHeader } from "../src/index.ts";

describe("signatureHeader", () => {
  const body = '{"hook":{"id":1},"data":{}}';
  const id = "5b2e9f7a-1c3d-4e5f-8a9b-0c1d2e3f4a5b";

  it("is what the standardwebhooks package signs, and verifies with it", () => {
    const secret = newSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const now = new Date();
    const timestamp = Math.floor(now.getTime() / 1000);
    const wh = new Webhook(secret);
    expect(signatureHeader([secret], id, timestamp, body)).toBe(wh.sign(id, now, body));
    const headers = {
      "webhook-id": id,
      "webhook-timestamp": String(timestamp),
      "webhook-signature": signatureHeader([secret], id, timestamp, body),
    };
    expect(wh.verify(body, headers)).toEqual(JSON.parse(body));
    expect(() => wh.verify(`${body} `, headers)).toThrow();
  });

  it("carries one signature per secret, each verifying with its own", () => {
    const [next, previous] = [newSecret(), newSecret()];
    const timestamp = Math.floor(Date.now() / 1000);
    const header = signatureHeader([next, previous], id, timestamp, body);
    expect(header.split(" ")).toHaveLength(2);
    const headers = { "webhook-id": id, "webhook-timestamp": String(timestamp), "webhook-signature": header };
    expect(new Webhook(next).verify(body, headers)).toBeTruthy();
    expect(new Webhook(previous).verify(body, headers)).toBeTruthy();
    expect(() => new Webhook(newSecret()).verify(body, headers)).toThrow();
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
