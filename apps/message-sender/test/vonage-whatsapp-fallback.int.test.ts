/**
 * A vonage-whatsapp send's fallback to SMS (outbound/fallback.ts) through a Vonage SMS channel: a rejection as
 * not-a-WhatsApp-user (1300) or a template refused (1022), `undeliverable`, and no status in time each send the
 * same outbound once by SMS; a WhatsApp status after the switch is kept in the history and sends nothing.
 */
import { VONAGE_MESSAGES_ERRORS } from "@tidings/provider-simulators";
import { describe, expect } from "vitest";
import { msisdn, outboundReaching } from "./helpers.ts";
import { history, sendVia, sentTo, template, vonageWhatsappTest } from "./vonage-whatsapp-support.ts";
import { expectFellBackToSms, FREE_TEXT, freeTextBySms } from "./whatsapp-support.ts";

const it = vonageWhatsappTest();

describe("falling back from Vonage WhatsApp to SMS", () => {
  it("sends the same outbound once by SMS when the number is not on WhatsApp (1300); a late receipt sends nothing", async ({
    svc,
    wa,
  }) => {
    const to = msisdn();
    wa.sim.notOnWhatsapp.add(to);
    const id = await sendVia(svc, "VWA_FB", to, { metadata: template("visit_reminder", { "1": "Thandi" }) });
    const delivered = await outboundReaching(svc.db, id, "delivered");
    const { whatsapp, sms } = sentTo(wa, to);
    expect(whatsapp).toHaveLength(1);
    expect(sms).toEqual([expect.objectContaining({ text: "Reply to book a visit" })]);
    expect(delivered).toMatchObject({ channel: "SMS", attempts: 2 });
    await expectFellBackToSms(svc, id, "VWA_FB", {
      provider_id: whatsapp[0]!.uuid,
      reason: `vonage whatsapp rejected (error ${VONAGE_MESSAGES_ERRORS.notOnWhatsapp}); falling back to SMS`,
    });
    // WhatsApp reports the message delivered after all: recorded, and nothing more is sent.
    expect(await wa.sim.sendStatus(whatsapp[0]!.uuid, "delivered")).toBe(200);
    expect((await history(svc, id)).slice(4)).toEqual([
      expect.objectContaining({
        status: "delivered",
        channel: "VWA_FB",
        provider_id: whatsapp[0]!.uuid,
        reason: expect.stringMatching(/^late report of an earlier attempt/),
      }),
    ]);
    expect(await wa.sim.sendStatus(whatsapp[0]!.uuid, "read")).toBe(200); // later still: changes nothing
    await new Promise((resolve) => setTimeout(resolve, 300)); // any second SMS would be on its way by now
    expect(sentTo(wa, to).sms).toHaveLength(1);
    expect(await svc.db.outbound.findUniqueOrThrow({ where: { id } })).toMatchObject({
      status: "delivered",
      channel: "SMS",
      attempts: 2,
    });
  });

  it.for([
    { name: "a template WhatsApp refuses (1022)", template: "not_approved", outcome: undefined },
    { name: "undeliverable", template: "visit_reminder", outcome: { status: "undeliverable" } as const },
  ])("falls back by SMS on $name", async ({ template: name, outcome }, { svc, wa }) => {
    const to = msisdn();
    if (outcome) {
      wa.sim.script(to, [outcome]);
    }
    const id = await sendVia(svc, "VWA_FB", to, { metadata: template(name) });
    expect(await outboundReaching(svc.db, id, "delivered")).toMatchObject({ channel: "SMS", attempts: 2 });
    expect(sentTo(wa, to).whatsapp).toHaveLength(1);
    expect(sentTo(wa, to).sms).toHaveLength(1);
  });

  it("sends free text outside the 24-hour window by SMS at once, WhatsApp never asked", async ({
    svc,
    wa,
  }) => {
    const to = await freeTextBySms(svc, "VWA_FB");
    expect(sentTo(wa, to)).toMatchObject({
      whatsapp: [],
      sms: [expect.objectContaining({ text: FREE_TEXT })],
    });
  });

  it("sends by SMS when no WhatsApp receipt came within the channel's time; the late one sends nothing", async ({
    svc,
    wa,
  }) => {
    const to = msisdn();
    wa.sim.script(to, ["none"]);
    const id = await sendVia(svc, "VWA_TIMER", to, { metadata: template("visit_reminder") });
    expect(await outboundReaching(svc.db, id, "delivered")).toMatchObject({ channel: "SMS" });
    const steps = await history(svc, id);
    expect(steps[1]).toMatchObject({ status: "queued", reason: "no_report; falling back to SMS" });
    const [message] = sentTo(wa, to).whatsapp;
    expect(await wa.sim.sendStatus(message!.uuid, "delivered")).toBe(200);
    expect((await history(svc, id)).at(-1)).toMatchObject({
      status: "delivered",
      channel: "VWA_TIMER",
      reason: expect.stringMatching(/^late report of an earlier attempt/),
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(sentTo(wa, to).sms).toHaveLength(1);
  });

  it("a WhatsApp `delivered` before the timer: no SMS", async ({ svc, wa }) => {
    const to = msisdn();
    const id = await sendVia(svc, "VWA_TIMER", to, { metadata: template("visit_reminder") });
    expect(await outboundReaching(svc.db, id, "delivered")).toMatchObject({
      channel: "VWA_TIMER",
      attempts: 1,
    });
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // past the channel's 1 s, reconciled every 200 ms
    expect(sentTo(wa, to).sms).toEqual([]);
  });
});
