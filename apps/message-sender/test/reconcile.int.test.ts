import type { OutboundDeliveryReport } from "@tidings/contracts";
import { startTwilioVoiceSimulator, type TwilioVoiceSimulator } from "@tidings/provider-simulators";
import { adminAuth, serviceTest, waitFor } from "@tidings/testing";
import twilio from "twilio";
import { describe, expect } from "vitest";
import { HUNG_UP_EARLY } from "../src/channels/voice.ts";
import { createMessageSenderService } from "../src/service.ts";
import { createTwilioChannel, historyOf, msisdn } from "./helpers.ts";
import { type Svc, type TwilioFixtures, twilioSetUp, twilioSimulator } from "./support.ts";
import { createChannel, sendAudio, twilioVoiceConfig } from "./voice-helpers.ts";

const SID = `AC${"4".repeat(32)}`;
const TOKEN = "reconcile-auth-token";

const it = serviceTest(
  createMessageSenderService(),
  // One attempt: a failed report is final here (retries: redelivery.int.test.ts).
  {
    worker: true,
    env: { RECONCILE_INTERVAL_MS: "200", RECONCILE_AFTER_MS: "500", REDELIVERY_MAX_ATTEMPTS: "1" },
  },
  ["outbound.delivery_report"],
)
  .extend<TwilioFixtures>({
    sim: twilioSimulator({ accounts: { [SID]: TOKEN }, callbackIntervalMs: 10 }),
    // No status_callback: the callbacks are lost, only the reconciler can learn the final status.
    setUp: twilioSetUp((svc, sim) =>
      createTwilioChannel(svc.app, "TW_LOST", { sid: SID, token: TOKEN, url: sim.url }),
    ),
  })
  .extend<{ voice: TwilioVoiceSimulator }>({
    // Calls whose callbacks are lost (no status_callback): the reconciler reads their status back.
    voice: [
      async ({ svc }, use) => {
        const sim = await startTwilioVoiceSimulator({ accounts: { [SID]: TOKEN }, callbackIntervalMs: 10 });
        // A status_callback nothing listens on: the TwiML redirects to a played marker, whose request is lost too.
        const lost = { ...twilioVoiceConfig(sim, SID, TOKEN), status_callback: "http://127.0.0.1:9" };
        await createChannel(svc, "TV_LOST", "twilio-voice", lost);
        await use(sim);
        await sim.close();
      },
      { scope: "file" },
    ],
  });

const send = async (svc: Svc) =>
  (
    await svc.app.inject({
      method: "POST",
      url: "/api/v1/outbound/",
      headers: adminAuth,
      payload: { to_addr: msisdn(), content: "x", metadata: {}, channel: "TW_LOST" },
    })
  ).json().id as string;

const finalOf = (svc: Svc, id: string) =>
  waitFor(
    async () => {
      const o = await outbound(svc, id);
      return !["queued", "submitted"].includes(o.status) && o;
    },
    { what: "a final status from the reconciler" },
  );

const outbound = async (svc: Svc, id: string) =>
  (await svc.app.inject({ url: `/api/v1/outbound/${id}/`, headers: adminAuth })).json();

describe("the reconciler", () => {
  it("asks Twilio about a message whose status callbacks were lost, once it is old enough", async ({
    svc,
    sim,
    capture,
  }) => {
    sim.configure({ finalStatus: () => "undelivered" });
    const id = await send(svc);
    const final = await finalOf(svc, id);
    // Asked only once the outbound had been submitted for RECONCILE_AFTER_MS (500 ms).
    const history = await historyOf(svc.db, id);
    expect(history.map((h) => h.status)).toEqual(["submitted", "failed"]);
    expect(Date.parse(history[1]!.at) - Date.parse(history[0]!.at)).toBeGreaterThanOrEqual(450);
    expect(final).toMatchObject({ status: "failed", to_addr: "", last_error: "twilio undelivered" });
    await waitFor(
      () =>
        capture.messages.filter((m) => (m.payload as OutboundDeliveryReport).outbound_id === id).length === 1,
      { what: "one delivery report" },
    );
  });

  it.for([
    [true, "delivered"],
    [false, "failed"],
  ] as const)(
    "reads a lost call back as completed: played marker %s -> %s",
    async ([marked, status], { svc, voice }) => {
      const to = msisdn();
      const id = await sendAudio(svc, "TV_LOST", to, ["https://media.example.org/a.mp3"]);
      await waitFor(() => voice.calls.find((c) => c.to === to)?.status === "completed", { what: "the call" });
      if (marked) {
        // The call's played marker, as Twilio requests it (the callbacks alone were lost).
        const path = `/api/v1/events/twilio-voice/TV_LOST/played?outbound=${id}`;
        const params = { CallSid: voice.calls.find((c) => c.to === to)!.sid };
        const res = await svc.app.inject({
          method: "POST",
          url: path,
          headers: {
            "content-type": "application/x-www-form-urlencoded",
            "x-twilio-signature": twilio.getExpectedTwilioSignature(
              TOKEN,
              `http://example.test${path}`,
              params,
            ),
            host: "example.test",
          },
          payload: new URLSearchParams(params).toString(),
        });
        expect(res.statusCode, res.body).toBe(200);
      }
      expect(await finalOf(svc, id)).toMatchObject({ status, last_error: marked ? null : HUNG_UP_EARLY });
    },
  );
});
