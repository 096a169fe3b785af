import { expectError, serviceTest, waitFor } from "@tidings/testing";
import { describe, expect } from "vitest";
import { createMessageSenderService } from "../src/service.ts";
import { address, identityEvent, msisdn, statusesOf } from "./helpers.ts";
import { call, outbound, type Svc, send, sendToNew } from "./support.ts";

// Quiet hours and expiry, on the real broker and database, with the worker's clock under the test's control.

let now = new Date("2026-01-05T22:00:00.000Z"); // 00:00 in South Africa (UTC+2), 07:00 in Tokyo
const it = serviceTest(createMessageSenderService({ clock: () => now }), {
  worker: true,
  env: { DUE_POLL_INTERVAL_MS: "100" },
});

const waitForStatus = (svc: Svc, id: string, status: string) =>
  waitFor(async () => (await outbound(svc, id)).status === status && outbound(svc, id), {
    what: `outbound ${id} to be ${status}`,
    timeoutMs: 30_000,
  });
const DAY = { start: "08:00", end: "20:00" };

describe("sending windows on channels", () => {
  it("validates the window on save and changes nothing on bad input", async ({ svc }) => {
    for (const sending_window of [
      { start: "08:00", end: "08:00" },
      { start: "8:00", end: "20:00" },
      { start: "08:00", end: "24:00" },
      { start: "08:00", end: "20:00", timezone: "Mars/Olympus" },
      { start: "08:00", end: "20:00", extra: 1 },
    ]) {
      const res = await call(svc, "POST", "/api/v1/channel/", {
        channel_id: "BAD_WINDOW",
        channel_type: "log",
        sending_window,
      });
      expect(res.statusCode, JSON.stringify(sending_window)).toBe(400);
      expect(res.json().error.code).toMatch(/VALIDATION|SENDING_WINDOW/);
    }
    expect((await call(svc, "GET", "/api/v1/channel/BAD_WINDOW/")).statusCode).toBe(404);

    const created = await call(svc, "POST", "/api/v1/channel/", {
      channel_id: "QUIET",
      channel_type: "log",
      sending_window: { ...DAY, timezone: "Africa/Nairobi" },
    });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json().sending_window).toEqual({ ...DAY, timezone: "Africa/Nairobi" });
    const bad = await call(svc, "PATCH", "/api/v1/channel/QUIET/", {
      sending_window: { start: "09:00", end: "17:00", timezone: "Nowhere/Else" },
    });
    expect(bad.statusCode).toBe(400);
    expect((await call(svc, "GET", "/api/v1/channel/QUIET/")).json().sending_window.timezone).toBe(
      "Africa/Nairobi",
    );
    const cleared = await call(svc, "PATCH", "/api/v1/channel/LOG/", { sending_window: null });
    expect(cleared.statusCode).toBe(200);
    expect(cleared.json().sending_window).toBeNull();
  });
});

