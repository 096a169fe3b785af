import { InvalidPayloadError } from "@tidings/contracts";
import { publish } from "@tidings/hooks";
import { adminAuth, waitFor } from "@tidings/testing";
import { describe, expect, vi } from "vitest";
import { create, get, msisdn, send } from "./helpers.ts";
import { adminUserToken, createHook, hookCount, hooksTest, userToken, verify } from "./hook-support.ts";

/**
 * Creates an identity.deleted hook on `path`, deletes `deletes` identities and waits until all their deliveries have
 * failed (the receiver fails every attempt); returns the hook and the URL listing its failed deliveries.
 */
type Failing = (path: string, deletes: number) => Promise<{ hook: { id: number }; failedUrl: string }>;

const it = hooksTest.extend<{ failing: Failing }>({
  failing: [
    async ({ svc, base, failuresLeft }, use) =>
      use(async (path, deletes) => {
        failuresLeft.set(path, 3 * deletes);
        const hook = await createHook(svc, "identity.deleted", `${base}${path}`);
        for (let i = 0; i < deletes; i++) {
          const identity = await create(svc, { details: { addresses: {} } });
          await send(svc, "DELETE", `/api/v1/identities/${identity.id}/`);
        }
        const failedUrl = `/api/v1/webhook/deliveries/?status=failed&hook=${hook.id}&event=identity.deleted`;
        await waitFor(async () => (await get(svc, failedUrl)).json().count === deletes, {
          what: "failed deliveries",
        });
        return { hook, failedUrl };
      }),
    { scope: "file" },
  ],
});

