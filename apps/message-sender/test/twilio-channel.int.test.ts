import type { AddressInfo } from "node:net";
import type { OptOutReported, OutboundDeliveryReport } from "@tidings/contracts";
import { startTwilioSimulator, TWILIO_ERRORS, type TwilioSimulator } from "@tidings/provider-simulators";
import {
  adminAuth,
  type Capture,
  captureMessages,
  startTestService,
  type TestService,
  waitFor,
} from "@tidings/testing";
import twilio from "twilio";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TWILIO_THROTTLE_PAUSE_MS } from "../src/channels/twilio/adapter.ts";
import type { MessageSenderConfig } from "../src/config.ts";
import type { Db } from "../src/db.ts";
import { createMessageSenderService } from "../src/service.ts";
import { createTwilioChannel, msisdn, waitForIdle } from "./helpers.ts";

const SID = `AC${"2".repeat(32)}`;
const TOKEN = "twilio-test-auth-token";

let svc: TestService<MessageSenderConfig, Db>;
let sim: TwilioSimulator;
let capture: Capture;
let base: string;

const call = (method: "GET" | "POST" | "PATCH", url: string, payload?: object) =>
  svc.app.inject({ method, url, headers: adminAuth, ...(payload ? { payload } : {}) });

const createChannel = (channelId: string, fields: Record<string, unknown> = {}) =>
  createTwilioChannel(
    svc.app,
    channelId,
    { sid: SID, token: TOKEN, url: sim.url },
    { status_callback: base },
    fields,
  );

const send = async (channel: string, to = msisdn(), content = "Your code is 1234") => {
  const res = await call("POST", "/api/v1/outbound/", { to_addr: to, content, metadata: {}, channel });
  expect(res.statusCode).toBe(201);
  return { id: res.json().id as string, to };
};

const fetchOutbound = async (id: string) => (await call("GET", `/api/v1/outbound/${id}/`)).json();
const waitForStatus = (id: string, status: string) =>
  waitFor(
    async () => {
      const o = await fetchOutbound(id);
      return o.status === status && o;
    },
    { what: `outbound ${id} to be ${status}` },
  );
const reportsOf = (id: string) =>
  capture.messages
    .filter((m) => m.name === "outbound.delivery_report")
    .map((m) => m.payload as OutboundDeliveryReport)
    .filter((p) => p.outbound_id === id);
const requestsTo = (to: string) => sim.requests.filter((r) => r.To === to);

/** Posts a status callback as Twilio would, signed with `token` over `signedUrl`. */
function callback(
  channel: string,
  params: Record<string, string>,
  opts: { token?: string; signedUrl?: string; headers?: Record<string, string> } = {},
) {
  const path = `/api/v1/events/twilio/${channel}`;
  const signature = twilio.getExpectedTwilioSignature(
    opts.token ?? TOKEN,
    opts.signedUrl ?? `${base}${path}`,
    params,
  );
  return svc.app.inject({
    method: "POST",
    url: path,
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      "x-twilio-signature": signature,
      ...opts.headers,
    },
    payload: new URLSearchParams(params).toString(),
  });
}

beforeAll(async () => {
  sim = await startTwilioSimulator({ accounts: { [SID]: TOKEN }, callbackIntervalMs: 20 });
  svc = await startTestService(createMessageSenderService(), {
    worker: true,
    // TRUST_PROXY: inject's peer, for the callback signed over the URL a proxy forwarded.
    env: {
      OUTBOUND_RETRY_DELAYS_MS: "100,300,1000,3000",
      CHANNEL_CACHE_TTL_MS: "100",
      TRUST_PROXY: "127.0.0.1",
      // One attempt: a failed report is final here (retries: redelivery.int.test.ts).
      REDELIVERY_MAX_ATTEMPTS: "1",
    },
  });
  await svc.app.listen({ port: 0, host: "127.0.0.1" });
  base = `http://127.0.0.1:${(svc.app.server.address() as AddressInfo).port}`;
  capture = await captureMessages(svc.namespace, ["outbound.delivery_report", "optout.reported"]);
  await createChannel("TW");
});
afterAll(async () => {
  await capture?.stop();
  await svc?.close();
  await sim?.close();
});

