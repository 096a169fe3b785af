import type { Message, MessageSet } from "@tidings/contracts";
import { expectError } from "@tidings/testing";
import { describe, expect } from "vitest";
import { type ContentHarness, contentTest } from "./support.ts";

const it = contentTest();

const MESSAGES = "/api/v1/message/";

describe("POST /api/v1/message/", () => {
  it("creates a message and publishes content.message.changed with its content", async ({ t, set }) => {
    const metadata = { template: { name: "week_1", language: "en" } };
    await t.expectCreated(
      MESSAGES,
      {
        messageset: set.id,
        sequence_number: 1,
        lang: "eng_ZA",
        text_content: "Welcome to your pregnancy messages.",
        metadata,
      },
      "content.message.changed",
      {
        id: expect.any(Number),
        messageset: set.id,
        sequence_number: 1,
        lang: "eng_ZA",
        text_content: "Welcome to your pregnancy messages.",
        binary_content: null,
        binary_content_url: null,
        metadata,
        encoding: "GSM-7",
        segments: 1,
        created_at: expect.any(String),
        updated_at: expect.any(String),
      },
    );
  });

  it("accepts binary content without text, and defaults metadata to {}", async ({ t, set }) => {
    const binary = await t.createBinary();
    const message = await t.createMessage(set, { sequence_number: 2, binary_content: binary.id });
    expect(message).toMatchObject({
      text_content: null,
      binary_content: binary.id,
      binary_content_url: binary.content,
      metadata: {},
      encoding: null,
      segments: 0,
    });
    expect(await t.event("content.message.changed", message.id)).toEqual(message);
  });

  it("reports the SMS encoding and segments of the text", async ({ t, set }) => {
    const gsm = await t.createMessage(set, { sequence_number: 3, text_content: `${"a".repeat(159)}€` });
    expect(gsm).toMatchObject({ encoding: "GSM-7", segments: 2 });
    const ucs = await t.createMessage(set, {
      sequence_number: 4,
      text_content: `Sawubona 😀 ${"b".repeat(60)}`,
    });
    expect(ucs).toMatchObject({ encoding: "UCS-2", segments: 2 });
    const patched = await t.call("PATCH", `${MESSAGES}${ucs.id}/`, { text_content: "Short" });
    expect(patched.body).toMatchObject({ encoding: "GSM-7", segments: 1 });
  });

  describe("errors: nothing stored, nothing published", () => {
    const rejects = ({ t, set }: { t: ContentHarness; set: MessageSet }, payload: object, code: string) =>
      t.expectRejected(
        () => t.call("POST", MESSAGES, { messageset: set.id, lang: "eng_ZA", ...payload }),
        400,
        code,
        () => t.svc.db.message.count(),
      );

    it("400s an unknown messageset, naming the field", async ({ t, set }) => {
      const error = await rejects(
        { t, set },
        { messageset: 999999, sequence_number: 1, text_content: "x" },
        "CONTENT_REFERENCE_NOT_FOUND",
      );
      expect(error.message).toMatch(/^messageset: /);
      expect(error.details).toEqual([{ field: "body.messageset", message: expect.any(String) }]);
    });

    it("400s a second message with the same messageset, sequence_number and lang", async ({ t, set }) => {
      await t.createMessage(set, { sequence_number: 10, text_content: "first" });
      await t.createMessage(set, {
        sequence_number: 10,
        lang: "zul_ZA",
        text_content: "another language is fine",
      });
      await rejects({ t, set }, { sequence_number: 10, text_content: "second" }, "CONTENT_MESSAGE_DUPLICATE");
    });

    it("400s a message with neither text nor binary content (empty text counts as none)", async ({
      t,
      set,
    }) => {
      for (const content of [{}, { text_content: null, binary_content: null }, { text_content: "" }]) {
        const error = await rejects({ t, set }, { sequence_number: 20, ...content }, "CONTENT_MESSAGE_EMPTY");
        expect(error.message).toBe("Messages must have text or file attached");
      }
    });

    it.for<[string, string]>([
      ["“", '"'],
      ["”", '"'],
      ["’", "'"],
      ["–", "-"],
    ])("400s text with the smart character %s and suggests %s", async ([smart, plain], { t, set }) => {
      const error = await rejects(
        { t, set },
        { sequence_number: 30, text_content: `Your baby${smart}s heart beats` },
        "CONTENT_MESSAGE_SPECIAL_CHARACTERS",
      );
      expect(error.message).toContain(`${smart} with ${plain}`);
      expect(error.details).toEqual([{ field: "body.text_content", message: expect.any(String) }]);
    });

    it("names each smart character once, in order of appearance", async ({ t, set }) => {
      const error = await rejects(
        { t, set },
        { sequence_number: 30, text_content: "“Hi” – it’s “us”" },
        "CONTENT_MESSAGE_SPECIAL_CHARACTERS",
      );
      expect(error.message).toBe(
        'text_content has special characters which can be replaced: “ with ", ” with ", – with -, ’ with \'',
      );
    });

    it("400s an unknown binary_content, naming the field", async ({ t, set }) => {
      const error = await rejects(
        { t, set },
        { sequence_number: 21, binary_content: 999999 },
        "CONTENT_REFERENCE_NOT_FOUND",
      );
      expect(error.message).toMatch(/^binary_content: /);
    });

    it("400s a bad lang and sequence_number through the schema", async ({ t, set }) => {
      const error = await rejects(
        { t, set },
        { sequence_number: 0, lang: "english", text_content: "x" },
        "VALIDATION_FAILED",
      );
      expect(error.details).toEqual([
        { field: "body.sequence_number", message: expect.any(String) },
        { field: "body.lang", message: expect.any(String) },
      ]);
    });
  });
});

