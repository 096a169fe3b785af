import { describe, expect, it } from "vitest";
import { mailMerge } from "./topics-send.ts";
import { signUnsubscribeToken, verifyUnsubscribeToken } from "./unsubscribe-token.ts";

describe("mailMerge", () => {
  it("fills <<field>> and ((field)) from personalisation first, then identity details", () => {
    expect(
      mailMerge(
        { subject: "For <<first_name>>", body: "Hi << first_name >>, ((Clinic)) at ((time)); age <<age>>." },
        { clinic: "Hillbrow", first_name: "Override" },
        { first_name: "Alice", time: "8:00", age: 31, addresses: { msisdn: {} } },
      ),
    ).toEqual({ ok: true, subject: "For Override", body: "Hi Override, Hillbrow at 8:00; age 31." });
  });

  it("reports the first missing field, whether in the subject or the body; values stay plain text", () => {
    expect(mailMerge({ subject: null, body: "Hi <<first_name>> ((x))" }, {}, { x: "1" })).toEqual({
      ok: false,
      missing: "first_name",
    });
    expect(mailMerge({ subject: "((topic))", body: "b" }, {}, {})).toEqual({ ok: false, missing: "topic" });
    expect(mailMerge({ subject: null, body: "<<n>>" }, {}, { n: "<b>&" })).toMatchObject({ body: "<b>&" });
    // Nested details (addresses, objects) are not merge fields.
    expect(mailMerge({ subject: null, body: "<<addresses>>" }, {}, { addresses: {} })).toMatchObject({
      ok: false,
    });
  });
});

describe("unsubscribe tokens", () => {
  const secret = "unit-test-secret-unit-test-secret-unit";
  const claims = {
    identity: "0c6c7b5e-6d2a-4f0a-9d7e-3f3c1c1d2b01",
    topic: "outbreak/ke",
    channel: "email",
    expires: 2_000_000_000,
  };
  const now = 1_900_000_000_000;

  it("round-trips and never carries the identity in the clear", () => {
    const token = signUnsubscribeToken(secret, claims);
    expect(token).not.toContain(claims.identity);
    expect(verifyUnsubscribeToken(secret, token, now)).toEqual({ ok: true, claims });
  });

  it("refuses altered claims, another secret, expired and malformed tokens", () => {
    const token = signUnsubscribeToken(secret, claims);
    const [, signature] = token.split(".");
    const altered = `${Buffer.from(JSON.stringify([claims.identity, "other", "email", claims.expires])).toString("base64url")}.${signature}`;
    expect(verifyUnsubscribeToken(secret, altered, now)).toMatchObject({ ok: false, status: 403 });
    expect(verifyUnsubscribeToken(`${secret}x`, token, now)).toMatchObject({ ok: false, status: 403 });
    expect(verifyUnsubscribeToken(secret, token, claims.expires * 1000)).toMatchObject({
      ok: false,
      status: 400,
      reason: "expired",
    });
    for (const bad of ["", "abc", "a.b.c", `${token}.x`]) {
      expect(verifyUnsubscribeToken(secret, bad, now)).toMatchObject({ ok: false });
    }
    const notJson = Buffer.from("nope").toString("base64url");
    const signed = signUnsubscribeToken(secret, claims).replace(/^[^.]+/, notJson);
    expect(verifyUnsubscribeToken(secret, signed, now)).toMatchObject({ ok: false, status: 403 });
  });
});