describe("the twilio channel", () => {
  it("sends through the SDK, records the SID, and is delivered by the signed status callback", async () => {
    const { id, to } = await send("TW");
    const delivered = await waitForStatus(id, "delivered");
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
    await waitFor(() => reportsOf(id).length === 1, { what: "the delivery report" });
    expect(reportsOf(id)[0]).toMatchObject({ delivered: true, status: "delivered" });

    // Replays and a late, contradicting report change nothing.
    expect(await sim.sendStatus(message!.sid, "delivered")).toBe(200);
    expect(await sim.sendStatus(message!.sid, "failed", 30003)).toBe(200);
    expect(await sim.sendStatus(message!.sid, "sent")).toBe(200);
    await new Promise((r) => setTimeout(r, 300));
    expect(await fetchOutbound(id)).toMatchObject({ status: "delivered", delivered: true });
    expect(reportsOf(id)).toHaveLength(1);
    expect(requestsTo(to)).toHaveLength(1);
  });

  it("records undelivered as failed with Twilio's error code", async () => {
    sim.configure({ finalStatus: () => "undelivered" });
    try {
      const { id } = await send("TW");
      const failed = await waitForStatus(id, "failed");
      expect(failed).toMatchObject({
        delivered: false,
        to_addr: "",
        last_error: "twilio undelivered (error 30003)",
      });
      await waitFor(() => reportsOf(id).length === 1, { what: "the delivery report" });
      expect(reportsOf(id)[0]).toMatchObject({ delivered: false, status: "failed" });
    } finally {
      sim.configure({ finalStatus: undefined });
    }
  });

  it("ends in the right final status when the delivery report overtakes the submit confirmation", async () => {
    sim.configure({ callbacksBeforeResponse: true, finalStatus: () => "failed" });
    try {
      const { id, to } = await send("TW");
      const failed = await waitForStatus(id, "failed");
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
      await waitFor(() => reportsOf(id).length === 1, { what: "the delivery report" });
    } finally {
      sim.configure({ callbacksBeforeResponse: false, finalStatus: undefined });
    }
  });

  it("fails at once, with Twilio's code, on a definite rejection", async () => {
    // A well-formed number Twilio still refuses (our own check lets only E.164 numbers through).
    const to = msisdn();
    sim.failNext(TWILIO_ERRORS.invalidTo(to));
    const { id } = await send("TW", to);
    const failed = await waitForStatus(id, "failed");
    expect(failed.last_error).toMatch(/^twilio 21211: /);
    expect(failed.attempts).toBe(0);
    await new Promise((r) => setTimeout(r, 500));
    expect(requestsTo(to)).toHaveLength(1);
  });

  it("retries a provider outage on the same channel and sends once", async () => {
    sim.failNext(TWILIO_ERRORS.serverError(), 2);
    const { id, to } = await send("TW");
    await waitForStatus(id, "delivered");
    expect(requestsTo(to)).toHaveLength(3);
    expect(sim.messages.filter((m) => m.to === to)).toHaveLength(1);
  });

  it("pauses a throttled channel instead of spinning retries", async () => {
    sim.failNext(TWILIO_ERRORS.throttled());
    const { id, to } = await send("TW");
    await waitForStatus(id, "delivered");
    const times = sim.requestTimes.filter((_, i) => sim.requests[i]?.To === to);
    expect(times).toHaveLength(2);
    // The retry delay is 100 ms: only the channel's pause explains the wait.
    expect((times[1] as number) - (times[0] as number)).toBeGreaterThanOrEqual(
      TWILIO_THROTTLE_PAUSE_MS - 100,
    );
  });
});

describe("media", () => {
  it("sends metadata.image_url as MMS media (MediaUrl)", async () => {
    const to = msisdn();
    const res = await call("POST", "/api/v1/outbound/", {
      to_addr: to,
      content: "Week 12",
      metadata: { image_url: "https://cdn.example.org/week12.png" },
      channel: "TW",
    });
    expect(res.statusCode).toBe(201);
    await waitForStatus(res.json().id, "delivered");
    expect(requestsTo(to)[0]).toMatchObject({
      Body: "Week 12",
      MediaUrl: "https://cdn.example.org/week12.png",
    });
  });
});

describe("a redelivered outbound.send", () => {
  it("never calls Twilio again for an outbound that has a provider id, before or after its final status", async () => {
    // A channel with no status callbacks: the outbound stays submitted, as after a worker died before its ack.
    const res = await call("POST", "/api/v1/channel/", {
      channel_id: "TW_NOCB",
      channel_type: "twilio",
      configuration: { account_sid: SID, auth_token: TOKEN, from: "+15005550006", api_url: sim.url },
    });
    expect(res.statusCode).toBe(201);
    const { id, to } = await send("TW_NOCB");
    const submitted = await waitForStatus(id, "submitted");
    const command = { id, to_addr: to, content: "Your code is 1234", channel: "TW_NOCB", metadata: {} };
    for (let i = 0; i < 3; i++) {
      await svc.broker.publish("outbound.send", command, i === 0 ? { messageId: id } : {});
    }
    await waitForIdle(svc.broker, "message-sender.outbound-send");
    expect(requestsTo(to)).toHaveLength(1);
    expect(await fetchOutbound(id)).toMatchObject({
      status: "submitted",
      provider_id: submitted.provider_id,
      attempts: 1,
    });
  });
});

