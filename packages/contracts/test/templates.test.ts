import { describe, expect, it } from "vitest";
import { placeholdersOf, renderTemplate } from "../src/templates.ts";

describe("renderTemplate", () => {
  it("fills placeholders case- and space-insensitively, escaping values in email bodies only", () => {
    expect(
      renderTemplate(
        { type: "email", subject: "News for ((Name))", body: "<p>((first name)): ((n))</p>" },
        { name: "A & B", firstname: "<b>", n: 3 },
      ),
    ).toEqual({ ok: true, subject: "News for A & B", body: "<p>&lt;b&gt;: 3</p>" });
    expect(
      renderTemplate({ type: "sms", subject: null, body: "Hi ((name)) <3" }, { NAME: "<Thandi>" }),
    ).toEqual({
      ok: true,
      subject: null,
      body: "Hi <Thandi> <3",
    });
  });

  it("names every placeholder without a value, once, as the template writes it", () => {
    expect(
      renderTemplate(
        { type: "sms", subject: null, body: "((Name)) ((date)) ((name)) ((code))" },
        { code: "1" },
      ),
    ).toEqual({ ok: false, missing: ["Name", "date"] });
    expect(placeholdersOf("((a)) ((b))", null, "((A))")).toEqual(["a", "b"]);
  });
});
