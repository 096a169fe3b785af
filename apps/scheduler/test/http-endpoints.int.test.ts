import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Lookup } from "@tidings/service-kit";
import { adminAuth, startTestService, type TestService, userAuth, waitFor } from "@tidings/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SchedulerConfig } from "../src/config.ts";
import type { Db } from "../src/db.ts";
import { schedulerService } from "../src/service.ts";

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

const now = new Date("2026-05-04T10:00:30.000Z");
let svc: TestService<SchedulerConfig, Db>;
let server: Server;
let port: number;
const received: string[] = [];
let user: { authorization: string };

beforeAll(async () => {
  server = createServer((req, res) => {
    received.push(req.url ?? "");
    res.end("{}");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
  svc = await startTestService(
    schedulerService(() => now, { lookup }),
    {
      worker: true,
      env: {
        TICK_INTERVAL_MS: "60000",
        HTTP_RETRY_DELAYS_MS: "30,60,90,120",
        SCHEDULER_HTTP_ALLOWED_HOSTS: "public.example.org, internal.example.org, *.partner.example",
      },
    },
  );
  user = await userAuth(svc.app, "hub@example.org");
});
afterAll(async () => {
  await svc?.close();
  server?.close();
});

const call = (headers: object, method: "POST" | "PATCH", url: string, payload?: object) =>
  svc.app.inject({ method, url, headers: { ...headers }, payload });
const create = (headers: object, endpoint: string) =>
  call(headers, "POST", "/api/v1/schedule/", { cron_definition: "0 0 1 1 *", endpoint, payload: { a: 1 } });

describe("HTTP endpoints saved by a non-admin token", () => {
  it("refuses unlisted hosts and non-public addresses with 403, storing nothing; admins are not limited", async () => {
    dns.set("public.example.org", "93.184.216.34");
    dns.set("internal.example.org", "10.0.0.5");
    dns.set("api.partner.example", "93.184.216.35");
    const before = await svc.db.schedule.count();
    for (const [endpoint, reason] of [
      ["https://evil.example.com/x", "evil.example.com is not in the allow-list"],
      ["https://internal.example.org/x", "internal.example.org resolves to 10.0.0.5 is not a public address"],
      [`http://127.0.0.1:${port}/x`, "127.0.0.1 is not a public address"],
      ["http://0x7f.1/x", "127.0.0.1 is not a public address"],
      ["http://[::ffff:127.0.0.1]/x", "::ffff:7f00:1 is not a public address"],
      ["http://[::1]/x", "::1 is not a public address"],
      ["http://169.254.169.254/latest/meta-data/", "169.254.169.254 is not a public address"],
      ["http://100.64.0.1/x", "100.64.0.1 is not a public address"],
      ["http://[fd00::1]/x", "fd00::1 is not a public address"],
      ["https://nowhere.partner.example/x", "nowhere.partner.example does not resolve"],
    ]) {
      const res = await create(user, endpoint as string);
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

    const ok = await create(user, "https://api.partner.example/x");
    expect(ok.statusCode).toBe(201);
    const patched = await call(user, "PATCH", `/api/v1/schedule/${ok.json().id}/`, {
      endpoint: "http://[::ffff:a9fe:a9fe]/",
    });
    expect(patched.statusCode).toBe(403);
    expect((await svc.db.schedule.findUniqueOrThrow({ where: { id: ok.json().id } })).endpoint).toBe(
      "https://api.partner.example/x",
    );
    expect((await create(adminAuth, `http://127.0.0.1:${port}/admin`)).statusCode).toBe(201);
  });

  it("refuses at connect time a name that resolved public when saved and private when sent (DNS rebinding)", async () => {
    dns.set("public.example.org", "93.184.216.34");
    const endpoint = `http://public.example.org:${port}/rebound`;
    const users = await create(user, endpoint);
    expect(users.statusCode).toBe(201);
    const admins = await create(adminAuth, `http://public.example.org:${port}/admin-rebound`);
    expect(admins.statusCode).toBe(201);

    dns.set("public.example.org", "127.0.0.1");
    for (const id of [users.json().id, admins.json().id]) {
      expect((await call(user, "POST", `/api/v1/schedule/${id}/fire/`)).statusCode).toBe(202);
    }
    // The admin's schedule reaches the listener through the same name: the user's was refused, not lost.
    await waitFor(() => received.includes("/admin-rebound"), { what: "the admin's delivery" });
    const failure = await waitFor(
      () => svc.db.scheduleFailure.findFirst({ where: { scheduleId: users.json().id } }),
      { what: "the refused delivery's failure record" },
    );
    expect(failure).toMatchObject({
      attempts: 1,
      reason:
        "endpoint not allowed: public.example.org resolves to 127.0.0.1 is not a public address and is not in the allow-list",
    });
    expect(received).not.toContain("/rebound");
  });
});
