import { TWILIO_ERRORS } from "@tidings/provider-simulators";
import { waitFor } from "@tidings/testing";
import { describe, expect } from "vitest";
import { TWILIO_THROTTLE_PAUSE_MS } from "../src/channels/twilio/adapter.ts";
import { msisdn, statusesOf, waitForIdle, withoutMessageIds } from "./helpers.ts";
import {
  call,
  createTwilioTestChannel,
  outbound,
  reportsOf,
  requestsTo,
  sendThrough,
  twilioChannelTest,
  waitForStatus,
} from "./support.ts";

// The twilio channel's sends, failures, media and redelivery (its settings: twilio-channel-settings.int.test.ts).
const it = twilioChannelTest();

describe("the twilio channel", () => {
  it("sends through the SDK, records the SID, and is delivered by the signed status callback", async ({
    svc,
    sim,
    capture,
    base,
  }) => {
    const { id, to } = await sendThrough(svc, "TW");
    const delivered = await waitForStatus(svc, id, "delivered");
    const [message] = sim.messages.filter((m) => m.to === to);
    expect(message).toMatchObject({
      body: "Your code is 1234",
      from: "+15005550006",
      statusCallback: `${base}/api/v1/events/twilio/TW`,
    });
    expect(delivered).toMatchObject({
      provider_id: message?.sid,
      delivered: true,
      to_addr: "",
      attempts: 1,
      channel: "TW",
    });
    // The simulator records a callback once it has read the answer: after the change it caused.
    await expect
      .poll(() =>
        sim.callbacks.filter((c) => c.params.MessageSid === message?.sid).map((c) => c.responseStatus),
      )
      .toEqual([200, 200]);
    await waitFor(() => reportsOf(capture, id).length === 1, { what: "the delivery report" });
    expect(reportsOf(capture, id)[0]).toMatchObject({ delivered: true, status: "delivered" });

    // Replays and a late, contradicting report change nothing.
    expect(await sim.sendStatus(message!.sid, "delivered")).toBe(200);
    expect(await sim.sendStatus(message!.sid, "failed", 30003)).toBe(200);
    expect(await sim.sendStatus(message!.sid, "sent")).toBe(200);
    await new Promise((r) => setTimeout(r, 300));
    expect(await outbound(svc, id)).toMatchObject({ status: "delivered", delivered: true });
    expect(reportsOf(capture, id)).toHaveLength(1);
    expect(requestsTo(sim, to)).toHaveLength(1);
  });

  it("records undelivered as failed with Twilio's error code", async ({ svc, sim, capture }) => {
    sim.configure({ finalStatus: () => "undelivered" });
    try {
      const { id } = await sendThrough(svc, "TW");
      const failed = await waitForStatus(svc, id, "failed");
      expect(failed).toMatchObject({
        delivered: false,
        to_addr: "",
        last_error: "twilio undelivered (error 30003)",
      });
      await waitFor(() => reportsOf(capture, id).length === 1, { what: "the delivery report" });
      expect(reportsOf(capture, id)[0]).toMatchObject({ delivered: false, status: "failed" });
    } finally {
      sim.configure({ finalStatus: undefined });
    }
  });

  it("ends in the right final status when the delivery report overtakes the submit confirmation", async ({
    svc,
    sim,
    capture,
  }) => {
    sim.configure({ callbacksBeforeResponse: true, finalStatus: () => "failed" });
    try {
      const { id, to } = await sendThrough(svc, "TW");
      const failed = await waitForStatus(svc, id, "failed");
      const sid = sim.messages.find((m) => m.to === to)?.sid;
      expect(failed).toMatchObject({
        provider_id: sid,
        to_addr: "",
        last_error: "twilio failed (error 30003)",
      });
      // The report came before the SID was recorded: it was kept, then applied when the send was recorded.
      expect(sim.callbacks.filter((c) => c.params.MessageSid === sid).map((c) => c.responseStatus)).toEqual([
        200, 200,
      ]);
      expect(await svc.db.earlyReport.count({ where: { providerId: sid } })).toBe(0);
      await waitFor(() => reportsOf(capture, id).length === 1, { what: "the delivery report" });
    } finally {
      sim.configure({ callbacksBeforeResponse: false, finalStatus: undefined });
    }
  });

  it("fails at once, with Twilio's code, on a definite rejection", async ({ svc, sim }) => {
    // A well-formed number Twilio still refuses (our own check lets only E.164 numbers through).
    const to = msisdn();
    sim.failNext(TWILIO_ERRORS.invalidTo(to));
    const { id } = await sendThrough(svc, "TW", to);
    const failed = await waitForStatus(svc, id, "failed");
    expect(failed.last_error).toMatch(/^twilio 21211: /);
    expect(failed.attempts).toBe(0);
    await new Promise((r) => setTimeout(r, 500));
    expect(requestsTo(sim, to)).toHaveLength(1);
  });

  it("retries a provider outage on the same channel and sends once", async ({ svc, sim }) => {
    sim.failNext(TWILIO_ERRORS.serverError(), 2);
    const { id, to } = await sendThrough(svc, "TW");
    await waitForStatus(svc, id, "delivered");
    expect(requestsTo(sim, to)).toHaveLength(3);
    expect(sim.messages.filter((m) => m.to === to)).toHaveLength(1);
  });

  it("pauses a throttled channel instead of spinning retries", async ({ svc, sim }) => {
    sim.failNext(TWILIO_ERRORS.throttled());
    const { id, to } = await sendThrough(svc, "TW");
    await waitForStatus(svc, id, "delivered");
    const times = sim.requestTimes.filter((_, i) => sim.requests[i]?.To === to);
    expect(times).toHaveLength(2);
    // The retry delay is 100 ms: only the channel's pause explains the wait.
    expect((times[1] as number) - (times[0] as number)).toBeGreaterThanOrEqual(
      TWILIO_THROTTLE_PAUSE_MS - 100,
    );
  });
});

