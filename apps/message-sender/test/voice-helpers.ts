import type { AddressInfo } from "node:net";
import { adminAuth, type TestService } from "@tidings/testing";
import { expect } from "vitest";
import type { MessageSenderConfig } from "../src/config.ts";
import type { Db } from "../src/db.ts";

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
