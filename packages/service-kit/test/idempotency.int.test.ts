import type { AddressInfo } from "node:net";
import { waitFor } from "@tidings/testing";
import type { LightMyRequestResponse } from "fastify";
import Type from "typebox";
import { describe, expect } from "vitest";
import { TokenAuthenticator } from "../src/auth.ts";
import { ApiError } from "../src/errors.ts";
import { forgetIdempotencyKeys } from "../src/forget.ts";
import { pruneIdempotencyKeys } from "../src/idempotency.ts";
import type { Api } from "../src/routes.ts";
import { ADMIN, admin, buildTestApi, dbTest } from "./support.ts";

interface StoredKey {
  principal: string;
  path: string;
  status_code: number | null;
}

/** Holds each request to `/slow/` in its handler until the test lets it go. */
interface Gate {
  hold(): Promise<void>;
  release(): void;
}

interface IdempotencyFixtures {
  /** Handler runs per route: the effect the Idempotency-Key must not repeat. */
  runs: Map<string, number>;
  slow: Gate;
  /** An API with the routes below, listening on a local port, for the whole file. */
  app: Api;
  /** Where `app` listens. */
  base: string;
  /** POST as the admin unless `headers` say otherwise. */
  post(url: string, payload: unknown, headers?: Record<string, string>): Promise<LightMyRequestResponse>;
  /** The stored Idempotency-Keys named `key`. */
  storedKeys(key: string): Promise<StoredKey[]>;
}

