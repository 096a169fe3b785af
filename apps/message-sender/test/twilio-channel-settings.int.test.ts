import type { OptOutReported } from "@tidings/contracts";
import { TWILIO_ERRORS } from "@tidings/provider-simulators";
import { expectError, waitFor } from "@tidings/testing";
import twilio from "twilio";
import { describe, expect } from "vitest";
import { msisdn, statusesOf, waitForIdle } from "./helpers.ts";
import {
  createTwilioTestChannel,
  outbound,
  reportsOf,
  requestsTo,
  TWILIO_SID as SID,
  type Svc,
  send,
  sendThrough,
  TWILIO_TOKEN as TOKEN,
  twilioChannelTest,
  waitForStatus,
} from "./support.ts";

// The twilio channel's settings: rate and concurrency limits, status callbacks and fallback channels.
const it = twilioChannelTest();

/** Posts a status callback as Twilio would, signed with `token` over `signedUrl`. */
function callback(
  svc: Svc,
  base: string,
  channel: string,
  params: Record<string, string>,
  opts: { token?: string; signedUrl?: string; headers?: Record<string, string> } = {},
) {
  const path = `/api/v1/events/twilio/${channel}`;
  const signature = twilio.getExpectedTwilioSignature(
    opts.token ?? TOKEN,
    opts.signedUrl ?? `${base}${path}`,
    params,
  );
  return svc.app.inject({
    method: "POST",
    url: path,
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      "x-twilio-signature": signature,
      ...opts.headers,
    },
    payload: new URLSearchParams(params).toString(),
  });
}

describe("rate_limit", () => {
  it("spreads a channel's sends over seconds, across the worker's concurrent consumers", async ({
    svc,
    sim,
    base,
  }) => {
    await createTwilioTestChannel(svc, sim, base, "TW_RATE", { rate_limit: 2 });
    const sent = await Promise.all(Array.from({ length: 6 }, () => sendThrough(svc, "TW_RATE")));
    for (const { id } of sent) {
      await waitForStatus(svc, id, "delivered");
    }
    const times = sent.flatMap(({ to }) => sim.requestTimes.filter((_, i) => sim.requests[i]?.To === to));
    expect(times).toHaveLength(6);
    // Three seconds' windows at least: without the limit the six go out within milliseconds.
    expect(Math.max(...times) - Math.min(...times)).toBeGreaterThanOrEqual(900);
    const windows = await svc.db.channelRateWindow.findMany({ where: { channel: "TW_RATE" } });
    expect(windows.length).toBeGreaterThanOrEqual(3);
    expect(Math.max(...windows.map((w) => w.used))).toBeLessThanOrEqual(2);
  });
});

describe("concurrency_limit", () => {
  it("keeps provider requests in progress at once within the limit", async ({ svc, sim, base }) => {
    await createTwilioTestChannel(svc, sim, base, "TW_ONE", { concurrency_limit: 1 });
    sim.configure({ latencyMs: 300 });
    try {
      const sent = await Promise.all(Array.from({ length: 3 }, () => sendThrough(svc, "TW_ONE")));
      for (const { id } of sent) {
        await waitFor(async () => (await outbound(svc, id)).provider_id, { what: `${id} to be sent` });
      }
      const times = sent
        .flatMap(({ to }) => sim.requestTimes.filter((_, i) => sim.requests[i]?.To === to))
        .sort((a, b) => a - b);
      expect(times).toHaveLength(3);
      // One at a time: each request is answered (after 300 ms) before the next one starts.
      expect((times[1] as number) - (times[0] as number)).toBeGreaterThanOrEqual(250);
      expect((times[2] as number) - (times[1] as number)).toBeGreaterThanOrEqual(250);
    } finally {
      sim.configure({ latencyMs: 0 });
    }
    expect(await svc.db.channelSlot.count({ where: { channel: "TW_ONE", holder: { not: null } } })).toBe(0);
  });
});