describe("hook deliveries", () => {
  it("POSTs {hook, data} with the Token header, signed the Standard Webhooks way; a late replay is refused", async ({
    svc,
    base,
    at,
  }) => {
    const hook = await createHook(svc, "identity.created", `${base}/ok`);
    const identity = await create(svc, { details: { addresses: { msisdn: { [msisdn(40)]: {} } } } });
    const request = await waitFor(() => at("/ok").find((r) => JSON.parse(r.body).data.id === identity.id), {
      what: "hook delivery",
    });
    expect(JSON.parse(request.body)).toEqual({
      hook: { id: hook.id, event: "identity.created", target: `${base}/ok` },
      data: expect.objectContaining({ id: identity.id, details: identity.details }),
    });
    expect(request.headers.authorization).toBe("Token hook-token-123");
    expect(hook.secret).toMatch(/^whsec_/);
    expect(verify(hook.secret, request)).toEqual(JSON.parse(request.body));
    const [delivery] = (await get(svc, `/api/v1/webhook/deliveries/?hook=${hook.id}`)).json().results;
    expect(request.headers["webhook-id"]).toBe(delivery.id);
    expect(Number(request.headers["webhook-timestamp"])).toBeCloseTo(Date.now() / 1000, -2);
    expect(() => verify(hook.secret, { ...request, body: request.body.replace("}", ',"x":1}') })).toThrow();
    // The same request replayed six minutes later is outside the receiver's five-minute tolerance.
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      vi.setSystemTime(Date.now() + 6 * 60_000);
      expect(() => verify(hook.secret, request)).toThrow(/timestamp/i);
    } finally {
      vi.useRealTimers();
    }
  });

  it("retries a failing target with backoff until it answers 2xx", async ({
    svc,
    base,
    at,
    failuresLeft,
  }) => {
    failuresLeft.set("/flaky", 2);
    const hook = await createHook(svc, "identity.deleted", `${base}/flaky`);
    const identity = await create(svc, { details: { addresses: {} } });
    await send(svc, "DELETE", `/api/v1/identities/${identity.id}/`);
    const delivered = await waitFor(
      async () =>
        (await get(svc, `/api/v1/webhook/deliveries/?hook=${hook.id}&status=delivered`)).json().results[0],
      { what: "delivered after retries" },
    );
    expect(delivered).toMatchObject({ event: "identity.deleted", attempts: 3, last_status_code: 200 });
    const times = at("/flaky").map((r) => r.at);
    expect(times).toHaveLength(3);
    // Backoff: HOOK_RETRY_BASE_MS (100) and then twice that, each less at most 20% jitter.
    expect((times[1] ?? 0) - (times[0] ?? 0)).toBeGreaterThanOrEqual(80);
    expect((times[2] ?? 0) - (times[1] ?? 0)).toBeGreaterThanOrEqual(160);
    expect(new Set(at("/flaky").map((r) => r.headers["webhook-id"])).size).toBe(1);
  });

  it("records a delivery as failed after the last attempt and lists it", async ({ svc, base, at }) => {
    const hook = await createHook(svc, "optout.requested", `${base}/down`);
    const a = msisdn(41);
    const identity = await create(svc, { details: { addresses: { msisdn: { [a]: {} } }, lang: "x" } });
    await send(svc, "POST", "/api/v1/optout/", {
      address_type: "msisdn",
      address: a,
      request_source: "t",
      reason: "r",
    });
    const failed = await waitFor(
      async () =>
        (await get(svc, `/api/v1/webhook/deliveries/?status=failed&hook=${hook.id}`)).json().results[0],
      { what: "failed delivery" },
    );
    expect(failed).toMatchObject({
      status: "failed",
      attempts: 3,
      last_status_code: 500,
      last_error: "HTTP 500",
    });
    const bodies = at("/down").map((r) => JSON.parse(r.body));
    expect(bodies).toHaveLength(3);
    // Seed's raw hook: the data alone, no {hook, data} envelope.
    expect(bodies[0]).toEqual({
      identity: identity.id,
      identity_details: identity.details,
      optout_type: "stop",
      optout_reason: "r",
      optout_source: "t",
    });
  });

  it("user-scoped events reach only the acting user's hooks", async ({ svc, base, at }) => {
    const carol = await adminUserToken(svc, "carol-hooks@example.org");
    const dave = await userToken(svc, "dave-hooks@example.org");
    await svc.app.inject({
      method: "POST",
      url: "/api/v1/webhook/",
      headers: carol,
      payload: { event: "optin.requested", target: `${base}/carol` },
    });
    const a = msisdn(42);
    await create(svc, { details: { addresses: { msisdn: { [a]: { optedout: true } } } } });
    const optin = (headers: Record<string, string>) =>
      svc.app.inject({
        method: "POST",
        url: "/api/v1/optin/",
        headers,
        payload: { address_type: "msisdn", address: a, request_source: "t" },
      });
    expect((await optin(dave)).statusCode).toBe(201);
    expect((await optin(carol)).statusCode).toBe(201);
    await waitFor(() => at("/carol").length === 1, { what: "carol's delivery" });
    await new Promise((r) => setTimeout(r, 200));
    expect(at("/carol")).toHaveLength(1);
    expect(Object.keys(JSON.parse(at("/carol")[0]?.body ?? "{}")).sort()).toEqual([
      "identity",
      "identity_details",
      "optin_address",
      "optin_address_type",
    ]);
  });

  it("an admin creates a hook on a user's behalf (`owner`): it receives that user's optout.requested only", async ({
    svc,
    base,
    at,
  }) => {
    const hub = await userToken(svc, "hub-owner@example.org");
    const other = await userToken(svc, "other-owner@example.org");
    const users = await svc.db.$queryRawUnsafe<{ id: number; email: string }[]>(
      "SELECT id, email FROM tidings_api_user WHERE email IN ('hub-owner@example.org', 'other-owner@example.org')",
    );
    const hubId = users.find((u) => u.email === "hub-owner@example.org")?.id;
    const created = await svc.app.inject({
      method: "POST",
      url: "/api/v1/webhook/",
      headers: { ...adminAuth, "content-type": "application/json" },
      payload: `{"event": "optout.requested", "target": "${base}/hub-optout", "owner": ${hubId}}`,
    });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ event: "optout.requested", owner: hubId });
    const hook = created.json();
    // The user sees it as theirs; the list and get show the owner.
    expect((await svc.app.inject({ url: `/api/v1/webhook/${hook.id}/`, headers: hub })).json()).toMatchObject(
      {
        owner: hubId,
      },
    );
    const listed = (await svc.app.inject({ url: "/api/v1/webhook/", headers: hub })).json();
    expect(listed.results).toEqual([expect.objectContaining({ id: hook.id, owner: hubId })]);

    // The bytes a Seed hub's PushOptoutToIdentityStore POSTs, once by the other user, once by the hub.
    const optout = async (headers: Record<string, string>, address: string) => {
      const identity = await create(svc, { details: { addresses: { msisdn: { [address]: {} } } } });
      return svc.app.inject({
        method: "POST",
        url: "/api/v1/optout/",
        headers: { ...headers, "content-type": "application/json" },
        payload:
          `{"optout_type": "stop", "identity": "${identity.id}", "reason": "unknown", ` +
          `"address_type": "msisdn", "address": "${address}", "request_source": "sms_pmtct", ` +
          '"requestor_source_id": "1b2c3d4e"}',
      });
    };
    const theirs = msisdn(61);
    const ours = msisdn(62);
    expect((await optout(other, theirs)).statusCode).toBe(201);
    expect((await optout(hub, ours)).statusCode).toBe(201);
    await waitFor(() => at("/hub-optout").length === 1, { what: "the hub's optout.requested" });
    await new Promise((r) => setTimeout(r, 200));
    expect(at("/hub-optout")).toHaveLength(1);
    expect(JSON.parse(at("/hub-optout")[0]?.body ?? "{}")).toMatchObject({ optout_type: "stop" });
    expect(at("/hub-optout")[0]?.body).toContain(ours);
    expect(at("/hub-optout")[0]?.body).not.toContain(theirs);
  });

  it("refuses an owner that is not an API user, and a non-admin giving an owner", async ({ svc, base }) => {
    const before = await hookCount(svc);
    const unknown = await send(svc, "POST", "/api/v1/webhook/", {
      event: "optout.requested",
      target: `${base}/nobody`,
      owner: 999999,
    });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().error).toMatchObject({
      code: "IDENTITY_HOOK_UNKNOWN_OWNER",
      details: [{ field: "body.owner" }],
    });
    const user = await userToken(svc, "not-admin-owner@example.org");
    const self = await svc.db.$queryRawUnsafe<{ id: number }[]>(
      "SELECT id FROM tidings_api_user WHERE email = 'not-admin-owner@example.org'",
    );
    const refused = await svc.app.inject({
      method: "POST",
      url: "/api/v1/webhook/",
      headers: user,
      payload: { event: "optout.requested", target: `${base}/nobody`, owner: self[0]?.id },
    });
    expect(refused.statusCode).toBe(403);
    expect(await hookCount(svc)).toBe(before);
  });

  it("refuses to publish a hook event the catalog does not have, writing nothing", async ({ svc }) => {
    const deliveries = () => svc.db.hookDelivery.count();
    const before = await deliveries();
    await expect(publish(svc.db, { hook: "identity.exploded", data: {} } as never)).rejects.toThrow(
      InvalidPayloadError,
    );
    expect(await deliveries()).toBe(before);
  });
});

