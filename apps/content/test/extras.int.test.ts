import type { ContentSchedule, Message, MessageSet } from "@tidings/contracts";
import { expectError } from "@tidings/testing";
import { describe, expect } from "vitest";
import { type ContentHarness, contentTest } from "./support.ts";

const it = contentTest();

describe("GET /api/v1/messageset/{id}/messages", () => {
  it("answers the set with its messages in sequence then lang order, binary content nested", async ({
    t,
  }) => {
    const set = await t.createSet({ label: "With messages" });
    const binary = await t.createBinary("audio");
    const zul2 = await t.createMessage(set, { sequence_number: 2, lang: "zul_ZA", text_content: "Sawubona" });
    const eng1 = await t.createMessage(set, {
      sequence_number: 1,
      binary_content: binary.id,
      text_content: "Hi",
    });
    const eng2 = await t.createMessage(set, { sequence_number: 2, text_content: "Hello" });
    const res = await t.call("GET", `/api/v1/messageset/${set.id}/messages`);
    expect(res.status).toBe(200);
    const nested = (m: Message, b: unknown = null) => {
      const { binary_content_url: _url, ...rest } = m;
      return { ...rest, binary_content: b };
    };
    expect(res.body).toEqual({ ...set, messages: [nested(eng1, binary), nested(eng2), nested(zul2)] });
  });

  it("answers an empty list for a set without messages, and 404s an unknown set", async ({ t }) => {
    const set = await t.createSet();
    expect((await t.call("GET", `/api/v1/messageset/${set.id}/messages/`)).body).toEqual({
      ...set,
      messages: [],
    });
    const res = await t.call("GET", "/api/v1/messageset/999999/messages");
    expectError(res, 404, "CONTENT_MESSAGESET_NOT_FOUND");
  });
});

describe("GET /api/v1/messageset_languages/", () => {
  it("maps every set's id to the distinct languages of its messages, sorted", async ({ t }) => {
    const a = await t.createSet();
    const b = await t.createSet();
    for (const [sequence_number, lang] of [
      [1, "zul_ZA"],
      [1, "eng_ZA"],
      [2, "eng_ZA"],
      [2, "afr_ZA"],
    ] as const) {
      await t.createMessage(a, { sequence_number, lang, text_content: "x" });
    }
    const res = await t.call("GET", "/api/v1/messageset_languages/");
    expect(res.status).toBe(200);
    expect(res.body[String(a.id)]).toEqual(["afr_ZA", "eng_ZA", "zul_ZA"]);
    expect(res.body[String(b.id)]).toEqual([]);
    expect(Object.keys(res.body).length).toBe(await t.svc.db.messageSet.count());
  });
});

