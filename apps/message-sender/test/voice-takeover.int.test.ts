/**
 * A voice call is placed once however its claim ends: a worker that placed a call (the provider created it and
 * answered) and lapsed before recording it leaves the outbound queued and claimed; the worker that takes it over
 * asks the provider for the calls to that number since the outbound was created and records that call instead of
 * calling again. Both voice channels, through their real SDKs against the voice simulators.
 */
import { randomUUID } from "node:crypto";
import { startTwilioVoiceSimulator, type TwilioVoiceSimulator } from "@tidings/provider-simulators";
import { serviceTest, waitFor } from "@tidings/testing";
import { describe, expect } from "vitest";
import { TwilioVoiceChannel } from "../src/channels/twilio-voice/adapter.ts";
import { VonageVoiceChannel } from "../src/channels/vonage-voice/adapter.ts";
import type { Channel } from "../src/outbound/channel.ts";
import { createMessageSenderService } from "../src/service.ts";
import { msisdn, statusesOf } from "./helpers.ts";
import {
  createChannel,
  listening,
  type Svc,
  twilioVoiceConfig,
  vonageVoiceSimulator,
} from "./voice-helpers.ts";

const SID = `AC${"5".repeat(32)}`;
const TOKEN = "voice-takeover-auth-token";
const APP = "3c1d2e3f-4a5b-4d7e-8a52-9b0f3a516a3f";
const SIG_SECRET = "voice-takeover-signature-secret";

interface Provider {
  /** The channel's id here, and its adapter, as the worker that lapsed used it. */
  channel: string;
  adapter: Channel;
  /** The calls the simulator created to `to`: their provider ids. */
  callsTo(to: string): string[];
}

const it = serviceTest(createMessageSenderService(), {
  worker: true,
  env: { CHANNEL_CACHE_TTL_MS: "100", VONAGE_SIGNATURE_MAX_SKEW_MS: "60000" },
}).extend<{ providers: Record<"twilio" | "vonage", Provider> }>({
  providers: [
    async ({ svc }, use) => {
      const base = await listening(svc);
      const twilio: TwilioVoiceSimulator = await startTwilioVoiceSimulator({
        accounts: { [SID]: TOKEN },
        callbackIntervalMs: 10,
      });
      const { sim: vonage, config } = await vonageVoiceSimulator(APP, SIG_SECRET);
      const twilioConfig = { ...twilioVoiceConfig(twilio, SID, TOKEN), status_callback: base };
      const vonageConfig = { ...config, status_callback: base };
      const once = { redelivery: { max_attempts: 1 } };
      await createChannel(svc, "TV_TAKEOVER", "twilio-voice", twilioConfig, once);
      await createChannel(svc, "VV_TAKEOVER", "vonage-voice", vonageConfig, once);
      await use({
        twilio: {
          channel: "TV_TAKEOVER",
          adapter: new TwilioVoiceChannel("TV_TAKEOVER", twilioConfig),
          callsTo: (to) => twilio.calls.filter((c) => c.to === to).map((c) => c.sid),
        },
        vonage: {
          channel: "VV_TAKEOVER",
          adapter: new VonageVoiceChannel("VV_TAKEOVER", vonageConfig),
          callsTo: (to) => vonage.calls.filter((c) => c.to === to).map((c) => c.uuid),
        },
      });
      await Promise.all([twilio.close(), vonage.close()]);
    },
    { scope: "file", auto: true },
  ],
});

const metadata = { voice_speech_url: ["http://127.0.0.1:9/media/week-12.mp3"] };

/** An audio outbound claimed by a worker that stopped, its claim lapsing in 600 ms; its id. */
async function lapsingClaim(svc: Svc, channel: string, to: string): Promise<string> {
  const id = randomUUID();
  await svc.db.outbound.create({
    data: {
      id,
      toAddr: to,
      metadata,
      channel,
      claimedBy: "stalled-worker",
      claimedUntil: new Date(Date.now() + 600),
    },
  });
  return id;
}

/** Delivers the outbound's outbound.send and waits until a worker recorded a call for it; its row. */
async function takenOver(svc: Svc, id: string, channel: string, to: string) {
  await svc.broker.publish("outbound.send", { id, to_addr: to, metadata, channel });
  return waitFor(
    async () => {
      const row = await svc.db.outbound.findUniqueOrThrow({ where: { id } });
      return row.providerId !== null && row;
    },
    { what: `outbound ${id}'s call recorded`, timeoutMs: 20_000 },
  );
}

describe("taking over a voice send after a lapsed claim", () => {
  it.for(["twilio", "vonage"] as const)(
    "%s: records the call the lapsed worker placed instead of calling again",
    async (provider, { svc, providers }) => {
      const { channel, adapter, callsTo } = providers[provider];
      const to = msisdn();
      const id = await lapsingClaim(svc, channel, to);
      // The stalled worker's call: created and accepted by the provider, never recorded here.
      const placed = await adapter.send({ id, content: null, metadata }, to);

      const row = await takenOver(svc, id, channel, to);
      expect(row).toMatchObject({ providerId: placed.providerId, attempts: 1 });
      expect(callsTo(to)).toEqual([placed.providerId]);
      expect((await statusesOf(svc.db, id)).filter((s) => s === "submitted")).toHaveLength(1);
    },
  );

  it.for(["twilio", "vonage"] as const)(
    "%s: calls when the lapsed worker placed no call, and not a call another outbound recorded",
    async (provider, { svc, providers }) => {
      const { channel, callsTo } = providers[provider];
      const to = msisdn();
      // Another outbound's call to the same person, recorded: not this outbound's.
      const other = await lapsingClaim(svc, channel, to);
      const first = await takenOver(svc, other, channel, to);
      const id = await lapsingClaim(svc, channel, to);

      const row = await takenOver(svc, id, channel, to);
      expect(row.providerId).not.toBe(first.providerId);
      expect(callsTo(to)).toEqual([first.providerId, row.providerId]);
    },
  );
});
