import { closeAfter } from "@tidings/testing";
import { describe, expect } from "vitest";
import type { Db } from "../../../apps/identity/src/db.ts";
import { digestToken, TokenAuthenticator } from "../src/auth.ts";
import { ApiError } from "../src/errors.ts";
import type { Api } from "../src/routes.ts";
import { requestToken } from "./fake-api.ts";
import { ADMIN, buildTestApi, dbTest, whoamiRoute } from "./support.ts";

/** Its tests take `{ db }`, and `{ app }`: an API on `db` with `GET /whoami`, for the whole file. */
const it = dbTest.extend<{ app: Api }>({
  app: [async ({ db }, use) => closeAfter(await buildTestApi(db, whoamiRoute), use), { scope: "file" }],
});

/** The users a fresh authenticator (without the issuing one's cache) finds for each Authorization header, in turn. */
async function userIdsOf(db: Db, ...headers: string[]): Promise<(number | null)[]> {
  const fresh = new TokenAuthenticator(db, ADMIN);
  const ids: (number | null)[] = [];
  for (const header of headers) {
    ids.push((await fresh.authenticate(header)).userId);
  }
  return ids;
}

interface TokenRow {
  digest: string;
  user_id: number;
  revoked_at: Date | null;
}

const userByEmail = async (db: Db, email: string) =>
  (
    await db.$queryRawUnsafe<{ id: number; email: string; is_admin: boolean }[]>(
      "SELECT id, email, is_admin FROM tidings_api_user WHERE email = $1",
      email,
    )
  )[0];
const tokensOf = (db: Db, userId: number) =>
  db.$queryRawUnsafe<TokenRow[]>(
    "SELECT * FROM tidings_api_token WHERE user_id = $1 ORDER BY created_at",
    userId,
  );

/** Every row of both tables as text, to search for anything that should not be stored. */
const tableText = async (db: Db) => {
  const rows = await db.$queryRawUnsafe<{ row: string }[]>(
    "SELECT t::text AS row FROM tidings_api_token t UNION ALL SELECT u::text FROM tidings_api_user u",
  );
  return rows.map((r) => r.row).join("\n");
};

/** What a fresh authenticator (without the issuing one's cache) makes of `Token <token>`. */
const authenticateFresh = (db: Db, token: string) =>
  new TokenAuthenticator(db, ADMIN).authenticate(`Token ${token}`);

/** The principal of a database user's live token, with no allow-list. */
const liveUser = (userId: number | undefined, isAdmin: boolean) => ({
  userId,
  isAdmin,
  keyKind: "live",
  allowList: [],
});

const authError = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error("expected the token to be rejected");
    },
    (err: unknown) => {
      expect(err).toBeInstanceOf(ApiError);
      return err as ApiError;
    },
  );

