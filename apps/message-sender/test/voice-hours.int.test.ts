/**
 * A person's calling days and hours (Seed's HelloMama `voice_days`, `voice_times`), from their identity's details
 * or the outbound's metadata: a voice call is placed only inside them and the sending window, in the person's
 * zone, and deferred (not_before) to the first moment inside both otherwise; other channels ignore them. The
 * worker's clock under the test's control; calls through the real Twilio SDK against the voice simulator.
 */
import { startTwilioVoiceSimulator, type TwilioVoiceSimulator } from "@tidings/provider-simulators";
import { adminAuth, serviceTest, waitFor } from "@tidings/testing";
import { describe, expect } from "vitest";
import { createMessageSenderService } from "../src/service.ts";
import { address, identityEvent, msisdn, outboundReaching } from "./helpers.ts";
import { createChannel, listening, type Svc, twilioVoiceConfig } from "./voice-helpers.ts";

const SID = `AC${"3".repeat(32)}`;
const TOKEN = "voice-hours-auth-token";

// Monday 5 January 2026, 10:00 in South Africa (UTC+2), the recipients' zone (their numbers' country).
let now = new Date("2026-01-05T08:00:00.000Z");
const it = serviceTest(createMessageSenderService({ clock: () => now }), {
  worker: true,
  env: { DUE_POLL_INTERVAL_MS: "100", CHANNEL_CACHE_TTL_MS: "100" },
}).extend<{ sim: TwilioVoiceSimulator }>({
  sim: [
    async ({ svc }, use) => {
      const sim = await startTwilioVoiceSimulator({ accounts: { [SID]: TOKEN }, callbackIntervalMs: 10 });
      const configuration = { ...twilioVoiceConfig(sim, SID, TOKEN), status_callback: await listening(svc) };
      const window = { sending_window: { start: "08:00", end: "20:00" } };
      await createChannel(svc, "TV_HOURS", "twilio-voice", configuration, window);
      await use(sim);
      await sim.close();
    },
    { scope: "file", auto: true },
  ],
});

/** An audio outbound through `channel` with `fields` (metadata added to its voice_speech_url); its id. */
async function sendCall(svc: Svc, fields: Record<string, unknown>, channel = "TV_HOURS"): Promise<string> {
  const { metadata, ...rest } = fields as { metadata?: object };
  const res = await svc.app.inject({
    method: "POST",
    url: "/api/v1/outbound/",
    headers: adminAuth,
    payload: {
      content: null,
      metadata: { voice_speech_url: ["http://127.0.0.1:9/media/week-12.mp3"], ...metadata },
      channel,
      ...rest,
    },
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().id as string;
}

/** An identity (a South African number) whose details say when it takes calls; its id and number. */
async function caller(svc: Svc, details: Record<string, unknown>) {
  const number = msisdn();
  const identity = identityEvent([address("msisdn", number, { default: true })]);
  identity.details = { ...identity.details, ...details };
  await svc.broker.publish("identity.created", identity);
  await waitFor(() => svc.db.addressBookEntry.findUnique({ where: { identity: identity.id } }), {
    what: "the identity in the address book",
  });
  return { id: identity.id, number };
}

const deferredTo = (svc: Svc, id: string, at: string) =>
  waitFor(
    async () => {
      const row = await svc.db.outbound.findUniqueOrThrow({ where: { id } });
      return row.notBefore?.toISOString() === at && row.status === "queued" && row;
    },
    { what: `outbound ${id} deferred to ${at}` },
  );

describe("a person's calling days and hours", () => {
  it("defers calls to the person's next calling day and hour inside the window, and places them then", async ({
    svc,
    sim,
  }) => {
    const callsTo = (to: string) => sim.calls.filter((c) => c.to === to);
    // HelloMama's Tuesday and Thursday, 9 to 11: on Monday the call waits for Tuesday 09:00 (07:00Z).
    const tueThu = await caller(svc, { voice_days: "tue_thu", voice_times: "9_11" });
    const fromIdentity = await sendCall(svc, { to_identity: tueThu.id });
    // The outbound's metadata (a subscription's) over the identity's: Monday and Wednesday, 2 to 5 pm.
    const fromMetadata = await sendCall(svc, {
      to_identity: tueThu.id,
      metadata: { voice_days: "mon_wed", voice_times: "2_5" },
    });
    // Both: from 16:00 (the outbound's sending window) to 17:00 (the person's hours).
    const both = await sendCall(svc, {
      to_addr: msisdn(),
      metadata: { voice_days: ["monday"], voice_times: "2_5" },
      sending_window: { start: "16:00", end: "20:00" },
    });
    // Inside the person's hours now (Monday, 9 to 11): called at once. Another channel ignores calling hours.
    const nowOpen = msisdn();
    const open = await sendCall(svc, {
      to_addr: nowOpen,
      metadata: { voice_days: "mon_wed", voice_times: "9_11" },
    });
    const sms = await sendCall(svc, { to_addr: msisdn(), metadata: { voice_days: "tue_thu" } }, "LOG");

    expect(await outboundReaching(svc.db, open, "delivered")).toMatchObject({ attempts: 1, notBefore: null });
    expect(callsTo(nowOpen)).toHaveLength(1);
    expect(await outboundReaching(svc.db, sms, "delivered")).toMatchObject({ notBefore: null });
    await deferredTo(svc, fromIdentity, "2026-01-06T07:00:00.000Z");
    await deferredTo(svc, fromMetadata, "2026-01-05T12:00:00.000Z");
    await deferredTo(svc, both, "2026-01-05T14:00:00.000Z");
    expect(callsTo(tueThu.number)).toHaveLength(0);

    // 14:00 on Monday: the metadata's hours open; the identity's Tuesday call still waits.
    now = new Date("2026-01-05T12:00:01.000Z");
    expect(await outboundReaching(svc.db, fromMetadata, "delivered")).toMatchObject({ attempts: 1 });
    expect(callsTo(tueThu.number)).toHaveLength(1);
    expect(await svc.db.outbound.findUniqueOrThrow({ where: { id: both } })).toMatchObject({
      status: "queued",
    });

    now = new Date("2026-01-05T14:00:01.000Z");
    await outboundReaching(svc.db, both, "delivered");
    expect(callsTo(tueThu.number)).toHaveLength(1);
    now = new Date("2026-01-06T07:00:01.000Z");
    await outboundReaching(svc.db, fromIdentity, "delivered");
    expect(callsTo(tueThu.number)).toHaveLength(2);
  });
});
