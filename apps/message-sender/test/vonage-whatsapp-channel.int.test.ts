/**
 * The vonage-whatsapp channel through `@vonage/server-sdk`'s Messages API against the simulator: free text inside
 * the 24-hour window (opened by an inbound WhatsApp message), a template outside it, each status path from
 * webhooks signed as Vonage signs them, forged webhooks refused, and inbound messages (identity, STOP).
 */
import { vonageWebhookJwt } from "@tidings/provider-simulators";
import { waitFor } from "@tidings/testing";
import { describe, expect } from "vitest";
import { expectStopFrom, knownSender, msisdn, outboundReaching } from "./helpers.ts";
import { call } from "./support.ts";
import {
  APP,
  history,
  inboundFrom,
  sendVia,
  sentTo,
  statusUrl,
  template,
  vonageWhatsappTest,
  WA_NUMBER,
  WA_SIG_SECRET,
} from "./vonage-whatsapp-support.ts";

const it = vonageWhatsappTest(["inbound.received"]);

/** Posts `body` (JSON) to `url`, with `authorization` when given; the HTTP status. */
const post = (url: string, body: object, authorization?: string) =>
  fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...(authorization ? { authorization } : {}) },
    body: JSON.stringify(body),
  }).then((res) => res.status);
/** A Messages API webhook's Authorization: a JWT signed with `secret` over `body`. */
const bearer = (secret: string, body: object) =>
  `Bearer ${vonageWebhookJwt(secret, JSON.stringify(body), APP)}`;

