/**
 * A WhatsApp send's fallback to SMS (outbound/fallback.ts) on the Twilio simulator: a refusal as undeliverable, free
 * text outside the window, and no receipt in time each send the same outbound once by SMS; a WhatsApp receipt after
 * the switch is kept in the history and sends nothing; and the race of a late `delivered` with the fallback timer
 * run by two workers at once ends with exactly one SMS or none.
 */

import { WHATSAPP_ERRORS } from "@tidings/provider-simulators";
import { describe, expect } from "vitest";
import { msisdn, outboundReaching } from "./helpers.ts";
import { reconcilerOf } from "./support.ts";
import {
  expectFellBackToSms,
  FREE_TEXT,
  freeTextBySms,
  history,
  postSigned,
  requestsFor,
  SID,
  type Svc,
  sendVia,
  TOKEN,
  template,
  whatsappTest,
} from "./whatsapp-support.ts";

const it = whatsappTest();

/** Twilio's `delivered` callback for a WA_FB message, signed with the account's token. */
const postReceipt = (base: string, sid: string) =>
  postSigned(`${base}/api/v1/events/twilio/WA_FB`, TOKEN, {
    AccountSid: SID,
    MessageSid: sid,
    MessageStatus: "delivered",
    ApiVersion: "2010-04-01",
  });

/** A worker's reconciler, with a channel cache (and the WA_FB adapter, built) of its own. */
const reconciler = async (svc: Svc) => {
  const { channels, pass } = reconcilerOf(svc);
  await channels.resolve("WA_FB");
  return () => pass();
};

describe("falling back from WhatsApp to SMS", () => {
  it("sends the same outbound once by SMS when the number has no WhatsApp (63003); a late receipt sends nothing", async ({
    svc,
    wa,
  }) => {
    const to = msisdn();
    wa.sim.whatsapp.notOnWhatsapp.add(to);
    const id = await sendVia(svc, "WA_FB", to, { metadata: template("visit_reminder", { "1": "Thandi" }) });
    const delivered = await outboundReaching(svc.db, id, "delivered");
    const { whatsapp, sms } = requestsFor(wa.sim, to);
    expect(whatsapp).toHaveLength(1);
    expect(sms).toEqual([expect.objectContaining({ To: to, Body: "Reply to book a visit" })]);
    expect(delivered).toMatchObject({ channel: "SMS", attempts: 2 });
    const [waMessage] = wa.sim.messages.filter((m) => m.to === `whatsapp:${to}`);
    await expectFellBackToSms(svc, id, "WA_FB", {
      provider_id: waMessage!.sid,
      reason: `twilio failed (error ${WHATSAPP_ERRORS.notOnWhatsapp}); falling back to SMS`,
    });
    // WhatsApp reports the message delivered after all: recorded, and nothing more is sent.
    expect(await wa.sim.sendStatus(waMessage!.sid, "delivered")).toBe(200);
    const late = await history(svc, id);
    expect(late.slice(4)).toEqual([
      expect.objectContaining({
        status: "delivered",
        channel: "WA_FB",
        provider_id: waMessage!.sid,
        reason: expect.stringMatching(/^late report of an earlier attempt/),
      }),
    ]);
    expect(await wa.sim.sendStatus(waMessage!.sid, "delivered")).toBe(200); // a replay: recorded once
    expect(await history(svc, id)).toHaveLength(5);
    expect(requestsFor(wa.sim, to).sms).toHaveLength(1);
  });

  it("sends free text outside the 24-hour window by SMS at once, WhatsApp never asked", async ({
    svc,
    wa,
  }) => {
    const to = await freeTextBySms(svc, "WA_FB");
    expect(requestsFor(wa.sim, to)).toMatchObject({
      whatsapp: [],
      sms: [expect.objectContaining({ Body: FREE_TEXT })],
    });
  });

  it("sends by SMS when no WhatsApp receipt came within the channel's time", async ({ svc, wa }) => {
    const to = msisdn();
    wa.sim.script(`whatsapp:${to}`, ["none"]);
    const id = await sendVia(svc, "WA_TIMER", to, { metadata: template("visit_reminder") });
    const delivered = await outboundReaching(svc.db, id, "delivered");
    expect(delivered).toMatchObject({ channel: "SMS" });
    const steps = await history(svc, id);
    expect(steps[1]).toMatchObject({ status: "queued", reason: "no_report; falling back to SMS" });
    expect(requestsFor(wa.sim, to).sms).toHaveLength(1);
  });

  it("a late WhatsApp delivered and the fallback timer of two workers at once: one SMS or none, never two", async ({
    svc,
    wa,
  }) => {
    const numbers = Array.from({ length: 8 }, () => msisdn());
    for (const to of numbers) {
      wa.sim.script(`whatsapp:${to}`, ["none"]);
    }
    const ids = await Promise.all(
      numbers.map((to) => sendVia(svc, "WA_FB", to, { metadata: template("visit_reminder") })),
    );
    const sids = await Promise.all(
      ids.map(async (id) => (await outboundReaching(svc.db, id, "submitted")).providerId!),
    );
    const [workerA, workerB] = await Promise.all([reconciler(svc), reconciler(svc)]);
    // WA_FB waits 60 s for a receipt: make every send overdue now, then let the receipts and two workers' timers race.
    await svc.db.outbound.updateMany({
      where: { id: { in: ids } },
      data: { updatedAt: new Date(Date.now() - 120_000) },
    });
    // The workers' status lookups take 150 ms (and still say `sent`: Twilio's resource lags its callbacks), and the
    // receipts are posted over 280 ms: some land between a worker's lookup and its compare-and-set, some after it.
    wa.sim.configure({ latencyMs: 150 });
    const answers = await Promise.all([
      workerA(),
      workerB(),
      ...sids.map(async (sid, i) => {
        await new Promise((resolve) => setTimeout(resolve, i * 40));
        return postReceipt(wa.base, sid);
      }),
    ]);
    wa.sim.configure({ latencyMs: 0 });
    expect(answers.slice(2)).toEqual(sids.map(() => 200));
    const finals = await Promise.all(ids.map((id) => outboundReaching(svc.db, id, "delivered")));
    await new Promise((resolve) => setTimeout(resolve, 500)); // any second SMS would be on its way by now
    for (const [i, row] of finals.entries()) {
      const { whatsapp, sms } = requestsFor(wa.sim, numbers[i]!);
      const steps = await history(svc, row.id);
      const fell = steps.some((step) => step.status === "queued");
      expect(whatsapp).toHaveLength(1);
      // Fallen back: exactly one SMS, delivered; else delivered by WhatsApp and no SMS. Delivered once either way
      // (a WhatsApp receipt after the switch is only a note of the earlier attempt).
      expect(sms).toHaveLength(fell ? 1 : 0);
      expect(row.channel).toBe(fell ? "SMS" : "WA_FB");
      const delivered = steps.filter(
        (step) => step.status === "delivered" && !step.reason?.startsWith("late"),
      );
      expect(delivered).toEqual([expect.objectContaining({ channel: row.channel })]);
    }
    // What the two workers moved went by SMS (the service's own reconciler may have moved others).
    const fellBack = finals.filter((row) => row.channel === "SMS").length;
    expect((answers[0] as number) + (answers[1] as number)).toBeLessThanOrEqual(fellBack);
    console.log(
      `race: ${fellBack} of ${ids.length} fell back to SMS, ${ids.length - fellBack} delivered by WhatsApp`,
    );
  });
});
