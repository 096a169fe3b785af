/**
 * The twilio-voice channel on the Twilio Voice simulator, through the real SDK: a call that plays an audio
 * message's URLs then redirects to its played marker, decided by its signed call status callbacks (every end)
 * and that marker (in either order; a hang-up before it is not delivered), and its forged callbacks refused.
 */
import type { OutboundDeliveryReport } from "@tidings/contracts";
import {
  type CallOutcome,
  startTwilioVoiceSimulator,
  type TwilioVoiceSimulator,
} from "@tidings/provider-simulators";
import { serviceTest, waitFor } from "@tidings/testing";
import twilio from "twilio";
import { describe, expect } from "vitest";
import { HUNG_UP_EARLY } from "../src/channels/voice.ts";
import { createMessageSenderService } from "../src/service.ts";
import { msisdn, outboundReaching, statusesOf } from "./helpers.ts";
import { audioEnding, COMPLETED_CASES, createOneAttemptChannels, sendAudio } from "./voice-helpers.ts";

const SID = `AC${"7".repeat(32)}`;
const TOKEN = "twilio-voice-auth-token";

const it = serviceTest(createMessageSenderService(), { worker: true, env: { CHANNEL_CACHE_TTL_MS: "100" } }, [
  "outbound.delivery_report",
]).extend<{ sim: TwilioVoiceSimulator & { base: string } }>({
  sim: [
    async ({ svc }, use) => {
      const sim = await startTwilioVoiceSimulator({ accounts: { [SID]: TOKEN }, callbackIntervalMs: 10 });
      const config = { account_sid: SID, auth_token: TOKEN, from: "+15005550006", api_url: sim.url };
      // One attempt: every end is final here (retries: voice-retries.int.test.ts).
      const base = await createOneAttemptChannels(svc, "TV", "twilio-voice", config);
      await use(Object.assign(sim, { base }));
      await sim.close();
    },
    { scope: "file", auto: true },
  ],
});

