import { describe, expect } from "vitest";
import type { Db } from "../../../apps/identity/src/db.ts";
import { digestToken } from "../src/auth.ts";
import { pruneTokenUsage } from "../src/limits.ts";
import { apiPairTest } from "./api-pair.ts";
import { admin } from "./support.ts";

const it = apiPairTest();

const tokenRow = async (db: Db, token: string) =>
  (
    await db.$queryRawUnsafe<
      { kind: string; allow_list: string[]; rate_limit: number | null; daily_limit: number | null }[]
    >(
      "SELECT kind, allow_list, rate_limit, daily_limit FROM tidings_api_token WHERE digest = $1",
      digestToken(token),
    )
  )[0];
describe("API keys of three kinds", () => {
  it("issues a live key by default, unlimited", async ({ pair, db }) => {
    const res = await pair.issue({ email: "live@example.org" });
    expect(res.statusCode).toBe(201);
    const { token, ...rest } = res.json();
    expect(rest).toEqual({
      id: expect.any(Number),
      user: expect.any(Number),
      prefix: token.slice(0, 12),
      created_at: expect.any(String),
      kind: "live",
      allow_list: [],
      rate_limit: null,
      daily_limit: null,
      expires_at: null,
    });
    expect(await tokenRow(db, token)).toEqual({
      kind: "live",
      allow_list: [],
      rate_limit: null,
      daily_limit: null,
    });
    expect((await pair.whoami(token)).json()).toMatchObject({ keyKind: "live", allowList: [] });
  });

  it("issues a team key whose normalised allow-list reaches request.principal", async ({ pair, db }) => {
    const identity = "6F9619FF-8B86-4011-B42D-00C04FC964FF";
    const res = await pair.issue({
      email: "team@example.org",
      kind: "team",
      allow_list: ["+27820001001", "Ops.Team@Example.ORG", identity, "+27820001001"],
    });
    expect(res.statusCode).toBe(201);
    const allowList = ["+27820001001", "ops.team@example.org", identity.toLowerCase()];
    expect(res.json()).toMatchObject({ kind: "team", allow_list: allowList });
    expect(await tokenRow(db, res.json().token)).toMatchObject({ kind: "team", allow_list: allowList });
    expect((await pair.whoami(res.json().token)).json()).toMatchObject({
      isAdmin: false,
      keyKind: "team",
      allowList,
    });
  });

  it("issues a test key", async ({ pair }) => {
    const res = await pair.issue({ email: "tester@example.org", kind: "test" });
    expect(res.statusCode).toBe(201);
    expect((await pair.whoami(res.json().token)).json()).toMatchObject({ keyKind: "test", allowList: [] });
  });

  it("refuses bad kinds, allow-lists and limits with 400, and stores nothing", async ({ pair }) => {
    const cases: [Record<string, unknown>, string][] = [
      [{ kind: "root" }, "body.kind"],
      [{ kind: "team", allow_list: ["+27820001001", "0820001001", "not an email"] }, "body.allow_list.1"],
      [{ kind: "live", allow_list: ["+27820001001"] }, "body.allow_list"],
      [{ rate_limit: 0 }, "body.rate_limit"],
      [{ daily_limit: 1.5 }, "body.daily_limit"],
      [{ daily_limit: "10" }, "body.daily_limit"],
    ];
    for (const [body, field] of cases) {
      const res = await pair.issue({ email: "refused@example.org", ...body });
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().error.details).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
    }
    expect(await pair.userCount("refused@example.org")).toBe(0);
  });

  it("answers 429 RATE_LIMITED with Retry-After once a key's per-second rate is used up", async ({
    pair,
    db,
  }) => {
    const { token } = (await pair.issue({ email: "rate@example.org", rate_limit: 1 })).json();
    expect(await tokenRow(db, token)).toMatchObject({ rate_limit: 1 });
    const responses = await Promise.all(Array.from({ length: 10 }, () => pair.whoami(token)));
    const limited = responses.filter((r) => r.statusCode === 429);
    expect(limited.length).toBeGreaterThan(0);
    expect(responses.filter((r) => r.statusCode === 200).length).toBeGreaterThan(0);
    for (const res of limited) {
      expect(res.json().error.code).toBe("RATE_LIMITED");
      expect(Number(res.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    }
    // Other keys are not affected.
    const { token: other } = (await pair.issue({ email: "rate@example.org" })).json();
    expect((await pair.whoami(other)).statusCode).toBe(200);
  });

  it("counts the daily limit in the database, across API processes", async ({ pair, db }) => {
    const { token } = (await pair.issue({ email: "daily@example.org", daily_limit: 3 })).json();
    const codes = [];
    for (const app of [pair.apis[0], pair.apis[1], pair.apis[0], pair.apis[1], pair.apis[0]]) {
      codes.push((await pair.whoami(token, app)).statusCode);
    }
    expect(codes).toEqual([200, 200, 200, 429, 429]);
    const refused = await pair.whoami(token, pair.apis[1]);
    expect(refused.json().error.code).toBe("DAILY_LIMIT_EXCEEDED");
    const retryAfter = Number(refused.headers["retry-after"]);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(86_400);
    const usage = await db.$queryRawUnsafe<{ count: number; today: boolean }[]>(
      `SELECT count, day = (now() AT TIME ZONE 'UTC')::date AS today FROM tidings_api_token_usage
       WHERE digest = $1`,
      digestToken(token),
    );
    expect(usage).toEqual([{ count: 6, today: true }]);

    // Yesterday's count does not hold today back, and old days are pruned.
    await db.$executeRawUnsafe(
      "UPDATE tidings_api_token_usage SET day = day - 2 WHERE digest = $1",
      digestToken(token),
    );
    expect((await pair.whoami(token, pair.apis[1])).statusCode).toBe(200);
    expect(await pruneTokenUsage(db)).toBeGreaterThanOrEqual(1);
    const left = await db.$queryRawUnsafe<{ count: number }[]>(
      "SELECT count FROM tidings_api_token_usage WHERE digest = $1",
      digestToken(token),
    );
    expect(left).toEqual([{ count: 1 }]);
  });

  it("does not limit the admin token", async ({ pair }) => {
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => pair.apis[0].inject({ url: "/whoami", headers: admin })),
    );
    expect(responses.every((r) => r.statusCode === 200)).toBe(true);
  });
});