const it = dbTest.extend<IdempotencyFixtures>({
  // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from its first parameter.
  runs: [async ({}, use) => use(new Map()), { scope: "file" }],
  slow: [
    // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from its first parameter.
    async ({}, use) => {
      let release: () => void = () => undefined;
      await use({
        hold: () =>
          new Promise<void>((resolve) => {
            release = resolve;
          }),
        release: () => release(),
      });
    },
    { scope: "file" },
  ],
  app: [
    async ({ db, runs, slow }, use) => {
      const ran = (route: string) => {
        const n = (runs.get(route) ?? 0) + 1;
        runs.set(route, n);
        return n;
      };
      let failNext = true;
      const app = await buildTestApi(db, (api) => {
        api.post(
          "/things/",
          { schema: { body: Type.Object({ name: Type.String() }, { additionalProperties: false }) } },
          async (request, reply) => reply.code(201).send({ run: ran("things"), name: request.body.name }),
        );
        api.post("/slow/", async (_request, reply) => {
          const run = ran("slow");
          await slow.hold();
          return reply.code(201).send({ run });
        });
        api.post("/missing/", async () => {
          ran("missing");
          throw new ApiError(404, "THING_NOT_FOUND", "No such thing.");
        });
        api.post("/flaky/", async (_request, reply) => {
          const run = ran("flaky");
          if (failNext) {
            failNext = false;
            throw new Error("database went away");
          }
          return reply.code(201).send({ run });
        });
        api.post("/not-a-creation/", { config: { idempotent: false } }, async () => ({
          run: ran("opt-out"),
        }));
      });
      try {
        await app.listen({ port: 0, host: "127.0.0.1" });
        await use(app);
      } finally {
        await app.close();
      }
    },
    { scope: "file" },
  ],
  base: [
    async ({ app }, use) => use(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}`),
    { scope: "file" },
  ],
  post: [
    async ({ app }, use) =>
      use((url, payload, headers = {}) =>
        app.inject({ method: "POST", url, payload: payload as object, headers: { ...admin, ...headers } }),
      ),
    { scope: "file" },
  ],
  storedKeys: [
    async ({ db }, use) =>
      use((key) =>
        db.$queryRawUnsafe<StoredKey[]>(
          "SELECT principal, path, status_code FROM tidings_idempotency_key WHERE key = $1 ORDER BY principal, path",
          key,
        ),
      ),
    { scope: "file" },
  ],
});

describe("Idempotency-Key", () => {
  it("replays the stored response for the same key and body, without running the handler again", async ({
    runs,
    post,
    storedKeys,
  }) => {
    const first = await post("/things/", { name: "a" }, { "idempotency-key": "replay-1" });
    expect(first.statusCode).toBe(201);
    expect(first.headers["idempotent-replayed"]).toBeUndefined();
    const again = await post("/things", { name: "a" }, { "idempotency-key": "replay-1" });
    expect(again.statusCode).toBe(201);
    expect(again.headers["idempotent-replayed"]).toBe("true");
    expect(again.headers["content-type"]).toContain("application/json");
    expect(again.json()).toEqual(first.json());
    expect(runs.get("things")).toBe(1);
    expect(await storedKeys("replay-1")).toEqual([{ principal: "admin", path: "/things", status_code: 201 }]);
  });

  it("treats the same JSON with its keys in another order as the same body", async ({ app, runs }) => {
    const before = runs.get("things") ?? 0;
    const first = await app.inject({
      method: "POST",
      url: "/things/",
      headers: { ...admin, "idempotency-key": "order-1", "content-type": "application/json" },
      payload: '{"name": "b"}',
    });
    const again = await app.inject({
      method: "POST",
      url: "/things/",
      headers: { ...admin, "idempotency-key": "order-1", "content-type": "application/json" },
      payload: '{ "name":"b" }',
    });
    expect(again.headers["idempotent-replayed"]).toBe("true");
    expect(again.json()).toEqual(first.json());
    expect(runs.get("things")).toBe(before + 1);
  });

  it("answers 422 for the same key with a different body, and changes nothing", async ({ runs, post }) => {
    const first = await post("/things/", { name: "c" }, { "idempotency-key": "mismatch-1" });
    const before = runs.get("things");
    const other = await post("/things/", { name: "d" }, { "idempotency-key": "mismatch-1" });
    expect(other.statusCode).toBe(422);
    expect(other.json()).toEqual({
      error: { code: "IDEMPOTENCY_KEY_REUSED", message: expect.any(String), requestId: expect.any(String) },
    });
    expect(runs.get("things")).toBe(before);
    const replay = await post("/things/", { name: "c" }, { "idempotency-key": "mismatch-1" });
    expect(replay.json()).toEqual(first.json());
  });

  it("runs exactly one of several concurrent requests with one key; the others get 409 while it runs", async ({
    base,
    runs,
    slow,
  }) => {
    const send = () =>
      fetch(`${base}/slow/`, {
        method: "POST",
        headers: { ...admin, "content-type": "application/json", "idempotency-key": "concurrent-1" },
        body: JSON.stringify({}),
      });
    const requests = Array.from({ length: 5 }, send);
    const settled: Response[] = [];
    for (const request of requests) {
      void request.then((res) => settled.push(res));
    }
    // Four are refused while the first is held in its handler; only then is it let go.
    await waitFor(() => settled.length === 4, { timeoutMs: 30_000, what: "four refused requests" });
    expect(settled.map((r) => r.status)).toEqual([409, 409, 409, 409]);
    for (const res of settled) {
      expect(await res.json()).toMatchObject({ error: { code: "IDEMPOTENCY_KEY_IN_USE" } });
    }
    expect(runs.get("slow")).toBe(1);
    slow.release();
    const responses = await Promise.all(requests);
    const winner = responses.find((r) => r.status === 201);
    expect(await winner?.json()).toEqual({ run: 1 });
    const replay = await send();
    expect(replay.status).toBe(201);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(await replay.json()).toEqual({ run: 1 });
    expect(runs.get("slow")).toBe(1);
  });

  it("stores and replays a 4xx from the handler", async ({ runs, post }) => {
    const first = await post("/missing/", {}, { "idempotency-key": "missing-1" });
    expect(first.statusCode).toBe(404);
    const again = await post("/missing/", {}, { "idempotency-key": "missing-1" });
    expect(again.statusCode).toBe(404);
    expect(again.headers["idempotent-replayed"]).toBe("true");
    expect(again.json().error.code).toBe("THING_NOT_FOUND");
    expect(runs.get("missing")).toBe(1);
  });

  it("releases the key after a 5xx, so a retry runs the handler", async ({ runs, post, storedKeys }) => {
    const first = await post("/flaky/", {}, { "idempotency-key": "flaky-1" });
    expect(first.statusCode).toBe(500);
    expect(await storedKeys("flaky-1")).toEqual([]);
    const retry = await post("/flaky/", {}, { "idempotency-key": "flaky-1" });
    expect(retry.statusCode).toBe(201);
    expect(retry.headers["idempotent-replayed"]).toBeUndefined();
    const replay = await post("/flaky/", {}, { "idempotency-key": "flaky-1" });
    expect(replay.headers["idempotent-replayed"]).toBe("true");
    expect(replay.json()).toEqual(retry.json());
    expect(runs.get("flaky")).toBe(2);
  });

  it("scopes keys to the principal and the path", async ({ db, runs, post, storedKeys }) => {
    const auth = new TokenAuthenticator(db, ADMIN);
    const alice = { authorization: `Token ${await auth.issueToken("alice-idem@example.org")}` };
    const bob = { authorization: `Token ${await auth.issueToken("bob-idem@example.org")}` };
    const before = runs.get("things") ?? 0;
    const a = await post("/things/", { name: "same" }, { ...alice, "idempotency-key": "shared-key" });
    const b = await post("/things/", { name: "same" }, { ...bob, "idempotency-key": "shared-key" });
    const c = await post("/things/", { name: "same" }, { "idempotency-key": "shared-key" });
    for (const res of [a, b, c]) {
      expect(res.statusCode).toBe(201);
      expect(res.headers["idempotent-replayed"]).toBeUndefined();
    }
    expect(runs.get("things")).toBe(before + 3);
    // Another path with the same key is another request.
    const missing = await post("/missing/", {}, { ...alice, "idempotency-key": "shared-key" });
    expect(missing.statusCode).toBe(404);
    expect(missing.headers["idempotent-replayed"]).toBeUndefined();
    const again = await post("/things/", { name: "same" }, { ...alice, "idempotency-key": "shared-key" });
    expect(again.headers["idempotent-replayed"]).toBe("true");
    expect(again.json()).toEqual(a.json());
    expect((await storedKeys("shared-key")).map((k) => `${k.principal} ${k.path}`)).toEqual([
      "admin /things",
      expect.stringMatching(/^user:\d+ \/missing$/),
      expect.stringMatching(/^user:\d+ \/things$/),
      expect.stringMatching(/^user:\d+ \/things$/),
    ]);
  });

  it("frees a key after 24 hours, and pruning forgets it", async ({ db, runs, post, storedKeys }) => {
    await post("/things/", { name: "old" }, { "idempotency-key": "expired-1" });
    await db.$executeRawUnsafe(
      "UPDATE tidings_idempotency_key SET created_at = now() - interval '25 hours' WHERE key = 'expired-1'",
    );
    const before = runs.get("things") ?? 0;
    const reused = await post("/things/", { name: "new" }, { "idempotency-key": "expired-1" });
    expect(reused.statusCode).toBe(201);
    expect(reused.headers["idempotent-replayed"]).toBeUndefined();
    expect(reused.json()).toMatchObject({ name: "new" });
    expect(runs.get("things")).toBe(before + 1);

    await post("/things/", { name: "x" }, { "idempotency-key": "expired-2" });
    await db.$executeRawUnsafe(
      "UPDATE tidings_idempotency_key SET created_at = now() - interval '25 hours' WHERE key = 'expired-2'",
    );
    expect(await pruneIdempotencyKeys(db)).toBeGreaterThanOrEqual(1);
    expect(await storedKeys("expired-2")).toEqual([]);
    expect(await storedKeys("expired-1")).toHaveLength(1);
  });

  it("a forget deletes the answers that hold one of the person's strings whole (case aside), and no others", async ({
    db,
    post,
  }) => {
    const names = {
      "forget-ann": "Ann@Example.org",
      "forget-jo": "joann@example.org",
      "forget-au": "ann@example.org.au",
      "forget-number": "+2782000100",
      "forget-longer-number": "+27820001001",
      "forget-escaped": 'an "odd" \\ one',
      "forget-within": "write to ann@example.org",
    };
    for (const [key, name] of Object.entries(names)) {
      expect((await post("/things/", { name }, { "idempotency-key": key })).statusCode).toBe(201);
    }
    // The needle is looked for as JSON writes it: quotes and backslashes escaped.
    const needles = ["ann@example.org", "+2782000100", 'an "odd" \\ one', ""];
    expect(await forgetIdempotencyKeys(db, needles)).toBe(3);
    const left = await db.$queryRawUnsafe<{ key: string }[]>(
      "SELECT key FROM tidings_idempotency_key WHERE key LIKE 'forget-%' ORDER BY key",
    );
    expect(left.map((k) => k.key)).toEqual([
      "forget-au",
      "forget-jo",
      "forget-longer-number",
      "forget-within",
    ]);
  });

  it("behaves as before without the header: every request runs, nothing is stored", async ({
    db,
    runs,
    post,
  }) => {
    const before = runs.get("things") ?? 0;
    const count = async () =>
      (await db.$queryRawUnsafe<{ n: number }[]>("SELECT count(*)::int AS n FROM tidings_idempotency_key"))[0]
        ?.n;
    const keys = await count();
    const first = await post("/things/", { name: "plain" });
    const second = await post("/things/", { name: "plain" });
    expect([first.statusCode, second.statusCode]).toEqual([201, 201]);
    expect(second.headers["idempotent-replayed"]).toBeUndefined();
    expect(second.json().run).toBe(first.json().run + 1);
    expect(runs.get("things")).toBe(before + 2);
    expect(await count()).toBe(keys);
  });

  it("rejects a malformed key with 400 before running anything", async ({ runs, post }) => {
    const before = runs.get("things") ?? 0;
    for (const bad of ["has space", "x".repeat(256), "tab\there"]) {
      const res = await post("/things/", { name: "a" }, { "idempotency-key": bad });
      expect(res.statusCode).toBe(400);
      expect(res.json().error).toMatchObject({
        code: "INVALID_IDEMPOTENCY_KEY",
        details: [{ field: "headers.idempotency-key", message: expect.any(String) }],
      });
    }
    expect(runs.get("things")).toBe(before);
    expect((await post("/things/", { name: "a" }, { "idempotency-key": "k".repeat(255) })).statusCode).toBe(
      201,
    );
  });

  it("ignores the header on a route that opts out, and on POST /api/v1/user/token/", async ({
    runs,
    post,
    storedKeys,
  }) => {
    await post("/not-a-creation/", {}, { "idempotency-key": "opt-out-1" });
    const again = await post("/not-a-creation/", {}, { "idempotency-key": "opt-out-1" });
    expect(again.headers["idempotent-replayed"]).toBeUndefined();
    expect(runs.get("opt-out")).toBe(2);
    const tokens = await Promise.all(
      [1, 2].map(() =>
        post("/api/v1/user/token/", { email: "twice-idem@example.org" }, { "idempotency-key": "tok" }),
      ),
    );
    expect(tokens.map((t) => t.statusCode)).toEqual([201, 201]);
    expect(tokens[0]?.json().token).not.toBe(tokens[1]?.json().token);
    expect(await storedKeys("tok")).toEqual([]);
  });
});
