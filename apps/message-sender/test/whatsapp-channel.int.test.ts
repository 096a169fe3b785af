/**
 * The twilio-whatsapp channel on the Twilio simulator (the real twilio SDK): template messages through the Content
 * API outside the 24-hour window, free text inside it (opened by an inbound WhatsApp message), each status path,
 * and inbound messages (identity, STOP) with their signatures.
 */
import { WHATSAPP_ERRORS } from "@tidings/provider-simulators";
import { describe, expect } from "vitest";
import { expectStopFrom, knownSender, msisdn, outboundReaching } from "./helpers.ts";
import {
  history,
  postSigned,
  requestsFor,
  SID,
  sendVia,
  TOKEN,
  template,
  WA_NUMBER,
  whatsappTest,
} from "./whatsapp-support.ts";

const it = whatsappTest(["inbound.received"]);

describe("twilio-whatsapp: the 24-hour window", () => {
  it("sends a Content API template outside the window, from and to whatsapp: addresses", async ({
    svc,
    wa,
  }) => {
    const to = msisdn();
    const metadata = template("visit_reminder", { "1": "Thandi", "2": "Tuesday" });
    const id = await sendVia(svc, "WA", to, { metadata });
    const delivered = await outboundReaching(svc.db, id, "delivered");
    const [request, ...more] = requestsFor(wa.sim, to).whatsapp;
    expect(more).toEqual([]);
    const [contentSid] = [...wa.sim.whatsapp.templates].find(([, t]) => t.friendlyName === "visit_reminder")!;
    expect(request).toMatchObject({
      To: `whatsapp:${to}`,
      From: `whatsapp:${WA_NUMBER}`,
      ContentSid: contentSid,
      ContentVariables: JSON.stringify({ "1": "Thandi", "2": "Tuesday" }),
    });
    expect(request!.Body).toBeUndefined();
    const sent = wa.sim.messages.find((m) => m.sid === delivered.providerId);
    expect(sent?.body).toBe("Hello Thandi, your clinic visit is on Tuesday.");
  });

  it("refuses free text outside the window when the send names no template: nothing reaches Twilio", async ({
    svc,
    wa,
  }) => {
    const to = msisdn();
    const id = await sendVia(svc, "WA", to, { content: "Free text" });
    expect(await outboundReaching(svc.db, id, "failed")).toMatchObject({
      lastError: expect.stringContaining(
        "whatsapp: outside the 24-hour window and no WhatsApp template to send",
      ),
    });
    expect(requestsFor(wa.sim, to).whatsapp).toEqual([]);
  });

  it("an inbound WhatsApp message opens the window: the content then goes as free text", async ({
    svc,
    wa,
  }) => {
    const to = msisdn();
    const inbound = await wa.sim.sendInbound({
      url: `${wa.base}/api/v1/inbound/twilio/WA`,
      accountSid: SID,
      from: `whatsapp:${to}`,
      to: `whatsapp:${WA_NUMBER}`,
      body: "Hi",
    });
    expect(inbound.status).toBe(200);
    const session = await svc.db.whatsappSession.findUniqueOrThrow({
      where: { channel_address: { channel: "WA", address: to } },
    });
    expect(Date.now() - session.lastInboundAt.getTime()).toBeLessThan(60_000);
    const id = await sendVia(svc, "WA", to, {
      content: "Your visit is booked",
      metadata: template("visit_reminder"),
    });
    await outboundReaching(svc.db, id, "delivered");
    expect(requestsFor(wa.sim, to).whatsapp).toEqual([
      expect.objectContaining({ To: `whatsapp:${to}`, Body: "Your visit is booked" }),
    ]);
    expect(requestsFor(wa.sim, to).whatsapp[0]!.ContentSid).toBeUndefined();
    // The window is per channel: another WhatsApp channel still sends the template.
    const other = await sendVia(svc, "WA_FB", to, {
      content: "Your visit is booked",
      metadata: template("visit_reminder"),
    });
    await outboundReaching(svc.db, other, "delivered");
    expect(requestsFor(wa.sim, to).whatsapp[1]).toHaveProperty("ContentSid");
  });

  it("the window closes after 24 hours", async ({ svc }) => {
    const to = msisdn();
    await svc.db.whatsappSession.create({
      data: { channel: "WA", address: to, lastInboundAt: new Date(Date.now() - 24 * 3600_000 - 1_000) },
    });
    const id = await sendVia(svc, "WA", to, { content: "Free text" });
    expect(await outboundReaching(svc.db, id, "failed")).toMatchObject({
      lastError: expect.stringContaining("outside the 24-hour window"),
    });
  });
});