describe("rate_limit", () => {
  it("spreads a channel's sends over seconds, across the worker's concurrent consumers", async () => {
    await createChannel("TW_RATE", { rate_limit: 2 });
    const sent = await Promise.all(Array.from({ length: 6 }, () => send("TW_RATE")));
    for (const { id } of sent) {
      await waitForStatus(id, "delivered");
    }
    const times = sent.flatMap(({ to }) => sim.requestTimes.filter((_, i) => sim.requests[i]?.To === to));
    expect(times).toHaveLength(6);
    // Three seconds' windows at least: without the limit the six go out within milliseconds.
    expect(Math.max(...times) - Math.min(...times)).toBeGreaterThanOrEqual(900);
    const windows = await svc.db.channelRateWindow.findMany({ where: { channel: "TW_RATE" } });
    expect(windows.length).toBeGreaterThanOrEqual(3);
    expect(Math.max(...windows.map((w) => w.used))).toBeLessThanOrEqual(2);
  });
});

describe("concurrency_limit", () => {
  it("keeps provider requests in progress at once within the limit", async () => {
    await createChannel("TW_ONE", { concurrency_limit: 1 });
    sim.configure({ latencyMs: 300 });
    try {
      const sent = await Promise.all(Array.from({ length: 3 }, () => send("TW_ONE")));
      for (const { id } of sent) {
        await waitFor(async () => (await fetchOutbound(id)).provider_id, { what: `${id} to be sent` });
      }
      const times = sent
        .flatMap(({ to }) => sim.requestTimes.filter((_, i) => sim.requests[i]?.To === to))
        .sort((a, b) => a - b);
      expect(times).toHaveLength(3);
      // One at a time: each request is answered (after 300 ms) before the next one starts.
      expect((times[1] as number) - (times[0] as number)).toBeGreaterThanOrEqual(250);
      expect((times[2] as number) - (times[1] as number)).toBeGreaterThanOrEqual(250);
    } finally {
      sim.configure({ latencyMs: 0 });
    }
    expect(await svc.db.channelSlot.count({ where: { channel: "TW_ONE", holder: { not: null } } })).toBe(0);
  });
});

