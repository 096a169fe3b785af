import { describe, expect } from "vitest";
import type { Api } from "../src/routes.ts";
import { errorOf, fakeApiTest as it } from "../test/fake-api.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** JSON text of `depth` nested arrays around `inner`. */
const nestedArrays = (depth: number, inner = "1") => `${"[".repeat(depth)}${inner}${"]".repeat(depth)}`;

describe("buildApi", () => {
  describe("error shape", () => {
    it("renders an ApiError with its status, code, message and details", async ({ api }) => {
      const res = await api.app.inject({ url: "/api-error" });
      expect(res.statusCode).toBe(409);
      expect(errorOf(res)).toEqual({
        code: "IDENTITY_CONFLICT",
        message: "Already exists.",
        details: { id: "x", fields: ["a"] },
        requestId: expect.any(String),
      });
    });

    it("leaves details out when an ApiError has none", async ({ api }) => {
      const res = await api.app.inject({ url: "/teapot" });
      expect(res.statusCode).toBe(418);
      const error = errorOf(res);
      expect(error).toEqual({ code: "TEAPOT", message: "I am a teapot.", requestId: expect.any(String) });
      expect(error).not.toHaveProperty("details");
    });

    it("answers a body that fails the schema with 400 VALIDATION_FAILED naming each field", async ({
      api,
    }) => {
      const res = await api.app.inject({
        method: "POST",
        url: "/things/1",
        payload: { x: "a", y: { z: { not: "a string" } }, list: [{ n: 1 }, { n: "b" }] },
      });
      expect(res.statusCode).toBe(400);
      const error = errorOf(res);
      expect(error.code).toBe("VALIDATION_FAILED");
      expect(error.message).toBe("The request is invalid.");
      expect(error.details).toEqual(
        expect.arrayContaining([
          { field: "body.x", message: "must be integer" },
          { field: "body.y.z", message: "must be string" },
          { field: "body.list.1.n", message: "must be integer" },
        ]),
      );
      expect(error.details).toHaveLength(3);
    });

    it("names a missing property and an unexpected one", async ({ api }) => {
      const missing = await api.app.inject({ method: "POST", url: "/things/1", payload: { y: { z: "s" } } });
      expect(missing.statusCode).toBe(400);
      expect(errorOf(missing).details).toEqual([{ field: "body.x", message: expect.stringContaining("x") }]);

      const extra = await api.app.inject({
        method: "POST",
        url: "/things/1",
        payload: { x: 1, surprise: 2 },
      });
      expect(extra.statusCode).toBe(400);
      expect(errorOf(extra).details).toEqual([{ field: "body.surprise", message: expect.any(String) }]);
    });

    it("names querystring and params fields by their part of the request", async ({ api }) => {
      const query = await api.app.inject({ url: "/search?x=abc" });
      expect(query.statusCode).toBe(400);
      expect(errorOf(query)).toMatchObject({
        code: "VALIDATION_FAILED",
        details: [{ field: "querystring.x", message: "must be integer" }],
      });

      const params = await api.app.inject({ method: "POST", url: "/things/abc", payload: { x: 1 } });
      expect(params.statusCode).toBe(400);
      expect(errorOf(params).details).toEqual([{ field: "params.id", message: "must be integer" }]);
    });

    it.for<[string, string]>([
      ["GET", "/things/abc/"],
      ["GET", "/things/0/"],
      ["GET", "/things/99999999999/"],
      ["DELETE", "/things/1.5"],
      ["GET", "/records/0c6c7b5e-6d2a-4f0a-9d7e-3f3c1c1d2b01/parts/abc"],
    ])(
      "answers %s of a detail route with a malformed id as of an unknown one: 404 with Seed's detail (%s)",
      async ([method, url], { api }) => {
        const res = await api.app.inject({ method: method as "GET" | "DELETE", url });
        expect(res.statusCode).toBe(404);
        expect(errorOf(res)).toMatchObject({
          code: "NOT_FOUND",
          message: expect.stringContaining("not an id"),
        });
        expect(res.json().detail).toBe("Not found.");
      },
    );

    it("still answers an unknown id with its own 404, and other malformed parameters with a 400", async ({
      api,
    }) => {
      const unknown = await api.app.inject({ url: "/things/8/" });
      expect(unknown.statusCode).toBe(404);
      expect(unknown.json()).toMatchObject({ error: { code: "THING_NOT_FOUND" }, detail: "Not found." });
      expect((await api.app.inject({ url: "/things/7/" })).json()).toEqual({ id: 7 });
      // a parameter that is not the path's last (the record's id) names a field, as does a POST (an action)
      const part = await api.app.inject({ url: "/records/not-a-uuid/parts/1" });
      expect(part.statusCode).toBe(400);
      expect(errorOf(part).details).toEqual([{ field: "params.id", message: 'must match format "uuid"' }]);
      const post = await api.app.inject({ method: "POST", url: "/things/abc", payload: { x: 1 } });
      expect(errorOf(post)).toMatchObject({ code: "VALIDATION_FAILED", details: [{ field: "params.id" }] });
    });

    it("accepts a valid request (coercing the querystring and params)", async ({ api }) => {
      const res = await api.app.inject({ method: "POST", url: "/things/7?dry=true", payload: { x: 1 } });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ id: 7, body: { x: 1 } });
      expect((await api.app.inject({ url: "/search?x=5" })).json()).toEqual({ x: 5 });
    });

    it.for<[string, boolean]>([
      ["True", true],
      ["False", false],
      ["true", true],
      ["FALSE", false],
      ["1", true],
      ["0", false],
    ])(
      "reads a boolean query parameter as Seed's Python clients write it: %s",
      async ([spelled, value], { api }) => {
        const res = await api.app.inject({ url: `/flags?active=${spelled}&name=True` });
        expect(res.statusCode).toBe(200);
        // only parameters the schema declares boolean are read so; a string stays as sent
        expect(res.json()).toEqual({ active: value, name: "True" });
      },
    );

    it("still refuses a boolean query parameter that is none of those", async ({ api }) => {
      const res = await api.app.inject({ url: "/flags?active=maybe" });
      expect(res.statusCode).toBe(400);
      expect(errorOf(res).details).toEqual([{ field: "querystring.active", message: "must be boolean" }]);
    });

    it("refuses a query parameter the route does not declare with a 400 naming it, instead of ignoring it", async ({
      api,
    }) => {
      const res = await api.app.inject({ url: "/flags?active=true&stauts=failed&vumi_message_id=x" });
      expect(res.statusCode).toBe(400);
      expect(errorOf(res)).toMatchObject({
        code: "VALIDATION_FAILED",
        details: [
          { field: "querystring.stauts", message: "must NOT have additional properties" },
          { field: "querystring.vumi_message_id", message: "must NOT have additional properties" },
        ],
      });
    });

    it.for<[string, string]>([
      ["2026-01-01T10:00:00", "2026-01-01T10:00:00Z"],
      ["2026-01-01T10:00:00.250", "2026-01-01T10:00:00.250Z"],
      ["2026-01-01 10:00", "2026-01-01T10:00:00Z"],
      ["2026-01-01T10:00:00+02:00", "2026-01-01T10:00:00+02:00"],
    ])(
      "reads a date-time filter without an offset as UTC, as Seed did: %s",
      async ([sent, read], { api }) => {
        const res = await api.app.inject({ url: `/flags?after=${encodeURIComponent(sent)}` });
        expect(res.statusCode).toBe(200);
        expect(res.json()).toEqual({ after: read });
        expect(new Date(res.json().after).getTime()).toBe(new Date(read).getTime());
      },
    );

    it.for<[string, Record<string, string>, string]>([
      ["year 0000 in a date-time", { at: "0000-01-01T00:00:00Z" }, "body.at"],
      ["year 0000 once in UTC", { at: "0001-01-01T00:30:00+01:00" }, "body.at"],
      ["year 10000 once in UTC", { at: "9999-12-31T23:30:00-01:00" }, "body.at"],
      ["an offset JavaScript cannot read", { at: "2026-01-01T10:00:00+02" }, "body.at"],
      ["a leap second", { at: "2016-12-31T23:59:60Z" }, "body.at"],
      ["year 0000 in a date", { day: "0000-01-01" }, "body.day"],
    ])(
      "refuses a time Postgres or JavaScript cannot take with 400 naming the field, never a 500: %s",
      async ([, payload, field], { api }) => {
        const res = await api.app.inject({ method: "POST", url: "/dated", payload });
        expect(res.statusCode).toBe(400);
        expect(errorOf(res)).toMatchObject({
          code: "VALIDATION_FAILED",
          details: [{ field, message: expect.any(String) }],
        });
      },
    );

    it("refuses year 0000 in a date or date-time query parameter, and takes years 0001 to 9999", async ({
      api,
    }) => {
      const date = await api.app.inject({ method: "POST", url: "/dated?from=0000-01-01", payload: {} });
      expect(date.statusCode).toBe(400);
      expect(errorOf(date).details).toEqual([{ field: "querystring.from", message: expect.any(String) }]);
      const naive = await api.app.inject({ url: "/flags?after=0000-01-01T10:00:00" });
      expect(naive.statusCode).toBe(400);
      expect(errorOf(naive).details).toEqual([{ field: "querystring.after", message: expect.any(String) }]);

      const edges = { at: "0001-01-01T00:00:00Z", day: "9999-12-31" };
      const ok = await api.app.inject({ method: "POST", url: "/dated?from=0001-01-01", payload: edges });
      expect(ok.statusCode).toBe(200);
      expect(ok.json()).toEqual({ query: { from: "0001-01-01" }, body: edges });
      const last = await api.app.inject({ url: "/flags?after=9999-12-31T23:59:59.999Z" });
      expect(last.statusCode).toBe(200);
    });

    /** A request whose body is `payload` as it is, sent as `contentType`. */
    const withBody = (
      app: Api,
      method: "POST" | "DELETE",
      url: string,
      payload: string,
      contentType: string,
    ) => app.inject({ method, url, headers: { "content-type": contentType }, payload });
    const postJson = (app: Api, url: string, payload: string) =>
      withBody(app, "POST", url, payload, "application/json");

    it("takes an empty body sent as application/json as no body (Seed's client on every DELETE)", async ({
      api,
    }) => {
      const res = await withBody(api.app, "DELETE", "/things/7", "", "application/json");
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ deleted: true });
    });

    it("answers malformed JSON with 400 in the error shape", async ({ api }) => {
      const res = await postJson(api.app, "/things/1", '{"x": 1,');
      expect(res.statusCode).toBe(400);
      expect(errorOf(res)).toMatchObject({ code: "INVALID_BODY", message: expect.any(String) });
    });

    it("answers a body nested deeper than 32 levels with 400 BODY_TOO_DEEP before validation or the handler", async ({
      api,
    }) => {
      const before = api.runs.echoed;
      const deepArrays = await postJson(api.app, "/echo", nestedArrays(3000));
      expect(deepArrays.statusCode).toBe(400);
      expect(errorOf(deepArrays)).toMatchObject({
        code: "BODY_TOO_DEEP",
        details: [{ field: "body", message: expect.stringContaining("32") }],
      });
      const deepObjects = await postJson(
        api.app,
        "/things/1",
        `{"x": 1, "y": ${'{"z": '.repeat(3000)}"end"${"}".repeat(3000)}}`,
      );
      expect(deepObjects.statusCode).toBe(400);
      expect(errorOf(deepObjects).code).toBe("BODY_TOO_DEEP");
      expect((await postJson(api.app, "/echo", nestedArrays(33))).statusCode).toBe(400);
      expect(api.runs.echoed).toBe(before);
    });

    it("accepts 32 levels, brackets inside strings, and still refuses __proto__", async ({ api }) => {
      const atLimit = await postJson(api.app, "/echo", nestedArrays(32));
      expect(atLimit.statusCode).toBe(200);
      expect(JSON.stringify(atLimit.json().body)).toBe(nestedArrays(32));
      const text = `{"s": "${"[{".repeat(1000)}\\"]]"}`;
      const inString = await postJson(api.app, "/echo", text);
      expect(inString.statusCode).toBe(200);
      expect(inString.json().body).toEqual(JSON.parse(text));
      const poisoned = await postJson(api.app, "/echo", '{"__proto__": {"admin": true}}');
      expect(poisoned.statusCode).toBe(400);
      expect(errorOf(poisoned).code).toBe("INVALID_BODY");
    });

    it("answers an unsupported content type with 415 in the error shape", async ({ api }) => {
      const res = await withBody(api.app, "POST", "/things/1", "x\n1", "text/csv");
      expect(res.statusCode).toBe(415);
      expect(errorOf(res).code).toBe("INVALID_BODY");
    });

    it("answers an unknown route with 404 NOT_FOUND, without asking for a token", async ({ api }) => {
      const res = await api.app.inject({ method: "GET", url: "/api/v1/nothing/?secret=1" });
      expect(res.statusCode).toBe(404);
      expect(errorOf(res)).toEqual({
        code: "NOT_FOUND",
        message: "No route GET /api/v1/nothing/",
        requestId: expect.any(String),
      });
      // beside it, Django REST framework's body, which Seed's Python client reads
      expect(res.json().detail).toBe("Not found.");
      const wrongMethod = await api.app.inject({ method: "DELETE", url: "/whoami" });
      expect(wrongMethod.statusCode).toBe(404);
      expect(errorOf(wrongMethod).code).toBe("NOT_FOUND");
    });

    it("answers an unexpected error with 500 INTERNAL_ERROR without leaking it, and logs it", async ({
      api,
    }) => {
      const res = await api.app.inject({ url: "/boom" });
      expect(res.statusCode).toBe(500);
      const error = errorOf(res);
      expect(error).toEqual({
        code: "INTERNAL_ERROR",
        message: "Internal Server Error",
        requestId: expect.any(String),
      });
      expect(res.body).not.toContain("hunter2");
      expect(res.body).not.toContain("10.1.2.3");
      const logged = api.logs.map((l) => JSON.parse(l)).find((l) => l.msg === "unhandled error");
      expect(logged).toMatchObject({ level: 50, reqId: error.requestId });
      expect(logged.err.message).toContain("hunter2");
    });

    it("generates a uuid request id and returns it on every response", async ({ api }) => {
      const ok = await api.app.inject({ url: "/open" });
      expect(ok.statusCode).toBe(200);
      expect(ok.headers["x-request-id"]).toMatch(UUID);
      const err = await api.app.inject({ url: "/nope" });
      expect(errorOf(err).requestId).toMatch(UUID);
      expect(err.headers["x-request-id"]).not.toBe(ok.headers["x-request-id"]);
    });

    it("echoes a valid incoming x-request-id and replaces an invalid one", async ({ api }) => {
      const given = "req-1.abc_DEF";
      const res = await api.app.inject({ url: "/boom", headers: { "x-request-id": given } });
      expect(res.headers["x-request-id"]).toBe(given);
      expect(errorOf(res).requestId).toBe(given);

      for (const bad of ["has space", "x".repeat(129), "semi;colon", "<script>"]) {
        const replaced = await api.app.inject({ url: "/nope", headers: { "x-request-id": bad } });
        expect(replaced.headers["x-request-id"]).toMatch(UUID);
        expect(errorOf(replaced).requestId).toMatch(UUID);
      }
    });
  });
});