describe("media", () => {
  it("sends metadata.image_url as MMS media (MediaUrl)", async ({ svc, sim }) => {
    const to = msisdn();
    const res = await call(svc, "POST", "/api/v1/outbound/", {
      to_addr: to,
      content: "Week 12",
      metadata: { image_url: "https://cdn.example.org/week12.png" },
      channel: "TW",
    });
    expect(res.statusCode).toBe(201);
    await waitForStatus(svc, res.json().id, "delivered");
    expect(requestsTo(sim, to)[0]).toMatchObject({
      Body: "Week 12",
      MediaUrl: "https://cdn.example.org/week12.png",
    });
  });
});

describe("a redelivered outbound.send", () => {
  it("never calls Twilio again for an outbound that has a provider id, before or after its final status", async ({
    svc,
    sim,
  }) => {
    // A channel with no status callbacks: the outbound stays submitted, as after a worker died before its ack.
    await createTwilioTestChannel(svc, sim, undefined, "TW_NOCB");
    const { id, to } = await sendThrough(svc, "TW_NOCB");
    const submitted = await waitForStatus(svc, id, "submitted");
    const command = { id, to_addr: to, content: "Your code is 1234", channel: "TW_NOCB", metadata: {} };
    for (let i = 0; i < 3; i++) {
      await svc.broker.publish("outbound.send", command, i === 0 ? { messageId: id } : {});
    }
    await waitForIdle(svc.broker, "message-sender.outbound-send");
    expect(requestsTo(sim, to)).toHaveLength(1);
    expect(await outbound(svc, id)).toMatchObject({
      status: "submitted",
      provider_id: submitted.provider_id,
      attempts: 1,
    });
  });
});

describe("a provider's unusual answers", () => {
  it("a 201 without a sid is a send: submitted with no provider id and a note, never sent again", async ({
    svc,
    sim,
  }) => {
    const sent = await withoutMessageIds(sim, async () => {
      const sent = await sendThrough(svc, "TW");
      await waitForStatus(svc, sent.id, "submitted");
      return sent;
    });
    await waitForIdle(svc.broker, "message-sender.outbound-send");
    await new Promise((r) => setTimeout(r, 1_000)); // past the first retry delays (100, 300 ms)
    expect(requestsTo(sim, sent.to)).toHaveLength(1);
    expect(await outbound(svc, sent.id)).toMatchObject({
      status: "submitted",
      provider_id: null,
      attempts: 1,
      last_error: "twilio accepted the message but returned no message id",
    });
  });

  it("an error answer without a message is retried like any other, not a crash", async ({ svc, sim }) => {
    sim.failNext({ status: 503, code: 20503, message: undefined as unknown as string });
    const { id, to } = await sendThrough(svc, "TW");
    await waitForStatus(svc, id, "delivered");
    expect(requestsTo(sim, to)).toHaveLength(2);
    expect(await statusesOf(svc.db, id)).toEqual(["submitted", "delivered"]);
  });
});

describe("channel changes", () => {
  it("take effect within seconds", async ({ svc, sim }) => {
    const res = await call(svc, "PATCH", "/api/v1/channel/TW/", { configuration: { from: "+15005550009" } });
    expect(res.statusCode).toBe(200);
    await new Promise((r) => setTimeout(r, 300));
    const { id, to } = await sendThrough(svc, "TW");
    await waitForStatus(svc, id, "delivered");
    expect(sim.messages.find((m) => m.to === to)?.from).toBe("+15005550009");
  });
});