describe("twilio-whatsapp: status paths (no fallback channel)", () => {
  it.for<[string, boolean, string, number]>([
    ["no WhatsApp account", true, "visit_reminder", WHATSAPP_ERRORS.notOnWhatsapp],
    ["a template Meta refused", false, "not_approved", WHATSAPP_ERRORS.templateRejected],
  ])("fails once on %s, not retried, nothing by SMS", async ([, notOnWhatsapp, name, code], { svc, wa }) => {
    const to = msisdn();
    if (notOnWhatsapp) {
      wa.sim.whatsapp.notOnWhatsapp.add(to);
    }
    const id = await sendVia(svc, "WA", to, { metadata: template(name) });
    const reason = `twilio failed (error ${code})`;
    expect(await outboundReaching(svc.db, id, "failed")).toMatchObject({ lastError: reason, attempts: 1 });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(requestsFor(wa.sim, to)).toMatchObject({ whatsapp: [expect.anything()], sms: [] });
    expect((await history(svc, id)).map((h) => h.status)).toEqual(["submitted", "failed"]);
  });

  it("a read receipt is delivery", async ({ svc, wa }) => {
    const to = msisdn();
    wa.sim.script(`whatsapp:${to}`, ["none"]);
    const id = await sendVia(svc, "WA", to, { metadata: template("visit_reminder") });
    const submitted = await outboundReaching(svc.db, id, "submitted");
    expect(await wa.sim.sendStatus(submitted.providerId!, "read")).toBe(200);
    expect(await outboundReaching(svc.db, id, "delivered")).toMatchObject({ delivered: true });
  });

  it("refuses a forged status callback for a WhatsApp channel (403), nothing changes", async ({
    svc,
    wa,
  }) => {
    const to = msisdn();
    wa.sim.script(`whatsapp:${to}`, ["none"]);
    const id = await sendVia(svc, "WA", to, { metadata: template("visit_reminder") });
    const { providerId } = await outboundReaching(svc.db, id, "submitted");
    const url = `${wa.base}/api/v1/events/twilio/WA`;
    const params = { MessageSid: providerId!, MessageStatus: "delivered" };
    expect(await postSigned(url, "wrong-token", params)).toBe(403);
    expect((await svc.db.outbound.findUniqueOrThrow({ where: { id } })).status).toBe("submitted");
  });
});

describe("twilio-whatsapp: inbound", () => {
  it("links a WhatsApp STOP to the sender's identity by their number, and announces it", async ({
    svc,
    wa,
    capture,
  }) => {
    const { from, identity } = await knownSender(svc);
    const { status, sid } = await wa.sim.sendInbound({
      url: `${wa.base}/api/v1/inbound/twilio/WA`,
      accountSid: SID,
      from: `whatsapp:${from}`,
      to: `whatsapp:${WA_NUMBER}`,
      body: "STOP",
    });
    expect(status).toBe(200);
    // identity opts out the number itself (not whatsapp:+…), so SMS and WhatsApp sends to it both stop.
    await expectStopFrom(svc, capture, { messageId: sid, channel: "WA", toAddr: WA_NUMBER, identity, from });
  });

  it("refuses a WhatsApp inbound signed with another token (403), stores nothing", async ({ svc, wa }) => {
    const url = `${wa.base}/api/v1/inbound/twilio/WA`;
    const params = {
      MessageSid: `SM${"8".repeat(32)}`,
      From: `whatsapp:${msisdn()}`,
      To: `whatsapp:${WA_NUMBER}`,
      Body: "Hi",
    };
    expect(await postSigned(url, `${TOKEN}-not`, params)).toBe(403);
    expect(await svc.db.inbound.count({ where: { messageId: params.MessageSid } })).toBe(0);
  });
});
