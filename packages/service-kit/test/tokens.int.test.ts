import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { digestToken } from "../src/auth.ts";
import type { Api } from "../src/routes.ts";
import { type ApiPair, admin, startApiPair } from "./api-pair.ts";

let pair: ApiPair;
let db: ApiPair["db"];
/** Two API processes on one database, each with its authentication cache, hearing revocations. */
let apis: ApiPair["apis"];

beforeAll(async () => {
  pair = await startApiPair({ watchRevocations: true });
  ({ db, apis } = pair);
});
afterAll(async () => {
  await pair?.close();
});

const issue = (payload: Record<string, unknown>) => pair.issue(payload);
const issued = async (payload: Record<string, unknown>) => {
  const res = await issue(payload);
  expect(res.statusCode).toBe(201);
  return res.json() as { token: string; id: number; user: number; prefix: string; expires_at: string | null };
};
const whoami = (token: string, app: Api) => pair.whoami(token, app);
const revoke = (id: number | string, app: Api = apis[0], headers: Record<string, string> = admin) =>
  app.inject({ method: "DELETE", url: `/api/v1/user/tokens/${id}/`, headers });
const list = (query = "", headers: Record<string, string> = admin) =>
  apis[1].inject({ url: `/api/v1/user/tokens/${query}`, headers: { ...headers, host: "api.test" } });
const userCount = (email: string) => pair.userCount(email);

describe("expiry on issue", () => {
  it("takes expires_in (seconds) or expires_at, and answers them back", async () => {
    const before = Date.now();
    const inAnHour = await issued({ email: "expiring@example.org", expires_in: 3600 });
    const at = Date.parse(inAnHour.expires_at as string);
    expect(at).toBeGreaterThanOrEqual(before + 3_600_000 - 1000);
    expect(at).toBeLessThanOrEqual(Date.now() + 3_600_000 + 1000);
    const fixed = new Date(Date.now() + 86_400_000).toISOString();
    expect((await issued({ email: "expiring@example.org", expires_at: fixed })).expires_at).toBe(fixed);
    expect((await issued({ email: "expiring@example.org" })).expires_at).toBeNull();
  });

  it("refuses both at once, a past or malformed expires_at and a bad expires_in with 400, storing nothing", async () => {
    const future = new Date(Date.now() + 60_000).toISOString();
    const cases: [Record<string, unknown>, string][] = [
      [{ expires_at: future, expires_in: 60 }, "body.expires_in"],
      [{ expires_at: "2001-01-01T00:00:00Z" }, "body.expires_at"],
      [{ expires_at: "tomorrow" }, "body.expires_at"],
      [{ expires_in: 0 }, "body.expires_in"],
      [{ expires_in: "60" }, "body.expires_in"],
    ];
    for (const [body, field] of cases) {
      const res = await issue({ email: "never-issued@example.org", ...body });
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().error).toMatchObject({ code: "VALIDATION_FAILED", requestId: expect.any(String) });
      expect(res.json().error.details).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
    }
    expect(await userCount("never-issued@example.org")).toBe(0);
  });

  it("refuses an expired token (401) in every process, even one that had it cached", async () => {
    const { token } = await issued({ email: "short-lived@example.org", expires_in: 1 });
    expect((await whoami(token, apis[0])).statusCode).toBe(200);
    expect((await whoami(token, apis[1])).statusCode).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    for (const app of apis) {
      const res = await whoami(token, app);
      expect(res.statusCode).toBe(401);
      expect(res.json().error.code).toBe("INVALID_TOKEN");
    }
  });
});

describe("GET /api/v1/user/tokens/", () => {
  it("lists id, prefix, email, kind, limits and times, never the token or its digest", async () => {
    const team = await issued({
      email: "Lister@Example.org",
      kind: "team",
      allow_list: ["+27820001001"],
      rate_limit: 5,
      daily_limit: 100,
      expires_in: 600,
    });
    expect(team.token.startsWith(team.prefix)).toBe(true);
    expect(team.prefix).toHaveLength(12);
    // the API user's id, which an admin names as a hook's `owner`
    expect(team.user).toEqual(expect.any(Number));
    const res = await list("?email=lister@example.org");
    expect(res.statusCode).toBe(200);
    expect(res.body).not.toContain(team.token);
    expect(res.body).not.toContain(digestToken(team.token));
    expect(res.json()).toEqual({
      count: 1,
      next: null,
      previous: null,
      results: [
        {
          id: team.id,
          prefix: team.prefix,
          user: team.user,
          email: "lister@example.org",
          kind: "team",
          allow_list: ["+27820001001"],
          rate_limit: 5,
          daily_limit: 100,
          created_at: expect.any(String),
          expires_at: team.expires_at,
          revoked_at: null,
        },
      ],
    });
  });

  it("pages with limit and offset", async () => {
    await issued({ email: "pager@example.org" });
    await issued({ email: "pager@example.org" });
    const first = (await list("?email=pager@example.org&limit=1")).json();
    expect(first).toMatchObject({ count: 2, previous: null });
    expect(first.next).toBe("http://api.test/api/v1/user/tokens/?email=pager%40example.org&limit=1&offset=1");
    const second = (await list("?email=pager@example.org&limit=1&offset=1")).json();
    expect(second.results[0].id).toBeGreaterThan(first.results[0].id);
  });

  it("is admin only", async () => {
    const { token, id } = await issued({ email: "plain@example.org" });
    const headers = { authorization: `Token ${token}` };
    expect((await list("", headers)).statusCode).toBe(403);
    expect((await list("", {})).statusCode).toBe(401);
    expect((await revoke(id, apis[0], headers)).statusCode).toBe(403);
    expect((await whoami(token, apis[0])).statusCode).toBe(200);
  });
});

describe("DELETE /api/v1/user/tokens/{id}/", () => {
  it("is refused at once by another API process that had the token cached", async () => {
    for (let i = 0; i < 20; i++) {
      const { token, id } = await issued({ email: `revoked-${i}@example.org` });
      expect((await whoami(token, apis[0])).statusCode).toBe(200);
      expect((await whoami(token, apis[1])).statusCode).toBe(200);
      expect((await revoke(id)).statusCode).toBe(204);
      for (const app of [apis[1], apis[0]]) {
        const res = await whoami(token, app);
        expect(res.statusCode, `round ${i}`).toBe(401);
        expect(res.json().error.code).toBe("INVALID_TOKEN");
      }
    }
  });

  it("is cached otherwise: a revocation that is not announced goes unseen by a process holding the token", async () => {
    // What the announcement prevents: the same revocation written behind the API's back.
    const { token, id } = await issued({ email: "silently-revoked@example.org" });
    expect((await whoami(token, apis[1])).statusCode).toBe(200);
    await db.$executeRawUnsafe("UPDATE tidings_api_token SET revoked_at = now() WHERE id = $1", id);
    expect((await whoami(token, apis[1])).statusCode).toBe(200);
  });

  it("keeps the first revocation time, and answers an unknown id with 404", async () => {
    const { id } = await issued({ email: "twice@example.org" });
    expect((await revoke(id)).statusCode).toBe(204);
    const first = (await list("?email=twice@example.org")).json().results[0].revoked_at;
    expect(first).toEqual(expect.any(String));
    expect((await revoke(id, apis[1])).statusCode).toBe(204);
    expect((await list("?email=twice@example.org")).json().results[0].revoked_at).toBe(first);
    const missing = await revoke(999_999);
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error).toMatchObject({ code: "TOKEN_NOT_FOUND", requestId: expect.any(String) });
    expect((await revoke("abc")).statusCode).toBe(400);
  });
});