describe("status callbacks", () => {
  it("refuse a forged, unsigned or re-targeted callback with 403 and change nothing", async () => {
    // A channel with no status_callback: the outbound stays submitted until a callback is accepted.
    const res0 = await call("POST", "/api/v1/channel/", {
      channel_id: "TW_QUIET",
      channel_type: "twilio",
      configuration: { account_sid: SID, auth_token: TOKEN, from: "+15005550006", api_url: sim.url },
    });
    expect(res0.statusCode).toBe(201);
    const { id } = await send("TW_QUIET");
    const sid: string = (await waitForStatus(id, "submitted")).provider_id;
    const params = { MessageSid: sid, MessageStatus: "delivered", AccountSid: SID };
    expect((await callback("TW_QUIET", params, { token: "not-the-token" })).statusCode).toBe(403);
    // Signed for another channel's URL.
    const retargeted = await callback("TW_QUIET", params, { signedUrl: `${base}/api/v1/events/twilio/TW` });
    expect(retargeted.statusCode).toBe(403);
    const unsigned = await svc.app.inject({
      method: "POST",
      url: "/api/v1/events/twilio/TW_QUIET",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      payload: new URLSearchParams(params).toString(),
    });
    expect(unsigned.statusCode).toBe(403);
    expect(unsigned.json().error.code).toBe("MESSAGE_SENDER_INVALID_SIGNATURE");
    // A parameter changed after signing.
    const signature = twilio.getExpectedTwilioSignature(
      TOKEN,
      `${base}/api/v1/events/twilio/TW_QUIET`,
      params,
    );
    const tampered = await svc.app.inject({
      method: "POST",
      url: "/api/v1/events/twilio/TW_QUIET",
      headers: { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": signature },
      payload: new URLSearchParams({ ...params, MessageStatus: "failed" }).toString(),
    });
    expect(tampered.statusCode).toBe(403);
    expect(await fetchOutbound(id)).toMatchObject({ status: "submitted" });
    expect(reportsOf(id)).toHaveLength(0);

    // Signed over the externally visible URL, as forwarded by a proxy: accepted.
    const res = await callback("TW_QUIET", params, {
      signedUrl: "https://tidings.example.org/api/v1/events/twilio/TW_QUIET",
      headers: { "x-forwarded-proto": "https", "x-forwarded-host": "tidings.example.org" },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ accepted: true, reason: "Event processed" });
    expect(await waitForStatus(id, "delivered")).toMatchObject({ delivered: true, to_addr: "" });
  });

  it("answer 404 for a channel that is not a twilio channel", async () => {
    const res = await callback("LOG", { MessageSid: "SMx", MessageStatus: "delivered" });
    expect(res.statusCode).toBe(404);
  });
});

describe("fallback channels", () => {
  it("fail over to the fallback only on a definite rejection", async () => {
    await createChannel("TW_FB", { fallback: "LOG" });
    sim.failNext(TWILIO_ERRORS.invalidTo("+27820000000"));
    const rejected = await send("TW_FB");
    expect(await waitForStatus(rejected.id, "delivered")).toMatchObject({
      channel: "LOG",
      provider_id: expect.stringMatching(/^log-/),
    });
    expect(requestsTo(rejected.to)).toHaveLength(1);

    sim.failNext(TWILIO_ERRORS.serverError());
    const outage = await send("TW_FB");
    expect(await waitForStatus(outage.id, "delivered")).toMatchObject({
      channel: "TW_FB",
      provider_id: expect.stringMatching(/^SM/),
    });
    expect(requestsTo(outage.to)).toHaveLength(2);
  });

  it("do not take a message to a recipient who opted out (21610): it fails with reason opted_out", async () => {
    sim.failNext(TWILIO_ERRORS.unsubscribed());
    const { id, to } = await send("TW_FB");
    const failed = await waitForStatus(id, "failed");
    expect(failed).toMatchObject({
      channel: "TW_FB",
      last_error: "opted_out",
      provider_id: null,
      attempts: 0,
    });
    await waitForIdle(svc.broker, "message-sender.outbound-send");
    expect(requestsTo(to)).toHaveLength(1);
    expect((await svc.db.outboundEvent.findMany({ where: { outboundId: id } })).map((e) => e.status)).toEqual(
      ["failed"],
    );
    // identity is told, to record the opt-out in its ledger (source provider); no delivery failure is counted
    const reported = await waitFor(
      () => capture.named<OptOutReported>("optout.reported").find((r) => r.outbound_id === id),
      { what: "optout.reported" },
    );
    expect(reported).toMatchObject({
      address: to,
      address_type: "msisdn",
      channel: "TW_FB",
      provider_code: "twilio 21610",
    });
    expect(reportsOf(id)).toEqual([]);
  });
});

describe("a provider's unusual answers", () => {
  it("a 201 without a sid is a send: submitted with no provider id and a note, never sent again", async () => {
    sim.configure({ omitMessageId: true });
    let sent: { id: string; to: string };
    try {
      sent = await send("TW");
      await waitForStatus(sent.id, "submitted");
    } finally {
      sim.configure({ omitMessageId: false });
    }
    await waitForIdle(svc.broker, "message-sender.outbound-send");
    await new Promise((r) => setTimeout(r, 1_000)); // past the first retry delays (100, 300 ms)
    expect(requestsTo(sent.to)).toHaveLength(1);
    expect(await fetchOutbound(sent.id)).toMatchObject({
      status: "submitted",
      provider_id: null,
      attempts: 1,
      last_error: "twilio accepted the message but returned no message id",
    });
  });

  it("an error answer without a message is retried like any other, not a crash", async () => {
    sim.failNext({ status: 503, code: 20503, message: undefined as unknown as string });
    const { id, to } = await send("TW");
    await waitForStatus(id, "delivered");
    expect(requestsTo(to)).toHaveLength(2);
    const history = await svc.db.outboundEvent.findMany({ where: { outboundId: id } });
    expect(history.map((e) => e.status)).toEqual(["submitted", "delivered"]);
  });
});

describe("channel changes", () => {
  it("take effect within seconds", async () => {
    const res = await call("PATCH", "/api/v1/channel/TW/", { configuration: { from: "+15005550009" } });
    expect(res.statusCode).toBe(200);
    await new Promise((r) => setTimeout(r, 300));
    const { id, to } = await send("TW");
    await waitForStatus(id, "delivered");
    expect(sim.messages.find((m) => m.to === to)?.from).toBe("+15005550009");
  });
});
