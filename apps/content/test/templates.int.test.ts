import type { Template } from "@tidings/contracts";
import { expectError } from "@tidings/testing";
import { describe, expect } from "vitest";
import { type ContentHarness, contentTest } from "./support.ts";

const PATH = "/api/v1/template/";
const it = contentTest();

const createSms = (t: ContentHarness, body = "Hi ((name)), your visit is on ((date)).", name = "Reminder") =>
  t.create<Template>(PATH, { name, type: "sms", body });
const createEmail = (t: ContentHarness, body = "<p>Dear ((name)),</p><p>((message))</p>") =>
  t.create<Template>(PATH, { name: "Letter", type: "email", subject: "News for ((name))", body });
const preview = (t: ContentHarness, id: number, payload: object) =>
  t.call("POST", `${PATH}${id}/preview/`, payload);

describe("POST /api/v1/template/", () => {
  it("creates version 1 of an SMS template, reporting placeholders, encoding and segments", async ({ t }) => {
    await t.expectCreated(
      PATH,
      {
        name: "Reminder",
        type: "sms",
        body: "Hi ((name)), see you ((date)) ((Name))",
      },
      "content.template.changed",
      {
        id: expect.any(Number),
        name: "Reminder",
        type: "sms",
        subject: null,
        body: "Hi ((name)), see you ((date)) ((Name))",
        version: 1,
        placeholders: ["name", "date"],
        encoding: "GSM-7",
        segments: 1,
        whatsapp: null,
        created_at: expect.any(String),
        updated_at: expect.any(String),
      },
    );
  });

  it("reports UCS-2 and several segments for a long unicode SMS body", async ({ t }) => {
    const template = await createSms(t, `Molo ((name)) 🤰 ${"x".repeat(60)}`);
    expect(template).toMatchObject({ encoding: "UCS-2", segments: 2 });
  });

  it("creates an email template with placeholders in subject and body, without SMS counts", async ({ t }) => {
    const template = await createEmail(t);
    expect(template).toMatchObject({
      type: "email",
      subject: "News for ((name))",
      placeholders: ["name", "message"],
      encoding: null,
      segments: 0,
    });
  });

  it("400s an email template without a subject, and an SMS template with one, storing nothing", async ({
    t,
  }) => {
    const count = () => t.svc.db.template.count();
    await t.expectRejected(
      () => t.call("POST", PATH, { name: "x", type: "email", body: "b" }),
      400,
      "CONTENT_TEMPLATE_SUBJECT_REQUIRED",
      count,
    );
    await t.expectRejected(
      () => t.call("POST", PATH, { name: "x", type: "sms", subject: "s", body: "b" }),
      400,
      "CONTENT_TEMPLATE_SUBJECT_NOT_ALLOWED",
      count,
    );
    await t.expectRejected(
      () => t.call("POST", PATH, { name: "x", type: "letter", body: "b" }),
      400,
      "VALIDATION_FAILED",
      count,
    );
  });
});

describe("versions", () => {
  it("makes a new version on every change and keeps the old ones readable", async ({ t }) => {
    const v1 = await createSms(t, "Version ((one))");
    const v2 = (await t.call("PATCH", `${PATH}${v1.id}/`, { body: "Version ((two))" })).body;
    expect(v2).toMatchObject({ id: v1.id, version: 2, body: "Version ((two))", placeholders: ["two"] });
    expect(await t.event("content.template.changed", v1.id)).toBeDefined();
    const v3 = (await t.call("PATCH", `${PATH}${v1.id}/`, { name: "Renamed" })).body;
    expect(v3).toMatchObject({ version: 3, name: "Renamed", body: "Version ((two))" });

    const versions = await t.call("GET", `${PATH}${v1.id}/versions/`);
    expect(versions.status).toBe(200);
    expect(versions.body).toMatchObject({ count: 3, next: null, previous: null });
    expect(versions.body.results.map((v: Template) => [v.version, v.name, v.body])).toEqual([
      [1, "Reminder", "Version ((one))"],
      [2, "Reminder", "Version ((two))"],
      [3, "Renamed", "Version ((two))"],
    ]);
    const one = await t.call("GET", `${PATH}${v1.id}/versions/1/`);
    expect(one.body).toMatchObject({
      template: v1.id,
      version: 1,
      body: "Version ((one))",
      placeholders: ["one"],
    });
    expect((await t.call("GET", `${PATH}${v1.id}/versions/9/`)).body.error.code).toBe(
      "CONTENT_TEMPLATE_VERSION_NOT_FOUND",
    );
    expect((await t.call("GET", `${PATH}999999/versions/`)).body.error.code).toBe(
      "CONTENT_TEMPLATE_NOT_FOUND",
    );

    // An old version can still be previewed.
    expect((await preview(t, v1.id, { personalisation: { one: "1" }, version: 1 })).body.body).toBe(
      "Version 1",
    );
  });

  it("gives concurrent changes consecutive versions, each one recorded", async ({ t }) => {
    const template = await createSms(t, "v1");
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => t.call("PATCH", `${PATH}${template.id}/`, { body: `change ${i}` })),
    );
    expect(results.map((r) => r.status)).toEqual(Array(8).fill(200));
    expect(results.map((r) => r.body.version).sort((a, b) => a - b)).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
    const versions = (await t.call("GET", `${PATH}${template.id}/versions/`)).body.results as Template[];
    expect(versions.map((v) => v.version)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const latest = (await t.call("GET", `${PATH}${template.id}/`)).body;
    expect(latest.version).toBe(9);
    expect(versions.at(-1)?.body).toBe(latest.body);
  });

  it("makes no version and publishes nothing for a PATCH that changes nothing", async ({ t }) => {
    const template = await createSms(t, "Same");
    await t.event("content.template.changed", template.id);
    await t.expectNoEvents(async () => {
      const res = await t.call("PATCH", `${PATH}${template.id}/`, { body: "Same", name: template.name });
      expect(res.body).toEqual(template);
    });
    expect((await t.call("GET", `${PATH}${template.id}/versions/`)).body.count).toBe(1);
  });

  it("checks a PATCH as merged, changing nothing when it is invalid", async ({ t }) => {
    const template = await createSms(t, "Text");
    const res = await t.call("PATCH", `${PATH}${template.id}/`, { type: "email" });
    expectError(res, 400, "CONTENT_TEMPLATE_SUBJECT_REQUIRED");
    expect((await t.call("GET", `${PATH}${template.id}/`)).body).toEqual(template);
    expect((await t.call("GET", `${PATH}${template.id}/versions/`)).body.count).toBe(1);
    const email = await t.call("PATCH", `${PATH}${template.id}/`, { type: "email", subject: "Now ((s))" });
    expect(email.body).toMatchObject({ version: 2, type: "email", placeholders: ["s"], encoding: null });
  });
});

