import type { ContentSchedule, Message, MessageSet } from "@tidings/contracts";
import { expectError } from "@tidings/testing";
import { describe, expect } from "vitest";
import { contentTest } from "./support.ts";

const it = contentTest();

const ROUTES = [
  ...["schedule", "messageset", "message", "template"].flatMap((resource) => [
    ["POST", `/api/v1/${resource}/`],
    ["GET", `/api/v1/${resource}/`],
    ["GET", `/api/v1/${resource}/1/`],
    ["PATCH", `/api/v1/${resource}/1/`],
    ["DELETE", `/api/v1/${resource}/1/`],
  ]),
  ["POST", "/api/v1/binarycontent/"],
  ["GET", "/api/v1/binarycontent/"],
  ["GET", "/api/v1/binarycontent/1/"],
  ["DELETE", "/api/v1/binarycontent/1/"],
  ["GET", "/api/v1/schedule/1/runs/?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z"],
  ["GET", "/api/v1/messageset/1/messages"],
  ["GET", "/api/v1/messageset_languages/"],
  ["POST", "/api/v1/messageset/1/clone/"],
  ["GET", "/api/v1/message/1/content"],
  ["GET", "/api/v1/template/1/versions/"],
  ["GET", "/api/v1/template/1/versions/1/"],
  ["POST", "/api/v1/template/1/preview/"],
] as [method: "POST" | "GET" | "PATCH" | "DELETE", url: string][];

describe("auth", () => {
  it.for(ROUTES)("%s %s needs a valid token", async ([method, url], { t }) => {
    const none = await t.svc.app.inject({ method, url, payload: method === "GET" ? undefined : {} });
    expect(none.statusCode).toBe(401);
    const bad = await t.svc.app.inject({ method, url, headers: { authorization: "Token nope" } });
    expectError(bad, 401, "INVALID_TOKEN");
  });

  it("accepts an issued token, as Token or Bearer", async ({ t }) => {
    const issued = await t.call("POST", "/api/v1/user/token/", { email: "hub@example.org" });
    expect(issued.status).toBe(201);
    for (const scheme of ["Token", "Bearer"]) {
      const res = await t.svc.app.inject({
        method: "POST",
        url: "/api/v1/schedule/",
        headers: { authorization: `${scheme} ${issued.body.token}` },
        payload: {},
      });
      expect(res.statusCode).toBe(201);
    }
  });
});

describe("paths", () => {
  it("takes Seed's paths with or without the trailing slash", async ({ t }) => {
    const schedule = await t.create<ContentSchedule>("/api/v1/schedule", {});
    const set = await t.create<MessageSet>("/api/v1/messageset", {
      short_name: "no.slash",
      default_schedule: schedule.id,
    });
    const message = await t.create<Message>("/api/v1/message", {
      messageset: set.id,
      sequence_number: 1,
      lang: "eng_ZA",
      text_content: "Hi",
    });
    expect((await t.call("GET", `/api/v1/schedule/${schedule.id}`)).body).toEqual(schedule);
    expect((await t.call("PATCH", `/api/v1/messageset/${set.id}`, { label: "L" })).body.label).toBe("L");
    expect((await t.call("GET", `/api/v1/message?messageset=${set.id}`)).body.results).toEqual([message]);
    expect((await t.call("DELETE", `/api/v1/message/${message.id}`)).status).toBe(204);
  });

  it.for(["abc", "0", "1.5", "99999999999"])(
    "404s the id %j as an unknown one, as Seed did: ids are positive 32-bit integers",
    async (id, { t }) => {
      const res = await t.call("GET", `/api/v1/messageset/${id}/`);
      expect(res.status).toBe(404);
      expect(res.body).toMatchObject({ error: { code: "NOT_FOUND" }, detail: "Not found." });
    },
  );
});

describe("docs", () => {
  it("serves an OpenAPI document with every content route", async ({ t }) => {
    const res = await t.svc.app.inject({ method: "GET", url: "/docs/json" });
    expect(res.statusCode).toBe(200);
    const paths = Object.keys(res.json().paths);
    for (const path of [
      "/api/v1/binarycontent/",
      "/api/v1/template/{id}/preview/",
      "/api/v1/template/{id}/versions/",
      "/api/v1/schedule/{id}/runs/",
      "/api/v1/messageset/{id}/messages",
      "/api/v1/messageset/{id}/clone/",
      "/api/v1/messageset_languages/",
      "/api/v1/message/{id}/content",
      "/media/{key}",
    ]) {
      expect(paths, path).toContain(path);
    }
  });
});