describe("status callbacks", () => {
  it("refuse a forged, unsigned or re-targeted callback with 403 and change nothing", async ({
    svc,
    sim,
    capture,
    base,
  }) => {
    // A channel with no status_callback: the outbound stays submitted until a callback is accepted.
    await createTwilioTestChannel(svc, sim, undefined, "TW_QUIET");
    const { id } = await sendThrough(svc, "TW_QUIET");
    const sid: string = (await waitForStatus(svc, id, "submitted")).provider_id;
    const params = { MessageSid: sid, MessageStatus: "delivered", AccountSid: SID };
    expect((await callback(svc, base, "TW_QUIET", params, { token: "not-the-token" })).statusCode).toBe(403);
    // Signed for another channel's URL.
    const retargeted = await callback(svc, base, "TW_QUIET", params, {
      signedUrl: `${base}/api/v1/events/twilio/TW`,
    });
    expect(retargeted.statusCode).toBe(403);
    const unsigned = await svc.app.inject({
      method: "POST",
      url: "/api/v1/events/twilio/TW_QUIET",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      payload: new URLSearchParams(params).toString(),
    });
    expectError(unsigned, 403, "MESSAGE_SENDER_INVALID_SIGNATURE");
    // A parameter changed after signing.
    const signature = twilio.getExpectedTwilioSignature(
      TOKEN,
      `${base}/api/v1/events/twilio/TW_QUIET`,
      params,
    );
    const tampered = await svc.app.inject({
      method: "POST",
      url: "/api/v1/events/twilio/TW_QUIET",
      headers: { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": signature },
      payload: new URLSearchParams({ ...params, MessageStatus: "failed" }).toString(),
    });
    expect(tampered.statusCode).toBe(403);
    expect(await outbound(svc, id)).toMatchObject({ status: "submitted" });
    expect(reportsOf(capture, id)).toHaveLength(0);

    // Signed over the externally visible URL, as forwarded by a proxy: accepted.
    const res = await callback(svc, base, "TW_QUIET", params, {
      signedUrl: "https://tidings.example.org/api/v1/events/twilio/TW_QUIET",
      headers: { "x-forwarded-proto": "https", "x-forwarded-host": "tidings.example.org" },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ accepted: true, reason: "Event processed" });
    expect(await waitForStatus(svc, id, "delivered")).toMatchObject({ delivered: true, to_addr: "" });
  });

  it("answer 404 for a channel that is not a twilio channel", async ({ svc, base }) => {
    const res = await callback(svc, base, "LOG", { MessageSid: "SMx", MessageStatus: "delivered" });
    expect(res.statusCode).toBe(404);
  });
});

describe("fallback channels", () => {
  it("fail over to the fallback only on a definite rejection", async ({ svc, sim, base }) => {
    await createTwilioTestChannel(svc, sim, base, "TW_FB", { fallback: "LOG" });
    sim.failNext(TWILIO_ERRORS.invalidTo("+27820000000"));
    const rejected = await sendThrough(svc, "TW_FB");
    expect(await waitForStatus(svc, rejected.id, "delivered")).toMatchObject({
      channel: "LOG",
      provider_id: expect.stringMatching(/^log-/),
    });
    expect(requestsTo(sim, rejected.to)).toHaveLength(1);

    sim.failNext(TWILIO_ERRORS.serverError());
    const outage = await sendThrough(svc, "TW_FB");
    expect(await waitForStatus(svc, outage.id, "delivered")).toMatchObject({
      channel: "TW_FB",
      provider_id: expect.stringMatching(/^SM/),
    });
    expect(requestsTo(sim, outage.to)).toHaveLength(2);
  });

  it("do not take a message to a recipient who opted out (21610): it fails with reason opted_out", async ({
    svc,
    sim,
    capture,
  }) => {
    sim.failNext(TWILIO_ERRORS.unsubscribed());
    const { id, to } = await sendThrough(svc, "TW_FB");
    const failed = await waitForStatus(svc, id, "failed");
    expect(failed).toMatchObject({
      channel: "TW_FB",
      last_error: "opted_out",
      provider_id: null,
      attempts: 0,
    });
    await waitForIdle(svc.broker, "message-sender.outbound-send");
    expect(requestsTo(sim, to)).toHaveLength(1);
    expect(await statusesOf(svc.db, id)).toEqual(["failed"]);
    // identity is told, to record the opt-out in its ledger (source provider); no delivery failure is counted
    const reported = await waitFor(
      () => capture.named<OptOutReported>("optout.reported").find((r) => r.outbound_id === id),
      { what: "optout.reported" },
    );
    expect(reported).toMatchObject({
      address: to,
      address_type: "msisdn",
      channel: "TW_FB",
      provider_code: "twilio 21610",
    });
    expect(reportsOf(capture, id)).toEqual([]);
    // The number is stopped here at once, whether or not identity finds someone to opt out.
    const again = await send(svc, { to_addr: to, channel: "TW_FB" });
    expect(await waitForStatus(svc, again, "failed")).toMatchObject({ last_error: "opted_out" });
    expect(requestsTo(sim, to)).toHaveLength(1);
  });

  it("stop the number when a status callback reports it unsubscribed (21610), and tell identity", async ({
    svc,
    sim,
    capture,
  }) => {
    const to = msisdn();
    sim.script(to, [{ status: "undelivered", errorCode: 21610 }]);
    const { id } = await sendThrough(svc, "TW", to);
    expect(await waitForStatus(svc, id, "failed")).toMatchObject({
      last_error: "twilio undelivered (error 21610)",
    });
    const reported = await waitFor(
      () => capture.named<OptOutReported>("optout.reported").find((r) => r.outbound_id === id),
      { what: "optout.reported" },
    );
    expect(reported).toMatchObject({ address: to, address_type: "msisdn", channel: "TW" });
    // As when the provider refuses the send, the failure is no delivery failure of the person: no delivery report
    // (it would have been published before optout.reported, written after it in the same statement).
    expect(reportsOf(capture, id)).toEqual([]);
    const again = await send(svc, { to_addr: to, channel: "TW" });
    expect(await waitForStatus(svc, again, "failed")).toMatchObject({ last_error: "opted_out" });
    expect(requestsTo(sim, to)).toHaveLength(1);
  });
});
