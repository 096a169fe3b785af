import { describe, expect } from "vitest";
import { ADMIN, errorOf, fakeApiTest as it, requestToken } from "../test/fake-api.ts";
import { digestToken } from "./auth.ts";

describe("buildApi", () => {
  describe("auth", () => {
    it("answers a missing Authorization header with 401 UNAUTHENTICATED", async ({ api }) => {
      const res = await api.app.inject({ url: "/whoami" });
      expect(res.statusCode).toBe(401);
      expect(errorOf(res).code).toBe("UNAUTHENTICATED");
      const malformed = await api.app.inject({ url: "/whoami", headers: { authorization: "Basic abc" } });
      expect(malformed.statusCode).toBe(401);
      expect(errorOf(malformed).code).toBe("UNAUTHENTICATED");
    });

    it.for(["Token", "Bearer", "token"])(
      "accepts the admin token as '%s <token>'",
      async (scheme, { api }) => {
        const res = await api.app.inject({
          url: "/whoami",
          headers: { authorization: `${scheme} ${ADMIN}` },
        });
        expect(res.statusCode).toBe(200);
        expect(res.json()).toEqual({ userId: null, isAdmin: true, keyKind: "live", allowList: [] });
      },
    );

    it("answers an unknown token with 401 INVALID_TOKEN", async ({ api }) => {
      const res = await api.app.inject({
        url: "/whoami",
        headers: { authorization: "Token not-a-real-token" },
      });
      expect(res.statusCode).toBe(401);
      expect(errorOf(res)).toMatchObject({ code: "INVALID_TOKEN", message: "Invalid token." });
    });

    it("resolves a user's token to that user", async ({ api }) => {
      const id = api.db.addUser("user@example.org", "user-token-1");
      const res = await api.app.inject({ url: "/whoami", headers: { authorization: "Token user-token-1" } });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ userId: id, isAdmin: false, keyKind: "live", allowList: [] });
    });

    it("needs no token on routes marked public, /api/health/ and /docs", async ({ api }) => {
      const open = await api.app.inject({ url: "/open" });
      expect(open.statusCode).toBe(200);
      expect(open.json()).toEqual({ principal: null });
      expect((await api.app.inject({ url: "/api/health/" })).statusCode).toBe(200);
      expect((await api.app.inject({ url: "/api/health" })).statusCode).toBe(200);
      const docs = await api.app.inject({ url: "/docs" });
      expect(docs.statusCode).toBe(200);
      expect(docs.headers["content-type"]).toContain("text/html");
      const spec = await api.app.inject({ url: "/docs/json" });
      expect(spec.statusCode).toBe(200);
      expect(spec.json()).toMatchObject({ openapi: expect.any(String), info: { title: "Tidings svc" } });
    });

    it("still asks for a token on a service route whose path merely starts with /docs", async ({ api }) => {
      const res = await api.app.inject({ url: "/docsearch" });
      expect(res.statusCode).toBe(401);
    });

    it("answers requireAdmin for a non-admin principal with 403 FORBIDDEN", async ({ api }) => {
      api.db.addUser("plain@example.org", "plain-token");
      const res = await api.app.inject({
        url: "/admin-only",
        headers: { authorization: "Token plain-token" },
      });
      expect(res.statusCode).toBe(403);
      expect(errorOf(res).code).toBe("FORBIDDEN");
      const admin = await api.app.inject({
        url: "/admin-only",
        headers: { authorization: `Token ${ADMIN}` },
      });
      expect(admin.statusCode).toBe(200);
    });

    it("lets a database user marked admin pass requireAdmin", async ({ api }) => {
      const id = api.db.addUser("boss@example.org", "boss-token", true);
      const res = await api.app.inject({
        url: "/admin-only",
        headers: { authorization: "Token boss-token" },
      });
      expect(res.statusCode).toBe(200);
      const who = await api.app.inject({ url: "/whoami", headers: { authorization: "Token boss-token" } });
      expect(who.json()).toEqual({ userId: id, isAdmin: true, keyKind: "live", allowList: [] });
    });
  });

  describe("POST /api/v1/user/token/", () => {
    it("issues a token for the admin that then authenticates as the (lower-cased) user", async ({ api }) => {
      const res = await requestToken(api.app, "New.User@Example.org");
      expect(res.statusCode).toBe(201);
      const { token } = res.json() as { token: string };
      expect(token).toMatch(/^tdg_[A-Za-z0-9_-]{43}$/);
      const user = api.db.users.find((u) => u.email === "new.user@example.org");
      expect(user).toBeDefined();
      expect(api.db.tokens.get(digestToken(token))?.userId).toBe(user?.id);
      const who = await api.app.inject({ url: "/whoami", headers: { authorization: `Bearer ${token}` } });
      expect(who.json()).toEqual({ userId: user?.id, isAdmin: false, keyKind: "live", allowList: [] });
    });

    it("refuses a non-admin with 403 and a bad email with 400", async ({ api }) => {
      api.db.addUser("someone@example.org", "someone-token");
      const forbidden = await requestToken(api.app, "x@example.org", "Token someone-token");
      expect(forbidden.statusCode).toBe(403);
      expect(errorOf(forbidden).code).toBe("FORBIDDEN");
      const bad = await requestToken(api.app, "not-an-email");
      expect(bad.statusCode).toBe(400);
      expect(errorOf(bad)).toMatchObject({ code: "VALIDATION_FAILED", details: [{ field: "body.email" }] });
    });
  });
});

