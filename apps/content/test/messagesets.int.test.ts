import type { Message, MessageSet } from "@tidings/contracts";
import { expectError } from "@tidings/testing";
import { describe, expect } from "vitest";
import { type ContentHarness, contentTest } from "./support.ts";

const it = contentTest();

const SETS = "/api/v1/messageset/";

describe("POST /api/v1/messageset/", () => {
  it("creates a set with Seed's defaults and publishes content.messageset.changed", async ({
    t,
    schedule,
  }) => {
    await t.expectCreated(
      SETS,
      {
        short_name: "prebirth.mother.text",
        default_schedule: schedule.id,
      },
      "content.messageset.changed",
      {
        id: expect.any(Number),
        short_name: "prebirth.mother.text",
        label: "",
        notes: null,
        channel: null,
        next_set: null,
        default_schedule: schedule.id,
        content_type: "text",
        created_at: expect.any(String),
        updated_at: expect.any(String),
      },
    );
  });

  it("stores every field, next_set included", async ({ t }) => {
    const postbirth = await t.createSet({ short_name: "postbirth.mother.audio", content_type: "audio" });
    const set = await t.createSet({
      short_name: "prebirth.mother.audio",
      label: "Pregnancy (audio)",
      notes: "Tuesdays and Thursdays",
      channel: "JUNE_TEXT",
      next_set: postbirth.id,
      content_type: "audio",
    });
    expect(set).toMatchObject({
      label: "Pregnancy (audio)",
      notes: "Tuesdays and Thursdays",
      channel: "JUNE_TEXT",
      next_set: postbirth.id,
      content_type: "audio",
    });
    expect(await t.event("content.messageset.changed", set.id)).toEqual(set);
  });

  describe("errors: nothing stored, nothing published", () => {
    const rejects = async (t: ContentHarness, payload: object, code: string) => {
      const schedule = await t.schedule();
      return t.expectRejected(
        () => t.call("POST", SETS, { default_schedule: schedule.id, ...payload }),
        400,
        code,
        () => t.svc.db.messageSet.count(),
      );
    };

    it("400s a short_name that is taken (as Seed does)", async ({ t }) => {
      await t.createSet({ short_name: "taken" });
      const error = await rejects(t, { short_name: "taken" }, "CONTENT_MESSAGESET_SHORT_NAME_TAKEN");
      expect(error.details).toEqual([{ field: "body.short_name", message: expect.any(String) }]);
    });

    it.for<[string, object]>([
      ["default_schedule", { short_name: "no.schedule", default_schedule: 999999 }],
      ["next_set", { short_name: "no.next", next_set: 999999 }],
    ])("400s an unknown %s, naming the field", async ([field, body], { t }) => {
      const error = await rejects(t, body, "CONTENT_REFERENCE_NOT_FOUND");
      expect(error.message).toMatch(new RegExp(`^${field}: `));
      expect(error.details).toEqual([{ field: `body.${field}`, message: expect.any(String) }]);
    });

    it("400s a bad content_type and a missing default_schedule through the schema", async ({ t }) => {
      const bad = await rejects(t, { short_name: "video", content_type: "video" }, "VALIDATION_FAILED");
      expect(bad.details).toContainEqual({ field: "body.content_type", message: expect.any(String) });
      const res = await t.call("POST", SETS, { short_name: "no.default" });
      expect(res.body.error.details).toEqual([
        { field: "body.default_schedule", message: expect.any(String) },
      ]);
    });
  });
});

describe("GET /api/v1/messageset/", () => {
  it("filters by short_name and content_type, in id order, paged", async ({ t }) => {
    const audio = [
      await t.createSet({ short_name: "list.audio.1", content_type: "audio" }),
      await t.createSet({ short_name: "list.audio.2", content_type: "audio" }),
      await t.createSet({ short_name: "list.audio.3", content_type: "audio" }),
    ];
    await t.createSet({ short_name: "list.text.1" });

    const byName = (await t.call("GET", `${SETS}?short_name=list.audio.2`)).body;
    expect(byName).toEqual({ count: 1, next: null, previous: null, results: [audio[1]] });

    const all = (await t.call("GET", `${SETS}?content_type=audio`)).body;
    expect(all.results.every((s: MessageSet) => s.content_type === "audio")).toBe(true);
    expect(all.results.filter((s: MessageSet) => s.short_name.startsWith("list."))).toEqual(audio);
    const ids = all.results.map((s: MessageSet) => s.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));

    const page = (await t.call("GET", `${SETS}?content_type=audio&limit=1&offset=1`)).body;
    expect(page.count).toBe(all.count);
    expect(page.results).toEqual(all.results.slice(1, 2));
    expect(page.next).toContain("content_type=audio");
    expect(page.previous).not.toContain("offset");
  });

  it("400s an unknown content_type filter", async ({ t }) => {
    const res = await t.call("GET", `${SETS}?content_type=video`);
    expect(res.status).toBe(400);
    expect(res.body.error.details).toContainEqual({
      field: "querystring.content_type",
      message: expect.any(String),
    });
  });
});

