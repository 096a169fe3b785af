import type { Broker, SqlExecutor } from "@tidings/amqp";
import pino from "pino";
import { Gauge } from "prom-client";
import Type from "typebox";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiDeps, buildApi } from "./app.ts";
import { digestToken } from "./auth.ts";
import { ApiError, conflict } from "./errors.ts";
import { loggerOptions } from "./logger.ts";
import { type Api, errorResponses, requireAdmin } from "./routes.ts";

const ADMIN = "admin-token-0123456789";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** An in-memory stand-in for the tables TokenAuthenticator uses, plus a switch to fail every query. */
class FakeDb implements SqlExecutor {
  users: { id: number; email: string; is_admin: boolean }[] = [];
  tokens = new Map<string, { userId: number; revoked: boolean }>();
  failing = false;
  queries: string[] = [];

  addUser(email: string, token: string, isAdmin = false): number {
    const id = this.users.length + 1;
    this.users.push({ id, email, is_admin: isAdmin });
    this.tokens.set(digestToken(token), { userId: id, revoked: false });
    return id;
  }

  async $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): Promise<T> {
    this.queries.push(query);
    if (this.failing) {
      throw new Error("connection refused");
    }
    if (query === "SELECT 1") {
      return [{ "?column?": 1 }] as T;
    }
    if (query.includes("INSERT INTO tidings_api_token")) {
      await this.$executeRawUnsafe(query, ...values);
      const userId = this.tokens.get(values[1] as string)?.userId;
      return [{ id: this.tokens.size, user_id: userId, created_at: new Date() }] as T;
    }
    const token = this.tokens.get(values[0] as string);
    const user = token && !token.revoked ? this.users.find((u) => u.id === token.userId) : undefined;
    return (user ? [{ id: user.id, is_admin: user.is_admin }] : []) as T;
  }

  async $executeRawUnsafe(query: string, ...values: unknown[]): Promise<number> {
    this.queries.push(query);
    const [email, digest] = values as [string, string];
    let user = this.users.find((u) => u.email === email);
    if (!user) {
      user = { id: this.users.length + 1, email, is_admin: false };
      this.users.push(user);
    }
    this.tokens.set(digest, { userId: user.id, revoked: false });
    return 1;
  }
}

const fakeBroker = (isConnected: boolean) => ({ isConnected }) as unknown as Broker;

interface TestApi {
  app: Api;
  db: FakeDb;
  logs: string[];
}

/** How many times POST /api/metrics/ ran the test API's scheduled metric. */
let scheduledRuns = 0;

/** How many requests /echo handled. */
let echoed = 0;

/** JSON text of `depth` nested arrays around `inner`. */
const nestedArrays = (depth: number, inner = "1") => `${"[".repeat(depth)}${inner}${"]".repeat(depth)}`;