describe("without ADMIN_TOKEN", () => {
  it("has no admin: no token is admin, not even an empty one", async ({ makeApi }) => {
    const api = await makeApi({ adminToken: undefined });
    for (const header of [`Token ${ADMIN}`, "Token undefined", "Token "]) {
      const res = await api.app.inject({ url: "/whoami", headers: { authorization: header } });
      expect(res.statusCode, header).toBe(401);
    }
  });
});

describe("with a per-address limit (PUBLIC_RATE_LIMIT)", () => {
  const ATTACKER = "203.0.113.9";

  it("counts an address's 401s and past the limit answers 429 RATE_LIMITED with Retry-After, looking up no token", async ({
    makeApi,
  }) => {
    const api = await makeApi({ publicRateLimit: 3 });
    const whoami = (authorization?: string, remoteAddress = ATTACKER) =>
      api.app.inject({ url: "/whoami", headers: authorization ? { authorization } : {}, remoteAddress });
    const refused = [];
    for (let i = 0; i < 3; i++) {
      refused.push((await whoami(`Token guess-${i}`)).statusCode);
    }
    expect(refused).toEqual([401, 401, 401]);
    const lookups = api.db.queries.length;

    const limited = await whoami("Token guess-3");
    expect(limited.statusCode).toBe(429);
    expect(errorOf(limited).code).toBe("RATE_LIMITED");
    expect(Number(limited.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    expect(Number(limited.headers["retry-after"])).toBeLessThanOrEqual(60);
    expect((await whoami()).statusCode).toBe(429);
    expect(api.db.queries.length).toBe(lookups);

    // ADMIN_TOKEN needs no look-up: still served there. Another address is counted apart.
    expect((await whoami(`Token ${ADMIN}`)).statusCode).toBe(200);
    expect((await whoami("Token guess-4", "203.0.113.10")).statusCode).toBe(401);
  });

  it("never counts the requests of a valid token, whatever they are answered", async ({ makeApi }) => {
    const api = await makeApi({ publicRateLimit: 3 });
    api.db.addUser("user@example.org", "user-token-1");
    const as = (url: string) =>
      api.app.inject({ url, headers: { authorization: "Token user-token-1" }, remoteAddress: ATTACKER });
    for (let i = 0; i < 5; i++) {
      expect((await as("/whoami")).statusCode).toBe(200);
      expect((await as("/admin-only")).statusCode).toBe(403);
    }
    const bad = await api.app.inject({
      url: "/whoami",
      headers: { authorization: "Token guess" },
      remoteAddress: ATTACKER,
    });
    expect(bad.statusCode).toBe(401);
  });

  it("limits no 401s without it", async ({ api }) => {
    for (let i = 0; i < 10; i++) {
      const res = await api.app.inject({ url: "/whoami", remoteAddress: ATTACKER });
      expect(res.statusCode).toBe(401);
    }
  });
});
