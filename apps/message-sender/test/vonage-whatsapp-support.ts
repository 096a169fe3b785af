import { generateKeyPairSync } from "node:crypto";
import {
  startVonageMessagesSimulator,
  type VonageMessagesSimulator,
  type VonageSimulator,
} from "@tidings/provider-simulators";
import { serviceTest } from "@tidings/testing";
import { createMessageSenderService } from "../src/service.ts";
import { listening, vonageSimulator } from "./support.ts";
import { createChannel, KEY, SECRET, SIG_SECRET } from "./vonage-support.ts";
import { createWhatsappChannels } from "./whatsapp-support.ts";

export { history, sendVia, template } from "./whatsapp-support.ts";

// The vonage-whatsapp tests' service, Vonage Messages API simulator (WhatsApp) and Vonage SMS simulator, with the
// channels: SMS (vonage), VWA (vonage-whatsapp, no fallback), VWA_FB (falling back to SMS; no receipt is waited
// for 60 s), VWA_TIMER (falling back to SMS after 1 s without a receipt).

export const APP = "5f1c2a3b-4d5e-4f60-8a71-92b3c4d5e6f7";
/** The WhatsApp sender's number. */
export const WA_NUMBER = "+15005550010";
/** Signs the Messages API's webhooks: the account's signature secret (vonage-support's, as one account's is). */
export const WA_SIG_SECRET = SIG_SECRET;

export interface VonageWhatsappFixture {
  sim: VonageMessagesSimulator;
  sms: VonageSimulator;
  /** The service's externally visible base URL. */
  base: string;
}

export const vonageWhatsappTest = (events: Parameters<typeof serviceTest>[2] = []) =>
  serviceTest(
    createMessageSenderService(),
    {
      worker: true,
      env: {
        RECONCILE_INTERVAL_MS: "200",
        RECONCILE_AFTER_MS: "300",
        CHANNEL_CACHE_TTL_MS: "100",
        VONAGE_SIGNATURE_MAX_SKEW_MS: "60000",
      },
    },
    events,
  ).extend<{ base: string; sms: VonageSimulator; wa: VonageWhatsappFixture }>({
    base: listening,
    sms: vonageSimulator({
      accounts: { [KEY]: SECRET },
      signatureSecret: SIG_SECRET,
      callbackIntervalMs: 10,
    }),
    wa: [
      async ({ svc, base, sms }, use) => {
        const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
        const sim = await startVonageMessagesSimulator({
          applications: { [APP]: publicKey.export({ type: "spki", format: "pem" }).toString() },
          signatureSecret: WA_SIG_SECRET,
          templates: ["visit_reminder"],
          callbackIntervalMs: 10,
        });
        await createChannel(svc, sms, "SMS", { status_callback: base });
        await createWhatsappChannels(svc, "VWA", "vonage-whatsapp", {
          application_id: APP,
          private_key: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
          from: WA_NUMBER,
          signature_secret: WA_SIG_SECRET,
          api_url: sim.url,
          status_callback: base,
        });
        await use({ sim, sms, base });
        await sim.close();
      },
      { scope: "file", auto: true },
    ],
  });

/** What the simulators received for a number: its WhatsApp messages and its SMS. */
export const sentTo = ({ sim, sms }: VonageWhatsappFixture, to: string) => ({
  whatsapp: sim.messages.filter((m) => `+${m.to}` === to),
  sms: sms.messages.filter((m) => m.to.replace(/^\+?/, "+") === to),
});

/** The inbound webhook of a vonage-whatsapp channel. */
export const inboundUrl = (base: string, channel = "VWA") =>
  `${base}/api/v1/inbound/vonage-whatsapp/${channel}`;
/** The status webhook of a vonage-whatsapp channel. */
export const statusUrl = (base: string, channel = "VWA") =>
  `${base}/api/v1/events/vonage-whatsapp/${channel}`;

/** A WhatsApp message from `from` to the VWA channel's number, posted to its inbound webhook as Vonage would. */
export const inboundFrom = (
  wa: VonageWhatsappFixture,
  from: string,
  text: string,
  signatureSecret?: string,
) =>
  wa.sim.sendInbound({
    url: inboundUrl(wa.base),
    from,
    to: WA_NUMBER,
    text,
    ...(signatureSecret ? { signatureSecret } : {}),
  });