/** buildApi with a fake database, a logger writing into `logs`, and a few routes to exercise it. */
async function testApi(deps: Partial<ApiDeps> = {}): Promise<TestApi> {
  const db = new FakeDb();
  const logs: string[] = [];
  const logger = pino(loggerOptions("svc", "info"), { write: (s: string) => void logs.push(s) });
  const app = await buildApi(
    { service: "svc", version: "1.2.3", logger, db, adminToken: ADMIN, ...deps },
    (app) => {
      const estimate = new Gauge({
        name: "svc_send_estimate",
        help: "a service's own gauge",
        registers: [app.metrics],
      });
      app.onScheduledMetrics(async () => {
        scheduledRuns++;
        estimate.set(7);
      });
      app.get("/whoami", async (request) => request.principal);
      app.get("/open", { config: { public: true } }, async (request) => ({ principal: request.principal }));
      app.get("/docsearch", async () => ({ ok: true }));
      app.get("/admin-only", async (request) => {
        requireAdmin(request);
        return { ok: true };
      });
      app.get(
        "/api-error",
        { config: { public: true }, schema: { response: { 200: Type.Object({}), ...errorResponses } } },
        async () => {
          throw conflict("IDENTITY_CONFLICT", "Already exists.", { id: "x", fields: ["a"] });
        },
      );
      app.get("/teapot", { config: { public: true } }, async () => {
        throw new ApiError(418, "TEAPOT", "I am a teapot.");
      });
      app.get("/boom", { config: { public: true } }, async () => {
        throw new Error("db password=hunter2 at 10.1.2.3 failed");
      });
      app.get(
        "/flags",
        {
          config: { public: true },
          schema: {
            querystring: Type.Object({
              active: Type.Optional(Type.Boolean()),
              name: Type.Optional(Type.String()),
              after: Type.Optional(Type.String({ format: "date-time" })),
            }),
          },
        },
        async (request) => request.query,
      );
      app.delete("/things/:id", { config: { public: true } }, async () => ({ deleted: true }));
      app.post(
        "/things/:id",
        {
          config: { public: true },
          schema: {
            params: Type.Object({ id: Type.Integer() }),
            querystring: Type.Object({ dry: Type.Optional(Type.Boolean()) }),
            body: Type.Object(
              {
                x: Type.Integer(),
                y: Type.Optional(Type.Object({ z: Type.String() })),
                list: Type.Optional(Type.Array(Type.Object({ n: Type.Integer() }))),
              },
              { additionalProperties: false },
            ),
          },
        },
        async (request) => ({ id: request.params.id, body: request.body }),
      );
      app.post(
        "/nullable",
        {
          config: { public: true },
          schema: {
            body: Type.Object({
              name: Type.Union([Type.String(), Type.Null()]),
              count: Type.Union([Type.Integer(), Type.Null()]),
            }),
          },
        },
        async (request) => request.body,
      );
      app.post("/echo", { config: { public: true } }, async (request) => {
        echoed++;
        return { body: request.body };
      });
      app.get(
        "/search",
        { config: { public: true }, schema: { querystring: Type.Object({ x: Type.Integer() }) } },
        async (request) => ({ x: request.query.x }),
      );
    },
  );
  return { app, db, logs };
}

/** Asserts the one error shape (and that requestId is the x-request-id header); returns the error. */
function errorOf(res: { statusCode: number; headers: Record<string, unknown>; json(): unknown }) {
  const body = res.json() as {
    error: { code: string; message: string; details?: unknown; requestId: string };
  };
  // a 404 also carries Seed's `detail` (Django REST framework's body), nothing else does
  expect(Object.keys(body)).toEqual(res.statusCode === 404 ? ["error", "detail"] : ["error"]);
  expect(typeof body.error.code).toBe("string");
  expect(typeof body.error.message).toBe("string");
  expect(body.error.requestId).toBeTruthy();
  expect(body.error.requestId).toBe(res.headers["x-request-id"]);
  return body.error;
}

