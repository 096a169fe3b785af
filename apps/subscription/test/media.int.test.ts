import { describe, expect } from "vitest";
import {
  message,
  publishContent,
  scheduleEvent as schedule,
  messageSetEvent as set,
} from "./content-helpers.ts";
import { subscriptionTest } from "./support.ts";

const MEDIA = 20;

const it = subscriptionTest({
  worker: true,
  events: ["outbound.send"],
  content: (svc) =>
    publishContent(svc, {
      schedules: [schedule(MEDIA, "0 8 * * *")],
      sets: [set(20, null, MEDIA, "audio"), set(21, null, MEDIA)],
      messages: [
        message(20, 1, { text: null, url: "https://files.example/a1.mp3" }),
        message(20, 2, { text: null, url: "https://files.example/a2.mp3" }),
        message(21, 1, { text: "look", url: "https://files.example/i1.png" }),
        message(21, 2),
      ],
    }),
});

describe("audio and image messages", () => {
  it("sends voice_speech_url for audio sets (after a prepended file), image_url with text, and the metadata", async ({
    svc,
    t,
  }) => {
    const audio = await t.subscribe({
      messageset: 20,
      schedule: MEDIA,
      metadata: { prepend_next_delivery: "https://files.example/welcome.mp3" },
    });
    const image = await t.subscribe({ messageset: 21, schedule: MEDIA });
    await t.fire("2026-03-02T08:00:00.000Z", MEDIA);
    await t.waitForSends({ [audio.identity]: 1, [image.identity]: 1 }, "media sends");
    expect(t.sendsTo(audio.identity)[0]?.metadata).toEqual({
      seq: 1,
      voice_speech_url: ["https://files.example/welcome.mp3", "https://files.example/a1.mp3"],
    });
    expect(t.sendsTo(image.identity)[0]).toMatchObject({
      content: "look",
      metadata: { seq: 1, image_url: "https://files.example/i1.png" },
    });
    expect(t.sendsTo(image.identity)[0]?.sending_window).toBeUndefined();
    // Quiet hours on the image set: its later sends carry the window, which the message sender waits for.
    const window = { start: "09:00", end: "17:00", timezone: "Africa/Johannesburg" };
    const badWindow = await t.api("PUT", "/api/v1/messagesets/21/policy/", {
      catch_up: "send_all",
      max_per_day: 2,
      sending_window: { start: "25:00", end: "17:00" },
    });
    expect(badWindow.statusCode).toBe(400);
    const badZone = await t.api("PUT", "/api/v1/messagesets/21/policy/", {
      catch_up: "send_all",
      max_per_day: 2,
      sending_window: { start: "09:00", end: "17:00", timezone: "Mars/Olympus_Mons" },
    });
    expect(badZone.json().error.details).toEqual([
      { field: "body.sending_window.timezone", message: "not an IANA time zone" },
    ]);
    expect(await svc.db.messageSetPolicy.findUnique({ where: { messagesetId: 21 } })).toBeNull();
    const quiet = await t.api("PUT", "/api/v1/messagesets/21/policy/", {
      catch_up: "send_all",
      max_per_day: 2,
      sending_window: window,
    });
    expect(quiet.json()).toMatchObject({ messageset: 21, sending_window: window, configured: true });
    await t.fire("2026-03-03T08:00:00.000Z", MEDIA);
    await t.waitForSends({ [audio.identity]: 2, [image.identity]: 2 }, "second sends");
    expect(t.sendsTo(audio.identity)[1]?.metadata).toEqual({
      seq: 2,
      voice_speech_url: ["https://files.example/a2.mp3"],
    });
    expect(t.sendsTo(image.identity)[1]?.metadata).toEqual({ seq: 2 });
    expect(t.sendsTo(image.identity)[1]?.sending_window).toEqual(window);
    expect(t.sendsTo(audio.identity)[1]?.sending_window).toBeUndefined();
    expect((await t.reload(audio.id)).metadata).toEqual({});
  });
});