describe("TokenAuthenticator against the database", () => {
  it("stores only the SHA-256 digest of an issued token", async ({ db }) => {
    const auth = new TokenAuthenticator(db, ADMIN);
    const token = await auth.issueToken("digest-only@example.org");
    const user = await userByEmail(db, "digest-only@example.org");
    expect(user).toMatchObject({ is_admin: false });
    const rows = await tokensOf(db, user?.id as number);
    expect(rows.map((r) => r.digest)).toEqual([digestToken(token)]);
    expect(rows[0]?.revoked_at).toBeNull();
    const text = await tableText(db);
    expect(text).toContain(digestToken(token));
    expect(text).not.toContain(token);
    expect(text).not.toContain(token.slice(4)); // nor its random part without the tdg_ prefix
  });

  it("authenticates an issued token as its user", async ({ db }) => {
    const auth = new TokenAuthenticator(db, ADMIN);
    const token = await auth.issueToken("reader@example.org");
    const user = await userByEmail(db, "reader@example.org");
    expect(await authenticateFresh(db, token)).toEqual(liveUser(user?.id, false));
  });

  it("gives a second token to the same user on a second issue, both valid", async ({ db }) => {
    const auth = new TokenAuthenticator(db, ADMIN);
    const first = await auth.issueToken("twice@example.org");
    const second = await auth.issueToken("twice@example.org");
    expect(second).not.toBe(first);
    const user = await userByEmail(db, "twice@example.org");
    const rows = await tokensOf(db, user?.id as number);
    expect(rows.map((r) => r.digest).sort()).toEqual([digestToken(first), digestToken(second)].sort());
    const users = await db.$queryRawUnsafe<{ n: number }[]>(
      "SELECT count(*)::int AS n FROM tidings_api_user WHERE email = 'twice@example.org'",
    );
    expect(users[0]?.n).toBe(1);
    expect(await userIdsOf(db, `Token ${first}`, `Bearer ${second}`)).toEqual([user?.id, user?.id]);
  });

  it("stores emails lower-cased, so differently cased emails are one user", async ({ db }) => {
    const auth = new TokenAuthenticator(db, ADMIN);
    const first = await auth.issueToken("Mixed.Case@Example.ORG");
    const second = await auth.issueToken("MIXED.case@example.org");
    const user = await userByEmail(db, "mixed.case@example.org");
    expect(user?.email).toBe("mixed.case@example.org");
    expect(await userByEmail(db, "Mixed.Case@Example.ORG")).toBeUndefined();
    expect(await userIdsOf(db, `Token ${first}`, `Token ${second}`)).toEqual([user?.id, user?.id]);
  });

  it("rejects a revoked token, and leaves the user's other tokens working", async ({ db }) => {
    const auth = new TokenAuthenticator(db, ADMIN);
    const revoked = await auth.issueToken("revoked@example.org");
    const kept = await auth.issueToken("revoked@example.org");
    const updated = await db.$executeRawUnsafe(
      "UPDATE tidings_api_token SET revoked_at = now() WHERE digest = $1",
      digestToken(revoked),
    );
    expect(updated).toBe(1);
    const fresh = new TokenAuthenticator(db, ADMIN);
    expect(await authError(fresh.authenticate(`Token ${revoked}`))).toMatchObject({
      statusCode: 401,
      code: "INVALID_TOKEN",
    });
    expect((await fresh.authenticate(`Token ${kept}`)).isAdmin).toBe(false);
  });

  it("rejects a token that was never issued", async ({ db }) => {
    const fresh = new TokenAuthenticator(db, ADMIN);
    expect(await authError(fresh.authenticate("Token tdg_never-issued"))).toMatchObject({
      code: "INVALID_TOKEN",
    });
  });

  it("honours is_admin of a database user", async ({ db }) => {
    const token = await new TokenAuthenticator(db, ADMIN).issueToken("admin-user@example.org");
    await db.$executeRawUnsafe(
      "UPDATE tidings_api_user SET is_admin = true WHERE email = 'admin-user@example.org'",
    );
    const user = await userByEmail(db, "admin-user@example.org");
    expect(await authenticateFresh(db, token)).toEqual(liveUser(user?.id, true));
  });
});

describe("POST /api/v1/user/token/ against the database", () => {
  it("issues a token that then authenticates as the new user, and the health check sees the database", async ({
    db,
    app,
  }) => {
    const res = await requestToken(app, "Api.Client@Example.org");
    expect(res.statusCode).toBe(201);
    const { token } = res.json() as { token: string };
    const user = await userByEmail(db, "api.client@example.org");
    expect(user).toBeDefined();
    const who = await app.inject({ url: "/whoami", headers: { authorization: `Token ${token}` } });
    expect(who.statusCode).toBe(200);
    expect(who.json()).toEqual(liveUser(user?.id, false));

    const health = await app.inject({ url: "/api/health/" });
    expect(health.statusCode).toBe(200);
    expect(health.json()).toMatchObject({ up: true, result: { database: "Accessible" } });
  });
});