describe("the twilio-voice channel", () => {
  it("calls, plays every URL in order, and is delivered when the call completes after its played marker", async ({
    svc,
    sim,
    receiver,
    capture,
  }) => {
    const to = msisdn();
    const urls = [`${receiver.url}/media/welcome.mp3`, `${receiver.url}/media/week-12.mp3?lang=zul`];
    const id = await sendAudio(svc, "TV", to, urls);
    expect(await outboundReaching(svc.db, id, "delivered")).toMatchObject({ attempts: 1, toAddr: "" });
    const [call] = sim.calls.filter((c) => c.to === to);
    const marker = `${sim.base}/api/v1/events/twilio-voice/TV/played?outbound=${id}`;
    expect(call).toMatchObject({ from: "+15005550006", plays: urls, fetched: [200, 200], redirected: 200 });
    expect(call!.twiml).toBe(
      `<?xml version="1.0" encoding="UTF-8"?><Response><Play>${urls[0]}</Play><Play>${urls[1]!.replace("&", "&amp;")}</Play><Redirect method="POST">${marker}</Redirect></Response>`,
    );
    expect(await svc.db.playedCall.findMany({ where: { providerId: call!.sid } })).toMatchObject([
      { channel: "TV", outboundId: id },
    ]);
    expect(call!.statusCallback).toBe(`${sim.base}/api/v1/events/twilio-voice/TV`);
    // Every progress event came, signed, and was accepted; only the end decided the outbound.
    const callbacks = () => sim.callbacks.filter((c) => c.params.CallSid === call!.sid);
    await waitFor(() => callbacks().length === 4, { what: "the call's four callbacks answered" });
    expect(callbacks().map((c) => [c.params.CallStatus, c.responseStatus])).toEqual([
      ["initiated", 200],
      ["ringing", 200],
      ["in-progress", 200],
      ["completed", 200],
    ]);
    const played = receiver.received.filter((r) => r.path.startsWith("/media/")).map((r) => r.path);
    expect(played).toEqual(expect.arrayContaining(["/media/welcome.mp3", "/media/week-12.mp3?lang=zul"]));
    await waitFor(
      () =>
        capture
          .named<OutboundDeliveryReport>("outbound.delivery_report")
          .some((r) => r.outbound_id === id && r.delivered),
      { what: "the delivered report" },
    );
  });

  it.for<[CallOutcome, string]>([
    ["no-answer", "twilio call no-answer"],
    ["busy", "twilio call busy"],
    ["failed", "twilio call failed"],
    ["canceled", "twilio call canceled"],
  ])("fails a call that ends %s with that reason", async ([outcome, reason], { svc, sim, capture }) => {
    const to = msisdn();
    sim.script(to, [outcome]);
    const id = await sendAudio(svc, "TV", to, ["https://media.example.org/a.mp3"]);
    expect(await outboundReaching(svc.db, id, "failed")).toMatchObject({ lastError: reason, attempts: 1 });
    expect(sim.calls.filter((c) => c.to === to)).toHaveLength(1);
    await waitFor(
      () =>
        capture
          .named<OutboundDeliveryReport>("outbound.delivery_report")
          .some((r) => r.outbound_id === id && !r.delivered),
      { what: "the failed report" },
    );
  });

  it.for(COMPLETED_CASES)("a call that ends completed, %s, is %s", async (ending, { svc, sim }) => {
    const to = msisdn();
    const outcome = ending[0];
    const done = await audioEnding(svc, sim.script, "TV", to, ending);
    const [call] = sim.calls.filter((c) => c.to === to);
    expect(call!.status).toBe("completed");
    if (outcome === "hung-up") {
      // It heard the first audio only: no played marker, failed as hung up early (one attempt here).
      expect(done).toMatchObject({ lastError: HUNG_UP_EARLY, attempts: 1 });
      expect(call).toMatchObject({ fetched: [-1] });
      expect(call!.redirected).toBeUndefined();
      expect(await svc.db.playedCall.count({ where: { providerId: call!.sid } })).toBe(0);
    } else {
      // The marker came after the call's end: delivered all the same.
      expect(call!.redirected).toBe(200);
      expect(done.lastError).toBeNull();
    }
  });

  it("fails an outbound with nothing to play without calling", async ({ svc, sim }) => {
    const to = msisdn();
    const id = await sendAudio(svc, "TV", to, []);
    expect((await outboundReaching(svc.db, id, "failed")).lastError).toMatch(/no voice_speech_url/);
    expect(sim.calls.filter((c) => c.to === to)).toHaveLength(0);
  });

  it("refuses a forged call status callback or played marker with 403 and changes nothing", async ({
    svc,
    sim,
  }) => {
    const to = msisdn();
    // No status_callback: the call's end arrives only as the test posts it.
    sim.script(to, ["none"]);
    const id = await sendAudio(svc, "TV_QUIET", to, ["https://media.example.org/a.mp3"]);
    const sent = await outboundReaching(svc.db, id, "submitted");
    const callPath = "/api/v1/events/twilio-voice/TV_QUIET";
    const markerPath = `${callPath}/played?outbound=${id}`;
    const params = { CallSid: sent.providerId as string, CallStatus: "completed", AccountSid: SID };
    const post = (token: string, path = callPath) =>
      svc.app.inject({
        method: "POST",
        url: path,
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          "x-twilio-signature": twilio.getExpectedTwilioSignature(token, `${sim.base}${path}`, params),
          host: new URL(sim.base).host,
        },
        payload: new URLSearchParams(params).toString(),
      });
    for (const path of [callPath, markerPath]) {
      const forged = await post("not-the-token", path);
      expect(forged.statusCode).toBe(403);
      expect(forged.json().error.code).toBe("MESSAGE_SENDER_INVALID_SIGNATURE");
    }
    expect(await svc.db.playedCall.count({ where: { providerId: params.CallSid } })).toBe(0);
    // A twilio-voice callback to the SMS route (no twilio SMS channel of that id): 404.
    const elsewhere = await svc.app.inject({
      method: "POST",
      url: "/api/v1/events/twilio/TV_QUIET",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      payload: new URLSearchParams({ MessageSid: "x", MessageStatus: "delivered" }).toString(),
    });
    expect(elsewhere.statusCode).toBe(404);
    expect(await svc.db.outbound.findUniqueOrThrow({ where: { id } })).toMatchObject({ status: "submitted" });
    // The played marker, twice (a repeat changes nothing), answered with TwiML that hangs up; then the end.
    for (const _ of [1, 2]) {
      const marker = await post(TOKEN, markerPath);
      expect(marker.statusCode, marker.body).toBe(200);
      expect(marker.body).toContain("<Hangup/>");
    }
    expect(await svc.db.playedCall.count({ where: { providerId: params.CallSid } })).toBe(1);
    expect((await post(TOKEN)).statusCode).toBe(200);
    expect(await outboundReaching(svc.db, id, "delivered")).toMatchObject({ attempts: 1 });
    // A marker after the end changes nothing.
    expect((await post(TOKEN, markerPath)).statusCode).toBe(200);
    expect((await statusesOf(svc.db, id)).filter((s) => s === "delivered")).toHaveLength(1);
  });
});
