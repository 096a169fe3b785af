import {
  adminAuth,
  type Receiver,
  startReceiver,
  startTestService,
  type TestService,
  waitFor,
} from "@tidings/testing";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SchedulerConfig } from "../src/config.ts";
import type { Db } from "../src/db.ts";
import { schedulerService } from "../src/service.ts";

let now = new Date("2026-05-04T10:00:00.000Z");
const clock = () => now;

let svc: TestService<SchedulerConfig, Db>;
let receiver: Receiver;
let base: string;

beforeAll(async () => {
  receiver = await startReceiver();
  base = receiver.url;
  svc = await startTestService(schedulerService(clock), {
    worker: true,
    env: { TICK_INTERVAL_MS: "60000", HOOK_AUTH_TOKEN: "hook-token-456", HOOK_POLL_INTERVAL_MS: "20" },
  });
});
afterAll(async () => {
  await svc?.close();
  await receiver?.close();
});

const send = (method: "POST" | "GET", url: string, payload?: object) =>
  svc.app.inject({ method, url, headers: adminAuth, ...(payload ? { payload } : {}) });
const at = (path: string) => receiver.received.filter((r) => r.path === path);

describe("REST hooks", () => {
  it("delivers schedule.added, signed, without the auth token", async () => {
    const hook = (
      await send("POST", "/api/v1/webhook/", { event: "schedule.added", target: `${base}/added` })
    ).json();
    expect(hook.secret).toEqual(expect.any(String));
    const created = (
      await send("POST", "/api/v1/schedule/", {
        cron_definition: "0 6 * * *",
        endpoint: "http://127.0.0.1:9/callback",
        auth_token: "s3cr3t-hub-t0k3n",
        payload: { p: 1 },
      })
    ).json();
    const request = await waitFor(() => at("/added")[0], { what: "schedule.added hook delivery" });
    expect(JSON.parse(request.body)).toEqual({
      hook: { id: hook.id, event: "schedule.added", target: `${base}/added` },
      data: {
        id: created.id,
        cron_definition: "0 6 * * *",
        interval_definition: null,
        timezone: "UTC",
        catch_up: "latest",
        enabled: true,
        endpoint: "http://127.0.0.1:9/callback",
        message: null,
        payload: { p: 1 },
        source: null,
        next_send_at: "2026-05-05T06:00:00.000Z",
        created_at: created.created_at,
        updated_at: created.updated_at,
      },
    });
    expect(request.body).not.toContain("s3cr3t-hub-t0k3n");
    expect(request.headers.authorization).toBe("Token hook-token-456");
    expect(new Webhook(hook.secret).verify(request.body, request.headers as Record<string, string>)).toEqual(
      JSON.parse(request.body),
    );
    expect(request.headers["x-tidings-event"]).toBe("schedule.added");
  });

  it("delivers schedule.fired with the run of each fired slot; refuses events the scheduler does not offer", async () => {
    await send("POST", "/api/v1/webhook/", { event: "schedule.fired", target: `${base}/fired` });
    const created = (await send("POST", "/api/v1/schedule/", { cron_definition: "0 0 1 1 *" })).json();
    now = new Date("2026-05-04T11:22:33.000Z");
    expect((await send("POST", `/api/v1/schedule/${created.id}/fire/`)).statusCode).toBe(202);
    const request = await waitFor(() => at("/fired")[0], { what: "schedule.fired hook delivery" });
    const [run] = (await send("GET", `/api/v1/schedule/${created.id}/runs/`)).json().results;
    expect(JSON.parse(request.body).data).toEqual(run);
    expect(run).toMatchObject({ schedule: created.id, slot: "2026-05-04T11:22:33.000Z", manual: true });

    const unknown = await send("POST", "/api/v1/webhook/", {
      event: "schedule.deliver",
      target: `${base}/x`,
    });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().error.code).toBe("SCHEDULER_HOOK_UNKNOWN_EVENT");
  });
});
