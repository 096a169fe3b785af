import type { InboundReceived } from "@tidings/contracts";
import { postSigned } from "@tidings/provider-simulators";
import { adminAuth, type Capture, serviceTest, waitFor } from "@tidings/testing";
import twilio from "twilio";
import { describe, expect } from "vitest";
import { createMessageSenderService } from "../src/service.ts";
import { createTwilioChannel, knownSender, msisdn } from "./helpers.ts";
import {
  listening,
  send,
  type TwilioFixtures,
  twilioSetUp,
  twilioSimulator,
  waitForStatus,
} from "./support.ts";

const SID = `AC${"3".repeat(32)}`;
const TOKEN = "inbound-auth-token";

const received = (capture: Capture, id: string) =>
  capture.messages.map((m) => m.payload as InboundReceived).filter((p) => p.id === id);

const it = serviceTest(
  createMessageSenderService(),
  { worker: true, env: { INBOUND_KEYWORDS: JSON.stringify({ stop: ["STOP", "STOPP", "EMA"] }) } },
  ["inbound.received"],
).extend<TwilioFixtures & { base: string; webhook: string }>({
  sim: twilioSimulator({ accounts: { [SID]: TOKEN } }),
  setUp: twilioSetUp((svc, sim) =>
    createTwilioChannel(svc.app, "TW", { sid: SID, token: TOKEN, url: sim.url }),
  ),
  base: listening,
  /** The TW channel's inbound webhook on the listening API. */
  webhook: [
    async ({ base }, use) => {
      await use(`${base}/api/v1/inbound/twilio/TW`);
    },
    { scope: "file" },
  ],
});