describe("quiet hours defer, not drop", () => {
  it("defers messages outside the window by the recipient's zone, sends them when it opens, lets high priority through, and expires", async ({
    svc,
  }) => {
    // A recipient whose identity has a time zone (Tokyo, 07:00 now): the window opens at 23:00Z.
    const tokyo = identityEvent([address("msisdn", msisdn(), { default: true })]);
    tokyo.details = { ...tokyo.details, timezone: "Asia/Tokyo" };
    await svc.broker.publish("identity.created", tokyo);
    await waitFor(() => svc.db.addressBookEntry.findUnique({ where: { identity: tokyo.id } }), {
      what: "the identity in the address book",
    });

    // Through the channel's window: a South African number (00:00 local) waits until 08:00 SAST = 06:00Z.
    const za = await send(svc, { to_addr: msisdn(), channel: "QUIET" });
    // The message's own window wins over the channel's; the identity's zone over the number's.
    const jp = await send(svc, { to_identity: tokyo.id, channel: "LOG", sending_window: DAY });
    // A verification code bypasses the window.
    const code = await send(svc, { to_addr: msisdn(), channel: "QUIET", priority: "high" });
    // The window opens after it expires: expired at once, never sent.
    const stale = await send(svc, {
      to_addr: msisdn(),
      channel: "QUIET",
      expires_at: "2026-01-06T05:00:00.000Z",
    });
    // Already past its expiry when the worker takes it.
    const late = await send(svc, {
      to_addr: msisdn(),
      channel: "LOG",
      expires_at: "2026-01-05T21:59:00.000Z",
    });
    // Deferred by not_before, expiring before then: the poller expires it.
    const waiting = await send(svc, {
      to_addr: msisdn(),
      channel: "LOG",
      not_before: "2026-01-06T12:00:00.000Z",
      expires_at: "2026-01-06T10:00:00.000Z",
    });

    await waitForStatus(svc, code, "delivered");
    await waitFor(async () => (await outbound(svc, za)).not_before === "2026-01-06T06:00:00.000000Z", {
      what: "the ZA message deferred to 06:00Z",
    });
    await waitFor(async () => (await outbound(svc, jp)).not_before === "2026-01-05T23:00:00.000000Z", {
      what: "the Tokyo message deferred to 23:00Z",
    });
    expect(await waitForStatus(svc, stale, "expired")).toMatchObject({
      attempts: 0,
      provider_id: null,
      to_addr: "",
    });
    expect(await waitForStatus(svc, late, "expired")).toMatchObject({ attempts: 0, provider_id: null });
    expect(await outbound(svc, za)).toMatchObject({ status: "queued", attempts: 0 });
    expect(await outbound(svc, waiting)).toMatchObject({ status: "queued", attempts: 0 });
    // Why it did not go when it was due, for a helpdesk: in its history (a send asked to wait has no such entry).
    expect((await call(svc, "GET", `/api/v1/outbound/${za}/history/`)).json().history).toContainEqual(
      expect.objectContaining({
        status: "queued",
        reason: "deferred until 2026-01-06T06:00:00.000Z: outside its sending window or calling hours",
      }),
    );

    // Tokyo's window opens: only that message goes.
    now = new Date("2026-01-05T23:00:01.000Z");
    await waitForStatus(svc, jp, "delivered");
    expect(await outbound(svc, za)).toMatchObject({ status: "queued", attempts: 0 });

    // South Africa's opens.
    now = new Date("2026-01-06T06:00:00.500Z");
    expect(await waitForStatus(svc, za, "delivered")).toMatchObject({ attempts: 1, not_before: null });

    // Past `waiting`'s expiry (before its not_before): the poller marks it expired; it was never sent.
    now = new Date("2026-01-06T10:00:01.000Z");
    expect(await waitForStatus(svc, waiting, "expired")).toMatchObject({ attempts: 0, provider_id: null });
    expect(await statusesOf(svc.db, waiting)).toEqual(["expired"]);
  });
});

describe("expiry input", () => {
  it("takes ttl_seconds from now, and refuses both ttl_seconds and expires_at", async ({ svc }) => {
    const before = Date.now();
    const res = await sendToNew(svc, {
      ttl_seconds: 3600,
      not_before: "2030-01-01T00:00:00.000Z",
    });
    expect(res.statusCode).toBe(201);
    const expiresAt = Date.parse(res.json().expires_at);
    expect(expiresAt).toBeGreaterThanOrEqual(before + 3_600_000);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 3_600_000);
    const count = await svc.db.outbound.count();
    const both = await sendToNew(svc, {
      ttl_seconds: 60,
      expires_at: "2030-01-01T00:00:00.000Z",
    });
    expect(both.statusCode).toBe(400);
    const badWindow = await sendToNew(svc, {
      sending_window: { start: "10:00", end: "10:00" },
    });
    expectError(badWindow, 400, "MESSAGE_SENDER_INVALID_SENDING_WINDOW");
    expect(await svc.db.outbound.count()).toBe(count);
  });
});
