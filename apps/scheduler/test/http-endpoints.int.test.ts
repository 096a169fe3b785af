import type { Api, Lookup } from "@tidings/service-kit";
import { adminAuth, userAuth, waitFor } from "@tidings/testing";
import { describe, expect } from "vitest";
import { schedulerTest } from "./support.ts";

// Name resolution the test controls, used by the save-time checks and by the connections alike.
const dns = new Map<string, string>();
const lookup = ((host: string, options: { all?: boolean }, cb: (...args: unknown[]) => void) => {
  const address = dns.get(host);
  if (!address) {
    cb(Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: "ENOTFOUND" }));
    return;
  }
  const family = address.includes(":") ? 6 : 4;
  options.all ? cb(null, [{ address, family }]) : cb(null, address, family);
}) as Lookup;

const { it: schedulerIt } = schedulerTest("2026-05-04T10:00:30.000Z", {
  lookup,
  env: {
    HTTP_RETRY_DELAYS_MS: "30,60,90,120",
    SCHEDULER_HTTP_ALLOWED_HOSTS: "public.example.org, internal.example.org, *.partner.example",
  },
});
/** `user`: a non-admin token. */
const it = schedulerIt.extend<{ user: { authorization: string } }>({
  user: [async ({ svc }, use) => use(await userAuth(svc.app, "hub@example.org")), { scope: "file" }],
});

const call = (app: Api, headers: object, method: "POST" | "PATCH", url: string, payload?: object) =>
  app.inject({ method, url, headers: { ...headers }, payload });
const create = (app: Api, headers: object, endpoint: string) =>
  call(app, headers, "POST", "/api/v1/schedule/", {
    cron_definition: "0 0 1 1 *",
    endpoint,
    payload: { a: 1 },
  });

describe("HTTP endpoints saved by a non-admin token", () => {
  it("refuses unlisted hosts and non-public addresses with 403, storing nothing; admins are not limited", async ({
    svc,
    user,
    receiver,
  }) => {
    dns.set("public.example.org", "93.184.216.34");
    dns.set("internal.example.org", "10.0.0.5");
    dns.set("api.partner.example", "93.184.216.35");
    const before = await svc.db.schedule.count();
    for (const [endpoint, reason] of [
      ["https://evil.example.com/x", "evil.example.com is not in the allow-list"],
      ["https://internal.example.org/x", "internal.example.org resolves to 10.0.0.5 is not a public address"],
      [`${receiver.url}/x`, "127.0.0.1 is not a public address"],
      ["http://0x7f.1/x", "127.0.0.1 is not a public address"],
      ["http://[::ffff:127.0.0.1]/x", "::ffff:7f00:1 is not a public address"],
      ["http://[::1]/x", "::1 is not a public address"],
      ["http://169.254.169.254/latest/meta-data/", "169.254.169.254 is not a public address"],
      ["http://100.64.0.1/x", "100.64.0.1 is not a public address"],
      ["http://[fd00::1]/x", "fd00::1 is not a public address"],
      ["https://nowhere.partner.example/x", "nowhere.partner.example does not resolve"],
    ]) {
      const res = await create(svc.app, user, endpoint as string);
      expect(res.statusCode, endpoint).toBe(403);
      expect(res.json()).toEqual({
        error: {
          code: "SCHEDULER_ENDPOINT_NOT_ALLOWED",
          message: expect.stringContaining(reason as string),
          details: [{ field: "body.endpoint", message: expect.stringContaining(reason as string) }],
          requestId: expect.any(String),
        },
      });
    }
    expect(await svc.db.schedule.count()).toBe(before);

    const ok = await create(svc.app, user, "https://api.partner.example/x");
    expect(ok.statusCode).toBe(201);
    const patched = await call(svc.app, user, "PATCH", `/api/v1/schedule/${ok.json().id}/`, {
      endpoint: "http://[::ffff:a9fe:a9fe]/",
    });
    expect(patched.statusCode).toBe(403);
    expect((await svc.db.schedule.findUniqueOrThrow({ where: { id: ok.json().id } })).endpoint).toBe(
      "https://api.partner.example/x",
    );
    expect((await create(svc.app, adminAuth, `${receiver.url}/admin`)).statusCode).toBe(201);
  });

  it("refuses at connect time a name that resolved public when saved and private when sent (DNS rebinding)", async ({
    svc,
    user,
    receiver,
  }) => {
    dns.set("public.example.org", "93.184.216.34");
    const endpoint = `http://public.example.org:${new URL(receiver.url).port}/rebound`;
    const users = await create(svc.app, user, endpoint);
    expect(users.statusCode).toBe(201);
    const admins = await create(
      svc.app,
      adminAuth,
      `http://public.example.org:${new URL(receiver.url).port}/admin-rebound`,
    );
    expect(admins.statusCode).toBe(201);

    dns.set("public.example.org", "127.0.0.1");
    for (const id of [users.json().id, admins.json().id]) {
      expect((await call(svc.app, user, "POST", `/api/v1/schedule/${id}/fire/`)).statusCode).toBe(202);
    }
    // The admin's schedule reaches the listener through the same name: the user's was refused, not lost.
    await waitFor(() => receiver.received.some((r) => r.path === "/admin-rebound"), {
      what: "the admin's delivery",
    });
    const failure = await waitFor(
      () => svc.db.scheduleFailure.findFirst({ where: { scheduleId: users.json().id } }),
      { what: "the refused delivery's failure record" },
    );
    expect(failure).toMatchObject({
      attempts: 1,
      reason:
        "endpoint not allowed: public.example.org resolves to 127.0.0.1 is not a public address and is not in the allow-list",
    });
    expect(receiver.received.map((r) => r.path)).not.toContain("/rebound");
  });

  it("keeps a non-admin's endpoint restricted through an admin's save that leaves the endpoint alone", async ({
    svc,
    user,
    receiver,
  }) => {
    dns.set("public.example.org", "93.184.216.34");
    const port = new URL(receiver.url).port;
    const created = await create(svc.app, user, `http://public.example.org:${port}/kept-restricted`);
    expect(created.statusCode).toBe(201);
    const id = created.json().id as string;
    const restricted = async () =>
      (await svc.db.schedule.findUniqueOrThrow({ where: { id } })).endpointRestricted;
    expect(await restricted()).toBe(true);
    for (const enabled of [false, true]) {
      const saved = await call(svc.app, adminAuth, "PATCH", `/api/v1/schedule/${id}/`, { enabled });
      expect(saved.statusCode, saved.body).toBe(200);
      expect(await restricted()).toBe(true);
    }
    // Sent through the guard still: the name now resolving to this machine is refused, not POSTed.
    dns.set("public.example.org", "127.0.0.1");
    expect((await call(svc.app, adminAuth, "POST", `/api/v1/schedule/${id}/fire/`)).statusCode).toBe(202);
    await waitFor(() => svc.db.scheduleFailure.findFirst({ where: { scheduleId: id } }), {
      what: "the refused delivery's failure record",
    });
    expect(receiver.received.map((r) => r.path)).not.toContain("/kept-restricted");

    // An admin who sets the endpoint answers for it: that lifts the restriction.
    const moved = await call(svc.app, adminAuth, "PATCH", `/api/v1/schedule/${id}/`, {
      endpoint: `${receiver.url}/admin-set`,
    });
    expect(moved.statusCode, moved.body).toBe(200);
    expect(await restricted()).toBe(false);
  });
});