describe("failed deliveries", () => {
  it("lists the failures by hook, event and status, paginated, and redelivers one", async ({
    svc,
    at,
    failing,
  }) => {
    const { hook, failedUrl } = await failing("/redeliver-one", 2);
    const page = (await get(svc, `${failedUrl}&limit=1`)).json();
    expect(page).toMatchObject({ count: 2, previous: null, results: [{ status: "failed", attempts: 3 }] });
    expect(page.next).toContain("offset=1");
    expect(
      (await get(svc, `${failedUrl.replace("identity.deleted", "identity.created")}`)).json().count,
    ).toBe(0);
    const [failed] = page.results;
    const res = await send(svc, "POST", `/api/v1/webhook/deliveries/${failed.id}/redeliver/`);
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ id: failed.id, status: "pending", attempts: 0 });
    const delivered = await waitFor(
      async () =>
        (await get(svc, `/api/v1/webhook/deliveries/?hook=${hook.id}&status=delivered`)).json().results[0],
      { what: "redelivered" },
    );
    expect(delivered).toMatchObject({ id: failed.id, attempts: 1, last_status_code: 200 });
    const sent = at("/redeliver-one").filter((r) => r.headers["webhook-id"] === failed.id);
    expect(sent).toHaveLength(4);
    expect(new Set(sent.map((r) => r.body)).size).toBe(1);
    expect((await get(svc, failedUrl)).json().count).toBe(1);
    expect(
      (await send(svc, "POST", "/api/v1/webhook/deliveries/00000000-0000-4000-8000-000000000000/redeliver/"))
        .statusCode,
    ).toBe(404);
  });

  it("redelivers every failed delivery of a hook; admins only", async ({ svc, failing }) => {
    const { hook, failedUrl } = await failing("/redeliver-all", 2);
    const frank = await userToken(svc, "frank-hooks@example.org");
    const refused = await svc.app.inject({
      method: "POST",
      url: "/api/v1/webhook/deliveries/redeliver/",
      headers: frank,
      payload: { hook: hook.id },
    });
    expect(refused.statusCode).toBe(403);
    const res = await send(svc, "POST", "/api/v1/webhook/deliveries/redeliver/", { hook: hook.id });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ redelivered: 2 });
    await waitFor(
      async () =>
        (await get(svc, `/api/v1/webhook/deliveries/?hook=${hook.id}&status=delivered`)).json().count === 2,
      { what: "both redelivered" },
    );
    expect((await get(svc, failedUrl)).json().count).toBe(0);
  });
});
