/**
 * The channel of stage-based sends: an audio set's messages go as `voice_speech_url` through the identity's
 * voice channel when the person asked for audio (identity details `preferred_msg_type` + `channel`), else
 * through the set's channel; a text set keeps its own channel for a person who asked for calls.
 */
import type { OutboundSend } from "@tidings/contracts";
import { type Capture, serviceTest, waitFor } from "@tidings/testing";
import { describe, expect } from "vitest";
import { subscriptionService } from "../src/service.ts";
import {
  messageEvent,
  messageSetEvent,
  newIdentity,
  type Svc,
  scheduleEvent,
  subscribe,
} from "./content-helpers.ts";
import { announceIdentity } from "./topics-helpers.ts";

const SCHEDULE = 90;
const AUDIO_SET = 90;
const TEXT_SET = 91;
const AUDIO_URL = "https://content.example.org/api/v1/media/42/week-1.mp3";

const it = serviceTest(subscriptionService, { worker: true }, ["outbound.send"]).extend<{ content: true }>({
  content: [
    async ({ svc }, use) => {
      await svc.broker.publish("content.schedule.changed", scheduleEvent(SCHEDULE));
      await svc.broker.publish("content.messageset.changed", {
        ...messageSetEvent(AUDIO_SET, null, SCHEDULE),
        content_type: "audio",
        channel: "SET_VOICE",
      });
      await svc.broker.publish("content.messageset.changed", {
        ...messageSetEvent(TEXT_SET, null, SCHEDULE),
        channel: "SET_SMS",
      });
      await svc.broker.publish("content.message.changed", {
        ...messageEvent(9001, AUDIO_SET, 1, "eng_ZA", ""),
        text_content: null,
        binary_content: 42,
        binary_content_url: AUDIO_URL,
      });
      await svc.broker.publish(
        "content.message.changed",
        messageEvent(9002, TEXT_SET, 1, "eng_ZA", "week 1"),
      );
      await waitFor(async () => (await svc.db.messageCopy.count()) === 2, { what: "content copies" });
      await use(true);
    },
    { scope: "file", auto: true },
  ],
});

/** Each identity here has one subscription: its first send. */
const sendTo = (capture: Capture, identity: string) =>
  waitFor(() => capture.named<OutboundSend>("outbound.send").find((s) => s.to_identity === identity), {
    what: `the send to ${identity}`,
  });

/** Subscribes `identity` to `set` (with `metadata`) from its first message and fires the slot that sends it. */
async function firstSend(
  svc: Svc,
  capture: Capture,
  identity: string,
  set: number,
  metadata: Record<string, unknown> = {},
): Promise<OutboundSend> {
  await subscribe(svc, { identity, messageset: set, schedule: SCHEDULE, metadata });
  await svc.broker.publish("schedule.fired", {
    schedule_id: "2f4b8c7e-9a1d-4e3f-8b2a-1c0d9e8f7a6b",
    slot: new Date(Date.now() - 86_400_000).toISOString(),
    manual: false,
    source: { service: "content", ref: String(SCHEDULE) },
    payload: {},
  });
  return sendTo(capture, identity);
}

describe("the channel of a stage-based send", () => {
  it("sends an audio set's message as voice_speech_url through the voice channel the person chose", async ({
    svc,
    capture,
  }) => {
    const identity = newIdentity();
    await announceIdentity(svc, identity, { preferred_msg_type: "audio", channel: "MY_VOICE" }, []);
    const send = await firstSend(svc, capture, identity, AUDIO_SET);
    expect(send).toMatchObject({ channel: "MY_VOICE", content: null });
    expect(send.metadata).toMatchObject({ voice_speech_url: [AUDIO_URL] });
  });

  it("carries the subscription's voice_days and voice_times with an audio set's sends, not a text set's", async ({
    svc,
    capture,
  }) => {
    const [caller, reader] = [newIdentity(), newIdentity()];
    const metadata = { voice_days: "tue_thu", voice_times: "9_11", source: "hub" };
    const audio = await firstSend(svc, capture, caller, AUDIO_SET, metadata);
    expect(audio.metadata).toMatchObject({
      voice_speech_url: [AUDIO_URL],
      voice_days: "tue_thu",
      voice_times: "9_11",
    });
    // Only those two of the subscription's keys.
    expect(audio.metadata).not.toHaveProperty("source");
    expect((await firstSend(svc, capture, reader, TEXT_SET, metadata)).metadata).not.toHaveProperty(
      "voice_days",
    );
  });

  it("uses the set's channel for a person with no preference, or one for the other kind", async ({
    svc,
    capture,
  }) => {
    const [plain, texter] = [newIdentity(), newIdentity()];
    await announceIdentity(svc, texter, { preferred_msg_type: "text", channel: "MY_SMS" }, []);
    expect(await firstSend(svc, capture, plain, AUDIO_SET)).toMatchObject({ channel: "SET_VOICE" });
    expect(await firstSend(svc, capture, texter, AUDIO_SET)).toMatchObject({ channel: "SET_VOICE" });
  });

  it("keeps a text set on its own channel for a person who asked for calls", async ({ svc, capture }) => {
    const identity = newIdentity();
    await announceIdentity(svc, identity, { preferred_msg_type: "audio", channel: "MY_VOICE" }, []);
    expect(await firstSend(svc, capture, identity, TEXT_SET)).toMatchObject({
      channel: "SET_SMS",
      content: "week 1",
    });
  });
});
