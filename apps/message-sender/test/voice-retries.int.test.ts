/**
 * Voice channels' calls under the channel's policies, on the Twilio Voice simulator: unanswered calls (and those
 * hung up before their audio played to the end) retried by
 * the redelivery policy only inside the calling window, and concurrency_limit counting calls until they end (or
 * until message_timeout, for a call that never reports its end).
 */
import { startTwilioVoiceSimulator, type TwilioVoiceSimulator } from "@tidings/provider-simulators";
import { serviceTest, waitFor } from "@tidings/testing";
import { describe, expect } from "vitest";
import { createMessageSenderService } from "../src/service.ts";
import { hourIn, msisdn, outboundReaching, retryDeferredByWindow } from "./helpers.ts";
import { createChannel, listening, type Svc, sendAudio, twilioVoiceConfig } from "./voice-helpers.ts";

const SID = `AC${"8".repeat(32)}`;
const TOKEN = "voice-retries-auth-token";
const ZONE = "Africa/Johannesburg";
const AUDIO = ["https://media.example.org/week-3.mp3"];

/** "HH:00" `offset` hours from now in ZONE (the test numbers are South African). */
const hour = (offset: number) => hourIn(ZONE, offset);

const it = serviceTest(createMessageSenderService(), {
  worker: true,
  env: { CHANNEL_CACHE_TTL_MS: "100", DUE_POLL_INTERVAL_MS: "100", OUTBOUND_RETRY_DELAYS_MS: "100,200,400" },
}).extend<{ sim: TwilioVoiceSimulator }>({
  sim: [
    async ({ svc }, use) => {
      const sim = await startTwilioVoiceSimulator({ accounts: { [SID]: TOKEN }, callbackIntervalMs: 10 });
      const config = { ...twilioVoiceConfig(sim, SID, TOKEN), status_callback: await listening(svc) };
      // Open now: from an hour ago to two hours ahead.
      const open = { sending_window: { start: hour(-1), end: hour(2), timezone: ZONE } };
      const policy = (backoff: number) => ({ redelivery: { max_attempts: 3, backoff_seconds: [backoff] } });
      await createChannel(svc, "TV_RETRY", "twilio-voice", config, { ...open, ...policy(1) });
      await createChannel(svc, "TV_NIGHT", "twilio-voice", config, { ...open, ...policy(3) });
      await createChannel(svc, "TV_ONE", "twilio-voice", config, { concurrency_limit: 1 });
      await createChannel(
        svc,
        "TV_LAPSE",
        "twilio-voice",
        { ...config, message_timeout: 2 },
        { concurrency_limit: 1 },
      );
      await use(sim);
      await sim.close();
    },
    { scope: "file", auto: true },
  ],
});

const callsTo = (sim: TwilioVoiceSimulator, to: string) => sim.calls.filter((c) => c.to === to);

const heldSlots = (svc: Svc, channel: string) =>
  svc.db.channelSlot.count({ where: { channel, holder: { not: null }, until: { gt: new Date() } } });

