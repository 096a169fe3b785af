import type { VonageSimulator } from "@tidings/provider-simulators";
import { serviceTest } from "@tidings/testing";
import { expect } from "vitest";
import { createMessageSenderService } from "../src/service.ts";
import { msisdn } from "./helpers.ts";
import { call, listening, type Svc, vonageSimulator } from "./support.ts";

// The vonage channel tests' fixture and helpers (vonage-channel, vonage-parts).

export const KEY = "vonagekey";
export const SECRET = "vonage-api-secret";
export const SIG_SECRET = "vonage-signature-secret";

/** The `it` of a vonage channel test file: the VON channel on a Vonage simulator, receipts to the listening API. */
export const vonageTest = serviceTest(createMessageSenderService(), {
  worker: true,
  env: { OUTBOUND_RETRY_DELAYS_MS: "100,300,1000,3000", CHANNEL_CACHE_TTL_MS: "100" },
}).extend<{ sim: VonageSimulator; base: string; setUp: undefined }>({
  sim: vonageSimulator({ accounts: { [KEY]: SECRET }, signatureSecret: SIG_SECRET }),
  base: listening,
  /** The VON channel on the simulator, its status callbacks to the listening API: created before the first test. */
  setUp: [
    async ({ svc, sim, base }, use) => {
      await createChannel(svc, sim, "VON", { status_callback: base });
      await use(undefined);
    },
    { scope: "file", auto: true },
  ],
});

/** Sends "Hello" through `channel` (expecting 201). */
export const send = async (svc: Svc, to = msisdn(), channel = "VON") => {
  const res = await call(svc, "POST", "/api/v1/outbound/", {
    to_addr: to,
    content: "Hello",
    metadata: {},
    channel,
  });
  expect(res.statusCode).toBe(201);
  return { id: res.json().id as string, to };
};
/** Creates a vonage channel on the simulator (expecting 201); `configuration` adds to or removes from it. */
export const createChannel = async (
  svc: Svc,
  sim: VonageSimulator,
  channelId: string,
  configuration: Record<string, unknown> = {},
) => {
  const res = await call(svc, "POST", "/api/v1/channel/", {
    channel_id: channelId,
    channel_type: "vonage",
    configuration: Object.fromEntries(
      Object.entries({
        api_key: KEY,
        api_secret: SECRET,
        from: "Tidings",
        signature_secret: SIG_SECRET,
        rest_url: sim.url,
        ...configuration,
      }).filter(([, value]) => value !== undefined),
    ),
  });
  expect(res.statusCode).toBe(201);
};