describe("GET /api/v1/template/", () => {
  it("filters by name and type", async ({ t }) => {
    const a = await createSms(t, "a", "Filter me");
    await createEmail(t);
    const res = await t.call("GET", `${PATH}?name=Filter%20me&type=sms`);
    expect(res.body.results).toEqual([a]);
    const emails = (await t.call("GET", `${PATH}?type=email`)).body.results as Template[];
    expect(emails.length).toBeGreaterThan(0);
    expect(emails.every((e) => e.type === "email")).toBe(true);
  });
});

describe("DELETE /api/v1/template/:id/", () => {
  it("deletes the template with its versions and publishes content.template.deleted", async ({ t }) => {
    const template = await createSms(t);
    expect((await t.call("DELETE", `${PATH}${template.id}/`)).status).toBe(204);
    expect(await t.event("content.template.deleted", template.id)).toEqual({ id: template.id });
    expect((await t.call("GET", `${PATH}${template.id}/`)).status).toBe(404);
    expect(await t.svc.db.templateVersion.count({ where: { templateId: template.id } })).toBe(0);
    expect((await t.call("DELETE", `${PATH}${template.id}/`)).body.error.code).toBe(
      "CONTENT_TEMPLATE_NOT_FOUND",
    );
  });
});

describe("POST /api/v1/template/{id}/preview/", () => {
  it("renders an SMS with the values as given, and counts the rendered text", async ({ t }) => {
    const template = await createSms(t);
    const res = await preview(t, template.id, {
      personalisation: { name: "Thandi <3", date: "Tue 12 March" },
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      id: template.id,
      version: 1,
      type: "sms",
      subject: null,
      body: "Hi Thandi <3, your visit is on Tue 12 March.",
      encoding: "GSM-7",
      segments: 1,
    });
    const long = await preview(t, template.id, { personalisation: { name: "Zoë".repeat(30), date: 5 } });
    expect(long.body).toMatchObject({ encoding: "UCS-2", segments: 2 });
  });

  it("HTML-escapes values in email bodies (not in the subject), never the template itself", async ({ t }) => {
    const template = await createEmail(t);
    const res = await preview(t, template.id, {
      personalisation: { name: 'O\'Brien & "Co"', message: "<script>alert(1)</script>" },
    });
    expect(res.body).toEqual({
      id: template.id,
      version: 1,
      type: "email",
      subject: 'News for O\'Brien & "Co"',
      body: "<p>Dear O&#x27;Brien &amp; &quot;Co&quot;,</p><p>&lt;script&gt;alert(1)&lt;/script&gt;</p>",
      encoding: null,
      segments: 0,
    });
  });

  it("matches names case- and space-insensitively, and ignores extra values", async ({ t }) => {
    const template = await createSms(t, "Hi ((First Name)) and ((first name))");
    const res = await preview(t, template.id, { personalisation: { firstname: "Ada", unused: "x" } });
    expect(res.body.body).toBe("Hi Ada and Ada");
  });

  it("400s missing personalisation, naming each missing placeholder", async ({ t }) => {
    const template = await createEmail(t);
    const res = await preview(t, template.id, { personalisation: { name: "x" } });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({
      code: "CONTENT_TEMPLATE_MISSING_PERSONALISATION",
      message: "Missing personalisation: message",
      details: [{ field: "body.personalisation.message", message: "is required" }],
    });
    const none = await preview(t, template.id, {});
    expect(none.body.error.message).toBe("Missing personalisation: name, message");
  });

  it("404s an unknown template and 400s a bad body", async ({ t }) => {
    expect((await preview(t, 999999, { personalisation: {} })).body.error.code).toBe(
      "CONTENT_TEMPLATE_NOT_FOUND",
    );
    const template = await createSms(t, "x");
    const res = await preview(t, template.id, { personalisation: { a: { nested: true } } });
    expectError(res, 400, "VALIDATION_FAILED");
  });
});