describe("vonage-whatsapp: configuration", () => {
  const configuration = {
    application_id: APP,
    private_key: "the-private-key-pem",
    from: WA_NUMBER,
    signature_secret: "the-signature-secret",
  };

  it("keeps the private key and signature secret write-only", async ({ svc }) => {
    const res = await call(svc, "POST", "/api/v1/channel/", {
      channel_id: "VWA_CFG",
      channel_type: "vonage-whatsapp",
      configuration,
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().configuration).toEqual({
      ...configuration,
      private_key: "********",
      signature_secret: "********",
    });
    for (const shown of [res.body, (await call(svc, "GET", "/api/v1/channel/VWA_CFG/")).body]) {
      expect(shown).not.toContain("the-private-key-pem");
      expect(shown).not.toContain("the-signature-secret");
    }
  });

  it.for<[string, object]>([
    ["no signature secret", { ...configuration, signature_secret: undefined }],
    ["a from that is not E.164", { ...configuration, from: "Clinic" }],
    ["an unknown field", { ...configuration, api_key: "k" }],
    ["a bad template locale", { ...configuration, template_locale: "English" }],
  ])("refuses a configuration with %s (400), stores nothing", async ([_, bad], { svc }) => {
    const res = await call(svc, "POST", "/api/v1/channel/", {
      channel_id: "VWA_BAD",
      channel_type: "vonage-whatsapp",
      configuration: JSON.parse(JSON.stringify(bad)),
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe("VALIDATION_FAILED");
    expect(await svc.db.channel.findUnique({ where: { id: "VWA_BAD" } })).toBeNull();
  });
});

describe("vonage-whatsapp: sending", () => {
  it("sends a template outside the window, its variables as WhatsApp's ordered parameters", async ({
    svc,
    wa,
  }) => {
    const to = msisdn();
    const metadata = template("visit_reminder", { "2": "Monday", "1": "Thandi" });
    const id = await sendVia(svc, "VWA", to, { metadata });
    const row = await outboundReaching(svc.db, id, "delivered");
    const [message] = sentTo(wa, to).whatsapp;
    expect(message).toMatchObject({
      messageType: "template",
      from: WA_NUMBER.slice(1),
      text: null,
      template: { name: "visit_reminder", parameters: ["Thandi", "Monday"] },
      locale: "en",
      clientRef: id,
    });
    expect(row).toMatchObject({ channel: "VWA", providerId: message!.uuid, attempts: 1 });
  });

  it("sends a Seed hub's metadata.template {name, language, variables} outside the window as that template", async ({
    svc,
    wa,
  }) => {
    const { from: to, identity } = await knownSender(svc);
    const res = await call(svc, "POST", "/api/v1/outbound/", {
      to_identity: identity.id,
      content: "Eat well",
      channel: "VWA",
      metadata: { template: { name: "visit_reminder", language: "af", variables: ["5", "Eat well"] } },
    });
    expect(res.statusCode, res.body).toBe(201);
    const id = res.json().id as string;
    const row = await outboundReaching(svc.db, id, "delivered");
    const [message, ...more] = sentTo(wa, to).whatsapp;
    expect(more).toEqual([]);
    // The language as the hub gave it: WhatsApp's locale (Seed sent it as the HSM's language code).
    expect(message).toMatchObject({
      messageType: "template",
      text: null,
      template: { name: "visit_reminder", parameters: ["5", "Eat well"] },
      locale: "af",
      clientRef: id,
    });
    expect(row).toMatchObject({ channel: "VWA", providerId: message!.uuid, attempts: 1 });
  });

  it("an inbound WhatsApp message opens the window: the content then goes as free text", async ({
    svc,
    wa,
  }) => {
    const to = msisdn();
    const { status, uuid } = await inboundFrom(wa, to, "Hi clinic");
    expect(status).toBe(200);
    expect(await svc.db.inbound.findFirstOrThrow({ where: { messageId: uuid } })).toMatchObject({
      channel: "VWA",
      content: "Hi clinic",
      toAddr: WA_NUMBER,
    });
    const session = await svc.db.whatsappSession.findUniqueOrThrow({
      where: { channel_address: { channel: "VWA", address: to } },
    });
    expect(Date.now() - session.lastInboundAt.getTime()).toBeLessThan(60_000);
    const id = await sendVia(svc, "VWA", to, { metadata: template("visit_reminder") });
    await outboundReaching(svc.db, id, "delivered");
    expect(sentTo(wa, to).whatsapp).toEqual([
      expect.objectContaining({ messageType: "text", text: "Reply to book a visit", template: null }),
    ]);
  });

  it("refuses free text outside the window with no template: failed, WhatsApp never asked", async ({
    svc,
    wa,
  }) => {
    const to = msisdn();
    const id = await sendVia(svc, "VWA", to);
    const row = await outboundReaching(svc.db, id, "failed");
    expect(row.lastError).toMatch(/outside the 24-hour window/);
    expect(sentTo(wa, to).whatsapp).toEqual([]);
  });
});

describe("vonage-whatsapp: statuses", () => {
  it("`read` after `delivered` changes nothing; `submitted` is progress", async ({ svc, wa }) => {
    const to = msisdn();
    wa.sim.script(to, ["read"]);
    const id = await sendVia(svc, "VWA", to, { metadata: template("visit_reminder") });
    await outboundReaching(svc.db, id, "delivered");
    await waitFor(() => wa.sim.statuses.some((s) => s.body.status === "read" && `+${s.body.to}` === to), {
      what: "the read status",
    });
    expect((await history(svc, id)).map((s) => s.status)).toEqual(["submitted", "delivered"]);
    const { whatsapp } = sentTo(wa, to);
    expect(wa.sim.statuses.filter((s) => s.body.message_uuid === whatsapp[0]!.uuid)).toEqual(
      ["submitted", "delivered", "read"].map((status) =>
        expect.objectContaining({ body: expect.objectContaining({ status }), responseStatus: 200 }),
      ),
    );
  });

  it.for([
    { name: "rejected 1300 (not on WhatsApp)", outcome: { status: "rejected", code: 1300 } },
    { name: "undeliverable", outcome: { status: "undeliverable" } },
    { name: "rejected 1022 (template)", outcome: { status: "rejected", code: 1022 } },
  ] as const)(
    "$name without a fallback fails the outbound, not retried",
    async ({ outcome }, { svc, wa }) => {
      const reason = `vonage whatsapp ${outcome.status}${"code" in outcome ? ` (error ${outcome.code})` : ""}`;
      const to = msisdn();
      wa.sim.script(to, [outcome]);
      const id = await sendVia(svc, "VWA", to, { metadata: template("visit_reminder") });
      const row = await outboundReaching(svc.db, id, "failed");
      expect(row).toMatchObject({ lastError: reason, channel: "VWA", attempts: 1 });
      // Final (invalid_number, unroutable, blocked are not retried): no other attempt is queued.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await history(svc, id)).toEqual([
        expect.objectContaining({ status: "submitted", channel: "VWA" }),
        expect.objectContaining({ status: "failed", reason }),
      ]);
    },
  );

  it("refuses unsigned, forged and re-bodied status webhooks (403); nothing changes", async ({ svc, wa }) => {
    const to = msisdn();
    wa.sim.script(to, ["none"]);
    const id = await sendVia(svc, "VWA", to, { metadata: template("visit_reminder") });
    const { providerId } = await outboundReaching(svc.db, id, "submitted");
    const body = { message_uuid: providerId!, status: "delivered", to: to.slice(1), channel: "whatsapp" };
    const url = statusUrl(wa.base);
    expect(await post(url, body)).toBe(403);
    expect(await post(url, body, bearer("another-secret", body))).toBe(403);
    // Signed over another body: its payload_hash is not this body's.
    expect(await post(url, body, bearer(WA_SIG_SECRET, { ...body, status: "rejected" }))).toBe(403);
    expect(await svc.db.outbound.findUniqueOrThrow({ where: { id } })).toMatchObject({ status: "submitted" });
    expect(await history(svc, id)).toHaveLength(1);
    // The same webhook, rightly signed, is applied.
    expect(await post(url, body, bearer(WA_SIG_SECRET, body))).toBe(200);
    await outboundReaching(svc.db, id, "delivered");
  });
});

describe("vonage-whatsapp: inbound", () => {
  it("links a WhatsApp STOP to the sender's identity by their number, and announces it", async ({
    svc,
    wa,
    capture,
  }) => {
    const { from, identity } = await knownSender(svc);
    const { status, uuid } = await inboundFrom(wa, from, "STOP");
    expect(status).toBe(200);
    await expectStopFrom(svc, capture, {
      messageId: uuid,
      channel: "VWA",
      toAddr: WA_NUMBER,
      identity,
      from,
    });
  });

  it("refuses an inbound signed with another secret (403): nothing stored, no window opened", async ({
    svc,
    wa,
  }) => {
    const from = msisdn();
    const { status, uuid } = await inboundFrom(wa, from, "Hi", "not-the-secret");
    expect(status).toBe(403);
    expect(await svc.db.inbound.count({ where: { messageId: uuid } })).toBe(0);
    expect(await svc.db.whatsappSession.count({ where: { channel: "VWA", address: from } })).toBe(0);
  });
});