describe("buildApi", () => {
  let t: TestApi;
  beforeAll(async () => {
    t = await testApi();
  });
  afterAll(async () => {
    await t?.app.close();
  });

  describe("error shape", () => {
    it("renders an ApiError with its status, code, message and details", async () => {
      const res = await t.app.inject({ url: "/api-error" });
      expect(res.statusCode).toBe(409);
      expect(errorOf(res)).toEqual({
        code: "IDENTITY_CONFLICT",
        message: "Already exists.",
        details: { id: "x", fields: ["a"] },
        requestId: expect.any(String),
      });
    });

    it("leaves details out when an ApiError has none", async () => {
      const res = await t.app.inject({ url: "/teapot" });
      expect(res.statusCode).toBe(418);
      const error = errorOf(res);
      expect(error).toEqual({ code: "TEAPOT", message: "I am a teapot.", requestId: expect.any(String) });
      expect(error).not.toHaveProperty("details");
    });

    it("answers a body that fails the schema with 400 VALIDATION_FAILED naming each field", async () => {
      const res = await t.app.inject({
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

    it("names a missing property and an unexpected one", async () => {
      const missing = await t.app.inject({ method: "POST", url: "/things/1", payload: { y: { z: "s" } } });
      expect(missing.statusCode).toBe(400);
      expect(errorOf(missing).details).toEqual([{ field: "body.x", message: expect.stringContaining("x") }]);

      const extra = await t.app.inject({ method: "POST", url: "/things/1", payload: { x: 1, surprise: 2 } });
      expect(extra.statusCode).toBe(400);
      expect(errorOf(extra).details).toEqual([{ field: "body.surprise", message: expect.any(String) }]);
    });

    it("names querystring and params fields by their part of the request", async () => {
      const query = await t.app.inject({ url: "/search?x=abc" });
      expect(query.statusCode).toBe(400);
      expect(errorOf(query)).toMatchObject({
        code: "VALIDATION_FAILED",
        details: [{ field: "querystring.x", message: "must be integer" }],
      });

      const params = await t.app.inject({ method: "POST", url: "/things/abc", payload: { x: 1 } });
      expect(params.statusCode).toBe(400);
      expect(errorOf(params).details).toEqual([{ field: "params.id", message: "must be integer" }]);
    });

    it("accepts a valid request (coercing the querystring and params)", async () => {
      const res = await t.app.inject({ method: "POST", url: "/things/7?dry=true", payload: { x: 1 } });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ id: 7, body: { x: 1 } });
      expect((await t.app.inject({ url: "/search?x=5" })).json()).toEqual({ x: 5 });
    });

    it.each([
      ["True", true],
      ["False", false],
      ["true", true],
      ["FALSE", false],
      ["1", true],
      ["0", false],
    ])("reads a boolean query parameter as Seed's Python clients write it: %s", async (spelled, value) => {
      const res = await t.app.inject({ url: `/flags?active=${spelled}&name=True` });
      expect(res.statusCode).toBe(200);
      // only parameters the schema declares boolean are read so; a string stays as sent
      expect(res.json()).toEqual({ active: value, name: "True" });
    });

    it("still refuses a boolean query parameter that is none of those", async () => {
      const res = await t.app.inject({ url: "/flags?active=maybe" });
      expect(res.statusCode).toBe(400);
      expect(errorOf(res).details).toEqual([{ field: "querystring.active", message: "must be boolean" }]);
    });

    it("refuses a query parameter the route does not declare with a 400 naming it, instead of ignoring it", async () => {
      const res = await t.app.inject({ url: "/flags?active=true&stauts=failed&vumi_message_id=x" });
      expect(res.statusCode).toBe(400);
      expect(errorOf(res)).toMatchObject({
        code: "VALIDATION_FAILED",
        details: [
          { field: "querystring.stauts", message: "must NOT have additional properties" },
          { field: "querystring.vumi_message_id", message: "must NOT have additional properties" },
        ],
      });
    });

    it.each([
      ["2026-01-01T10:00:00", "2026-01-01T10:00:00Z"],
      ["2026-01-01T10:00:00.250", "2026-01-01T10:00:00.250Z"],
      ["2026-01-01 10:00", "2026-01-01T10:00:00Z"],
      ["2026-01-01T10:00:00+02:00", "2026-01-01T10:00:00+02:00"],
    ])("reads a date-time filter without an offset as UTC, as Seed did: %s", async (sent, read) => {
      const res = await t.app.inject({ url: `/flags?after=${encodeURIComponent(sent)}` });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ after: read });
      expect(new Date(res.json().after).getTime()).toBe(new Date(read).getTime());
    });

    it("takes an empty body sent as application/json as no body (Seed's client on every DELETE)", async () => {
      const res = await t.app.inject({
        method: "DELETE",
        url: "/things/7",
        headers: { "content-type": "application/json" },
        payload: "",
      });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ deleted: true });
    });

    it("answers malformed JSON with 400 in the error shape", async () => {
      const res = await t.app.inject({
        method: "POST",
        url: "/things/1",
        headers: { "content-type": "application/json" },
        payload: '{"x": 1,',
      });
      expect(res.statusCode).toBe(400);
      expect(errorOf(res)).toMatchObject({ code: "INVALID_BODY", message: expect.any(String) });
    });

    const postJson = (url: string, payload: string) =>
      t.app.inject({ method: "POST", url, headers: { "content-type": "application/json" }, payload });

    it("answers a body nested deeper than 32 levels with 400 BODY_TOO_DEEP before validation or the handler", async () => {
      const before = echoed;
      const deepArrays = await postJson("/echo", nestedArrays(3000));
      expect(deepArrays.statusCode).toBe(400);
      expect(errorOf(deepArrays)).toMatchObject({
        code: "BODY_TOO_DEEP",
        details: [{ field: "body", message: expect.stringContaining("32") }],
      });
      const deepObjects = await postJson(
        "/things/1",
        `{"x": 1, "y": ${'{"z": '.repeat(3000)}"end"${"}".repeat(3000)}}`,
      );
      expect(deepObjects.statusCode).toBe(400);
      expect(errorOf(deepObjects).code).toBe("BODY_TOO_DEEP");
      expect((await postJson("/echo", nestedArrays(33))).statusCode).toBe(400);
      expect(echoed).toBe(before);
    });

    it("accepts 32 levels, brackets inside strings, and still refuses __proto__", async () => {
      const atLimit = await postJson("/echo", nestedArrays(32));
      expect(atLimit.statusCode).toBe(200);
      expect(JSON.stringify(atLimit.json().body)).toBe(nestedArrays(32));
      const text = `{"s": "${"[{".repeat(1000)}\\"]]"}`;
      const inString = await postJson("/echo", text);
      expect(inString.statusCode).toBe(200);
      expect(inString.json().body).toEqual(JSON.parse(text));
      const poisoned = await postJson("/echo", '{"__proto__": {"admin": true}}');
      expect(poisoned.statusCode).toBe(400);
      expect(errorOf(poisoned).code).toBe("INVALID_BODY");
    });

    it("answers an unsupported content type with 415 in the error shape", async () => {
      const res = await t.app.inject({
        method: "POST",
        url: "/things/1",
        headers: { "content-type": "text/csv" },
        payload: "x\n1",
      });
      expect(res.statusCode).toBe(415);
      expect(errorOf(res).code).toBe("INVALID_BODY");
    });

    it("answers an unknown route with 404 NOT_FOUND, without asking for a token", async () => {
      const res = await t.app.inject({ method: "GET", url: "/api/v1/nothing/?secret=1" });
      expect(res.statusCode).toBe(404);
      expect(errorOf(res)).toEqual({
        code: "NOT_FOUND",
        message: "No route GET /api/v1/nothing/",
        requestId: expect.any(String),
      });
      // beside it, Django REST framework's body, which Seed's Python client reads
      expect(res.json().detail).toBe("Not found.");
      const wrongMethod = await t.app.inject({ method: "DELETE", url: "/whoami" });
      expect(wrongMethod.statusCode).toBe(404);
      expect(errorOf(wrongMethod).code).toBe("NOT_FOUND");
    });

    it("answers an unexpected error with 500 INTERNAL_ERROR without leaking it, and logs it", async () => {
      const res = await t.app.inject({ url: "/boom" });
      expect(res.statusCode).toBe(500);
      const error = errorOf(res);
      expect(error).toEqual({
        code: "INTERNAL_ERROR",
        message: "Internal Server Error",
        requestId: expect.any(String),
      });
      expect(res.body).not.toContain("hunter2");
      expect(res.body).not.toContain("10.1.2.3");
      const logged = t.logs.map((l) => JSON.parse(l)).find((l) => l.msg === "unhandled error");
      expect(logged).toMatchObject({ level: 50, reqId: error.requestId });
      expect(logged.err.message).toContain("hunter2");
    });

    it("generates a uuid request id and returns it on every response", async () => {
      const ok = await t.app.inject({ url: "/open" });
      expect(ok.statusCode).toBe(200);
      expect(ok.headers["x-request-id"]).toMatch(UUID);
      const err = await t.app.inject({ url: "/nope" });
      expect(errorOf(err).requestId).toMatch(UUID);
      expect(err.headers["x-request-id"]).not.toBe(ok.headers["x-request-id"]);
    });

    it("echoes a valid incoming x-request-id and replaces an invalid one", async () => {
      const given = "req-1.abc_DEF";
      const res = await t.app.inject({ url: "/boom", headers: { "x-request-id": given } });
      expect(res.headers["x-request-id"]).toBe(given);
      expect(errorOf(res).requestId).toBe(given);

      for (const bad of ["has space", "x".repeat(129), "semi;colon", "<script>"]) {
        const replaced = await t.app.inject({ url: "/nope", headers: { "x-request-id": bad } });
        expect(replaced.headers["x-request-id"]).toMatch(UUID);
        expect(errorOf(replaced).requestId).toMatch(UUID);
      }
    });
  });

  describe("auth", () => {
    it("answers a missing Authorization header with 401 UNAUTHENTICATED", async () => {
      const res = await t.app.inject({ url: "/whoami" });
      expect(res.statusCode).toBe(401);
      expect(errorOf(res).code).toBe("UNAUTHENTICATED");
      const malformed = await t.app.inject({ url: "/whoami", headers: { authorization: "Basic abc" } });
      expect(malformed.statusCode).toBe(401);
      expect(errorOf(malformed).code).toBe("UNAUTHENTICATED");
    });

    it.each(["Token", "Bearer", "token"])("accepts the admin token as '%s <token>'", async (scheme) => {
      const res = await t.app.inject({ url: "/whoami", headers: { authorization: `${scheme} ${ADMIN}` } });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ userId: null, isAdmin: true, keyKind: "live", allowList: [] });
    });

    it("answers an unknown token with 401 INVALID_TOKEN", async () => {
      const res = await t.app.inject({
        url: "/whoami",
        headers: { authorization: "Token not-a-real-token" },
      });
      expect(res.statusCode).toBe(401);
      expect(errorOf(res)).toMatchObject({ code: "INVALID_TOKEN", message: "Invalid token." });
    });

    it("resolves a user's token to that user", async () => {
      const id = t.db.addUser("user@example.org", "user-token-1");
      const res = await t.app.inject({ url: "/whoami", headers: { authorization: "Token user-token-1" } });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ userId: id, isAdmin: false, keyKind: "live", allowList: [] });
    });

    it("needs no token on routes marked public, /api/health/ and /docs", async () => {
      const open = await t.app.inject({ url: "/open" });
      expect(open.statusCode).toBe(200);
      expect(open.json()).toEqual({ principal: null });
      expect((await t.app.inject({ url: "/api/health/" })).statusCode).toBe(200);
      expect((await t.app.inject({ url: "/api/health" })).statusCode).toBe(200);
      const docs = await t.app.inject({ url: "/docs" });
      expect(docs.statusCode).toBe(200);
      expect(docs.headers["content-type"]).toContain("text/html");
      const spec = await t.app.inject({ url: "/docs/json" });
      expect(spec.statusCode).toBe(200);
      expect(spec.json()).toMatchObject({ openapi: expect.any(String), info: { title: "Tidings svc" } });
    });

    it("still asks for a token on a service route whose path merely starts with /docs", async () => {
      const res = await t.app.inject({ url: "/docsearch" });
      expect(res.statusCode).toBe(401);
    });

    it("answers requireAdmin for a non-admin principal with 403 FORBIDDEN", async () => {
      t.db.addUser("plain@example.org", "plain-token");
      const res = await t.app.inject({ url: "/admin-only", headers: { authorization: "Token plain-token" } });
      expect(res.statusCode).toBe(403);
      expect(errorOf(res).code).toBe("FORBIDDEN");
      const admin = await t.app.inject({ url: "/admin-only", headers: { authorization: `Token ${ADMIN}` } });
      expect(admin.statusCode).toBe(200);
    });

    it("lets a database user marked admin pass requireAdmin", async () => {
      const id = t.db.addUser("boss@example.org", "boss-token", true);
      const res = await t.app.inject({ url: "/admin-only", headers: { authorization: "Token boss-token" } });
      expect(res.statusCode).toBe(200);
      const who = await t.app.inject({ url: "/whoami", headers: { authorization: "Token boss-token" } });
      expect(who.json()).toEqual({ userId: id, isAdmin: true, keyKind: "live", allowList: [] });
    });
  });

  describe("POST /api/v1/user/token/", () => {
    it("issues a token for the admin that then authenticates as the (lower-cased) user", async () => {
      const res = await t.app.inject({
        method: "POST",
        url: "/api/v1/user/token/",
        headers: { authorization: `Token ${ADMIN}` },
        payload: { email: "New.User@Example.org" },
      });
      expect(res.statusCode).toBe(201);
      const { token } = res.json() as { token: string };
      expect(token).toMatch(/^tdg_[A-Za-z0-9_-]{43}$/);
      const user = t.db.users.find((u) => u.email === "new.user@example.org");
      expect(user).toBeDefined();
      expect(t.db.tokens.get(digestToken(token))?.userId).toBe(user?.id);
      const who = await t.app.inject({ url: "/whoami", headers: { authorization: `Bearer ${token}` } });
      expect(who.json()).toEqual({ userId: user?.id, isAdmin: false, keyKind: "live", allowList: [] });
    });

    it("refuses a non-admin with 403 and a bad email with 400", async () => {
      t.db.addUser("someone@example.org", "someone-token");
      const forbidden = await t.app.inject({
        method: "POST",
        url: "/api/v1/user/token/",
        headers: { authorization: "Token someone-token" },
        payload: { email: "x@example.org" },
      });
      expect(forbidden.statusCode).toBe(403);
      expect(errorOf(forbidden).code).toBe("FORBIDDEN");
      const bad = await t.app.inject({
        method: "POST",
        url: "/api/v1/user/token/",
        headers: { authorization: `Token ${ADMIN}` },
        payload: { email: "not-an-email" },
      });
      expect(bad.statusCode).toBe(400);
      expect(errorOf(bad)).toMatchObject({ code: "VALIDATION_FAILED", details: [{ field: "body.email" }] });
    });
  });

  describe("GET /metrics", () => {
    it("returns Prometheus text with the request durations", async () => {
      await t.app.inject({ url: "/open" });
      const res = await t.app.inject({ url: "/metrics" });
      expect(res.statusCode).toBe(200);
      expect(res.headers["content-type"]).toContain("text/plain");
      expect(res.body).toContain("# TYPE http_request_duration_seconds histogram");
      const counts = res.body.split("\n").filter((l) => l.startsWith("http_request_duration_seconds_count{"));
      const count = (...labels: string[]) =>
        counts.find((l) => labels.every((label) => l.includes(label)))?.split(" ")[1];
      expect(Number(count('route="/open"', 'method="GET"', 'status="200"', 'service="svc"'))).toBeGreaterThan(
        0,
      );
      // Unknown paths share one label, so they cannot blow up the series count.
      expect(Number(count('route="unmatched"', 'status="404"'))).toBeGreaterThan(0);
      expect(counts.some((l) => l.includes("/api/v1/nothing"))).toBe(false);
      expect(res.body).toContain("process_cpu_user_seconds_total");
    });

    it("is refused with 403 when X-Forwarded-For lists several hops", async () => {
      const res = await t.app.inject({
        url: "/metrics",
        headers: { "x-forwarded-for": "203.0.113.9, 10.0.0.2" },
      });
      expect(res.statusCode).toBe(403);
      expect(errorOf(res).code).toBe("FORBIDDEN");
      const oneHop = await t.app.inject({ url: "/metrics", headers: { "x-forwarded-for": "10.0.0.2" } });
      expect(oneHop.statusCode).toBe(200);
    });
  });
});