describe("GET /api/v1/message/", () => {
  it("filters by messageset, sequence_number and lang, in id order, paged", async ({ t, set }) => {
    const other = await t.create<MessageSet>("/api/v1/messageset/", {
      short_name: "messages.list",
      default_schedule: set.default_schedule,
    });
    const inOther = async (sequence_number: number, lang: string) =>
      t.create<Message>(MESSAGES, { messageset: other.id, sequence_number, lang, text_content: "x" });
    const eng1 = await inOther(1, "eng_ZA");
    const zul1 = await inOther(1, "zul_ZA");
    const eng2 = await inOther(2, "eng_ZA");

    const list = async (query: string) => (await t.call("GET", `${MESSAGES}?${query}`)).body;
    expect((await list(`messageset=${other.id}`)).results).toEqual([eng1, zul1, eng2]);
    expect((await list(`messageset=${other.id}&lang=eng_ZA`)).results).toEqual([eng1, eng2]);
    expect((await list(`messageset=${other.id}&sequence_number=1`)).results).toEqual([eng1, zul1]);
    expect(await list(`messageset=${other.id}&sequence_number=2&lang=eng_ZA`)).toEqual({
      count: 1,
      next: null,
      previous: null,
      results: [eng2],
    });

    const page = await list(`messageset=${other.id}&limit=2`);
    expect(page).toMatchObject({ count: 3, previous: null, results: [eng1, zul1] });
    const next = new URL(page.next);
    expect(next.searchParams.get("messageset")).toBe(String(other.id));
    expect((await t.call("GET", next.pathname + next.search)).body.results).toEqual([eng2]);
  });
});

describe("PATCH /api/v1/message/:id/", () => {
  it("changes the given fields only and publishes content.message.changed", async ({ t, set }) => {
    const message = await t.createMessage(set, {
      sequence_number: 40,
      text_content: "Old",
      metadata: { a: 1 },
    });
    await t.event("content.message.changed", message.id);
    const from = t.capture.messages.length;

    const res = await t.call("PATCH", `${MESSAGES}${message.id}/`, { text_content: "New" });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ...message, text_content: "New", updated_at: expect.any(String) });
    await expect.poll(() => t.capture.messages.slice(from).map((m) => m.payload)).toEqual([res.body]);
  });

  it("validates the message as merged, and changes nothing when it is invalid", async ({ t, set }) => {
    const message = await t.createMessage(set, { sequence_number: 41, text_content: "Text only" });
    await t.createMessage(set, { sequence_number: 42, text_content: "Taken" });
    await t.expectPatchesRefused(
      `${MESSAGES}${message.id}/`,
      [
        [{ text_content: null }, "CONTENT_MESSAGE_EMPTY"],
        [{ text_content: "It’s" }, "CONTENT_MESSAGE_SPECIAL_CHARACTERS"],
        [{ sequence_number: 42 }, "CONTENT_MESSAGE_DUPLICATE"],
        [{ messageset: 999999 }, "CONTENT_REFERENCE_NOT_FOUND"],
      ] as const,
      message,
    );
  });

  it("lets the text go (null, not an empty string) once binary content is there", async ({ t, set }) => {
    const message = await t.createMessage(set, { sequence_number: 43, text_content: "Text" });
    const binary = await t.createBinary();
    const res = await t.call("PATCH", `${MESSAGES}${message.id}/`, {
      text_content: null,
      binary_content: binary.id,
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      text_content: null,
      binary_content: binary.id,
      encoding: null,
      segments: 0,
    });
    expect((await t.svc.db.message.findUniqueOrThrow({ where: { id: message.id } })).textContent).toBeNull();
  });

  it("refuses binary_content 0 rather than reading it as null", async ({ t, set }) => {
    const binary = await t.createBinary();
    const message = await t.createMessage(set, {
      sequence_number: 44,
      text_content: "Text",
      binary_content: binary.id,
    });
    const res = await t.call("PATCH", `${MESSAGES}${message.id}/`, { binary_content: 0 });
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([{ field: "body.binary_content", message: expect.any(String) }]);
    expect((await t.call("GET", `${MESSAGES}${message.id}/`)).body.binary_content).toBe(binary.id);
  });

  it("404s an unknown message", async ({ t }) => {
    const res = await t.call("PATCH", `${MESSAGES}999999/`, { text_content: "x" });
    expectError(res, 404, "CONTENT_MESSAGE_NOT_FOUND");
  });
});

describe("DELETE /api/v1/message/:id/", () => {
  it("deletes and publishes content.message.deleted with the message's key", async ({ t, set }) => {
    const message = await t.createMessage(set, { sequence_number: 50, lang: "xho_ZA", text_content: "Bye" });
    const res = await t.call("DELETE", `${MESSAGES}${message.id}/`);
    expect(res.status).toBe(204);
    expect(await t.event("content.message.deleted", message.id)).toEqual({
      id: message.id,
      messageset: set.id,
      sequence_number: 50,
      lang: "xho_ZA",
    });
    expect((await t.call("GET", `${MESSAGES}${message.id}/`)).status).toBe(404);
  });

  it("404s an unknown message", async ({ t }) => {
    const res = await t.call("DELETE", `${MESSAGES}999999/`);
    expectError(res, 404, "CONTENT_MESSAGE_NOT_FOUND");
  });
});