describe("POST /api/v1/messageset/{id}/clone/", () => {
  it("copies the set and all its messages under the new short name, and announces each", async ({ t }) => {
    const next = await t.createSet();
    const source = await t.createSet({
      label: "Source",
      notes: "n",
      channel: "JUNE_TEXT",
      next_set: next.id,
    });
    const binary = await t.createBinary("img");
    const m1 = await t.createMessage(source, { sequence_number: 1, text_content: "One", metadata: { a: 1 } });
    const m2 = await t.createMessage(source, {
      sequence_number: 2,
      lang: "zul_ZA",
      binary_content: binary.id,
    });
    const res = await t.call("POST", `/api/v1/messageset/${source.id}/clone/`, {
      short_name: "extras.clone",
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const copy: MessageSet = res.body;
    expect(copy).toEqual({
      ...source,
      id: expect.any(Number),
      short_name: "extras.clone",
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
    expect(copy.id).not.toBe(source.id);
    expect(res.headers.location).toBe(`/api/v1/messageset/${copy.id}/`);
    expect(await t.event("content.messageset.changed", copy.id)).toEqual(copy);

    const copied = (await t.call("GET", `/api/v1/message/?messageset=${copy.id}`)).body.results as Message[];
    const strip = ({ id: _i, messageset: _s, created_at: _c, updated_at: _u, ...m }: Message) => m;
    expect(copied.map(strip)).toEqual([m1, m2].map(strip));
    for (const m of copied) {
      expect(await t.event("content.message.changed", m.id)).toEqual(m);
    }
    // The source is untouched.
    expect((await t.call("GET", `/api/v1/message/?messageset=${source.id}`)).body.results).toEqual([m1, m2]);
  });

  it("takes a new label if given", async ({ t }) => {
    const source = await t.createSet({ label: "Old" });
    const res = await t.call("POST", `/api/v1/messageset/${source.id}/clone/`, {
      short_name: "extras.relabelled",
      label: "New",
    });
    expect(res.body.label).toBe("New");
  });

  it("400s a short name already taken and 404s an unknown set, copying nothing", async ({ t }) => {
    const source = await t.createSet();
    await t.createMessage(source, { sequence_number: 1, text_content: "x" });
    const count = async () => (await t.svc.db.messageSet.count()) + (await t.svc.db.message.count());
    await t.expectRejected(
      () => t.call("POST", `/api/v1/messageset/${source.id}/clone/`, { short_name: source.short_name }),
      400,
      "CONTENT_MESSAGESET_SHORT_NAME_TAKEN",
      count,
    );
    await t.expectRejected(
      () => t.call("POST", "/api/v1/messageset/999999/clone/", { short_name: "extras.nothing" }),
      404,
      "CONTENT_MESSAGESET_NOT_FOUND",
      count,
    );
  });
});

describe("WhatsApp sets", () => {
  it.for<[string, string]>([
    ["a newline", "Line one\nLine two"],
    ["a tab", "Col\tumn"],
    ["four consecutive spaces", "Wide    gap"],
  ])("400s text with %s in a set whose channel contains whatsapp", async ([what, text], { t }) => {
    const set = await t.createSet({ channel: "WhatsApp_MomConnect" });
    const error = await t.expectRejected(
      () =>
        t.call("POST", "/api/v1/message/", {
          messageset: set.id,
          sequence_number: 1,
          lang: "eng_ZA",
          text_content: text,
        }),
      400,
      "CONTENT_MESSAGE_WHATSAPP_FORMAT",
      () => t.svc.db.message.count(),
    );
    expect(error.message).toContain(what);
  });

  it("accepts such text in other sets, and three spaces in WhatsApp sets", async ({ t }) => {
    const sms = await t.createSet({ channel: "JUNE_TEXT" });
    await t.createMessage(sms, { sequence_number: 1, text_content: "Line one\nLine    two\t" });
    const wa = await t.createSet({ channel: "WHATSAPP" });
    await t.createMessage(wa, { sequence_number: 1, text_content: "Three   spaces are fine" });
  });

  it("checks a PATCH as merged, and refuses to make a set WhatsApp while its messages break the rule", async ({
    t,
  }) => {
    const wa = await t.createSet({ channel: "whatsapp" });
    const ok = await t.createMessage(wa, { sequence_number: 1, text_content: "Fine" });
    const res = await t.call("PATCH", `/api/v1/message/${ok.id}/`, { text_content: "Not\nfine" });
    expectError(res, 400, "CONTENT_MESSAGE_WHATSAPP_FORMAT");

    const sms = await t.createSet({ channel: "SMS" });
    const multiline = await t.createMessage(sms, { sequence_number: 1, text_content: "Two\nlines" });
    const patch = await t.call("PATCH", `/api/v1/messageset/${sms.id}/`, { channel: "WHATSAPP" });
    expect(patch.status).toBe(400);
    expect(patch.body.error).toMatchObject({ code: "CONTENT_MESSAGESET_WHATSAPP_FORMAT" });
    expect(patch.body.error.message).toContain(String(multiline.id));
    expect((await t.call("GET", `/api/v1/messageset/${sms.id}/`)).body.channel).toBe("SMS");
  });
});

describe("message metadata", () => {
  it("stores any JSON object, replaces it on PATCH, and refuses a non-object", async ({ t }) => {
    const set = await t.createSet();
    const metadata = {
      template: { name: "week_1", language: "en", variables: ["a", 1, null, true] },
      n: 2.5,
    };
    const m = await t.createMessage(set, { sequence_number: 1, text_content: "x", metadata });
    expect((await t.call("GET", `/api/v1/message/${m.id}/`)).body.metadata).toEqual(metadata);
    const patched = await t.call("PATCH", `/api/v1/message/${m.id}/`, { metadata: { b: 1 } });
    expect(patched.body.metadata).toEqual({ b: 1 });
    for (const bad of [[1, 2], "text", null]) {
      const res = await t.call("PATCH", `/api/v1/message/${m.id}/`, { metadata: bad });
      expect(res.status, JSON.stringify(bad)).toBe(400);
    }
  });
});

describe("GET /api/v1/message/{id}/content", () => {
  it("answers a text message with binary_content null, and 404s an unknown message", async ({ t }) => {
    const set = await t.createSet();
    const m = await t.createMessage(set, { sequence_number: 1, text_content: "Just text" });
    const { binary_content_url: _url, ...rest } = m;
    expect((await t.call("GET", `/api/v1/message/${m.id}/content`)).body).toEqual({
      ...rest,
      binary_content: null,
    });
    expect((await t.call("GET", "/api/v1/message/999999/content")).status).toBe(404);
  });
});

describe("GET /api/v1/schedule/{id}/runs/", () => {
  const runs = (t: ContentHarness, id: number, query: string) =>
    t.call("GET", `/api/v1/schedule/${id}/runs/?${query}`);

  it("lists the run times in the window, both ends inclusive", async ({ t, schedule }) => {
    // Mondays and Thursdays at 08:00 UTC; 2026-01-05 is a Monday.
    const res = await runs(t, schedule.id, "from=2026-01-05T08:00:00Z&to=2026-01-15T08:00:00Z");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      schedule: schedule.id,
      timezone: "UTC",
      cron_definition: "0 8 * * 1,4",
      from: "2026-01-05T08:00:00.000000Z",
      to: "2026-01-15T08:00:00.000000Z",
      runs: [
        "2026-01-05T08:00:00.000000Z",
        "2026-01-08T08:00:00.000000Z",
        "2026-01-12T08:00:00.000000Z",
        "2026-01-15T08:00:00.000000Z",
      ],
      truncated: false,
    });
  });

  it("computes the runs in the schedule's time zone, across a daylight-saving change", async ({ t }) => {
    const ny = await t.create<ContentSchedule>("/api/v1/schedule/", {
      minute: "30",
      hour: "9",
      timezone: "America/New_York",
    });
    // DST starts in New York on 2026-03-08: 09:30 local is 14:30Z before, 13:30Z after.
    const res = await runs(t, ny.id, "from=2026-03-07T00:00:00Z&to=2026-03-09T23:59:59Z");
    expect(res.body.runs).toEqual([
      "2026-03-07T14:30:00.000000Z",
      "2026-03-08T13:30:00.000000Z",
      "2026-03-09T13:30:00.000000Z",
    ]);
  });

  it("lists at most `limit` runs and says when it truncated", async ({ t }) => {
    const everyMinute = await t.create<ContentSchedule>("/api/v1/schedule/", {});
    const res = await runs(t, everyMinute.id, "from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z&limit=3");
    expect(res.body.runs).toEqual([
      "2026-01-01T00:00:00.000000Z",
      "2026-01-01T00:01:00.000000Z",
      "2026-01-01T00:02:00.000000Z",
    ]);
    expect(res.body.truncated).toBe(true);
    const exact = await runs(t, everyMinute.id, "from=2026-01-01T00:00:00Z&to=2026-01-01T00:02:00Z&limit=3");
    expect(exact.body.truncated).toBe(false);
    expect(
      (await runs(t, everyMinute.id, "from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z")).body.runs,
    ).toHaveLength(100);
  });

  it("400s a window that is backwards, too long or not dates; 404s an unknown schedule", async ({
    t,
    schedule,
  }) => {
    for (const [query, code] of [
      ["from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z", "CONTENT_SCHEDULE_RUNS_WINDOW"],
      ["from=2026-01-01T00:00:00Z&to=2028-01-01T00:00:00Z", "CONTENT_SCHEDULE_RUNS_WINDOW"],
      ["from=yesterday&to=2026-01-01T00:00:00Z", "VALIDATION_FAILED"],
      ["to=2026-01-01T00:00:00Z", "VALIDATION_FAILED"],
      ["from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z&limit=1001", "VALIDATION_FAILED"],
    ]) {
      const res = await runs(t, schedule.id, query as string);
      expect(res.status, query).toBe(400);
      expect(res.body.error.code, query).toBe(code);
    }
    const res = await runs(t, 999999, "from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z");
    expectError(res, 404, "CONTENT_SCHEDULE_NOT_FOUND");
  });
});

describe("POST /api/v1/message/preflight/", () => {
  it.for<[string, string, object]>([
    ["empty", "", { encoding: null, characters: 0, units: 0, segments: 0, segment_limit: 160 }],
    ["one GSM-7 SMS", "a".repeat(160), { encoding: "GSM-7", units: 160, segments: 1, segment_limit: 160 }],
    ["two GSM-7 parts", "a".repeat(161), { encoding: "GSM-7", units: 161, segments: 2, segment_limit: 153 }],
    ["an extension character's two septets", "€".repeat(80), { encoding: "GSM-7", units: 160, segments: 1 }],
    [
      "UCS-2 forced",
      `Sawubona ${"ŋ".repeat(62)}`,
      {
        encoding: "UCS-2",
        characters: 71,
        units: 71,
        segments: 2,
        segment_limit: 67,
        non_gsm_characters: ["ŋ"],
      },
    ],
  ])("%s", async ([, text, expected], { t }) => {
    const res = await t.call("POST", "/api/v1/message/preflight/", { text_content: text });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ problem: null, ...expected });
  });

  it("names the problem saving would give, with the set's channel rules, and 400s an unknown set", async ({
    t,
  }) => {
    const smart = await t.call("POST", "/api/v1/message/preflight/", { text_content: "It’s week 2" });
    expect(smart.body.problem).toBe("text_content has special characters which can be replaced: ’ with '");
    const whatsapp = await t.createSet({ channel: "WHATSAPP" });
    const tabbed = { text_content: "Week\t2", messageset: whatsapp.id };
    expect((await t.call("POST", "/api/v1/message/preflight/", tabbed)).body.problem).toContain("a tab");
    const saved = await t.call("POST", "/api/v1/message/", { ...tabbed, sequence_number: 1, lang: "eng_ZA" });
    expect(saved.body.error.message).toBe(
      (await t.call("POST", "/api/v1/message/preflight/", tabbed)).body.problem,
    );
    const unknown = await t.call("POST", "/api/v1/message/preflight/", {
      text_content: "x",
      messageset: 999999,
    });
    expectError(unknown, 400, "CONTENT_REFERENCE_NOT_FOUND");
  });
});
