import type { Template } from "@tidings/contracts";
import { describe, expect } from "vitest";
import { contentTest } from "./support.ts";

// A template's WhatsApp template: the provider's template per language and the placeholders that fill its
// parameters, versioned with the template and carried in content.template.changed.

const PATH = "/api/v1/template/";
const it = contentTest();

const whatsapp = {
  templates: [
    { language: "en", name: "HX00000000000000000000000000000001" },
    { language: "zu", name: "visit_reminder_zu" },
  ],
  parameters: ["name", "date"],
};

const reminder = { name: "Reminder", type: "sms", body: "Hi ((name)), your visit is on ((date))." };

describe("a template's whatsapp", () => {
  it("is stored, returned, versioned and published with the template", async ({ t }) => {
    const res = await t.call("POST", PATH, { ...reminder, whatsapp });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const created: Template = res.body;
    expect(created).toMatchObject({ version: 1, whatsapp });
    expect(await t.event<Template>("content.template.changed", created.id)).toMatchObject({ whatsapp });

    // The same whatsapp again (its keys in another order) changes nothing; another one is a new version.
    await t.expectNoEvents(async () => {
      const same = await t.call("PATCH", `${PATH}${created.id}/`, {
        whatsapp: { parameters: ["name", "date"], templates: whatsapp.templates },
      });
      expect(same.body).toEqual(created);
    });
    const swapped = { ...whatsapp, parameters: ["date", "name"] };
    const v2 = (await t.call("PATCH", `${PATH}${created.id}/`, { whatsapp: swapped })).body;
    expect(v2).toMatchObject({ version: 2, whatsapp: swapped });
    const cleared = (await t.call("PATCH", `${PATH}${created.id}/`, { whatsapp: null })).body;
    expect(cleared).toMatchObject({ version: 3, whatsapp: null });

    const versions = (await t.call("GET", `${PATH}${created.id}/versions/`)).body.results as Template[];
    expect(versions.map((v) => v.whatsapp)).toEqual([whatsapp, swapped, null]);
  });

  it("400s parameters that are not placeholders, a language given twice, or an email template's, storing nothing", async ({
    t,
  }) => {
    const count = () => t.svc.db.template.count();
    const unknown = await t.expectRejected(
      () => t.call("POST", PATH, { ...reminder, whatsapp: { ...whatsapp, parameters: ["name", "clinic"] } }),
      400,
      "CONTENT_TEMPLATE_INVALID_WHATSAPP",
      count,
    );
    expect(unknown.details).toEqual([
      { field: "body.whatsapp.parameters[1]", message: "is not a placeholder of the template" },
    ]);
    const twice = await t.expectRejected(
      () =>
        t.call("POST", PATH, {
          ...reminder,
          whatsapp: { ...whatsapp, templates: [...whatsapp.templates, { language: "en", name: "other" }] },
        }),
      400,
      "CONTENT_TEMPLATE_INVALID_WHATSAPP",
      count,
    );
    expect(twice.details).toEqual([
      { field: "body.whatsapp.templates[2].language", message: "is given twice" },
    ]);
    await t.expectRejected(
      () => t.call("POST", PATH, { ...reminder, type: "email", subject: "Visit", whatsapp }),
      400,
      "CONTENT_TEMPLATE_INVALID_WHATSAPP",
      count,
    );
    await t.expectRejected(
      () => t.call("POST", PATH, { ...reminder, whatsapp: { ...whatsapp, templates: [] } }),
      400,
      "VALIDATION_FAILED",
      count,
    );
  });

  it("is checked as merged on PATCH: a body that drops a parameter's placeholder is refused", async ({
    t,
  }) => {
    const created: Template = (await t.call("POST", PATH, { ...reminder, whatsapp })).body;
    const res = await t.call("PATCH", `${PATH}${created.id}/`, { body: "Hi ((name))." });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({
      code: "CONTENT_TEMPLATE_INVALID_WHATSAPP",
      details: [{ field: "body.whatsapp.parameters[1]", message: "is not a placeholder of the template" }],
    });
    expect((await t.call("GET", `${PATH}${created.id}/`)).body).toEqual(created);
  });
});
