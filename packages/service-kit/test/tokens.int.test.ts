import { toSeedTime } from "@tidings/contracts";
import { expectError } from "@tidings/testing";
import { describe, expect } from "vitest";
import { digestToken } from "../src/auth.ts";
import type { Api } from "../src/routes.ts";
import { type ApiPair, apiPairTest } from "./api-pair.ts";
import { admin } from "./support.ts";

/** Two API processes on one database, each with its authentication cache, hearing revocations. */
const it = apiPairTest({ watchRevocations: true });

const issued = async (pair: ApiPair, payload: Record<string, unknown>) => {
  const res = await pair.issue(payload);
  expect(res.statusCode).toBe(201);
  return res.json() as { token: string; id: number; user: number; prefix: string; expires_at: string | null };
};
const revoke = (
  pair: ApiPair,
  id: number | string,
  app: Api = pair.apis[0],
  headers: Record<string, string> = admin,
) => app.inject({ method: "DELETE", url: `/api/v1/user/tokens/${id}/`, headers });
const list = (pair: ApiPair, query = "", headers: Record<string, string> = admin) =>
  pair.apis[1].inject({ url: `/api/v1/user/tokens/${query}`, headers: { ...headers, host: "api.test" } });

describe("expiry on issue", () => {
  it("takes expires_in (seconds) or expires_at, and answers them back", async ({ pair }) => {
    const before = Date.now();
    const inAnHour = await issued(pair, { email: "expiring@example.org", expires_in: 3600 });
    const at = Date.parse(inAnHour.expires_at as string);
    expect(at).toBeGreaterThanOrEqual(before + 3_600_000 - 1000);
    expect(at).toBeLessThanOrEqual(Date.now() + 3_600_000 + 1000);
    const fixed = new Date(Date.now() + 86_400_000);
    expect(
      (await issued(pair, { email: "expiring@example.org", expires_at: fixed.toISOString() })).expires_at,
    ).toBe(toSeedTime(fixed));
    expect((await issued(pair, { email: "expiring@example.org" })).expires_at).toBeNull();
  });

  it("refuses both at once, a past or malformed expires_at and a bad expires_in with 400, storing nothing", async ({
    pair,
  }) => {
    const future = new Date(Date.now() + 60_000).toISOString();
    const cases: [Record<string, unknown>, string][] = [
      [{ expires_at: future, expires_in: 60 }, "body.expires_in"],
      [{ expires_at: "2001-01-01T00:00:00Z" }, "body.expires_at"],
      [{ expires_at: "tomorrow" }, "body.expires_at"],
      [{ expires_in: 0 }, "body.expires_in"],
      [{ expires_in: "60" }, "body.expires_in"],
    ];
    for (const [body, field] of cases) {
      const res = await pair.issue({ email: "never-issued@example.org", ...body });
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().error).toMatchObject({ code: "VALIDATION_FAILED", requestId: expect.any(String) });
      expect(res.json().error.details).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
    }
    expect(await pair.userCount("never-issued@example.org")).toBe(0);
  });

  it("refuses an expired token (401) in every process, even one that had it cached", async ({ pair }) => {
    const { token } = await issued(pair, { email: "short-lived@example.org", expires_in: 1 });
    expect((await pair.whoami(token, pair.apis[0])).statusCode).toBe(200);
    expect((await pair.whoami(token, pair.apis[1])).statusCode).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    for (const app of pair.apis) {
      const res = await pair.whoami(token, app);
      expectError(res, 401, "INVALID_TOKEN");
    }
  });
});

describe("GET /api/v1/user/tokens/", () => {
  it("lists id, prefix, email, kind, limits and times, never the token or its digest", async ({ pair }) => {
    const team = await issued(pair, {
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
    const res = await list(pair, "?email=lister@example.org");
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

  it("pages with limit and offset", async ({ pair }) => {
    await issued(pair, { email: "pager@example.org" });
    await issued(pair, { email: "pager@example.org" });
    const first = (await list(pair, "?email=pager@example.org&limit=1")).json();
    expect(first).toMatchObject({ count: 2, previous: null });
    expect(first.next).toBe("http://api.test/api/v1/user/tokens/?email=pager%40example.org&limit=1&offset=1");
    const second = (await list(pair, "?email=pager@example.org&limit=1&offset=1")).json();
    expect(second.results[0].id).toBeGreaterThan(first.results[0].id);
  });

  it("is admin only", async ({ pair }) => {
    const { token, id } = await issued(pair, { email: "plain@example.org" });
    const headers = { authorization: `Token ${token}` };
    expect((await list(pair, "", headers)).statusCode).toBe(403);
    expect((await list(pair, "", {})).statusCode).toBe(401);
    expect((await revoke(pair, id, pair.apis[0], headers)).statusCode).toBe(403);
    expect((await pair.whoami(token, pair.apis[0])).statusCode).toBe(200);
  });
});

describe("DELETE /api/v1/user/tokens/{id}/", () => {
  it("is refused at once by another API process that had the token cached", async ({ pair }) => {
    for (let i = 0; i < 20; i++) {
      const { token, id } = await issued(pair, { email: `revoked-${i}@example.org` });
      expect((await pair.whoami(token, pair.apis[0])).statusCode).toBe(200);
      expect((await pair.whoami(token, pair.apis[1])).statusCode).toBe(200);
      expect((await revoke(pair, id)).statusCode).toBe(204);
      for (const app of [pair.apis[1], pair.apis[0]]) {
        const res = await pair.whoami(token, app);
        expect(res.statusCode, `round ${i}`).toBe(401);
        expect(res.json().error.code).toBe("INVALID_TOKEN");
      }
    }
  });

  it("is cached otherwise: a revocation that is not announced goes unseen by a process holding the token", async ({
    pair,
    db,
  }) => {
    // What the announcement prevents: the same revocation written behind the API's back.
    const { token, id } = await issued(pair, { email: "silently-revoked@example.org" });
    expect((await pair.whoami(token, pair.apis[1])).statusCode).toBe(200);
    await db.$executeRawUnsafe("UPDATE tidings_api_token SET revoked_at = now() WHERE id = $1", id);
    expect((await pair.whoami(token, pair.apis[1])).statusCode).toBe(200);
  });

  it("keeps the first revocation time, and answers an unknown or malformed id with 404", async ({ pair }) => {
    const { id } = await issued(pair, { email: "twice@example.org" });
    expect((await revoke(pair, id)).statusCode).toBe(204);
    const first = (await list(pair, "?email=twice@example.org")).json().results[0].revoked_at;
    expect(first).toEqual(expect.any(String));
    expect((await revoke(pair, id, pair.apis[1])).statusCode).toBe(204);
    expect((await list(pair, "?email=twice@example.org")).json().results[0].revoked_at).toBe(first);
    const missing = await revoke(pair, 999_999);
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error).toMatchObject({ code: "TOKEN_NOT_FOUND", requestId: expect.any(String) });
    expect((await revoke(pair, "abc")).json().error.code).toBe("NOT_FOUND");
  });
});