describe("retries of unanswered calls", () => {
  it("calls again after no-answer and a hang-up, the policy's backoff apart, until the call completes", async ({
    svc,
    sim,
  }) => {
    const to = msisdn();
    // A hang-up before the audio played to the end (hung_up_early) is retried as an unanswered call.
    sim.script(to, ["no-answer", "hung-up", "completed"]);
    const id = await sendAudio(svc, "TV_RETRY", to, AUDIO);
    expect(await outboundReaching(svc.db, id, "delivered")).toMatchObject({ attempts: 3 });
    const calls = callsTo(sim, to);
    expect(calls).toHaveLength(3);
    expect(calls[1]!.createdAt - calls[0]!.createdAt).toBeGreaterThanOrEqual(900);
    expect(calls[2]!.createdAt - calls[1]!.createdAt).toBeGreaterThanOrEqual(900);
  });

  it("fails with the last reason once max_attempts calls went unanswered", async ({ svc, sim }) => {
    const to = msisdn();
    sim.script(to, ["no-answer", "no-answer", "busy"]);
    const id = await sendAudio(svc, "TV_RETRY", to, AUDIO);
    expect(await outboundReaching(svc.db, id, "failed")).toMatchObject({
      attempts: 3,
      lastError: "twilio call busy",
    });
    expect(callsTo(sim, to)).toHaveLength(3);
  });

  it("does not retry a call that could not be placed (failed)", async ({ svc, sim }) => {
    const to = msisdn();
    sim.script(to, ["failed"]);
    const id = await sendAudio(svc, "TV_RETRY", to, AUDIO);
    expect(await outboundReaching(svc.db, id, "failed")).toMatchObject({ attempts: 1 });
    await new Promise((resolve) => setTimeout(resolve, 1_300)); // past the backoff
    expect(callsTo(sim, to)).toHaveLength(1);
  });

  it("holds a retry that falls outside the calling window until the window opens", async ({ svc, sim }) => {
    const to = msisdn();
    sim.script(to, ["no-answer"]);
    const id = await sendAudio(svc, "TV_NIGHT", to, AUDIO);
    await waitFor(
      async () => {
        const row = await svc.db.outbound.findUniqueOrThrow({ where: { id } });
        return row.status === "queued" && row.attempts === 1;
      },
      { what: "the retry to be planned" },
    );
    // The calling window closes before the retry is due (3 s): it now opens in two hours.
    const deferred = await retryDeferredByWindow(svc, "TV_NIGHT", ZONE, id);
    expect(deferred).toMatchObject({ status: "queued", attempts: 1 });
    expect(callsTo(sim, to)).toHaveLength(1);
  });
});

describe("concurrency_limit of a voice channel", () => {
  it("counts a call until its end is reported, then the next call goes", async ({ svc, sim }) => {
    const [first, second] = [msisdn(), msisdn()];
    sim.script(first, ["none"]);
    const firstId = await sendAudio(svc, "TV_ONE", first, AUDIO);
    const placed = await outboundReaching(svc.db, firstId, "submitted");
    expect(await heldSlots(svc, "TV_ONE")).toBe(1);
    const secondId = await sendAudio(svc, "TV_ONE", second, AUDIO);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(callsTo(sim, second)).toHaveLength(0); // the first call is still going
    expect(await sim.end(placed.providerId as string, "completed")).toBe(200);
    const ended = Date.now();
    expect(await outboundReaching(svc.db, secondId, "delivered")).toMatchObject({ attempts: 1 });
    expect(callsTo(sim, second)[0]!.createdAt).toBeGreaterThanOrEqual(ended - 50);
    expect(await outboundReaching(svc.db, firstId, "delivered")).toBeTruthy();
    await waitFor(async () => (await heldSlots(svc, "TV_ONE")) === 0, { what: "the slot freed" });
  });

  it("frees the slot of a call that never reports its end after message_timeout", async ({ svc, sim }) => {
    const [first, second] = [msisdn(), msisdn()];
    sim.script(first, ["none"]);
    const firstId = await sendAudio(svc, "TV_LAPSE", first, AUDIO);
    await outboundReaching(svc.db, firstId, "submitted");
    const secondId = await sendAudio(svc, "TV_LAPSE", second, AUDIO);
    expect(await outboundReaching(svc.db, secondId, "delivered")).toBeTruthy();
    const [call1, call2] = [callsTo(sim, first)[0]!, callsTo(sim, second)[0]!];
    // Two seconds (message_timeout) after the first call was placed, not before.
    expect(call2.createdAt - call1.createdAt).toBeGreaterThanOrEqual(1_900);
    expect(await svc.db.outbound.findUniqueOrThrow({ where: { id: firstId } })).toMatchObject({
      status: "submitted",
    });
  });
});
