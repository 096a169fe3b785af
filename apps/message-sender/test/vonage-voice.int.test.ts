/**
 * The vonage-voice channel on the Vonage Voice simulator, through `@vonage/server-sdk` (JWT-authenticated calls
 * with an NCCO): every call end, applied from events signed as Vonage signs them, delivered only with the NCCO's
 * played marker (its `notify`, before or after the end; a hang-up before it is not), and forged events refused.
 */
import { type CallOutcome, type VonageVoiceSimulator, vonageWebhookJwt } from "@tidings/provider-simulators";
import { serviceTest, waitFor } from "@tidings/testing";
import { describe, expect } from "vitest";
import { HUNG_UP_EARLY } from "../src/channels/voice.ts";
import { createMessageSenderService } from "../src/service.ts";
import { msisdn, outboundReaching } from "./helpers.ts";
import {
  audioEnding,
  COMPLETED_CASES,
  createOneAttemptChannels,
  sendAudio,
  vonageVoiceSimulator,
} from "./voice-helpers.ts";

const APP = "9b0f3a51-6a3f-4d7e-8a52-7c1d2e3f4a5b";
const SIG_SECRET = "vonage-voice-signature-secret";

const it = serviceTest(
  createMessageSenderService(),
  { worker: true, env: { CHANNEL_CACHE_TTL_MS: "100", VONAGE_SIGNATURE_MAX_SKEW_MS: "60000" } },
  [],
).extend<{ sim: VonageVoiceSimulator }>({
  sim: [
    async ({ svc }, use) => {
      const { sim, config } = await vonageVoiceSimulator(APP, SIG_SECRET);
      await createOneAttemptChannels(svc, "VV", "vonage-voice", config);
      await use(sim);
      await sim.close();
    },
    { scope: "file", auto: true },
  ],
});

describe("the vonage-voice channel", () => {
  it("calls with one stream action per URL, then a notify, and is delivered when the call completes", async ({
    svc,
    sim,
    receiver,
  }) => {
    const to = msisdn();
    const urls = [`${receiver.url}/media/intro.mp3`, `${receiver.url}/media/week-20.mp3`];
    const id = await sendAudio(svc, "VV", to, urls);
    expect(await outboundReaching(svc.db, id, "delivered")).toMatchObject({ attempts: 1 });
    const [call] = sim.calls.filter((c) => c.to === to);
    expect(call!.ncco).toEqual([
      ...urls.map((url) => ({ action: "stream", streamUrl: [url] })),
      {
        action: "notify",
        payload: { outbound: id },
        eventUrl: [expect.stringMatching(/\/events\/vonage-voice\/VV\/played$/)],
        eventMethod: "POST",
      },
    ]);
    expect(call!.notified).toBe(200);
    expect(call).toMatchObject({
      from: "27600000000",
      eventUrl: expect.stringMatching(/\/events\/vonage-voice\/VV$/),
    });
    const events = () => sim.events.filter((e) => e.body.uuid === call!.uuid);
    await waitFor(() => events().length === 4, { what: "the call's four events answered" });
    expect(events().map((e) => [e.body.status, e.responseStatus])).toEqual([
      ["started", 200],
      ["ringing", 200],
      ["answered", 200],
      ["completed", 200],
    ]);
    expect(receiver.received.map((r) => r.path)).toEqual(
      expect.arrayContaining(["/media/intro.mp3", "/media/week-20.mp3"]),
    );
  });

  it.for<[CallOutcome, string]>([
    ["no-answer", "vonage call timeout"],
    ["busy", "vonage call busy"],
    ["failed", "vonage call failed"],
    ["canceled", "vonage call cancelled"],
  ])("fails a call that ends %s with Vonage's status", async ([outcome, reason], { svc, sim }) => {
    const to = msisdn();
    sim.script(to, [outcome]);
    const id = await sendAudio(svc, "VV", to, ["https://media.example.org/a.mp3"]);
    expect(await outboundReaching(svc.db, id, "failed")).toMatchObject({ lastError: reason, attempts: 1 });
  });

  it.for(COMPLETED_CASES)("a call that ends completed, %s, is %s", async (ending, { svc, sim }) => {
    const to = msisdn();
    const outcome = ending[0];
    const done = await audioEnding(svc, sim.script, "VV", to, ending);
    const [call] = sim.calls.filter((c) => c.to === to);
    expect(call!.status).toBe("completed");
    expect(call!.notified).toBe(outcome === "hung-up" ? undefined : 200);
    expect(done.lastError).toBe(outcome === "hung-up" ? HUNG_UP_EARLY : null);
    expect(await svc.db.playedCall.count({ where: { providerId: call!.uuid } })).toBe(
      outcome === "hung-up" ? 0 : 1,
    );
  });

  it("refuses an event signed with another secret, for another body, or long ago, with 403", async ({
    svc,
    sim,
  }) => {
    const to = msisdn();
    sim.script(to, ["none"]);
    const id = await sendAudio(svc, "VV_QUIET", to, ["https://media.example.org/a.mp3"]);
    const { providerId } = await outboundReaching(svc.db, id, "submitted");
    const body = JSON.stringify({ uuid: providerId, status: "completed", direction: "outbound" });
    const post = (authorization: string, payload = body) =>
      svc.app.inject({
        method: "POST",
        url: "/api/v1/events/vonage-voice/VV_QUIET",
        headers: { "content-type": "application/json", authorization: `Bearer ${authorization}` },
        payload,
      });
    const refused = [
      await post(vonageWebhookJwt("another-secret", body, APP)),
      // Signed for a failed call, posted as a completed one.
      await post(vonageWebhookJwt(SIG_SECRET, body.replace("completed", "failed"), APP)),
      await post(vonageWebhookJwt(SIG_SECRET, body, APP, Date.now() - 120_000)),
      await post("not-a-jwt"),
    ];
    expect(refused.map((r) => r.statusCode)).toEqual([403, 403, 403, 403]);
    expect(refused[0]!.json().error.code).toBe("MESSAGE_SENDER_INVALID_SIGNATURE");
    expect(await svc.db.outbound.findUniqueOrThrow({ where: { id } })).toMatchObject({ status: "submitted" });
    // The played marker (the NCCO's notify; here its payload alone, the call found by the outbound): forged refused,
    // changing nothing; signed kept (a repeat, once) and answered with an empty NCCO, which ends the call.
    const marker = JSON.stringify({ outbound: id });
    const notify = (secret: string) =>
      svc.app.inject({
        method: "POST",
        url: "/api/v1/events/vonage-voice/VV_QUIET/played",
        headers: {
          "content-type": "application/json",
          authorization: `Bearer ${vonageWebhookJwt(secret, marker, APP)}`,
        },
        payload: marker,
      });
    expect((await notify("another-secret")).statusCode).toBe(403);
    expect(await svc.db.playedCall.count({ where: { providerId: providerId as string } })).toBe(0);
    const signed = [await notify(SIG_SECRET), await notify(SIG_SECRET)];
    expect(signed.map((r) => [r.statusCode, r.json()])).toEqual([
      [200, []],
      [200, []],
    ]);
    expect(await svc.db.playedCall.count({ where: { providerId: providerId as string } })).toBe(1);
    // The same bytes, with spacing of the provider's own, verify: the hash is of the body as posted.
    const spaced = body.replace(/,/g, ", ");
    expect((await post(vonageWebhookJwt(SIG_SECRET, spaced, APP), spaced)).statusCode).toBe(200);
    expect(await outboundReaching(svc.db, id, "delivered")).toBeTruthy();
  });
});