describe("PATCH /api/v1/messageset/:id/", () => {
  it("changes the given fields only and publishes content.messageset.changed", async ({ t }) => {
    const set = await t.createSet({ short_name: "patch.me", notes: "kept" });
    await t.event("content.messageset.changed", set.id);
    const other = await t.create("/api/v1/schedule/", {});
    const from = t.capture.messages.length;

    const res = await t.call("PATCH", `${SETS}${set.id}/`, { label: "Patched", default_schedule: other.id });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      ...set,
      label: "Patched",
      default_schedule: other.id,
      updated_at: expect.any(String),
    });
    await expect
      .poll(() => t.capture.messages.slice(from).filter((m) => m.name === "content.messageset.changed"))
      .toEqual([expect.objectContaining({ payload: res.body })]);
  });

  it("400s a taken short_name and unknown references, and changes nothing", async ({ t }) => {
    const set = await t.createSet({ short_name: "patch.keep" });
    await t.createSet({ short_name: "patch.other" });
    await t.expectPatchesRefused(
      `${SETS}${set.id}/`,
      [
        [{ short_name: "patch.other" }, "CONTENT_MESSAGESET_SHORT_NAME_TAKEN"],
        [{ next_set: 999999 }, "CONTENT_REFERENCE_NOT_FOUND"],
        [{ default_schedule: 999999 }, "CONTENT_REFERENCE_NOT_FOUND"],
      ] as const,
      set,
    );
  });

  it("clears nullable fields with null, and refuses 0 rather than reading it as null", async ({ t }) => {
    const next = await t.createSet({ short_name: "patch.next" });
    const set = await t.createSet({
      short_name: "patch.nulls",
      next_set: next.id,
      notes: "n",
      channel: "SMS",
    });
    const zero = await t.call("PATCH", `${SETS}${set.id}/`, { next_set: 0 });
    expect(zero.status).toBe(400);
    expect(zero.body.error.details).toEqual([{ field: "body.next_set", message: expect.any(String) }]);

    const res = await t.call("PATCH", `${SETS}${set.id}/`, { next_set: null, notes: null, channel: null });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ next_set: null, notes: null, channel: null });
    await expect
      .poll(() => t.capture.named<MessageSet>("content.messageset.changed").filter((s) => s.id === set.id))
      .toContainEqual(res.body);
  });

  it("404s an unknown set", async ({ t }) => {
    const res = await t.call("PATCH", `${SETS}999999/`, { label: "x" });
    expectError(res, 404, "CONTENT_MESSAGESET_NOT_FOUND");
  });
});

describe("PUT /api/v1/messageset/:id/", () => {
  it("replaces the set: fields left out go back to their defaults or null", async ({ t, schedule }) => {
    const set = await t.createSet({
      short_name: "put.me",
      label: "Old",
      notes: "old notes",
      channel: "JUNE_TEXT",
    });
    const res = await t.call("PUT", `${SETS}${set.id}/`, {
      short_name: "put.me.2",
      default_schedule: schedule.id,
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id: set.id,
      short_name: "put.me.2",
      label: "",
      notes: null,
      channel: null,
      next_set: null,
      content_type: "text",
    });
    const partial = await t.call("PUT", `${SETS}${set.id}/`, { label: "no short name" });
    expect(partial.status).toBe(400);
    expect((await t.call("GET", `${SETS}${set.id}/`)).body).toMatchObject({ short_name: "put.me.2" });
  });
});

describe("DELETE /api/v1/messageset/:id/", () => {
  it("deletes the set and its messages, clears next_set where it was the next set, and announces each", async ({
    t,
  }) => {
    const set = await t.createSet({ short_name: "delete.me" });
    const before = await t.createSet({ short_name: "delete.before", next_set: set.id });
    const message = (sequence_number: number, lang: string) =>
      t.create<Message>("/api/v1/message/", {
        messageset: set.id,
        sequence_number,
        lang,
        text_content: "Hi",
      });
    const eng = await message(1, "eng_ZA");
    const zul = await message(1, "zul_ZA");
    await t.event("content.message.changed", zul.id);
    const from = t.capture.messages.length;

    const res = await t.call("DELETE", `${SETS}${set.id}/`);
    expect(res.status).toBe(204);
    await t.event("content.messageset.deleted", set.id);
    expect(t.capture.messages.slice(from).map((m) => [m.name, m.payload])).toEqual([
      ["content.messageset.changed", { ...before, next_set: null, updated_at: expect.any(String) }],
      ["content.message.deleted", { id: eng.id, messageset: set.id, sequence_number: 1, lang: "eng_ZA" }],
      ["content.message.deleted", { id: zul.id, messageset: set.id, sequence_number: 1, lang: "zul_ZA" }],
      ["content.messageset.deleted", { id: set.id }],
    ]);

    expect((await t.call("GET", `${SETS}${set.id}/`)).status).toBe(404);
    expect((await t.call("GET", `${SETS}${before.id}/`)).body.next_set).toBeNull();
    expect(await t.svc.db.message.count({ where: { messagesetId: set.id } })).toBe(0);
  });

  it("404s an unknown set", async ({ t }) => {
    const res = await t.call("DELETE", `${SETS}999999/`);
    expectError(res, 404, "CONTENT_MESSAGESET_NOT_FOUND");
  });
});
