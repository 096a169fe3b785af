import { adminAuth, expectError, waitFor } from "@tidings/testing";
import { describe, expect } from "vitest";
import { create, get, send } from "./helpers.ts";
import { adminUserToken, createHook, hookCount, hooksTest as it, userToken, verify } from "./hook-support.ts";

describe("/api/v1/webhook/ CRUD", () => {
  it("creates, lists, reads, updates and deletes hooks; refuses unknown events", async ({ svc, base }) => {
    const created = await send(svc, "POST", "/api/v1/webhook/", {
      event: "identity.created",
      target: `${base}/crud`,
    });
    expect(created.statusCode).toBe(201);
    const hook = created.json();
    expect(hook).toMatchObject({
      event: "identity.created",
      target: `${base}/crud`,
      secret: expect.any(String),
    });
    const unknown = await send(svc, "POST", "/api/v1/webhook/", {
      event: "identity.exploded",
      target: `${base}/x`,
    });
    expectError(unknown, 400, "IDENTITY_HOOK_UNKNOWN_EVENT");
    expect(
      (await send(svc, "POST", "/api/v1/webhook/", { event: "identity.created", target: "ftp://x" }))
        .statusCode,
    ).toBe(400);
    const listed = (await get(svc, "/api/v1/webhook/")).json();
    expect(listed.results.map((h: { id: number }) => h.id)).toContain(hook.id);
    expect(listed.results[0].secret).toBeUndefined();
    const patched = await send(svc, "PATCH", `/api/v1/webhook/${hook.id}/`, { event: "identity.updated" });
    expect(patched.json()).toMatchObject({ id: hook.id, event: "identity.updated", target: `${base}/crud` });
    const put = await send(svc, "PUT", `/api/v1/webhook/${hook.id}/`, {
      event: "optout.requested",
      target: `${base}/crud2`,
    });
    expect(put.json()).toMatchObject({ event: "optout.requested", target: `${base}/crud2` });
    expect((await get(svc, `/api/v1/webhook/${hook.id}/`)).json().target).toBe(`${base}/crud2`);
    expect((await send(svc, "DELETE", `/api/v1/webhook/${hook.id}/`)).statusCode).toBe(204);
    const gone = await get(svc, `/api/v1/webhook/${hook.id}/`);
    expectError(gone, 404, "IDENTITY_HOOK_NOT_FOUND");
  });

  it("refuses to let a non-admin create or change a hook (SSRF), and stores nothing", async ({
    svc,
    base,
  }) => {
    const mallory = await userToken(svc, "mallory-hooks@example.org");
    const before = await hookCount(svc);
    const created = await svc.app.inject({
      method: "POST",
      url: "/api/v1/webhook/",
      headers: mallory,
      payload: { event: "identity.created", target: "http://169.254.169.254/latest/meta-data/" },
    });
    expectError(created, 403, "FORBIDDEN");
    expect(await hookCount(svc)).toBe(before);

    const hook = await createHook(svc, "identity.created", `${base}/kept`);
    for (const method of ["PUT", "PATCH"] as const) {
      const changed = await svc.app.inject({
        method,
        url: `/api/v1/webhook/${hook.id}/`,
        headers: mallory,
        payload: { event: "identity.created", target: "http://127.0.0.1:5432/" },
      });
      expect(changed.statusCode).toBe(403);
    }
    expect((await get(svc, `/api/v1/webhook/${hook.id}/`)).json().target).toBe(`${base}/kept`);
    expect((await send(svc, "DELETE", `/api/v1/webhook/${hook.id}/`)).statusCode).toBe(204);
  });

  it("a user sees only their own hooks", async ({ svc, base }) => {
    const alice = await adminUserToken(svc, "alice-hooks@example.org");
    const bob = await userToken(svc, "bob-hooks@example.org");
    const res = await svc.app.inject({
      method: "POST",
      url: "/api/v1/webhook/",
      headers: alice,
      payload: { event: "identity.deleted", target: `${base}/alice` },
    });
    const hook = res.json();
    expect((await svc.app.inject({ url: `/api/v1/webhook/${hook.id}/`, headers: bob })).statusCode).toBe(404);
    const bobs = (await svc.app.inject({ url: "/api/v1/webhook/", headers: bob })).json();
    expect(bobs.count).toBe(0);
    expect((await svc.app.inject({ url: `/api/v1/webhook/${hook.id}/`, headers: alice })).statusCode).toBe(
      200,
    );
    expect(
      (await svc.app.inject({ url: `/api/v1/webhook/${hook.id}/`, headers: adminAuth })).statusCode,
    ).toBe(200);
  });
});

describe("secret rotation", () => {
  it("signs with the new and the old secret during the overlap, then with the new one only", async ({
    svc,
    base,
    at,
  }) => {
    const hook = await createHook(svc, "identity.deleted", `${base}/rotate`);
    const rotated = await send(svc, "POST", `/api/v1/webhook/${hook.id}/rotate-secret/`, {
      overlap_seconds: 3600,
    });
    expect(rotated.statusCode).toBe(200);
    const next = rotated.json();
    expect(next.secret).toMatch(/^whsec_/);
    expect(next.secret).not.toBe(hook.secret);
    expect(Date.parse(next.previous_secret_expires_at) - Date.now()).toBeGreaterThan(3500_000);
    expect((await get(svc, `/api/v1/webhook/${hook.id}/`)).json().secret).toBeUndefined();

    const deleteOne = async () => {
      const identity = await create(svc, { details: { addresses: {} } });
      await send(svc, "DELETE", `/api/v1/identities/${identity.id}/`);
      return waitFor(() => at("/rotate").find((r) => r.body.includes(identity.id)), {
        what: "delivery to the rotated hook",
      });
    };
    const during = await deleteOne();
    expect(String(during.headers["webhook-signature"]).split(" ")).toHaveLength(2);
    expect(verify(next.secret, during)).toBeTruthy();
    expect(verify(hook.secret, during)).toBeTruthy();

    // The overlap ends (as if its hour had passed).
    await svc.db.$executeRaw`
      UPDATE tidings_hook SET previous_secret_expires_at = now() - interval '1 second' WHERE id = ${hook.id}`;
    const after = await deleteOne();
    expect(String(after.headers["webhook-signature"]).split(" ")).toHaveLength(1);
    expect(verify(next.secret, after)).toBeTruthy();
    expect(() => verify(hook.secret, after)).toThrow();
  });

  it("is documented in the OpenAPI document, with the redelivery routes", async ({ svc }) => {
    const { paths } = (await get(svc, "/docs/json")).json();
    for (const path of [
      "/api/v1/webhook/{id}/rotate-secret/",
      "/api/v1/webhook/deliveries/{id}/redeliver/",
      "/api/v1/webhook/deliveries/redeliver/",
    ]) {
      expect(paths[path]?.post?.summary, path).toEqual(expect.any(String));
    }
    expect(paths["/api/v1/webhook/deliveries/"].get.parameters.map((p: { name: string }) => p.name)).toEqual(
      expect.arrayContaining(["status", "hook", "event", "limit", "offset"]),
    );
  });

  it("is for admins only", async ({ svc, base }) => {
    const hook = await createHook(svc, "identity.deleted", `${base}/r2`);
    const erin = await userToken(svc, "erin-hooks@example.org");
    const res = await svc.app.inject({
      method: "POST",
      url: `/api/v1/webhook/${hook.id}/rotate-secret/`,
      headers: erin,
      payload: {},
    });
    expect(res.statusCode).toBe(403);
    expect((await send(svc, "POST", "/api/v1/webhook/999999/rotate-secret/", {})).statusCode).toBe(404);
  });
});
