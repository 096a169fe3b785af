import type { Broker, SqlExecutor } from "@tidings/amqp";
import pino from "pino";
import { Gauge } from "prom-client";
import Type from "typebox";
import { expect, test } from "vitest";
import { type ApiDeps, buildApi } from "../src/app.ts";
import { digestToken } from "../src/auth.ts";
import { ApiError, conflict, notFound } from "../src/errors.ts";
import { loggerOptions } from "../src/logger.ts";
import { type Api, errorResponses, requireAdmin } from "../src/routes.ts";

export const ADMIN = "admin-token-0123456789";

/** POST /api/v1/user/token/ for `email`, as `authorization` (the admin's token unless given). */
export const requestToken = (app: Api, email: string, authorization = `Token ${ADMIN}`) =>
  app.inject({ method: "POST", url: "/api/v1/user/token/", headers: { authorization }, payload: { email } });

/** An in-memory stand-in for the tables TokenAuthenticator uses, plus a switch to fail every query. */
export class FakeDb implements SqlExecutor {
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

export const fakeBroker = (isConnected: boolean) => ({ isConnected }) as unknown as Broker;

export interface TestApi {
  app: Api;
  db: FakeDb;
  logs: string[];
  /** How many times POST /api/metrics/ ran the scheduled metric, and how many requests /echo handled. */
  runs: { scheduled: number; echoed: number };
}

/** buildApi with a fake database, a logger writing into `logs`, and a few routes to exercise it. */
export async function testApi(deps: Partial<ApiDeps> = {}): Promise<TestApi> {
  const db = new FakeDb();
  const logs: string[] = [];
  const runs = { scheduled: 0, echoed: 0 };
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
        runs.scheduled++;
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
              identity: Type.Optional(Type.String({ format: "uuid" })),
            }),
          },
        },
        async (request) => request.query,
      );
      const thingParams = Type.Object({ id: Type.Integer({ minimum: 1, maximum: 2147483647 }) });
      app.get(
        "/things/:id/",
        { config: { public: true }, schema: { params: thingParams } },
        async (request) => {
          if (request.params.id !== 7) {
            throw notFound("THING_NOT_FOUND", `Thing ${request.params.id} not found`);
          }
          return { id: 7 };
        },
      );
      app.delete("/things/:id", { config: { public: true }, schema: { params: thingParams } }, async () => ({
        deleted: true,
      }));
      app.get(
        "/records/:id/parts/:part",
        {
          config: { public: true },
          schema: { params: Type.Object({ id: Type.String({ format: "uuid" }), part: Type.Integer() }) },
        },
        async (request) => request.params,
      );
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
      app.post(
        "/dated",
        {
          config: { public: true },
          schema: {
            querystring: Type.Object({ from: Type.Optional(Type.String({ format: "date" })) }),
            body: Type.Object({
              at: Type.Optional(Type.String({ format: "date-time" })),
              day: Type.Optional(Type.String({ format: "date" })),
            }),
          },
        },
        async (request) => ({ query: request.query, body: request.body }),
      );
      app.post("/echo", { config: { public: true } }, async (request) => {
        runs.echoed++;
        return { body: request.body };
      });
      app.get(
        "/search",
        { config: { public: true }, schema: { querystring: Type.Object({ x: Type.Integer() }) } },
        async (request) => ({ x: request.query.x }),
      );
    },
  );
  return { app, db, logs, runs };
}

/** Asserts the one error shape (and that requestId is the x-request-id header); returns the error. */
export function errorOf(res: { statusCode: number; headers: Record<string, unknown>; json(): unknown }) {
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

export interface FakeApiFixtures {
  /** A `testApi()` shared by the file's tests, closed after its last one. */
  api: TestApi;
  /** Builds a `testApi(deps)` of the test's own, closed after it. */
  makeApi(deps?: Partial<ApiDeps>): Promise<TestApi>;
}

/** The `it` of a test file on `buildApi` with a fake database: its tests take `{ api, makeApi }`. */
export const fakeApiTest = test.extend<FakeApiFixtures>({
  api: [
    // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from its first parameter.
    async ({}, use) => {
      const api = await testApi();
      try {
        await use(api);
      } finally {
        await api.app.close();
      }
    },
    { scope: "file" },
  ],
  // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from its first parameter.
  makeApi: async ({}, use) => {
    const built: TestApi[] = [];
    try {
      await use(async (deps) => {
        const api = await testApi(deps);
        built.push(api);
        return api;
      });
    } finally {
      await Promise.all(built.map((api) => api.app.close()));
    }
  },
});
