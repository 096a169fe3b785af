import type { IdentityChanged } from "@tidings/contracts";
import { adminAuth, expectError, serviceTest, waitFor } from "@tidings/testing";
import { describe, expect } from "vitest";
import { identityService } from "../src/service.ts";
import { eventAddress, postIdentity } from "./helpers.ts";

const it = serviceTest(identityService, { worker: true }, ["identity.created"]);

const details = {
  default_addr_type: "msisdn",
  addresses: {
    msisdn: { "+27820001001": { default: true } },
    email: { "a@example.org": { optedout: true } },
  },
  lang_code: "eng_ZA",
};

describe("POST /api/v1/identities/", () => {
  describe("happy", () => {
    it("creates the identity and publishes identity.created with its addresses", async ({ svc, capture }) => {
      const res = await postIdentity(svc, { details });
      expect(res.statusCode).toBe(201);
      const identity = res.json();
      expect(identity).toMatchObject({ version: 1, details, communicate_through: null, operator: null });
      expect(res.headers.location).toBe(`/api/v1/identities/${identity.id}/`);

      const event = await waitFor(
        () => capture.named<IdentityChanged>("identity.created").find((e) => e.id === identity.id),
        { what: "identity.created" },
      );
      expect(event.addresses).toEqual(
        expect.arrayContaining([
          eventAddress("msisdn", "+27820001001", { default: true }),
          eventAddress("email", "a@example.org", { optedout: true }),
        ]),
      );
      const fetched = await svc.app.inject({ url: `/api/v1/identities/${identity.id}/`, headers: adminAuth });
      expect(fetched.json()).toEqual(identity);
    });

    it("accepts Seed's path without the trailing slash and a Bearer token", async ({ svc }) => {
      const res = await svc.app.inject({
        method: "POST",
        url: "/api/v1/identities",
        headers: { authorization: adminAuth.authorization.replace("Token", "Bearer") },
        payload: { details: { addresses: {} }, version: 2 },
      });
      expect(res.statusCode).toBe(201);
      expect(res.json().version).toBe(2);
    });
  });

  describe("errors", () => {
    it("rejects details without addresses with 400 naming the field, and stores nothing", async ({ svc }) => {
      const before = await svc.db.identity.count();
      const res = await postIdentity(svc, { details: { lang: "x" } });
      expect(res.statusCode).toBe(400);
      expect(res.json().error).toMatchObject({
        code: "VALIDATION_FAILED",
        details: [{ field: "body.details.addresses", message: expect.any(String) }],
      });
      expect(await svc.db.identity.count()).toBe(before);
    });

    it("rejects a communicate_through that does not exist", async ({ svc }) => {
      const res = await postIdentity(svc, {
        details,
        communicate_through: "00000000-0000-4000-8000-000000000000",
      });
      expectError(res, 400, "IDENTITY_REFERENCE_NOT_FOUND");
    });

    it("needs a token", async ({ svc }) => {
      const res = await postIdentity(svc, { details }, {});
      expect(res.statusCode).toBe(401);
      const bad = await postIdentity(svc, { details }, { authorization: "Token nope" });
      expectError(bad, 401, "INVALID_TOKEN");
    });
  });
});

describe("GET /api/v1/identities/", () => {
  it("pages newest first with count, next and previous", async ({ svc }) => {
    for (let i = 0; i < 3; i++) {
      await postIdentity(svc, { details });
    }
    const all = (await svc.app.inject({ url: "/api/v1/identities/", headers: adminAuth })).json();
    const first = (await svc.app.inject({ url: "/api/v1/identities/?limit=2", headers: adminAuth })).json();
    expect(first.count).toBe(all.count);
    expect(first.results).toEqual(all.results.slice(0, 2));
    expect(first.previous).toBeNull();
    expect(first.next).toContain("cursor=");
    const second = (
      await svc.app.inject({
        url: new URL(first.next).pathname + new URL(first.next).search,
        headers: adminAuth,
      })
    ).json();
    expect(second.results).toEqual(all.results.slice(2, 4));
    expect(second.previous).toContain("limit=2");
  });

  it("404s an unknown identity in the error shape, with Seed's `detail` beside it", async ({ svc }) => {
    const res = await svc.app.inject({
      url: "/api/v1/identities/00000000-0000-4000-8000-000000000000/",
      headers: adminAuth,
    });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({
      error: { code: "IDENTITY_NOT_FOUND", message: expect.any(String), requestId: expect.any(String) },
      detail: "Not found.",
    });
  });
});

describe("POST /api/v1/user/token/", () => {
  it("issues a working token that is stored only as a digest; non-admins may not issue", async ({ svc }) => {
    const issue = (email: string, headers: Record<string, string>) =>
      svc.app.inject({ method: "POST", url: "/api/v1/user/token/", headers, payload: { email } });
    const res = await issue("hub@example.org", adminAuth);
    expect(res.statusCode).toBe(201);
    const { token } = res.json();
    const stored = await svc.db.apiToken.findMany();
    expect(stored.map((t) => t.digest)).not.toContain(token);
    const asUser = { authorization: `Token ${token}` };
    const created = await postIdentity(svc, { details }, asUser);
    expect(created.statusCode).toBe(201);
    expect(created.json().created_by).toEqual(expect.any(Number));
    const denied = await issue("other@example.org", asUser);
    expect(denied.statusCode).toBe(403);
  });
});
