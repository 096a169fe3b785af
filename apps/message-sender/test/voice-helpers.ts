import { generateKeyPairSync } from "node:crypto";
import type { AddressInfo } from "node:net";
import {
  type CallOutcome,
  startVonageVoiceSimulator,
  type TwilioVoiceSimulator,
} from "@tidings/provider-simulators";
import { adminAuth, type TestService } from "@tidings/testing";
import { expect } from "vitest";
import type { MessageSenderConfig } from "../src/config.ts";
import type { Db } from "../src/db.ts";
import { outboundReaching } from "./helpers.ts";

export type Svc = TestService<MessageSenderConfig, Db>;

/** Starts the service's HTTP listener (providers call back to it); its origin. */
export async function listening(svc: Svc): Promise<string> {
  await svc.app.listen({ port: 0, host: "127.0.0.1" });
  return `http://127.0.0.1:${(svc.app.server.address() as AddressInfo).port}`;
}

/** Creates a channel through the API (expecting 201); `fields` adds to the request (limits, window, policy). */
export async function createChannel(
  svc: Svc,
  channelId: string,
  channelType: string,
  configuration: Record<string, unknown>,
  fields: Record<string, unknown> = {},
): Promise<void> {
  const res = await svc.app.inject({
    method: "POST",
    url: "/api/v1/channel/",
    headers: adminAuth,
    payload: { channel_id: channelId, channel_type: channelType, configuration, ...fields },
  });
  expect(res.statusCode, res.body).toBe(201);
}

/**
 * Creates the voice channels `<channelId>` (calling back to the service, listening from now on) and
 * `<channelId>_QUIET` (no callbacks), each making one attempt: every end is final. The service's origin.
 */
export async function createOneAttemptChannels(
  svc: Svc,
  channelId: string,
  channelType: string,
  configuration: Record<string, unknown>,
): Promise<string> {
  const base = await listening(svc);
  const once = { redelivery: { max_attempts: 1 } };
  await createChannel(svc, channelId, channelType, { ...configuration, status_callback: base }, once);
  await createChannel(svc, `${channelId}_QUIET`, channelType, configuration, once);
  return base;
}

/** Sends an audio message (its `voice_speech_url`) to `to` through `channel`; the outbound's id. */
export async function sendAudio(svc: Svc, channel: string, to: string, urls: unknown): Promise<string> {
  const res = await svc.app.inject({
    method: "POST",
    url: "/api/v1/outbound/",
    headers: adminAuth,
    payload: { to_addr: to, content: null, metadata: { voice_speech_url: urls }, channel },
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().id as string;
}

/** A twilio-voice channel's configuration on the Twilio Voice simulator, for account `sid` with `token`. */
export const twilioVoiceConfig = (sim: TwilioVoiceSimulator, sid: string, token: string) => ({
  account_sid: sid,
  auth_token: token,
  from: "+15005550006",
  api_url: sim.url,
});

/**
 * A Vonage Voice simulator for application `app` (a fresh key pair; events signed with `signatureSecret`) and
 * the configuration of a vonage-voice channel on it.
 */
export async function vonageVoiceSimulator(app: string, signatureSecret: string) {
  const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const sim = await startVonageVoiceSimulator({
    applications: { [app]: publicKey.export({ type: "spki", format: "pem" }).toString() },
    signatureSecret,
    eventIntervalMs: 10,
  });
  const config = {
    application_id: app,
    private_key: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    from: "27600000000",
    signature_secret: signatureSecret,
    api_url: sim.url,
  };
  return { sim, config };
}

/** Calls that end `completed`: with the played marker after the end (delivered), or hung up midway (failed). */
export const COMPLETED_CASES: [CallOutcome, "delivered" | "failed"][] = [
  ["late-marker", "delivered"],
  ["hung-up", "failed"],
];

/**
 * Sends two pieces of audio to `to` through `channel`, its call scripted to end as `outcome` (`script`: the
 * simulator's), and waits for the outbound to be `status`; the outbound.
 */
export async function audioEnding(
  svc: Svc,
  script: (to: string, outcomes: CallOutcome[]) => void,
  channel: string,
  to: string,
  [outcome, status]: [CallOutcome, "delivered" | "failed"],
) {
  script(to, [outcome]);
  const urls = ["https://media.example.org/a.mp3", "https://media.example.org/b.mp3"];
  return outboundReaching(svc.db, await sendAudio(svc, channel, to, urls), status);
}
