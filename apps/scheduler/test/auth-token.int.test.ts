import { randomUUID } from "node:crypto";
import type { Api, Lookup } from "@tidings/service-kit";
import { UrlPolicy } from "@tidings/service-kit";
import { adminAuth, testLogger, userAuth, waitFor } from "@tidings/testing";
import { describe, expect } from "vitest";
import { deliver } from "../src/services/delivery.ts";
import { schedulerTest } from "./support.ts";

// Both names resolve to the test's receiver; the URL policy lets a non-admin token use either.
const lookup = ((_host: string, options: { all?: boolean }, cb: (...args: unknown[]) => void) =>
  options.all ? cb(null, [{ address: "127.0.0.1", family: 4 }]) : cb(null, "127.0.0.1", 4)) as Lookup;
const ALLOWED = "hub.example.org, elsewhere.example.net, 127.0.0.1";

const { it: schedulerIt, clock } = schedulerTest("2026-05-04T10:00:30.000Z", {
  lookup,
  env: { HTTP_RETRY_DELAYS_MS: "30,60,90,120", SCHEDULER_HTTP_ALLOWED_HOSTS: ALLOWED },
});
/** `user`: a non-admin token. */
const it = schedulerIt.extend<{ user: { authorization: string } }>({
  user: [async ({ svc }, use) => use(await userAuth(svc.app, "other-hub@example.org")), { scope: "file" }],
});

const call = (app: Api, headers: object, method: "POST" | "PATCH" | "PUT", url: string, payload?: object) =>
  app.inject({ method, url, headers: { ...headers }, ...(payload ? { payload } : {}) });
const port = (url: string) => new URL(url).port;

describe("a schedule's auth_token goes only to the origin it was given for", () => {
  it("a PATCH to another origin drops the token: the next fire POSTs without it", async ({
    svc,
    user,
    receiver,
  }) => {
    const hub = `http://hub.example.org:${port(receiver.url)}`;
    const created = await call(svc.app, adminAuth, "POST", "/api/v1/schedule/", {
      cron_definition: "0 0 1 1 *",
      endpoint: `${hub}/hub`,
      auth_token: "hub-secret-1",
    });
    expect(created.statusCode).toBe(201);
    const id = created.json().id;

    const moved = await call(svc.app, user, "PATCH", `/api/v1/schedule/${id}/`, {
      endpoint: `http://elsewhere.example.net:${port(receiver.url)}/steal`,
    });
    expect(moved.statusCode).toBe(200);
    expect(moved.json().has_auth_token).toBe(false);
    expect((await svc.db.schedule.findUniqueOrThrow({ where: { id } })).authToken).toBeNull();

    expect((await call(svc.app, user, "POST", `/api/v1/schedule/${id}/fire/`)).statusCode).toBe(202);
    const stolen = await waitFor(() => receiver.received.find((r) => r.path === "/steal"), {
      what: "the delivery to the new endpoint",
    });
    expect(stolen.headers.authorization).toBeUndefined();
    expect(JSON.stringify(receiver.received)).not.toContain("hub-secret-1");
  });

  it("keeps the token when the origin stays (another path) and takes one given with the new endpoint", async ({
    svc,
    user,
    receiver,
  }) => {
    const hub = `http://hub.example.org:${port(receiver.url)}`;
    const id = (
      await call(svc.app, adminAuth, "POST", "/api/v1/schedule/", {
        cron_definition: "0 0 1 1 *",
        endpoint: `${hub}/hub-a`,
        auth_token: "hub-secret-2",
      })
    ).json().id;
    // Same origin, another path, and an unrelated change: the token stays.
    const samePlace = await call(svc.app, user, "PATCH", `/api/v1/schedule/${id}/`, {
      endpoint: `${hub}/hub-b`,
      payload: { b: 1 },
    });
    expect(samePlace.json().has_auth_token).toBe(true);
    expect(
      (await call(svc.app, user, "PATCH", `/api/v1/schedule/${id}/`, { enabled: true })).json(),
    ).toMatchObject({
      has_auth_token: true,
    });
    await call(svc.app, user, "POST", `/api/v1/schedule/${id}/fire/`);
    const kept = await waitFor(() => receiver.received.find((r) => r.path === "/hub-b"), {
      what: "the delivery on the same origin",
    });
    expect(kept.headers.authorization).toBe("Token hub-secret-2");

    // Another origin with its own token (Seed's PUT changes a schedule as PATCH does).
    const elsewhere = await call(svc.app, adminAuth, "PUT", `/api/v1/schedule/${id}/`, {
      endpoint: `http://elsewhere.example.net:${port(receiver.url)}/new-home`,
      auth_token: "elsewhere-secret",
    });
    expect(elsewhere.json().has_auth_token).toBe(true);
    clock.now = new Date(clock.now.getTime() + 60_000); // a manual slot of its own
    await call(svc.app, adminAuth, "POST", `/api/v1/schedule/${id}/fire/`);
    const moved = await waitFor(() => receiver.received.find((r) => r.path === "/new-home"), {
      what: "the delivery to the new origin",
    });
    expect(moved.headers.authorization).toBe("Token elsewhere-secret");
  });

  it("a delivery fired for an old origin is POSTed without the token the new endpoint came with", async ({
    svc,
    receiver,
  }) => {
    const hub = `http://hub.example.org:${port(receiver.url)}`;
    const old = `http://elsewhere.example.net:${port(receiver.url)}/old-slot`;
    const id = (
      await call(svc.app, adminAuth, "POST", "/api/v1/schedule/", {
        cron_definition: "0 0 1 1 *",
        endpoint: `${hub}/hub`,
        auth_token: "hub-secret-3",
      })
    ).json().id;
    const slot = "2026-05-04T10:00:00.000Z";
    const run = await svc.db.scheduleRun.create({
      data: { id: randomUUID(), scheduleId: id, slot: new Date(slot), trigger: "manual", manual: true },
    });
    // A slot fired while the schedule pointed elsewhere, delivered (retried) after it moved back with its token.
    await deliver(
      svc.db,
      {
        schedule_id: id,
        run_id: run.id,
        slot,
        manual: true,
        endpoint: old,
        payload: {},
        timeout_seconds: 5,
      },
      { attempt: 1, log: testLogger() },
      { maxAttempts: 5, now: () => new Date(), guard: { policy: new UrlPolicy(ALLOWED), lookup } },
    );
    const late = receiver.received.find((r) => r.path === "/old-slot");
    expect(late).toBeDefined();
    expect(late?.headers.authorization).toBeUndefined();
  });
});