describe("/api/metrics/ (Seed's, polled by its Control Interface)", () => {
  let t: TestApi;
  beforeAll(async () => {
    t = await testApi();
  });
  afterAll(async () => {
    await t?.app.close();
  });
  // The headers Seed's Control Interface service sends (requests, a service token).
  const seedHeaders = { authorization: `Token ${ADMIN}`, "content-type": "application/json" };

  it("GET lists the names of the service's Prometheus metrics, its own among them", async () => {
    const res = await t.app.inject({ method: "GET", url: "/api/metrics/", headers: seedHeaders });
    expect(res.statusCode).toBe(200);
    const { metrics_available } = res.json() as { metrics_available: string[] };
    expect(Object.keys(res.json())).toEqual(["metrics_available"]);
    expect(metrics_available).toEqual(
      expect.arrayContaining(["http_request_duration_seconds", "svc_send_estimate"]),
    );
    expect(metrics_available).toContain("process_cpu_user_seconds_total");
  });

  it("POST runs the service's scheduled metrics and answers 201", async () => {
    const before = scheduledRuns;
    const res = await t.app.inject({ method: "POST", url: "/api/metrics/", headers: seedHeaders });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual({ scheduled_metrics_initiated: true });
    expect(scheduledRuns).toBe(before + 1);
    expect((await t.app.inject({ url: "/metrics" })).body).toContain('svc_send_estimate{service="svc"} 7');
  });

  it("needs a token, as the other routes do", async () => {
    for (const method of ["GET", "POST"] as const) {
      const res = await t.app.inject({ method, url: "/api/metrics" });
      expect(res.statusCode).toBe(401);
    }
  });
});

