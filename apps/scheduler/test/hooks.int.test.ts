import { expectError, type HttpReceiver, waitFor } from "@tidings/testing";
import { Webhook } from "standardwebhooks";
import { describe, expect } from "vitest";
import { schedulerTest } from "./support.ts";

const { it, clock } = schedulerTest("2026-05-04T10:00:00.000Z", {
  env: { HOOK_AUTH_TOKEN: "hook-token-456", HOOK_POLL_INTERVAL_MS: "20" },
});
const at = (receiver: HttpReceiver, path: string) => receiver.received.filter((r) => r.path === path);

describe("REST hooks", () => {
  it("delivers schedule.added, signed, without the auth token", async ({ api, receiver }) => {
    const hook = (
      await api.call("POST", "/api/v1/webhook/", {
        event: "schedule.added",
        target: `${receiver.url}/added`,
      })
    ).json();
    expect(hook.secret).toEqual(expect.any(String));
    const created = (
      await api.call("POST", "/api/v1/schedule/", {
        cron_definition: "0 6 * * *",
        endpoint: "http://127.0.0.1:9/callback",
        auth_token: "s3cr3t-hub-t0k3n",
        payload: { p: 1 },
      })
    ).json();
    const request = await waitFor(() => at(receiver, "/added")[0], { what: "schedule.added hook delivery" });
    expect(JSON.parse(request.body)).toEqual({
      hook: { id: hook.id, event: "schedule.added", target: `${receiver.url}/added` },
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
        next_send_at: "2026-05-05T06:00:00.000000Z",
        // Seed's deprecated fields, in its hook data too.
        frequency: null,
        triggered: 0,
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

  it("delivers schedule.fired with the run of each fired slot; refuses events the scheduler does not offer", async ({
    api,
    receiver,
  }) => {
    await api.call("POST", "/api/v1/webhook/", {
      event: "schedule.fired",
      target: `${receiver.url}/fired`,
    });
    const created = (await api.call("POST", "/api/v1/schedule/", { cron_definition: "0 0 1 1 *" })).json();
    clock.now = new Date("2026-05-04T11:22:33.000Z");
    expect((await api.call("POST", `/api/v1/schedule/${created.id}/fire/`)).statusCode).toBe(202);
    const request = await waitFor(() => at(receiver, "/fired")[0], { what: "schedule.fired hook delivery" });
    const [run] = (await api.call("GET", `/api/v1/schedule/${created.id}/runs/`)).json().results;
    expect(JSON.parse(request.body).data).toEqual(run);
    expect(run).toMatchObject({ schedule: created.id, slot: "2026-05-04T11:22:33.000000Z", manual: true });

    const unknown = await api.call("POST", "/api/v1/webhook/", {
      event: "schedule.deliver",
      target: `${receiver.url}/x`,
    });
    expectError(unknown, 400, "SCHEDULER_HOOK_UNKNOWN_EVENT");
  });
});
