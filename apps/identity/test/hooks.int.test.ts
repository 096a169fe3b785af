import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { InvalidPayloadError } from "@tidings/contracts";
import { publish } from "@tidings/hooks";
import { adminAuth, startTestService, waitFor } from "@tidings/testing";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { identityService } from "../src/service.ts";
import { create, get, msisdn, type Svc, send } from "./helpers.ts";

let svc: Svc;
let server: Server;
let base: string;
const received: { path: string; headers: IncomingHttpHeaders; body: string; at: number }[] = [];
const failuresLeft = new Map<string, number>();

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => {
      body += chunk;
    });
    req.on("end", () => {
      const path = req.url ?? "/";
      received.push({ path, headers: req.headers, body, at: Date.now() });
      const left = failuresLeft.get(path) ?? 0;
      if (path.startsWith("/down") || left > 0) {
        failuresLeft.set(path, left - 1);
        res.writeHead(500).end("nope");
        return;
      }
      res.writeHead(200).end("ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  svc = await startTestService(identityService, {
    worker: true,
    env: {
      HOOK_AUTH_TOKEN: "hook-token-123",
      HOOK_MAX_ATTEMPTS: "3",
      HOOK_RETRY_BASE_MS: "100",
      HOOK_POLL_INTERVAL_MS: "20",
    },
  });
});
afterAll(async () => {
  await svc?.close();
  await new Promise((resolve) => server?.close(resolve));
});

const at = (path: string) => received.filter((r) => r.path === path);

/** What a receiver using the `standardwebhooks` package does with a delivery: the parsed body, or a throw. */
const verify = (secret: string, request: { headers: IncomingHttpHeaders; body: string }) =>
  new Webhook(secret).verify(request.body, request.headers as Record<string, string>);

async function userToken(email: string) {
  const res = await send(svc, "POST", "/api/v1/user/token/", { email });
  return { authorization: `Token ${res.json().token}` };
}

/** Hooks are created and changed by admins only: an API user marked `is_admin`. */
async function adminUserToken(email: string) {
  const headers = await userToken(email);
  await svc.db.$executeRawUnsafe("UPDATE tidings_api_user SET is_admin = true WHERE email = $1", email);
  return headers;
}

const hookCount = async () =>
  (await svc.db.$queryRawUnsafe<{ n: number }[]>("SELECT count(*)::int AS n FROM tidings_hook"))[0]?.n;

describe("/api/v1/webhook/ CRUD", () => {
  it("creates, lists, reads, updates and deletes hooks; refuses unknown events", async () => {
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
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().error.code).toBe("IDENTITY_HOOK_UNKNOWN_EVENT");
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
    expect(gone.statusCode).toBe(404);
    expect(gone.json().error.code).toBe("IDENTITY_HOOK_NOT_FOUND");
  });

  it("refuses to let a non-admin create or change a hook (SSRF), and stores nothing", async () => {
    const mallory = await userToken("mallory-hooks@example.org");
    const before = await hookCount();
    const created = await svc.app.inject({
      method: "POST",
      url: "/api/v1/webhook/",
      headers: mallory,
      payload: { event: "identity.created", target: "http://169.254.169.254/latest/meta-data/" },
    });
    expect(created.statusCode).toBe(403);
    expect(created.json().error.code).toBe("FORBIDDEN");
    expect(await hookCount()).toBe(before);

    const hook = (
      await send(svc, "POST", "/api/v1/webhook/", { event: "identity.created", target: `${base}/kept` })
    ).json();
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

  it("a user sees only their own hooks", async () => {
    const alice = await adminUserToken("alice-hooks@example.org");
    const bob = await userToken("bob-hooks@example.org");
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

describe("hook deliveries", () => {
  it("POSTs {hook, data} with the Token header, signed the Standard Webhooks way; a late replay is refused", async () => {
    const hook = (
      await send(svc, "POST", "/api/v1/webhook/", { event: "identity.created", target: `${base}/ok` })
    ).json();
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

  it("retries a failing target with backoff until it answers 2xx", async () => {
    failuresLeft.set("/flaky", 2);
    const hook = (
      await send(svc, "POST", "/api/v1/webhook/", { event: "identity.deleted", target: `${base}/flaky` })
    ).json();
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

  it("records a delivery as failed after the last attempt and lists it", async () => {
    const hook = (
      await send(svc, "POST", "/api/v1/webhook/", { event: "optout.requested", target: `${base}/down` })
    ).json();
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

  it("user-scoped events reach only the acting user's hooks", async () => {
    const carol = await adminUserToken("carol-hooks@example.org");
    const dave = await userToken("dave-hooks@example.org");
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

  it("an admin creates a hook on a user's behalf (`owner`): it receives that user's optout.requested only", async () => {
    const hub = await userToken("hub-owner@example.org");
    const other = await userToken("other-owner@example.org");
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

  it("refuses an owner that is not an API user, and a non-admin giving an owner", async () => {
    const before = await hookCount();
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
    const user = await userToken("not-admin-owner@example.org");
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
    expect(await hookCount()).toBe(before);
  });

  it("refuses to publish a hook event the catalog does not have, writing nothing", async () => {
    const deliveries = () => svc.db.hookDelivery.count();
    const before = await deliveries();
    await expect(publish(svc.db, { hook: "identity.exploded", data: {} } as never)).rejects.toThrow(
      InvalidPayloadError,
    );
    expect(await deliveries()).toBe(before);
  });
});

describe("secret rotation", () => {
  it("signs with the new and the old secret during the overlap, then with the new one only", async () => {
    const hook = (
      await send(svc, "POST", "/api/v1/webhook/", { event: "identity.deleted", target: `${base}/rotate` })
    ).json();
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

  it("is documented in the OpenAPI document, with the redelivery routes", async () => {
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

  it("is for admins only", async () => {
    const hook = (
      await send(svc, "POST", "/api/v1/webhook/", { event: "identity.deleted", target: `${base}/r2` })
    ).json();
    const erin = await userToken("erin-hooks@example.org");
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

describe("failed deliveries", () => {
  const failing = async (path: string, deletes: number) => {
    failuresLeft.set(path, 3 * deletes);
    const hook = (
      await send(svc, "POST", "/api/v1/webhook/", { event: "identity.deleted", target: `${base}${path}` })
    ).json();
    for (let i = 0; i < deletes; i++) {
      const identity = await create(svc, { details: { addresses: {} } });
      await send(svc, "DELETE", `/api/v1/identities/${identity.id}/`);
    }
    const failedUrl = `/api/v1/webhook/deliveries/?status=failed&hook=${hook.id}&event=identity.deleted`;
    await waitFor(async () => (await get(svc, failedUrl)).json().count === deletes, {
      what: "failed deliveries",
    });
    return { hook, failedUrl };
  };

  it("lists the failures by hook, event and status, paginated, and redelivers one", async () => {
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

  it("redelivers every failed delivery of a hook; admins only", async () => {
    const { hook, failedUrl } = await failing("/redeliver-all", 2);
    const frank = await userToken("frank-hooks@example.org");
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