describe("request validation", () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await testApi();
  });
  afterAll(() => api.app.close());

  it("takes JSON bodies as sent: null stays null, 0 stays 0, and a string is not a number", async () => {
    const post = (payload: object) => api.app.inject({ method: "POST", url: "/nullable", payload });
    expect((await post({ name: null, count: 0 })).json()).toEqual({ name: null, count: 0 });
    expect((await post({ name: "", count: null })).json()).toEqual({ name: "", count: null });
    const wrong = await post({ name: "a", count: "5" });
    expect(wrong.statusCode).toBe(400);
    expect(errorOf(wrong).details).toEqual([{ field: "body.count", message: "must be integer or null" }]);
  });

  it("coerces query strings and path parameters, which are always text", async () => {
    const res = await api.app.inject({ method: "POST", url: "/things/7?dry=true", payload: { x: 1 } });
    expect(res.json()).toEqual({ id: 7, body: { x: 1 } });
    expect((await api.app.inject({ url: "/search?x=42" })).json()).toEqual({ x: 42 });
  });
});

describe("request logs", () => {
  it("log the path and query parameter names, never their values", async () => {
    const api = await testApi();
    try {
      await api.app.inject({ url: "/search?x=1&details__addresses__msisdn=%2B27820001001&email=a%40b.org" });
      const incoming = api.logs.map((l) => JSON.parse(l)).find((l) => l.msg === "incoming request");
      expect(incoming.req.url).toBe(
        "/search?x=[redacted]&details__addresses__msisdn=[redacted]&email=[redacted]",
      );
      expect(api.logs.join("\n")).not.toMatch(/27820001001|a%40b\.org|a@b\.org/);
    } finally {
      await api.app.close();
    }
  });
});

