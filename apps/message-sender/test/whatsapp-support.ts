import type { AddressInfo } from "node:net";
import { startTwilioSimulator, type TwilioSimulator } from "@tidings/provider-simulators";

export { postSigned } from "@tidings/provider-simulators";
export { sendVia } from "./support.ts";

import { serviceTest, type TestService } from "@tidings/testing";
import { expect } from "vitest";
import type { MessageSenderConfig } from "../src/config.ts";
import type { Db } from "../src/db.ts";
import { createMessageSenderService } from "../src/service.ts";
import { createTwilioChannel, historyOf, msisdn, outboundReaching } from "./helpers.ts";
import { call, sendVia } from "./support.ts";

// The WhatsApp tests' service and Twilio simulator (its WhatsApp sender and Content API), with the channels:
// SMS (twilio), WA (twilio-whatsapp, no fallback), WA_FB (twilio-whatsapp falling back to SMS; no receipt is
// waited for 60 s), WA_TIMER (falling back to SMS after 1 s without a receipt).

export const SID = `AC${"7".repeat(32)}`;
export const TOKEN = "whatsapp-auth-token";
/** The WhatsApp sender's number. */
export const WA_NUMBER = "+15005550009";

export type Svc = TestService<MessageSenderConfig, Db>;
export interface WhatsappFixture {
  sim: TwilioSimulator;
  /** The service's externally visible base URL. */
  base: string;
}

export const whatsappTest = (events: Parameters<typeof serviceTest>[2] = []) =>
  serviceTest(
    createMessageSenderService(),
    {
      worker: true,
      env: { RECONCILE_INTERVAL_MS: "200", RECONCILE_AFTER_MS: "300", CHANNEL_CACHE_TTL_MS: "100" },
    },
    events,
  ).extend<{ wa: WhatsappFixture }>({
    wa: [
      async ({ svc }, use) => {
        const sim = await startTwilioSimulator({
          accounts: { [SID]: TOKEN },
          callbackIntervalMs: 10,
          whatsapp: {
            templates: [
              { friendlyName: "visit_reminder", body: "Hello {{1}}, your clinic visit is on {{2}}." },
              {
                friendlyName: "visit_reminder_zu",
                body: "Sawubona {{1}}, uvakashela umtholampilo ngo {{2}}.",
              },
              { friendlyName: "not_approved", body: "Hello {{1}}", approved: false },
            ],
          },
        });
        await svc.app.listen({ port: 0, host: "127.0.0.1" });
        const base = `http://127.0.0.1:${(svc.app.server.address() as AddressInfo).port}`;
        const account = { sid: SID, token: TOKEN, url: sim.url };
        await createTwilioChannel(svc.app, "SMS", account, { status_callback: base });
        await createWhatsappChannels(svc, "WA", "twilio-whatsapp", {
          account_sid: SID,
          auth_token: TOKEN,
          from: WA_NUMBER,
          api_url: sim.url,
          status_callback: base,
        });
        await use({ sim, base });
        await sim.close();
      },
      { scope: "file", auto: true },
    ],
  });

/**
 * Creates the WhatsApp channels `<id>` (no fallback), `<id>_FB` (falling back to SMS; no receipt is waited for
 * 60 s) and `<id>_TIMER` (falling back to SMS after 1 s without a receipt) of `type`, each with `configuration`.
 */
export async function createWhatsappChannels(svc: Svc, id: string, type: string, configuration: object) {
  const variants = [
    ["", {}],
    ["_FB", { fallback: "SMS", redelivery: { no_report_timeout_seconds: 60 } }],
    ["_TIMER", { fallback: "SMS", redelivery: { no_report_timeout_seconds: 1 } }],
  ] as const;
  for (const [suffix, fields] of variants) {
    const res = await call(svc, "POST", "/api/v1/channel/", {
      channel_id: `${id}${suffix}`,
      channel_type: type,
      configuration,
      ...fields,
    });
    expect(res.statusCode, res.body).toBe(201);
  }
}

/** The `whatsapp_template` metadata of a send. */
export const template = (name: string, variables: Record<string, string> = {}) => ({
  whatsapp_template: { name, variables },
});

/** An outbound's status history: status, channel, provider id and reason of each change, oldest first. */
export const history = (svc: Svc, id: string) => historyOf(svc.db, id);

/**
 * Expects outbound `id`'s history to show its one fall back from WhatsApp channel `channel` to SMS, delivered there:
 * the WhatsApp attempt queued again as `queued` says (its provider id and reason).
 */
export async function expectFellBackToSms(
  svc: Svc,
  id: string,
  channel: string,
  queued: { provider_id: string; reason: string },
) {
  const steps = await history(svc, id);
  expect(steps.map((s) => [s.status, s.channel])).toEqual([
    ["submitted", channel],
    ["queued", channel],
    ["submitted", "SMS"],
    ["delivered", "SMS"],
  ]);
  expect(steps[1]).toMatchObject(queued);
}

/** The content of a send that names no WhatsApp template. */
export const FREE_TEXT = "Free text, no template";

/**
 * Sends `FREE_TEXT` to a new number outside its 24-hour window through WhatsApp channel `channel`, which falls back to
 * SMS, and expects it delivered by SMS at once (one attempt); returns the number, for what its simulators received.
 */
export async function freeTextBySms(svc: Svc, channel: string): Promise<string> {
  const to = msisdn();
  const id = await sendVia(svc, channel, to, { content: FREE_TEXT });
  expect(await outboundReaching(svc.db, id, "delivered")).toMatchObject({ channel: "SMS", attempts: 1 });
  return to;
}

/** The create requests the simulator received for a number, by WhatsApp and by SMS. */
export const requestsFor = (sim: TwilioSimulator, to: string) => ({
  whatsapp: sim.requests.filter((r) => r.To === `whatsapp:${to}`),
  sms: sim.requests.filter((r) => r.To === to),
});