describe("inbound", () => {
  it("stores a signed Twilio message against the sender's identity, once, and announces a STOP", async ({
    svc,
    sim,
    capture,
    webhook,
  }) => {
    const { from, identity } = await knownSender(svc);
    const first = await sim.sendInbound({
      url: webhook,
      accountSid: SID,
      from,
      to: "+15005550006",
      body: "stop",
    });
    expect(first.status).toBe(200);
    // Replayed by Twilio: stored and announced once.
    const again = await sim.sendInbound({
      url: webhook,
      accountSid: SID,
      from,
      to: "+15005550006",
      body: "stop",
      messageSid: first.sid,
    });
    expect(again.status).toBe(200);
    const rows = await svc.db.inbound.findMany({ where: { messageId: first.sid } });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      fromIdentity: identity.id,
      fromAddr: "",
      keyword: "stop",
      channel: "TW",
    });
    await waitFor(() => received(capture, rows[0]!.id).length === 1, { what: "inbound.received" });
    // The event of a keyword names the address it came from (identity opts out that address).
    expect(received(capture, rows[0]!.id)[0]).toMatchObject({
      from_identity: identity.id,
      from_addr: from,
      keyword: "stop",
    });
    const listed = await svc.app.inject({
      url: `/api/v1/inbound/?from_identity=${identity.id}`,
      headers: adminAuth,
    });
    expect(listed.json().count).toBe(1);
  });

  it("uses the configured keywords of another language, and keeps the address of an unknown sender", async ({
    svc,
    sim,
    capture,
    webhook,
  }) => {
    const from = msisdn();
    const { sid } = await sim.sendInbound({
      url: webhook,
      accountSid: SID,
      from,
      to: "+15005550006",
      body: "Ema!",
    });
    const row = await svc.db.inbound.findFirstOrThrow({ where: { messageId: sid } });
    expect(row).toMatchObject({ fromIdentity: null, fromAddr: from, keyword: "stop" });
    await waitFor(() => received(capture, row.id).length === 1, { what: "inbound.received" });
    expect(received(capture, row.id)[0]).toMatchObject({ from_addr: from, keyword: "stop" });
  });

  it("refuses an unsigned or forged webhook with 403 and stores nothing", async ({ svc, webhook }) => {
    const params = { MessageSid: `SM${"9".repeat(32)}`, From: msisdn(), To: "+15005550006", Body: "START" };
    const forged = await svc.app.inject({
      method: "POST",
      url: "/api/v1/inbound/twilio/TW",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        "x-twilio-signature": twilio.getExpectedTwilioSignature("wrong-token", webhook, params),
      },
      payload: new URLSearchParams(params).toString(),
    });
    expect(forged.statusCode).toBe(403);
    expect(await svc.db.inbound.count({ where: { messageId: params.MessageSid } })).toBe(0);
  });

  it("accepts a webhook Twilio signed for its URL without the port, not one signed for another URL", async ({
    svc,
    webhook,
  }) => {
    const params = { MessageSid: `SM${"8".repeat(32)}`, From: msisdn(), To: "+15005550006", Body: "hello" };
    const signedFor = (url: string) =>
      fetch(webhook, {
        method: "POST",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          "x-twilio-signature": twilio.getExpectedTwilioSignature(TOKEN, url, params),
        },
        body: new URLSearchParams(params).toString(),
      });
    const portless = new URL(webhook);
    portless.port = "";
    expect((await signedFor(`${webhook}?to=elsewhere`)).status).toBe(403);
    expect(await svc.db.inbound.count({ where: { messageId: params.MessageSid } })).toBe(0);
    expect((await signedFor(portless.toString())).status).toBe(200);
    expect(await svc.db.inbound.count({ where: { messageId: params.MessageSid } })).toBe(1);
  });

  it("links a reply to the outbound it answers, where the provider says so", async ({
    svc,
    capture,
    webhook,
  }) => {
    const to = msisdn();
    const sent = await svc.app.inject({
      method: "POST",
      url: "/api/v1/outbound/",
      headers: adminAuth,
      payload: { to_addr: to, content: "Reply YES to confirm", metadata: {}, channel: "TW" },
    });
    const outboundId = sent.json().id as string;
    const { providerId } = await waitFor(
      () => svc.db.outbound.findFirst({ where: { id: outboundId, providerId: { not: null } } }),
      { what: "the outbound to be submitted" },
    );
    // Twilio names the message a (WhatsApp) reply quotes in OriginalRepliedMessageSid.
    const params = {
      MessageSid: `SM${"7".repeat(32)}`,
      From: to,
      To: "+15005550006",
      Body: "YES",
      OriginalRepliedMessageSid: providerId as string,
    };
    expect(await postSigned(webhook, TOKEN, params)).toBe(200);
    const row = await svc.db.inbound.findFirstOrThrow({ where: { messageId: params.MessageSid } });
    expect(row).toMatchObject({ inReplyTo: providerId, replyTo: outboundId });
    await waitFor(() => received(capture, row.id).length === 1, { what: "inbound.received" });
    expect(received(capture, row.id)[0]).toMatchObject({ reply_to_outbound: outboundId });
    // Seed's inbound: in_reply_to may name our outbound id; an unknown one links nothing.
    const seed = await svc.app.inject({
      method: "POST",
      url: "/api/v1/inbound/",
      headers: adminAuth,
      payload: { from_addr: to, content: "ok", in_reply_to: outboundId, transport_name: "TW" },
    });
    expect(seed.json()).toMatchObject({ in_reply_to: outboundId, reply_to_outbound: outboundId });
    const unknown = await svc.app.inject({
      method: "POST",
      url: "/api/v1/inbound/",
      headers: adminAuth,
      payload: { from_addr: to, content: "ok", in_reply_to: "SMnotours" },
    });
    expect(unknown.json()).toMatchObject({ in_reply_to: "SMnotours", reply_to_outbound: null });
  });

  it("stops every send to a number that said STOP at once, though no identity has it; START allows them again", async ({
    svc,
    sim,
    webhook,
  }) => {
    const from = msisdn();
    await sim.sendInbound({ url: webhook, accountSid: SID, from, to: "+15005550006", body: "STOP" });
    // A send by number alone (a hub's one-off): identity found nobody to opt out, the consent copy stops it.
    const stopped = await send(svc, { to_addr: from, channel: "TW" });
    expect(await waitForStatus(svc, stopped, "failed")).toMatchObject({ last_error: "opted_out" });
    expect(sim.requests.filter((r) => r.To === from)).toEqual([]);

    // A gateway that gives the number without its + (Vumi) stops the same number.
    const vumi = msisdn();
    const stop = await svc.app.inject({
      method: "POST",
      url: "/api/v1/inbound/",
      headers: adminAuth,
      payload: { message_id: "vumi-stop", from_addr: vumi.slice(1), to_addr: "1234", content: "stop" },
    });
    expect(stop.statusCode).toBe(201);
    const alsoStopped = await send(svc, { to_addr: vumi, channel: "TW" });
    expect(await waitForStatus(svc, alsoStopped, "failed")).toMatchObject({ last_error: "opted_out" });

    await sim.sendInbound({ url: webhook, accountSid: SID, from, to: "+15005550006", body: "start" });
    const allowed = await send(svc, { to_addr: from, channel: "TW" });
    await waitForStatus(svc, allowed, "submitted");
    expect(sim.requests.filter((r) => r.To === from)).toHaveLength(1);
  });

  it("takes a gateway's number without its + as the E.164 number: resolved, stored and announced so", async ({
    svc,
    capture,
  }) => {
    const post = (payload: object) =>
      svc.app.inject({ method: "POST", url: "/api/v1/inbound/", headers: adminAuth, payload });
    // A known sender (Vumi, Junebug): resolved to their identity, and their STOP names the + number to identity.
    const { from, identity } = await knownSender(svc);
    const stop = await post({
      message_id: "vumi-known",
      from_addr: from.slice(1),
      to_addr: "1234",
      content: "STOP",
    });
    expect(stop.statusCode).toBe(201);
    expect(stop.json()).toMatchObject({ from_identity: identity.id, from_addr: "", keyword: "stop" });
    await waitFor(() => received(capture, stop.json().id).length === 1, { what: "inbound.received" });
    expect(received(capture, stop.json().id)[0]).toMatchObject({
      from_identity: identity.id,
      from_addr: from,
      keyword: "stop",
    });
    // An unknown one: stored with the + number (what a forget of that number finds).
    const stranger = msisdn();
    const hello = await post({
      message_id: "vumi-unknown",
      from_addr: ` ${stranger.slice(1)}`,
      content: "hi",
    });
    expect(hello.json()).toMatchObject({ from_identity: null, from_addr: stranger });
    expect(await svc.db.inbound.findUniqueOrThrow({ where: { id: hello.json().id } })).toMatchObject({
      fromAddr: stranger,
    });
    // Anything that is no phone number or email stays as given.
    expect(
      (await post({ message_id: "ussd-1", from_addr: "session-42", content: "1" })).json(),
    ).toMatchObject({
      from_addr: "session-42",
    });
  });

  it("accepts Seed's POST /api/v1/inbound/ with a token", async ({ svc }) => {
    const res = await svc.app.inject({
      method: "POST",
      url: "/api/v1/inbound/",
      headers: adminAuth,
      payload: {
        message_id: "vumi-1",
        from_addr: msisdn(),
        to_addr: "1234",
        content: "HELP",
        session_event: "new",
      },
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({
      channel: "LOG",
      keyword: "help",
      helper_metadata: { session_event: "new" },
    });
    const again = await svc.app.inject({
      method: "POST",
      url: "/api/v1/inbound/",
      headers: adminAuth,
      payload: { message_id: "vumi-1", from_addr: "x", content: "HELP" },
    });
    expect(again.statusCode).toBe(200);
    expect(again.json().id).toBe(res.json().id);
    expect(
      (await svc.app.inject({ method: "POST", url: "/api/v1/inbound/", payload: { from_addr: "x" } }))
        .statusCode,
    ).toBe(401);
  });
});
