/**
 * A WhatsApp send's template from its content template: the WhatsApp template a content template carries
 * (content.template.changed, kept in template_copy) is sent outside the 24-hour window, in the send's language,
 * its parameters filled from the send's personalisation; `metadata.whatsapp_template` overrides it. Real
 * Twilio SDK against the simulator's WhatsApp sender and Content API.
 */
import { adminAuth } from "@tidings/testing";
import { describe, expect } from "vitest";
import { knownSender, msisdn, outboundReaching, publishTemplate } from "./helpers.ts";
import {
  requestsFor,
  type Svc,
  template,
  WA_NUMBER,
  type WhatsappFixture,
  whatsappTest,
} from "./whatsapp-support.ts";

const it = whatsappTest();

const contentSidOf = (wa: WhatsappFixture, friendlyName: string) =>
  [...wa.sim.whatsapp.templates].find(([, t]) => t.friendlyName === friendlyName)![0];

/** A content template whose WhatsApp template is `visit_reminder` (en, by name) and `visit_reminder_zu` (zu, by SID). */
const reminderTemplate = (svc: Svc, wa: WhatsappFixture) =>
  publishTemplate(svc, {
    body: "Hi ((name)), your visit is on ((date)).",
    version: 1,
    whatsapp: {
      templates: [
        { language: "en", name: "visit_reminder" },
        { language: "zu", name: contentSidOf(wa, "visit_reminder_zu") },
      ],
      parameters: ["name", "date"],
    },
  });