describe("GET /api/health/", () => {
  const health = async (deps: Partial<ApiDeps>, setup?: (db: FakeDb) => void) => {
    const t = await testApi(deps);
    setup?.(t.db);
    try {
      const res = await t.app.inject({ url: "/api/health/" });
      return { status: res.statusCode, body: res.json(), queries: t.db.queries };
    } finally {
      await t.app.close();
    }
  };

  it("is 200 and up when the database answers and the broker is connected", async () => {
    const res = await health({ broker: fakeBroker(true) });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      up: true,
      result: { database: "Accessible", broker: "Connected", version: "1.2.3" },
    });
    expect(res.queries).toEqual(["SELECT 1"]);
  });

  it("is 503 and down when the database query fails", async () => {
    const res = await health({ broker: fakeBroker(true) }, (db) => {
      db.failing = true;
    });
    expect(res.status).toBe(503);
    expect(res.body).toEqual({
      up: false,
      result: { database: "Inaccessible", broker: "Connected", version: "1.2.3" },
    });
  });

  it("is 503 and down when the broker is disconnected", async () => {
    const res = await health({ broker: fakeBroker(false) });
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ up: false, result: { database: "Accessible", broker: "Disconnected" } });
  });

  it("reports a missing broker as not configured and stays up", async () => {
    const res = await health({});
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ up: true, result: { broker: "Not configured" } });
  });
});

describe("without ADMIN_TOKEN", () => {
  it("has no admin: no token is admin, not even an empty one", async () => {
    const t = await testApi({ adminToken: undefined });
    try {
      for (const header of [`Token ${ADMIN}`, "Token undefined", "Token "]) {
        const res = await t.app.inject({ url: "/whoami", headers: { authorization: header } });
        expect(res.statusCode, header).toBe(401);
      }
    } finally {
      await t.app.close();
    }
  });
});