/** A templated send through WA (201 expected); its id. */
async function sendTemplated(svc: Svc, to: string, fields: Record<string, unknown>): Promise<string> {
  const res = await svc.app.inject({
    method: "POST",
    url: "/api/v1/outbound/",
    headers: adminAuth,
    payload: { to_addr: to, metadata: {}, channel: "WA", ...fields },
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().id as string;
}

describe("twilio-whatsapp: the WhatsApp template of a content template", () => {
  it("sends the content template's WhatsApp template outside the window, its parameters from the personalisation", async ({
    svc,
    wa,
  }) => {
    const { id: templateId } = await reminderTemplate(svc, wa);
    const to = msisdn();
    const id = await sendTemplated(svc, to, {
      template: templateId,
      personalisation: { Name: "Thandi", date: "Tuesday" },
    });
    const delivered = await outboundReaching(svc.db, id, "delivered");
    expect(delivered.metadata).toEqual({ template_personalisation: { name: "Thandi", date: "Tuesday" } });
    const [request, ...more] = requestsFor(wa.sim, to).whatsapp;
    expect(more).toEqual([]);
    expect(request).toMatchObject({
      From: `whatsapp:${WA_NUMBER}`,
      ContentSid: contentSidOf(wa, "visit_reminder"),
      ContentVariables: JSON.stringify({ "1": "Thandi", "2": "Tuesday" }),
    });
    expect(wa.sim.messages.find((m) => m.sid === delivered.providerId)?.body).toBe(
      "Hello Thandi, your clinic visit is on Tuesday.",
    );
  });

  it("picks the send's language (a Content SID, sent as it is), and takes metadata.whatsapp_template over it", async ({
    svc,
    wa,
  }) => {
    const { id: templateId } = await reminderTemplate(svc, wa);
    const personalisation = { name: "Zodwa", date: "Friday" };
    const zulu = msisdn();
    const zuluId = await sendTemplated(svc, zulu, {
      template: templateId,
      personalisation,
      metadata: { lang: "zu" },
    });
    const zuluSent = await outboundReaching(svc.db, zuluId, "delivered");
    expect(requestsFor(wa.sim, zulu).whatsapp[0]?.ContentSid).toBe(contentSidOf(wa, "visit_reminder_zu"));
    expect(wa.sim.messages.find((m) => m.sid === zuluSent.providerId)?.body).toBe(
      "Sawubona Zodwa, uvakashela umtholampilo ngo Friday.",
    );

    // A language it has no template for: the first (the default). A hub's override: its template and variables.
    const other = msisdn();
    await outboundReaching(
      svc.db,
      await sendTemplated(svc, other, { template: templateId, personalisation, metadata: { lang: "xh" } }),
      "delivered",
    );
    expect(requestsFor(wa.sim, other).whatsapp[0]?.ContentSid).toBe(contentSidOf(wa, "visit_reminder"));
    const overridden = msisdn();
    await outboundReaching(
      svc.db,
      await sendTemplated(svc, overridden, {
        template: templateId,
        personalisation,
        metadata: { lang: "zu", ...template("visit_reminder", { "2": "Monday", "1": "Override" }) },
      }),
      "delivered",
    );
    expect(requestsFor(wa.sim, overridden).whatsapp[0]).toMatchObject({
      ContentSid: contentSidOf(wa, "visit_reminder"),
      ContentVariables: JSON.stringify({ "1": "Override", "2": "Monday" }),
    });
  });

  it("fails a templated send whose content template has no WhatsApp template outside the window, nothing sent", async ({
    svc,
    wa,
  }) => {
    const plain = await publishTemplate(svc, { body: "Hi ((name)).", version: 1, whatsapp: null });
    const to = msisdn();
    const id = await sendTemplated(svc, to, { template: plain.id, personalisation: { name: "Thandi" } });
    expect(await outboundReaching(svc.db, id, "failed")).toMatchObject({
      lastError: expect.stringContaining("outside the 24-hour window and no WhatsApp template to send"),
    });
    expect(requestsFor(wa.sim, to).whatsapp).toEqual([]);
  });
});

/** Seed's WhatsApp template (ndoh-hub's shape): `metadata.template` {name, language, variables}. */
const seedTemplate = (name: string, language: string, variables: unknown[]) => ({
  template: { name, language, variables },
});

describe("twilio-whatsapp: Seed's metadata.template", () => {
  it("sends a Seed hub's {to_identity, content, metadata.template} outside the window as that template, in its language", async ({
    svc,
    wa,
  }) => {
    // One template name in two languages: two contents on the Content API.
    wa.sim.whatsapp.addTemplate({ friendlyName: "prebirth", body: "Week {{1}}: {{2}}", language: "en" });
    const af = wa.sim.whatsapp.addTemplate({
      friendlyName: "prebirth",
      body: "Week {{1}} (af): {{2}}",
      language: "af",
    });
    // A person who has never written (no 24-hour window), addressed as a Seed hub does: by identity.
    const { from: to, identity } = await knownSender(svc);
    const res = await svc.app.inject({
      method: "POST",
      url: "/api/v1/outbound/",
      headers: adminAuth,
      payload: {
        to_identity: identity.id,
        content: "Eet gesond",
        channel: "WA",
        metadata: seedTemplate("prebirth", "af", ["5", "Eet gesond"]),
      },
    });
    expect(res.statusCode, res.body).toBe(201);
    const delivered = await outboundReaching(svc.db, res.json().id, "delivered");
    const [request, ...more] = requestsFor(wa.sim, to).whatsapp;
    expect(more).toEqual([]);
    expect(request).toMatchObject({
      From: `whatsapp:${WA_NUMBER}`,
      ContentSid: af,
      ContentVariables: JSON.stringify({ "1": "5", "2": "Eet gesond" }),
    });
    expect(request?.Body).toBeUndefined();
    expect(wa.sim.messages.find((m) => m.sid === delivered.providerId)?.body).toBe("Week 5 (af): Eet gesond");
  });

  it("takes metadata.whatsapp_template over metadata.template, and metadata.template over the content template's", async ({
    svc,
    wa,
  }) => {
    const both = msisdn();
    await outboundReaching(
      svc.db,
      await sendTemplated(svc, both, {
        content: "Hi",
        metadata: {
          ...template("visit_reminder", { "1": "Thandi", "2": "Monday" }),
          ...seedTemplate("not_approved", "en", ["Seed"]),
        },
      }),
      "delivered",
    );
    expect(requestsFor(wa.sim, both).whatsapp[0]).toMatchObject({
      ContentSid: contentSidOf(wa, "visit_reminder"),
      ContentVariables: JSON.stringify({ "1": "Thandi", "2": "Monday" }),
    });

    const { id: templateId } = await reminderTemplate(svc, wa);
    const seedOverContent = msisdn();
    await outboundReaching(
      svc.db,
      await sendTemplated(svc, seedOverContent, {
        template: templateId,
        personalisation: { name: "Zodwa", date: "Friday" },
        metadata: seedTemplate(contentSidOf(wa, "visit_reminder_zu"), "zu", ["Seed", 7]),
      }),
      "delivered",
    );
    expect(requestsFor(wa.sim, seedOverContent).whatsapp[0]).toMatchObject({
      ContentSid: contentSidOf(wa, "visit_reminder_zu"),
      ContentVariables: JSON.stringify({ "1": "Seed", "2": "7" }),
    });
  });

  it.for<[string, unknown, string[]]>([
    ["not an object", "prebirth", ["body.metadata.template"]],
    ["no name", { language: "en", variables: [] }, ["body.metadata.template.name"]],
    [
      "no language, variables not a list",
      { name: "prebirth", variables: "5" },
      ["body.metadata.template.language", "body.metadata.template.variables"],
    ],
    [
      "a variable that is an object",
      { name: "prebirth", language: "en", variables: ["5", { a: 1 }] },
      ["body.metadata.template.variables[1]"],
    ],
  ])("refuses a metadata.template with %s (400), storing nothing", async ([_, bad, fields], { svc }) => {
    const before = await svc.db.outbound.count();
    const res = await svc.app.inject({
      method: "POST",
      url: "/api/v1/outbound/",
      headers: adminAuth,
      payload: { to_addr: msisdn(), content: "Hi", channel: "WA", metadata: { template: bad } },
    });
    expect(res.statusCode, res.body).toBe(400);
    const { error } = res.json();
    expect(error.code).toBe("VALIDATION_FAILED");
    expect(error.message).toContain("metadata.template");
    expect(error.details.map((d: { field: string }) => d.field)).toEqual(fields);
    expect(await svc.db.outbound.count()).toBe(before);
  });
});
